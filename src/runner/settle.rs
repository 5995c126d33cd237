//! The end of a step: collecting what every client received because of it.
//!
//! Two halves, one per kind of target ([`super::session::Ending`]). Against our own server,
//! `fenced.rs` sends a fence and reads each client exactly up to it: ordering decides, no timer
//! does. Against someone else's server, `remote.rs` makes its own fences, round trips through
//! the server (`round_trip.rs`), while the server shows that it handles each connection's packets
//! in order; otherwise it waits, bounded, for the deliveries the lesson expects, then listens for
//! a short quiet window. This file chooses between them, and holds what both use.

use std::time::Duration;

use super::ending::Ending;
use super::{Inboxes, MAX_EVENTS_PER_STEP, Named, RunError, Session};
use crate::client::Received;

impl Session<'_> {
    /// Collects what every client received because of the last step.
    ///
    /// `expect` lists, per event, who the lesson expects to receive it; it is only used against
    /// a remote server, to know how long to wait. What is recorded is what arrived.
    pub(super) async fn settle(
        &mut self,
        expect: &[(Option<String>, Vec<String>)],
    ) -> Result<(Inboxes, Inboxes), RunError> {
        match self.ending {
            Ending::Fenced(_) => self.settle_fenced().await,
            Ending::Remote(windows) => self.settle_remote(expect, windows).await,
        }
    }

    /// One empty inbox per connected client: a client that received nothing is recorded too.
    pub(super) fn empty_inboxes(&self) -> Inboxes {
        self.clients
            .iter()
            .map(|c| (c.name.clone(), Vec::new()))
            .collect()
    }
}

/// The error for a client that received more events in one step than any lesson step sends.
pub(super) fn flooded(who: &str) -> RunError {
    RunError::Other(format!(
        "the server sent more than {MAX_EVENTS_PER_STEP} events to {who} in one step; \
         a lesson step sends a handful, so the tutor stopped reading"
    ))
}

/// The error for a client whose connection ended in a step: a flood the client stopped reading,
/// named as such, or a disconnection.
pub(super) fn closed(named: &Named, reason: String) -> RunError {
    match named.client.flood() {
        Some(flood) => RunError::Other(format!(
            "the server flooded {}: {flood}; a lesson step sends a handful, so the tutor stopped reading",
            named.name
        )),
        None => RunError::Other(format!("{} was disconnected: {reason}", named.name)),
    }
}

/// Waits up to `limit` for the next item from any of the clients at `indices`, and says which
/// client it came from. Reading all of them at once matters: a client that will never receive
/// anything (from a wrong server) must not hold up reading the others.
pub(super) async fn next_from_any(
    clients: &mut [Named],
    indices: &[usize],
    limit: Duration,
) -> Option<(usize, Received)> {
    let reads: Vec<_> = clients
        .iter_mut()
        .enumerate()
        .filter(|(i, _)| indices.contains(i))
        .map(|(i, named)| {
            Box::pin(async move { named.client.next_received(limit).await.map(|item| (i, item)) })
        })
        .collect();
    if reads.is_empty() {
        return None;
    }
    // Dropping the reads that lost the race loses nothing: a channel receive is cancel-safe, so
    // an item that was about to be taken stays queued for the next read.
    futures_util::future::select_all(reads).await.0
}
