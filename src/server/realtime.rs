//! The realtime server: `const io = new Server(server);`
//!
//! In JavaScript, `Server` is a class and `new` creates an object from it: one Socket.IO server,
//! with its own list of connected sockets and its own handlers, wired into the HTTP server you
//! pass it. From then on that HTTP server hands every request under `/socket.io/` to Socket.IO
//! (the polling GETs and POSTs of a default client, and WebSocket upgrade requests) and
//! everything else to the app, so one port serves both.
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
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef};
use socketioxide::handler::ConnectHandler;
use socketioxide::{ParserConfig, SocketIo, SocketIoBuilder};

use super::handlers::delivery::Log;
use super::handlers::{Call, CameBack, Failed, Handler, Reached};
use super::message::AnyArgs;
use super::observe::live;
use super::observe::live::Recipients;
use super::observe::tally::Tally;
use super::order::{Turn, Turnstile};
use super::{Behaviour, Reporter, ServerEvent};
use crate::vocab::Trigger;

/// The largest message a client may send, in bytes. Socket.IO's own default is 1 MB (Node) or
/// 100 kB (socketioxide); a chat needs far less, and a small bound keeps a misbehaving client
/// from making the server hold large buffers. A larger frame closes that client's connection.
///
/// It bounds a single WebSocket *frame* too. The WebSocket library reads a whole frame into
/// memory before it adds the frame to a message and checks the message's size, and its own frame
/// limit is 16 MiB: without this, a client that announces a 16 MiB frame makes the server buffer
/// it all before being refused. With it, the frame's header alone is enough to refuse it.
pub const MAX_PAYLOAD: u64 = 16 * 1024;

/// The most binary attachments one packet may announce. A binary event (`451-[…]`) says how many
/// binary frames follow, and socketioxide keeps the packet and every attachment received so far
/// until the last one arrives. Its defaults (10,000 attachments, 10 MB, one minute) let a client
/// that announces many and never sends the last one hold megabytes per connection, each frame
/// within `MAX_PAYLOAD`. No lesson sends binary data; a few attachments are plenty.
pub const MAX_ATTACHMENTS: usize = 4;

/// How many packets may wait in one socket's outgoing buffer: 128, socketioxide's own default,
/// stated here because it is the largest part of a stage server's memory budget.
///
/// A broadcast queues one encoded copy of its packet per socket (see tally.rs); a socket's
/// writer takes them out as fast as the connection carries them. A client that reads slowly
/// lets its buffer fill; a packet that finds it full is lost for that socket, and reported so.
/// The worst case is every socket full of the largest messages: 128 × `MAX_PAYLOAD` = 2 MiB per
/// socket. Node has no such bound (it keeps writing into the socket's memory); a smaller one
/// loses packets in bursts Node delivers: with 32, a client keeping 64 large messages in flight
/// lost some of its own echoes on this machine.
pub const SOCKET_BUFFER: usize = 128;

/// The bytes each WebSocket connection reads from its socket at a time, and the buffer it keeps
/// for them for as long as it is open: 1 KiB, where socketioxide's default is 4 KiB.
///
/// The buffer is per connection, so it is a large part of what a connected client costs: with
/// ten thousand clients `benches/fanout` measured about 3 KiB less per connection this way. A
/// chat frame is tens of bytes; a larger one (up to `MAX_PAYLOAD`) is read in more pieces, into
/// a buffer that grows for it.
pub const WS_READ_BUFFER: usize = 1024;

/// How long socketioxide waits for the rest of a binary packet before it drops the packet and
/// closes the connection. A client on this machine sends its attachments right behind the packet.
pub const ATTACHMENTS_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// How long an Engine.IO session may stay open without a Socket.IO `CONNECT` before the server
/// gives it up (socketioxide's `connect_timeout`; Node's `connectTimeout` is 45 s). A client sends
/// its `CONNECT` as soon as the `OPEN` packet arrives; a session that never does is a client that
/// went away, or a flood of bare handshakes (see [`super::guard::handshakes`]).
pub const CONNECT_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

