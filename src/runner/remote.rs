//! The end of a step against someone else's server: round-trip fences while the server keeps
//! one order per connection (`round_trip.rs`, `relay.rs`), else a bounded wait for the
//! deliveries the lesson expects, then a short quiet window.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use super::ending::Windows;
use super::round_trip::Reads;
use super::settle::{closed, flooded, next_from_any};
use super::{Inboxes, MAX_EVENTS_PER_STEP, Named, RunError, Session, sort_in};
use crate::client::{Incoming, Received};

impl Session<'_> {
    /// Someone else's server: no reports, and only the fences we can make ourselves.
    pub(super) async fn settle_remote(
        &mut self,
        expect: &[(Option<String>, Vec<String>)],
        windows: Windows,
    ) -> Result<(Inboxes, Inboxes), RunError> {
        let after = self.options.timeout;
        // A race some servers have (socketioxide among them): a server may answer CONNECT
        // before its `socket.on(...)` handlers exist, and drop an event sent at once. Between a
        // client's CONNECT reply and its first emit lie the upgrade to WebSocket (three round
        // trips) and the step's two fence round trips, the time a server needs to run the
        // handler it has already started. A server that still drops the event is seen as one
        // that did not send what the lesson expects.
        let Windows { expect_within, quiet } = windows;
        // Every frame counts against a server we do not control, not only the events read
        // here: each client stops reading past its per-step frame and byte limits
        // (`client::limits`), and its last item then names the flood.
        for named in &self.clients {
            named.client.limit_steps();
        }
        let result = self.read_remote(expect, after, expect_within, quiet).await;
        for named in &self.clients {
            named.client.begin_step();
        }
        result
    }

    /// The remote reads themselves: round-trip fences while the server keeps one order per
    /// connection, else (or when an expected delivery is still missing) the bounded wait for the
    /// expected deliveries, then the quiet window.
    ///
    /// Why each verdict stays right:
    ///
    /// * **A delivery the lesson expects.** It is waited for, bounded by `expect_within`, in
    ///   every mode: the fences only end a step early once everything expected is in. A wrong
    ///   server that never sends it is judged exactly as before.
    /// * **A delivery the lesson does not expect** (the newcomer hears its own `hi`, the sender
    ///   gets its own message back, a second copy). Against a server that handles each
    ///   connection's packets in order (Node), it was queued before the fence's answer and has
    ///   arrived ahead of it (see `round_trip.rs`), so reading up to the fences sees it. A server
    ///   that does not keep that order shows it sooner or later by an expected delivery arriving
    ///   after its fence; from then on every step ends with the quiet window, as before. The
    ///   step that shows it also gets the window.
    /// * **A delivery the lesson does not expect, on a stage with several servers** (lesson 7:
    ///   `io.emit` where it asks for `io.local.emit`, so the other server's clients hear it).
    ///   The acting server published it to Redis before the relay fence's broadcast, and Redis
    ///   and the other server keep that order (`relay.rs`), so it has arrived before the
    ///   marker. While every connected client is on the acting server, nothing needs to cross
    ///   and the round trips above do. Servers that do not carry the marker everywhere (no
    ///   adapter: then the wrong delivery cannot cross either) end the step, and every later
    ///   one, with the bounded wait and the window, as before.
    /// * **A step whose actor is gone** (a disconnect): nobody can fence the action, so it ends
    ///   with the window too. That is also the one place left where absence across servers
    ///   rests on a window: nothing orders another client's packets after the moment the
    ///   server noticed the socket go.
    async fn read_remote(
        &mut self,
        expect: &[(Option<String>, Vec<String>)],
        after: Duration,
        expect_within: Duration,
        quiet: Duration,
    ) -> Result<(Inboxes, Inboxes), RunError> {
        let mut reads = Reads {
            received: self.empty_inboxes(),
            ignored: BTreeMap::new(),
            counts: vec![0usize; self.clients.len()],
        };
        let step_events: BTreeSet<&String> = expect.iter().filter_map(|(event, _)| event.as_ref()).collect();
        let wanted: Vec<Vec<String>> = self
            .clients
            .iter()
            .map(|named| {
                expect
                    .iter()
                    .filter(|(_, who)| who.contains(&named.name))
                    .filter_map(|(event, _)| event.clone())
                    .collect()
            })
            .collect();
        let missing = |received: &Inboxes, clients: &[Named]| -> Vec<usize> {
            (0..clients.len())
                .filter(|&i| {
                    let inbox = received.get(&clients[i].name);
                    !wanted[i]
                        .iter()
                        .all(|ev| inbox.is_some_and(|inbox| inbox.iter().any(|d| d.event == *ev)))
                })
                .collect()
        };
        let acting = self
            .acting
            .as_ref()
            .and_then(|name| self.clients.iter().position(|c| c.name == *name));
        let mut fenced = false;
        // A round trip proves that the server it went through has handled what came before it.
        // On a stage with several servers, what the acting server emits may still be on its way
        // through the adapter (Redis) to the others while their clients' round trips come back,
        // so there round trips only do while every connected client is on the acting server;
        // otherwise the fence must travel the adapter's way too (`relay.rs`). A stage whose
        // servers carry no relay fence takes the bounded wait and the quiet window below.
        if let (true, Some(acting)) = (self.ordered, acting) {
            let home = self.clients[acting].node;
            let one_server = self.clients.iter().all(|c| c.node == home);
            let limit = expect_within.min(after);
            fenced = match (one_server, self.relay.clone()) {
                (true, _) => self.read_to_round_trips(acting, &mut reads, limit).await?,
                (false, Some(event)) => {
                    let crossed = self
                        .read_to_relay_fence(acting, &event, &mut reads, limit, quiet)
                        .await?;
                    if !crossed {
                        // Not to every client in time: these servers do not carry it (no
                        // adapter, another handler). Waiting for it again would only cost each
                        // later step the same.
                        self.relay = None;
                    }
                    crossed
                }
                (false, None) => false,
            };
            if !fenced && one_server {
                self.ordered = false;
            } else if fenced && missing(&reads.received, &self.clients).is_empty() {
                return Ok((reads.received, reads.ignored));
            }
        }

        // Wait, bounded, until every client the lesson expects to receive something has it, then
        // listen for a short quiet window for anything else.
        //
        // Once any client has received the step's event, the server has demonstrably acted, and
        // one emit reaches all its sockets within a moment; so the remaining expected deliveries
        // get only the quiet window too. A wrong server then fails in a fraction of a second
        // instead of running out the whole bound, and a right one is not slowed down at all.
        let mut deadline = Instant::now() + expect_within;
        let mut acted = false;
        let arrived_already = reads
            .received
            .values()
            .flatten()
            .any(|d| step_events.contains(&d.event));
        if arrived_already {
            acted = true;
            deadline = deadline.min(Instant::now() + quiet);
        }
        loop {
            let waiting = missing(&reads.received, &self.clients);
            let left = deadline.saturating_duration_since(Instant::now());
            if waiting.is_empty() || left.is_zero() {
                break;
            }
            let Some((i, item)) = next_from_any(&mut self.clients, &waiting, left).await else {
                break;
            };
            let who = self.clients[i].name.clone();
            let Received { nsp, item } = item;
            match item {
                Incoming::Closed { reason } => return Err(closed(&self.clients[i], reason)),
                Incoming::Event { name, args } => {
                    reads.counts[i] += 1;
                    if reads.counts[i] > MAX_EVENTS_PER_STEP {
                        return Err(flooded(&who));
                    }
                    if wanted[i].contains(&name) && fenced {
                        // Expected, and after this client's fence: this server does not keep
                        // one order per connection, so its fences prove nothing from now on.
                        self.ordered = false;
                    }
                    if !acted && step_events.contains(&name) {
                        acted = true;
                        deadline = deadline.min(Instant::now() + quiet);
                    }
                    sort_in(
                        &self.relevant,
                        &mut reads.received,
                        &mut reads.ignored,
                        &who,
                        &nsp,
                        name,
                        args,
                    );
                }
            }
        }
        let quiet_end = Instant::now() + quiet;
        for (named, count) in self.clients.iter_mut().zip(&mut reads.counts) {
            loop {
                let left = quiet_end.saturating_duration_since(Instant::now());
                let item = if left.is_zero() {
                    named.client.try_next_received()
                } else {
                    named.client.next_received(left).await
                };
                match item.map(|r| (r.nsp, r.item)) {
                    None => break,
                    Some((_, Incoming::Closed { reason })) => return Err(closed(named, reason)),
                    Some((nsp, Incoming::Event { name, args })) => {
                        *count += 1;
                        if *count > MAX_EVENTS_PER_STEP {
                            return Err(flooded(&named.name));
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
        Ok((reads.received, reads.ignored))
    }
}
