//! The steps where a client connects (or reconnects) or goes away, politely or by dropping its
//! connection, and the record of what that made the server send.

use serde_json::Value;

use super::{LEAVE_WITHIN, Named, RunError, Session, merge};
use crate::client::{ConnectError, SimClient, Transport};
use crate::server::ServerEvent;
use crate::trace::{Kind, Refusal, StepRecord};

/// Which namespace a connect step joins, with which `auth`, and whether the lesson expects the
/// server to refuse it. A refusal the lesson expects is an observation the step records; one
/// it does not expect stops the stage with the server's message, as any failed connect does.
#[derive(Debug, Clone, Copy)]
pub(super) struct Joins<'a> {
    pub(super) nsp: &'a str,
    pub(super) auth: Option<&'a Value>,
    pub(super) refusal_expected: bool,
}

impl Session<'_> {
    pub(super) async fn connect(
        &mut self,
        number: u32,
        name: &str,
        node: usize,
        transports: Option<&[Transport]>,
        joins: Joins<'_>,
    ) -> Result<StepRecord, RunError> {
        // A client connected already joins another namespace over its session.
        if self.clients.iter().any(|c| c.name == name) {
            return self.join(number, name, joins).await;
        }
        self.acting_node = node;
        let mut options = self.options_for(name);
        options.namespace = joins.nsp.to_owned();
        if let Some(auth) = joins.auth {
            options.auth = Some(auth.clone());
        }
        // A step that names its client's transports overrides the run's (see `RunOptions`).
        if let Some(transports) = transports {
            options.transports = transports.to_vec();
        }
        // A client that keeps a server offset sends it as its auth (see `delivery.rs`).
        let kept = self.auth_for(name);
        if kept.is_some() {
            options.auth = kept.clone();
        }
        let auth = options.auth.clone();
        let connected = match SimClient::connect(&self.bases[node], &options).await {
            Ok(connected) => connected,
            // The namespace's middleware (or the server, for a namespace it does not have)
            // said no: an observation, which the step records.
            Err(ConnectError::Refused44 { message, data }) if joins.refusal_expected => {
                let refusal = Refusal {
                    nsp: joins.nsp.to_owned(),
                    message,
                    data,
                };
                return self.refused(number, name, refusal).await;
            }
            Err(source) => {
                return Err(RunError::Connect {
                    client: name.to_owned(),
                    source,
                });
            }
        };
        if self.is_ours() {
            let sid = connected.sid.clone();
            self.await_server(&sid, name, |e| matches!(e, ServerEvent::Connected { .. }))
                .await?;
        }
        self.clients.push(Named {
            name: name.to_owned(),
            client: connected,
            node,
            sockets: vec![joins.nsp.to_owned()],
        });
        let again = self.joined.iter().any(|j| j == name);
        if !again {
            self.joined.push(name.to_owned());
        }
        let mut trigger = if again {
            format!("{name} reconnects")
        } else {
            format!("{name} connects")
        };
        if joins.nsp != "/" {
            trigger.push_str(&format!(" to {}", joins.nsp));
        }
        if let Some(server) = self.stage.node_name(node) {
            trigger.push_str(&format!(" to server {server}"));
        }
        if let Some(transports) = transports {
            let names: Vec<&str> = transports.iter().map(|t| t.name()).collect();
            trigger.push_str(&format!(" (transports: {})", names.join(", ")));
        }
        if let Some(kept) = &kept {
            trigger = format!("{trigger} with auth {kept}");
        } else if let Some(auth) = joins.auth {
            trigger = format!("{trigger} with auth {auth}");
        }
        // socket.io-client sends what its queue holds as soon as it is connected again.
        let waiting = self.outboxes.get(name).map_or(0, |o| o.waiting().count());
        // Our server has finished its connection handler (its replay) by now: it reported so.
        // Someone else's server cannot say; read its replay for the quiet window first, so the
        // queue's emits come after it there too (with Node's tutorial server they could
        // otherwise race the replay's SELECT).
        let early = if waiting > 0 && !self.is_ours() {
            Some(self.settle(&[(None, Vec::new())]).await?)
        } else {
            None
        };
        let settled = self.drain(name).await?;
        if waiting > 0 {
            let emits = if waiting == 1 { "emit" } else { "emits" };
            trigger = format!("{trigger}; its queue sends the {emits} waiting");
        }
        let mut step = self.blank(number, Kind::Connect, trigger);
        step.sender = Some(name.to_owned());
        self.acting = Some(name.to_owned());
        let expected = self.expected_receivers(number);
        // The connection handler sees the client's handshake auth (`socket.handshake.auth`).
        let effect = self.stage.effect_in(
            joins.nsp,
            &crate::vocab::Trigger::Connection,
            &[auth.clone().unwrap_or(Value::Null)],
        );
        let replays = effect.as_ref().is_some_and(|e| e.offset);
        if let Some(effect) = effect {
            step.action = self.ours(effect.js.to_owned());
            if let Some(emit) = effect.emit {
                step.event = Some(emit.event);
                step.args = emit.args;
                step.audience = self.ours(emit.to);
            }
        }
        let (mut received, mut ignored) = self.settle(&[(step.event.clone(), expected)]).await?;
        if let Some((got, skipped)) = early {
            let later = std::mem::replace(&mut received, got);
            merge(&mut received, later);
            let later = std::mem::replace(&mut ignored, skipped);
            merge(&mut ignored, later);
        }
        self.learn_offsets(&received);
        self.record_settled(&mut step, name, &settled);
        self.fill_receivers(&mut step, received, ignored);
        if replays {
            self.why_nothing_replayed(&mut step, name, kept.as_ref());
        }
        Ok(step)
    }

    /// A client goes away, politely or by dropping its connection, and (against our server) the
    /// tutor waits until the server has seen the socket go: its disconnect handler reports it.
    pub(super) async fn disconnect(
        &mut self,
        number: u32,
        name: &str,
        drop: bool,
    ) -> Result<StepRecord, RunError> {
        let index = self
            .clients
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| RunError::Other(format!("{name} is not connected")))?;
        let named = self.clients.remove(index);
        self.acting_node = named.node;
        let sid = named.client.sid.clone();
        let trigger = if drop {
            // Dropping the client aborts its tasks: the TCP connection closes with no goodbye,
            // as when a laptop's lid shuts or its network goes.
            std::mem::drop(named);
            format!("{name}'s connection drops")
        } else {
            // A goodbye that times out still closes the client; the server's report decides.
            let _ = named.client.leave(self.options.timeout.min(LEAVE_WITHIN)).await;
            format!("{name} disconnects (socket.disconnect())")
        };
        if self.is_ours() {
            self.await_server(&sid, name, |e| matches!(e, ServerEvent::Disconnected { .. }))
                .await?;
        }
        let mut step = self.blank(number, Kind::Disconnect, trigger);
        step.sender = Some(name.to_owned());
        // The client that acted is gone: nobody can fence its leaving (see `settle.rs`).
        self.acting = None;
        if let Some(effect) = self.stage.effect(&crate::vocab::Trigger::Disconnect, &[]) {
            step.action = self.ours(effect.js.to_owned());
            if let Some(emit) = effect.emit {
                step.event = Some(emit.event);
                step.args = emit.args;
                step.audience = self.ours(emit.to);
            }
        }
        let expected = self.expected_receivers(number);
        let (received, ignored) = self.settle(&[(step.event.clone(), expected)]).await?;
        self.fill_receivers(&mut step, received, ignored);
        Ok(step)
    }
}
