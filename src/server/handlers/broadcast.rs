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

use super::{Failed, Handler, boxed};
use crate::vocab::{Audience, Effect};

/// `socket.broadcast.emit('hi')` sends the event with no arguments at all.
pub const NO_ARGS: [(); 0] = [];

/// What a broadcast returns: queued for every selected socket, or why not.
pub type Sent = Result<(), BroadcastError>;

/// This file's handlers, as the registry lists them.
pub fn handlers<A: Adapter>() -> Vec<Handler<A>> {
    let file = "src/server/handlers/broadcast.rs";
    vec![
        Handler {
            name: "io-emit-hello",
            on: "connection",
            file,
            anchor: "io_emit_hello",
            declare: |_| {
                let js = "io.emit('hello', 'world')";
                Ok(Effect::emits(
                    js,
                    "hello",
                    vec![Value::from("world")],
                    Audience::Everyone,
                ))
            },
            run: |call| boxed(async move { io_emit_hello(&call.io).await.map_err(Failed::from) }),
        },
        Handler {
            name: "broadcast-hi",
            on: "connection",
            file,
            anchor: "broadcast_hi",
            declare: |_| {
                let js = "socket.broadcast.emit('hi')";
                Ok(Effect::emits(js, "hi", vec![], Audience::EveryoneButSender))
            },
            run: |call| boxed(async move { broadcast_hi(&call.socket).await.map_err(Failed::from) }),
        },
        Handler {
            name: "broadcast-user-left",
            on: "disconnect",
            file,
            anchor: "broadcast_user_left",
            declare: |_| {
                let js = "socket.broadcast.emit('user left')";
                Ok(Effect::emits(
                    js,
                    "user left",
                    vec![],
                    Audience::EveryoneButSender,
                ))
            },
            run: |call| boxed(async move { broadcast_user_left(&call.socket).await.map_err(Failed::from) }),
        },
        Handler {
            name: "io-emit-chat",
            on: "chat message",
            file,
            anchor: "io_emit_chat",
            declare: |args| {
                let js = "io.emit('chat message', msg)";
                Ok(Effect::emits(js, "chat message", msg(args)?, Audience::Everyone))
            },
            run: |call| {
                boxed(async move {
                    let msg = call.arg(0);
                    io_emit_chat(&call.io, msg).await.map_err(Failed::from)
                })
            },
        },
        Handler {
            name: "broadcast-chat",
            on: "chat message",
            file,
            anchor: "broadcast_chat",
            declare: |args| {
                let js = "socket.broadcast.emit('chat message', msg)";
                Ok(Effect::emits(
                    js,
                    "chat message",
                    msg(args)?,
                    Audience::EveryoneButSender,
                ))
            },
            run: |call| {
                boxed(async move {
                    let msg = call.arg(0);
                    broadcast_chat(&call.socket, msg).await.map_err(Failed::from)
                })
            },
        },
    ]
}

/// `(msg) => …` takes the first argument: what the echo sends on. A chat message without one
/// is refused (Node would echo `null`; a chat has nothing to show for it).
fn msg(args: &[Value]) -> Result<Vec<Value>, String> {
    match args.first() {
        Some(msg) => Ok(vec![msg.clone()]),
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
