//! `check 1..3` against Socket.IO servers in real-world configurations nobody on this project
//! wrote: Node's socket.io 4.8.4 with one legal option or feature each (`tests/node/configs.js`),
//! and python-socketio (`tests/python/server.py`), which greets before its CONNECT reply. Each
//! must get the right verdict and, where it fails, the right named cause; a valid server is never
//! called "not a Socket.IO server".

use std::time::Duration;

use crate::check::check;
use crate::common::process::Server;
use crate::common::unwrapped;
use crate::transports::{node_peer, python_peer};

/// Against a server that passes, every step of `check 3` ends at its round-trip fences: seven
/// steps at the old quiet window of 150 ms each would take over a second.
const FAST_PASS: Duration = Duration::from_millis(800);

fn passes(peer: &Server, what: &str) {
    for lesson in ["1", "2", "3"] {
        let out = check(&[lesson, "--url", &peer.url]);
        out.assert_passes();
        assert!(
            out.stdout.contains(&format!("does what lesson {lesson} teaches")),
            "{what}, check {lesson}: {out}"
        );
        assert!(!out.stdout.contains("not a Socket.IO server"), "{what}: {out}");
    }
}

#[test]
fn check_passes_node_with_recovery_binary_or_the_defaults() {
    for config in ["default", "recovery", "binary"] {
        let node = node_peer(config);
        passes(&node, config);
    }
}

#[test]
fn check_passes_a_polling_only_server_as_io_reaches_it() {
    let node = node_peer("polling");
    passes(&node, "polling only");
    let out = check(&["1", "--url", &node.url]);
    assert!(
        out.stdout
            .contains("a default io() client connected at /socket.io/ (long-polling)")
            && out.stdout.contains("your server allows only long-polling"),
        "{out}"
    );
    assert!(
        !out.stdout.contains("app.listen"),
        "never the app.listen mistake: {out}"
    );
}

#[test]
fn check_calls_a_websocket_only_server_what_it_is_and_checks_it_as_websocket() {
    let node = node_peer("websocket");
    for lesson in ["1", "2", "3"] {
        let out = check(&[lesson, "--url", &node.url]);
        out.assert_fails(&[
            "this is a Socket.IO server that accepts only WebSocket",
            "run the check again with --transports websocket",
            "got an Engine.IO OPEN packet over the WebSocket: Socket.IO answers here",
        ]);
        assert!(!out.stdout.contains("allows only long-polling"), "{out}");
        assert!(!out.stdout.contains("not a Socket.IO server"), "{out}");
    }
    for lesson in ["2", "3"] {
        let out = check(&[lesson, "--url", &node.url, "--transports", "websocket"]);
        out.assert_passes();
    }
}

#[test]
fn check_names_the_middleware_that_refuses_and_still_calls_it_socket_io() {
    let node = node_peer("cors");
    for lesson in ["1", "2", "3"] {
        let out = check(&[lesson, "--url", &node.url]);
        out.assert_fails(&[
            "the server refused the Socket.IO connection to the default namespace: not authorized",
            "Does a middleware (io.use) reject it?",
        ]);
        assert!(!out.stdout.contains("not a Socket.IO server"), "{out}");
    }
}

#[test]
fn check_finds_socket_io_on_the_other_port_the_page_names() {
    let node = node_peer("other-port");
    for lesson in ["1", "2", "3"] {
        let out = check(&[lesson, "--url", &node.url]);
        out.assert_fails(&[
            "serves the page, but not Socket.IO",
            "listens on another port, 127.0.0.1:",
            "what the tutor found:",
            "the page points to Socket.IO at http://127.0.0.1:",
            "the long-polling handshake GET /socket.io/?EIO=4&transport=polling (how io() starts) got HTTP 404",
            "a Socket.IO client connected at http://127.0.0.1:",
        ]);
        assert!(!out.stdout.contains("app.listen"), "{out}");
    }
    let out = check(&["3", "--url", &node.url, "--format", "json"]);
    let verdict: serde_json::Value =
        serde_json::from_str(out.stdout.lines().last().unwrap_or_default()).expect("a JSON verdict");
    assert_eq!(verdict["found"].as_array().map(Vec::len), Some(4), "{verdict}");
}

#[test]
fn check_passes_python_socketio_which_greets_before_its_connect_reply() {
    let python = python_peer();
    passes(&python, "python-socketio");
    // The greeting before the CONNECT reply is shown, and not judged.
    let out = check(&["3", "--url", &python.url]);
    assert!(
        out.stdout.contains("(not judged by this lesson: 'welcome'"),
        "{out}"
    );
}

#[test]
fn a_passing_check_ends_its_steps_at_fences_not_windows() {
    let node = node_peer("default");
    let out = check(&["3", "--url", &node.url]);
    out.assert_passes();
    assert!(out.took < FAST_PASS, "{out}");
    let out = check(&["3", "--url", &node.url, "--wire"]);
    assert!(
        // The label follows its frame, on the next line when both do not fit 80 columns.
        unwrapped(&out.stdout).contains("40/tutor-fence-1, (tutor plumbing")
            && out
                .stdout
                .contains(r#"44/tutor-fence-1,{"message":"Invalid namespace"}"#),
        "the fences are on the wire, labelled: {out}"
    );
}
