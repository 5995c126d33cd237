//! What a check concludes: the verdict, the failure and its findings, in the learner's terms.

use serde::Serialize;

/// What a check concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every step observed what the lesson teaches.
    Pass { summary: String },
    /// Something differed, or the scenario could not be played at all.
    Fail(Failure),
}

impl Verdict {
    pub fn passed(&self) -> bool {
        matches!(self, Verdict::Pass { .. })
    }
}

/// Why a check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// There is no Socket.IO server to play the scenario against at the target.
    #[error("{0}")]
    Target(Problem),
    /// The server answered, but not the way the lesson teaches.
    #[error("{headline}")]
    Behaviour {
        headline: String,
        findings: Vec<Finding>,
    },
}

/// What was found at the target instead of a Socket.IO server, in the learner's terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The TCP connection was refused.
    #[error(
        "nothing is listening on {addr} (the connection was refused). Start your server first, or check the port in --url."
    )]
    NothingListening { addr: String },
    /// The connection was accepted, then nothing came back within the bound.
    #[error(
        "something at {addr} accepted the connection but never answered ({detail}). Is the program stuck, or is it not an HTTP server?"
    )]
    NoAnswer { addr: String, detail: String },
    /// A server is there, but the Socket.IO handshake at `path` got no Socket.IO answer.
    #[error("{}", not_socket_io(.addr, .path, .answer, .found_at.as_deref()))]
    NotSocketIo {
        addr: String,
        path: String,
        answer: Answer,
        /// Where Socket.IO was found instead, if it was (see [`discovery`]).
        found_at: Option<String>,
    },
    /// The Socket.IO handshake was answered with a redirect (see [`discovery`]).
    #[error(
        "the server redirected {path} to {location} ({status}) instead of answering the Socket.IO \
         handshake, and Socket.IO clients do not follow redirects. Is something in front of Socket.IO \
         (a login check, a redirect to https or to another host) catching its requests? Let {path} \
         through to Socket.IO, or, if Socket.IO is mounted elsewhere, pass that path with --path."
    )]
    Redirected {
        path: String,
        status: String,
        /// The `Location` header, made safe to print.
        location: String,
    },
    /// A WebSocket opened, but the server did not speak Engine.IO over it.
    #[error(
        "{detail}: this is a WebSocket server, but not a Socket.IO server (Socket.IO speaks Engine.IO packets over the WebSocket)."
    )]
    PlainWebSocket { detail: String },
    /// A Socket.IO server of an older protocol: socket.io 2.x speaks Engine.IO 3 (its polling
    /// answer is a length-prefixed payload, `97:0{"sid":…}2:40`) and Socket.IO protocol 4 (its
    /// CONNECT reply carries no sid). socket.io-client 3 and 4, and the tutor, speak Engine.IO 4
    /// and Socket.IO protocol 5, and cannot connect to it.
    #[error(
        "{detail}: this is a Socket.IO server, but of an older protocol (Engine.IO 3, as socket.io 2.x \
         speaks it). The tutor speaks the protocol of socket.io 3 and 4 (Engine.IO 4, Socket.IO 5), \
         as socket.io-client 3 and 4 do, and a 3.x or 4.x client cannot connect to a 2.x server. \
         Upgrade the server to socket.io 4 (npm install socket.io@4; lessons 1-7 use the same API). \
         Socket.IO 4's allowEIO3 option is the other way round: it lets old 2.x clients reach a new \
         server, not new clients reach an old one."
    )]
    OlderProtocol { detail: String },
    /// Engine.IO answered, then the session closed at the Socket.IO CONNECT without a reply: the
    /// server could not read the packet, most likely because it decodes packets with another
    /// parser (socket.io-msgpack-parser sends and expects binary MessagePack frames).
    #[error(
        "{detail}: the server opened an Engine.IO session, then dropped it at the tutor's Socket.IO \
         CONNECT (40) without answering, as a server does when it cannot read the packet. The tutor, \
         like io() by default, speaks Socket.IO's default JSON parser; your server seems to use \
         another one (for example socket.io-msgpack-parser, `new Server(server, {{ parser }})`, whose \
         packets are binary MessagePack frames). A client must use the server's parser: check a \
         server with the default parser."
    )]
    OtherParser { detail: String },
    /// The server refused the Socket.IO CONNECT for the default namespace.
    #[error(
        "the server refused the Socket.IO connection to the default namespace: {0}. Does a middleware (io.use) reject it?"
    )]
    ConnectRefused(String),
    /// Anything else that stopped the scenario, said as it was observed.
    #[error("{0}")]
    Other(String),
    /// Socket.IO answers only WebSocket requests (a server with `transports: ['websocket']`),
    /// so the default `io()`, which starts with long-polling, is turned away.
    #[error(
        "this is a Socket.IO server that accepts only WebSocket (transports: ['websocket']): its \
         long-polling handshake at {path} got {polling}. A page's io() starts with long-polling and is \
         refused by it. Allow polling on the server (the default transports: ['polling', \
         'websocket']), or connect with io({{ transports: ['websocket'] }}); to check the server as \
         such a client connects, run the check again with --transports websocket."
    )]
    WebSocketOnly { path: String, polling: String },
    /// The page is served here, and the page's Socket.IO answers on another port.
    #[error(
        "{addr} serves the page, but not Socket.IO: the Socket.IO server the page points to listens on \
         another port, {other} (at {path}). Two ports means two servers; lesson 1 shows how one serves \
         both: attach Socket.IO to the HTTP server that serves the page (`new Server(server)`, then \
         `server.listen(...)`). To check the Socket.IO server on its own port, use --url http://{other}."
    )]
    OtherPort {
        addr: String,
        other: String,
        path: String,
    },
    /// A cause, with what the tutor found at each place it looked (see `discovery`).
    #[error("{cause}")]
    Found { found: Vec<String>, cause: Box<Problem> },
}

