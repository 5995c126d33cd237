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
use std::time::Duration;

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
    // while an earlier one is unacknowledged (Nagle's algorithm), and the
    // other side delays its acknowledgements a little: together about 40 ms
    // on every chat-sized message. Node.js turns this off for its servers too.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
// ANCHOR_END: http_server

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

/// The most connections [`serve_guarded`] should keep open, given this process's limit on open
/// files: at most `wanted`, and always some descriptors short of the limit, so that the server
/// can still accept a connection's replacement, log, and let the bots connect.
pub fn connection_limit(wanted: usize) -> usize {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit};
        if let Some(open_files) = getrlimit(Resource::Nofile).current {
            // Descriptors kept for everything that is not a client connection: the standard
            // streams, the listener, the runtime's own, the bots' ends of their connections.
            // A quarter of the limit, between 16 and 48.
            let kept = (open_files / 4).clamp(16, 48);
            let room = open_files.saturating_sub(kept).max(1);
            return wanted.min(usize::try_from(room).unwrap_or(usize::MAX));
        }
    }
    wanted
}

/// Where a server's own log lines go (a refused connection, a limit reached). `serve` queues
/// them for its printer, so a slow terminal never holds the server up.
pub type Log = std::sync::Arc<dyn Fn(String) + Send + Sync>;

/// Limits for a server that programs other than the tutor's may reach (`serve`).
///
/// A connection costs the server a file descriptor and a task from the moment it is accepted,
/// long before it has sent a request. Without limits, a client that sends half a request line
/// and then nothing holds both forever: about a thousand such clients use up a common limit of
/// 1,024 descriptors, and then the server cannot accept anyone, nor open a file.
#[derive(Clone)]
pub struct Guard {
    /// How long a client may take to send a request's headers (hyper's `header_read_timeout`);
    /// a connection that has not finished them by then is closed. A request's body gets as long
    /// again, from when its headers arrived (see [`super::guard::deadline`]).
    pub header_timeout: Duration,
    /// The most connections open at once. A further client waits in the kernel's backlog
    /// (it is not refused) until one closes.
    pub max_connections: usize,
    /// The most Engine.IO sessions opened within [`super::realtime::CONNECT_WITHIN`] (see
    /// [`super::guard::handshakes`]); `serve` uses [`super::guard::handshakes::HANDSHAKES`].
    pub max_handshakes: usize,
    /// At shutdown, how long open connections get to finish before they are cut.
    pub shutdown_grace: Duration,
    /// The page origins Socket.IO requests may come from (see [`super::guard::origin`]).
    pub origins: super::guard::origin::Allowed,
    pub log: Log,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("header_timeout", &self.header_timeout)
            .field("max_connections", &self.max_connections)
            .field("max_handshakes", &self.max_handshakes)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("origins", &self.origins)
            .finish_non_exhaustive()
    }
}

/// [`serve`] with a [`Guard`]: the same server, written out with hyper's connection builder
/// instead of `axum::serve`, because that is where the limits are set.
///
/// The accept loop takes a permit from a semaphore before it accepts: at `max_connections` it
/// stops accepting (and says so once, in the log) until a connection closes and gives its permit
/// back. Each connection is its own task, reading requests with a time limit on headers.
/// Shutdown tells every connection to finish its request under way and close, waits at most
/// `shutdown_grace`, then cuts whatever is left (a client still sending a request has nothing
/// the server owes it).
pub async fn serve_guarded(
    listener: TcpListener,
    app: Router,
    guard: Guard,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper::server::conn::http1;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    use tokio::sync::{Semaphore, watch};
    use tokio::task::JoinSet;

    let permits = std::sync::Arc::new(Semaphore::new(guard.max_connections));
    let (closing, closed) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut at_limit = false;
    tokio::pin!(shutdown);
    loop {
        // Finished connections are collected here, so the set holds only open ones.
        while connections.try_join_next().is_some() {}
        if permits.available_permits() == 0 && !at_limit {
            at_limit = true;
            (guard.log)(format!(
                "{} connections are open, the most this server keeps at once (each holds a file \
                 descriptor, and slow or stuck clients must not use them all up); new connections \
                 wait until one closes. A client that does not send its request headers within {:?} \
                 is disconnected.",
                guard.max_connections, guard.header_timeout
            ));
        }
        // `select!` polls both futures and runs the branch of whichever completes first;
        // `biased` tries shutdown first, so a flood of connections cannot delay it.
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        if permits.available_permits() > 0 {
            at_limit = false;
        }
        let tcp = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _peer)) => tcp,
                Err(e) => {
                    // Out of descriptors, or a connection reset before it was accepted: not the
                    // server's end. Pause a little so that a persistent error does not spin.
                    (guard.log)(format!("could not accept a connection: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        // The request's body gets as long as its headers did (see `super::guard::deadline`).
        let body_timeout = guard.header_timeout;
        let service = TowerToHyperService::new(tower::ServiceExt::map_request(
            app.clone(),
            move |request: hyper::Request<hyper::body::Incoming>| {
                request.map(|body| {
                    axum::body::Body::new(super::guard::deadline::Deadline::new(body, body_timeout))
                })
            },
        ));
        let header_timeout = guard.header_timeout;
        let mut closed = closed.clone();
        connections.spawn(async move {
            let _permit = permit;
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades();
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = async { let _ = closed.wait_for(|closing| *closing).await; } => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    let _ = closing.send(true);
    let drained = tokio::time::timeout(guard.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        let open = match connections.len() {
            1 => "1 connection".to_owned(),
            n => format!("{n} connections"),
        };
        (guard.log)(format!(
            "closed {open} that had not finished within {:?} of the shutdown",
            guard.shutdown_grace
        ));
        connections.shutdown().await;
    }
    Ok(())
}
