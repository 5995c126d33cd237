//! What a client does with each frame it receives, as a pure state machine (no sockets, no clock).
//!
//! The codec in [`super::protocol`] reads one packet at a time. A client needs a little memory on
//! top of that, because a conforming server may legally send things whose meaning depends on
//! what came before:
//!
//! * **Events before the CONNECT reply.** python-socketio runs its `connect` handler *before* it
//!   answers `40{"sid":…}`, so a greeting emitted there arrives first. socket.io-client keeps such
//!   events in a `receiveBuffer` and, the moment the CONNECT reply arrives, delivers them in order
//!   (`onconnect` → `emitBuffered`) before anything that comes after. So does this receiver.
//! * **Connection state recovery.** A Node server with `connectionStateRecovery` puts a `pid` in
//!   its CONNECT reply and appends an *offset* string to every packet it could replay later:
//!   `io.emit('hello', 'world')` arrives as `42["hello","world","Q8mepPP"]`. socket.io-client
//!   remembers the last argument as `_lastOffset` whenever it has a `pid` and that argument is a
//!   string, and sends both back when it reconnects. The receiver does the same and keeps the
//!   offset apart from the arguments the trace shows. The wire cannot tell an offset from a
//!   string the application sent last (`socket.emit('hello', 'world')`, which Node does not
//!   mark): socket.io-client takes `"world"` as its offset there too, and so does this receiver.
//! * **Binary packets** (`45x-` / `46x-`) are followed by `x` binary frames; the packet is complete
//!   only with the last one (see [`super::binary`]).
//! * **Other namespaces** share the connection: their packets are not for this socket, and are
//!   passed over (the I/O side still counts them toward its limits).
//! * **Heartbeats** can come at any moment, even in the middle of a handshake.

use serde_json::Value;

use super::binary::fill_placeholders;
use super::limits::{
    INCOMING_BYTES, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, MAX_BUFFERED_BEFORE_CONNECT, MAX_PING_DATA,
};
use super::payload::Frame;
use super::protocol::{EnginePacket, OpenInfo, SocketPacket};

/// What one frame means to the owner of the connection, in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// The server pinged: answer with a pong carrying the same data (`2` → `3`, `2probe` → `3probe`).
    Pong(String),
    /// The server accepted our CONNECT: the socket exists. `pid` is set when the server offers
    /// connection state recovery.
    Connected { sid: String, pid: Option<String> },
    /// The server refused our CONNECT (`44{"message":…}`).
    Refused(String),
    /// An event for our namespace, arguments without any recovery offset. `ack` is the id the
    /// server attached when it asked for an answer (`421[…]`, from `emitWithAck`): the client
    /// answers with an ACK packet carrying the same id (`431[…]`), or never.
    Event {
        name: String,
        args: Vec<Value>,
        ack: Option<u64>,
    },
    /// The answer to one of our events that asked for an acknowledgement.
    Ack { id: u64, args: Vec<Value> },
    /// The server disconnected our socket (`41`).
    Disconnected,
    /// The server closed the Engine.IO session (`1`).
    Closed,
    /// An OPEN packet after the handshake: only meaningful as a session's first frame.
    Open(OpenInfo),
    /// The server answered a CONNECT for another namespace: `44/nsp,{…}` (refused, the usual
    /// answer for a namespace nobody serves) or `40/nsp,{…}` (accepted). A round trip like this
    /// is what [`super::SimClient::round_trip`] waits for.
    Answered { nsp: String, accepted: bool },
    /// Nothing for the owner: a no-op, a pong, a packet for another namespace, an attachment that
    /// does not complete its packet yet.
    Nothing,
}

/// A frame no conforming server sends at this point, said in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Violation(pub String);

/// A binary packet still waiting for some of its attachments.
#[derive(Debug)]
struct Partial {
    packet: SocketPacket,
    expected: usize,
    frames: Vec<Vec<u8>>,
    bytes: usize,
}

/// The receiving half of one Socket.IO client on one namespace.
#[derive(Debug)]
pub struct Receiver {
    nsp: String,
    connected: bool,
    pid: Option<String>,
    last_offset: Option<String>,
    before_connect: Vec<(String, Vec<Value>, Option<u64>)>,
    /// Wire bytes of the events in `before_connect`.
    before_connect_bytes: usize,
    partial: Option<Partial>,
}

