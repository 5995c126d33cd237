//! `io.of(path)`: each namespace of a stage's server, with its connect middleware
//! (`io.use`, `io.of(path).use`) and its handlers.
//!
//! A namespace's server side has two parts, registered together: the *middleware* socketioxide
//! runs for every CONNECT to it (before the socket joins, so it may refuse), and the
//! *connection handler* it runs once the socket has joined. The main namespace `/` is
//! registered in [`super::realtime`]; the others (a fixed name such as `/admin`, or a family
//! made on demand such as `/team-{id}`) here, the same way.

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{SocketRef, TryData};
use socketioxide::handler::{ConnectHandler, ConnectMiddleware};

use super::behaviour::SpacePath;
use super::handlers::delivery::Log;
use super::observe::live;
use super::order::Turn;
use super::realtime::{on_connection, register_events};
use super::{Behaviour, Reporter, ServerEvent};

/// `io.of(path).use(…)` and `io.of(path).on('connection', …)` for every namespace the stage
/// has besides `/`: a fixed one with `io.ns`, a family made on demand with `io.dyn_ns`. A
/// namespace nobody declared is refused by socketioxide itself: "Invalid namespace".
pub(super) fn on_other_namespaces<A>(
    io: &SocketIo<A>,
    behaviour: &Behaviour,
    report: &Reporter,
    log: &Option<Log>,
) where
    A: Adapter + socketioxide_core::adapter::DefinedAdapter,
{
    for space in behaviour.namespaces() {
        let first = before_connect(space.behaviour.clone(), report.clone(), log.clone());
        let handler = connection(space.behaviour.clone(), report.clone(), log.clone()).with(first);
        match &space.path {
            SpacePath::Fixed(path) => {
                io.ns(path.clone(), handler);
            }
            SpacePath::Dynamic(pattern) => {
                // The lesson's patterns are checked when it loads; a bad one leaves the family
                // out, and its clients are refused as for any unknown namespace.
                let _ = io.dyn_ns(pattern.clone(), handler);
            }
        }
    }
}

/// The connect middleware of one namespace running `behaviour`: tutor plumbing (who the socket
/// says it is), the stage's own middleware if it has one, then the socket's event handlers.
pub(super) fn before_connect<A: Adapter>(
    behaviour: Behaviour,
    report: Reporter,
    log: Option<Log>,
) -> impl ConnectMiddleware<A, (SocketRef<A>, TryData<Value>)> {
    async move |socket: SocketRef<A>, TryData(auth): TryData<Value>| {
        report.send(live::identify(&socket));
        let auth = auth.unwrap_or(Value::Null);
        // The stage's own middleware (`io.use`) first: a client it refuses gets the
        // CONNECT_ERROR, and none of the namespace's handlers is ever registered or run.
        if let Some(guard) = behaviour.guard_for::<A>()
            && let Err(refusal) = (guard.check)(&socket, &auth)
        {
            report.send(ServerEvent::Refused {
                sid: socket.id.to_string(),
                nsp: socket.ns().to_owned(),
                message: refusal.0.clone(),
            });
            return Err(refusal);
        }
        register_events(&socket, &behaviour, &report, &auth, &log);
        Ok(())
    }
}

/// The connection handler of one namespace running `behaviour`, in its turn.
pub(super) fn connection<A: Adapter>(
    behaviour: Behaviour,
    report: Reporter,
    log: Option<Log>,
) -> impl ConnectHandler<A, (Turn, SocketRef<A>, SocketIo<A>, TryData<Value>)> {
    // `auth` is the CONNECT packet's payload: `socket.handshake.auth` in Node.
    async move |turn: Turn, socket: SocketRef<A>, io: SocketIo<A>, TryData(auth): TryData<Value>| {
        let auth = auth.unwrap_or(Value::Null);
        turn.run(on_connection(socket, io, auth, behaviour, report, log));
    }
}
