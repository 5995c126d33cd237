//! What a client does with each frame it receives, as a pure state machine (no sockets, no clock).
//!
//! The codec in [`super::protocol`] reads one packet at a time. A client needs a little memory on
//! top of that, because a conforming server may legally send things whose meaning depends on
//! what came before:
//!
//! * **Several sockets, one session.** Each namespace the client joined has its own socket
//!   ([`super::socket`]): the CONNECT reply, the events kept until it, the recovery offset. The
//!   receiver reads the namespace written in each packet and hands the packet to its socket.
//! * **Binary packets** (`45x-` / `46x-`) are followed by `x` binary frames; the packet is complete
//!   only with the last one (see [`super::binary`]).
//! * **Namespaces nobody joined** share the connection too: their packets are passed over (the
//!   I/O side still counts them toward its limits), except the answer to a CONNECT, which a round
//!   trip waits for.
//! * **Heartbeats** can come at any moment, even in the middle of a handshake.

use std::collections::BTreeMap;

use serde_json::Value;

use super::binary::fill_placeholders;
use super::limits::{MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, MAX_PING_DATA};
use super::payload::Frame;
use super::protocol::{EnginePacket, OpenInfo, SocketPacket};
use super::socket::NamespaceSocket;

/// What one frame means to the owner of the connection, in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// The server pinged: answer with a pong carrying the same data (`2` → `3`, `2probe` → `3probe`).
    Pong(String),
    /// The server accepted our CONNECT: the socket exists. `pid` is set when the server offers
    /// connection state recovery.
    Connected { sid: String, pid: Option<String> },
    /// The server refused our CONNECT (`44{"message":…}`, Node adds `"data"` when the
    /// middleware's error carries some).
    Refused { message: String, data: Option<Value> },
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
    /// What the socket of another namespace the client joined ([`Receiver::join`]) got: one of
    /// `Connected`, `Refused`, `Event`, `Ack`, `Disconnected`, meaning what it means on `/`.
    On { nsp: String, output: Box<Output> },
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

/// The receiving half of one Socket.IO client: the Engine.IO frames of its session, and the
/// socket of each namespace it joined.
#[derive(Debug)]
pub struct Receiver {
    /// The socket the client connected first (`/` for every client the tutor makes).
    main: NamespaceSocket,
    /// Sockets joined later over the same session, by namespace.
    joined: BTreeMap<String, NamespaceSocket>,
    partial: Option<Partial>,
}

impl Receiver {
    /// A receiver whose first socket is on namespace `nsp` (`"/"` for the default one).
    pub fn new(nsp: &str) -> Self {
        Self {
            main: NamespaceSocket::new(nsp),
            joined: BTreeMap::new(),
            partial: None,
        }
    }

    /// The namespace of the first socket, the one the handshake joined.
    pub fn first_nsp(&self) -> &str {
        self.main.nsp()
    }

    /// Expects a socket on `nsp` from now on: its packets go to its own socket, and its
    /// outputs come wrapped in [`Output::On`]. Called before the CONNECT is sent, so no answer
    /// can overtake it. Joining the main namespace, or one already joined, changes nothing.
    pub fn join(&mut self, nsp: &str) {
        if nsp != self.main.nsp() && !self.joined.contains_key(nsp) {
            self.joined.insert(nsp.to_owned(), NamespaceSocket::new(nsp));
        }
    }

    /// Stops expecting a socket on `nsp` (it left, or was refused): its packets are passed
    /// over again, as for any namespace nobody joined.
    pub fn forget(&mut self, nsp: &str) {
        self.joined.remove(nsp);
    }

    /// The namespaces joined besides the main one.
    pub fn joined(&self) -> impl Iterator<Item = &str> {
        self.joined.keys().map(String::as_str)
    }

    /// The recovery session id from the main socket's CONNECT reply, when the server offered
    /// recovery.
    pub fn pid(&self) -> Option<&str> {
        self.main.pid()
    }

    /// The last recovery offset the main socket received (what a reconnect would send back).
    pub fn last_offset(&self) -> Option<&str> {
        self.main.last_offset()
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

    /// A complete Socket.IO packet that took `size` bytes on the wire: to the socket of its
    /// namespace, if the client has one there.
    fn packet(&mut self, packet: SocketPacket, size: usize) -> Result<Vec<Output>, Violation> {
        let nsp = match &packet {
            SocketPacket::Connect { nsp, .. }
            | SocketPacket::Disconnect { nsp }
            | SocketPacket::Event { nsp, .. }
            | SocketPacket::Ack { nsp, .. }
            | SocketPacket::ConnectError { nsp, .. } => nsp.clone(),
        };
        if nsp == self.main.nsp() {
            return self.main.packet(packet, size);
        }
        if let Some(socket) = self.joined.get_mut(&nsp) {
            let outputs = socket.packet(packet, size)?;
            return Ok(outputs
                .into_iter()
                .map(|output| match output {
                    Output::Nothing => Output::Nothing,
                    output => Output::On {
                        nsp: nsp.clone(),
                        output: Box::new(output),
                    },
                })
                .collect());
        }
        Ok(vec![match packet {
            SocketPacket::Connect { nsp, .. } => Output::Answered { nsp, accepted: true },
            SocketPacket::ConnectError { nsp, .. } => Output::Answered { nsp, accepted: false },
            _ => Output::Nothing,
        }])
    }
}

#[cfg(test)]
mod tests;
