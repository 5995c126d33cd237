//! What can be wrong, why, what fixes it, and where the tutor shows it.
//!
//! Each [`Finding`] is one cause from Socket.IO's own troubleshooting list, said once: its cause
//! and its fix are here, and [`SHOWN_IN`] is the one table from a finding to the lesson stages
//! that show it live. A lesson that adds a stage about a cause adds it to that table (a test
//! checks that every stage named there exists).

use serde::Serialize;

/// One cause a failing line of the checklist names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Finding {
    /// No address for the host name.
    Dns,
    /// The TCP connection was refused, or never completed.
    Unreachable,
    /// A TCP connection, then no HTTP answer (or not HTTP) within the bound.
    NoHttp,
    /// An HTTP server answers, but not Socket.IO at this path.
    NotSocketIo,
    /// A WebSocket server answers, but it does not speak Engine.IO.
    #[serde(rename = "plain-websocket")]
    PlainWebSocket,
    /// Engine.IO answers, but refuses the handshake (an error code and message).
    HandshakeRefused,
    /// The server allows only WebSocket (`transports: ['websocket']`): a default `io()`, which
    /// starts with long-polling, is turned away.
    PollingOff,
    /// socket.io 2.x: Engine.IO 3, which socket.io-client 3 and 4 cannot talk to.
    #[serde(rename = "engine-io-3")]
    EngineIo3,
    /// The response has no `Access-Control-Allow-Origin` for the page's origin.
    NoCors,
    /// The server refuses requests from this origin outright (not only the CORS headers).
    OriginRefused,
    /// CORS allows the origin, but not with credentials (`withCredentials: true`).
    NoCredentials,
    /// The CORS preflight a page with `extraHeaders` sends is refused.
    PreflightRefused,
    /// The server allows only long-polling (`transports: ['polling']`).
    #[serde(rename = "websocket-off")]
    WebSocketOff,
    /// The WebSocket request reached the server without its `Upgrade` header.
    UpgradeDropped,
    /// The WebSocket failed in another way (no 101, no OPEN, no probe answer).
    #[serde(rename = "websocket-broken")]
    WebSocketBroken,
    /// Follow-up requests of one session reach a server that does not know it.
    NotSticky,
    /// The namespace refused the CONNECT (a middleware: `next(new Error(…))`).
    ConnectRefused,
    /// No namespace of that name on the server.
    InvalidNamespace,
    /// The CONNECT got no answer, or one that is not Socket.IO.
    NoConnectReply,
    /// The whole run's time bound passed before this check could run.
    OutOfTime,
}

/// The one table from a finding to the lesson stages (`lesson.stage`) that show it. A finding
/// no stage shows yet is not listed.
pub const SHOWN_IN: &[(Finding, &[&str])] = &[
    // Lesson 1: `/socket.io/` answers 404 until the realtime server is attached (1.1, 1.2), and
    // what an attached one answers, the upgrade included (1.3).
    (Finding::NotSocketIo, &["1.1", "1.3", "9.2"]),
    (Finding::WebSocketOff, &["1.3"]),
    (Finding::UpgradeDropped, &["1.3", "9.4"]),
    (Finding::WebSocketBroken, &["1.3"]),
    // Lesson 7: polling needs every request of a session on one server.
    (Finding::NotSticky, &["7.3"]),
    // Lesson 9: a page's io() turned away, and the option that lets it in.
    (Finding::NoCors, &["9.1"]),
    (Finding::EngineIo3, &["9.3"]),
];

/// The stages that show `finding`, from [`SHOWN_IN`].
pub fn shown_in(finding: Finding) -> &'static [&'static str] {
    SHOWN_IN
        .iter()
        .find(|(f, _)| *f == finding)
        .map_or(&[], |(_, stages)| stages)
}

