//! The Engine.IO v4 and Socket.IO v5 packet formats, as pure functions over strings.
//!
//! Nothing in this file touches a socket. That is deliberate: the wire format is the part of
//! Socket.IO that is easiest to get subtly wrong, and pure functions can be tested against literal
//! frames (see `protocol/tests.rs`) without starting anything.
//!
//! # Two layers in one WebSocket frame
//!
//! A Socket.IO connection is two protocols stacked on each other:
//!
//! * **Engine.IO** is the transport. Every WebSocket text frame carries exactly one Engine.IO
//!   packet: a single digit for its type, then its data. `0` opens the session (the server sends
//!   its configuration as JSON), `2`/`3` are the heartbeat (in v4 the *server* pings and the client
//!   must pong), and `4` carries a message for the layer above.
//! * **Socket.IO** lives inside Engine.IO `4` messages. Its packets also start with a type digit
//!   (`0` CONNECT, `2` EVENT, `3` ACK, …), optionally followed by a namespace such as `/admin,`, an
//!   acknowledgement id, and a JSON payload.
//!
//! So `42["chat message","hi"]` reads as: Engine.IO *message* (`4`) containing a Socket.IO *event*
//! (`2`) on the default namespace `/`, whose JSON array holds the event name and its arguments.

use serde::Deserialize;
use serde_json::Value;

/// Why a frame could not be understood: no frame at all, an unknown type digit, or a payload
/// that is not the JSON its type calls for. The variants keep those apart so the tests can
/// say exactly which mistake a malformed frame is. The simulated client itself needs less: where
/// it expects an OPEN packet or a CONNECT reply, any frame that does not decode as one is "not
/// Engine.IO", and it reports the frame itself (`ConnectError::NotEngineIo`) rather than the
/// reason, because the frame is what tells a learner what kind of server answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The frame was empty: every Engine.IO packet has at least a type digit.
    #[error("empty frame")]
    Empty,
    /// The first character is not one of the known packet types.
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    /// The payload that should be JSON is not, or has the wrong shape.
    #[error("invalid payload: {0}")]
    InvalidPayload(String),
}

/// The session parameters a server announces in its Engine.IO OPEN packet.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenInfo {
    /// The Engine.IO session id.
    pub sid: String,
    /// Transports the client may upgrade to; empty once we are already on WebSocket.
    #[serde(default)]
    pub upgrades: Vec<String>,
    /// How often (ms) the server will ping us.
    pub ping_interval: u64,
    /// How long (ms) the server waits for our pong before it drops the connection.
    pub ping_timeout: u64,
    /// The largest payload (bytes) the server accepts.
    #[serde(default)]
    pub max_payload: Option<u64>,
}

/// One Engine.IO packet: the unit of one WebSocket text frame.
#[derive(Debug, Clone, PartialEq)]
pub enum EnginePacket {
    /// `0{...}`: the server opens the session.
    Open(OpenInfo),
    /// `1`: the session is closing.
    Close,
    /// `2`: the server's heartbeat; answer it with a [`EnginePacket::Pong`] carrying the same data.
    Ping(String),
    /// `3`: the answer to a ping.
    Pong(String),
    /// `4…`: a message for the Socket.IO layer.
    Message(String),
    /// `5`: transport upgrade (only used when upgrading from HTTP long-polling).
    Upgrade,
    /// `6`: no operation (also a long-polling leftover).
    Noop,
}

impl EnginePacket {
    // ANCHOR: engine_decode
    /// Reads one Engine.IO packet from the text of one WebSocket frame.
    pub fn decode(frame: &str) -> Result<Self, DecodeError> {
        let mut chars = frame.chars();
        let kind = chars.next().ok_or(DecodeError::Empty)?;
        let data = chars.as_str();
        Ok(match kind {
            '0' => Self::Open(
                serde_json::from_str(data)
                    .map_err(|e| DecodeError::InvalidPayload(format!("open packet: {e}")))?,
            ),
            '1' => Self::Close,
            '2' => Self::Ping(data.to_owned()),
            '3' => Self::Pong(data.to_owned()),
            '4' => Self::Message(data.to_owned()),
            '5' => Self::Upgrade,
            '6' => Self::Noop,
            other => return Err(DecodeError::UnknownType(other)),
        })
    }
    // ANCHOR_END: engine_decode

