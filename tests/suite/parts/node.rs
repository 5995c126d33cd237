//! The Node.js side of lessons 6 and 7 starts and answers: the tutorial's delivery servers (with
//! SQLite from npm) and their wrong variants, and a pair of socket.io nodes joined by
//! `@socket.io/redis-adapter` on the Redis this test starts. Smoke tests: the lessons'
//! conformance tests compare whole traces later.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use realtime_tutor::client::{ConnectOptions, Incoming, SimClient};
use realtime_tutor::parts::redis_server::RedisServer;
use realtime_tutor::parts::store::Store;
use serde_json::{Value, json};

use crate::common::process::Server;
use crate::common::runtime;

const WAIT: Duration = Duration::from_secs(5);
const INSTALL: &str = "run `npm ci` in tests/node (it builds sqlite3 from source: python3, make and g++); \
                       `bash scripts/test.sh` does it";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node")
}

/// A Node process of the fixture, killed when dropped (also when the test panics).
pub(crate) fn node_process(script: &str, args: &[&str]) -> Server {
    for package in [
        "sqlite3/build/Release/node_sqlite3.node",
        "@socket.io/redis-adapter/package.json",
    ] {
        assert!(
            fixture().join("node_modules").join(package).is_file(),
            "{package} is missing: {INSTALL}"
        );
    }
    Server::start(
        Command::new("node").arg(script).args(args).current_dir(fixture()),
        INSTALL,
    )
}

async fn connect(url: &str, query: &[(&str, &str)]) -> SimClient {
    SimClient::connect_with_query(url, &ConnectOptions::default(), query)
        .await
        .expect("connects")
}

async fn next_event(c: &mut SimClient) -> (String, Vec<Value>) {
    match c.next(WAIT).await {
        Some(Incoming::Event { name, args }) => (name, args),
        other => panic!("expected an event within {WAIT:?}, got {other:?}"),
    }
}

/// Connects with `io({ auth })` (a CONNECT packet carrying the auth object), raw, since the
/// simulated client does not send `auth` yet, and returns the first event after the CONNECT reply.
async fn first_event_with_auth(url: &str, auth: Value) -> (String, Vec<Value>) {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let ws_url = realtime_tutor::client::connection::websocket_url(url, "/socket.io/");
    let (mut ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(ws_url))
        .await
        .expect("WebSocket in time")
        .expect("WebSocket opens");
    let open = next_text(&mut ws).await;
    assert!(open.starts_with("0{"), "an OPEN packet: {open}");
    ws.send(Message::text(format!("40{auth}"))).await.unwrap();
    let frames = [next_text(&mut ws).await, next_text(&mut ws).await];
    assert!(frames[0].starts_with("40{"), "the CONNECT reply: {frames:?}");
    let event: Vec<Value> = serde_json::from_str(frames[1].strip_prefix("42").expect("an EVENT")).unwrap();
    (event[0].as_str().unwrap().to_string(), event[1..].to_vec())
}

async fn next_text<S>(ws: &mut S) -> String
where
    S: futures_util::Stream<
            Item = Result<tokio_tungstenite::tungstenite::Message, tokio_tungstenite::tungstenite::Error>,
        > + Unpin,
{
    use futures_util::StreamExt;
    match tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("a frame in time")
    {
        Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) => text.to_string(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// Reads `c`'s events until `wanted` arrives. Anything else must be a message alice sent
/// (`one`/`two`) arriving a second time: alice's own replay may still be running when her
/// messages are stored, and a running SELECT can see rows inserted meanwhile, so the
/// tutorial's server may send her a message twice (replayed and emitted). The exact rows are
/// checked on a fresh connection afterwards.
async fn until(c: &mut SimClient, wanted: &(String, Vec<Value>), variant: &str) {
    let mut seen = Vec::new();
    loop {
        let event = match c.next(WAIT).await {
            Some(Incoming::Event { name, args }) => (name, args),
            other => panic!("{variant}: waiting for {wanted:?} after {seen:?}, got {other:?}"),
        };
        if &event == wanted {
            return;
        }
        let text = event.1.first().and_then(Value::as_str).unwrap_or_default();
        assert!(
            event.0 == "chat message" && ["one", "two"].contains(&text),
            "{variant}: {event:?}"
        );
        seen.push(event);
    }
}

#[test]
fn the_tutorials_delivery_servers_store_emit_with_the_offset_and_replay() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        for variant in [
            "server-delivery",
            "client-delivery",
            "replays-all",
            "forgets-offset",
        ] {
            // The file starts with one row, written by the tutor's own store: the Node server
            // reads what rusqlite wrote.
            let db = dir.path().join(format!("{variant}.db"));
            Store::open(&db).unwrap().insert("seed", None).unwrap();
            let server = node_process("delivery.js", &[variant, "0", db.to_str().unwrap()]);
            let with_offset = variant != "forgets-offset";
            let expect = |text: &str, id: u64| {
                let mut args = vec![json!(text)];
                if with_offset {
                    args.push(json!(id));
                }
                ("chat message".to_string(), args)
            };
            let mut alice = connect(&server.url, &[]).await;
            assert_eq!(
                next_event(&mut alice).await,
                expect("seed", 1),
                "{variant}: no offset, all replayed"
            );
            if variant == "client-delivery" {
                for (text, offset) in [("one", "alice-1"), ("one", "alice-1"), ("two", "alice-2")] {
                    // The second is a retry of a message already stored: acknowledged, not stored.
                    let ack = alice
                        .emit_with_ack("chat message", vec![json!(text), json!(offset)])
                        .unwrap();
                    tokio::time::timeout(WAIT, ack)
                        .await
                        .expect("ack in time")
                        .expect("acked");
                }
            } else {
                // One at a time: the server handles each message in its own async handler, and
                // two inserts in flight may take their ids in either order.
                alice.emit("chat message", vec![json!("one")]).unwrap();
                until(&mut alice, &expect("one", 2), variant).await;
                alice.emit("chat message", vec![json!("two")]).unwrap();
            }
            until(&mut alice, &expect("two", 3), variant).await;
            // A client that has seen offset 2 reconnects: the replay starts after it (or, for
            // the wrong variant, at the beginning).
            let replayed = first_event_with_auth(&server.url, json!({"serverOffset": 2})).await;
            if variant == "replays-all" {
                assert_eq!(replayed, expect("seed", 1), "{variant}");
            } else {
                assert_eq!(replayed, expect("two", 3), "{variant}");
            }
        }
    });
}

