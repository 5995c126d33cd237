//! Emits through a client's queue (the stage's `client_queue`, socket.io-client's `retries` and
//! `ackTimeout`; see `client::outbox`): sent and retried while connected, kept while
//! disconnected, sent again on reconnection.

use std::time::Duration;

use serde_json::Value;

use super::{RunError, Session};
use crate::client::outbox::{Outbox, Settled};
use crate::lesson::Queued;
use crate::server::ServerEvent;
use crate::trace::{Ack, Kind, StepRecord};

impl Session<'_> {
    /// The queue of client `name`, made on first use with the stage's options.
    fn outbox(&mut self, name: &str) -> Result<&mut Outbox, RunError> {
        let Some(options) = self.stage.client_queue else {
            return Err(RunError::Other("this stage's clients have no queue".into()));
        };
        Ok(self
            .outboxes
            .entry(name.to_owned())
            .or_insert_with(|| Outbox::new(options.retries, Duration::from_millis(options.ack_timeout_ms))))
    }

    /// One emit through `name`'s queue, as `how` says.
    pub(super) async fn queued_emit(
        &mut self,
        number: u32,
        name: &str,
        event: &str,
        args: &[Value],
        how: Queued,
    ) -> Result<StepRecord, RunError> {
        let failed = |e| RunError::Other(format!("{name}: {e}"));
        self.outbox(name)?.push(event, args.to_vec()).map_err(failed)?;
        let mut step = self.blank(number, Kind::Emit, format!("{name} emits '{event}'"));
        step.sender = Some(name.to_owned());
        match how {
            Queued::WhileDisconnected => {
                step.trigger =
                    format!("{name} emits '{event}' while disconnected: it waits in the client's queue");
                step.client_emit = Some(crate::trace::Delivery {
                    event: event.to_owned(),
                    args: args.to_vec(),
                    nsp: None,
                });
                let (received, ignored) = self.settle(&[(None, Vec::new())]).await?;
                self.fill_receivers(&mut step, received, ignored);
            }
            Queued::Connected => {
                self.describe_emit(&mut step, event, args);
                let settled = self.drain(name).await?;
                let expected = self.expected_receivers(number);
                let (received, ignored) = self.settle(&[(step.event.clone(), expected)]).await?;
                self.learn_offsets(&received);
                self.record_settled(&mut step, name, &settled);
                self.fill_receivers(&mut step, received, ignored);
            }
            Queued::DropsBeforeAnswer => {
                self.describe_emit(&mut step, event, args);
                step.trigger = format!(
                    "{name} emits '{event}', and the connection drops before the acknowledgement arrives"
                );
                let index = self
                    .clients
                    .iter()
                    .position(|c| c.name == name)
                    .ok_or_else(|| RunError::Other(format!("{name} is not connected")))?;
                let mut named = self.clients.remove(index);
                let sid = named.client.sid.clone();
                let outbox = self.outboxes.get_mut(name).expect("made above");
                outbox.send_head_unanswered(&mut named.client).map_err(failed)?;
                if self.is_ours() {
                    self.await_server(&sid, name, |e| matches!(e, ServerEvent::Handled { .. }))
                        .await?;
                }
                // The others read what the server did; then the connection goes, unread.
                let expected = self.expected_receivers(number);
                let (received, ignored) = self.settle(&[(step.event.clone(), expected)]).await?;
                for frame in named.client.take_wire() {
                    self.departed_wire.push(crate::trace::WireLine {
                        client: named.name.clone(),
                        direction: frame.direction,
                        plumbing: self.is_ours() && super::is_fence(&frame.text),
                        frame: frame.text,
                    });
                }
                std::mem::drop(named);
                if self.is_ours() {
                    self.await_server(&sid, name, |e| matches!(e, ServerEvent::Disconnected { .. }))
                        .await?;
                }
                self.learn_offsets(&received);
                self.fill_receivers(&mut step, received, ignored);
            }
        }
        Ok(step)
    }

    /// Sends what `name`'s queue holds through its current connection, each emit until it is
    /// acknowledged or its retries are used up, and (against our server) waits until the server
    /// has handled every packet sent.
    pub(super) async fn drain(&mut self, name: &str) -> Result<Vec<Settled>, RunError> {
        let Some(mut outbox) = self.outboxes.remove(name) else {
            return Ok(Vec::new());
        };
        let ours = self.is_ours();
        let named = self
            .clients
            .iter_mut()
            .find(|c| c.name == name)
            .ok_or_else(|| RunError::Other(format!("{name} is not connected")))?;
        let sid = named.client.sid.clone();
        // Our own server's handler says whether it calls the callback (see `Outbox::drain`).
        let (stage, bound) = (self.stage, self.options.timeout);
        let answered_within = |waiting: &crate::client::outbox::Waiting| {
            let trigger = crate::vocab::Trigger::Event(waiting.event.clone());
            let answers = stage
                .effect(&trigger, &waiting.args)
                .is_some_and(|e| e.answers.is_some());
            (ours && answers).then_some(bound)
        };
        let outcome = outbox.drain(&mut named.client, answered_within).await;
        self.outboxes.insert(name.to_owned(), outbox);
        let (settled, sent) = outcome.map_err(|e| RunError::Other(format!("{name}: {e}")))?;
        if self.is_ours() {
            for _ in 0..sent {
                self.await_server(&sid, name, |e| {
                    matches!(e, ServerEvent::Handled { .. } | ServerEvent::Rejected { .. })
                })
                .await?;
            }
        }
        Ok(settled)
    }

    /// Puts how each queued emit ended into the record: the answer, or the timeout after every
    /// try, and how many tries it took.
    pub(super) fn record_settled(&self, step: &mut StepRecord, name: &str, settled: &[Settled]) {
        let timeout = self.stage.client_queue.map_or(0, |q| q.ack_timeout_ms);
        for outcome in settled {
            let (tries, ack) = match outcome {
                Settled::Acked { tries, answer } => (*tries, Ack::Answered(answer.clone())),
                Settled::GaveUp { tries } => (
                    *tries,
                    Ack::TimedOut {
                        after_ms: u64::from(*tries) * timeout,
                    },
                ),
            };
            step.acks.insert(name.to_owned(), ack);
            let times = if tries == 1 {
                "once".to_owned()
            } else {
                format!("{tries} times")
            };
            step.trigger = format!("{} (sent {times})", step.trigger);
        }
    }
}
