//! One simulated client: its options, its errors, and the [`SimClient`] its owner talks to once
//! the handshake ([`super::handshake`]) has connected it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::timeout;

use super::handshake::Session;
pub use super::limits::MAX_MESSAGE_SIZE;
use super::limits::{INCOMING_BYTES, INCOMING_ITEMS, OUTGOING_FRAMES};
use super::link::Link;
pub use super::link::Transport;
use super::protocol::{OpenInfo, SocketPacket};
use super::tasks::{self, Acks, Inbound, Item, Out, Usage};
use super::wire::WireLog;
pub use super::wire::{WireDirection, WireFrame};

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
    /// Keep the frames for `--wire` ([`SimClient::take_wire`]). Off by default: a log nobody will
    /// read is memory for nothing.
    pub record_wire: bool,
    /// How the client answers when the *server* asks for an acknowledgement, per event name.
    ///
    /// The round trip, when the server runs `socket.timeout(100).emitWithAck('question', 'ready?')`:
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

/// Why a connection did not become a Socket.IO socket. Each variant says which step failed, so
/// a lesson can show the exact point where "nothing listens" differs from "nothing speaks
/// Socket.IO here".
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The TCP connection was refused: no process listens on that port.
    #[error("connection refused: nothing is listening on {addr}")]
    Refused { addr: String },
    /// The server answered the handshake with an ordinary HTTP response: not `101 Switching
    /// Protocols` to a WebSocket request, or not `200` with an OPEN packet to a polling GET.
    #[error("the server answered {status} to the Engine.IO handshake request")]
    HttpStatus { status: String, body: String },
    /// The server closed the connection without answering the WebSocket request at all. A Node
    /// server does that when it handles WebSocket upgrades, but not at this path: Socket.IO
    /// attached with another `path` option, for example, drops upgrades meant for other paths.
    #[error("the server closed the connection without answering the WebSocket request")]
    ClosedUnanswered,
    /// The transport opened (a WebSocket, or a polling GET answered `200`), but what came first
    /// was not an Engine.IO OPEN packet. A valid Engine.IO server never does this: its first
    /// packet on a new session is always the OPEN.
    #[error("the server did not speak Engine.IO: its first frame was {0:?}, not an OPEN packet")]
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
    /// The socket id the server gave this socket in its CONNECT reply (`40{"sid":…}`). It is not
    /// the Engine.IO session id, which is `open.sid`; socketioxide happens to use one value for
    /// both, Node's socket.io does not.
    pub sid: String,
    /// What the server announced in its OPEN packet.
    pub open: OpenInfo,
    transport: Transport,
    pid: Option<String>,
    offset: Arc<Mutex<Option<String>>>,
    outgoing: mpsc::Sender<Out>,
    incoming: mpsc::Receiver<Item>,
    acks: Acks,
    next_ack: u64,
    wire: WireLog,
    usage: Arc<Usage>,
    /// Drains `outgoing` into the transport; ends once it has sent the goodbye.
    writer: JoinHandle<()>,
    /// Reads the transport; ends when the server closes the session (or it breaks).
    reader: JoinHandle<()>,
}

impl Drop for SimClient {
    fn drop(&mut self) {
        self.writer.abort();
        self.reader.abort();
    }
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
    format!("{base}{}", engine_target(path, Transport::WebSocket))
}

/// The request target (path and query) of an Engine.IO handshake: `/socket.io/?EIO=4&transport=…`.
pub fn engine_target(path: &str, transport: Transport) -> String {
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
    format!("{path}?EIO=4&transport={transport}")
}

impl SimClient {
    /// Connects to the Socket.IO server at `base` (`http://127.0.0.1:3000`) and joins the default
    /// namespace, over the transports `options` names (see [`super::handshake`] for the steps).
    pub async fn connect(base: &str, options: &ConnectOptions) -> Result<Self, ConnectError> {
        let (link, session) = super::handshake::handshake(base, options).await?;
        Ok(Self::spawn_tasks(link, session, options.answers.clone()))
    }

