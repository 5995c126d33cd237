//! The steps where a client emits: one message, with or without an acknowledgement callback, or
//! several back to back (a burst), and the record of who received each.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::{RunError, Session, merge};
use crate::lesson::Step;
use crate::server::ServerEvent;
use crate::trace::{Delivery, Kind, StepRecord};

impl Session<'_> {
    pub(super) async fn emit(
        &mut self,
        number: u32,
        name: &str,
        nsp: &str,
        event: &str,
        args: &[Value],
        ack: Option<Option<u64>>,
    ) -> Result<StepRecord, RunError> {
        let answer = self.send(name, nsp, event, args, ack.is_some()).await?;
        let mut trigger = format!("{name} emits '{event}'");
        if nsp != "/" {
            trigger.push_str(&format!(" on {nsp}"));
        }
        let mut step = self.blank(number, Kind::Emit, trigger);
        step.sender = Some(name.to_owned());
        self.describe_emit_in(&mut step, name, nsp, event, args);
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
        let sender = step.sender.clone().unwrap_or_default();
        self.describe_emit_in(step, &sender, "/", event, args)
    }

    /// [`Session::describe_emit`] for client `sender`'s emit on its socket of namespace `nsp`.
    pub(super) fn describe_emit_in(
        &self,
        step: &mut StepRecord,
        sender: &str,
        nsp: &str,
        event: &str,
        args: &[Value],
    ) {
        let sent = Delivery {
            event: event.to_owned(),
            args: args.to_vec(),
            nsp: None,
        };
        let effect =
            self.stage
                .effect_for(sender, nsp, &crate::vocab::Trigger::Event(event.to_owned()), args);
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
                    nsp: None,
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
                // Against someone else's server (`check`) no answer is an observation to judge,
                // with what the client received instead (an emit where a callback was asked
                // for), and the scenario goes on.
                None if !self.is_ours() => Ok(crate::trace::Ack::TimedOut {
                    after_ms: u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
                }),
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
        // Remotely, what arrived while each message was settled, in the order sent.
        let mut windows: Vec<BTreeMap<String, Vec<Delivery>>> = Vec::new();
        for (i, (name, args)) in sends.iter().enumerate() {
            self.send(name, "/", event, args, false).await?;
            if !self.is_ours() || i + 1 == sends.len() {
                // Locally the server's reports already fix the order, and one fence at the end
                // suffices. Remotely, waiting for each message keeps the server's order the
                // order we sent in.
                let (got, skipped) = self.settle(&[(Some(event.to_owned()), expected.clone())]).await?;
                if !self.is_ours() {
                    windows.push(got.clone());
                }
                merge(&mut received, got);
                merge(&mut ignored, skipped);
            }
        }
        let mut records = Vec::new();
        for (name, args) in sends {
            let mut record = self.blank(number, Kind::Emit, format!("{name} emits '{event}'"));
            record.sender = Some(name.clone());
            record.burst = Some(self.bursts);
            self.describe_emit(&mut record, event, args);
            records.push(record);
        }
        let sent: Vec<Delivery> = records
            .iter()
            .map(|r| Delivery {
                event: r.event.clone().unwrap_or_default(),
                args: r.args.clone(),
                nsp: None,
            })
            .collect();
        let mut filled = Vec::new();
        for (i, mut record) in records.into_iter().enumerate() {
            let this = &sent[i];
            let mut mine = BTreeMap::new();
            for (client, inbox) in &received {
                let mut got: Vec<Delivery> = inbox.iter().filter(|d| *d == this).cloned().collect();
                if let Some(position) = inbox.iter().position(|d| d == this) {
                    record.arrival.insert(client.clone(), position + 1);
                }
                // A delivery of the event that is none of the messages sent (a server that
                // drops or changes the arguments) belongs, remotely, to the message whose
                // window it arrived in: shown and judged there, never lost.
                if let Some(window) = windows.get(i).and_then(|w| w.get(client)) {
                    let before: usize = windows[..i]
                        .iter()
                        .filter_map(|w| w.get(client))
                        .map(Vec::len)
                        .sum();
                    let stray = window
                        .iter()
                        .enumerate()
                        .filter(|(_, d)| d.event == this.event && !sent.contains(d));
                    for (at, delivery) in stray {
                        record.arrival.entry(client.clone()).or_insert(before + at + 1);
                        got.push(delivery.clone());
                    }
                }
                mine.insert(client.clone(), got);
            }
            let skipped = if i == 0 {
                std::mem::take(&mut ignored)
            } else {
                BTreeMap::new()
            };
            self.fill_receivers(&mut record, mine, skipped);
            filled.push(record);
        }
        Ok(filled)
    }

    /// Emits from a client (with an acknowledgement callback when `ack`, whose answer is
    /// returned to wait on) and, against our server, waits until the handler has finished.
    async fn send(
        &mut self,
        name: &str,
        nsp: &str,
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
            Some(named.client.emit_with_ack_on(nsp, event, args).map_err(failed)?)
        } else {
            named.client.emit_on(nsp, event, args).map_err(failed)?;
            None
        };
        let sid = named.client.sid.clone();
        self.acting = Some(name.to_owned());
        if self.is_ours() {
            let wanted = event.to_owned();
            self.await_server(&sid, name, move |e| match e {
                ServerEvent::Handled { event, .. } | ServerEvent::Rejected { event, .. } => *event == wanted,
                _ => false,
            })
            .await?;
        }
        Ok(answer)
    }
}
