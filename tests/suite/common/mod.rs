//! Helpers shared by the test modules.

pub mod compare;
pub mod measured;
pub mod process;
pub mod raw_peer;

pub use process::{COMMAND_LIMIT, run_bounded, wait_bounded};

use std::sync::OnceLock;

use realtime_tutor::lesson::{self, Lesson};
use realtime_tutor::runner::{self, RunOptions, Target};
use realtime_tutor::trace::{StageTrace, json};
use realtime_tutor::ui;

/// The embedded lessons, loaded once.
pub fn lessons() -> &'static [Lesson] {
    static LESSONS: OnceLock<Vec<Lesson>> = OnceLock::new();
    LESSONS.get_or_init(|| lesson::all().expect("the embedded lessons load"))
}

/// A runtime for tests that drive the runner directly.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Plays every stage of every lesson against its own server.
pub async fn run_all() -> Vec<StageTrace> {
    let mut traces = Vec::new();
    for lesson in lessons() {
        for stage in &lesson.stages {
            let trace = runner::run_stage(lesson, stage, &Target::Local, &RunOptions::default())
                .await
                .unwrap_or_else(|e| panic!("lesson {} stage {}: {e}", lesson.number, stage.number));
            traces.push(trace);
        }
    }
    traces
}

/// The text trace of a stage without colours, exactly as `--color never` prints it.
pub fn plain_trace(trace: &StageTrace) -> String {
    anstream::adapter::strip_str(&ui::stage_trace_at(trace, ui::PIPED_WIDTH)).to_string()
}

/// Text read as one line: every line break, with the indentation around it, becomes one
/// space. The tutor wraps long sentences to fit 80 columns, so a test that looks for a sentence
/// in its output reads the output this way.
pub fn unwrapped(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A trace with its measured figures (lesson 10's times, rates and memory) set to zero, and
/// everything counted left as it was: what must come out the same on every run.
pub fn without_timings(trace: &StageTrace) -> StageTrace {
    use realtime_tutor::trace::measure::{Measurement, Memory, Timing};
    let zero = Timing { micros: 0 };
    let mut trace = trace.clone();
    match &mut trace.measure {
        Some(Measurement::Fanout { rows }) => {
            for row in rows {
                row.last_delivery = zero;
                row.per_second = 0;
                row.memory = Memory {
                    bytes_per_connection: None,
                };
            }
        }
        Some(Measurement::EncodeOnce { rows }) => {
            for row in rows {
                row.last_delivery = zero;
            }
        }
        Some(Measurement::Volatile(_)) | None => {}
    }
    trace
}

/// The JSON Lines of some traces.
pub fn json_lines(traces: &[&StageTrace]) -> String {
    traces
        .iter()
        .flat_map(|t| t.steps.iter())
        .map(|s| json::step_line(s) + "\n")
        .collect()
}

/// insta settings: snapshots in the top-level `snapshots/` folder, plain names, short headers.
pub fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

/// How long [`connect_when_ready`] waits for the `ready` event.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Connects to a test server whose connection handler emits `ready` as its last act, and waits
/// (bounded) for that event. socketioxide answers CONNECT before its connection handler has
/// registered `socket.on(…)` (the connect race: see "How the tutor knows what the server did"
/// in src/server/mod.rs), so a client that emitted at once could be ignored.
pub async fn connect_when_ready(
    base: &str,
    options: &realtime_tutor::client::ConnectOptions,
) -> realtime_tutor::client::SimClient {
    use realtime_tutor::client::{Incoming, SimClient};
    let mut client = SimClient::connect(base, options)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {base}: {e}"));
    match client.next(READY_WITHIN).await {
        Some(Incoming::Event { name, .. }) if name == "ready" => client,
        other => panic!("expected the ready event within {READY_WITHIN:?}, got {other:?}"),
    }
}

/// Runs browser tests in `tests/browser` (`node --test FILES…` with headless Chromium, against
/// this build of the tutor; no files: every `*.test.mjs`), bounded by `limit`, and requires that
/// tests ran and all of them passed. Needs what `bash scripts/test.sh` installs (node, chromium,
/// `npm ci`); without it, fails and says what is missing, rather than skipping.
pub fn run_browser_test(files: &[&str], limit: std::time::Duration) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let node = process::try_run_bounded(std::process::Command::new("node").arg("--version"), COMMAND_LIMIT);
    assert!(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "node is not installed: run `bash scripts/test.sh`, which installs it ({node:?})"
    );
    assert!(
        dir.join("node_modules/playwright-core").is_dir()
            && dir.join("node_modules/socket.io-client").is_dir(),
        "tests/browser/node_modules is missing: run `bash scripts/test.sh` (or `npm ci` in tests/browser)"
    );
    let out = run_bounded(
        std::process::Command::new("node")
            .args(["--test", "--test-reporter=tap"])
            .args(files)
            .current_dir(&dir)
            .env("REALTIME_TUTOR_BIN", env!("CARGO_BIN_EXE_realtime-tutor")),
        limit,
    );
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "node --test {files:?} failed:\n{report}");
    assert!(report.contains("# fail 0"), "{report}");
    assert!(!report.contains("# pass 0"), "no test ran:\n{report}");
}
