//! The options of `new Server(httpServer, { … })` that decide whether a client can connect at
//! all, and a server built with them that tells the tutor what it saw (lesson 9).
//!
//! Node's socket.io takes them as one object; socketioxide spreads them over its builder and
//! leaves one to the HTTP stack around it:
//!
//! | Node (`new Server(server, { … })`) | socketioxide / axum                        | default    |
//! |-------------------------------------|-------------------------------------------|------------|
//! | `path: '/socket.io/'`               | `SocketIo::builder().req_path("/socket.io")` | same    |
//! | `cors: { origin }`                  | no option: a layer on the router (`cors`) | no CORS  |
//! | `maxHttpBufferSize: 1e6`            | `.max_payload(…)` (and the WebSocket's message size) | 100 kB |
//! | `pingInterval: 25000`               | `.ping_interval(…)`                        | same       |
//! | `pingTimeout: 20000`                | `.ping_timeout(…)`                         | same       |
//! | `allowEIO3: false`                  | no option: the cargo feature `v4` of socketioxide, for the whole build | off |
//!
//! The last row is a difference in kind: Node decides per server, at run time, whether a
//! socket.io 2.x client (Engine.IO 3) may connect; socketioxide decides when it is compiled
//! (`socketioxide = { features = ["v4"] }`, "v4" being that client's Socket.IO protocol
//! version). The tutor is built without it, so its servers answer an Engine.IO 3 request as a
//! Node server without `allowEIO3` does: `400 {"code":"5","message":"Unsupported protocol
//! version"}` (Node writes the code as a number, socketioxide as a string).
//!
//! What the server saw comes back to the tutor as [`Seen`] reports: each HTTP request with the
//! status it was answered (the server's access log), each socket that connected, and each that
//! went away with socketioxide's reason. A browser may throw away an answer the server gave
//! (CORS): the access log is how the lesson shows both sides.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use http_body_util::BodyExt;
use serde::Deserialize;
use socketioxide::SocketIo;
use socketioxide::extract::{Data, SocketRef};
use socketioxide::handler::ConnectHandler;
use socketioxide::socket::DisconnectReason;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;

/// The options a lesson 9 stage gives its server; each left out is the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// `path`: where Socket.IO answers (`/socket.io/` when left out).
    pub path: Option<String>,
    /// `cors: { origin }`: the one page origin allowed to read the answers.
    pub cors_origin: Option<String>,
    /// `maxHttpBufferSize`: the largest message the server accepts, in bytes.
    pub max_http_buffer_size: Option<u64>,
    /// `pingInterval` and `pingTimeout`, in milliseconds.
    pub ping_interval_ms: Option<u64>,
    pub ping_timeout_ms: Option<u64>,
    /// The connection handler awaits something before it registers its `'chat message'`
    /// listener (lesson 9.7); otherwise the listener is there before the CONNECT reply.
    #[serde(default)]
    pub handler_after_await: bool,
}

impl ServerConfig {
    /// The path as Node writes it, with its slashes: `/socket.io/`.
    pub fn path(&self) -> String {
        let path = self.path.as_deref().unwrap_or("/socket.io/");
        format!("/{}/", path.trim_matches('/'))
    }

    /// The options as Node's code would pass them: `{ path: '/realtime/', cors: { … } }`, or
    /// `{}` when every one is the default.
    pub fn as_js(&self) -> String {
        let mut parts = Vec::new();
        if let Some(path) = &self.path {
            parts.push(format!("path: '{path}'"));
        }
        if let Some(origin) = &self.cors_origin {
            parts.push(format!("cors: {{ origin: '{origin}' }}"));
        }
        if let Some(size) = self.max_http_buffer_size {
            parts.push(format!("maxHttpBufferSize: {size}"));
        }
        if let Some(ms) = self.ping_interval_ms {
            parts.push(format!("pingInterval: {ms}"));
        }
        if let Some(ms) = self.ping_timeout_ms {
            parts.push(format!("pingTimeout: {ms}"));
        }
        match parts.is_empty() {
            true => "{}".to_owned(),
            false => format!("{{ {} }}", parts.join(", ")),
        }
    }
}

/// What the server saw, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// One HTTP request and the status it was answered with; for an error, the start of the
    /// body (Engine.IO's `{"code":…,"message":…}`).
    Request {
        method: String,
        target: String,
        status: u16,
        body: Option<String>,
    },
    /// `io.on('connection')` ran for a socket.
    Connected { sid: String },
    /// `socket.on('chat message', …)` is registered: before the CONNECT reply, or after the
    /// connection handler's `await`.
    Registered { after_await: bool },
    /// `socket.on('disconnect', reason)`: socketioxide's reason, as it names it.
    Disconnected { sid: String, reason: String },
}

