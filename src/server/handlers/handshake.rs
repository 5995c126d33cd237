//! What a client sends when it connects: `io({ auth })` in the browser becomes the payload of the
//! Socket.IO CONNECT packet (`40{"token":"…"}`), and the server reads it as
//! `socket.handshake.auth`, before any event is exchanged. A connection handler here gets it as
//! its one argument.

use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;

use super::{Failed, Handler, boxed};
use crate::vocab::{Audience, Effect};

/// This file's handlers, as the registry lists them.
pub fn handlers<A: Adapter>() -> Vec<Handler<A>> {
    vec![Handler {
        name: "welcome-auth",
        on: "connection",
        file: "src/server/handlers/handshake.rs",
        anchor: "welcome_auth",
        declare: |args| {
            let auth = args.first().cloned().unwrap_or(Value::Null);
            let js = "socket.emit('welcome', socket.handshake.auth)";
            Ok(Effect::emits(js, "welcome", vec![auth], Audience::OnlySender))
        },
        run: |call| {
            boxed(async move {
                let auth = call.arg(0);
                welcome_auth(&call.socket, auth)
            })
        },
    }]
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
