//! How to play a stage (its options, its target, the bounds on its waits) and why it could not
//! be played to the end.

use std::sync::Arc;
use std::time::Duration;

use crate::client::{ConnectError, Transport};
use crate::parts::redis::RedisError;
use crate::parts::redis_server::Redis;

/// Why a stage could not be played to the end.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A bounded wait expired; the message says what was awaited from whom.
    #[error("timed out after {after:?} waiting for {what}")]
    Timeout { what: String, after: Duration },
    /// A client could not connect where the lesson needs it connected.
    #[error("{client} could not connect: {source}")]
    Connect { client: String, source: ConnectError },
    /// The server refused a CONNECT to another namespace (a middleware said no, or the server
    /// has no such namespace) where the lesson needs the client in.
    #[error("the server refused {client}'s CONNECT to {nsp}: {message}")]
    JoinRefused {
        client: String,
        nsp: String,
        message: String,
        /// What the refusal carried beside the message (Node: the error's `data`).
        data: Option<serde_json::Value>,
    },
    /// A stage needs Redis and there is none, or the one it used went away.
    #[error("{0}")]
    Redis(RedisError),
    /// The learner stopped the stage (predict mode's quit).
    #[error("stopped by the learner")]
    Stopped,
    /// Anything else, said plainly.
    #[error("{0}")]
    Other(String),
}

/// The most events one client may receive in one step from someone else's server (`check`).
/// A lesson step makes a server send one or two; past this, the step fails and says so, instead
/// of reading for as long as a flooding server keeps sending.
pub const MAX_EVENTS_PER_STEP: usize = 1000;

/// The bound on each client's goodbye at the end of a stage (see
/// [`SimClient::leave`](crate::client::SimClient::leave)). It takes one round trip; a server that
/// never answers the WebSocket Close costs at most this.
pub const LEAVE_WITHIN: Duration = Duration::from_millis(500);

/// How to play a stage.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Record raw frames for `--wire`.
    pub wire: bool,
    /// The bound on every single wait.
    pub timeout: Duration,
    /// How the simulated clients connect, named as socket.io-client's `transports` option. By
    /// default what a page's `io()` does: long-polling first, then the upgrade to WebSocket (see
    /// [`Session::options_for`](super::Session::options_for)). A connect step that names its
    /// client's transports overrides this for that client.
    pub transports: Vec<Transport>,
    /// A Redis the stages that need one share (the command line starts it once per run);
    /// without it, each such stage starts its own, or connects to `redis_url`.
    pub redis: Option<Arc<Redis>>,
    /// `--redis redis://host:port`: use this Redis instead of starting one.
    pub redis_url: Option<String>,
    /// `--clients N`: a measurement of audiences (lesson 10) also measures N clients.
    pub clients: Option<usize>,
    /// The tutor's own program, to run lesson 10's clients in a process apart from the server
    /// (`fanout-clients`), so the server's memory per connection is its own. Without it (the
    /// library, the tests), the clients share the process and their memory is counted too.
    pub client_program: Option<std::path::PathBuf>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            wire: false,
            timeout: Duration::from_secs(5),
            transports: vec![Transport::Polling, Transport::WebSocket],
            redis: None,
            redis_url: None,
            clients: None,
            client_program: None,
        }
    }
}

/// Where the scenario is played.
#[derive(Debug, Clone)]
pub enum Target {
    /// Start the stage's own server on 127.0.0.1 and use fences.
    Local,
    /// Someone else's server at `url`, Socket.IO mounted at `path`; no fences. A stage with
    /// several servers finds the second and later ones at `more`.
    Remote {
        url: String,
        more: Vec<String>,
        path: String,
        /// The bound on waiting for an expected delivery.
        expect_within: Duration,
        /// How long to listen for unexpected deliveries once the expected ones are in.
        quiet: Duration,
    },
}
