//! `io.local.emit`: the one broadcast that stays on the server that makes it (lesson 7).
//!
//! With several Socket.IO servers joined by an adapter, `io.emit` reaches the clients of every
//! server: the adapter publishes the packet to Redis, and each server delivers it to its own
//! sockets. `io.local` opts out of that for one call: the packet goes to this server's sockets
//! only, and nothing is published. It is what a server uses for news about itself ("this server
//! restarts in a minute"); with the in-memory adapter it means the same as `io.emit`.
//!
//! | JavaScript                      | socketioxide                             | reaches                 |
//! |---------------------------------|------------------------------------------|-------------------------|
//! | `io.emit(ev, …)`                | `io.emit(ev, &data).await`               | every socket of every server |
//! | `io.local.emit(ev, …)`          | `io.local().emit(ev, &data).await`       | this server's sockets   |

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;

use super::broadcast::Sent;
use super::{Failed, Handler, boxed};
use crate::vocab::{Audience, Effect};

/// This file's handlers, as the registry lists them.
pub fn handlers<A: Adapter>() -> Vec<Handler<A>> {
    vec![Handler {
        name: "io-local-emit-chat",
        on: "local message",
        file: "src/server/handlers/scaling.rs",
        anchor: "io_local_emit_chat",
        declare: |args| {
            let js = "io.local.emit('chat message', msg)";
            let msg = args
                .first()
                .cloned()
                .ok_or("a local message needs its text, and this one has no argument")?;
            Ok(Effect::emits(js, "chat message", vec![msg], Audience::ThisServer))
        },
        run: |call| {
            boxed(async move {
                let msg = call.arg(0);
                io_local_emit_chat(&call.io, msg).await.map_err(Failed::from)
            })
        },
    }]
}

// ANCHOR: io_local_emit_chat
/// `socket.on('local message', (msg) => {
///   io.local.emit('chat message', msg);
/// });`
///
/// `local()` keeps the broadcast on this server: its own sockets get it,
/// the adapter publishes nothing, and the other servers' clients never
/// hear of it.
pub async fn io_local_emit_chat<A: Adapter>(io: &SocketIo<A>, msg: Value) -> Sent {
    io.local().emit("chat message", &msg).await
}
// ANCHOR_END: io_local_emit_chat
