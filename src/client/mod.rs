//! The simulated clients: small Socket.IO clients that speak the real protocol, over either of
//! the transports socket.io-client speaks.
//!
//! A plain `io()` in a page opens its session with **HTTP long-polling**: `GET
//! /socket.io/?EIO=4&transport=polling` answers with the Engine.IO OPEN packet
//! (`0{"sid":…,"upgrades":["websocket"],…}`) as an ordinary HTTP body, because plain requests get
//! through proxies that would block a WebSocket. The client then sends with POSTs and receives
//! with held GETs ([`engine::polling`]). Once its socket is connected it tries a **WebSocket** for
//! the same session and *upgrades*: `2probe` over the new WebSocket, `3probe` back, then `5`, and
//! from then on every packet travels over the WebSocket ([`engine::handshake`] shows the steps).
//! `io({ transports: ['websocket'] })` skips the polling phase and starts with the WebSocket.
//! [`ConnectOptions::transports`] chooses, with the same names.
//!
//! Either way, three things happen before your first `socket.emit`:
//!
//! 1. The transport opens: a GET answered `200`, or a WebSocket request answered `101 Switching
//!    Protocols`.
//! 2. The server sends an Engine.IO OPEN packet (`0{"sid":…,"pingInterval":…}`): the transport
//!    session exists.
//! 3. The client sends a Socket.IO CONNECT for the default namespace (`40`) and the server answers
//!    `40{"sid":…}`. Only now is there a *socket* the server's `io.on('connection')` handler sees.
//!
//! [`SimClient::connect`] performs exactly these steps, each bounded by a timeout that names what
//! it was waiting for. After that, a reader task keeps the connection alive (answering the
//! server's pings) and hands every event to the owner in arrival order, which is the order the
//! server sent them in: one session's packets travel in order on either transport, and the
//! upgrade is made so that none overtakes another ([`engine::tasks`]). The trace relies on that
//! fact.
//!
//! # Acknowledgements, both ways round
//!
//! An event may ask for an answer. It then carries an id right after the packet type, and the
//! answer is an ACK packet with the same id; no other client sees either:
//!
//! * **The client asks** (`socket.emit('question', q, (answer) => …)`): the client sends
//!   `420["question",…]`, keeps a waiter under id `0`, and the server's `callback({ got: q })`
//!   comes back as `430[{"got":…}]` ([`SimClient::emit_with_ack`]).
//! * **The server asks** (`socket.timeout(300).emitWithAck('question', 'ready?')`): the client
//!   receives `421["question","ready?"]`; its listener's `callback('yes')` sends `431["yes"]`.
//!   Which events a client answers, and with what, is part of its options
//!   ([`ConnectOptions::answers`]); the reader task answers as soon as the event arrives. An event
//!   it does not answer gets nothing back, and only the asker's timer ends the wait: there is no
//!   "I will not answer" packet.
//!
//! # One session, a socket per namespace
//!
//! Like socket.io-client's `Manager`, one client can hold sockets on several namespaces over
//! its one session: `/` from the start, `/admin` once joined ([`SimClient::join_namespace`]).
//! Each socket has its own CONNECT, reply, events, acks and DISCONNECT; the session under them
//! is shared. The code is split the same way: [`engine`] is the session, [`socket`] one
//! namespace's socket.
//!
//! The files, from the wire up:
//!
//! * [`protocol`]: Engine.IO and Socket.IO packets, as pure functions.
//! * [`payload`]: several packets in one polling body (`\x1e`), binary as base64.
//! * [`binary`]: binary attachments and their placeholders.
//! * [`receiver`]: what each frame of the session means, given what came before (pure); it
//!   hands each Socket.IO packet to the [`socket`] of its namespace (pure too).
//! * [`address`]: the URL and request target of a server's Engine.IO endpoint (pure).
//! * [`limits`]: every bound a server can push the client against, and why; [`usage`]: the
//!   counters that apply the per-step ones.
//! * [`wire`]: the bounded frame log behind `--wire`.
//! * [`outbox`]: the queue of emits `retries` and `ackTimeout` keep (socket.io-client's options).
//! * [`options`], [`error`]: what the owner chooses when it connects, and why a connection (or
//!   a namespace) can fail.
//! * [`engine`]: the I/O of the session, from one HTTP request to the connected reader and
//!   writer tasks; [`inbound`]: what the reader does with each frame.
//! * [`connection`]: the [`SimClient`] its owner talks to; [`namespaces`]: its sockets beyond
//!   `/`.
//! * [`http`]: a plain GET, the way a browser fetches the page.
//! * [`page`]: a browser page's `io()` request by request, with its origin and the CORS rule,
//!   and what socket.io-client tells the page's code (lesson 9).

pub mod address;
pub mod binary;
pub mod connection;
pub mod engine;
pub mod error;
pub mod http;
pub mod inbound;
pub mod limits;
pub mod namespaces;
pub mod options;
pub mod outbox;
pub mod page;
pub mod payload;
pub mod protocol;
pub mod receiver;
pub mod socket;
pub mod usage;
pub mod wire;

pub use connection::{
    ConnectError, ConnectOptions, Incoming, Received, SimClient, Transport, WireDirection, WireFrame,
};
// The transports keep their old paths (`client::link::Transport`), for the code that names them.
pub use engine::{link, polling};
pub use error::JoinError;
pub use namespaces::Joined;