// ANCHOR: realtime
/// `const io = new Server(server);`: build the Socket.IO server and attach it to the app that
/// the HTTP server feeds, so both share one port.
pub fn attach(
    app: Router,
    behaviour: Behaviour,
    report: Reporter,
    log: Option<Log>,
) -> (SocketIo<Tally>, Router) {
    // The layer and the `io` handle, built with our limits and one worker
    // that runs the handlers in arrival order (see `builder` below), on the
    // in-memory adapter that names the sockets a full buffer lost (tally.rs).
    let (layer, io) = builder()
        .with_adapter::<Tally>(report.losses.clone())
        .build_layer();
    // io.on('connection', (socket) => { ... }), then io.of('/admin').on(...)
    // for each other namespace the stage declares.
    on_main_namespace(&io, behaviour.clone(), report.clone(), log.clone());
    super::spaces::on_other_namespaces(&io, &behaviour, &report, &log);
    // `.layer` wraps the routes that exist so far. The client script route is
    // added after it, so socketioxide (which answers everything under
    // /socket.io itself) never sees that one path.
    let app = app
        .layer(layer)
        .route("/socket.io/socket.io.js", get(super::app::client_script));
    (io, app)
}
// ANCHOR_END: realtime

/// The builder every stage server starts from, one server or several: the payload and
/// attachment limits above, and one worker that runs the handlers in the order packets arrive,
/// as Node's single thread does (see [`super::order`]). A node of lesson 7 adds its adapter to it.
pub(crate) fn builder() -> SocketIoBuilder {
    // Partial binary packets are bounded in count, bytes (all attachments together stay within
    // one payload) and time; see MAX_ATTACHMENTS.
    let parser = ParserConfig::common()
        .max_incoming_binaries(MAX_ATTACHMENTS)
        .max_incoming_binary_buf_size(MAX_PAYLOAD as usize)
        .packet_completion_timeout(ATTACHMENTS_WITHIN);
    SocketIo::builder()
        .max_payload(MAX_PAYLOAD)
        .ws_max_message_size(MAX_PAYLOAD as usize)
        .ws_max_frame_size(MAX_PAYLOAD as usize)
        .ws_read_buffer_size(WS_READ_BUFFER)
        .max_buffer_size(SOCKET_BUFFER)
        .connect_timeout(CONNECT_WITHIN)
        .with_state(Turnstile::start())
        .with_parser(parser)
}

/// `io.on('connection', …)` on the main namespace, whatever the adapter. It returns what
/// `io.ns` returns: nothing to wait for with the in-memory adapter, and with the Redis adapter
/// the subscription to the namespace's channels, which must be ready before clients come.
pub(crate) fn on_main_namespace<A>(
    io: &SocketIo<A>,
    behaviour: Behaviour,
    report: Reporter,
    log: Option<Log>,
) -> A::InitRes
where
    A: Adapter + socketioxide_core::adapter::DefinedAdapter,
{
    // Before socketioxide sends the CONNECT reply it runs the namespace's middleware: the one
    // moment at which a handler can be registered before the client can send an event. (See
    // `register_events` for why that matters.) Tutor plumbing rides along: who each socket says
    // it is, reported before it joins (see live::identify).
    let first = super::spaces::before_connect(behaviour.clone(), report.clone(), log.clone());
    io.ns("/", super::spaces::connection(behaviour, report, log).with(first))
}

/// `socket.on(event, …)` for every event the stage answers, registered from the connect
/// middleware, before socketioxide sends the CONNECT reply.
///
/// Why not in the connection handler, as Node code does? In Node the handler runs right after
/// the reply is queued, on the one thread, so nothing the client sends can be read in between.
/// socketioxide spawns the handler as a task instead, and on this server it runs in its turn
/// (see [`super::order`]): a client that emits the moment the reply arrives (socket.io-client
/// sends what it buffered at once) could reach a socket with no handler yet, and socketioxide
/// drops such an event without a word. Registered before the reply, a handler is there for the
/// first event that can come. Each handler still runs in its turn, and the connection handler's
/// turn is taken before the reply can reach the client, so the connection body runs first.
pub(super) fn register_events<A: Adapter>(
    socket: &SocketRef<A>,
    behaviour: &Behaviour,
    report: &Reporter,
    auth: &Value,
    log: &Option<Log>,
) {
    for (trigger, handler) in behaviour.handlers::<A>() {
        match trigger {
            Trigger::Event(event) => {
                let report = report.clone();
                let (auth, log) = (auth.clone(), log.clone());
                socket.on(
                    event.clone(),
                    async move |turn: Turn,
                                socket: SocketRef<A>,
                                io: SocketIo<A>,
                                ack: AckSender<A>,
                                AnyArgs(args): AnyArgs| {
                        // Past the line's bound (see order.rs): reported, never run.
                        if let Some(busy) = turn.refused() {
                            let _ = report.send(ServerEvent::Rejected {
                                sid: socket.id.to_string(),
                                event,
                                reason: busy.to_owned(),
                            });
                            return;
                        }
                        let call = args.map(|args| Call {
                            socket: socket.clone(),
                            io,
                            args,
                            ack: Some(ack),
                            came_back: CameBack::default(),
                            auth,
                            log,
                            stopping: report.stopping.clone(),
                        });
                        turn.run(on_event(handler, event, socket, call, report));
                    },
                );
            }
            Trigger::Disconnect | Trigger::Connection => {}
        }
    }
}