    /// Writes the packet as the text of one WebSocket frame. A client only ever sends pongs,
    /// messages and (rarely) a close, but every variant is encodable so tests can round-trip.
    pub fn encode(&self) -> String {
        match self {
            Self::Open(info) => format!(
                "0{}",
                serde_json::json!({
                    "sid": info.sid,
                    "upgrades": info.upgrades,
                    "pingInterval": info.ping_interval,
                    "pingTimeout": info.ping_timeout,
                    "maxPayload": info.max_payload,
                })
            ),
            Self::Close => "1".to_owned(),
            Self::Ping(data) => format!("2{data}"),
            Self::Pong(data) => format!("3{data}"),
            Self::Message(data) => format!("4{data}"),
            Self::Upgrade => "5".to_owned(),
            Self::Noop => "6".to_owned(),
        }
    }
}

/// One Socket.IO packet, the content of an Engine.IO message.
///
/// Binary packets (types 5 and 6) decode to the same [`SocketPacket::Event`] and
/// [`SocketPacket::Ack`], through [`SocketPacket::decode_with_attachments`], which also says how
/// many binary frames follow; their placeholders are filled in by [`super::binary`].
/// [`SocketPacket::decode`] keeps to text packets and refuses a binary one, so a caller that
/// cannot wait for attachments cannot misread it either.
#[derive(Debug, Clone, PartialEq)]
pub enum SocketPacket {
    /// `0`: the client asks to join a namespace; the server answers with the same type carrying
    /// `{"sid": …}` once the socket exists.
    Connect { nsp: String, data: Option<Value> },
    /// `1`: leave the namespace.
    Disconnect { nsp: String },
    /// `2`: an event. `args[0]` on the wire is the name, kept apart here.
    Event {
        nsp: String,
        id: Option<u64>,
        name: String,
        args: Vec<Value>,
    },
    /// `3`: the answer to an event that carried an acknowledgement id.
    Ack { nsp: String, id: u64, args: Vec<Value> },
    /// `4`: the server refused the CONNECT (for instance an unknown namespace).
    ConnectError { nsp: String, data: Value },
}

impl SocketPacket {
    /// Convenience for the most common packet: an event on the default namespace.
    pub fn event(name: impl Into<String>, args: Vec<Value>) -> Self {
        Self::Event {
            nsp: "/".to_owned(),
            id: None,
            name: name.into(),
            args,
        }
    }

