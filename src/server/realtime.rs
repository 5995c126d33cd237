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

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef};

use super::handlers::{Call, Failed, Handler};
use super::message::AnyArgs;
use super::order::{Turn, Turnstile};
use super::{Behaviour, Reporter, ServerEvent, live};
use crate::vocab::Trigger;

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
        .with_state(Arc::new(Turnstile::default()))
        .build_layer();
    // io.on('connection', (socket) => { ... })
    io.ns("/", async move |turn: Turn, socket: SocketRef, io: SocketIo| {
        on_connection(turn, socket, io, behaviour, report).await;
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
///
/// Every handler takes a [`Turn`] while socketioxide reads its packet and waits for it before
/// doing anything, so the server handles one thing at a time in arrival order (see
/// [`super::order`]).
pub(crate) async fn on_connection<A: Adapter>(
    turn: Turn,
    socket: SocketRef<A>,
    io: SocketIo<A>,
    behaviour: Behaviour,
    report: Reporter,
) {
    let _serving = turn.wait().await;
    let sid = socket.id.to_string();
    // Node's socket.io puts every new socket in a room named by its own id, which is how one
    // socket reaches exactly one other (`socket.to(id)`). socketioxide does not, so we do.
    socket.join(socket.id);
    for (trigger, handler) in behaviour.handlers::<A>() {
        match trigger {
            Trigger::Event(event) => {
                let report = report.clone();
                socket.on(
                    event.clone(),
                    async move |turn: Turn,
                                socket: SocketRef<A>,
                                io: SocketIo<A>,
                                ack: AckSender<A>,
                                AnyArgs(args): AnyArgs| {
                        let _serving = turn.wait().await;
                        let sid = socket.id.to_string();
                        let outcome = match args {
                            Ok(args) => {
                                let call = Call {
                                    socket,
                                    io,
                                    args,
                                    ack: Some(ack),
                                };
                                run(handler, &event, call, &report).await
                            }
                            Err(reason) => Err(reason),
                        };
                        let _ = report.send(match outcome {
                            Ok(()) => ServerEvent::Handled { sid, event },
                            Err(reason) => ServerEvent::Rejected { sid, event, reason },
                        });
                    },
                );
            }
            Trigger::Disconnect | Trigger::Connection => {}
        }
    }
    let gone = report.clone();
    socket.on_disconnect(async move |socket: SocketRef<A>| {
        let _ = gone.send(ServerEvent::Disconnected {
            sid: socket.id.to_string(),
        });
    });
    if let Some(handler) = behaviour.handler::<A>(&Trigger::Connection) {
        let call = Call {
            socket,
            io,
            args: Vec::new(),
            ack: None,
        };
        if let Err(reason) = run(handler, "connection", call, &report).await {
            let event = "connection".to_owned();
            let _ = report.send(ServerEvent::Rejected {
                sid: sid.clone(),
                event,
                reason,
            });
        }
    }
    let _ = report.send(ServerEvent::Connected { sid });
}
// ANCHOR_END: report_when_done

/// Runs one handler call: works out what it declares for these arguments, runs it, and reports
/// what it sent ([`ServerEvent::Sent`]) with whom the server queued it for and why the others
/// were not. `trigger` is `"connection"` or the event handled.
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
/// lesson's handlers keep `io.emit` because it reads like the JavaScript they mirror.
async fn run<A: Adapter>(
    handler: Handler<A>,
    trigger: &str,
    call: Call<A>,
    report: &Reporter,
) -> Result<(), String> {
    let effect = (handler.declare)(&call.args)?;
    // Held until the emit has returned: the server does not close meanwhile.
    let _open = report.hold_open().await;
    if call.io.of("/").is_none() {
        return Err(SHUTTING_DOWN.to_owned());
    }
    // A socket that closed while the emit ran is gone, not failed: everyone else was served.
    let judged = |outcome: Result<(), Failed>| match outcome {
        Err(failed) if !failed.only_closed => Err(failed.reason),
        _ => Ok(()),
    };
    let Some(emit) = effect.emit else {
        return judged((handler.run)(call).await);
    };
    let (io, socket) = (call.io.clone(), call.socket.clone());
    let full = |outcome: &Result<(), Failed>| outcome.as_ref().err().map_or(0, |f| f.full_buffers);
    let (outcome, recipients) = live::observe(&io, &socket, &emit.to, (handler.run)(call), full).await;
    let _ = report.send(ServerEvent::Sent {
        sid: socket.id.to_string(),
        trigger: trigger.to_owned(),
        event: emit.event,
        args: emit.args,
        action: effect.js,
        audience: emit.to,
        recipients,
    });
    judged(outcome)
}

/// Why a chat message that arrives during shutdown is not echoed.
const SHUTTING_DOWN: &str = "the server is shutting down, so the message is not sent on";

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::Value;

    use super::*;
    use crate::client::{ConnectOptions, SimClient};
    use crate::server::{Mount, StageServer, http};

    const WAIT: Duration = Duration::from_secs(10);

    /// A stage server with a chat, one client connected to it, and that client's socket.
    async fn chat_server_with_a_client() -> (StageServer, SocketIo, SocketRef, SimClient) {
        let behaviour = Behaviour::default()
            .with("chat message", "io-emit-chat")
            .expect("a handler");
        let listener = http::bind("127.0.0.1", 0).await.expect("bind");
        let mut stage = StageServer::start(Mount::Realtime, behaviour, Some(listener)).expect("start");
        let io = stage.io.clone().expect("a Socket.IO server");
        let url = format!("http://{}", stage.addr.expect("listening"));
        let client = SimClient::connect(&url, &ConnectOptions::default())
            .await
            .expect("connects");
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
        let handler = crate::server::handlers::find("io-emit-chat").expect("the chat handler");
        let call = Call {
            socket,
            io,
            args: vec![Value::from("hello?")],
            ack: None,
        };
        let outcome = run(handler, "chat message", call, &report).await;
        assert_eq!(outcome, Err(SHUTTING_DOWN.to_owned()));
        let _ = sid;
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
