//! `io.emit` and `socket.broadcast.emit`: the two ways lessons 2 and 3 compare.
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

use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use socketioxide::{BroadcastError, SocketIo};

use super::{Call, Failed, Handle, Handler, registry};
use crate::vocab::{Audience, Effect};

/// `socket.broadcast.emit('hi')` sends the event with no arguments at all.
pub const NO_ARGS: [(); 0] = [];

/// What a broadcast returns: queued for every selected socket, or why not.
pub type Sent = Result<(), BroadcastError>;

/// This file's handlers, as the registry lists them.
pub fn handlers<A: Adapter>() -> Vec<Handler<A>> {
    registry![A; IoEmitHello, BroadcastHi, BroadcastUserLeft, IoEmitChat, BroadcastChat]
}

/// `io.emit('hello', 'world')` when a socket connects.
#[derive(Debug)]
pub struct IoEmitHello;

impl Handle for IoEmitHello {
    const NAME: &'static str = "io-emit-hello";
    const ON: &'static str = "connection";
    const ANCHOR: &'static str = "io_emit_hello";

    fn parse(_: &[Value]) -> Result<Self, String> {
        Ok(Self)
    }

    fn effect(&self) -> Effect {
        let js = "io.emit('hello', 'world')";
        Effect::emits(js, "hello", vec![Value::from("world")], Audience::Everyone)
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        Ok(io_emit_hello(&call.io).await?)
    }
}

/// `socket.broadcast.emit('hi')` when a socket connects.
#[derive(Debug)]
pub struct BroadcastHi;

impl Handle for BroadcastHi {
    const NAME: &'static str = "broadcast-hi";
    const ON: &'static str = "connection";
    const ANCHOR: &'static str = "broadcast_hi";

    fn parse(_: &[Value]) -> Result<Self, String> {
        Ok(Self)
    }

    fn effect(&self) -> Effect {
        let js = "socket.broadcast.emit('hi')";
        Effect::emits(js, "hi", vec![], Audience::EveryoneButSender)
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        Ok(broadcast_hi(&call.socket).await?)
    }
}

/// `socket.broadcast.emit('user left')` when a socket disconnects.
#[derive(Debug)]
pub struct BroadcastUserLeft;

impl Handle for BroadcastUserLeft {
    const NAME: &'static str = "broadcast-user-left";
    const ON: &'static str = "disconnect";
    const ANCHOR: &'static str = "broadcast_user_left";

    fn parse(_: &[Value]) -> Result<Self, String> {
        Ok(Self)
    }

    fn effect(&self) -> Effect {
        let js = "socket.broadcast.emit('user left')";
        Effect::emits(js, "user left", vec![], Audience::EveryoneButSender)
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        Ok(broadcast_user_left(&call.socket).await?)
    }
}

/// `io.emit('chat message', msg)` for each chat message.
#[derive(Debug)]
pub struct IoEmitChat {
    msg: Value,
}

impl Handle for IoEmitChat {
    const NAME: &'static str = "io-emit-chat";
    const ON: &'static str = "chat message";
    const ANCHOR: &'static str = "io_emit_chat";

    fn parse(args: &[Value]) -> Result<Self, String> {
        Ok(Self { msg: msg(args)? })
    }

    fn effect(&self) -> Effect {
        let js = "io.emit('chat message', msg)";
        Effect::emits(js, "chat message", vec![self.msg.clone()], Audience::Everyone)
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        Ok(io_emit_chat(&call.io, self.msg).await?)
    }
}

/// `socket.broadcast.emit('chat message', msg)` for each chat message.
#[derive(Debug)]
pub struct BroadcastChat {
    msg: Value,
}

impl Handle for BroadcastChat {
    const NAME: &'static str = "broadcast-chat";
    const ON: &'static str = "chat message";
    const ANCHOR: &'static str = "broadcast_chat";

    fn parse(args: &[Value]) -> Result<Self, String> {
        Ok(Self { msg: msg(args)? })
    }

    fn effect(&self) -> Effect {
        let js = "socket.broadcast.emit('chat message', msg)";
        let to = Audience::EveryoneButSender;
        Effect::emits(js, "chat message", vec![self.msg.clone()], to)
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        Ok(broadcast_chat(&call.socket, self.msg).await?)
    }
}

/// `(msg) => …` takes the first argument: what the echo sends on. A chat message without one
/// is refused (Node would echo `null`; a chat has nothing to show for it).
pub(super) fn msg(args: &[Value]) -> Result<Value, String> {
    match args.first() {
        Some(msg) => Ok(msg.clone()),
        None => Err("a chat message needs its text, and this one has no argument".into()),
    }
}

// ANCHOR: io_emit_hello
/// `io.on('connection', (socket) => { io.emit('hello', 'world'); });`
///
/// `io` is the whole server, so this reaches every connected socket,
/// including the one that has just connected: by the time the connection
/// handler runs, it is already in the list.
pub async fn io_emit_hello<A: Adapter>(io: &SocketIo<A>) -> Sent {
    io.emit("hello", "world").await
}
// ANCHOR_END: io_emit_hello

// ANCHOR: broadcast_hi
/// `io.on('connection', (socket) => { socket.broadcast.emit('hi'); });`
///
/// `socket.broadcast` starts from this socket and excludes it: everyone
/// else hears the `hi`, the newcomer does not.
pub async fn broadcast_hi<A: Adapter>(socket: &SocketRef<A>) -> Sent {
    socket.broadcast().emit("hi", &NO_ARGS).await
}
// ANCHOR_END: broadcast_hi

// ANCHOR: broadcast_user_left
/// `socket.on('disconnect', () => { socket.broadcast.emit('user left'); });`
///
/// The leaving socket is still on the server's list while this runs
/// (socketioxide removes it after its disconnect handler; Node removes it
/// first), and a broadcast from it skips it either way: everyone still
/// connected hears 'user left'.
pub async fn broadcast_user_left<A: Adapter>(socket: &SocketRef<A>) -> Sent {
    socket.broadcast().emit("user left", &NO_ARGS).await
}
// ANCHOR_END: broadcast_user_left

// ANCHOR: io_emit_chat
/// `socket.on('chat message', (msg) => { io.emit('chat message', msg); });`
///
/// The sender gets its own message back, like everybody else. That is why
/// a chat page can draw messages only when they arrive from the server: its
/// own included, all in one order.
pub async fn io_emit_chat<A: Adapter>(io: &SocketIo<A>, msg: Value) -> Sent {
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
pub async fn broadcast_chat<A: Adapter>(socket: &SocketRef<A>, msg: Value) -> Sent {
    socket.broadcast().emit("chat message", &msg).await
}
// ANCHOR_END: broadcast_chat
