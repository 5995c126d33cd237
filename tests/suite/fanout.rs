//! Lesson 10's counted figures against Node's socket.io 4.8.4: the same `io.emit` to the same
//! clients writes the same frames, byte for byte, so the frames and bytes per emit the lesson
//! shows are what the reference server writes too.
//!
//! Both servers are read by the same lean WebSocket clients (`runner::fanout::lean`); Node's
//! runs lesson 3's chat from `tests/node/server.js` (`io.emit('chat message', msg)` on
//! `'chat message'`), triggered by one of its clients.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use futures_util::SinkExt;
use realtime_tutor::lesson::Measure;
use realtime_tutor::runner::RunOptions;
use realtime_tutor::runner::fanout::{self, lean};
use realtime_tutor::trace::measure::{FanoutRow, Measurement};
use tokio_tungstenite::tungstenite::Message;

use crate::common::process::Server;
use crate::common::runtime;

const CLIENTS: usize = 10;
const WITHIN: Duration = Duration::from_secs(10);

/// What one emit of `message` to [`CLIENTS`] clients wrote on our server: (frames, bytes, bytes
/// of one frame).
async fn ours(message: &str) -> (u64, u64, u64) {
    let measure = Measure::Audience {
        clients: vec![CLIENTS],
        message: message.to_owned(),
        emits: 1,
    };
    let measured = fanout::measure(&measure, &RunOptions::default())
        .await
        .expect("lesson 10's measurement runs");
    let Measurement::Fanout { rows } = measured else {
        panic!("an audience measurement gives rows: {measured:?}")
    };
    let FanoutRow {
        frames_per_emit,
        bytes_per_emit,
        frame_bytes,
        ..
    } = rows[0];
    (frames_per_emit, bytes_per_emit, frame_bytes)
}

/// The same on Node's server at `base`: one client sends `'chat message'`, every client reads.
async fn theirs(addr: std::net::SocketAddr, message: &str) -> (u64, u64, u64) {
    let (tx, mut inbox) = tokio::sync::mpsc::unbounded_channel();
    let mut sender = None;
    let mut readers = Vec::new();
    for i in 0..CLIENTS {
        let ws = lean::connect(addr, None)
            .await
            .expect("a lean client connects to Node");
        if i == 0 {
            sender = Some(ws);
        } else {
            readers.push(tokio::spawn(lean::read(ws, i, tx.clone())));
        }
    }
    let mut sender = sender.expect("client 0");
    let frame = format!("42{}", serde_json::json!(["chat message", message]));
    sender.send(Message::text(frame)).await.expect("client 0 emits");
    readers.push(tokio::spawn(lean::read(sender, 0, tx.clone())));
    let (mut frames, mut bytes, mut one) = (0, 0, 0);
    let mut seen = [false; CLIENTS];
    while seen.iter().any(|s| !s) {
        let got = tokio::time::timeout(WITHIN, inbox.recv())
            .await
            .expect("every client reads the emit within the bound")
            .expect("the readers run");
        if got.event() == "chat message" {
            seen[got.client] = true;
            frames += 1;
            bytes += got.wire;
            one = got.wire;
        }
    }
    for reader in readers {
        reader.abort();
    }
    (frames, bytes, one)
}

#[test]
fn one_emit_writes_the_same_frames_and_bytes_as_nodes_socket_io() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    assert!(
        dir.join("node_modules/socket.io/package.json").is_file(),
        "tests/node/node_modules is missing: `npm ci` in tests/node"
    );
    let node = Server::start(
        Command::new("node")
            .args(["server.js", "3.1", "0"])
            .current_dir(&dir),
        "the Node.js fixture needs node, then `npm ci` in tests/node",
    );
    let addr = node
        .url
        .trim_start_matches("http://")
        .parse()
        .expect("Node's address");
    let rt = runtime();
    // A chat-sized message (a 2-byte WebSocket header), one past 125 bytes (4), and lesson 10's
    // large one, past 65,535 (10).
    for message in ["hello, everyone".to_owned(), "b".repeat(200), "a".repeat(100_000)] {
        let (ours, theirs) = rt.block_on(async { (ours(&message).await, theirs(addr, &message).await) });
        assert_eq!(
            ours,
            theirs,
            "(frames, bytes, one frame's bytes) per emit of a {}-byte message to {CLIENTS} \
             clients: ours, then Node's",
            message.len()
        );
        assert_eq!(ours.0, CLIENTS as u64, "one frame per client");
        assert_eq!(
            ours.1,
            ours.2 * CLIENTS as u64,
            "every client reads the same frame"
        );
    }
}
