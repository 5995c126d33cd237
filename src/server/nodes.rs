//! Two servers of one application (lesson 7): each a Socket.IO server on its own port, with or
//! without an adapter that joins them.
//!
//! In production a chat outgrows one process: a second one runs behind a load balancer, and a
//! client reaches whichever the balancer picks. Each process is a *node* with its own sockets and
//! rooms. Node.js writes the joined version like this:
//!
//! ```js
//! const pubClient = createClient({ url: "redis://localhost:6379" });
//! const subClient = pubClient.duplicate();
//! await Promise.all([pubClient.connect(), subClient.connect()]);
//! const io = new Server(server, { adapter: createAdapter(pubClient, subClient) });
//! ```
//!
//! and leaves out the `adapter` option for the version that is not joined. The functions below
//! are the same two programs with socketioxide, running the same handlers as the one-server
//! stages ([`super::realtime`]'s connection handler, generic over the adapter).
//!
//! # How the tutor knows who did not receive, with two servers
//!
//! The one-server stages send a marker (a *fence*) to every socket after each step: packets to
//! one socket leave in order, so a client that reads the marker has read all the step sent it.
//! With two servers the fence must take the same road as what it fences:
//!
//! * **No adapter.** A's `io.emit` never leaves A. Each node fences its own sockets with its own
//!   `io.emit`; B's sockets can only ever receive what B sent, so B's fence covers them.
//! * **The Redis adapter.** The fence is one `io.emit` *from the node that handled the step*,
//!   made after the handler's emit returned, so it travels the emit's road: queued behind it on
//!   that node's own sockets, and published after it on that node's one Redis connection, to the
//!   same channel. Redis hands one connection's publishes to every subscriber in the order they
//!   were published, and the other node applies one channel's messages in order, so the fence
//!   reaches B's sockets after the emit did (see [`crate::parts::node`] for each hop). Once every
//!   client has read it, whatever the step sent anywhere has arrived: no timer decides.
//!
//! This is why each node opens its *own* adapter connection: with one connection shared, the
//! second subscription would replace the first.
//!
//! # Why not, on another server
//!
//! A node's tables hold only its own sockets. A socket the emitting node does not hold, but
//! another node does, was out of reach when nothing carries the emit there (no adapter, or
//! `io.local`); with the adapter, the node that holds it says from its own rooms why its part of
//! the broadcast left it out ([`super::observe::live::why_not_here`]).

use axum::Router;
use socketioxide::SocketIo;
use socketioxide::adapter::{Adapter, Emitter, LocalAdapter};

use super::realtime::{builder, on_main_namespace};
use super::{Behaviour, FENCE_EVENT, Reporter};
use crate::parts::node::{Node, NodeError, RedisAdapter, redis_adapter, start_node};
use crate::parts::redis::RedisError;
use crate::parts::redis_server::Redis;

/// A node on the Redis adapter.
pub type RedisNode = Node<RedisAdapter<Emitter>>;

/// Why a node did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Redis(#[from] RedisError),
    #[error("{0}")]
    Node(#[from] NodeError),
}

// ANCHOR: node_without_adapter
/// `const io = new Server(server);` on a port of its own: a node that
/// shares nothing. Its `io.emit` reaches its own sockets, and no others.
pub async fn lone_node(behaviour: Behaviour, report: Reporter) -> Result<Node<LocalAdapter>, StartError> {
    let node = start_node(Router::new(), builder(), |io| {
        // io.on('connection', (socket) => { ... }), as on one server
        on_main_namespace(io, behaviour, report, None)
    })
    .await?;
    Ok(node)
}
// ANCHOR_END: node_without_adapter

// ANCHOR: node_with_redis
/// `new Server(server, { adapter: createAdapter(pubClient, subClient) })`:
/// a node whose broadcasts go through Redis to every node subscribed to
/// the namespace. `io.ns(..)` now returns a future: the subscription to
/// the namespace's channel, awaited before the node takes clients.
pub async fn redis_node(
    redis: &Redis,
    behaviour: Behaviour,
    report: Reporter,
) -> Result<RedisNode, StartError> {
    let adapter = redis_adapter(redis).await?; // this node's own connection
    let builder = builder().with_adapter::<RedisAdapter<_>>(adapter);
    let node = start_node(Router::new(), builder, |io| {
        // io.on('connection', (socket) => { ... }), as on one server
        on_main_namespace(io, behaviour, report, None)
    })
    .await?;
    Ok(node)
}
// ANCHOR_END: node_with_redis

/// The tutor's marker number `n` to every socket `io.emit` reaches from this node: its own with
/// the in-memory adapter, every node's with the Redis adapter (see the module documentation).
pub async fn fence<A: Adapter>(io: &SocketIo<A>, n: u64) -> Result<(), String> {
    io.emit(FENCE_EVENT, &n)
        .await
        .map_err(|e| format!("could not send the fence: {e}"))
}
