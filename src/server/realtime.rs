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
use socketioxide::extract::{SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::{ParserConfig, SocketIo};

use super::{Behaviour, OnChat, Reporter, ServerEvent, live};

/// The largest message a client may send, in bytes. Socket.IO's own default is 1 MB (Node) or
/// 100 kB (socketioxide); a chat needs far less, and a small bound keeps a misbehaving client
/// from making the server hold large buffers. A larger frame closes that client's connection.
pub const MAX_PAYLOAD: u64 = 16 * 1024;

/// The most binary attachments one packet may announce. A binary event (`451-[…]`) says how many
/// binary frames follow, and socketioxide keeps the packet and every attachment received so far
/// until the last one arrives. Its defaults (10,000 attachments, 10 MB, one minute) let a client
/// that announces many and never sends the last one hold megabytes per connection, each frame
/// within `MAX_PAYLOAD`. No lesson sends binary data; a few attachments are plenty.
pub const MAX_ATTACHMENTS: usize = 4;

/// How long socketioxide waits for the rest of a binary packet before it drops the packet and
/// closes the connection. A client on this machine sends its attachments right behind the packet.
pub const ATTACHMENTS_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

// ANCHOR: realtime
/// `const io = new Server(server);`: build the Socket.IO server and attach it to the app that
/// the HTTP server feeds, so both share one port.
pub fn attach(app: Router, behaviour: Behaviour, report: Reporter) -> (SocketIo, Router) {
    // Partial binary packets are bounded in count, bytes (all attachments together stay within
    // one payload) and time; see MAX_ATTACHMENTS.
    let parser = ParserConfig::common()
        .max_incoming_binaries(MAX_ATTACHMENTS)
        .max_incoming_binary_buf_size(MAX_PAYLOAD as usize)
        .packet_completion_timeout(ATTACHMENTS_WITHIN);
    let (layer, io) = SocketIo::builder()
        .max_payload(MAX_PAYLOAD)
        .ws_max_message_size(MAX_PAYLOAD as usize)
        .with_parser(parser)
        .build_layer();
    // Tutor plumbing: report who each socket says it is before it joins (see live::identify).
    let handshake = report.clone();
    let identify = async move |socket: SocketRef| {
        handshake.send(live::identify(&socket));
        Ok::<(), std::convert::Infallible>(())
    };
    // io.on('connection', (socket) => { ... })
    let handler = async move |socket: SocketRef, io: SocketIo| {
        on_connection(socket, io, behaviour, report).await;
    };
    io.ns("/", handler.with(identify));
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
                on_chat_message(socket, io, on_chat, msg, &report).await;
            },
        );
    }
    let gone = report.clone();
    socket.on_disconnect(async move |socket: SocketRef| {
        let _ = gone.send(ServerEvent::Disconnected {
            sid: socket.id.to_string(),
        });
    });
    // A socket that closed before this handler ran never calls a disconnect handler registered
    // now; report its leaving here. (A close racing this line may report it twice; whoever
    // reads the reports ignores a second `Disconnected`.)
    if !socket.connected() {
        let _ = report.send(ServerEvent::Disconnected { sid: sid.clone() });
    }
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

