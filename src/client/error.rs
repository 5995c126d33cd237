//! Why a connection did not become a Socket.IO socket, one variant per step that can fail.

use std::time::Duration;

/// Why a connection did not become a Socket.IO socket. Each variant says which step failed, so
/// a lesson can show the exact point where "nothing listens" differs from "nothing speaks
/// Socket.IO here".
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The TCP connection was refused: no process listens on that port.
    #[error("connection refused: nothing is listening on {addr}")]
    Refused { addr: String },
    /// The server answered the handshake with an ordinary HTTP response: not `101 Switching
    /// Protocols` to a WebSocket request, or not `200` with an OPEN packet to a polling GET.
    #[error("the server answered {status} to the Engine.IO handshake request")]
    HttpStatus { status: String, body: String },
    /// The server closed the connection without answering the WebSocket request at all. A Node
    /// server does that when it handles WebSocket upgrades, but not at this path: Socket.IO
    /// attached with another `path` option, for example, drops upgrades meant for other paths.
    #[error("the server closed the connection without answering the WebSocket request")]
    ClosedUnanswered,
    /// The transport opened (a WebSocket, or a polling GET answered `200`), but what came first
    /// was not an Engine.IO OPEN packet. A valid Engine.IO server never does this: its first
    /// packet on a new session is always the OPEN.
    #[error("the server did not speak Engine.IO: its first frame was {0:?}, not an OPEN packet")]
    NotEngineIo(String),
    /// The server refused the Socket.IO CONNECT (`44{"message":…,"data":…}`): `connect_error`
    /// in socket.io-client, whose `err.message` and `err.data` these are. Node sends the `data` a
    /// middleware put on its error; socketioxide 0.18 sends a message only.
    #[error("the server refused the Socket.IO connection: {message}")]
    Refused44 {
        message: String,
        data: Option<serde_json::Value>,
    },
    /// A step did not complete in time.
    #[error("timed out after {after:?} waiting for {what}")]
    Timeout { what: String, after: Duration },
    /// Anything else on the way (a reset connection, a bad URL).
    #[error("{0}")]
    Other(String),
}

/// Why joining one more namespace over a connected session ([`super::SimClient::join_namespace`])
/// did not give a socket there. The session and the sockets it already has go on either way.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// The server answered CONNECT_ERROR (`44/admin,{"message":…,"data":…}`): a middleware of
    /// that namespace said no, or nobody serves it (`Invalid namespace`). `data` is what Node
    /// sends along from the middleware's `err.data`; socketioxide sends a message only.
    #[error("the server refused the socket on {nsp}: {message}")]
    Refused {
        nsp: String,
        message: String,
        data: Option<serde_json::Value>,
    },
    /// No answer in time, a closed session, or a namespace this client cannot join.
    #[error(transparent)]
    Connect(#[from] ConnectError),
}