impl Receiver {
    /// A receiver for the socket of namespace `nsp` (`"/"` for the default one).
    pub fn new(nsp: &str) -> Self {
        Self {
            nsp: nsp.to_owned(),
            connected: false,
            pid: None,
            last_offset: None,
            before_connect: Vec::new(),
            before_connect_bytes: 0,
            partial: None,
        }
    }

    /// The recovery session id from the CONNECT reply, when the server offered recovery.
    pub fn pid(&self) -> Option<&str> {
        self.pid.as_deref()
    }

    /// The last recovery offset received (what a reconnect would send back).
    pub fn last_offset(&self) -> Option<&str> {
        self.last_offset.as_deref()
    }

    /// True while a binary packet waits for attachments; the I/O side bounds how long.
    pub fn awaiting_attachments(&self) -> Option<(usize, usize)> {
        self.partial.as_ref().map(|p| (p.frames.len(), p.expected))
    }

    /// Takes one frame and says what it means. Several outputs come at once only when the
    /// CONNECT reply releases events that arrived before it.
    pub fn receive(&mut self, frame: &Frame) -> Result<Vec<Output>, Violation> {
        match frame {
            Frame::Binary(bytes) => self.attachment(bytes),
            Frame::Text(text) => self.text(text),
        }
    }

    fn text(&mut self, text: &str) -> Result<Vec<Output>, Violation> {
        let packet = EnginePacket::decode(text)
            .map_err(|e| Violation(format!("{text:?} is not an Engine.IO packet ({e})")))?;
        Ok(vec![match packet {
            // Refused before it is answered: a pong echoes its ping's data, so an oversized
            // ping is memory the server could make us queue.
            EnginePacket::Ping(data) if data.len() > MAX_PING_DATA => {
                return Err(Violation(format!(
                    "a ping carrying {} bytes (a heartbeat carries none, an upgrade probe the word probe; \
                     the client echoes at most {MAX_PING_DATA})",
                    data.len()
                )));
            }
            EnginePacket::Ping(data) => Output::Pong(data),
            EnginePacket::Close => Output::Closed,
            EnginePacket::Open(info) => Output::Open(info),
            EnginePacket::Pong(_) | EnginePacket::Upgrade | EnginePacket::Noop => Output::Nothing,
            EnginePacket::Message(inner) => {
                // A binary packet's attachments follow it directly. Engine.IO packets may still
                // come in between (the heartbeat runs on its own timer), but a Socket.IO packet
                // there would leave no way to tell which packet the next attachment belongs to.
                if self.partial.is_some() {
                    return Err(Violation(format!(
                        "{text:?} arrived while a binary packet still waited for its attachments"
                    )));
                }
                let (packet, attachments) = SocketPacket::decode_with_attachments(&inner)
                    .map_err(|e| Violation(format!("{text:?} is not a Socket.IO packet ({e})")))?;
                if attachments > 0 {
                    if attachments > MAX_ATTACHMENTS {
                        return Err(Violation(format!(
                            "a binary packet announced {attachments} attachments; the client accepts at most {MAX_ATTACHMENTS}"
                        )));
                    }
                    self.partial = Some(Partial {
                        packet,
                        expected: attachments,
                        frames: Vec::new(),
                        bytes: 0,
                    });
                    return Ok(vec![Output::Nothing]);
                }
                return self.packet(packet, text.len());
            }
        }])
    }

