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
use super::{Call, Failed, Handle, Handler, registry};
use crate::vocab::{Audience, Effect};

/// This file's handlers, as the registry lists them.
pub fn handlers<A: Adapter>() -> Vec<Handler<A>> {
    registry![A; IoLocalEmitChat]
}

/// `io.local.emit('chat message', msg)` for each `local message (msg)`.
#[derive(Debug)]
pub struct IoLocalEmitChat {
    msg: Value,
}

impl Handle for IoLocalEmitChat {
    const NAME: &'static str = "io-local-emit-chat";
    const ON: &'static str = "local message";
    const ANCHOR: &'static str = "io_local_emit_chat";

    fn parse(args: &[Value]) -> Result<Self, String> {
        let msg = args.first().cloned();
        let msg = msg.ok_or("a local message needs its text, and this one has no argument")?;
        Ok(Self { msg })
    }

    fn effect(&self) -> Effect {
        let js = "io.local.emit('chat message', msg)";
        Effect::emits(js, "chat message", vec![self.msg.clone()], Audience::ThisServer)
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        Ok(io_local_emit_chat(&call.io, self.msg).await?)
    }
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
