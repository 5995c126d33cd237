//! The delivery steps: a client connects (or reconnects), emits (with or without an
//! acknowledgement callback), or goes away, and the record of what every client received because
//! of it, with the server's own reason for each client that received nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::nodes::Ours;
use super::{LEAVE_WITHIN, Named, RunError, Session, merge};
use crate::client::{SimClient, Transport};
use crate::lesson::Step;
use crate::server::ServerEvent;
use crate::trace::{Delivery, Kind, StepRecord};

impl Session<'_> {
    pub(super) async fn connect(
        &mut self,
        number: u32,
        name: &str,
        node: usize,
        transports: Option<&[Transport]>,
    ) -> Result<StepRecord, RunError> {
        self.acting_node = node;
        let mut options = self.options_for(name);
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
        let connected = SimClient::connect(&self.bases[node], &options)
            .await
            .map_err(|source| RunError::Connect {
                client: name.to_owned(),
                source,
            })?;
        if self.server.is_some() {
            let sid = connected.sid.clone();
            self.await_server(&sid, name, |e| matches!(e, ServerEvent::Connected { .. }))
                .await?;
        }
        self.clients.push(Named {
            name: name.to_owned(),
            client: connected,
            node,
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
        if let Some(server) = self.stage.node_name(node) {
            trigger.push_str(&format!(" to server {server}"));
        }
        if let Some(transports) = transports {
            let names: Vec<&str> = transports.iter().map(|t| t.name()).collect();
            trigger.push_str(&format!(" (transports: {})", names.join(", ")));
        }
        if let Some(kept) = &kept {
            trigger = format!("{trigger} with auth {kept}");
        }
        // socket.io-client sends what its queue holds as soon as it is connected again.
        let waiting = self.outboxes.get(name).map_or(0, |o| o.waiting().count());
        // Our server has finished its connection handler (its replay) by now: it reported so.
        // Someone else's server cannot say; read its replay for the quiet window first, so the
        // queue's emits come after it there too (with Node's tutorial server they could
        // otherwise race the replay's SELECT).
        let early = if waiting > 0 && self.server.is_none() {
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
        let effect = self.stage.effect(
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
        if self.server.is_some() {
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

    pub(super) async fn emit(
        &mut self,
        number: u32,
        name: &str,
        event: &str,
        args: &[Value],
        ack: Option<Option<u64>>,
    ) -> Result<StepRecord, RunError> {
        let answer = self.send(name, event, args, ack.is_some()).await?;
        let mut step = self.blank(number, Kind::Emit, format!("{name} emits '{event}'"));
        step.sender = Some(name.to_owned());
        self.describe_emit(&mut step, event, args);
        let expected = self.expected_receivers(number);
        let (received, ignored) = self.settle(&[(step.event.clone(), expected)]).await?;
        self.learn_offsets(&received);
        if let Some(answer) = answer {
            let within = ack.flatten();
            let got = self.await_ack(name, answer, within).await?;
            step.acks.insert(name.to_owned(), got);
        }
        self.fill_receivers(&mut step, received, ignored);
        Ok(step)
    }

    /// States what the stage's server does for `event` with `args`, as its handler declares it
    /// (only for our own server, see [`Session::ours`]): the action, and the event it emits and
    /// to whom. Against someone else's server, the event judged is the one the client sent, as
    /// the lessons echo it. When the server's emit differs from the client's (another event, or
    /// other arguments), the client's is kept in `client_emit`.
    pub(super) fn describe_emit(&self, step: &mut StepRecord, event: &str, args: &[Value]) {
        let sent = Delivery {
            event: event.to_owned(),
            args: args.to_vec(),
        };
        let effect = self
            .stage
            .effect(&crate::vocab::Trigger::Event(event.to_owned()), args);
        let Some(effect) = effect else {
            step.event = Some(sent.event);
            step.args = sent.args;
            return;
        };
        step.action = self.ours(effect.js.to_owned());
        match effect.emit {
            Some(emit) => {
                let echo = Delivery {
                    event: emit.event,
                    args: emit.args,
                };
                step.audience = self.ours(emit.to);
                if echo != sent {
                    step.client_emit = Some(sent);
                }
                step.event = Some(echo.event);
                step.args = echo.args;
            }
            None => step.client_emit = Some(sent),
        }
    }

    /// Waits for the answer to `name`'s acknowledgement callback: for `within` milliseconds when
    /// the step gives the client a timeout (`socket.timeout(ms).emit`), which is then a result
    /// the lesson shows, or else for the bound on every wait, which is then an error.
    ///
    /// The ACK packet is queued before the handler reports that it has finished, so against our
    /// own server it has arrived by the time the fence has: no timer decides an answered ack.
    async fn await_ack(
        &mut self,
        name: &str,
        answer: tokio::sync::oneshot::Receiver<Vec<Value>>,
        within: Option<u64>,
    ) -> Result<crate::trace::Ack, RunError> {
        let after = within.map_or(self.options.timeout, Duration::from_millis);
        match tokio::time::timeout(after, answer).await {
            Ok(Ok(args)) => Ok(crate::trace::Ack::Answered(args)),
            Ok(Err(_)) => Err(RunError::Other(format!(
                "{name}'s connection closed before the answer came"
            ))),
            Err(_) => match within {
                Some(after_ms) => Ok(crate::trace::Ack::TimedOut { after_ms }),
                None => Err(RunError::Timeout {
                    what: format!(
                        "the answer to {name}'s acknowledgement callback (does the server's handler \
                         call its callback?)"
                    ),
                    after,
                }),
            },
        }
    }

    /// Several messages sent back to back, observed together: every client's inbox shows the
    /// order in which the server handled them.
    pub(super) async fn burst(
        &mut self,
        number: u32,
        step: &Step,
        event: &str,
        sends: &[(String, Vec<Value>)],
    ) -> Result<Vec<StepRecord>, RunError> {
        self.bursts += 1;
        let expected = step.expect_received_by.clone().unwrap_or_default();
        let mut received = BTreeMap::new();
        let mut ignored = BTreeMap::new();
        for (i, (name, args)) in sends.iter().enumerate() {
            self.send(name, event, args, false).await?;
            if self.remote.is_some() || i + 1 == sends.len() {
                // Locally the server's reports already fix the order, and one fence at the end
                // suffices. Remotely, waiting for each message keeps the server's order the
                // order we sent in.
                let (got, skipped) = self.settle(&[(Some(event.to_owned()), expected.clone())]).await?;
                merge(&mut received, got);
                merge(&mut ignored, skipped);
            }
        }
        let mut records = Vec::new();
        for (i, (name, args)) in sends.iter().enumerate() {
            let mut record = self.blank(number, Kind::Emit, format!("{name} emits '{event}'"));
            record.sender = Some(name.clone());
            record.burst = Some(self.bursts);
            self.describe_emit(&mut record, event, args);
            let this = Delivery {
                event: record.event.clone().unwrap_or_default(),
                args: record.args.clone(),
            };
            let mut mine = BTreeMap::new();
            for (client, inbox) in &received {
                let got: Vec<Delivery> = inbox.iter().filter(|d| **d == this).cloned().collect();
                if let Some(position) = inbox.iter().position(|d| *d == this) {
                    record.arrival.insert(client.clone(), position + 1);
                }
                mine.insert(client.clone(), got);
            }
            let skipped = if i == 0 {
                std::mem::take(&mut ignored)
            } else {
                BTreeMap::new()
            };
            self.fill_receivers(&mut record, mine, skipped);
            records.push(record);
        }
        Ok(records)
    }

    /// Emits from a client (with an acknowledgement callback when `ack`, whose answer is
    /// returned to wait on) and, against our server, waits until the handler has finished.
    async fn send(
        &mut self,
        name: &str,
        event: &str,
        args: &[Value],
        ack: bool,
    ) -> Result<Option<tokio::sync::oneshot::Receiver<Vec<Value>>>, RunError> {
        let args = self.with_ids(args);
        let named = self
            .clients
            .iter_mut()
            .find(|c| c.name == name)
            .ok_or_else(|| RunError::Other(format!("{name} is not connected")))?;
        self.acting_node = named.node;
        let failed = |e| RunError::Other(format!("{name}: {e}"));
        let answer = if ack {
            Some(named.client.emit_with_ack(event, args).map_err(failed)?)
        } else {
            named.client.emit(event, args).map_err(failed)?;
            None
        };
        let sid = named.client.sid.clone();
        self.acting = Some(name.to_owned());
        if self.server.is_some() {
            let wanted = event.to_owned();
            self.await_server(&sid, name, move |e| match e {
                ServerEvent::Handled { event, .. } | ServerEvent::Rejected { event, .. } => *event == wanted,
                _ => false,
            })
            .await?;
        }
        Ok(answer)
    }

    /// The arguments as sent on the wire: `"<bob.id>"` becomes bob's socket id (see
    /// [`crate::lesson::own_room`]).
    fn with_ids(&self, args: &[Value]) -> Vec<Value> {
        let names: Vec<String> = self.clients.iter().map(|c| c.name.clone()).collect();
        args.iter()
            .map(|arg| match arg {
                Value::String(text) => match crate::lesson::own_room(text, &names) {
                    Some(name) => {
                        let sid = self
                            .clients
                            .iter()
                            .find(|c| c.name == name)
                            .map(|c| c.client.sid.clone());
                        Value::String(sid.unwrap_or_else(|| text.clone()))
                    }
                    None => arg.clone(),
                },
                _ => arg.clone(),
            })
            .collect()
    }

    /// Writes every client's socket id as `<name.id>`, so traces do not depend on the random
    /// ids a run gets.
    fn mask_ids(&self, text: &str) -> String {
        self.clients.iter().fold(text.to_owned(), |text, c| {
            text.replace(&c.client.sid, &format!("<{}.id>", c.name))
        })
    }

    pub(super) fn expected_receivers(&self, number: u32) -> Vec<String> {
        self.stage.steps[number as usize - 1]
            .expect_received_by
            .clone()
            .unwrap_or_default()
    }

    /// Sorts what each client received into `received_by` / `not_received_by`.
    pub(super) fn fill_receivers(
        &self,
        step: &mut StepRecord,
        received: BTreeMap<String, Vec<Delivery>>,
        ignored: BTreeMap<String, Vec<Delivery>>,
    ) {
        for named in &self.clients {
            let inbox = received.get(&named.name).cloned().unwrap_or_default();
            let got = step
                .event
                .as_ref()
                .is_some_and(|ev| inbox.iter().any(|d| d.event == *ev));
            if step.event.is_some() {
                if got {
                    &mut step.received_by
                } else {
                    &mut step.not_received_by
                }
                .push(named.name.clone());
            }
            step.received.insert(named.name.clone(), inbox);
        }
        // A client that connected earlier in the stage and is away now cannot receive anything:
        // listed too, so the trace shows exactly what it missed. (Its socket's end was confirmed
        // by the server's disconnect report, or by the remote server closing it.)
        if step.event.is_some() {
            for name in &self.joined {
                if !self.clients.iter().any(|c| c.name == *name) {
                    step.away.push(name.clone());
                }
            }
        }
        step.received_by.sort();
        step.not_received_by.sort();
        step.ignored = ignored.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        // What came back to an emit that asked for answers, by client, as the server saw it.
        for acked in &self.sent {
            let ServerEvent::Acked { event, answers, .. } = acked else {
                continue;
            };
            if Some(event) != step.event.as_ref() {
                continue;
            }
            for (sid, ack) in answers {
                if let Some(named) = self.clients.iter().find(|c| c.client.sid == *sid) {
                    step.server_acks.insert(named.name.clone(), ack.clone());
                }
            }
        }
        // Why each non-receiver did not receive: the server's own account, from the table it
        // read at emit time (see `server::live`), for the emit this record describes.
        for sent in &self.sent {
            let ServerEvent::Sent {
                event,
                args,
                recipients,
                ..
            } = sent
            else {
                continue;
            };
            if Some(event) != step.event.as_ref() || *args != step.args {
                continue;
            }
            for (sid, why) in &recipients.why_not {
                let Some(named) = self.clients.iter().find(|c| c.client.sid == *sid) else {
                    continue;
                };
                if step.not_received_by.contains(&named.name) {
                    step.why_not
                        .insert(named.name.clone(), self.mask_ids(&why.to_string()));
                }
            }
            // A client on another server is in none of the emitting server's tables: the server
            // that holds it says why (see `nodes::Cluster::why_not_elsewhere`).
            let ServerEvent::Sent { audience, .. } = sent else {
                continue;
            };
            if let Some(Ours::Nodes(cluster)) = &self.server {
                for named in &self.clients {
                    if !step.not_received_by.contains(&named.name) || step.why_not.contains_key(&named.name) {
                        continue;
                    }
                    if let Some(why) =
                        cluster.why_not_elsewhere(&named.client.sid, self.acting_node, audience)
                    {
                        step.why_not
                            .insert(named.name.clone(), self.mask_ids(&why.to_string()));
                    }
                }
            }
        }
    }
}