#[test]
fn a_server_that_stores_nothing_still_chats() {
    runtime().block_on(async {
        let server = node_process("delivery.js", &["stores-nothing", "0"]);
        let mut alice = connect(&server.url, &[]).await;
        alice.emit("chat message", vec![json!("hi")]).unwrap();
        assert_eq!(
            next_event(&mut alice).await,
            ("chat message".into(), vec![json!("hi")])
        );
    });
}

#[test]
fn two_node_servers_share_broadcasts_through_the_redis_adapter() {
    runtime().block_on(async {
        let redis = RedisServer::start().await.expect("a private Redis");
        let socket = redis.socket_path().to_str().unwrap().to_string();
        let a = node_process("cluster.js", &["0", &socket]);
        let b = node_process("cluster.js", &["0", &socket]);
        let mut alice = connect(&a.url, &[("room", "r")]).await;
        let mut bob = connect(&b.url, &[("room", "r")]).await;
        let mut dave = connect(&b.url, &[]).await;
        // io.emit on A reaches B's clients.
        alice.emit("chat message", vec![json!("hi all")]).unwrap();
        for c in [&mut alice, &mut bob, &mut dave] {
            assert_eq!(
                next_event(c).await,
                ("chat message".into(), vec![json!("hi all")])
            );
        }
        // io.local.emit stays on A: B's clients get the next broadcast first.
        alice.emit("local message", vec![json!("A only")]).unwrap();
        alice.emit("chat message", vec![json!("after")]).unwrap();
        assert_eq!(next_event(&mut alice).await.1, vec![json!("A only")]);
        assert_eq!(next_event(&mut alice).await.1, vec![json!("after")]);
        for c in [&mut bob, &mut dave] {
            assert_eq!(next_event(c).await.1, vec![json!("after")]);
        }
        // socket.to(room) from alice on A reaches bob on B, then an io.emit marks the end.
        let ack = alice
            .emit_with_ack("to room", vec![json!("r"), json!("room hi")])
            .unwrap();
        tokio::time::timeout(WAIT, ack)
            .await
            .expect("ack in time")
            .expect("acked");
        alice.emit("chat message", vec![json!("end")]).unwrap();
        assert_eq!(next_event(&mut bob).await.1, vec![json!("room hi")]);
        assert_eq!(next_event(&mut bob).await.1, vec![json!("end")]);
        assert_eq!(next_event(&mut dave).await.1, vec![json!("end")]);
        assert_eq!(next_event(&mut alice).await.1, vec![json!("end")]);
    });
}

/// What Node's engine.io answers a poll for a session another node holds: socket.io's own
/// "Session ID unknown", the reference for the sticky-sessions stage (socketioxide answers the
/// same status and message, with the code as a string: see the Redis tests).
#[test]
fn node_answers_a_poll_for_another_nodes_session_with_session_id_unknown() {
    use realtime_tutor::parts::sticky::cross_poll;
    runtime().block_on(async {
        let redis = RedisServer::start().await.expect("a private Redis");
        let socket = redis.socket_path().to_str().unwrap().to_string();
        let a = node_process("cluster.js", &["0", &socket]);
        let b = node_process("cluster.js", &["0", &socket]);
        let authority = |url: &str| url.trim_start_matches("http://").to_string();
        let probe = cross_poll(&authority(&a.url), &authority(&b.url), WAIT)
            .await
            .expect("both nodes answer");
        assert_eq!(probe.open.code, 200, "{probe:?}");
        let on_b = &probe.other;
        eprintln!(
            "Node B answers a poll for A's session: {} {:?} {:?}",
            on_b.status, on_b.content_type, on_b.body
        );
        assert_eq!(
            (on_b.code, on_b.content_type.as_deref()),
            (400, Some("application/json"))
        );
        assert_eq!(on_b.body, r#"{"code":1,"message":"Session ID unknown"}"#);
    });
}
