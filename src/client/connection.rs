//! One simulated client's connection: handshake, reader and writer tasks, heartbeat.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::{self, Message};

use super::protocol::{EnginePacket, OpenInfo, SocketPacket};

/// Which way a frame travelled, seen from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WireDirection {
    /// Client → server.
    Sent,
    /// Server → client.
    Received,
}

/// One raw WebSocket frame, kept for `--wire`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WireFrame {
    pub direction: WireDirection,
    pub text: String,
}

/// Frames are appended by the reader and writer tasks and drained by the runner, step by step.
/// A `std::sync::Mutex` is enough: nobody holds it across an `.await`.
type WireLog = Arc<Mutex<Vec<WireFrame>>>;

fn log(wire: &WireLog, direction: WireDirection, text: &str) {
    if let Ok(mut frames) = wire.lock() {
        frames.push(WireFrame {
            direction,
            text: text.to_owned(),
        });
    }
}

/// How to reach the server.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Where Socket.IO is mounted. `/socket.io/` is the default on every server.
    pub path: String,
    /// The longest we wait for each handshake step.
    pub timeout: Duration,
    /// `io({ query })`: parameters on the handshake request, as [`SimClient::connect_with_query`].
    pub query: Vec<(String, String)>,
    /// `io({ auth })`: the payload of the Socket.IO CONNECT packet (`40{…}`), which the server
    /// reads as `socket.handshake.auth`.
    pub auth: Option<Value>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            path: "/socket.io/".to_owned(),
            timeout: Duration::from_secs(3),
            query: Vec::new(),
            auth: None,
        }
    }
}

/// Why a connection did not become a Socket.IO socket. Each variant says which step failed, so
/// a lesson can show the exact point where "nothing listens" differs from "nothing speaks
/// Socket.IO here".
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The TCP connection was refused: no process listens on that port.
    #[error("connection refused: nothing is listening on {addr}")]
    Refused { addr: String },
    /// The server answered the WebSocket request with an ordinary HTTP response instead of
    /// `101 Switching Protocols`.
    #[error("the server answered {status} instead of 101 Switching Protocols")]
    HttpStatus { status: String, body: String },
    /// The server closed the connection without answering the WebSocket request at all. A Node
    /// server does that when it handles WebSocket upgrades, but not at this path: Socket.IO
    /// attached with another `path` option, for example, drops upgrades meant for other paths.
    #[error("the server closed the connection without answering the WebSocket request")]
    ClosedUnanswered,
    /// The WebSocket opened, but what came first was not an Engine.IO OPEN packet.
    #[error("the WebSocket opened but the server did not speak Engine.IO: first frame was {0:?}")]
    NotEngineIo(String),
    /// The server refused the Socket.IO CONNECT (`44…`).
    #[error("the server refused the Socket.IO connection: {0}")]
    Refused44(String),
    /// A step did not complete in time.
    #[error("timed out after {after:?} waiting for {what}")]
    Timeout { what: String, after: Duration },
    /// Anything else on the way (a reset connection, a bad URL).
    #[error("{0}")]
    Other(String),
}

/// What the reader task hands to the owner of a [`SimClient`], in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// The server emitted an event to this client.
    Event { name: String, args: Vec<Value> },
    /// The server disconnected the socket (`41`) or closed the transport.
    Closed { reason: String },
}

/// A connected Socket.IO client on the default namespace.
///
/// Dropping it aborts its tasks at once, which to the server looks like a cable pulled out.
/// [`SimClient::leave`] says goodbye first and waits, bounded, until the goodbye is on its way.
#[derive(Debug)]
pub struct SimClient {
    /// The session id the server gave this socket in its CONNECT reply.
    pub sid: String,
    /// What the server announced in its OPEN packet.
    pub open: OpenInfo,
    outgoing: mpsc::UnboundedSender<Message>,
    incoming: mpsc::UnboundedReceiver<Incoming>,
    acks: Arc<Mutex<HashMap<u64, oneshot::Sender<Vec<Value>>>>>,
    next_ack: u64,
    wire: WireLog,
    /// Drains `outgoing` into the socket; ends once it has sent a Close frame.
    writer: JoinHandle<()>,
    /// Reads the socket; ends when the server closes the connection (or it breaks).
    reader: JoinHandle<()>,
}

