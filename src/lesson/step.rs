//! Turning one raw `[[stage.step]]` into a [`StepKind`], refusing a step that does not fit its
//! stage with a reason: one kind per step, fields that belong to it, known clients, handlers
//! that answer, and an expectation wherever something is delivered.

use super::model::{ProbeExpect, ProbeKind, Queued, Step, StepKind};
use super::raw::RawStep;
use super::scope::Scope;
use crate::server::{Behaviour, Mount};
use crate::vocab::Trigger;

const CHAT_EVENT: &str = "chat message";

/// The longest acknowledgement timeout a lesson may wait for: a lesson runs in milliseconds,
/// and the one that teaches timeouts needs only a short one.
pub(super) const MAX_ACK_TIMEOUT_MS: u64 = 1000;

/// Event names a client must not emit: Socket.IO reserves the first six for its own lifecycle, and
/// the last is the tutor's fence.
const RESERVED_EVENTS: [&str; 7] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
    crate::server::FENCE_EVENT,
];

impl RawStep {
    pub(super) fn into_step(
        self,
        scope: &Scope<'_>,
        connected: &mut Vec<String>,
        sockets: &mut Vec<(String, String)>,
    ) -> Result<Step, String> {
        let mount = scope.mount;
        let chosen = [
            self.probe.is_some(),
            self.connect.is_some(),
            self.disconnect.is_some(),
            self.emit.is_some(),
            self.burst.is_some(),
            self.restart_server == Some(true),
            self.attempt.is_some(),
        ];
        if chosen.iter().filter(|c| **c).count() != 1 {
            return Err(
                "needs exactly one of probe, connect, disconnect, emit, burst, restart_server = true, attempt"
                    .into(),
            );
        }
        // Each field belongs to one kind of step; a stray one is almost always a typo'd intent.
        let kind_name = if self.probe.is_some() {
            "probe"
        } else if self.connect.is_some() {
            "connect"
        } else if self.disconnect.is_some() {
            "disconnect"
        } else if self.emit.is_some() {
            "emit"
        } else if self.burst.is_some() {
            "burst"
        } else if self.attempt.is_some() {
            "attempt"
        } else {
            "restart_server"
        };
        let fields: [(&str, bool, &[&str]); 17] = [
            ("namespace", self.namespace.is_some(), &["connect", "emit"]),
            ("auth", self.auth.is_some(), &["connect"]),
            (
                "expect_connect_error",
                self.expect_connect_error.is_some(),
                &["connect"],
            ),
            ("node", self.node.is_some(), &["connect", "probe"]),
            ("transports", self.transports.is_some(), &["connect"]),
            ("poll_on", self.poll_on.is_some(), &["probe"]),
            ("drop_transport", self.drop_transport.is_some(), &["disconnect"]),
            ("while_disconnected", self.while_disconnected.is_some(), &["emit"]),
            (
                "drops_before_answer",
                self.drops_before_answer.is_some(),
                &["emit"],
            ),
            ("path", self.path.is_some(), &["probe"]),
            ("client", self.client.is_some(), &["probe"]),
            ("expect", self.expect.is_some(), &["probe"]),
            ("event", self.event.is_some(), &["emit", "burst"]),
            ("args", self.args.is_some(), &["emit"]),
            ("ack", self.ack.is_some(), &["emit"]),
            ("ack_timeout_ms", self.ack_timeout_ms.is_some(), &["emit"]),
            (
                "expect_received_by",
                self.expect_received_by.is_some(),
                &["connect", "disconnect", "emit", "burst"],
            ),
        ];
        for (field, present, kinds) in fields {
            if present && !kinds.contains(&kind_name) {
                return Err(format!("`{field}` does not belong to a {kind_name} step"));
            }
        }
        if let Some(event) = &self.event
            && RESERVED_EVENTS.contains(&event.as_str())
        {
            return Err(format!(
                "`{event}` is reserved by Socket.IO or the tutor and cannot be emitted"
            ));
        }
        let known = |name: &String, connected: &Vec<String>| {
            if connected.contains(name) {
                Ok(())
            } else {
                Err(format!("{name} is not connected yet"))
            }
        };
        if self.burst.is_some() && self.question.is_some() {
            return Err("a burst cannot carry a question; ask on a single emit step".into());
        }
        let mut delivers = false;
        let kind = if let Some(attempt) = self.attempt {
            attempt.check()?;
            StepKind::Attempt(Box::new(attempt))
        } else if self.restart_server == Some(true) {
            if mount != Mount::Realtime {
                return Err("restart_server needs a realtime stage".into());
            }
            // Every connection closes with the old server.
            connected.clear();
            sockets.clear();
            StepKind::RestartServer
        } else if let Some(probe) = self.probe {
            let expect = match self.expect.as_deref() {
                Some("refused") => ProbeExpect::Refused,
                Some("socket.io") => ProbeExpect::SocketIo,
                Some(code) => ProbeExpect::Status(
                    code.parse()
                        .map_err(|_| format!("expect {code:?}: use refused, socket.io or a status code"))?,
                ),
                None => return Err("a probe needs expect".into()),
            };
            if matches!(probe, ProbeKind::Websocket | ProbeKind::Polling) {
                let Some(client) = &self.client else {
                    return Err("a Socket.IO client probe (polling, websocket) needs a client name".into());
                };
                if expect == ProbeExpect::SocketIo {
                    connected.push(client.clone());
                    sockets.push((client.clone(), "/".to_owned()));
                }
            }
            let path = self.path.unwrap_or_else(|| "/".into());
            let node = scope.node(self.node.as_deref(), "a probe")?;
            let poll_on = match (probe, self.poll_on.as_deref()) {
                (ProbeKind::CrossPoll, Some(other)) => {
                    let other = scope.node(Some(other), "a cross-poll")?;
                    if other == node {
                        return Err("a cross-poll polls another server than the one it opened on".into());
                    }
                    Some(other)
                }
                (ProbeKind::CrossPoll, None) => {
                    return Err(
                        "a cross-poll probe needs poll_on, the server its second request goes to".into(),
                    );
                }
                (_, Some(_)) => return Err("`poll_on` belongs to a cross-poll probe".into()),
                (_, None) => None,
            };
            StepKind::Probe {
                probe,
                path,
                client: self.client,
                expect,
                node,
                poll_on,
            }
        } else if let Some(client) = self.connect {
            if mount != Mount::Realtime {
                return Err("connect needs a realtime stage".into());
            }
            let namespace = self.namespace.unwrap_or_else(|| "/".into());
            if !namespace.starts_with('/') || namespace.contains(',') {
                return Err(format!(
                    "namespace {namespace:?}: a namespace starts with / and has no comma"
                ));
            }
            let joining = connected.contains(&client);
            if sockets.iter().any(|(c, n)| *c == client && *n == namespace) {
                return Err(match namespace.as_str() {
                    "/" => format!("{client} is already connected"),
                    _ => format!("{client} is already connected to {namespace}"),
                });
            }
            if joining && (self.node.is_some() || self.transports.is_some()) {
                return Err(format!(
                    "{client} is connected already and joins {namespace} over the same session: \
                     node and transports belong to its first connect"
                ));
            }
            let served = scope.behaviour.in_namespace(&namespace);
            match (&self.expect_connect_error, served) {
                (None, None) => {
                    return Err(format!(
                        "the stage's server has no namespace {namespace} (declare it with \
                         [[stage.namespace]], or expect_connect_error = \"Invalid namespace\")"
                    ));
                }
                (Some(message), None) if message != "Invalid namespace" => {
                    return Err(format!(
                        "the server refuses {namespace} with \"Invalid namespace\", not {message:?}"
                    ));
                }
                (Some(_), Some(served)) if served.guard().is_none() => {
                    return Err(format!(
                        "expect_connect_error, but namespace {namespace} has no middleware to refuse it"
                    ));
                }
                _ => {}
            }
            let refused = self.expect_connect_error;
            if refused.is_none() {
                if !joining {
                    connected.push(client.clone());
                }
                sockets.push((client.clone(), namespace.clone()));
                delivers = served
                    .and_then(Behaviour::on_connection)
                    .is_some_and(|e| e.emit.is_some());
            }
            let node = scope.node(self.node.as_deref(), "a connect step")?;
            let transports = self.transports;
            if transports.as_ref().is_some_and(Vec::is_empty) {
                return Err("transports = []: a client needs at least one".into());
            }
            StepKind::Connect {
                client,
                node,
                transports,
                namespace,
                auth: self.auth,
                refused,
            }
        } else if let Some(client) = self.disconnect {
            known(&client, connected)?;
            connected.retain(|c| *c != client);
            sockets.retain(|(c, _)| *c != client);
            delivers = scope
                .behaviour
                .effect(&Trigger::Disconnect, &[])
                .ok()
                .flatten()
                .is_some_and(|e| e.emit.is_some());
            StepKind::Disconnect {
                client,
                drop: self.drop_transport.unwrap_or(false),
            }
        } else if let Some(client) = self.emit.clone().filter(|_| scope.queue.is_some()) {
            let how = match (self.while_disconnected, self.drops_before_answer) {
                (Some(true), Some(true)) => {
                    return Err("an emit is either while_disconnected or drops_before_answer".into());
                }
                (Some(true), _) => Queued::WhileDisconnected,
                (_, Some(true)) => Queued::DropsBeforeAnswer,
                _ => Queued::Connected,
            };
            if how == Queued::WhileDisconnected {
                if connected.contains(&client) {
                    return Err(format!("while_disconnected, but {client} is connected"));
                }
            } else {
                known(&client, connected)?;
            }
            if self.ack.is_some() || self.ack_timeout_ms.is_some() {
                return Err("in a stage with a client_queue every emit waits for its ack; \
                            leave out ack and ack_timeout_ms"
                    .into());
            }
            let event = self.event.clone().unwrap_or_else(|| CHAT_EVENT.into());
            let args = self.args.clone().unwrap_or_default();
            let effect = scope.effect_of(&event, &args, connected)?;
            delivers = effect.emit.is_some() && how != Queued::WhileDisconnected;
            if how == Queued::DropsBeforeAnswer {
                connected.retain(|c| *c != client);
                sockets.retain(|(c, _)| *c != client);
            }
            StepKind::QueuedEmit {
                client,
                event,
                args,
                how,
            }
        } else if let Some(client) = self.emit {
            if self.while_disconnected.is_some() || self.drops_before_answer.is_some() {
                return Err(
                    "while_disconnected and drops_before_answer need the stage's client_queue".into(),
                );
            }
            known(&client, connected)?;
            let namespace = self.namespace.unwrap_or_else(|| "/".into());
            if !sockets.iter().any(|(c, n)| *c == client && *n == namespace) {
                return Err(format!("{client} has no socket on {namespace} to emit on"));
            }
            let event = self.event.unwrap_or_else(|| CHAT_EVENT.into());
            let args = self.args.unwrap_or_default();
            let effect = scope.effect_in(&namespace, &event, &args, connected)?;
            let ack = self.ack.unwrap_or(false) || self.ack_timeout_ms.is_some();
            if let Some(ms) = self.ack_timeout_ms
                && !(1..=MAX_ACK_TIMEOUT_MS).contains(&ms)
            {
                return Err(format!(
                    "ack_timeout_ms = {ms}: a lesson waits between 1 and {MAX_ACK_TIMEOUT_MS} ms"
                ));
            }
            if ack && effect.answers.is_none() && self.ack_timeout_ms.is_none() {
                return Err(format!(
                    "ack = true, but the handler for '{event}' never calls the callback \
                     (the client would wait for an answer that does not come; give it an \
                     ack_timeout_ms)"
                ));
            }
            delivers = effect.emit.is_some();
            StepKind::Emit {
                client,
                namespace,
                event,
                args,
                ack,
                ack_timeout_ms: self.ack_timeout_ms,
            }
        } else {
            let sends = self.burst.unwrap_or_default();
            if sends.len() < 2 {
                return Err("a burst needs at least two sends".into());
            }
            let event = self.event.unwrap_or_else(|| CHAT_EVENT.into());
            for (i, send) in sends.iter().enumerate() {
                known(&send.from, connected)?;
                if scope.effect_of(&event, &send.args, connected)?.emit.is_none() {
                    return Err(
                        "a burst observes what the server sends, and this handler sends nothing".into(),
                    );
                }
                if sends[..i].iter().any(|s| s.args == send.args) {
                    return Err("the messages of a burst must differ, so each can be told apart".into());
                }
            }
            delivers = true;
            StepKind::Burst {
                event,
                sends: sends.into_iter().map(|s| (s.from, s.args)).collect(),
            }
        };
        // A delivery step must say who should receive it: tests and `check` judge by it.
        match (delivers, self.expect_received_by.is_some()) {
            (true, false) => {
                return Err(format!(
                    "{} {kind_name} step that delivers an event needs expect_received_by",
                    if kind_name == "emit" { "an" } else { "a" }
                ));
            }
            (false, true) => return Err("expect_received_by on a step whose server sends nothing".into()),
            _ => {}
        }
        if let Some(names) = &self.expect_received_by {
            for name in names {
                known(name, connected)?;
            }
        }
        Ok(Step {
            kind,
            expect_received_by: self.expect_received_by,
            question: self.question,
            why: self.why,
        })
    }
}