/// What the Socket.IO handshake got instead of a Socket.IO answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// An ordinary HTTP response, `HTTP 404 Not Found`.
    Status(String),
    /// The server closed the connection without any answer.
    Closed,
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Status(status) => f.write_str(status),
            Answer::Closed => f.write_str("no answer (the server closed the connection)"),
        }
    }
}

pub(super) fn not_socket_io(addr: &str, path: &str, answer: &Answer, found_at: Option<&str>) -> String {
    match (found_at, answer) {
        (Some(there), _) => format!(
            "the Socket.IO handshake at {path} got {answer}, but this server speaks Socket.IO at {there} \
             (its page loads the client from there). Run the check again with --path {there}"
        ),
        (None, Answer::Closed) => format!(
            "{addr} took the WebSocket request for {path} and closed the connection without answering. \
             A Node server does that when it handles WebSocket requests, but not at this path: most \
             likely Socket.IO is attached with another `path` option (`new Server(server, {{ path }})`). \
             Pass that path with --path."
        ),
        (None, Answer::Status(status)) => format!(
            "{addr} answers HTTP, but the Socket.IO handshake at {path} got {status}: the server that \
             listens on this port has no Socket.IO attached at that path. The usual causes: \
             `new Server(server)` is attached to `server`, but the program calls `app.listen(...)`, which \
             starts a second HTTP server without Socket.IO (call `server.listen(...)` instead); or the \
             program never creates the Socket.IO server; or it sets another `path` option \
             (`new Server(server, {{ path }})`), in which case pass that path with --path."
        ),
    }
}

/// One difference between what the lesson teaches and what was observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The step (from 1), as in the trace.
    pub step: u32,
    /// What happened in that step, as the trace says it (`dave connects`).
    pub trigger: String,
    /// The difference, as observed.
    pub message: String,
    /// The likely mistake, where the observations show it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// Where the check was pointed, for messages.
#[derive(Debug, Clone)]
pub struct Where {
    /// `127.0.0.1:3000`.
    pub addr: String,
    /// `/socket.io/`.
    pub path: String,
}