    /// Reads a Socket.IO packet from the data of an Engine.IO message (the text after the `4`).
    ///
    /// The layout is `<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]`.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        if text.starts_with(['5', '6']) {
            return Err(DecodeError::InvalidPayload(
                "a binary packet needs its attachments: use decode_with_attachments".to_owned(),
            ));
        }
        Self::decode_with_attachments(text).map(|(packet, _)| packet)
    }

    /// Reads any Socket.IO packet, binary ones included, and says how many binary attachments
    /// follow it.
    ///
    /// A binary event is written `5<n>-[...]`: `n` attachments, a dash, then the usual
    /// namespace, ack id and JSON, in which each binary value is replaced by a placeholder
    /// `{"_placeholder":true,"num":i}`. The `n` binary frames come right after, in order. A
    /// binary event decodes to [`SocketPacket::Event`] and a binary ack (`6<n>-`) to
    /// [`SocketPacket::Ack`], placeholders still inside; `0` attachments for every text packet.
    pub fn decode_with_attachments(text: &str) -> Result<(Self, usize), DecodeError> {
        let mut chars = text.chars();
        let kind = chars.next().ok_or(DecodeError::Empty)?;
        let mut rest = chars.as_str();
        let mut attachments = 0;
        if matches!(kind, '5' | '6') {
            let Some((count, after)) = rest.split_once('-') else {
                return Err(DecodeError::InvalidPayload(
                    "a binary packet needs its attachment count and a '-'".into(),
                ));
            };
            attachments = count
                .parse::<usize>()
                .map_err(|_| DecodeError::InvalidPayload(format!("attachment count {count:?}")))?;
            rest = after;
        }
        // The namespace is only written when it is not "/", and then it ends with a comma.
        let nsp = if rest.starts_with('/') {
            match rest.find(',') {
                Some(end) => {
                    let nsp = &rest[..end];
                    rest = &rest[end + 1..];
                    nsp.to_owned()
                }
                None => {
                    let nsp = rest.to_owned();
                    rest = "";
                    nsp
                }
            }
        } else {
            "/".to_owned()
        };
        // An acknowledgement id is a run of digits right before the JSON.
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let id = if digits > 0 {
            let id = rest[..digits]
                .parse::<u64>()
                .map_err(|e| DecodeError::InvalidPayload(format!("ack id: {e}")))?;
            rest = &rest[digits..];
            Some(id)
        } else {
            None
        };
        let json = || -> Result<Value, DecodeError> {
            serde_json::from_str(rest).map_err(|e| DecodeError::InvalidPayload(e.to_string()))
        };
        let packet = match kind {
            '0' => Self::Connect {
                nsp,
                data: if rest.is_empty() { None } else { Some(json()?) },
            },
            '1' => Self::Disconnect { nsp },
            '2' | '5' => {
                let Value::Array(mut items) = json()? else {
                    return Err(DecodeError::InvalidPayload(
                        "an event must be a JSON array".into(),
                    ));
                };
                if items.is_empty() {
                    return Err(DecodeError::InvalidPayload("an event needs a name".into()));
                }
                let Value::String(name) = items.remove(0) else {
                    return Err(DecodeError::InvalidPayload(
                        "an event name must be a string".into(),
                    ));
                };
                Self::Event {
                    nsp,
                    id,
                    name,
                    args: items,
                }
            }
            '3' | '6' => {
                let id = id.ok_or_else(|| DecodeError::InvalidPayload("an ack needs an id".into()))?;
                let Value::Array(args) = json()? else {
                    return Err(DecodeError::InvalidPayload("an ack must be a JSON array".into()));
                };
                Self::Ack { nsp, id, args }
            }
            '4' => Self::ConnectError {
                nsp,
                data: if rest.is_empty() { Value::Null } else { json()? },
            },
            other => return Err(DecodeError::UnknownType(other)),
        };
        Ok((packet, attachments))
    }

    /// Writes the packet in Socket.IO form (without the Engine.IO `4`; see [`to_frame`]).
    ///
    /// [`to_frame`]: SocketPacket::to_frame
    pub fn encode(&self) -> String {
        // The namespace prefix is omitted for "/", exactly as the reference client does.
        fn prefix(kind: char, nsp: &str) -> String {
            if nsp == "/" {
                kind.to_string()
            } else {
                format!("{kind}{nsp},")
            }
        }
        fn array(first: Option<&str>, args: &[Value]) -> String {
            let items: Vec<Value> = first
                .map(|n| Value::String(n.to_owned()))
                .into_iter()
                .chain(args.iter().cloned())
                .collect();
            Value::Array(items).to_string()
        }
        match self {
            Self::Connect { nsp, data } => {
                let mut out = prefix('0', nsp);
                if let Some(data) = data {
                    out.push_str(&data.to_string());
                }
                out
            }
            Self::Disconnect { nsp } => prefix('1', nsp),
            Self::Event { nsp, id, name, args } => {
                let id = id.map(|i| i.to_string()).unwrap_or_default();
                format!("{}{id}{}", prefix('2', nsp), array(Some(name), args))
            }
            Self::Ack { nsp, id, args } => format!("{}{id}{}", prefix('3', nsp), array(None, args)),
            Self::ConnectError { nsp, data } => format!("{}{data}", prefix('4', nsp)),
        }
    }

    /// The whole WebSocket frame text: the Engine.IO `4` followed by this packet.
    pub fn to_frame(&self) -> String {
        EnginePacket::Message(self.encode()).encode()
    }
}

#[cfg(test)]
mod tests;
