//! The Engine.IO session under every simulated client: the lower of Socket.IO's two layers,
//! as engine.io-client sits under socket.io-client and engineioxide under socketioxide.
//!
//! A session is one `sid` from the server's OPEN packet and the transport that carries it. It
//! knows nothing of namespaces or events: it moves packets, in order, keeps itself alive, and
//! changes transport without losing one. The sockets on top of it, one per namespace, are in
//! [`super::socket`] and [`super::namespaces`].
//!
//! The files, from one request up:
//!
//! * [`polling`]: HTTP long-polling, one GET or POST at a time over a kept-alive connection.
//! * [`link`]: either transport behind one type, and the bounded send and receive on it.
//! * [`handshake`]: opening the session (`GET … → 0{"sid"…}`), the first CONNECT (to `/`), and
//!   the upgrade from polling to WebSocket (`2probe`, `3probe`, `5`).
//! * [`tasks`]: once connected, a reader that reads the transport (and whose pongs keep the
//!   session alive, see [`super::inbound`]) and a writer that sends what the owner queues.

pub mod handshake;
pub mod link;
pub mod polling;
pub mod tasks;
