//! The end of a step against our own server: one marker to every socket (a *fence*), then
//! each client's inbox read exactly up to it. Ordering decides, no timer does.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::Value;

use super::ending::Ending;
use super::nodes::Ours;
use super::{Inboxes, RunError, Session, sort_in};
use crate::client::Incoming;
use crate::server::{FENCE_EVENT, ServerEvent};

impl Session<'_> {
    /// Our own server: one marker to every socket, then read each inbox up to it.
    pub(super) async fn settle_fenced(&mut self) -> Result<(Inboxes, Inboxes), RunError> {
        let mut received = self.empty_inboxes();
        let mut ignored: Inboxes = BTreeMap::new();
        let after = self.options.timeout;
        // ANCHOR: read_to_the_fence
        self.fences += 1;
        let fence = self.fences;
        let Some(server) = self.our_server() else {
            return Err(RunError::Other("a fence needs the tutor's own server".into()));
        };
        server
            .fence(fence, self.acting_node)
            .await
            .map_err(RunError::Other)?;
        for named in &mut self.clients {
            let mut fenced = 0;
            loop {
                match named.client.next_received(after).await.map(|r| (r.nsp, r.item)) {
                    None => {
                        return Err(RunError::Timeout {
                            what: format!("the tutor's fence #{fence} to reach {}", named.name),
                            after,
                        });
                    }
                    Some((_, Incoming::Closed { reason })) => {
                        return Err(RunError::Other(format!(
                            "{} was disconnected: {reason}",
                            named.name
                        )));
                    }
                    Some((nsp, Incoming::Event { name, args })) => {
                        // The fence reaches each of the client's sockets, one per namespace.
                        if name == FENCE_EVENT && args.first() == Some(&Value::from(fence)) {
                            fenced += 1;
                            if fenced == named.sockets.len().max(1) {
                                break;
                            }
                            continue;
                        }
                        sort_in(
                            &self.relevant,
                            &mut received,
                            &mut ignored,
                            &named.name,
                            &nsp,
                            name,
                            args,
                        );
                    }
                }
            }
        }
        // With several servers joined by an adapter, also every node's witness (see
        // `nodes.rs`): a node without clients must have applied the step too.
        if let Some(Ours::Nodes(cluster)) = self.our_server_mut() {
            cluster.read_witnesses(fence, after).await?;
        }
        Ok((received, ignored))
        // ANCHOR_END: read_to_the_fence
    }
}

impl Session<'_> {
    /// Waits for the server's report about socket `sid` that matches `wanted`.
    pub(super) async fn await_server(
        &mut self,
        sid: &str,
        name: &str,
        wanted: impl Fn(&ServerEvent) -> bool,
    ) -> Result<(), RunError> {
        let after = self.options.timeout;
        // The field itself, not `our_server_mut`: the loop below also writes `self.sent`.
        let Ending::Fenced(Some(server)) = &mut self.ending else {
            return Ok(());
        };
        let deadline = Instant::now() + after;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = match tokio::time::timeout(left, server.next_event()).await {
                Ok(Some(event)) => event,
                Ok(None) => return Err(RunError::Other("the server stopped reporting".into())),
                Err(_) => {
                    return Err(RunError::Timeout {
                        what: format!("the server to finish its handler for {name}"),
                        after,
                    });
                }
            };
            let about = match &event {
                ServerEvent::Connected { sid, .. }
                | ServerEvent::Handshake { sid, .. }
                | ServerEvent::Handled { sid, .. }
                | ServerEvent::Rejected { sid, .. }
                | ServerEvent::Disconnected { sid, .. }
                | ServerEvent::Refused { sid, .. }
                | ServerEvent::Sent { sid, .. }
                | ServerEvent::Acked { sid, .. } => sid,
            };
            if about == sid && matches!(event, ServerEvent::Sent { .. } | ServerEvent::Acked { .. }) {
                self.sent.push(event.clone());
            }
            if about == sid && wanted(&event) {
                return Ok(());
            }
        }
    }
}
