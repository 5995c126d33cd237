//! `check 7` against two Node servers joined by Redis ends each step on fences, not on clocks
//! (`runner/relay.rs`), and still names a wrong delivery that comes late.

use std::time::{Duration, Instant};

use realtime_tutor::parts::redis_server::RedisServer;

use crate::common::{COMMAND_LIMIT, run_bounded, runtime};
use crate::scaling::{node_pair, tutor};

/// `check 7` ends each step on fences that travel the way the step's broadcast did, through
/// Redis (`runner/relay.rs`), instead of a fixed window after every step: nine windows of
/// 150 ms made a passing check take about 1.4 s; with fences it takes a few tens of
/// milliseconds, so a bound of 1 s holds on a busy machine and fails with the windows. And a
/// wrong server that sends through the adapter late, as a handler that awaits first would, is
/// still caught: its expected deliveries come after the fence, so the step falls back to the
/// bounded wait and the window, in which the wrong one arrives too.
#[test]
fn check_7_ends_its_steps_on_fences_and_still_catches_a_late_wrong_delivery() {
    let rt = runtime();
    let redis = rt.block_on(RedisServer::start()).expect("a Redis");
    let socket = redis.socket_path().to_str().unwrap().to_owned();
    let (a, b) = node_pair(&socket, "7.2");
    let started = Instant::now();
    let out = run_bounded(
        &mut tutor(&["check", "7", "--url", &a.url, "--url", &b.url]),
        COMMAND_LIMIT,
    );
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        took < Duration::from_secs(1),
        "a passing check 7 took {took:?}: a step waited on a clock, not on a fence"
    );

    // io.emit where io.local.emit belongs, sent 40 ms after the message came. Its own Redis:
    // two pairs on one would hear each other's broadcasts.
    let late_redis = rt.block_on(RedisServer::start()).expect("a second Redis");
    let late_socket = late_redis.socket_path().to_str().unwrap().to_owned();
    let (a, b) = node_pair(&late_socket, "7.2-late-io-emit");
    let out = run_bounded(
        &mut tutor(&["check", "7", "--url", &a.url, "--url", &b.url, "--format", "json"]),
        COMMAND_LIMIT,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let verdict: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("a JSON verdict");
    let findings = verdict["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{verdict}");
    assert_eq!(findings[0]["step"], 6, "{verdict}");
    let message = findings[0]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("bob and dave received"), "{verdict}");
    assert!(
        findings[0]["why"]
            .as_str()
            .is_some_and(|why| why.contains("io.local.emit keeps it on server A")),
        "{verdict}"
    );
}
