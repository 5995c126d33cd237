//! The servers the lessons run, built the way the Node.js code builds them.
//!
//! The Node.js program the lessons study is three lines:
//!
//! ```js
//! const app = express();              // the app: decides what each request gets
//! const server = createServer(app);   // the HTTP server: owns the port, hands requests to app
//! const io = new Server(server);      // the realtime server: attaches to that same HTTP server
//! ```
//!
//! Each line has a Rust counterpart here, one file each, so a stage can stop after any of them:
//!
//! | Node.js              | Rust                                          | file             |
//! |----------------------|-----------------------------------------------|------------------|
//! | `express()`          | an [`axum::Router`]                           | [`app`]          |
//! | `createServer(app)`  | a [`tokio::net::TcpListener`] + [`axum::serve`] | [`http`]       |
//! | `new Server(server)` | socketioxide's layer wrapped around the router | [`realtime`]    |
//! | `io.of('/').adapter` | the in-memory adapter, naming lost packets    | [`observe::tally`] |
//!
//! Lesson 9's servers take `new Server(server, { path, cors, maxHttpBufferSize, … })`'s options
//! ([`stage_config`]) and may sit behind a reverse proxy ([`proxy`]).
//!
//! What the realtime server *does* (the `io.on('connection', …)` and `socket.on(…)` bodies) is a
//! [`Behaviour`]: one named handler per trigger, chosen from the registry in [`handlers`]. The
//! handlers run one at a time in the order their packets arrived, as Node's do ([`order`]).
//!
//! # How the tutor knows what the server did
//!
//! A lesson must say "dave did **not** receive `hi`" without waiting and hoping. Two facts make
//! that possible without any timer:
//!
//! * Every handler reports to the tutor when it has *finished* (a [`ServerEvent`] on a channel).
//!   socketioxide sends its CONNECT reply before it runs the connection handler, so a client
//!   cannot tell from the wire alone when `socket.on('chat message', …)` is registered; the report
//!   closes that gap.
//! * After a step, [`StageServer::fence`] emits one marker event to every socket. Packets to one
//!   socket leave in the order they were queued, so when a client sees the marker, everything the
//!   step sent it has already arrived. Whatever it has not received by then, it never will.
//!
//! Both are tutor plumbing, not Socket.IO features: they never appear in a trace, and `--wire`
//! labels the marker frames as such.

pub mod app;
pub mod behaviour;
pub mod fanout;
pub mod guard;
pub mod handlers;
pub mod http;
pub mod message;
pub mod nodes;
pub mod observe;
pub mod order;
pub mod proxy;
pub mod realtime;
pub mod spaces;
pub mod stage_config;

use std::net::SocketAddr;
use std::sync::Arc;

use socketioxide::SocketIo;
use tokio::net::TcpListener;
use tokio::sync::{RwLock, RwLockReadGuard, mpsc, oneshot};
use tokio::task::JoinHandle;

pub use behaviour::Behaviour;

/// The name of the tutor's marker event. Clients treat it as plumbing.
pub const FENCE_EVENT: &str = "tutor:fence";

/// How far a stage builds the Node.js program: after `express()`, after `createServer(app)`, or
/// after `new Server(server)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mount {
    /// Only the app: a router that nobody feeds requests to.
    AppOnly,
    /// The app behind an HTTP server listening on a port.
    HttpServer,
    /// The HTTP server with the Socket.IO server attached.
    Realtime,
}