    fn attachment(&mut self, bytes: &[u8]) -> Result<Vec<Output>, Violation> {
        let Some(partial) = self.partial.as_mut() else {
            return Err(Violation(format!(
                "a binary frame of {} bytes arrived that no binary packet announced",
                bytes.len()
            )));
        };
        partial.bytes += bytes.len();
        if partial.bytes > MAX_ATTACHMENT_BYTES {
            return Err(Violation(format!(
                "the attachments of one binary packet passed {MAX_ATTACHMENT_BYTES} bytes"
            )));
        }
        partial.frames.push(bytes.to_vec());
        if partial.frames.len() < partial.expected {
            return Ok(vec![Output::Nothing]);
        }
        let Partial {
            mut packet,
            frames,
            bytes,
            ..
        } = self.partial.take().expect("checked above");
        let args = match &mut packet {
            SocketPacket::Event { args, .. } | SocketPacket::Ack { args, .. } => args,
            _ => unreachable!("only events and acks carry attachments"),
        };
        for arg in args.iter_mut() {
            fill_placeholders(arg, &frames).map_err(|e| Violation(e.to_string()))?;
        }
        self.packet(packet, bytes)
    }

    /// A complete Socket.IO packet that took `size` bytes on the wire.
    fn packet(&mut self, packet: SocketPacket, size: usize) -> Result<Vec<Output>, Violation> {
        let ours = match &packet {
            SocketPacket::Connect { nsp, .. }
            | SocketPacket::Disconnect { nsp }
            | SocketPacket::Event { nsp, .. }
            | SocketPacket::Ack { nsp, .. }
            | SocketPacket::ConnectError { nsp, .. } => *nsp == self.nsp,
        };
        if !ours {
            return Ok(vec![match packet {
                SocketPacket::Connect { nsp, .. } => Output::Answered { nsp, accepted: true },
                SocketPacket::ConnectError { nsp, .. } => Output::Answered { nsp, accepted: false },
                _ => Output::Nothing,
            }]);
        }
        Ok(match packet {
            SocketPacket::Connect { data, .. } => {
                let field = |name: &str| {
                    data.as_ref()
                        .and_then(|d| d.get(name))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                };
                let Some(sid) = field("sid") else {
                    // socket.io-client says the same: a CONNECT without sid is a v2 server.
                    return Err(Violation(
                        "the CONNECT reply carries no sid (a Socket.IO v2 server answers like that; this client speaks v5)".into(),
                    ));
                };
                self.connected = true;
                self.pid = field("pid");
                // Connected first, then the events kept until now, in arrival order: the owner
                // learns the socket exists before it hears what was said on it.
                let mut out = vec![Output::Connected {
                    sid,
                    pid: self.pid.clone(),
                }];
                for (name, args, ack) in std::mem::take(&mut self.before_connect) {
                    out.push(self.event(name, args, ack));
                }
                out
            }
            SocketPacket::Event { name, args, id, .. } if self.connected => vec![self.event(name, args, id)],
            // Not connected yet: kept until the CONNECT reply, as socket.io-client keeps them (see
            // the module doc), and bounded in count and bytes, since the reply may never come.
            SocketPacket::Event { name, args, id, .. } => {
                self.before_connect_bytes += size;
                if self.before_connect.len() >= MAX_BUFFERED_BEFORE_CONNECT {
                    return Err(Violation(format!(
                        "the server sent more than {MAX_BUFFERED_BEFORE_CONNECT} events before its CONNECT reply"
                    )));
                }
                if self.before_connect_bytes > INCOMING_BYTES {
                    return Err(Violation(format!(
                        "the server sent more than {} MiB of events before its CONNECT reply",
                        INCOMING_BYTES >> 20
                    )));
                }
                self.before_connect.push((name, args, id));
                vec![Output::Nothing]
            }
            SocketPacket::Ack { id, args, .. } => vec![Output::Ack { id, args }],
            SocketPacket::Disconnect { .. } => vec![Output::Disconnected],
            SocketPacket::ConnectError { data, .. } => {
                let message = data.get("message").and_then(Value::as_str).map(str::to_owned);
                vec![Output::Refused(message.unwrap_or_else(|| data.to_string()))]
            }
        })
    }

    /// Delivers an event, taking off the recovery offset exactly when socket.io-client does.
    fn event(&mut self, name: String, mut args: Vec<Value>, ack: Option<u64>) -> Output {
        if self.pid.is_some()
            && let Some(Value::String(_)) = args.last()
            && let Some(Value::String(offset)) = args.pop()
        {
            self.last_offset = Some(offset);
        }
        Output::Event { name, args, ack }
    }
}

#[cfg(test)]
mod tests;
