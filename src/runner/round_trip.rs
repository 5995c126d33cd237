//! Fences against someone else's server: a round trip through the server on each client.
//!
//! Against our own server the runner asks the server for a fence (`settle.rs`). Someone else's
//! server sends no fences, but it answers every CONNECT, also one for a namespace nobody serves:
//! `40/tutor-fence-1,` comes back as `44/tutor-fence-1,{"message":"Invalid namespace"}` (see
//! [`SimClient::round_trip`]). The answer travels on the same session as everything else the
//! server sends that client, so whatever the server sent before it has arrived ahead of it.
//!
//! Whether that also covers what the step's *handler* sent depends on the server. Node handles
//! one connection's packets in order and runs a handler to its end before it reads the next
//! packet from the network (its `process.nextTick` for event handlers runs before the next read),
//! so two rounds make a fence:
//!
//! 1. a round trip on the client that acted (it connected, or emitted): once it is answered, the
//!    server has read the action, and a packet sent after that is read after the handler ran;
//! 2. then a round trip on every connected client, the acting one included: each answer comes
//!    after everything the handler queued for that client.
//!
//! A server that runs handlers as concurrent tasks (python-socketio with its default
//! `async_handlers`, socketioxide) or awaits before it emits gives no such promise. The settle
//! code therefore trusts the fence only while the server behaves in order, and watches for the
//! evidence that it does not: an expected delivery that arrives after its client's fence (see
//! `Session::settle_remote`).

use std::time::Duration;

use super::{Inboxes, MAX_EVENTS_PER_STEP, RunError, Session, sort_in};
use crate::client::Incoming;

/// What the remote reads of one step have collected so far.
pub(super) struct Reads {
    pub received: Inboxes,
    pub ignored: Inboxes,
    /// Events read per client in this step, in the order of `Session::clients`.
    pub counts: Vec<usize>,
}

impl Session<'_> {
    /// The two rounds described above. `Ok(false)` when a round trip went unanswered within
    /// `limit` (a server that ignores CONNECTs for unknown namespaces): no fence then, and the
    /// caller falls back to waiting.
    pub(super) async fn read_to_round_trips(
        &mut self,
        acting: usize,
        reads: &mut Reads,
        limit: Duration,
    ) -> Result<bool, RunError> {
        if !self.round_trip(&[acting], reads, limit).await? {
            return Ok(false);
        }
        let all: Vec<usize> = (0..self.clients.len()).collect();
        self.round_trip(&all, reads, limit).await
    }

    /// Starts a round trip on each client at `indices` (all at once), then reads each of them
    /// exactly up to its answer.
    pub(super) async fn round_trip(
        &mut self,
        indices: &[usize],
        reads: &mut Reads,
        limit: Duration,
    ) -> Result<bool, RunError> {
        let mut answers = Vec::new();
        for &i in indices {
            let named = &mut self.clients[i];
            let answer = named
                .client
                .round_trip()
                .map_err(|e| RunError::Other(format!("{}: {e}", named.name)))?;
            answers.push((i, answer));
        }
        for (i, answer) in answers {
            let Ok(Ok(upto)) = tokio::time::timeout(limit, answer).await else {
                return Ok(false);
            };
            let named = &mut self.clients[i];
            while named.client.taken() < upto {
                // The events before the answer are already queued: this read does not wait.
                let read = named.client.next_received(limit).await;
                match read.map(|r| (r.nsp, r.item)) {
                    None => return Ok(false),
                    Some((_, Incoming::Closed { reason })) => {
                        return Err(super::settle::closed(named, reason));
                    }
                    Some((nsp, Incoming::Event { name, args })) => {
                        reads.counts[i] += 1;
                        if reads.counts[i] > MAX_EVENTS_PER_STEP {
                            return Err(super::settle::flooded(&named.name));
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
                }
            }
        }
        Ok(true)
    }
}