/// What a server tells the tutor about its handlers, in the order they happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// A socket asked to join: who it says it is, from its handshake. Reported before the socket
    /// enters the namespace, so before any emit can select it (see [`observe::live::identify`]).
    Handshake {
        sid: String,
        /// The handshake's query parameters, decoded, in the order sent.
        query: Vec<(String, String)>,
        /// Its `User-Agent` header, when it sent one.
        user_agent: Option<String>,
    },
    /// The `io.on('connection')` handler for this socket has run to the end.
    ///
    /// `nsp` is the namespace the socket joined (`/`, `/admin`): socketioxide gives a client's
    /// sockets on every namespace the same id, so the id alone does not say which one it is.
    Connected { sid: String, nsp: String },
    /// A `socket.on(event)` handler has run to the end.
    Handled { sid: String, event: String },
    /// A handler refused its input (malformed data); the server carried on.
    Rejected {
        sid: String,
        event: String,
        reason: String,
    },
    /// The socket left.
    Disconnected { sid: String, nsp: String },
    /// A connect middleware refused the socket: it got a CONNECT_ERROR with `message`, and no
    /// handler of namespace `nsp` ever runs for it. Reported before the refusal is sent.
    Refused {
        sid: String,
        nsp: String,
        message: String,
    },
    /// A handler emitted: what it sent, the JavaScript it mirrors, and the sockets it queued
    /// the packet for (see [`observe::live`]). Reported before that handler's `Connected` or `Handled`.
    Sent {
        sid: String,
        /// `"connection"` for the `io.on('connection')` body, else the event being handled.
        trigger: String,
        event: String,
        args: Vec<serde_json::Value>,
        action: &'static str,
        /// Whom the handler declares the emit is for.
        audience: crate::vocab::Audience,
        /// Boxed: the largest part of a report by far, and most reports are not emits.
        recipients: Box<observe::live::Recipients>,
    },
    /// A handler's `emitWithAck` has finished waiting: what came back from each socket it
    /// asked, by socket id, in the order it came (an answer, or the timer that ran out).
    /// Reported after that emit's `Sent`, before the handler's `Connected` or `Handled`.
    Acked {
        sid: String,
        /// The event that asked.
        event: String,
        answers: Vec<(String, crate::vocab::Ack)>,
    },
}

/// What a stage's handlers share with their [`StageServer`]: the channel they report through,
/// and a lock that keeps shutdown from closing the server in the middle of an emit. Cloning is
/// cheap: both are shared handles.
#[derive(Debug, Clone)]
pub struct Reporter {
    events: mpsc::UnboundedSender<ServerEvent>,
    /// Handlers take it to read, [`StageServer::stop`] to write; see [`Reporter::hold_open`].
    closing: Arc<RwLock<()>>,
    /// The sockets whose full buffer lost them a broadcast, as the adapter noted them (see
    /// [`observe::tally`]).
    pub(crate) losses: observe::tally::Losses,
    /// Set when the server begins to stop, for handlers that wait (see [`handlers::Stopping`]).
    pub(crate) stopping: handlers::Stopping,
    /// How many [`ServerEvent::Rejected`] reports came in a row, with nothing else between
    /// them (see [`Reporter::send`]).
    refusals: Arc<std::sync::atomic::AtomicU64>,
}

/// How many refusals in a row are all reported; past it, only the 128th, 256th, 512th, …
const REFUSALS_SHOWN: u64 = 64;

impl Reporter {
    /// A reporter, and the receiving end of its reports.
    pub(crate) fn new() -> (Self, mpsc::UnboundedReceiver<ServerEvent>) {
        let (events, receiver) = mpsc::unbounded_channel();
        let closing = Arc::new(RwLock::new(()));
        let losses = observe::tally::Losses::default();
        (
            Self {
                events,
                closing,
                losses,
                stopping: handlers::Stopping::default(),
                refusals: Arc::default(),
            },
            receiver,
        )
    }

    /// Reports to the tutor. Returns false when nobody listens any more (the tutor has moved
    /// on), which a handler may ignore.
    ///
    /// The channel has no bound, because the tutor must see every delivery. Refusals are the one
    /// report a client can make the server send as fast as it can send packets (a `join` past
    /// the rooms bound, a message past the line's): a client doing that in a loop made them
    /// pile up faster than serve prints, and serve grew by tens of MB. So after
    /// [`REFUSALS_SHOWN`] refusals in a row, only the 128th, 256th, … are reported, each saying
    /// how many there were; any other report ends the run.
    pub fn send(&self, event: ServerEvent) -> bool {
        use std::sync::atomic::Ordering;
        let event = match event {
            ServerEvent::Rejected { sid, event, reason } => {
                let run = self.refusals.fetch_add(1, Ordering::Relaxed) + 1;
                if run > REFUSALS_SHOWN && !run.is_power_of_two() {
                    return true;
                }
                let reason = match run > REFUSALS_SHOWN {
                    true => format!("{reason} (refusal {run} in a row; only some are reported)"),
                    false => reason,
                };
                ServerEvent::Rejected { sid, event, reason }
            }
            other => {
                self.refusals.store(0, Ordering::Relaxed);
                other
            }
        };
        self.events.send(event).is_ok()
    }

