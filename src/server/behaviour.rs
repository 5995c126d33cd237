//! What the realtime server does: the bodies of `io.on('connection', …)` and
//! `socket.on('chat message', …)` that the lessons compare.
//!
//! The lessons choose from this small, closed vocabulary; the engine never names a lesson. Each
//! choice is one short named function whose body reads like the JavaScript line in its doc
//! comment, because those functions are what the tutor shows next to the Node.js code.
//!
//! # The three ways to emit
//!
//! | JavaScript                    | socketioxide                          | reaches                  |
//! |-------------------------------|---------------------------------------|--------------------------|
//! | `socket.emit(ev, …)`          | `socket.emit(ev, &data)`              | that one socket          |
//! | `io.emit(ev, …)`              | `io.emit(ev, &data).await`            | every socket, sender too |
//! | `socket.broadcast.emit(ev, …)`| `socket.broadcast().emit(ev, &data).await` | every socket but that one |
//!
//! Two details of socketioxide 0.18 matter here. Broadcasts return a future, and **nothing is sent
//! until it is awaited**: forgetting the `.await` compiles (with a warning) and silently sends
//! nothing. And the data argument is spread into Socket.IO arguments when it is a tuple or an
//! array, so `&[(); 0]` means "no arguments" (`42["hi"]`), while `&()` would send one `null`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::extract::SocketRef;

/// `socket.broadcast.emit('hi')` sends the event with no arguments at all.
pub const NO_ARGS: [(); 0] = [];

/// The body of `io.on('connection', (socket) => { … })`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnConnection {
    /// An empty body: the connection is accepted and nothing is sent.
    #[default]
    Nothing,
    /// `io.emit('hello', 'world')`.
    IoEmitHello,
    /// `socket.broadcast.emit('hi')`.
    BroadcastHi,
}

/// The body of `socket.on('chat message', (msg) => { … })`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnChat {
    /// `io.emit('chat message', msg)`.
    IoEmit,
    /// `socket.broadcast.emit('chat message', msg)`.
    BroadcastEmit,
}

/// Everything a stage's realtime server does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
pub struct Behaviour {
    /// Run when a socket connects.
    pub on_connection: OnConnection,
    /// Registered for `'chat message'`, if the stage has a chat.
    pub on_chat: Option<OnChat>,
}

/// Who a server call reaches, in Socket.IO's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Audience {
    /// Every connected socket, the one that triggered it included (`io.emit`).
    Everyone,
    /// Every connected socket except the one that triggered it (`socket.broadcast.emit`).
    EveryoneButSender,
}

impl OnConnection {
    /// The JavaScript this behaviour mirrors, as the trace names the action.
    pub fn js(self) -> Option<&'static str> {
        match self {
            Self::Nothing => None,
            Self::IoEmitHello => Some("io.emit('hello', 'world')"),
            Self::BroadcastHi => Some("socket.broadcast.emit('hi')"),
        }
    }

    /// The event and arguments this behaviour emits, and to whom.
    pub fn emits(self) -> Option<(&'static str, Vec<Value>, Audience)> {
        match self {
            Self::Nothing => None,
            Self::IoEmitHello => Some(("hello", vec![Value::from("world")], Audience::Everyone)),
            Self::BroadcastHi => Some(("hi", vec![], Audience::EveryoneButSender)),
        }
    }

    /// Runs the behaviour for a socket that just connected.
    pub async fn run(self, socket: &SocketRef, io: &SocketIo) -> Result<(), String> {
        let sent = match self {
            Self::Nothing => Ok(()),
            Self::IoEmitHello => io_emit_hello(io).await,
            Self::BroadcastHi => broadcast_hi(socket).await,
        };
        sent.map_err(|e| e.to_string())
    }
}

impl OnChat {
    /// The JavaScript this behaviour mirrors.
    pub fn js(self) -> &'static str {
        match self {
            Self::IoEmit => "io.emit('chat message', msg)",
            Self::BroadcastEmit => "socket.broadcast.emit('chat message', msg)",
        }
    }

    /// Who the echoed message reaches.
    pub fn audience(self) -> Audience {
        match self {
            Self::IoEmit => Audience::Everyone,
            Self::BroadcastEmit => Audience::EveryoneButSender,
        }
    }

    /// Runs the behaviour for one incoming chat message.
    pub async fn run(self, socket: &SocketRef, io: &SocketIo, msg: Value) -> Result<(), String> {
        let sent = match self {
            Self::IoEmit => io_emit_chat(io, msg).await,
            Self::BroadcastEmit => broadcast_chat(socket, msg).await,
        };
        sent.map_err(|e| e.to_string())
    }
}

type Sent = Result<(), socketioxide::BroadcastError>;

// ANCHOR: io_emit_hello
/// `io.on('connection', (socket) => { io.emit('hello', 'world'); });`
///
/// `io` is the whole server, so this reaches every connected socket,
/// including the one that has just connected: by the time the connection
/// handler runs, it is already in the list.
async fn io_emit_hello(io: &SocketIo) -> Sent {
    io.emit("hello", "world").await
}
// ANCHOR_END: io_emit_hello

// ANCHOR: broadcast_hi
/// `io.on('connection', (socket) => { socket.broadcast.emit('hi'); });`
///
/// `socket.broadcast` starts from this socket and excludes it: everyone
/// else hears the `hi`, the newcomer does not.
async fn broadcast_hi(socket: &SocketRef) -> Sent {
    socket.broadcast().emit("hi", &NO_ARGS).await
}
// ANCHOR_END: broadcast_hi

// ANCHOR: io_emit_chat
/// `socket.on('chat message', (msg) => { io.emit('chat message', msg); });`
///
/// The sender gets its own message back, like everybody else. That is why
/// a chat page can draw messages only when they arrive from the server: its
/// own included, all in one order.
async fn io_emit_chat(io: &SocketIo, msg: Value) -> Sent {
    io.emit("chat message", &msg).await
}
// ANCHOR_END: io_emit_chat

// ANCHOR: broadcast_chat
/// `socket.on('chat message', (msg) => {
///   socket.broadcast.emit('chat message', msg);
/// });`
///
/// The sender gets nothing back; a page built on this must draw its own
/// messages itself.
async fn broadcast_chat(socket: &SocketRef, msg: Value) -> Sent {
    socket.broadcast().emit("chat message", &msg).await
}
// ANCHOR_END: broadcast_chat