/// A running configured server.
#[derive(Debug)]
pub struct ConfiguredServer {
    addr: SocketAddr,
    gate: Gate,
    seen: mpsc::UnboundedReceiver<Seen>,
    io: SocketIo,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

/// The longest error body the access log keeps: Engine.IO's errors are a few dozen bytes.
const BODY_KEPT: usize = 200;

// ANCHOR: configured
/// `new Server(httpServer, { path, cors, maxHttpBufferSize, pingInterval, pingTimeout })`.
fn attach(config: &ServerConfig, seen: mpsc::UnboundedSender<Seen>, gate: Gate) -> (SocketIo, Router) {
    let mut builder =
        SocketIo::builder().req_path(Cow::Owned(config.path().trim_end_matches('/').to_owned()));
    if let Some(size) = config.max_http_buffer_size {
        // Over polling the body of a POST; over WebSocket one message.
        builder = builder.max_payload(size).ws_max_message_size(size as usize);
    }
    if let Some(ms) = config.ping_interval_ms {
        builder = builder.ping_interval(Duration::from_millis(ms));
    }
    if let Some(ms) = config.ping_timeout_ms {
        builder = builder.ping_timeout(Duration::from_millis(ms));
    }
    let (layer, io) = builder.build_layer();
    on_connection(&io, config.handler_after_await, seen, gate);
    let mut app = super::app::app().layer(layer);
    // socketioxide has no `cors` option: CORS is the HTTP server's business in Rust.
    if let Some(origin) = &config.cors_origin {
        let origin = HeaderValue::from_str(origin).unwrap_or(HeaderValue::from_static("null"));
        app = app.layer(middleware::from_fn(move |req: Request, next: Next| {
            cors(origin.clone(), req, next)
        }));
    }
    (io, app)
}
// ANCHOR_END: configured

/// What the connection handler awaits (lesson 9.5: `await loadUser(socket)`): a permit the
/// tutor hands out once the client's first event has been read, so "before" is an order of
/// packets and not a race.
type Gate = Arc<Semaphore>;

/// The longest the connection handler awaits its gate: the tutor opens it within a step.
const GATE_WITHIN: Duration = Duration::from_secs(5);

/// `io.on('connection', …)`: the echo of `'chat message'` registered before the CONNECT reply,
/// or, with `after_await`, in the connection handler after an `await`.
fn on_connection(io: &SocketIo, after_await: bool, seen: mpsc::UnboundedSender<Seen>, gate: Gate) {
    let (early, late) = (seen.clone(), seen.clone());
    let before_reply = async move |socket: SocketRef| {
        if !after_await {
            register_early(&socket, &early);
        }
        Ok::<(), std::convert::Infallible>(())
    };
    let handler = async move |socket: SocketRef| {
        let _ = late.send(Seen::Connected {
            sid: socket.id.to_string(),
        });
        let gone = late.clone();
        socket.on_disconnect(async move |socket: SocketRef, reason: DisconnectReason| {
            let _ = gone.send(Seen::Disconnected {
                sid: socket.id.to_string(),
                reason: reason_name(reason).to_owned(),
            });
        });
        if after_await {
            register_late(socket, gate, late).await;
        }
    };
    io.ns("/", handler.with(before_reply));
}

// ANCHOR: early_handler
/// The fix: `socket.on('chat message', (msg) => socket.emit('chat message', msg))` before any
/// `await`. socketioxide runs the connection handler after it has sent the CONNECT reply, so
/// "first thing in the handler" is not early enough there: a connect middleware runs before
/// the reply, and a handler registered in it is there for the client's first event.
fn register_early(socket: &SocketRef, seen: &mpsc::UnboundedSender<Seen>) {
    socket.on("chat message", echo);
    let _ = seen.send(Seen::Registered { after_await: false });
}
// ANCHOR_END: early_handler

// ANCHOR: late_handler
/// `io.on('connection', async (socket) => { await loadUser(socket); socket.on('chat message', …) })`:
/// whatever the client sends while the handler awaits finds no listener, and is dropped
/// without a word, in Node as in socketioxide.
async fn register_late(socket: SocketRef, gate: Gate, seen: mpsc::UnboundedSender<Seen>) {
    // await loadUser(socket)
    let _ = tokio::time::timeout(GATE_WITHIN, gate.acquire()).await;
    socket.on("chat message", echo);
    let _ = seen.send(Seen::Registered { after_await: true });
}
// ANCHOR_END: late_handler

/// `(msg) => socket.emit('chat message', msg)`.
async fn echo(socket: SocketRef, Data(msg): Data<serde_json::Value>) {
    let _ = socket.emit("chat message", &msg);
}

// ANCHOR: cors
/// `cors: { origin: 'http://localhost:5173' }`: every answer says which page origin may read
/// it, as Node's `cors` package writes it; a preflight (`OPTIONS`) is answered here.
async fn cors(origin: HeaderValue, req: Request, next: Next) -> Response {
    let mut response = if req.method() == Method::OPTIONS {
        let mut preflight = Response::new(Body::empty());
        *preflight.status_mut() = StatusCode::NO_CONTENT;
        let methods = HeaderValue::from_static("GET,HEAD,PUT,PATCH,POST,DELETE");
        preflight
            .headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_METHODS, methods);
        preflight
    } else {
        next.run(req).await
    };
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    response
}
// ANCHOR_END: cors

