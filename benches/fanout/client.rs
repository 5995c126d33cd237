//! The load's client: Socket.IO over a WebSocket and nothing else, the least a client can do.
//!
//! What it speaks (see the book's protocol chapter for the whole of it):
//!
//! 1. `GET /socket.io/?EIO=4&transport=websocket` upgrades straight to a WebSocket, with no
//!    long-polling first, as `io(url, { transports: ['websocket'] })` does.
//! 2. The server sends Engine.IO's OPEN packet, `0{"sid":…}`.
//! 3. The client sends Socket.IO's CONNECT for the main namespace, `40`, and the server answers
//!    `40{"sid":…}`. From then on the socket is in the namespace: an `io.emit` reaches it.
//! 4. Every `pingInterval` the server sends `2`; the client answers `3`, or it is dropped.
//!
//! Nothing is recorded but what the benchmark measures: no trace, no wire log. The lessons'
//! simulated clients (`src/client/`) do much more; here every byte of work per frame counts.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// One connected client's WebSocket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long one client may take to open its WebSocket and be connected to the namespace.
pub const CONNECT_WITHIN: Duration = Duration::from_secs(20);

/// Microseconds since the Unix epoch: the sender writes it into each message and a receiver
/// subtracts it from its own clock. Both run on this machine, so they read one clock.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Opens a WebSocket to the server at `base` (`http://127.0.0.1:PORT`) and connects to the main
/// namespace: returns once `40{…}` has arrived, or says what it was waiting for.
pub async fn connect(base: &str) -> Result<Ws, String> {
    let url = format!(
        "{}/socket.io/?EIO=4&transport=websocket",
        base.replacen("http", "ws", 1)
    );
    // Small buffers: ten thousand of these share one process. Chat frames are tens of bytes.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let opening = async {
        // `true`: no Nagle delay, so the sender's frames leave at once.
        let (mut ws, _) = tokio_tungstenite::connect_async_with_config(&url, Some(config), true)
            .await
            .map_err(|e| format!("the WebSocket to {url}: {e}"))?;
        let mut sent_connect = false;
        while let Some(frame) = ws.next().await {
            let frame = frame.map_err(|e| format!("reading the handshake: {e}"))?;
            let Message::Text(text) = frame else { continue };
            match text.as_bytes().first() {
                // OPEN: now the Socket.IO CONNECT.
                Some(b'0') if !sent_connect => {
                    ws.send(Message::text("40"))
                        .await
                        .map_err(|e| format!("sending 40: {e}"))?;
                    sent_connect = true;
                }
                Some(b'2') => ws
                    .send(Message::text("3"))
                    .await
                    .map_err(|e| format!("pong: {e}"))?,
                _ if text.starts_with("40") => return Ok(ws),
                _ if text.starts_with("44") => return Err(format!("the server refused: {text}")),
                _ => {}
            }
        }
        Err("the server closed the WebSocket before the CONNECT reply".to_owned())
    };
    tokio::time::timeout(CONNECT_WITHIN, opening)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "no CONNECT reply (40) from {url} within {CONNECT_WITHIN:?}"
            ))
        })
}

/// The chat message the sender emits: `42["chat message","<µs since the epoch>"]`, the event
/// lesson 3's server answers with `io.emit('chat message', msg)`.
pub fn chat_frame(sent_us: u64) -> Message {
    Message::text(format!("42[\"chat message\",\"{sent_us}\"]"))
}

/// What a frame means to the load: a chat message and when it was sent, a ping to answer, or
/// anything else.
pub enum Frame {
    Chat { sent_us: u64 },
    Ping,
    Other,
}

/// Reads a frame without a JSON parser: the chat frames are the sender's own, of one shape.
pub fn read(message: &Message) -> Frame {
    let Message::Text(text) = message else {
        return Frame::Other;
    };
    let text = text.as_str();
    if text == "2" {
        return Frame::Ping;
    }
    text.strip_prefix("42[\"chat message\",\"")
        .and_then(|rest| rest.strip_suffix("\"]"))
        .and_then(|digits| digits.parse().ok())
        .map_or(Frame::Other, |sent_us| Frame::Chat { sent_us })
}

/// What one receiver saw: the latency of each chat message (µs, send to read) and when it read
/// the last one.
#[derive(Default)]
pub struct Seen {
    pub latencies_us: Vec<u32>,
    pub last_us: u64,
}

/// Reads chat messages until `messages` have arrived or `deadline` passes, answering pings.
/// The WebSocket is handed back open: a receiver that closed as soon as it was done would make
/// the server handle its disconnect while it still delivers to the others.
pub async fn receive(mut ws: Ws, messages: usize, deadline: tokio::time::Instant) -> (Seen, Ws) {
    let mut seen = Seen {
        latencies_us: Vec::with_capacity(messages),
        last_us: 0,
    };
    while seen.latencies_us.len() < messages {
        let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, ws.next()).await else {
            break;
        };
        match read(&message) {
            Frame::Chat { sent_us } => {
                let now = now_us();
                seen.latencies_us.push(now.saturating_sub(sent_us) as u32);
                seen.last_us = now;
            }
            Frame::Ping => {
                let _ = ws.send(Message::text("3")).await;
            }
            Frame::Other => {}
        }
    }
    (seen, ws)
}
