//! What the owner of a simulated client chooses when it connects: the options of
//! `io(url, options)` that the lessons and `check` need.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::engine::link::Transport;
use super::limits::INCOMING_BYTES;

/// How to reach the server, and how to speak to it: the options of `io(url, options)` that the
/// lessons and `check` need.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Where Socket.IO is mounted. `/socket.io/` is the default on every server.
    pub path: String,
    /// The longest we wait for each handshake step.
    pub timeout: Duration,
    /// Extra query parameters on every request of the session, as `io({ query: { … } })` sends
    /// them. The server reads them from the handshake request.
    pub query: Vec<(String, String)>,
    /// The CONNECT packet's payload, as `io({ auth: { token } })` sends it: `40{"token":…}`.
    pub auth: Option<Value>,
    /// The transports to use, in order, named as socket.io-client names them. The first one
    /// opens the session; `polling` followed by `websocket` upgrades once connected. The default
    /// `[polling, websocket]` is what `io()` does; `[websocket]` skips polling altogether.
    pub transports: Vec<Transport>,
    /// Keep the frames for `--wire` ([`SimClient::take_wire`](super::SimClient::take_wire)). Off
    /// by default: a log nobody will read is memory for nothing.
    pub record_wire: bool,
    /// How the client answers when the *server* asks for an acknowledgement, per event name.
    ///
    /// The round trip, when the server runs `socket.timeout(300).emitWithAck('question', 'ready?')`:
    ///
    /// 1. The server sends the event with an ack id after the packet type: `421["question","ready?"]`
    ///    (`42` is an EVENT, `1` the id the server will recognise the answer by).
    /// 2. In the browser, the listener `socket.on('question', (q, callback) => callback('yes'))`
    ///    gets a `callback` as its last argument; calling it sends an ACK packet with the same
    ///    id: `431["yes"]`. The server's promise resolves with `"yes"`.
    /// 3. A listener that never calls its callback (or no listener at all) sends nothing. The
    ///    protocol has no "I will not answer" packet, so only the server's timer ends its wait.
    ///
    /// An entry `("question", ["yes"])` makes this client answer every `question` that asks,
    /// at once, with those arguments; an event not listed is never answered. The client still
    /// delivers the event to its owner either way. Empty by default: no answers.
    pub answers: BTreeMap<String, Vec<Value>>,
    /// How many bytes of events may wait for the owner to read them, each counted at its wire
    /// size plus its decoded size; the reader stops reading the connection while they are full.
    /// [`INCOMING_BYTES`] (2 MiB) by default. An owner that reads each event at once and keeps
    /// nothing of it, as a `serve` bot does, can ask for less: what it does not hold waits in
    /// TCP's buffers instead. An event larger than the whole budget is still delivered, alone.
    pub incoming_bytes: usize,
    /// The namespace the handshake's CONNECT joins: `"/"` for `io(url)`, `"/admin"` for
    /// `io(url + '/admin')`. socket.io-client (v3 and later) joins only the namespace it is
    /// given, so a client made with `io('/admin')` has no socket on `/` at all: `io.emit` on the
    /// server does not reach it. More namespaces join the same session later
    /// ([`SimClient::join_namespace`](super::SimClient::join_namespace)).
    pub namespace: String,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            path: "/socket.io/".to_owned(),
            timeout: Duration::from_secs(3),
            query: Vec::new(),
            auth: None,
            transports: vec![Transport::Polling, Transport::WebSocket],
            record_wire: false,
            answers: BTreeMap::new(),
            incoming_bytes: INCOMING_BYTES,
            namespace: "/".to_owned(),
        }
    }
}

impl ConnectOptions {
    /// The default options with `transports: ['websocket']`.
    pub fn websocket_only() -> Self {
        Self {
            transports: vec![Transport::WebSocket],
            ..Self::default()
        }
    }
}