    /// Waits while the server is being closed, then returns a guard: as long as any guard is
    /// held, [`StageServer::stop`] does not start closing. A handler holds one from the moment
    /// it checks that the server is still open until its emit is done (see
    /// `realtime::run` for why). A server's handlers take turns on its one worker (see
    /// [`order`]), so at most one of them holds a guard at a time; the lock keeps `io.close()`
    /// outside that turn.
    pub async fn hold_open(&self) -> RwLockReadGuard<'_, ()> {
        self.closing.read().await
    }
}

/// How long [`StageServer::stop`] waits for the sockets to close before it closes the
/// connections under them: a client on this machine that still reads answers in microseconds.
const CLOSE_WITHIN: std::time::Duration = std::time::Duration::from_millis(300);

/// A running stage server.
#[derive(Debug)]
pub struct StageServer {
    /// Where it listens, for the stages that listen at all.
    addr: Option<SocketAddr>,
    /// The realtime server's handle, for the stage that has one.
    io: Option<SocketIo<observe::tally::Tally>>,
    /// Handler reports, see [`ServerEvent`].
    events: mpsc::UnboundedReceiver<ServerEvent>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    /// The lock its handlers hold while they emit, see [`Reporter::hold_open`].
    closing: Arc<RwLock<()>>,
    /// Tells a handler that waits on a client to stop waiting, see [`handlers::Stopping`].
    stopping: handlers::Stopping,
}

impl StageServer {
    /// Builds the server a stage asks for and, unless it is only the app, starts listening on
    /// `listener`.
    pub fn start(mount: Mount, behaviour: Behaviour, listener: Option<TcpListener>) -> std::io::Result<Self> {
        Self::start_serving(mount, behaviour, listener, None, None, app::app())
    }

    /// [`StageServer::start`], with the message database the delivery handlers write to (see
    /// [`handlers::delivery`]).
    pub fn start_with_log(
        mount: Mount,
        behaviour: Behaviour,
        listener: Option<TcpListener>,
        log: Option<handlers::delivery::Log>,
    ) -> std::io::Result<Self> {
        Self::start_serving(mount, behaviour, listener, None, log, app::app())
    }

    /// The one constructor behind the others, for `serve`.
    ///
    /// With `guard`, for a server that strangers' programs can reach, the listener is served by
    /// [`http::serve_guarded`] (a time limit on request headers, a bound on open connections)
    /// and every Socket.IO request has its `Origin` checked ([`guard::origin`]). Lessons and `check`
    /// talk only to their own clients and need neither. With `log`, the delivery handlers keep
    /// their messages in that database (see [`handlers::delivery`]). `app` takes the place of
    /// the stage's own [`app::app`]: `serve` adds its live diagram page (`/tutor/`) to it, on
    /// the same port.
    pub fn start_serving(
        mount: Mount,
        behaviour: Behaviour,
        listener: Option<TcpListener>,
        guard: Option<http::Guard>,
        log: Option<handlers::delivery::Log>,
        app: axum::Router,
    ) -> std::io::Result<Self> {
        let (report, events) = Reporter::new();
        let closing = report.closing.clone();
        let stopping = report.stopping.clone();
        let (io, router) = match mount {
            Mount::AppOnly | Mount::HttpServer => (None, app),
            Mount::Realtime => {
                let (io, router) = realtime::attach(app, behaviour, report, log);
                (Some(io), router)
            }
        };
        let (addr, shutdown, task) = match (mount, listener) {
            (Mount::AppOnly, _) | (_, None) => (None, None, None),
            (_, Some(listener)) => {
                let addr = listener.local_addr()?;
                let (tx, rx) = oneshot::channel();
                let stop = async {
                    let _ = rx.await;
                };
                let task = match guard {
                    None => tokio::spawn(http::serve(listener, router, stop)),
                    Some(guard) => {
                        // The Origin check first (outermost), then the bound on new sessions: a
                        // refused page's handshakes do not count against the others'.
                        let router = router
                            .layer(guard::handshakes::HandshakeLayer::new(
                                guard.max_handshakes,
                                guard.log.clone(),
                            ))
                            .layer(guard::origin::OriginLayer::new(
                                guard.origins.clone(),
                                guard.log.clone(),
                            ));
                        tokio::spawn(http::serve_guarded(listener, router, guard, stop))
                    }
                };
                (Some(addr), Some(tx), Some(task))
            }
        };
        Ok(Self {
            addr,
            io,
            events,
            shutdown,
            task,
            closing,
            stopping,
        })
    }