impl Drop for SimClient {
    fn drop(&mut self) {
        self.writer.abort();
        self.reader.abort();
    }
}

/// The largest WebSocket message (and frame) a simulated client accepts: 1 MiB.
///
/// A WebSocket message can be announced as gigabytes long, and tungstenite would buffer up to
/// its default of 64 MiB before handing it over. The lessons' messages are a few dozen bytes;
/// Socket.IO servers refuse anything over their `maxPayload` (1 MB in Node, 100 kB in
/// socketioxide) from their own clients. A server that sends more is misbehaving, and `check`
/// talks to servers we do not control, so the client stops reading such a message and closes the
/// connection (the trace then says the client was disconnected, with tungstenite's reason).
pub const MAX_MESSAGE_SIZE: usize = 1 << 20;

fn websocket_config() -> tungstenite::protocol::WebSocketConfig {
    tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_SIZE))
        .max_frame_size(Some(MAX_MESSAGE_SIZE))
}

/// Turns `http://host:port` into the WebSocket address of the Engine.IO endpoint.
pub fn websocket_url(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    let base = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_owned()
    };
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let path = if path.ends_with('/') {
        path
    } else {
        format!("{path}/")
    };
    format!("{base}{path}?EIO=4&transport=websocket")
}

impl SimClient {
    /// Connects to the Socket.IO server at `base` (`http://127.0.0.1:3000`) and joins the default
    /// namespace.
    pub async fn connect(base: &str, options: &ConnectOptions) -> Result<Self, ConnectError> {
        if options.query.is_empty() {
            return Self::connect_to(websocket_url(base, &options.path), options).await;
        }
        let query: Vec<(&str, &str)> = options
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Self::connect_with_query(base, options, &query).await
    }

