//! `check 8` (namespaces and middleware) against servers nobody on this project wrote in Rust:
//! Node's socket.io 4.8.4 (`tests/node/lesson8.js`, the lesson's stage 3 and the mistakes a
//! learner makes in it) and python-socketio (`tests/python/lesson8.py`), over each transport.
//!
//! The right servers must pass, with a summary that says what the middleware refused and let in
//! and where each emit went. Each wrong one must fail with its mistake named in the learner's
//! terms: `io.emit` where `io.of('/admin').emit` was asked, a middleware that never calls
//! `next()` (within a bound), no `/admin` namespace ("Invalid namespace"), a middleware that
//! refuses everyone, and one that is missing (everyone gets in).

use std::path::PathBuf;
use std::process::Command;

use crate::check::{BAD_TARGET_BOUND, check};
use crate::common::process::Server;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Lesson 8's stage 3 in Node, or one of its wrong variants, killed when dropped.
fn node(wrong: Option<&str>) -> Server {
    let dir = root().join("tests/node");
    let install = "the Node fixture needs `npm ci` in tests/node (scripts/test.sh does it)";
    assert!(dir.join("node_modules/socket.io").is_dir(), "{install}");
    let mut command = Command::new("node");
    command.args(["lesson8.js", "--stage", "3"]).current_dir(&dir);
    if let Some(wrong) = wrong {
        command.args(["--wrong", wrong]);
    }
    Server::start(&mut command, install)
}

/// Lesson 8's stage 3 in python-socketio, or its one wrong variant, killed when dropped.
fn python(wrong: Option<&str>) -> Server {
    let dir = root().join("tests/python");
    let python = dir.join(".venv/bin/python");
    let install = "python-socketio needs `python3 -m venv tests/python/.venv && \
                   tests/python/.venv/bin/pip install -r tests/python/requirements.txt` \
                   (scripts/test.sh does it)";
    assert!(python.is_file(), "{install}");
    let mut command = Command::new(&python);
    command.args(["lesson8.py", "0"]).args(wrong).current_dir(&dir);
    Server::start(&mut command, install)
}

/// The transport settings a learner's page may use: io()'s default, and each one alone.
const TRANSPORTS: [&[&str]; 3] = [&[], &["--transports", "websocket"], &["--transports", "polling"]];

#[test]
fn check_8_passes_the_right_node_and_python_servers_over_each_transport() {
    for (what, server) in [("node", node(None)), ("python-socketio", python(None))] {
        for transports in TRANSPORTS {
            let mut args = vec!["8", "--url", &server.url];
            args.extend_from_slice(transports);
            let out = check(&args);
            out.assert_passes();
            let verdict = crate::common::unwrapped(out.stdout.rsplit("\n\n").next().unwrap_or_default());
            for said in [
                "does what lesson 8 teaches",
                "the /admin middleware refused mallory with no auth ('not authorized') and let alice in \
                 with auth {\"token\":\"letmein\"}",
                "socket.emit('welcome', 'admin') reached alice on /admin",
                "io.of('/admin').emit('announcement', msg) reached alice on /admin, not bob, who has no \
                 socket there",
            ] {
                assert!(
                    verdict.contains(said),
                    "{what} {transports:?}: {said:?} in\n{out}"
                );
            }
            // The middleware's data is shown in the trace: both servers send it.
            assert!(
                out.stdout.contains(r#"with data {"hint":"send auth.token"}"#),
                "{what}: {out}"
            );
        }
    }
}

#[test]
fn check_8_names_each_mistake_of_a_wrong_node_server() {
    let cases: [(&str, &[&str]); 5] = [
        (
            "io-emit",
            &[
                "FAIL  your server sends 'announcement' to the sockets of /, which is what io.emit does; \
                 lesson 8 asks for io.of('/admin').emit('announcement', msg), which reaches the sockets \
                 of /admin only",
                "step 5 (bob emits 'announce'): alice and bob received the 'announcement' \"deploy at \
                 five\" bob sent on /, not on /admin; the lesson's server sends it on /admin, to alice",
                "that is what io.emit does (io is the main namespace, /)",
            ],
        ),
        (
            "no-next",
            &[
                "FAIL  your /admin middleware never answered mallory's CONNECT: does it call next()?",
                "step 1 (mallory connects to /admin): mallory's CONNECT to /admin with no auth got no \
                 answer within 2 s, neither the socket nor a connect_error",
            ],
        ),
        (
            "no-admin",
            &[
                "FAIL  your server has no /admin namespace: it refused each CONNECT to /admin with \
                 'Invalid namespace'",
                "step 3 (alice connects to /admin with auth {\"token\":\"letmein\"}): alice's CONNECT \
                 to /admin was refused with 'Invalid namespace'",
                "the lesson's server creates /admin with io.of('/admin'), a middleware and a \
                 connection handler",
            ],
        ),
        (
            "refuse-all",
            &[
                "FAIL  your /admin middleware refused alice, who connected with auth \
                 {\"token\":\"letmein\"} ('not authorized')",
                "step 3 (alice connects to /admin with auth {\"token\":\"letmein\"}): alice sent auth \
                 {\"token\":\"letmein\"} and was refused on /admin with connect_error 'not authorized'",
                "does your middleware call next() when the auth is right",
            ],
        ),
        (
            "no-guard",
            &[
                "FAIL  your /admin middleware let mallory in with no auth; lesson 8's refuses that \
                 CONNECT with connect_error 'not authorized'",
                "step 1 (mallory connects to /admin): mallory connected to /admin with no auth",
                "mallory has a socket on /admin only because the /admin middleware let them in, in \
                 step 1",
            ],
        ),
    ];
    for (wrong, needles) in cases {
        let server = node(Some(wrong));
        let out = check(&["8", "--url", &server.url]);
        out.assert_fails(needles);
        // A Socket.IO server is there in every case: never called anything else.
        assert!(!out.stdout.contains("not a Socket.IO server"), "{wrong}: {out}");
        assert!(
            !out.stdout.contains("never answered (timed out"),
            "{wrong}: {out}"
        );
        // The middleware that never answers is waited for within the connect bound, no longer.
        assert!(out.took < BAD_TARGET_BOUND, "{wrong}: {out}");
    }
}

/// python-socketio words a namespace it does not have differently from Node ("Unable to
/// connect"): the missing namespace is named all the same.
#[test]
fn check_8_names_the_namespace_a_python_socketio_server_lacks() {
    let server = python(Some("no-admin"));
    let out = check(&["8", "--url", &server.url]);
    out.assert_fails(&[
        "FAIL  your server has no /admin namespace: it refused each CONNECT to /admin with \
         'Unable to connect'",
        // The scenario stops where alice, whom the lesson lets in, is refused.
        "step 3 (alice connects to /admin with auth {\"token\":\"letmein\"}): alice's CONNECT \
         to /admin was refused with 'Unable to connect'",
    ]);
}

/// The verdict as JSON names the same mistake, with its step.
#[test]
fn check_8_json_names_the_middleware_that_never_answers() {
    let server = node(Some("no-next"));
    let out = check(&["8", "--url", &server.url, "--format", "json"]);
    assert_eq!(out.code, Some(1), "{out}");
    let verdict: serde_json::Value = serde_json::from_str(out.stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {out}"));
    let text = verdict.to_string();
    assert!(
        text.contains("your /admin middleware never answered mallory's CONNECT"),
        "{text}"
    );
    assert!(text.contains("mallory connects to /admin"), "{text}");
}
