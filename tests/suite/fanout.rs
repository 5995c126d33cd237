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

/// The bytes a client's TCP connection delivered, counted under the WebSocket: what the server
/// wrote, with nothing computed.
mod on_the_wire {
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::task::{Context, Poll};

    use futures_util::{SinkExt, StreamExt};
    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
    use tokio::net::TcpStream;
    use tokio_tungstenite::WebSocketStream;
    use tokio_tungstenite::tungstenite::Message;

    /// A TCP stream that counts the bytes read from it.
    pub struct Counting {
        inner: TcpStream,
        pub read: Arc<AtomicU64>,
    }

    impl AsyncRead for Counting {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            let before = buf.filled().len();
            let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
            let got = (buf.filled().len() - before) as u64;
            self.read.fetch_add(got, Ordering::Relaxed);
            polled
        }
    }

    impl AsyncWrite for Counting {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            Pin::new(&mut self.inner).poll_write(cx, buf)
        }
        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.inner).poll_flush(cx)
        }
        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.inner).poll_shutdown(cx)
        }
    }

    /// A client connected to the main namespace, and the bytes read so far.
    pub struct Client {
        pub ws: WebSocketStream<Counting>,
        pub read: Arc<AtomicU64>,
    }

    /// Connects over WebSocket and to the main namespace (`0{…}`, `40`, `40{…}`). With
    /// `first_ping`, also waits for the server's first ping (`2`) and answers it (`3`):
    /// engineioxide pings as soon as a session opens (its heartbeat's interval ticks at once),
    /// where Node's engine.io first waits `pingInterval` (25 s). That frame is the session's,
    /// not an emit's, so the count starts after it.
    pub async fn connect(addr: std::net::SocketAddr, first_ping: bool) -> Client {
        let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
        let read = Arc::new(AtomicU64::new(0));
        let tcp = TcpStream::connect(addr).await.expect("TCP connects");
        let stream = Counting {
            inner: tcp,
            read: read.clone(),
        };
        let (mut ws, _) = tokio_tungstenite::client_async(&url, stream)
            .await
            .expect("the WebSocket opens");
        // The first ping may come before or after the CONNECT reply.
        let (mut connected, mut pinged) = (false, !first_ping);
        while !(connected && pinged) {
            let next = tokio::time::timeout(super::WITHIN, ws.next()).await;
            let Ok(Some(Ok(Message::Text(text)))) = next else {
                panic!("the handshake (and first ping: {first_ping}) ended early: {next:?}")
            };
            if text.starts_with('0') {
                ws.send(Message::text("40")).await.expect("sends CONNECT");
            } else if text.starts_with("40") {
                connected = true;
            } else if text.as_str() == "2" {
                ws.send(Message::text("3")).await.expect("answers the ping");
                pinged = true;
            }
        }
        Client { ws, read }
    }

    impl Client {
        /// Reads until the next `'chat message'` frame: its text, and the bytes the connection
        /// delivered since `from`.
        pub async fn chat(&mut self, from: u64) -> (String, u64) {
            loop {
                let Some(Ok(message)) = self.ws.next().await else {
                    panic!("the connection ended before the emit")
                };
                if let Message::Text(text) = message
                    && text.starts_with("42[\"chat message\"")
                {
                    return (text.to_string(), self.read.load(Ordering::Relaxed) - from);
                }
            }
        }

        pub fn count(&self) -> u64 {
            self.read.load(Ordering::Relaxed)
        }
    }
}

/// Counted under the WebSocket, on the TCP connection itself: one emit of each message is one
/// frame of the same bytes from our server and from Node's, and that many bytes are what the
/// lesson reports for one frame.
#[test]
fn the_bytes_on_the_tcp_connection_are_the_same_from_both_servers_and_the_lessons() {
    use realtime_tutor::server::fanout::{FanoutServer, io_emit};

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    let node = Server::start(
        Command::new("node")
            .args(["server.js", "3.1", "0"])
            .current_dir(&dir),
        "the Node.js fixture needs node, then `npm ci` in tests/node",
    );
    let node_addr: std::net::SocketAddr = node.url.trim_start_matches("http://").parse().expect("address");
    let rt = runtime();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let ours = FanoutServer::start(listener).expect("our server starts");
        for message in ["hello, everyone".to_owned(), "b".repeat(200), "a".repeat(100_000)] {
            // Ours: one client, and the emit made on the server.
            let mut client = on_the_wire::connect(ours.addr(), true).await;
            let counted = async {
                while ours.connected() < 1 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            };
            tokio::time::timeout(WITHIN, counted)
                .await
                .expect("our server counts the socket");
            let from = client.count();
            io_emit(&ours.io, "chat message", &message)
                .await
                .expect("io.emit");
            let (our_text, our_bytes) = tokio::time::timeout(WITHIN, client.chat(from))
                .await
                .expect("our frame within the bound");
            drop(client);
            let gone = async {
                while ours.connected() > 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            };
            tokio::time::timeout(WITHIN, gone)
                .await
                .expect("our server forgets the socket");
            // Node's: one client, which triggers the emit and reads it back.
            let mut client = on_the_wire::connect(node_addr, false).await;
            let from = client.count();
            let frame = format!("42{}", serde_json::json!(["chat message", message]));
            client.ws.send(Message::text(frame)).await.expect("emits");
            let (node_text, node_bytes) = tokio::time::timeout(WITHIN, client.chat(from))
                .await
                .expect("Node's frame within the bound");
            assert_eq!(our_text, node_text, "the same frame text");
            assert_eq!(our_bytes, node_bytes, "the same bytes on the wire");
            // And what the lesson's clients count for a frame is what crossed the connection.
            assert_eq!(
                our_bytes,
                lean::frame_size(our_text.len()),
                "{}-byte message",
                message.len()
            );
        }
        ours.stop().await;
    });
}
