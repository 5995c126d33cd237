//! One Socket.IO socket: what a client knows about one namespace it joined, as a pure state
//! machine (no sockets, no clock).
//!
//! Socket.IO stacks two layers, and so does this client, the way socket.io-client and the
//! servers split them (engine.io-client under socket.io-client's `Manager`, engineioxide under
//! socketioxide). One Engine.IO *session* carries the bytes: transport, heartbeat, upgrade,
//! binary attachments ([`super::receiver`] reads its frames). On top of it live *sockets*, one
//! per namespace: `io('/')` and `io('/admin')` in a page share one session, and each gets its own
//! CONNECT, its own reply, its own events, acks and DISCONNECT, told apart by the namespace
//! written in every packet (`42/admin,["ev"]`; the default namespace `/` is not written:
//! `42["ev"]`).
//!
//! A [`NamespaceSocket`] is that upper layer for one namespace:
//!
//! * **CONNECT and its answer.** The client sends `40/admin,{auth}`; the server answers
//!   `40/admin,{"sid":…}` (the socket exists, with an id of its own: in Node each namespace's
//!   socket has a different id, although they share one session) or CONNECT_ERROR
//!   `44/admin,{"message":…,"data":…}` (a middleware said no, or nobody serves `/admin`).
//! * **Events before the CONNECT reply.** python-socketio runs its `connect` handler *before* it
//!   answers `40{"sid":…}`, so a greeting emitted there arrives first. socket.io-client keeps such
//!   events in a `receiveBuffer` and, the moment the CONNECT reply arrives, delivers them in order
//!   (`onconnect` → `emitBuffered`) before anything that comes after. So does this socket.
//! * **Connection state recovery.** A Node server with `connectionStateRecovery` puts a `pid` in
//!   its CONNECT reply and appends an *offset* string to every packet it could replay later:
//!   `io.emit('hello', 'world')` arrives as `42["hello","world","Q8mepPP"]`. socket.io-client
//!   remembers the last argument as `_lastOffset` whenever it has a `pid` and that argument is a
//!   string, and sends both back when it reconnects. The socket does the same and keeps the
//!   offset apart from the arguments the trace shows. The wire cannot tell an offset from a
//!   string the application sent last (`socket.emit('hello', 'world')`, which Node does not
//!   mark): socket.io-client takes `"world"` as its offset there too, and so does this socket.

use serde_json::Value;

use super::limits::{INCOMING_BYTES, MAX_BUFFERED_BEFORE_CONNECT};
use super::protocol::SocketPacket;
use super::receiver::{Output, Violation};

/// The receiving half of one Socket.IO socket, on one namespace.
#[derive(Debug)]
pub struct NamespaceSocket {
    nsp: String,
    connected: bool,
    pid: Option<String>,
    last_offset: Option<String>,
    before_connect: Vec<(String, Vec<Value>, Option<u64>)>,
    /// Wire bytes of the events in `before_connect`.
    before_connect_bytes: usize,
}

impl NamespaceSocket {
    /// The socket of namespace `nsp` (`"/"` for the default one), before its CONNECT reply.
    pub fn new(nsp: &str) -> Self {
        Self {
            nsp: nsp.to_owned(),
            connected: false,
            pid: None,
            last_offset: None,
            before_connect: Vec::new(),
            before_connect_bytes: 0,
        }
    }

    /// The namespace this socket joined.
    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// The recovery session id from the CONNECT reply, when the server offered recovery.
    pub fn pid(&self) -> Option<&str> {
        self.pid.as_deref()
    }

    /// The last recovery offset received (what a reconnect would send back).
    pub fn last_offset(&self) -> Option<&str> {
        self.last_offset.as_deref()
    }

    /// A complete Socket.IO packet for this namespace, which took `size` bytes on the wire.
    pub fn packet(&mut self, packet: SocketPacket, size: usize) -> Result<Vec<Output>, Violation> {
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
                        "the server sent more than {MAX_BUFFERED_BEFORE_CONNECT} events on {} before its CONNECT reply",
                        self.nsp
                    )));
                }
                if self.before_connect_bytes > INCOMING_BYTES {
                    return Err(Violation(format!(
                        "the server sent more than {} MiB of events on {} before its CONNECT reply",
                        INCOMING_BYTES >> 20,
                        self.nsp
                    )));
                }
                self.before_connect.push((name, args, id));
                vec![Output::Nothing]
            }
            SocketPacket::Ack { id, args, .. } => vec![Output::Ack { id, args }],
            SocketPacket::Disconnect { .. } => vec![Output::Disconnected],
            // Node writes `{"message": err.message, "data": err.data}`, the data only when the
            // middleware's error carries some; socketioxide writes the message alone;
            // python-socketio refuses a namespace it does not serve with a bare string
            // (`44/nobody,"Unable to connect"`), which is the message too.
            SocketPacket::ConnectError { data, .. } => {
                let message = data
                    .get("message")
                    .unwrap_or(&data)
                    .as_str()
                    .map_or_else(|| data.to_string(), str::to_owned);
                vec![Output::Refused {
                    message,
                    data: data.get("data").cloned(),
                }]
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