    /// Like [`SimClient::connect`], with extra query parameters on the handshake request, as a
    /// browser's `io({ query: { name: 'alice' } })` sends them. The server sees them in the
    /// first HTTP request of the session (socketioxide: `socket.req_parts().uri`); this is how a
    /// client can introduce itself before any event is exchanged. Keys and values are limited to
    /// letters, digits, `-` and `_`, so nothing needs escaping.
    pub async fn connect_with_query(
        base: &str,
        options: &ConnectOptions,
        query: &[(&str, &str)],
    ) -> Result<Self, ConnectError> {
        let plain = |text: &str| {
            !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        let mut url = websocket_url(base, &options.path);
        for (key, value) in query {
            if !plain(key) || !plain(value) {
                return Err(ConnectError::Other(format!(
                    "query parameter {key:?}={value:?}: only letters, digits, '-' and '_' are allowed"
                )));
            }
            url.push_str(&format!("&{key}={value}"));
        }
        Self::connect_to(url, options).await
    }

    /// The handshake itself, against a complete Engine.IO WebSocket URL.
    async fn connect_to(url: String, options: &ConnectOptions) -> Result<Self, ConnectError> {
        let wire: WireLog = Arc::default();
        let after = options.timeout;
        let step = |what: &str| ConnectError::Timeout {
            what: what.to_owned(),
            after,
        };

        // Step 1: the HTTP request that asks to switch to WebSocket. `true` turns off Nagle's
        // algorithm on our side (see `server::http` for why small frames need that).
        let (mut ws, _response) = match timeout(
            after,
            tokio_tungstenite::connect_async_with_config(url.as_str(), Some(websocket_config()), true),
        )
        .await
        {
            Err(_) => return Err(step(&format!("the WebSocket handshake (HTTP 101) from {url}"))),
            Ok(Err(error)) => return Err(handshake_error(error, &url)),
            Ok(Ok(pair)) => pair,
        };

        // Step 2: the Engine.IO OPEN packet, which the server sends unprompted.
        let first = match timeout(after, ws.next()).await {
            Err(_) => return Err(step("the Engine.IO OPEN packet (0{\"sid\":…})")),
            Ok(None) => return Err(ConnectError::NotEngineIo("<connection closed>".into())),
            Ok(Some(Err(e))) => return Err(ConnectError::Other(e.to_string())),
            Ok(Some(Ok(message))) => message,
        };
        let first = message_text(&first);
        log(&wire, WireDirection::Received, &first);
        let open = match EnginePacket::decode(&first) {
            Ok(EnginePacket::Open(info)) => info,
            _ => return Err(ConnectError::NotEngineIo(first)),
        };

        // Step 3: join the default namespace and wait for the server's answer.
        let connect = SocketPacket::Connect {
            nsp: "/".into(),
            data: options.auth.clone(),
        }
        .to_frame();
        log(&wire, WireDirection::Sent, &connect);
        ws.send(Message::text(connect))
            .await
            .map_err(|e| ConnectError::Other(e.to_string()))?;
        let sid = loop {
            let frame = match timeout(after, ws.next()).await {
                Err(_) => return Err(step("the Socket.IO CONNECT reply (40{\"sid\":…})")),
                Ok(None) => return Err(ConnectError::Other("the server closed the connection".into())),
                Ok(Some(Err(e))) => return Err(ConnectError::Other(e.to_string())),
                Ok(Some(Ok(message))) => message_text(&message),
            };
            log(&wire, WireDirection::Received, &frame);
            match EnginePacket::decode(&frame) {
                // A ping can arrive at any time; answer it even during the handshake.
                Ok(EnginePacket::Ping(data)) => {
                    let pong = EnginePacket::Pong(data).encode();
                    log(&wire, WireDirection::Sent, &pong);
                    ws.send(Message::text(pong))
                        .await
                        .map_err(|e| ConnectError::Other(e.to_string()))?;
                }
                Ok(EnginePacket::Message(text)) => match SocketPacket::decode(&text) {
                    Ok(SocketPacket::Connect { nsp, data }) if nsp == "/" => {
                        let sid = data
                            .as_ref()
                            .and_then(|d| d.get("sid"))
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        break sid.to_owned();
                    }
                    Ok(SocketPacket::ConnectError { data, .. }) => {
                        let message = data.get("message").and_then(Value::as_str).map(str::to_owned);
                        return Err(ConnectError::Refused44(
                            message.unwrap_or_else(|| data.to_string()),
                        ));
                    }
                    _ => return Err(ConnectError::NotEngineIo(frame)),
                },
                _ => return Err(ConnectError::NotEngineIo(frame)),
            }
        };

        Ok(Self::spawn_tasks(ws, sid, open, wire))
    }

    /// Splits the WebSocket in two halves and gives each its own task.
    ///
    /// The writer owns the sending half and drains a channel, so the reader can queue a pong
    /// without holding a lock while it waits for the socket. The reader owns the receiving half
    /// and turns frames into [`Incoming`] items.
    fn spawn_tasks(
        ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
        sid: String,
        open: OpenInfo,
        wire: WireLog,
    ) -> Self {
        let (mut sink, mut stream) = ws.split();
        let (outgoing, mut to_send) = mpsc::unbounded_channel::<Message>();
        let (deliver, incoming) = mpsc::unbounded_channel();
        let acks: Arc<Mutex<HashMap<u64, oneshot::Sender<Vec<Value>>>>> = Arc::default();

        let writer_wire = wire.clone();
        let writer = tokio::spawn(async move {
            while let Some(message) = to_send.recv().await {
                if let Message::Text(text) = &message {
                    log(&writer_wire, WireDirection::Sent, text);
                }
                let closing = matches!(message, Message::Close(_));
                if sink.send(message).await.is_err() || closing {
                    break;
                }
            }
        });

        let reader_wire = wire.clone();
        let pongs = outgoing.clone();
        let reader_acks = acks.clone();
        let reader = tokio::spawn(async move {
            let reason = loop {
                let message = match stream.next().await {
                    None => break "the connection ended".to_owned(),
                    Some(Err(e)) => break format!("transport error: {e}"),
                    Some(Ok(message)) => message,
                };
                let text = match message {
                    Message::Text(text) => text.to_string(),
                    Message::Close(_) => break "the server closed the WebSocket".to_owned(),
                    Message::Binary(bytes) => {
                        log(
                            &reader_wire,
                            WireDirection::Received,
                            &format!("<{} binary bytes>", bytes.len()),
                        );
                        continue;
                    }
                    _ => continue,
                };
                log(&reader_wire, WireDirection::Received, &text);
                match EnginePacket::decode(&text) {
                    // The v4 heartbeat: the server pings, we must pong within pingTimeout or it
                    // drops us. The pong goes through the writer like any other frame.
                    Ok(EnginePacket::Ping(data)) => {
                        let _ = pongs.send(Message::text(EnginePacket::Pong(data).encode()));
                    }
                    Ok(EnginePacket::Close) => break "the server closed the Engine.IO session".to_owned(),
                    Ok(EnginePacket::Message(inner)) => match SocketPacket::decode(&inner) {
                        Ok(SocketPacket::Event { nsp, name, args, .. }) if nsp == "/" => {
                            let _ = deliver.send(Incoming::Event { name, args });
                        }
                        Ok(SocketPacket::Ack { id, args, .. }) => {
                            let waiter = reader_acks.lock().ok().and_then(|mut m| m.remove(&id));
                            if let Some(waiter) = waiter {
                                let _ = waiter.send(args);
                            }
                        }
                        Ok(SocketPacket::Disconnect { nsp }) if nsp == "/" => {
                            break "the server disconnected the socket".to_owned();
                        }
                        // Other namespaces, stray connect packets and binary events are not ours
                        // to interpret; they stay visible under --wire.
                        _ => {}
                    },
                    _ => {}
                }
            };
            let _ = deliver.send(Incoming::Closed { reason });
        });

        Self {
            sid,
            open,
            outgoing,
            incoming,
            acks,
            next_ack: 0,
            wire,
            writer,
            reader,
        }
    }

    /// `socket.emit(name, ...args)`: queues an event for the server.
    pub fn emit(&self, name: &str, args: Vec<Value>) -> Result<(), ConnectError> {
        self.send_frame(SocketPacket::event(name, args).to_frame())
    }

    /// `socket.emit(name, ...args, callback)`: an event whose answer comes back as an ACK packet
    /// with the same id. Returns a receiver that resolves with the server's answer.
    pub fn emit_with_ack(
        &mut self,
        name: &str,
        args: Vec<Value>,
    ) -> Result<oneshot::Receiver<Vec<Value>>, ConnectError> {
        let id = self.next_ack;
        self.next_ack += 1;
        let (tx, rx) = oneshot::channel();
        if let Ok(mut waiting) = self.acks.lock() {
            waiting.insert(id, tx);
        }
        let packet = SocketPacket::Event {
            nsp: "/".into(),
            id: Some(id),
            name: name.into(),
            args,
        };
        self.send_frame(packet.to_frame())?;
        Ok(rx)
    }

    /// Sends an arbitrary text frame. The robustness tests use it to send malformed frames.
    pub fn send_frame(&self, text: String) -> Result<(), ConnectError> {
        self.outgoing
            .send(Message::text(text))
            .map_err(|_| ConnectError::Other("the connection is closed".into()))
    }

    /// Waits for the next item from the server, at most `limit`. `None` means the time ran out.
    pub async fn next(&mut self, limit: Duration) -> Option<Incoming> {
        match timeout(limit, self.incoming.recv()).await {
            Ok(Some(item)) => Some(item),
            Ok(None) => Some(Incoming::Closed {
                reason: "the client's reader stopped".into(),
            }),
            Err(_) => None,
        }
    }

    /// Takes whatever has already arrived, without waiting.
    pub fn try_next(&mut self) -> Option<Incoming> {
        self.incoming.try_recv().ok()
    }

    /// Takes the frames logged since the last call, for `--wire`.
    pub fn take_wire(&self) -> Vec<WireFrame> {
        self.wire
            .lock()
            .map(|mut frames| std::mem::take(&mut *frames))
            .unwrap_or_default()
    }

    /// Queues the two goodbyes (see [`SimClient::leave`]) and returns at once, without knowing
    /// whether they were sent: dropping the client right after may abort the writer before it
    /// sends them. Prefer [`SimClient::leave`] where the caller can wait.
    pub fn disconnect(&self) {
        let _ = self.send_frame(SocketPacket::Disconnect { nsp: "/".into() }.to_frame());
        let _ = self.outgoing.send(Message::Close(None));
    }

    /// Leaves politely, the way `socket.disconnect()` does in a browser, and waits at most
    /// `within` for the goodbye to be complete.
    ///
    /// There are two goodbyes, one per layer:
    ///
    /// 1. `41`, a Socket.IO DISCONNECT for the default namespace: "this socket is leaving". The
    ///    server removes the socket and runs its `socket.on('disconnect')` handlers with the
    ///    reason `client namespace disconnect` (socketioxide: `ClientNSDisconnect`).
    /// 2. A WebSocket Close frame: "this connection is ending". The server answers with its own
    ///    Close frame and then closes the TCP connection.
    ///
    /// Both go through the writer task, in that order, like every frame. The client then waits
    /// for the writer to have sent them and for the reader to see the server's answering Close,
    /// so the server has read the goodbye before the connection goes away. Dropping the client
    /// without this aborts the tasks at once: the frames may never leave, and the server sees a
    /// connection that broke (`transport close` or `transport error`), not a socket that left.
    ///
    /// Events that arrive meanwhile are no longer delivered (nobody is reading them). When the
    /// time runs out, the error says which part of the goodbye was still missing; the client is
    /// closed either way.
    pub async fn leave(mut self, within: Duration) -> Result<(), ConnectError> {
        self.incoming.close();
        self.disconnect();
        let deadline = tokio::time::Instant::now() + within;
        let late = |what: &str| ConnectError::Timeout {
            what: what.to_owned(),
            after: within,
        };
        tokio::time::timeout_at(deadline, &mut self.writer)
            .await
            .map_err(|_| late("our DISCONNECT (41) and WebSocket Close frame to be sent"))?
            .ok();
        tokio::time::timeout_at(deadline, &mut self.reader)
            .await
            .map_err(|_| late("the server's answer to our WebSocket Close frame"))?
            .ok();
        Ok(())
    }
}

fn message_text(message: &Message) -> String {
    match message {
        Message::Text(text) => text.to_string(),
        Message::Binary(bytes) => format!("<{} binary bytes>", bytes.len()),
        other => format!("<{other:?}>"),
    }
}

/// Explains a failed WebSocket handshake in the terms a learner needs.
fn handshake_error(error: tungstenite::Error, url: &str) -> ConnectError {
    match error {
        tungstenite::Error::Http(response) => {
            let status = response.status();
            let body = response
                .body()
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).chars().take(200).collect())
                .unwrap_or_default();
            ConnectError::HttpStatus {
                status: format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("")),
                body,
            }
        }
        tungstenite::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            ConnectError::Refused { addr: authority(url) }
        }
        // The connection ended (or was reset) before any HTTP response came back.
        tungstenite::Error::Protocol(tungstenite::error::ProtocolError::HandshakeIncomplete) => {
            ConnectError::ClosedUnanswered
        }
        tungstenite::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionReset => {
            ConnectError::ClosedUnanswered
        }
        // An HTTP/1.0 server (Python's http.server, for one) answers, but the WebSocket upgrade
        // exists only from HTTP/1.1 on: it is an ordinary web server, not a Socket.IO one.
        tungstenite::Error::Protocol(tungstenite::error::ProtocolError::WrongHttpVersion) => {
            ConnectError::HttpStatus {
                status: "HTTP/1.0 response, too old for WebSocket".to_owned(),
                body: String::new(),
            }
        }
        other => ConnectError::Other(format!("{other}")),
    }
}

/// `ws://127.0.0.1:3000/socket.io/…` → `127.0.0.1:3000`.
pub fn authority(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_engine_io_url() {
        assert_eq!(
            websocket_url("http://127.0.0.1:3000", "/socket.io/"),
            "ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket"
        );
        assert_eq!(
            websocket_url("http://localhost:3000/", "custom"),
            "ws://localhost:3000/custom/?EIO=4&transport=websocket"
        );
        assert_eq!(authority("ws://127.0.0.1:9/socket.io/?EIO=4"), "127.0.0.1:9");
    }
}