    /// Where it listens, for the stages that listen at all.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// Whether this stage has a Socket.IO server (and so sockets, events and reports).
    pub fn is_realtime(&self) -> bool {
        self.io.is_some()
    }

    /// The next report from its handlers, in the order they were made; `None` once the server
    /// is gone.
    pub async fn next_event(&mut self) -> Option<ServerEvent> {
        self.events.recv().await
    }

    /// A report already waiting, if there is one.
    pub fn try_next_event(&mut self) -> Option<ServerEvent> {
        self.events.try_recv().ok()
    }

    /// How many reports are waiting to be taken: a reader that falls behind can tell.
    pub fn pending_events(&self) -> usize {
        self.events.len()
    }

    // ANCHOR: fence
    /// Emits the tutor's marker event number `n` to every connected socket. See the module
    /// documentation for why this proves that nothing else is on its way.
    ///
    /// A socket that is closing (its client just disconnected) may still be on the list for a
    /// moment: socketioxide runs the disconnect handler first and removes the socket after. The
    /// fence cannot reach it, and needs not: nobody reads up to a fence on a closed socket. So a
    /// failure only for closed sockets is no failure.
    pub async fn fence(&self, n: u64) -> Result<(), String> {
        let Some(io) = &self.io else { return Ok(()) };
        // One marker per namespace: a client with sockets on `/` and `/admin` reads one on
        // each, and has then read everything sent to either before it.
        for space in io.nsps() {
            match space.emit(FENCE_EVENT, &n).await {
                Ok(()) => {}
                Err(socketioxide::BroadcastError::Socket(errors))
                    if errors
                        .iter()
                        .all(|e| matches!(e, socketioxide::SocketError::Closed)) => {}
                Err(e) => return Err(format!("could not send the fence: {e}")),
            }
        }
        Ok(())
    }
    // ANCHOR_END: fence

    /// Closes every connection, stops accepting new ones and waits for the server task to end.
    pub async fn stop(mut self) {
        if let Some(io) = self.io.take() {
            // A handler that waits for a client to read (a long replay) gives up now, so the
            // lock below is not held for the length of its wait.
            self.stopping.begin();
            // `io.close()` empties socketioxide's table of namespaces, and an `io.emit` that runs
            // at that moment panics. Taking this lock for writing waits until no handler is
            // between its check and its emit, and keeps new ones waiting until the close is
            // done; they then find the server closed and leave the message unanswered.
            let _closing = self.closing.write().await;
            // The close sends each socket its goodbye and waits for its transport to end. A
            // client that stopped reading (its buffer full, its TCP window shut) never lets that
            // end, so the wait is bounded; the HTTP server's shutdown below then cuts the
            // connection. socketioxide takes the namespaces away before it waits, so no handler
            // finds "/" after this, whether the wait ended or was cut short.
            let _ = tokio::time::timeout(CLOSE_WITHIN, io.close()).await;
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(n: u64) -> ServerEvent {
        ServerEvent::Rejected {
            sid: "s".into(),
            event: "join".into(),
            reason: format!("refused {n}"),
        }
    }

    /// A flood of refusals reaches the tutor thinned out and counted; anything else ends the
    /// run, and refusals are then reported one by one again.
    #[test]
    fn a_run_of_refusals_is_thinned_and_counted() {
        let (report, mut events) = Reporter::new();
        for n in 1..=1000 {
            assert!(report.send(refusal(n)));
        }
        let mut got = Vec::new();
        while let Ok(ServerEvent::Rejected { reason, .. }) = events.try_recv() {
            got.push(reason);
        }
        // 64 one by one, then the 128th, 256th and 512th, each saying where in the run it is.
        assert_eq!(got.len(), 64 + 3, "{got:?}");
        assert_eq!(got[63], "refused 64");
        assert_eq!(
            got[64],
            "refused 128 (refusal 128 in a row; only some are reported)"
        );
        assert!(
            got[66].starts_with("refused 512 (refusal 512 in a row"),
            "{got:?}"
        );
        report.send(ServerEvent::Handled {
            sid: "s".into(),
            event: "chat message".into(),
        });
        report.send(refusal(1001));
        assert!(matches!(events.try_recv(), Ok(ServerEvent::Handled { .. })));
        assert!(
            matches!(events.try_recv(), Ok(ServerEvent::Rejected { reason, .. }) if reason == "refused 1001")
        );
    }
}
