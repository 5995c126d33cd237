//! An emit's "sent to" part of a record: whom the server queued it for, by name, whom it left
//! out and why, what it lost to full buffers, and the bots the record waits to hear from.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Hub, Relay};
use crate::server::observe::live::Recipients;
use crate::trace::live::{ClientKind, Sending};
use crate::vocab::Audience;

impl Hub {
    pub(super) fn sorted_names(&mut self, sids: &[String]) -> Vec<String> {
        let mut names: Vec<String> = sids.iter().map(|sid| self.who(sid).0).collect();
        names.sort();
        names
    }

    /// Builds the "sent to" part of a record, and the bots it should wait for.
    pub(super) fn sending(
        &mut self,
        action: &'static str,
        event: String,
        args: Vec<Value>,
        audience: Option<Audience>,
        recipients: &Recipients,
        relays: &[Relay],
    ) -> (Sending, BTreeMap<String, String>) {
        let mut waiting = BTreeMap::new();
        // Bots on another server read what the adapter carried there: wait for them too.
        for sid in relays.iter().flat_map(|r| &r.to) {
            let (name, kind) = self.who(sid);
            if kind == ClientKind::Bot {
                waiting.insert(sid.clone(), name);
            }
        }
        // A socket whose buffer was full was not sent the packet: nothing to wait for.
        for sid in recipients
            .to
            .iter()
            .filter(|sid| !recipients.dropped.contains(sid))
        {
            let (name, kind) = self.who(sid);
            if kind == ClientKind::Bot {
                waiting.insert(sid.clone(), name);
            }
        }
        let (not_sent_to, why_not, relayed) = self.left_out(recipients, relays);
        let sending = Sending {
            action,
            event,
            args,
            audience,
            sent_to: {
                let to: Vec<String> = (recipients.to.iter())
                    .filter(|sid| !recipients.dropped.contains(sid))
                    .cloned()
                    .collect();
                self.sorted_names(&to)
            },
            dropped: self.sorted_names(&recipients.dropped),
            not_sent_to,
            why_not,
            unsure: self.sorted_names(&recipients.unsure),
            read_by: Vec::new(),
            unread: Vec::new(),
            error: None,
            relayed,
        };
        (sending, waiting)
    }
}
