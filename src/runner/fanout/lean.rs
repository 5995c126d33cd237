//! The measurements' client: Socket.IO over a WebSocket and nothing else, the least a client
//! can do (the benchmark's load client, `benches/fanout/client.rs`, speaks the same).
//!
//! 1. `GET /socket.io/?EIO=4&transport=websocket` upgrades straight to a WebSocket, as
//!    `io(url, { transports: ['websocket'] })` does;
//! 2. the server sends Engine.IO's OPEN, `0{"sid":…}`; the client sends Socket.IO's CONNECT for
//!    the main namespace, `40`, and the server answers `40{"sid":…}`;
//! 3. from then on each event is one text frame `42["event",…]`, and every `pingInterval` the
//!    server sends `2`, which the client answers with `3`.
//!
//! Nothing is recorded but what the measurements count: for each event frame, who read it, when,
//! its event name, its text, and how many bytes it took on the wire.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// One connected client's WebSocket.
pub type Ws = WebSocketStream<TcpStream>;

/// How long one client may take to open its WebSocket and be connected to the namespace.
pub const CONNECT_WITHIN: Duration = Duration::from_secs(10);

/// What a client read: one event frame.
#[derive(Debug)]
pub struct Got {
    /// The client's number, from 0.
    pub client: usize,
    pub at: Instant,
    /// The whole text of the frame: `42["chat message","hi"]`.
    pub text: Utf8Bytes,
    /// The frame's size on the wire: its header and its payload.
    pub wire: u64,
}

impl Got {
    /// The event's name, read without a JSON parser: the frames are `42["name",…`.
    pub fn event(&self) -> &str {
        self.text
            .strip_prefix("42[\"")
            .and_then(|rest| rest.split_once('"'))
            .map_or("", |(name, _)| name)
    }

    /// The first argument, when it is a number: `42["tick",7]` → 7.
    pub fn number(&self) -> Option<u64> {
        let rest = self.text.strip_prefix("42[\"")?.split_once("\",")?.1;
        rest.strip_suffix(']')?.parse().ok()
    }
}

/// The size of a server's WebSocket frame carrying `payload` bytes (RFC 6455 §5.2): two bytes,
/// then the length in 2 more bytes past 125, or 8 more past 65,535. A server's frames are not
/// masked, so there is no masking key.
pub fn frame_size(payload: usize) -> u64 {
    let extended = match payload {
        0..=125 => 0,
        126..=65_535 => 2,
        _ => 8,
    };
    (2 + extended + payload) as u64
}

/// Opens a WebSocket to `addr` and connects to the main namespace: returns once `40{…}` has
/// arrived, or says what it was waiting for. With `receive_buffer`, the socket's kernel receive
/// buffer is set to that many bytes (and so no longer grows by itself): a slow reader's
/// connection then fills up early.
pub async fn connect(addr: std::net::SocketAddr, receive_buffer: Option<u32>) -> Result<Ws, String> {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    // Small buffers: a thousand of these share the process. Chat frames are tens of bytes.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let opening = async {
        let socket = TcpSocket::new_v4().map_err(|e| format!("a socket: {e}"))?;
        if let Some(size) = receive_buffer {
            socket
                .set_recv_buffer_size(size)
                .map_err(|e| format!("the receive buffer: {e}"))?;
        }
        let tcp = socket
            .connect(addr)
            .await
            .map_err(|e| format!("connecting to {addr}: {e}"))?;
        let _ = tcp.set_nodelay(true);
        let (mut ws, _) = tokio_tungstenite::client_async_with_config(&url, tcp, Some(config))
            .await
            .map_err(|e| format!("the WebSocket to {url}: {e}"))?;
        let mut sent_connect = false;
        while let Some(frame) = ws.next().await {
            let frame = frame.map_err(|e| format!("reading the handshake: {e}"))?;
            let Message::Text(text) = frame else { continue };
            match text.as_bytes().first() {
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
        .unwrap_or_else(|_| Err(format!("no CONNECT reply from {url} within {CONNECT_WITHIN:?}")))
}

/// Reads `ws` until it closes, sending each event frame to `tx` as client `client`, and
/// answering pings. Ends when the connection or the receiving side goes away.
pub async fn read(mut ws: Ws, client: usize, tx: mpsc::UnboundedSender<Got>) {
    while let Some(Ok(message)) = ws.next().await {
        let Message::Text(text) = message else { continue };
        if text.as_str() == "2" {
            if ws.send(Message::text("3")).await.is_err() {
                return;
            }
            continue;
        }
        if !text.starts_with("42") {
            continue;
        }
        let wire = frame_size(text.len());
        let got = Got {
            client,
            at: Instant::now(),
            text,
            wire,
        };
        if tx.send(got).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_its_payload_and_a_header_of_two_four_or_ten_bytes() {
        assert_eq!(frame_size(0), 2);
        assert_eq!(frame_size(125), 127);
        assert_eq!(frame_size(126), 130);
        assert_eq!(frame_size(65_535), 65_539);
        assert_eq!(frame_size(65_536), 65_546);
    }

    #[test]
    fn the_event_and_a_numeric_argument_are_read_from_the_frame() {
        let got = |text: &str| Got {
            client: 0,
            at: Instant::now(),
            text: text.into(),
            wire: 0,
        };
        assert_eq!(got(r#"42["tick",7]"#).event(), "tick");
        assert_eq!(got(r#"42["tick",7]"#).number(), Some(7));
        assert_eq!(got(r#"42["chat message","hi"]"#).number(), None);
        assert_eq!(got("3").event(), "");
    }
}
