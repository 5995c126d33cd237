//! Who received what: each client's inbox as a step's deliveries come in, then the step's
//! receivers and non-receivers, with the server's own reason for each client that received
//! nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Session;
use super::nodes::Ours;
use crate::server::ServerEvent;
use crate::trace::{Delivery, StepRecord};

pub(super) type Inboxes = BTreeMap<String, Vec<Delivery>>;

pub(super) fn sort_in(
    relevant: &BTreeSet<String>,
    received: &mut Inboxes,
    ignored: &mut Inboxes,
    who: &str,
    nsp: &str,
    event: String,
    args: Vec<Value>,
) {
    // A relay fence (`relay.rs`) is the tutor's plumbing, also when it comes late.
    if super::relay::relay_number(&args).is_some() {
        return;
    }
    let target = if relevant.contains(&event) {
        received
    } else {
        ignored
    };
    target.entry(who.to_owned()).or_default().push(Delivery {
        event,
        args,
        nsp: (nsp != "/").then(|| nsp.to_owned()),
    });
}

pub(super) fn merge(into: &mut Inboxes, from: Inboxes) {
    for (who, mut items) in from {
        into.entry(who).or_default().append(&mut items);
    }
}

impl Session<'_> {
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
        // What our server reports it sent is the truth about the arguments: a handler that reads
        // `socket.data` knows them only once it runs (lesson 8).
        // One emit of the step's event, outside a burst (whose records each have their own).
        let reported: Vec<&Vec<Value>> = self
            .sent
            .iter()
            .filter_map(|e| match e {
                ServerEvent::Sent { event, args, .. } if Some(event) == step.event.as_ref() => Some(args),
                _ => None,
            })
            .collect();
        if let [args] = reported[..]
            && step.burst.is_none()
            && *args != step.args
        {
            step.args = args.clone();
        }
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
        // read at emit time (see `server::observe::live`), for the emit this record describes.
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
            if let Some(Ours::Nodes(cluster)) = self.our_server() {
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