/// The body of `socket.on('chat message', (msg) => { … })`: runs the stage's chat behaviour for
/// one message, reports what it sent ([`ServerEvent::Sent`]), then that it has finished
/// ([`ServerEvent::Handled`]) or why it refused the message ([`ServerEvent::Rejected`]).
///
/// # A message that arrives while the server shuts down
///
/// socketioxide runs each handler as a task of its own, so a handler may still be running when
/// the tutor stops the server. Stopping calls `io.close()`, which first empties socketioxide's
/// table of namespaces and then closes the sockets. `io.emit(…)` is shorthand for
/// `io.of("/").unwrap().emit(…)`: it looks the default namespace `/` up in that table, and
/// panics ("default namespace not found") when it is gone.
///
/// So the handler checks first: no `/` means the server is closing, nobody is left to hear the
/// echo, and the message is refused with that reason. A check alone is not enough, though: the
/// close runs on another thread and can land between the check and the emit (with a flood of
/// messages during Ctrl-C, about one shutdown in four still panicked that way). The handler
/// therefore holds a lock from its check to the end of its emit ([`Reporter::hold_open`]), and
/// [`super::StageServer::stop`] takes the same lock before it closes: a close waits for the
/// emits under way, and a handler that starts during the close waits for it to end, then finds
/// no `/`.
///
/// socketioxide also has a form that cannot panic, `io.of("/")`, which returns an `Option`; the
/// lesson's handler keeps `io.emit` because it reads like the JavaScript it mirrors.
async fn on_chat_message(
    socket: SocketRef,
    io: SocketIo,
    on_chat: OnChat,
    msg: Result<Value, impl std::fmt::Display>,
    report: &Reporter,
) {
    let sid = socket.id.to_string();
    let event = "chat message".to_owned();
    let outcome = match msg {
        Err(e) => Err(format!("unreadable message: {e}")),
        Ok(msg) => {
            // Held until the emit has returned: the server does not close meanwhile.
            let _open = report.hold_open().await;
            if io.of("/").is_none() {
                Err(SHUTTING_DOWN.to_owned())
            } else {
                let emit = on_chat.run(&socket, &io, msg.clone());
                let (outcome, recipients) = live::observe(&io, &socket, on_chat.audience(), emit).await;
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
        }
    };
    let _ = report.send(match outcome {
        Ok(()) => ServerEvent::Handled { sid, event },
        Err(reason) => ServerEvent::Rejected { sid, event, reason },
    });
}

/// Why a chat message that arrives during shutdown is not echoed.
const SHUTTING_DOWN: &str = "the server is shutting down, so the message is not sent on";

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::client::{ConnectOptions, SimClient};
    use crate::server::{Mount, StageServer, http};

    const WAIT: Duration = Duration::from_secs(10);

    /// A stage server with a chat, one client connected to it, and that client's socket.
    async fn chat_server_with_a_client() -> (StageServer, SocketIo, SocketRef, SimClient) {
        let behaviour = Behaviour {
            on_chat: Some(OnChat::IoEmit),
            ..Behaviour::default()
        };
        let listener = http::bind("127.0.0.1", 0).await.expect("bind");
        let mut stage = StageServer::start(Mount::Realtime, behaviour, Some(listener)).expect("start");
        let io = stage.io.clone().expect("a Socket.IO server");
        let url = format!("http://{}", stage.addr.expect("listening"));
        let client = SimClient::connect(&url, &ConnectOptions::default())
            .await
            .expect("connects");
        // The handshake report comes first, then the connection handler's.
        let handshake = tokio::time::timeout(WAIT, stage.events.recv()).await;
        assert!(
            matches!(handshake, Ok(Some(ServerEvent::Handshake { .. }))),
            "waited {WAIT:?} for the handshake report: {handshake:?}"
        );
        let connected = tokio::time::timeout(WAIT, stage.events.recv()).await;
        assert!(
            matches!(connected, Ok(Some(ServerEvent::Connected { .. }))),
            "waited {WAIT:?} for the connection handler: {connected:?}"
        );
        let socket = io.sockets().pop().expect("the client's socket");
        (stage, io, socket, client)
    }

    /// A chat handler still running when the server closes refuses the message instead of
    /// panicking in `io.emit`. The handler is called after the close has finished, so the test
    /// does not depend on how the two happen to interleave.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_chat_message_after_the_close_is_refused_without_a_panic() {
        let (stage, io, socket, _client) = chat_server_with_a_client().await;
        let sid = socket.id.to_string();

        stage.stop().await;
        assert!(io.of("/").is_none(), "closing empties socketioxide's namespaces");

        let (report, mut reports) = Reporter::new();
        let msg: Result<Value, String> = Ok(Value::from("hello?"));
        on_chat_message(socket, io, OnChat::IoEmit, msg, &report).await;
        assert_eq!(
            reports.try_recv(),
            Ok(ServerEvent::Rejected {
                sid,
                event: "chat message".to_owned(),
                reason: SHUTTING_DOWN.to_owned(),
            })
        );
        assert!(reports.try_recv().is_err(), "nothing was reported as sent");
    }

    /// The server does not start closing while a handler is between its check and the end of
    /// its emit. This runtime has one thread, so tasks take turns only at an `.await`, and
    /// `yield_now` lets every other ready task (the stop among them) run first: the order is
    /// fixed, and no timer decides.
    #[tokio::test(flavor = "current_thread")]
    async fn the_server_waits_for_an_emit_under_way_before_it_closes() {
        let (stage, io, _socket, _client) = chat_server_with_a_client().await;
        let closing = stage.closing.clone();
        let emitting = closing.read().await;
        let stopping = tokio::spawn(stage.stop());
        tokio::task::yield_now().await;
        assert!(
            io.of("/").is_some(),
            "the server began to close while a handler was emitting"
        );
        io.emit("chat message", "still open")
            .await
            .expect("the emit under way goes out");
        drop(emitting);
        tokio::time::timeout(WAIT, stopping)
            .await
            .expect("the server stops once the emit is done")
            .expect("stop() does not panic");
        assert!(io.of("/").is_none(), "and then it is closed");
    }
}
