//! The simulated client against Socket.IO servers nobody on this project wrote: Node's socket.io
//! 4.8.4 in real-world configurations (`tests/node/configs.js`) and python-socketio
//! (`tests/python/server.py`), each over the three `transports` settings of socket.io-client.
//! A conforming server must never be judged wrong by the client.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use realtime_tutor::client::{ConnectError, ConnectOptions, Incoming, SimClient, Transport};
use serde_json::{Value, json};

use crate::common::process::Server;
use crate::common::runtime;

const WAIT: Duration = Duration::from_secs(5);

const SETTINGS: [&[Transport]; 3] = [
    &[Transport::Polling, Transport::WebSocket],
    &[Transport::WebSocket],
    &[Transport::Polling],
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Node's socket.io in one of the configurations of `tests/node/configs.js`, killed when dropped
/// (also when a test panics).
pub(crate) fn node_peer(config: &str) -> Server {
    let dir = root().join("tests/node");
    let install = "the Node fixture needs `npm ci` in tests/node (scripts/test.sh does it)";
    assert!(dir.join("node_modules/socket.io").is_dir(), "{install}");
    Server::start(
        Command::new("node")
            .args(["configs.js", config, "0"])
            .current_dir(&dir),
        install,
    )
}

/// python-socketio's server (`tests/python/server.py`), killed when dropped.
pub(crate) fn python_peer() -> Server {
    let dir = root().join("tests/python");
    let python = dir.join(".venv/bin/python");
    let install = "python-socketio needs `python3 -m venv tests/python/.venv && \
                   tests/python/.venv/bin/pip install -r tests/python/requirements.txt` \
                   (scripts/test.sh does it)";
    assert!(python.is_file(), "{install}");
    Server::start(
        Command::new(&python).args(["server.py", "0"]).current_dir(&dir),
        install,
    )
}

fn options(transports: &[Transport]) -> ConnectOptions {
    ConnectOptions {
        timeout: WAIT,
        transports: transports.to_vec(),
        record_wire: true,
        query: vec![("name".into(), "alice".into())],
        ..ConnectOptions::default()
    }
}

/// The next event, or a panic that says what came instead.
async fn event(client: &mut SimClient, what: &str) -> (String, Vec<Value>) {
    match client.next(WAIT).await {
        Some(Incoming::Event { name, args }) => (name, args),
        other => panic!("{what}: expected an event, got {other:?}"),
    }
}

/// A chat message through the server reaches the sender, with exactly the sent argument.
async fn chat_round_trip(client: &mut SimClient, what: &str) {
    client.emit("chat message", vec![json!("hi")]).unwrap();
    assert_eq!(
        event(client, what).await,
        ("chat message".to_owned(), vec![json!("hi")]),
        "{what}"
    );
}

/// Whether the session ended up on the transport it should, for a server that offers `offered`.
fn expect_transport(client: &SimClient, setting: &[Transport], offered: bool, what: &str) {
    let expected = match setting {
        [Transport::Polling, Transport::WebSocket] if offered => Transport::WebSocket,
        [first, ..] => *first,
        [] => unreachable!(),
    };
    assert_eq!(client.transport(), expected, "{what}");
}

#[test]
fn node_socket_io_in_each_configuration_over_each_transport() {
    runtime().block_on(async {
        for config in ["default", "recovery", "binary"] {
            let node = node_peer(config);
            for setting in SETTINGS {
                let what = format!("{config} over {setting:?}");
                let mut client = SimClient::connect(&node.url, &options(setting)).await.unwrap();
                expect_transport(&client, setting, true, &what);
                assert_eq!(
                    event(&mut client, &what).await,
                    ("welcome".to_owned(), vec![json!({"name": "alice"})]),
                    "{what}"
                );
                chat_round_trip(&mut client, &what).await;
                if config == "recovery" {
                    // The offset Node appended to the io.emit is kept apart, not shown as an
                    // argument, and the pid of the CONNECT reply is kept for a reconnect.
                    assert!(client.pid().is_some(), "{what}");
                    let offset = client.last_offset().expect("an offset");
                    assert!(!offset.is_empty() && offset != "hi", "{what}: {offset}");
                    let wire: Vec<String> = client.take_wire().into_iter().map(|f| f.text).collect();
                    assert!(
                        wire.contains(&format!(r#"42["chat message","hi","{offset}"]"#)),
                        "{what}: {wire:?}"
                    );
                } else {
                    assert_eq!(client.pid(), None, "{what}");
                    assert_eq!(client.last_offset(), None, "{what}");
                }
                if config == "binary" {
                    client.emit("send file", vec![]).unwrap();
                    assert_eq!(
                        event(&mut client, &what).await,
                        (
                            "file".to_owned(),
                            vec![
                                json!("caption"),
                                json!({"binary": {"length": 2, "hex": "6869", "utf8": "hi"}})
                            ]
                        ),
                        "{what}"
                    );
                }
                client.leave(WAIT).await.unwrap();
            }
        }
    });
}

#[test]
fn node_with_polling_only_is_reached_by_every_client_that_may_poll() {
    runtime().block_on(async {
        let node = node_peer("polling");
        for setting in SETTINGS {
            let what = format!("polling-only server, client {setting:?}");
            match SimClient::connect(&node.url, &options(setting)).await {
                Ok(mut client) => {
                    assert!(setting.contains(&Transport::Polling), "{what}");
                    assert!(client.open.upgrades.is_empty(), "{what}");
                    expect_transport(&client, setting, false, &what);
                    event(&mut client, &what).await;
                    chat_round_trip(&mut client, &what).await;
                    client.leave(WAIT).await.unwrap();
                }
                // A WebSocket-only client is refused, as socket.io-client's would be.
                Err(ConnectError::HttpStatus { status, body }) => {
                    assert_eq!(setting, [Transport::WebSocket], "{what}");
                    assert_eq!(status, "400 Bad Request", "{what}");
                    assert!(body.contains("Transport unknown"), "{what}: {body}");
                }
                Err(other) => panic!("{what}: {other}"),
            }
        }
    });
}

#[test]
fn node_with_cors_and_a_middleware_takes_the_auth_and_greets_early() {
    runtime().block_on(async {
        let node = node_peer("cors");
        for setting in SETTINGS {
            let what = format!("cors + middleware over {setting:?}");
            match SimClient::connect(&node.url, &options(setting)).await {
                Err(ConnectError::Refused44 { message, data }) => {
                    assert_eq!(message, "not authorized", "{what}");
                    assert_eq!(data, Some(json!({"hint": "send auth.token"})), "{what}: err.data");
                }
                other => panic!("{what}: without a token the middleware refuses, got {other:?}"),
            }
            let with_token = ConnectOptions {
                auth: Some(json!({"token": "letmein"})),
                ..options(setting)
            };
            let mut client = SimClient::connect(&node.url, &with_token).await.unwrap();
            let wire: Vec<String> = client.take_wire().into_iter().map(|f| f.text).collect();
            assert!(
                wire.contains(&r#"40{"token":"letmein"}"#.to_owned()),
                "{what}: {wire:?}"
            );
            // The middleware's greeting comes before the connection handler's, in that order.
            assert_eq!(
                event(&mut client, &what).await,
                ("early".to_owned(), vec![json!("from the middleware")]),
                "{what}"
            );
            assert_eq!(event(&mut client, &what).await.0, "welcome", "{what}");
            chat_round_trip(&mut client, &what).await;
            client.leave(WAIT).await.unwrap();
        }
    });
}

#[test]
fn python_socketio_greets_before_its_connect_reply_and_is_understood() {
    runtime().block_on(async {
        let python = python_peer();
        for setting in SETTINGS {
            let what = format!("python-socketio over {setting:?}");
            let mut client = SimClient::connect(&python.url, &options(setting)).await.unwrap();
            expect_transport(&client, setting, true, &what);
            let wire: Vec<String> = client.take_wire().into_iter().map(|f| f.text).collect();
            let at = |prefix: &str| wire.iter().position(|t| t.starts_with(prefix));
            let (greeting, reply) = (at(r#"42["welcome""#), at(r#"40{"sid""#));
            assert!(
                greeting.is_some() && reply.is_some() && greeting < reply,
                "{what}: the greeting precedes the CONNECT reply on the wire: {wire:?}"
            );
            assert_eq!(
                event(&mut client, &what).await,
                ("welcome".to_owned(), vec![json!("hello from python")]),
                "{what}"
            );
            chat_round_trip(&mut client, &what).await;
            client.leave(WAIT).await.unwrap();
        }
    });
}

/// Every stage of every lesson gives the same trace whichever way its clients connect: over
/// HTTP long-polling and then the upgrade (what `io()` does), over polling alone, or over a
/// WebSocket from the start. What a client receives does not depend on the transport, which is
/// why the lessons may play the way `io()` connects and still show what any client receives
/// (see `runner::session::Session::options_for`).
#[test]
fn every_lesson_stage_traces_the_same_over_every_transport() {
    use realtime_tutor::runner::{self, RunOptions, Target};
    let lessons = realtime_tutor::lesson::all().expect("the lessons load");
    runtime().block_on(async {
        for lesson in &lessons {
            for stage in &lesson.stages {
                let mut traces = Vec::new();
                for setting in SETTINGS {
                    // A polling client whose connection drops leaves no socket to close: the
                    // server learns it is gone only when its heartbeat times out (pingInterval
                    // plus pingTimeout, 45 s by default), as Node's does. A stage that drops a
                    // connection is compared over the transports that end on a WebSocket.
                    if setting == [Transport::Polling] && drops_a_connection(stage) {
                        continue;
                    }
                    let options = RunOptions {
                        transports: setting.to_vec(),
                        ..RunOptions::default()
                    };
                    let trace = runner::run_stage(lesson, stage, &Target::Local, &options)
                        .await
                        .unwrap_or_else(|e| {
                            panic!("lesson {}.{} over {setting:?}: {e}", lesson.number, stage.number)
                        });
                    traces.push((setting, trace));
                }
                let (first, reference) = &traces[0];
                // Lesson 10's measurement uses its own clients whatever the transports, and its
                // times vary: the rest of the trace must not.
                let reference = &crate::common::without_timings(reference);
                for (setting, trace) in &traces[1..] {
                    assert_eq!(
                        &crate::common::without_timings(trace),
                        reference,
                        "lesson {}.{}: the trace over {setting:?} differs from {first:?}",
                        lesson.number,
                        stage.number
                    );
                }
            }
        }
    });
}

/// Whether a stage has a step whose client's connection drops (rather than closing politely).
fn drops_a_connection(stage: &realtime_tutor::lesson::Stage) -> bool {
    use realtime_tutor::lesson::{Queued, StepKind};
    stage.steps.iter().any(|step| {
        matches!(
            step.kind,
            StepKind::Disconnect { drop: true, .. }
                | StepKind::QueuedEmit {
                    how: Queued::DropsBeforeAnswer,
                    ..
                }
        )
    })
}
