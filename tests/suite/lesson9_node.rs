//! Lesson 9 against the real thing: for each failure, what socket.io-client 4.8.4 (2.5.0 for
//! the Engine.IO 3 stage) reports against socket.io 4.8.4 configured the same way, read from
//! `tests/node/lesson9-client.js`, is what the tutor's trace says its simulated page was told.
//!
//! Stage 1 (CORS) needs a browser to apply the rule, and is checked in headless Chromium
//! (`tests/browser/lesson9.test.mjs`).

use std::process::Command;

use serde_json::Value;

use realtime_tutor::lesson::StepKind;
use realtime_tutor::runner::{self, RunOptions, Target};

use crate::common::{lessons, run_bounded, runtime};

/// Runs the Node fixture for one configuration and returns its JSON.
fn node(stage: u32, fixed: bool, transport: Option<&str>) -> Value {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    assert!(
        dir.join("lesson9-client.js").is_file() && dir.join("node_modules/socket.io-client").is_dir(),
        "tests/node/lesson9-client.js and its node_modules are needed: run `bash scripts/test.sh`"
    );
    let mut command = Command::new("node");
    command
        .arg("lesson9-client.js")
        .args(["--stage", &stage.to_string()]);
    if fixed {
        command.arg("--fixed");
    }
    if let Some(transport) = transport {
        command.args(["--transport", transport]);
    }
    let out = run_bounded(command.current_dir(&dir), std::time::Duration::from_secs(30));
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("stage {stage}: {e}: {text}"))
}

/// What the Node client reported, in the words of the tutor's trace (the `expect` vocabulary
/// of `lesson.toml`).
fn in_trace_words(stage: u32, json: &Value) -> String {
    let client = &json["client"];
    let events = client["events"].as_array().cloned().unwrap_or_default();
    let event = |name: &str| events.iter().find(|e| e["event"] == name).cloned();
    match stage {
        4 => format!(
            "connect (transport: {})",
            client["final_transport"].as_str().unwrap_or("?")
        ),
        7 => {
            let answered = client["answered"].as_array().cloned().unwrap_or_default();
            match answered.iter().any(|a| a == "hello") {
                true => "'chat message' \"hello\" → echoed".to_owned(),
                false => "'chat message' \"hello\" → no echo".to_owned(),
            }
        }
        8 => {
            let runs = client["handler_runs"]["after"].as_u64().unwrap_or(0);
            let times = if runs == 1 {
                "1 time".to_owned()
            } else {
                format!("{runs} times")
            };
            format!("'chat message' \"hi\" → echoed, one packet; the page's listener ran {times}")
        }
        _ => match (event("connect_error"), event("disconnect")) {
            (Some(e), _) => format!(
                "connect_error: {} (description: {})",
                e["message"].as_str().unwrap_or("?"),
                e["description"]
            ),
            (None, Some(d)) => format!("disconnect: {}", d["reason"].as_str().unwrap_or("?")),
            (None, None) => "connect".to_owned(),
        },
    }
}

/// Each failure and its fix, with the transport the Node client was given, against the step
/// of the lesson that plays it (its client's name).
const CASES: &[(u32, bool, Option<&str>, &str)] = &[
    (2, false, None, "alice"),
    (2, true, None, "bob"),
    (3, false, None, "alice"),
    (4, false, None, "alice"),
    (4, true, None, "bob"),
    (5, false, None, "alice"),
    (5, false, Some("polling"), "bob"),
    (6, false, None, "alice"),
    (6, false, Some("polling"), "bob"),
    (7, false, None, "alice"),
    (7, true, None, "bob"),
    (8, false, None, "alice"),
    (8, true, None, "bob"),
];

#[test]
fn each_failure_reports_what_socket_io_client_reports_against_node() {
    let lesson = lessons()
        .iter()
        .find(|l| l.slug == "connect-failures")
        .expect("lesson 9");
    let traces = runtime().block_on(async {
        let mut traces = Vec::new();
        for stage in &lesson.stages {
            let trace = runner::run_stage(lesson, stage, &Target::Local, &RunOptions::default())
                .await
                .unwrap_or_else(|e| panic!("9.{}: {e}", stage.number));
            traces.push(trace);
        }
        traces
    });
    for (stage, fixed, transport, client) in CASES {
        let node_says = in_trace_words(*stage, &node(*stage, *fixed, *transport));
        let stage_data = &lesson.stages[*stage as usize - 1];
        let (index, attempt) = stage_data
            .steps
            .iter()
            .enumerate()
            .find_map(|(i, s)| match &s.kind {
                StepKind::Attempt(a) if a.client == *client => Some((i, a)),
                _ => None,
            })
            .unwrap_or_else(|| panic!("9.{stage} has no step for {client}"));
        let record = &traces[*stage as usize - 1].steps[index];
        let observed = &record.probe.as_ref().expect("a probe record").observed;
        let node = realtime_tutor::lesson::Attempt {
            expect: node_says.clone(),
            ..(**attempt).clone()
        };
        assert!(
            node.reported(observed),
            "9.{stage} {client} (fixed: {fixed}, transport: {transport:?}): Node's client says \
             {node_says:?}, the tutor's trace {observed:?}"
        );
    }
}

/// `check 9` passes against Node's stage 5 server with the fix (`maxHttpBufferSize: 1e5` and
/// an echo), and fails against the one without it (1e3), naming the message that closed the
/// connection.
#[test]
fn check_9_passes_against_node_with_the_fix_and_names_the_failure_without_it() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    let install = "tests/node/lesson9.js and its node_modules are needed: run `bash scripts/test.sh`";
    let server = |fixed: bool| {
        let mut command = Command::new("node");
        command.arg("lesson9.js").args(["--stage", "5"]).current_dir(&dir);
        if fixed {
            command.arg("--fixed");
        }
        crate::common::process::Server::start(&mut command, install)
    };
    let fixed = server(true);
    crate::check::check(&["9", "--url", &fixed.url]).assert_passes();
    let unfixed = server(false);
    crate::check::check(&["9", "--url", &unfixed.url]).assert_fails(&[
        "disconnect: transport close",
        "where the lesson's server gets the echo came back",
    ]);
}
