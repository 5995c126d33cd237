//! The realtime server: `const io = new Server(server);`
//!
//! In JavaScript, `Server` is a class and `new` creates an object from it: one Socket.IO server,
//! with its own list of connected sockets and its own handlers, wired into the HTTP server you
//! pass it. From then on that HTTP server hands WebSocket upgrade requests under `/socket.io/` to
//! Socket.IO and everything else to the app, so one port serves both.
//!
//! Rust has no `new` keyword; a constructor is an ordinary function. socketioxide's
//! [`SocketIo::builder`] returns two things: a *layer* (middleware that wraps the router, so it
//! sees each request before the app does) and the `io` handle (the object you `emit` through).
//! Wrapping the router with the layer is the attachment: requests under `/socket.io` are taken by
//! Socket.IO, all others fall through to the app, and both arrive over the same listener.
//!
//! socketioxide does not serve the browser client script the way Node's server does, so this
//! module adds that route itself, outside the layer.

use axum::Router;
use axum::routing::get;
use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::extract::{SocketRef, TryData};

use super::{Behaviour, Reporter, ServerEvent, live};

/// The largest message a client may send, in bytes. Socket.IO's own default is 1 MB (Node) or
/// 100 kB (socketioxide); a chat needs far less, and a small bound keeps a misbehaving client
/// from making the server hold large buffers. A larger frame closes that client's connection.
pub const MAX_PAYLOAD: u64 = 16 * 1024;

// ANCHOR: realtime
/// `const io = new Server(server);`: build the Socket.IO server and attach it to the app that
/// the HTTP server feeds, so both share one port.
pub fn attach(app: Router, behaviour: Behaviour, report: Reporter) -> (SocketIo, Router) {
    let (layer, io) = SocketIo::builder()
        .max_payload(MAX_PAYLOAD)
        .ws_max_message_size(MAX_PAYLOAD as usize)
        .build_layer();
    // io.on('connection', (socket) => { ... })
    io.ns("/", async move |socket: SocketRef, io: SocketIo| {
        on_connection(socket, io, behaviour, report).await;
    });
    // `.layer` wraps the routes that exist so far. The client script route is
    // added after it, so socketioxide (which answers everything under
    // /socket.io itself) never sees that one path.
    let app = app
        .layer(layer)
        .route("/socket.io/socket.io.js", get(super::app::client_script));
    (io, app)
}
// ANCHOR_END: realtime

// ANCHOR: report_when_done
/// The connection handler: registers the socket's own handlers first, then runs the stage's
/// `io.on('connection')` body, then tells the tutor it has finished. Every emit is reported with
/// the sockets it was queued for ([`ServerEvent::Sent`], see [`super::live`]).
///
/// The order matters. socketioxide has already sent the client its CONNECT reply when this runs,
/// so a fast client may emit before `socket.on('chat message')` exists, and such an event is
/// dropped. The tutor's clients wait for the [`ServerEvent::Connected`] report before they emit;
/// reporting last guarantees that the handlers exist by then.
async fn on_connection(socket: SocketRef, io: SocketIo, behaviour: Behaviour, report: Reporter) {
    let sid = socket.id.to_string();
    if let Some(on_chat) = behaviour.on_chat {
        let report = report.clone();
        socket.on(
            "chat message",
            async move |socket: SocketRef, io: SocketIo, TryData(msg): TryData<Value>| {
                let sid = socket.id.to_string();
                let event = "chat message".to_owned();
                let outcome = match msg {
                    Ok(msg) => {
                        let emit = on_chat.run(&socket, &io, msg.clone());
                        let (outcome, recipients) =
                            live::observe(&io, &socket, on_chat.audience(), emit).await;
                        let _ = report.send(ServerEvent::Sent {
                            sid: sid.clone(),
                            trigger: event.clone(),
                            event: event.clone(),
                            args: vec![msg],
                            action: on_chat.js(),
                            recipients,
                        });
                        outcome
                    }
                    Err(e) => Err(format!("unreadable message: {e}")),
                };
                let _ = report.send(match outcome {
                    Ok(()) => ServerEvent::Handled { sid, event },
                    Err(reason) => ServerEvent::Rejected { sid, event, reason },
                });
            },
        );
    }
    let gone = report.clone();
    socket.on_disconnect(async move |socket: SocketRef| {
        let _ = gone.send(ServerEvent::Disconnected {
            sid: socket.id.to_string(),
        });
    });
    let outcome = match (behaviour.on_connection.emits(), behaviour.on_connection.js()) {
        (Some((event, args, audience)), Some(action)) => {
            let emit = behaviour.on_connection.run(&socket, &io);
            let (outcome, recipients) = live::observe(&io, &socket, audience, emit).await;
            let _ = report.send(ServerEvent::Sent {
                sid: sid.clone(),
                trigger: "connection".to_owned(),
                event: event.to_owned(),
                args,
                action,
                recipients,
            });
            outcome
        }
        _ => behaviour.on_connection.run(&socket, &io).await,
    };
    if let Err(reason) = outcome {
        let event = "connection".to_owned();
        let _ = report.send(ServerEvent::Rejected {
            sid: sid.clone(),
            event,
            reason,
        });
    }
    let _ = report.send(ServerEvent::Connected { sid });
}
// ANCHOR_END: report_when_done