    /// Like [`SimClient::connect`], with extra query parameters on the handshake request, as a
    /// browser's `io({ query: { name: 'alice' } })` sends them. The server sees them in the
    /// first HTTP request of the session (socketioxide: `socket.req_parts().uri`); this is how a
    /// client can introduce itself before any event is exchanged. Keys and values are
    /// percent-encoded.
    pub async fn connect_with_query(
        base: &str,
        options: &ConnectOptions,
        query: &[(&str, &str)],
    ) -> Result<Self, ConnectError> {
        let mut options = options.clone();
        options
            .query
            .extend(query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        Self::connect(base, &options).await
    }

    /// Splits the connected transport into a reader task and a writer task (see [`tasks`]).
    fn spawn_tasks(link: Link, session: Session, answers: BTreeMap<String, Vec<Value>>) -> Self {
        let Session {
            sid,
            pid,
            open,
            receiver,
            early,
            wire,
            usage,
            after,
        } = session;
        let transport = link.transport();
        let (outgoing, queue) = mpsc::channel::<Out>(OUTGOING_FRAMES);
        let (deliver, incoming) = mpsc::channel::<Item>(INCOMING_ITEMS);
        let acks: Acks = Arc::default();
        let offset = Arc::new(Mutex::new(receiver.last_offset().map(str::to_owned)));
        let mut inbound = Inbound {
            receiver,
            deliver,
            room: Arc::new(Semaphore::new(INCOMING_BYTES)),
            acks: acks.clone(),
            out: outgoing.clone(),
            wire: wire.clone(),
            usage: usage.clone(),
            offset: offset.clone(),
            attachments_due: None,
            answers,
        };
        let (writer, reader) = match link {
            Link::WebSocket(ws) => {
                let (sink, stream) = (*ws).split();
                let writer = tokio::spawn(tasks::write_websocket(sink, queue, wire.clone()));
                let reader = tokio::spawn(async move {
                    for output in early {
                        if let Err(reason) = inbound.output(output, 0).await {
                            return inbound.closed(reason).await;
                        }
                    }
                    tasks::read_websocket(stream, inbound).await;
                });
                (writer, reader)
            }
            Link::Polling(mut gets) => {
                let posts = gets.fork();
                // Node's default `maxHttpBufferSize` when the OPEN packet names none.
                let max_payload = open.max_payload.map_or(1_000_000, |m| m as usize);
                let writer = tokio::spawn(tasks::write_polling(
                    posts,
                    queue,
                    wire.clone(),
                    after,
                    max_payload,
                ));
                let reader_open = open.clone();
                let reader = tokio::spawn(async move {
                    for output in early {
                        if let Err(reason) = inbound.output(output, 0).await {
                            return inbound.closed(reason).await;
                        }
                    }
                    tasks::read_polling(gets, reader_open, inbound).await;
                });
                (writer, reader)
            }
        };
        Self {
            sid,
            open,
            transport,
            pid,
            offset,
            outgoing,
            incoming,
            acks,
            next_ack: 0,
            wire,
            usage,
            writer,
            reader,
        }
    }

    /// The transport the session runs on now: `websocket` after a successful upgrade.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The recovery session id of the CONNECT reply (`40{"sid":…,"pid":…}`), when the server
    /// offers connection state recovery.
    pub fn pid(&self) -> Option<&str> {
        self.pid.as_deref()
    }

    /// The last recovery offset received, which a reconnect would send back with the `pid`.
    pub fn last_offset(&self) -> Option<String> {
        self.offset.lock().ok().and_then(|o| o.clone())
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

    /// Sends an arbitrary Engine.IO packet as text. The robustness tests use it to send
    /// malformed frames.
    pub fn send_frame(&self, text: String) -> Result<(), ConnectError> {
        self.outgoing.try_send(Out::Text(text)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => ConnectError::Other(format!(
                "{OUTGOING_FRAMES} frames are already waiting to be sent: the server is not reading"
            )),
            mpsc::error::TrySendError::Closed(_) => ConnectError::Other("the connection is closed".into()),
        })
    }

    /// Waits for the next item from the server, at most `limit`. `None` means the time ran out.
    pub async fn next(&mut self, limit: Duration) -> Option<Incoming> {
        match timeout(limit, self.incoming.recv()).await {
            // The permit, dropped here, gives the item's bytes back to the queue's budget.
            Ok(Some((item, _permit))) => Some(item),
            Ok(None) => Some(Incoming::Closed {
                reason: "the client's reader stopped".into(),
            }),
            Err(_) => None,
        }
    }

    /// Takes whatever has already arrived, without waiting.
    pub fn try_next(&mut self) -> Option<Incoming> {
        self.incoming.try_recv().ok().map(|(item, _permit)| item)
    }

    /// Takes the frames logged since the last call, for `--wire` (empty unless the client was
    /// connected with [`ConnectOptions::record_wire`]).
    pub fn take_wire(&self) -> Vec<WireFrame> {
        self.wire.take()
    }

    /// Applies the per-step limits ([`super::limits::MAX_FRAMES_PER_STEP`] and
    /// [`super::limits::MAX_BYTES_PER_STEP`]) from now on: past either, the client stops
    /// reading and its last item says which flood it was. The runner arms them against servers
    /// it does not control.
    pub fn limit_steps(&self) {
        self.usage.arm();
    }

    /// Starts a new step for the per-step limits.
    pub fn begin_step(&self) {
        self.usage.new_step();
    }

    /// Frames and bytes read from the server in the current step.
    pub fn step_traffic(&self) -> (u64, u64) {
        self.usage.read()
    }

    /// The flood that made the client stop reading, if one did.
    pub fn flood(&self) -> Option<String> {
        self.usage.flood()
    }

    /// Queues the two goodbyes (see [`SimClient::leave`]) and returns at once, without knowing
    /// whether they were sent: dropping the client right after may abort the writer before it
    /// sends them. Prefer [`SimClient::leave`] where the caller can wait.
    pub fn disconnect(&self) {
        let _ = self.send_frame(SocketPacket::Disconnect { nsp: "/".into() }.to_frame());
        let _ = self.outgoing.try_send(Out::Close);
    }

    /// Leaves politely, the way `socket.disconnect()` does in a browser, and waits at most
    /// `within` for the goodbye to be complete.
    ///
    /// There are two goodbyes, one per layer:
    ///
    /// 1. `41`, a Socket.IO DISCONNECT for the default namespace: "this socket is leaving". The
    ///    server removes the socket and runs its `socket.on('disconnect')` handlers with the
    ///    reason `client namespace disconnect` (socketioxide: `ClientNSDisconnect`).
    /// 2. The end of the transport: over WebSocket a Close frame, which the server answers with
    ///    its own before it closes the TCP connection; over polling an Engine.IO close packet
    ///    (`1`) in the same POST, which the server answers `ok`.
    ///
    /// Both go through the writer task, in that order, like every frame. The client then waits
    /// for the writer to have sent them and (over WebSocket) for the reader to see the server's
    /// answering Close, so the server has read the goodbye before the connection goes away. Dropping the client
    /// without this aborts the tasks at once: the frames may never leave, and the server sees a
    /// connection that broke (`transport close` or `transport error`), not a socket that left.
    ///
    /// Events that arrive meanwhile are no longer delivered (nobody is reading them). When the
    /// time runs out, the error says which part of the goodbye was still missing; the client is
    /// closed either way.
    pub async fn leave(mut self, within: Duration) -> Result<(), ConnectError> {
        self.incoming.close();
        // A reader blocked on a full queue must see it closed to move on.
        while self.incoming.try_recv().is_ok() {}
        self.disconnect();
        let deadline = tokio::time::Instant::now() + within;
        let late = |what: &str| ConnectError::Timeout {
            what: what.to_owned(),
            after: within,
        };
        let sent = match self.transport {
            Transport::WebSocket => "our DISCONNECT (41) and WebSocket Close frame to be sent",
            Transport::Polling => "the server to answer our POST of DISCONNECT (41) and close (1)",
        };
        tokio::time::timeout_at(deadline, &mut self.writer)
            .await
            .map_err(|_| late(sent))?
            .ok();
        // Over polling, the answered POST is the whole goodbye: the server has read both packets.
        // What it does with the GET still waiting differs (Node answers it, python-engineio
        // leaves it to its next ping), so, like socket.io-client, the client does not wait.
        if self.transport == Transport::Polling {
            self.reader.abort();
            return Ok(());
        }
        tokio::time::timeout_at(deadline, &mut self.reader)
            .await
            .map_err(|_| late("the server's answer to our WebSocket Close frame"))?
            .ok();
        Ok(())
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