impl Finding {
    /// Why it happens.
    pub fn cause(self) -> &'static str {
        match self {
            Finding::Dns => "the host name has no address (a typo, or a name only another network knows)",
            Finding::Unreachable => {
                "nothing accepts connections at that host and port, or a firewall drops them"
            }
            Finding::NoHttp => "something accepts TCP connections there but does not answer HTTP in time",
            Finding::NotSocketIo => {
                "no Socket.IO server answers at this path: the server's `path` option differs, the \
                 Socket.IO server is not attached to this HTTP server, or a proxy does not forward the path"
            }
            Finding::PlainWebSocket => {
                "a plain WebSocket server answers: a Socket.IO client cannot talk to it, it needs \
                 a Socket.IO server (the Engine.IO framing and packets)"
            }
            Finding::HandshakeRefused => {
                "the server refused the polling handshake itself (allowRequest, or an Engine.IO \
                 option such as transports)"
            }
            Finding::PollingOff => {
                "the server allows only WebSocket (transports: ['websocket']), and a default \
                 io() starts with long-polling, which it refuses (\"Transport unknown\")"
            }
            Finding::EngineIo3 => {
                "the server is socket.io 2.x (Engine.IO 3): socket.io-client 3 and 4 speak \
                 Engine.IO 4 and cannot connect to it"
            }
            Finding::NoCors => {
                "the answer has no Access-Control-Allow-Origin for this origin, so a page there \
                 cannot read it (io() reports \"xhr poll error\")"
            }
            Finding::OriginRefused => {
                "the server turns requests from this origin away itself (python-socketio's \
                 cors_allowed_origins, or an allowRequest check in Node), so a page there cannot \
                 connect"
            }
            Finding::NoCredentials => {
                "the answer does not allow credentials for this origin, so a page using \
                 withCredentials: true cannot read it"
            }
            Finding::PreflightRefused => {
                "the CORS preflight (OPTIONS) is refused; a default io() sends none, but one with \
                 extraHeaders does, and then cannot poll"
            }
            Finding::WebSocketOff => {
                "the server allows only HTTP long-polling (transports: ['polling']), so every \
                 message costs an HTTP request"
            }
            Finding::UpgradeDropped => {
                "the WebSocket request reached the server without its Upgrade header: a proxy in \
                 between does not forward it, so clients stay on long-polling"
            }
            Finding::WebSocketBroken => "the WebSocket did not open or did not carry Engine.IO",
            Finding::NotSticky => {
                "requests of one session reach different servers (\"Session ID unknown\"): \
                 several servers behind a load balancer without sticky sessions"
            }
            Finding::ConnectRefused => {
                "a middleware (io.use) refused the connection with next(new Error(...))"
            }
            Finding::InvalidNamespace => {
                "the server has no such namespace (io.of(...) is never called for it)"
            }
            Finding::NoConnectReply => "the CONNECT packet got no Socket.IO answer",
            Finding::OutOfTime => "the whole run's time bound passed before this check could run",
        }
    }

    /// What fixes it.
    pub fn fix(self) -> &'static str {
        match self {
            Finding::Dns => "check the host name in the URL",
            Finding::Unreachable => "start the server, or check the port and the firewall",
            Finding::NoHttp => "check that the port is the HTTP server's, and that it is not stuck",
            Finding::NotSocketIo => {
                "give the server's path with --path (io(url, { path })), attach Socket.IO to this \
                 HTTP server (new Server(httpServer)), or forward the path in the proxy"
            }
            Finding::PlainWebSocket => {
                "run a Socket.IO server there (socket.io, not ws), or connect with a plain WebSocket client"
            }
            Finding::HandshakeRefused => {
                "look at io.engine.on('connection_error', …) on the server: it names the request and the code"
            }
            Finding::PollingOff => {
                "connect with io(url, { transports: ['websocket'] }), or allow polling on the \
                 server (the default transports)"
            }
            Finding::EngineIo3 => {
                "upgrade the server to socket.io 4 (with allowEIO3: true it still accepts the old \
                 clients), or use socket.io-client 2.x"
            }
            Finding::NoCors => "allow the origin on the server: new Server(httpServer, { cors: { origin } })",
            Finding::OriginRefused => {
                "allow the origin on the server: python-socketio's cors_allowed_origins=[origin], \
                 Node's cors: { origin }"
            }
            Finding::NoCredentials => {
                "add credentials: true to the cors option, with the origin named (not '*')"
            }
            Finding::PreflightRefused => {
                "set the cors option (it answers preflights), or drop extraHeaders on the client"
            }
            Finding::WebSocketOff => "allow WebSocket: transports: ['polling', 'websocket'] (the default)",
            Finding::UpgradeDropped => {
                "forward the upgrade in the proxy; for nginx: proxy_http_version 1.1; \
                 proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\";"
            }
            Finding::WebSocketBroken => "look at the proxy and the server logs for the WebSocket request",
            Finding::NotSticky => {
                "enable sticky sessions in the load balancer (nginx: ip_hash or hash), or connect \
                 with transports: ['websocket'] only"
            }
            Finding::ConnectRefused => {
                "send what the middleware wants, e.g. io(url, { auth: { token } }) (--auth here)"
            }
            Finding::InvalidNamespace => {
                "create it on the server with io.of(name), or connect to a namespace it has"
            }
            Finding::NoConnectReply => "look at the server's logs for the CONNECT",
            Finding::OutOfTime => "run the doctor again; a slow server or network shows in the other lines",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_finding_is_in_the_table_at_most_once() {
        for (i, (finding, stages)) in SHOWN_IN.iter().enumerate() {
            assert!(!stages.is_empty(), "{finding:?}");
            assert!(
                SHOWN_IN[i + 1..].iter().all(|(f, _)| f != finding),
                "{finding:?} twice"
            );
        }
        assert_eq!(shown_in(Finding::NotSticky), ["7.3"]);
        assert!(shown_in(Finding::Dns).is_empty());
    }
}
