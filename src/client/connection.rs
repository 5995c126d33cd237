//! One simulated client: the [`SimClient`] its owner talks to once the handshake
//! ([`super::engine::handshake`]) has connected it. Its options are in [`super::options`], its
//! errors in [`super::error`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::timeout;

pub use super::address::{authority, engine_target, websocket_url};
use super::engine::handshake::Session;
use super::engine::link::Link;
pub use super::engine::link::Transport;
use super::engine::tasks::{self, Acks, Inbound, Item, Out, RoundTrips};
pub use super::error::ConnectError;
pub use super::limits::MAX_MESSAGE_SIZE;
use super::limits::{INCOMING_ITEMS, OUTGOING_FRAMES};
use super::namespaces::Namespaces;
pub use super::options::ConnectOptions;
use super::protocol::{OpenInfo, SocketPacket};
use super::usage::Usage;
use super::wire::WireLog;
pub use super::wire::{WireDirection, WireFrame};

/// What the reader task hands to the owner of a [`SimClient`], in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// The server emitted an event to this client.
    Event { name: String, args: Vec<Value> },
    /// The server disconnected the socket (`41`) or closed the transport.
    Closed { reason: String },
}

/// One item and the namespace of the socket that got it: `"/"` for the default one, which also
/// stands for the whole session when the item says it closed. Only a client that joined other
/// namespaces ([`SimClient::join_namespace`]) needs to read this; [`SimClient::next`] gives the
/// item alone.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The namespace of the socket that got the item (`"/"`, `"/admin"`).
    pub nsp: String,
    pub item: Incoming,
}

/// A connected Socket.IO client on the default namespace, and on any other namespace it joins
/// over the same session ([`SimClient::join_namespace`]).
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
    pub(super) outgoing: mpsc::Sender<Out>,
    incoming: mpsc::Receiver<Item>,
    pub(super) acks: Acks,
    /// The next ack id, per namespace: each socket numbers its own emits.
    pub(super) next_ack: BTreeMap<String, u64>,
    /// The namespaces joined (or being joined) besides `/`, shared with the reader.
    pub(super) namespaces: Namespaces,
    /// The namespace of the first socket, joined by the handshake (`"/"` unless
    /// [`ConnectOptions::namespace`] said otherwise).
    pub(super) first: String,
    /// How long each network wait may take ([`ConnectOptions::timeout`]).
    pub(super) after: Duration,
    round_trips: RoundTrips,
    next_round_trip: u64,
    /// Events the owner has taken ([`SimClient::next`], [`SimClient::try_next`]).
    taken: u64,
    wire: WireLog,
    pub(super) usage: Arc<Usage>,
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

/// The namespaces of round trips ([`SimClient::round_trip`]) start with this, then a number.
pub const ROUND_TRIP_NAMESPACE: &str = "/tutor-fence-";

