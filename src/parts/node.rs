//! One Socket.IO server of several (a *node*), on its own loopback port, with any adapter: the
//! building block of the stages where two servers do or do not share their broadcasts.
//!
//! Node's socket.io calls every server process of one application a node; the adapter is what
//! a node asks "who receives this?". The default, in-memory adapter only knows the node's own
//! sockets, so `io.emit` on node A never reaches a client of node B. The Redis adapter publishes
//! each broadcast to Redis, and every node subscribed to the namespace's channel applies it to
//! its own sockets:
//!
//! ```js
//! const pubClient = createClient({ url: "redis://localhost:6379" });
//! const subClient = pubClient.duplicate();
//! await Promise.all([pubClient.connect(), subClient.connect()]);
//! const io = new Server(server, { adapter: createAdapter(pubClient, subClient) });
//! ```
//!
//! The Rust below is the same program with socketioxide: [`redis_adapter`] opens the connection,
//! `SocketIo::builder().with_adapter::<RedisAdapter<_>>(ctr)` plugs it in, and [`start_node`]
//! binds the port. It is generic over the adapter, so the no-adapter stage uses the very same
//! code with socketioxide's `LocalAdapter`.
//!
//! # Why a fence broadcast through the adapter is sound
//!
//! To decide "bob, on node B, did not receive it" without waiting, the tutor sends a marker (a
//! fence) after the emit and waits for the fence instead. With two nodes this is only sound if
//! nothing can overtake the emit on its way to B. Reading socketioxide-redis 0.4.4 and the
//! `redis` crate it uses, every hop keeps order:
//!
//! 1. `io.emit(..).await` on A first *publishes* the broadcast (the PUBLISH reply is awaited)
//!    and only then sends to A's own sockets; `.await` returns after both. A fence emitted after
//!    that `.await`, from the same node, is published after the emit.
//! 2. All publishes of one node go through one multiplexed connection (`RedisDriver` clones one
//!    `MultiplexedConnection`), so they reach Redis on one TCP stream or Unix socket, in order.
//!    Redis runs one connection's commands in order, and PUBLISH writes the message to every
//!    subscriber's connection before it replies: a subscriber receives one publisher's messages
//!    in the order they were published.
//! 3. On B, pushes from its one connection are read in order and handed to one bounded channel
//!    *per Redis channel*; one task (`pipe_stream`) takes them in order and applies each
//!    broadcast to B's sockets synchronously. Packets queued for one socket leave in order.
//!
//! Two conditions follow, and the helpers here keep them: the emit and the fence must travel on
//! the **same Redis channel**, i.e. both be broadcasts to the namespace (`io.emit`, `io.to(..)`,
//! `socket.to(..)`, never a request aimed at one node id, which uses another channel that B
//! reads interleaved with the first); and **each node needs its own adapter connection** (one
//! [`redis_adapter`] call per node): two nodes sharing one would share its subscription table,
//! and the second subscription would replace the first. B's channel drops messages when more
//! than `stream_buffer` (1024) are waiting; a stage sends a handful.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::serve::ListenerExt;
use socketioxide::adapter::Adapter;
use socketioxide::{SocketIo, SocketIoBuilder};
use socketioxide_redis::drivers::redis::RedisDriver;
use socketioxide_redis::{InitRes, RedisAdapterCtr};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::redis::{PING_LIMIT, RedisError};
use super::redis_server::Redis;

pub use socketioxide_redis::RedisAdapter;

/// How long a namespace's adapter may take to subscribe to its channels.
pub const NAMESPACE_LIMIT: Duration = Duration::from_secs(2);

/// The adapter constructor a node's `SocketIo::builder().with_adapter::<RedisAdapter<_>>(..)`
/// takes.
pub type RedisCtr = RedisAdapterCtr<RedisDriver>;

/// Opens one node's own connection to `redis` for its adapter (RESP3; the driver's requests
/// time out after the `redis` crate's default 500 ms, so a Redis gone mid-stage makes an emit
/// fail, not hang). Call it once per node.
pub async fn redis_adapter(redis: &Redis) -> Result<RedisCtr, RedisError> {
    let client = redis.client()?;
    let failed = |what: &str, detail: String| RedisError::Unreachable {
        url: redis.url(),
        what: what.to_string(),
        detail,
    };
    tokio::time::timeout(PING_LIMIT, RedisAdapterCtr::new_with_redis(&client))
        .await
        .map_err(|_| {
            failed(
                "opening the adapter's connection",
                format!("no answer within {PING_LIMIT:?}"),
            )
        })?
        .map_err(|e| failed("opening the adapter's connection", e.to_string()))
}

/// Awaiting what `io.ns(..)` returned: nothing for the local adapter, the subscription to the
/// namespace's Redis channels for the Redis adapter. A node must not take clients before that
/// subscription exists, or broadcasts from the other nodes would pass it by.
pub trait NamespaceReady: Send {
    /// Completes when the namespace can receive broadcasts from other nodes.
    fn ready(self) -> impl Future<Output = Result<(), String>> + Send;
}

impl NamespaceReady for () {
    async fn ready(self) -> Result<(), String> {
        Ok(())
    }
}

impl NamespaceReady for InitRes<RedisDriver> {
    async fn ready(self) -> Result<(), String> {
        self.await.map_err(|e| e.to_string())
    }
}

/// Why a node did not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("cannot listen on 127.0.0.1: {0}")]
    Bind(std::io::Error),
    #[error("the namespace's adapter did not get ready: {0}")]
    Namespace(String),
    #[error(
        "the namespace's adapter did not get ready within {NAMESPACE_LIMIT:?} (subscribing to its Redis channels)"
    )]
    NamespaceTimeout,
}

/// A running node: its `io` handle and its address. Dropping it stops its HTTP server.
#[derive(Debug)]
pub struct Node<A: Adapter> {
    pub io: SocketIo<A>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl<A: Adapter> Node<A> {
    /// `http://127.0.0.1:PORT`, what a client connects to.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops taking connections and waits (bounded) for the server task to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), &mut self.task).await;
    }
}

impl<A: Adapter> Drop for Node<A> {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
    }
}

/// Starts a node: `app` wrapped by the Socket.IO layer `builder` builds, on a free port of
/// 127.0.0.1. `namespaces` registers the handlers (`io.ns("/", on_connection)`) and returns what
/// `io.ns` returned; the node is returned once that is ready (bounded by [`NAMESPACE_LIMIT`]).
///
/// ```ignore
/// let ctr = redis_adapter(&redis).await?;
/// let builder = SocketIo::builder().with_adapter::<RedisAdapter<_>>(ctr);
/// let a = start_node(Router::new(), builder, |io| io.ns("/", on_connection)).await?;
/// ```
pub async fn start_node<A, R>(
    app: Router,
    builder: SocketIoBuilder<A>,
    namespaces: impl FnOnce(&SocketIo<A>) -> R,
) -> Result<Node<A>, NodeError>
where
    A: Adapter,
    R: NamespaceReady,
{
    let (layer, io) = builder.build_layer();
    tokio::time::timeout(NAMESPACE_LIMIT, namespaces(&io).ready())
        .await
        .map_err(|_| NodeError::NamespaceTimeout)?
        .map_err(NodeError::Namespace)?;
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(NodeError::Bind)?;
    let addr = listener.local_addr().map_err(NodeError::Bind)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let app = app.layer(layer);
    // Small frames go out at once (no Nagle delay), as on the one-server stages.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    Ok(Node {
        io,
        addr,
        stop: Some(stop),
        task,
    })
}
