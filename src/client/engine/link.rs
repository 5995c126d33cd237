//! The transport during the handshake: one object that reads and writes Engine.IO packets the
//! same way over a WebSocket or over HTTP long-polling.
//!
//! The handshake is a conversation in strict turns (OPEN, then our CONNECT, then the reply), so
//! here each side is used one request at a time: a WebSocket frame, or one GET and its payload.
//! Once the socket is connected, [`super::tasks`] takes over with a reader and a writer that run
//! at the same time.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::polling::{PollError, PollingLink};
use crate::client::error::ConnectError;
use crate::client::limits::MAX_MESSAGE_SIZE;
use crate::client::payload::{Frame, decode_payload, encode_payload};
use crate::client::wire::{WireDirection, WireLog};

/// A WebSocket over a plain TCP connection.
pub type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The transport a client speaks, as socket.io-client names them in its `transports` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// `"polling"`: HTTP long-polling (see [`super::polling`]).
    Polling,
    /// `"websocket"`: one WebSocket connection.
    #[serde(rename = "websocket")]
    WebSocket,
}

impl Transport {
    /// The name in `?transport=…` and in the `transports` option.
    pub fn name(self) -> &'static str {
        match self {
            Self::Polling => "polling",
            Self::WebSocket => "websocket",
        }
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The WebSocket limits: no message or frame past [`MAX_MESSAGE_SIZE`], and small buffers.
///
/// tungstenite reads in chunks of 128 KiB by default and keeps that buffer for the life of the
/// connection; it also gathers outgoing frames in a 128 KiB buffer. Both suit a server that
/// streams. Our client reads a few small frames per step and sends one frame at a time, and
/// `serve --bots 8` keeps eight of them open: 16 KiB chunks (the read buffer still grows to
/// hold one whole frame when a larger one arrives) and no write buffering, so each frame goes
/// out as it is sent.
pub fn websocket_config() -> tungstenite::protocol::WebSocketConfig {
    tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_SIZE))
        .max_frame_size(Some(MAX_MESSAGE_SIZE))
        .read_buffer_size(READ_CHUNK)
        .write_buffer_size(0)
}

/// How much the client reads from a WebSocket at a time (see [`websocket_config`]).
const READ_CHUNK: usize = 16 * 1024;

/// The text `--wire` shows for a frame.
pub fn frame_text(frame: &Frame) -> String {
    match frame {
        Frame::Text(text) => text.clone(),
        Frame::Binary(bytes) => format!("<{} binary bytes>", bytes.len()),
    }
}

/// One handshake transport.
#[derive(Debug)]
pub enum Link {
    /// A WebSocket (boxed: it is much larger than the polling link).
    WebSocket(Box<WsStream>),
    /// An HTTP long-polling session.
    Polling(PollingLink),
}

impl Link {
    /// Which transport this is.
    pub fn transport(&self) -> Transport {
        match self {
            Self::WebSocket(_) => Transport::WebSocket,
            Self::Polling(_) => Transport::Polling,
        }
    }

    /// The next packets from the server: one WebSocket message, or one GET's whole payload.
    /// `what` names what the caller waits for, for the timeout's message.
    pub async fn recv(
        &mut self,
        limit: Duration,
        what: &str,
        wire: &WireLog,
    ) -> Result<Vec<Frame>, ConnectError> {
        let late = || ConnectError::Timeout {
            what: what.to_owned(),
            after: limit,
        };
        match self {
            Self::WebSocket(ws) => loop {
                let message = match timeout(limit, ws.next()).await {
                    Err(_) => return Err(late()),
                    Ok(None) => {
                        return Err(ConnectError::Other(format!(
                            "the server closed the connection while we waited for {what}"
                        )));
                    }
                    Ok(Some(Err(e))) => {
                        return Err(ConnectError::Other(format!(
                            "transport error while we waited for {what}: {e}"
                        )));
                    }
                    Ok(Some(Ok(message))) => message,
                };
                let frame = match message {
                    Message::Text(text) => Frame::Text(text.to_string()),
                    Message::Binary(bytes) => Frame::Binary(bytes.to_vec()),
                    Message::Close(_) => {
                        return Err(ConnectError::Other(format!(
                            "the server closed the WebSocket while we waited for {what}"
                        )));
                    }
                    _ => continue,
                };
                wire.push(WireDirection::Received, &frame_text(&frame));
                return Ok(vec![frame]);
            },
            Self::Polling(link) => {
                let answer = poll(link, limit, wire).await.map_err(|e| match e {
                    PollError::Timeout { .. } => late(),
                    other => ConnectError::Other(other.to_string()),
                })?;
                if answer.code != 200 {
                    return Err(ConnectError::Other(format!(
                        "the server answered {} to GET {} while we waited for {what}: {}",
                        answer.status,
                        link.url(),
                        answer.excerpt()
                    )));
                }
                payload_frames(&answer.body, wire)
            }
        }
    }

    /// Sends packets: one WebSocket frame each, or one POST with all of them.
    pub async fn send(
        &mut self,
        packets: &[String],
        limit: Duration,
        wire: &WireLog,
    ) -> Result<(), ConnectError> {
        match self {
            Self::WebSocket(ws) => {
                for packet in packets {
                    wire.push(WireDirection::Sent, packet);
                    timeout(limit, ws.send(Message::text(packet.clone())))
                        .await
                        .map_err(|_| ConnectError::Timeout {
                            what: format!("the WebSocket to take our frame {packet}"),
                            after: limit,
                        })?
                        .map_err(|e| ConnectError::Other(e.to_string()))?;
                }
                Ok(())
            }
            Self::Polling(link) => post(link, packets, limit, wire).await.map_err(|e| match e {
                PollError::Timeout { what, after } => ConnectError::Timeout {
                    what: format!("the answer to {what}"),
                    after,
                },
                other => ConnectError::Other(other.to_string()),
            }),
        }
    }
}

/// One long-poll GET, logged for `--wire` as a request line and a status line.
pub async fn poll(
    link: &mut PollingLink,
    limit: Duration,
    wire: &WireLog,
) -> Result<super::polling::Answer, PollError> {
    wire.push(WireDirection::Sent, &format!("HTTP GET {}", link.url()));
    let answer = link.get(limit).await?;
    wire.push(WireDirection::Received, &format!("HTTP {}", answer.status));
    Ok(answer)
}

/// One POST of some packets, logged as the request line, the packets, and the status line.
pub async fn post(
    link: &mut PollingLink,
    packets: &[String],
    limit: Duration,
    wire: &WireLog,
) -> Result<(), PollError> {
    wire.push(WireDirection::Sent, &format!("HTTP POST {}", link.url()));
    for packet in packets {
        wire.push(WireDirection::Sent, packet);
    }
    let answer = link.post(encode_payload(packets), limit).await?;
    wire.push(WireDirection::Received, &format!("HTTP {}", answer.status));
    if answer.code != 200 {
        return Err(PollError::Other(format!(
            "the server answered {} to POST {}: {}",
            answer.status,
            link.url(),
            answer.excerpt()
        )));
    }
    Ok(())
}

/// The packets of one polling body, each logged for `--wire`.
pub fn payload_frames(body: &str, wire: &WireLog) -> Result<Vec<Frame>, ConnectError> {
    let frames = decode_payload(body).map_err(|e| {
        ConnectError::Other(format!(
            "a long-polling answer is not an Engine.IO payload ({e}): {:?}",
            body.chars().take(80).collect::<String>()
        ))
    })?;
    for frame in &frames {
        wire.push(WireDirection::Received, &frame_text(frame));
    }
    Ok(frames)
}
