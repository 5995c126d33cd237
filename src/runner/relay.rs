//! Fences that cross the adapter: against someone else's servers joined by Redis (lesson 7).
//!
//! A round trip (`round_trip.rs`) proves what *one* server has sent to the client that made it.
//! With two servers, what the acting server sends to the other server's clients goes another
//! way: it publishes the broadcast to Redis, the other server receives it on its subscription
//! and writes it to its own sockets. A round trip on one of those clients comes back from the
//! other server, which may not have heard from Redis yet, so it proves nothing about them.
//!
//! The fence has to travel the same way. Two orders make that possible:
//!
//! 1. Redis pub/sub delivers one publisher connection's messages to a subscriber in the order
//!    they were published (one channel or several: the commands of one connection run in
//!    order, and each PUBLISH writes to the subscribers at once). A server's adapter publishes
//!    every broadcast on its one publishing connection, and the other server handles what its
//!    one subscribing connection reads in order, writing each to its sockets before the next.
//! 2. One connection's packets keep their order (`round_trip.rs`), and a server that handles
//!    them in order, as Node does, runs the step's handler to its end before the next packet's.
//!
//! So after the step, the acting client sends one more message to an event the stage answers
//! with `io.emit` of the same arguments (`'chat message'` in lesson 7): a *relay fence* holding
//! a numbered marker. Its broadcast is published after everything the step's handler
//! published, so wherever it arrives, on either server, whatever the step sent there has
//! arrived ahead of it. Each client is read exactly up to its marker.
//!
//! The marker is the tutor's plumbing: it never enters a record (`is_relay_fence`), and
//! `--wire` labels its frames. A server that does not carry it to every client in time (no
//! adapter, a different handler, one that changes the text) gives no fence: that step and every
//! later one fall back to the bounded wait and the quiet window.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::round_trip::Reads;
use super::settle::{closed, flooded};
use super::{MAX_EVENTS_PER_STEP, RunError, Session, sort_in};
use crate::client::Incoming;
use crate::lesson::{Stage, StepKind};
use crate::vocab::{Audience, Trigger};

/// The marker's text before its number. Recognised without regard to case, anywhere in a
/// string argument, so a server that decorates the chat's text still shows its fence.
const MARKER: &str = "tutor-relay-fence-";

/// The event the stage's server answers by sending the same arguments to everyone on every
/// server (`io.emit(event, msg)`), among those its steps emit: the relay fence's way.
pub(super) fn relay_event(stage: &Stage) -> Option<String> {
    if !stage.needs_redis() {
        return None;
    }
    let probe = [Value::from(format!("{MARKER}0"))];
    stage.steps.iter().find_map(|step| {
        let StepKind::Emit { event, .. } = &step.kind else {
            return None;
        };
        let emit = stage.effect(&Trigger::Event(event.clone()), &probe)?.emit?;
        (emit.event == *event && emit.args == probe && emit.to == Audience::Everyone).then(|| event.clone())
    })
}

/// The number of the relay fence these arguments carry, if they carry one (`Some(0)` when its
/// number did not survive the server's handling).
pub(super) fn relay_number(args: &[Value]) -> Option<u64> {
    args.iter().filter_map(Value::as_str).find_map(|text| {
        let lower = text.to_lowercase();
        let at = lower.find(MARKER)? + MARKER.len();
        let digits: String = lower[at..].chars().take_while(char::is_ascii_digit).collect();
        Some(digits.parse().unwrap_or(0))
    })
}

impl Session<'_> {
    /// The relay fence described above: a round trip on the acting client (the server has read
    /// the action), the marker sent through `event`, then every client read up to its marker.
    ///
    /// `Ok(false)` when some client's marker did not come: within `limit` if it reached nobody,
    /// else within `quiet` of the first one that arrived (one broadcast reaches every server's
    /// sockets within a millisecond or two). The caller then waits as it would without fences.
    pub(super) async fn read_to_relay_fence(
        &mut self,
        acting: usize,
        event: &str,
        reads: &mut Reads,
        limit: Duration,
        quiet: Duration,
    ) -> Result<bool, RunError> {
        if !self.round_trip(&[acting], reads, limit).await? {
            return Ok(false);
        }
        self.fences += 1;
        let number = self.fences;
        let named = &self.clients[acting];
        named
            .client
            .emit(event, vec![Value::from(format!("{MARKER}{number}"))])
            .map_err(|e| RunError::Other(format!("{}: {e}", named.name)))?;
        let mut waiting: Vec<usize> = (0..self.clients.len()).collect();
        let mut deadline = Instant::now() + limit;
        while !waiting.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            let Some((i, item)) = super::settle::next_from_any(&mut self.clients, &waiting, left).await
            else {
                return Ok(false);
            };
            let named = &self.clients[i];
            let crate::client::Received { nsp, item } = item;
            let (name, args) = match item {
                Incoming::Closed { reason } => return Err(closed(named, reason)),
                Incoming::Event { name, args } => (name, args),
            };
            reads.counts[i] += 1;
            if reads.counts[i] > MAX_EVENTS_PER_STEP {
                return Err(flooded(&named.name));
            }
            // An earlier step's marker that came late is dropped like any other (`sort_in`).
            if relay_number(&args) == Some(number) {
                waiting.retain(|&w| w != i);
                deadline = deadline.min(Instant::now() + quiet);
                continue;
            }
            sort_in(
                &self.relevant,
                &mut reads.received,
                &mut reads.ignored,
                &named.name,
                &nsp,
                name,
                args,
            );
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_is_found_in_any_string_argument_whatever_its_case() {
        assert_eq!(relay_number(&[Value::from("tutor-relay-fence-7")]), Some(7));
        assert_eq!(relay_number(&[Value::from("TUTOR-RELAY-FENCE-12")]), Some(12));
        assert_eq!(
            relay_number(&[Value::from(1), Value::from("alice: tutor-relay-fence-3!")]),
            Some(3)
        );
        assert_eq!(relay_number(&[Value::from("tutor-relay-fence-")]), Some(0));
        assert_eq!(relay_number(&[Value::from("hello, everyone")]), None);
        assert_eq!(relay_number(&[]), None);
    }

    #[test]
    fn the_relay_event_is_an_io_emit_of_the_same_arguments_through_the_adapter() {
        let lessons = crate::lesson::all().expect("the lessons load");
        let seven = lessons.iter().find(|l| l.number == 7).expect("lesson 7");
        // 7.1 has no adapter: its io.emit stays home, and nothing crosses.
        assert_eq!(relay_event(&seven.stages[0]), None);
        assert_eq!(relay_event(&seven.stages[1]).as_deref(), Some("chat message"));
        assert_eq!(relay_event(&seven.stages[2]).as_deref(), Some("chat message"));
        // A stage with one server has no adapter to cross.
        let three = lessons.iter().find(|l| l.number == 3).expect("lesson 3");
        assert_eq!(relay_event(three.check()), None);
    }
}
