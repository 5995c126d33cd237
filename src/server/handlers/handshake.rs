//! What a client sends when it connects: `io({ auth })` in the browser becomes the payload of the
//! Socket.IO CONNECT packet (`40{"token":"…"}`), and the server reads it as
//! `socket.handshake.auth`, before any event is exchanged. A connection handler here gets it as
//! its one argument.

use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;

use super::{Call, Failed, Handle, Handler, arg, registry};
use crate::vocab::{Audience, Effect};

/// This file's handlers, as the registry lists them.
pub fn handlers<A: Adapter>() -> Vec<Handler<A>> {
    registry![A; WelcomeAuth]
}

/// `socket.emit('welcome', socket.handshake.auth)` when a socket connects.
#[derive(Debug)]
pub struct WelcomeAuth {
    auth: Value,
}

impl Handle for WelcomeAuth {
    const NAME: &'static str = "welcome-auth";
    const ON: &'static str = "connection";
    const ANCHOR: &'static str = "welcome_auth";

    fn parse(args: &[Value]) -> Result<Self, String> {
        Ok(Self { auth: arg(args, 0) })
    }

    fn effect(&self) -> Effect {
        let js = "socket.emit('welcome', socket.handshake.auth)";
        Effect::emits(js, "welcome", vec![self.auth.clone()], Audience::OnlySender)
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        welcome_auth(&call.socket, self.auth)
    }
}

// ANCHOR: welcome_auth
/// `io.on('connection', (socket) => {
///   socket.emit('welcome', socket.handshake.auth);
/// });`
///
/// `socket.emit` goes to this one socket: the newcomer hears back what it
/// sent in its handshake, and nobody else hears anything.
pub fn welcome_auth<A: Adapter>(socket: &SocketRef<A>, auth: Value) -> Result<(), Failed> {
    socket.emit("welcome", &auth)?;
    Ok(())
}
// ANCHOR_END: welcome_auth