// ANCHOR: report_when_done
/// The connection handler: puts the socket in its own room, registers its disconnect handler,
/// then runs the stage's `io.on('connection')` body, then tells the tutor it has finished. Every
/// emit is reported with the sockets it was queued for ([`ServerEvent::Sent`], see
/// [`super::observe::live`]).
///
/// The socket's event handlers exist already when this runs: they were registered before the
/// CONNECT reply left (see [`register_events`]). Reporting [`ServerEvent::Connected`] last tells
/// the tutor that the `io.on('connection')` body has run.
///
/// Every handler takes a [`Turn`] while socketioxide reads its packet and runs its work in that
/// turn, so the server handles one thing at a time in arrival order (see [`super::order`]).
pub(super) async fn on_connection<A: Adapter>(
    socket: SocketRef<A>,
    io: SocketIo<A>,
    auth: Value,
    behaviour: Behaviour,
    report: Reporter,
    log: Option<Log>,
) {
    let sid = socket.id.to_string();
    let nsp = socket.ns().to_owned();
    // Node's socket.io puts every new socket in a room named by its own id, which is how one
    // socket reaches exactly one other (`socket.to(id)`). socketioxide does not, so we do.
    socket.join(socket.id);
    // socket.on('disconnect', () => { ... }): the stage's handler, if it has one, then the
    // report that the socket is gone, in the socket's turn like every other handler.
    let gone = report.clone();
    let on_leave = behaviour.handler::<A>(&Trigger::Disconnect);
    let (leaving_auth, leaving_log) = (auth.clone(), log.clone());
    socket.on_disconnect(async move |turn: Turn, socket: SocketRef<A>, io: SocketIo<A>| {
        turn.run(async move {
            let sid = socket.id.to_string();
            let nsp = socket.ns().to_owned();
            if let Some(handler) = on_leave {
                let call = Call {
                    socket,
                    io,
                    args: Vec::new(),
                    ack: None,
                    came_back: CameBack::default(),
                    auth: leaving_auth,
                    log: leaving_log,
                    stopping: gone.stopping.clone(),
                };
                if let Err(reason) = run(handler, "disconnect", call, &gone).await {
                    let event = "disconnect".to_owned();
                    let sid = sid.clone();
                    let _ = gone.send(ServerEvent::Rejected { sid, event, reason });
                }
            }
            let _ = gone.send(ServerEvent::Disconnected { sid, nsp });
        });
    });
    // A socket that closed before this handler ran never calls a disconnect handler registered
    // now; report its leaving here. (A close racing this line may report it twice; whoever
    // reads the reports ignores a second `Disconnected`.)
    if !socket.connected() {
        let nsp = nsp.clone();
        let _ = report.send(ServerEvent::Disconnected {
            sid: sid.clone(),
            nsp,
        });
    }
    if let Some(handler) = behaviour.handler::<A>(&Trigger::Connection) {
        // A connection handler's one argument is the handshake's auth (`null` without one).
        let call = Call {
            socket,
            io,
            args: vec![auth.clone()],
            ack: None,
            came_back: CameBack::default(),
            auth,
            log,
            stopping: report.stopping.clone(),
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
    let _ = report.send(ServerEvent::Connected { sid, nsp });
}
// ANCHOR_END: report_when_done

/// The body of `socket.on(event, …)`, run in its turn: the handler's work, then the report that
/// it has finished ([`ServerEvent::Handled`]) or why it refused ([`ServerEvent::Rejected`]).
async fn on_event<A: Adapter>(
    handler: Handler<A>,
    event: String,
    socket: SocketRef<A>,
    call: Result<Call<A>, String>,
    report: Reporter,
) {
    let sid = socket.id.to_string();
    let outcome = match call {
        Ok(call) => run(handler, &event, call, &report).await,
        Err(reason) => Err(reason),
    };
    let _ = report.send(match outcome {
        Ok(()) => ServerEvent::Handled { sid, event },
        Err(reason) => ServerEvent::Rejected { sid, event, reason },
    });
}

/// Runs one handler call: works out what it declares for these arguments, runs it, and reports
/// what it sent ([`ServerEvent::Sent`]) with whom the server queued it for and why the others
/// were not. `trigger` is `"connection"` or the event handled.
///
/// # A message that arrives while the server shuts down
///
/// A handler may be part-way through its turn on the server's worker (see [`super::order`]) when
/// the tutor stops the server. Stopping calls `io.close()`, which first empties socketioxide's
/// table of namespaces and then closes the sockets. `io.emit(…)` is shorthand for
/// `io.of("/").unwrap().emit(…)`: it looks the default namespace `/` up in that table, and
/// panics ("default namespace not found") when it is gone.
///
/// So the handler checks first: no `/` means the server is closing, nobody is left to hear the
/// echo, and the message is refused with that reason. A check alone is not enough, though: the
/// close runs on another task and can land between the check and the emit (before this lock,
/// a flood of messages during Ctrl-C made about one shutdown in four panic that way). The handler
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
    let (io, socket) = (call.io.clone(), call.socket.clone());
    let came_back = call.came_back.clone();
    // The arguments are read once, into the handler's fields: the effect the trace reports is
    // the one the body runs with.
    let (effect, running) = (handler.start)(call)?;
    // Held until the emit has returned: the server does not close meanwhile.
    let _open = report.hold_open().await;
    if io.of("/").is_none() {
        return Err(SHUTTING_DOWN.to_owned());
    }
    // A socket that closed while the emit ran is gone, not failed: everyone else was served.
    let judged = |outcome: Result<(), Failed>| match outcome {
        Err(failed) if !failed.only_closed => Err(failed.reason),
        _ => Ok(()),
    };
    let Some(emit) = effect.emit else {
        return judged(running.await);
    };
    let full = |outcome: &Result<(), Failed>| outcome.as_ref().err().map_or(0, |f| f.full_buffers);
    // Losses noted before this emit are not its own (a fence of the tutor's, say).
    report.losses.take();
    let nsp = emit.namespace(socket.ns()).to_owned();
    let (outcome, mut recipients) = live::observe(&io, &socket, &emit.to, &nsp, running, full).await;
    // The sockets whose full buffer dropped this emit's packet, by name (see tally.rs). The
    // in-memory adapter of the lesson servers notes them; another adapter leaves only the count.
    recipients.dropped = report.losses.take();
    // A handler that failed before its emit (its INSERT, say) sent nothing to anyone; one whose
    // own socket stopped taking packets part-way lost the rest for it. The trace says so,
    // never "sent to" for what was not.
    let sid = socket.id.to_string();
    match outcome.as_ref().map_err(|f| f.reached) {
        Err(Reached::Nobody) => {
            recipients = Recipients {
                reached_nobody: true,
                ..Recipients::default()
            }
        }
        Err(Reached::LostForSender) if !recipients.dropped.contains(&sid) => {
            recipients.dropped.push(sid.clone())
        }
        _ => {}
    }
    let _ = report.send(ServerEvent::Sent {
        sid: sid.clone(),
        trigger: trigger.to_owned(),
        event: emit.event.clone(),
        args: emit.args,
        action: effect.js,
        audience: emit.to,
        recipients: Box::new(recipients),
    });
    // An emit that asked for answers: the handler has waited for all of them (or for its
    // timer), so what came back is complete now.
    if effect.asks_within_ms.is_some() {
        let _ = report.send(ServerEvent::Acked {
            sid,
            event: emit.event,
            answers: came_back.take(),
        });
    }
    judged(outcome)
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
    async fn chat_server_with_a_client() -> (StageServer, SocketIo<Tally>, SocketRef<Tally>, SimClient) {
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
        // The handshake is reported first (see live::identify), then the connection handler.
        let connected = tokio::time::timeout(WAIT, async {
            loop {
                match stage.events.recv().await {
                    Some(ServerEvent::Handshake { .. }) => continue,
                    other => return other,
                }
            }
        })
        .await;
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
            came_back: CameBack::default(),
            auth: Value::Null,
            log: None,
            stopping: report.stopping.clone(),
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
