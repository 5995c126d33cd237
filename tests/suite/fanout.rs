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

/// `lesson 10.1` as a learner runs it: its clients in a process apart, so the memory per
/// connection is the server's and is there for every size; the counted figures as the lesson
/// shows them.
#[test]
fn the_command_measures_each_audience_with_its_clients_apart() {
    use crate::common::{COMMAND_LIMIT, run_bounded};
    let out = run_bounded(
        Command::new(env!("CARGO_BIN_EXE_realtime-tutor")).args(["lesson", "10.1", "--format", "json"]),
        COMMAND_LIMIT,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    let line: serde_json::Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l.get("measure").is_some())
        .expect("a measure line");
    let rows = line["measure"]["rows"].as_array().expect("rows");
    let clients: Vec<u64> = rows.iter().map(|r| r["clients"].as_u64().unwrap()).collect();
    assert_eq!(clients, [10, 100, 1000]);
    for row in rows {
        let n = row["clients"].as_u64().unwrap();
        // 42["chat message","hello, everyone"] is 36 bytes, and its frame header 2.
        assert_eq!(row["frames_per_emit"], n);
        assert_eq!(row["bytes_per_emit"], 38 * n);
        assert_eq!(row["deliveries"], 5 * n);
        let memory = row["memory"]["bytes_per_connection"].as_u64();
        assert!(memory.is_some_and(|b| b > 0), "memory measured at {n}: {row}");
    }
}

#[test]
fn an_audience_of_none_is_refused_before_anything_runs() {
    use crate::common::{COMMAND_LIMIT, run_bounded};
    let out = run_bounded(
        Command::new(env!("CARGO_BIN_EXE_realtime-tutor")).args(["lesson", "10.1", "--clients", "0"]),
        COMMAND_LIMIT,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--clients"));
}