impl SimClient {
    /// Connects to the Socket.IO server at `base` (`http://127.0.0.1:3000`) and joins the default
    /// namespace, over the transports `options` names (see [`super::engine::handshake`] for the
    /// steps).
    pub async fn connect(base: &str, options: &ConnectOptions) -> Result<Self, ConnectError> {
        let (link, session) = super::engine::handshake::handshake(base, options).await?;
        Ok(Self::spawn_tasks(link, session, options))
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
    fn spawn_tasks(link: Link, session: Session, options: &ConnectOptions) -> Self {
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
        // One queue feeds the one writer, for the owner's packets and the reader's pongs and
        // answers alike: frames leave in the order they were queued, and no two tasks ever
        // write to the transport at once.
        let (outgoing, queue) = mpsc::channel::<Out>(OUTGOING_FRAMES);
        // Bounded twice, in items here and in bytes by `room`: a count alone would let a few
        // hundred large events wait. When either is full the reader waits, and the server's
        // frames wait in TCP's buffers instead of in our memory (see `limits`).
        let (deliver, incoming) = mpsc::channel::<Item>(INCOMING_ITEMS);
        // At least one byte: a semaphore with no permits would never let an event through. At
        // most what one `acquire_many` can ask for (a `u32`), so an event's share always fits.
        let budget = options
            .incoming_bytes
            .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        let acks: Acks = Arc::default();
        let round_trips: RoundTrips = Arc::default();
        let namespaces: Namespaces = Arc::default();
        // The receiver moves into the reader task, out of the owner's reach; the owner reads the
        // recovery offset from this copy, which the reader updates before it hands over each event.
        let offset = Arc::new(Mutex::new(receiver.last_offset().map(str::to_owned)));
        let mut inbound = Inbound {
            receiver,
            deliver,
            room: Arc::new(Semaphore::new(budget)),
            room_bytes: budget,
            acks: acks.clone(),
            out: outgoing.clone(),
            wire: wire.clone(),
            usage: usage.clone(),
            offset: offset.clone(),
            attachments_due: None,
            answers: options.answers.clone(),
            round_trips: round_trips.clone(),
            namespaces: namespaces.clone(),
            delivered: Arc::default(),
        };
        let (writer, reader) = match link {
            Link::WebSocket(ws) => {
                let (sink, stream) = (*ws).split();
                let writer = tokio::spawn(tasks::write_websocket(sink, queue, wire.clone()));
                let reader = tokio::spawn(async move {
                    // What the handshake read along with the CONNECT reply (events the server
                    // sent before it, and what shared its payload) arrived before anything the
                    // transport holds now, so it goes to the owner first: arrival order is the
                    // order the trace reports.
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
                // The writer takes the POST lane, so a GET the server holds open never delays
                // what the owner sends (see `polling`).
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
                    // As over WebSocket: what the handshake read comes first.
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
            next_ack: BTreeMap::new(),
            namespaces,
            first: options.namespace.clone(),
            after,
            round_trips,
            next_round_trip: 0,
            taken: 0,
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
        let packet = SocketPacket::Event {
            nsp: self.first.clone(),
            id: None,
            name: name.into(),
            args,
        };
        self.send_frame(packet.to_frame())
    }

    /// `socket.emit(name, ...args, callback)`: an event whose answer comes back as an ACK packet
    /// with the same id. Returns a receiver that resolves with the server's answer.
    pub fn emit_with_ack(
        &mut self,
        name: &str,
        args: Vec<Value>,
    ) -> Result<oneshot::Receiver<Vec<Value>>, ConnectError> {
        let first = self.first.clone();
        self.emit_with_ack_on(&first, name, args)
    }

    /// Starts a round trip through the server: a CONNECT for a namespace nobody serves
    /// (`40/tutor-fence-1,`), which a server answers with CONNECT_ERROR (`44/tutor-fence-1,{"message":
    /// "Invalid namespace"}`; a server that accepts every namespace answers `40/…`, and the client
    /// leaves again). The receiver resolves with the number of events that had been handed over
    /// when the answer came (compare with [`SimClient::taken`]).
    ///
    /// What it proves: the server had read this CONNECT, and so every packet this client sent
    /// before it, when it answered; and, as one session's packets travel in order, everything
    /// the server sent to this client before the answer has arrived ahead of it. It does not
    /// prove that the server has *finished* what earlier packets asked for: that is only so for a
    /// server that handles one connection's packets to completion, in order (the caller decides
    /// when to rely on that, see `runner::settle`). The runner uses it as a fence against servers
    /// it does not control.
    pub fn round_trip(&mut self) -> Result<oneshot::Receiver<u64>, ConnectError> {
        self.next_round_trip += 1;
        let nsp = format!("{ROUND_TRIP_NAMESPACE}{}", self.next_round_trip);
        let (tx, rx) = oneshot::channel();
        if let Ok(mut waiting) = self.round_trips.lock() {
            waiting.insert(nsp.clone(), tx);
        }
        self.send_frame(SocketPacket::Connect { nsp, data: None }.to_frame())?;
        Ok(rx)
    }

    /// How many events the owner has taken so far.
    pub fn taken(&self) -> u64 {
        self.taken
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
    ///
    /// The item does not say which namespace's socket got it: a client that joined other
    /// namespaces reads with [`SimClient::next_received`] instead.
    pub async fn next(&mut self, limit: Duration) -> Option<Incoming> {
        self.next_received(limit).await.map(|r| r.item)
    }

    /// Takes whatever has already arrived, without waiting.
    pub fn try_next(&mut self) -> Option<Incoming> {
        self.try_next_received().map(|r| r.item)
    }

    /// Like [`SimClient::next`], with the namespace of the socket that got the item.
    pub async fn next_received(&mut self, limit: Duration) -> Option<Received> {
        match timeout(limit, self.incoming.recv()).await {
            // The permit, dropped here, gives the item's bytes back to the queue's budget.
            Ok(Some((received, _permit))) => Some(self.took(received)),
            Ok(None) => Some(Received {
                nsp: self.first.clone(),
                item: Incoming::Closed {
                    reason: "the client's reader stopped".into(),
                },
            }),
            Err(_) => None,
        }
    }

    /// Like [`SimClient::try_next`], with the namespace of the socket that got the item.
    pub fn try_next_received(&mut self) -> Option<Received> {
        let (received, _permit) = self.incoming.try_recv().ok()?;
        Some(self.took(received))
    }

    /// Counts an event the owner takes, on any namespace: the reader counts the same ones as
    /// it delivers them, and a round trip compares the two.
    fn took(&mut self, received: Received) -> Received {
        if matches!(received.item, Incoming::Event { .. }) {
            self.taken += 1;
        }
        received
    }

    /// Takes the frames logged since the last call, for `--wire` (empty unless the client was
    /// connected with [`ConnectOptions::record_wire`]).
    pub fn take_wire(&self) -> Vec<WireFrame> {
        self.wire.take()
    }

    /// Queues the two goodbyes (see [`SimClient::leave`]) and returns at once, without knowing
    /// whether they were sent: dropping the client right after may abort the writer before it
    /// sends them. Prefer [`SimClient::leave`] where the caller can wait.
    pub fn disconnect(&self) {
        // The sockets joined later leave first, each with its own DISCONNECT, so the server
        // hears every socket go, not a session that broke under some of them.
        for nsp in self.namespaces() {
            let _ = self.send_frame(SocketPacket::Disconnect { nsp }.to_frame());
        }
        let _ = self.send_frame(
            SocketPacket::Disconnect {
                nsp: self.first.clone(),
            }
            .to_frame(),
        );
        let _ = self.outgoing.try_send(Out::Close);
    }

    /// Leaves politely, the way `socket.disconnect()` does in a browser, and waits at most
    /// `within` for the goodbye to be complete.
    ///
    /// There are two goodbyes, one per layer:
    ///
    /// 1. `41`, a Socket.IO DISCONNECT for the default namespace: "this socket is leaving". The
    ///    server removes the socket and runs its `socket.on('disconnect')` handlers with the
    ///    reason `client namespace disconnect` (socketioxide: `ClientNSDisconnect`). Sockets on
    ///    other namespaces ([`SimClient::join_namespace`]) send theirs first (`41/admin,`).
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