/// socketioxide's disconnect reason in Socket.IO's words (those Node's `socket.on('disconnect')`
/// passes for the same cause).
fn reason_name(reason: DisconnectReason) -> &'static str {
    match reason {
        DisconnectReason::TransportClose => "transport close",
        DisconnectReason::MultipleHttpPollingError => "multiple polling requests",
        DisconnectReason::PacketParsingError => "parse error",
        DisconnectReason::TransportError => "transport error",
        DisconnectReason::HeartbeatTimeout => "ping timeout",
        DisconnectReason::ClientNSDisconnect => "client namespace disconnect",
        DisconnectReason::ServerNSDisconnect => "server namespace disconnect",
        DisconnectReason::ClosingServer => "server shutting down",
    }
}

/// The access log: each request, its status, and an error's body. Tutor plumbing, outermost,
/// so it sees the status the client got (the CORS layer's included).
async fn access_log(seen: mpsc::UnboundedSender<Seen>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let response = next.run(req).await;
    let status = response.status().as_u16();
    if status < 400 {
        let _ = seen.send(Seen::Request {
            method,
            target,
            status,
            body: None,
        });
        return response;
    }
    // An error body is small and complete: read it, log it, and hand the same bytes on.
    let (parts, body) = response.into_parts();
    let bytes = match tokio::time::timeout(Duration::from_secs(1), body.collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        _ => Default::default(),
    };
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(BODY_KEPT)]).into_owned();
    let _ = seen.send(Seen::Request {
        method,
        target,
        status,
        body: Some(text),
    });
    Response::from_parts(parts, Body::from(bytes))
}

impl ConfiguredServer {
    /// Builds the server `config` describes and serves it on `listener`.
    pub fn start(config: &ServerConfig, listener: TcpListener) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let (tx, seen) = mpsc::unbounded_channel();
        let gate: Gate = Arc::new(Semaphore::new(0));
        let (io, app) = attach(config, tx.clone(), gate.clone());
        let app = app.layer(middleware::from_fn(move |req: Request, next: Next| {
            access_log(tx.clone(), req, next)
        }));
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let stop = async {
            let _ = stop_rx.await;
        };
        let task = tokio::spawn(super::http::serve(listener, app, stop));
        Ok(Self {
            addr,
            gate,
            seen,
            io,
            shutdown: Some(stop_tx),
            task: Some(task),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The next thing the server saw, waiting at most `within`; `None` when nothing came.
    pub async fn next_seen(&mut self, within: Duration) -> Option<Seen> {
        tokio::time::timeout(within, self.seen.recv())
            .await
            .ok()
            .flatten()
    }

    /// What the server has seen so far, without waiting.
    pub fn seen_so_far(&mut self) -> Vec<Seen> {
        let mut all = Vec::new();
        while let Ok(seen) = self.seen.try_recv() {
            all.push(seen);
        }
        all
    }

    /// Lets every connection handler's `await` finish.
    pub fn open_gate(&self) {
        self.gate.add_permits(Semaphore::MAX_PERMITS / 2);
    }

    /// Closes every socket and stops serving, each bounded.
    pub async fn stop(mut self) {
        self.open_gate();
        let _ = tokio::time::timeout(Duration::from_millis(300), self.io.clone().close()).await;
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), task).await;
        }
    }
}
