//! Helpers shared by the test modules.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

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
    anstream::adapter::strip_str(&ui::stage_trace(trace)).to_string()
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

/// The bound `run_bounded` gets when a test has no reason to pick another: far above what any
/// command here takes (milliseconds to a few seconds), low enough that a hang fails visibly.
pub const COMMAND_LIMIT: Duration = Duration::from_secs(60);

/// Runs `command` to the end like [`Command::output`] (stdin closed, stdout and stderr captured),
/// but waits at most `limit`: a command still running then is killed, and the test panics naming
/// the command, the limit and what it printed so far. A hang fails the test instead of stalling
/// the whole suite without a word.
pub fn run_bounded(command: &mut Command, limit: Duration) -> Output {
    let what = format!("{command:?}");
    let deadline = Instant::now() + limit;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    // Each pipe is read to its end on its own thread, so a child that fills one pipe while we
    // wait on the other cannot stall; the end of both pipes normally means the child has exited.
    let (tx, pipes) = mpsc::channel();
    drain(child.stdout.take().expect("piped stdout"), true, tx.clone());
    drain(child.stderr.take().expect("piped stderr"), false, tx);
    let (mut stdout, mut stderr) = (None, None);
    while stdout.is_none() || stderr.is_none() {
        match pipes.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok((true, bytes)) => stdout = Some(bytes),
            Ok((false, bytes)) => stderr = Some(bytes),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                // The pipes close with the child (unless a process it started holds them), so
                // what it printed is normally at hand; wait for it only briefly.
                let grace = Instant::now() + Duration::from_secs(2);
                while let Ok((is_stdout, bytes)) =
                    pipes.recv_timeout(grace.saturating_duration_since(Instant::now()))
                {
                    if is_stdout {
                        stdout = Some(bytes);
                    } else {
                        stderr = Some(bytes);
                    }
                }
                panic!(
                    "{what} did not finish within {limit:?}, so it was killed\n--- stdout\n{}\n--- stderr\n{}",
                    String::from_utf8_lossy(stdout.as_deref().unwrap_or_default()),
                    String::from_utf8_lossy(stderr.as_deref().unwrap_or_default()),
                );
            }
        }
    }
    let status = wait_bounded(
        &mut child,
        deadline.saturating_duration_since(Instant::now()),
        &what,
    );
    Output {
        status,
        stdout: stdout.unwrap_or_default(),
        stderr: stderr.unwrap_or_default(),
    }
}

/// Reads `pipe` to its end on a thread of its own, then sends the bytes, tagged `is_stdout`.
fn drain(mut pipe: impl Read + Send + 'static, is_stdout: bool, tx: mpsc::Sender<(bool, Vec<u8>)>) {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        let _ = tx.send((is_stdout, bytes));
    });
}

/// Waits at most `limit` for `child` to exit. A child still running then is killed, and the test
/// panics saying what it waited for (`what`).
///
/// This thread blocks in `wait`; a watchdog thread waits on a channel for at most `limit` and,
/// only if the child has not been reaped by then, kills it by its process id. No polling: the
/// exit or the deadline decides.
pub fn wait_bounded(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let pid = child.id().to_string();
    let (exited, watched) = mpsc::channel::<()>();
    let fired = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watchdog = {
        let fired = fired.clone();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = watched.recv_timeout(limit) {
                fired.store(true, std::sync::atomic::Ordering::SeqCst);
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
            }
        })
    };
    let status = child.wait();
    let _ = exited.send(());
    let _ = watchdog.join();
    if fired.load(std::sync::atomic::Ordering::SeqCst) {
        panic!("{what} did not exit within {limit:?}, so it was killed");
    }
    status.unwrap_or_else(|e| panic!("cannot wait for {what}: {e}"))
}

#[test]
fn run_bounded_returns_what_output_would() {
    let out = run_bounded(
        Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
        COMMAND_LIMIT,
    );
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(out.stdout, b"out\n");
    assert_eq!(out.stderr, b"err\n");
}

#[test]
#[should_panic(expected = "did not finish within 200ms, so it was killed")]
fn run_bounded_kills_a_command_that_hangs_and_names_it() {
    // `exec`: the shell becomes `sleep`, so killing the child kills the sleep, pipes and all.
    run_bounded(
        Command::new("sh").args(["-c", "echo started; exec sleep 30"]),
        Duration::from_millis(200),
    );
}

#[test]
fn wait_bounded_kills_a_child_that_outlives_its_limit() {
    let mut child = Command::new("sh")
        .args(["-c", "exec tail -f /dev/null"])
        .spawn()
        .expect("sh runs");
    let started = Instant::now();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_bounded(&mut child, Duration::from_millis(200), "a child that never exits")
    }));
    let message = outcome.expect_err("the limit must fire");
    let message = message.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("did not exit within 200ms"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        child.try_wait().expect("try_wait").is_some(),
        "the child was killed and reaped"
    );
    let status = wait_bounded(
        Command::new("sh")
            .args(["-c", "exit 4"])
            .spawn()
            .as_mut()
            .expect("sh runs"),
        COMMAND_LIMIT,
        "sh",
    );
    assert_eq!(status.code(), Some(4));
}

/// Runs one of the browser tests in `tests/browser` (`node --test FILE` with headless Chromium,
/// against this build of the tutor), bounded by `limit`, and requires that it ran tests and all
/// of them passed. Needs what `bash scripts/test.sh` installs; without it, fails and says so.
pub fn run_browser_test(file: &str, limit: std::time::Duration) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "tests/browser/node_modules is missing: run `bash scripts/test.sh` (or `npm ci` in tests/browser)"
    );
    let out = run_bounded(
        std::process::Command::new("node")
            .args(["--test", "--test-reporter=tap", file])
            .current_dir(&dir)
            .env("REALTIME_TUTOR_BIN", env!("CARGO_BIN_EXE_realtime-tutor")),
        limit,
    );
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "node --test {file} failed:\n{report}");
    assert!(
        report.contains("# fail 0") && !report.contains("# pass 0"),
        "{report}"
    );
}
