//! The HTTP server: `const server = createServer(app);` followed by `server.listen(3000)`.
//!
//! This is the part that owns the port. It accepts TCP connections, reads HTTP requests from
//! them and hands each request to the app. It is also the part that sees a WebSocket upgrade
//! request first, which is why the realtime server must attach *here*, to the server that
//! listens, and not to a second one: two servers cannot share one port.
//!
//! In Rust the two halves are explicit: a [`TcpListener`] bound to an address, and
//! [`axum::serve`] feeding it to the router. The caller binds the listener, so tests and lessons
//! can bind `127.0.0.1:0` (any free port) and read back which port they got.

use std::future::Future;

use axum::Router;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;

// ANCHOR: http_server
/// `createServer(app).listen(port)`: accept connections on `listener` and hand every request to
/// `app`, until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Send small frames at once. By default TCP holds a small write back
    // while an earlier one is unacknowledged (Nagle's algorithm), which can
    // add about 40 ms to every chat-sized message.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
// ANCHOR_END: http_server

// A note on `set_nodelay`. By default TCP holds back a small write while an earlier one is
// unacknowledged (Nagle's algorithm), and the other side delays its acknowledgements a little
// (delayed ACK). Together they can add about 40 ms to each small message, which is exactly the
// traffic a realtime server sends. Node.js turns the delay off for its HTTP servers too.

/// Binds a listener, turning the common failure into a message that names the port.
pub async fn bind(host: &str, port: u16) -> Result<TcpListener, BindError> {
    TcpListener::bind((host, port)).await.map_err(|source| BindError {
        addr: format!("{host}:{port}"),
        in_use: source.kind() == std::io::ErrorKind::AddrInUse,
        source,
    })
}

/// A port that could not be bound.
#[derive(Debug, thiserror::Error)]
#[error("{}", if *.in_use { format!("port {addr} is already in use (is another server running? choose another with --port)") } else { format!("cannot listen on {addr}: {source}") })]
pub struct BindError {
    pub addr: String,
    pub in_use: bool,
    pub source: std::io::Error,
}
