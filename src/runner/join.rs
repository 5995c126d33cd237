//! The steps where a client's connect is about a namespace: joining another one over the same
//! session (socket.io-client's Manager multiplexes `io('/')` and `io('/admin')`), and a CONNECT
//! the server refuses, with the message (and, from Node, the data) it refused it with.

use serde_json::Value;

use super::connect::Joins;
use super::{RunError, Session};
use crate::client::JoinError;
use crate::server::ServerEvent;
use crate::trace::{Kind, Refusal, StepRecord};

impl Session<'_> {
    /// Client `name`, connected already, joins namespace `joins.nsp` over its session.
    pub(super) async fn join(
        &mut self,
        number: u32,
        name: &str,
        joins: Joins<'_>,
    ) -> Result<StepRecord, RunError> {
        let index = self
            .clients
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| RunError::Other(format!("{name} is not connected")))?;
        self.acting_node = self.clients[index].node;
        let auth = joins.auth.cloned();
        let answer = self.clients[index]
            .client
            .join_namespace(joins.nsp, auth.clone())
            .await;
        let joined = match answer {
            Ok(joined) => joined,
            Err(JoinError::Refused { nsp, message, data }) if joins.refusal_expected => {
                return self.refused(number, name, Refusal { nsp, message, data }).await;
            }
            Err(JoinError::Refused { nsp, message, data }) => {
                return Err(RunError::JoinRefused {
                    client: name.to_owned(),
                    nsp,
                    message,
                    data,
                });
            }
            Err(JoinError::Connect(source)) => {
                return Err(RunError::Connect {
                    client: name.to_owned(),
                    source,
                });
            }
        };
        self.clients[index].sockets.push(joins.nsp.to_owned());
        if self.is_ours() {
            self.await_server(&joined.sid, name, |e| matches!(e, ServerEvent::Connected { .. }))
                .await?;
        }
        let mut trigger = format!("{name} connects to {} on the same connection", joins.nsp);
        if let Some(auth) = &auth {
            trigger.push_str(&format!(" with auth {auth}"));
        }
        let mut step = self.blank(number, Kind::Connect, trigger);
        step.sender = Some(name.to_owned());
        self.acting = Some(name.to_owned());
        let effect = self.stage.effect_in(
            joins.nsp,
            &crate::vocab::Trigger::Connection,
            &[auth.unwrap_or(Value::Null)],
        );
        if let Some(effect) = effect {
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

    /// The server answered client `name`'s CONNECT with a CONNECT_ERROR: the record says so,
    /// with the message and data as the client read them. Against our own server, a refusal by
    /// the stage's middleware is also waited for among its reports, so the trace can say what
    /// refused it; a namespace nobody declared is refused by socketioxide itself.
    pub(super) async fn refused(
        &mut self,
        number: u32,
        name: &str,
        refusal: Refusal,
    ) -> Result<StepRecord, RunError> {
        let guard = self
            .stage
            .behaviour
            .in_namespace(&refusal.nsp)
            .and_then(|b| b.guard());
        if guard.is_some() {
            self.await_refusal(&refusal.nsp, name).await?;
        }
        let joining = self.clients.iter().any(|c| c.name == name);
        let trigger = match refusal.nsp.as_str() {
            "/" => format!("{name} connects"),
            nsp if joining => format!("{name} connects to {nsp} on the same connection"),
            nsp => format!("{name} connects to {nsp}"),
        };
        let trigger = match self.stage.steps[number as usize - 1].kind {
            crate::lesson::StepKind::Connect {
                auth: Some(ref auth), ..
            } => format!("{trigger} with auth {auth}"),
            _ => trigger,
        };
        let mut step = self.blank(number, Kind::Connect, trigger);
        step.sender = Some(name.to_owned());
        step.action = guard.and_then(|g| self.ours(g.js.to_owned()));
        step.refused = Some(refusal);
        // Nobody acted that a round trip could follow: the step ends as a departure does.
        self.acting = None;
        let (received, ignored) = self.settle(&[(None, Vec::new())]).await?;
        self.fill_receivers(&mut step, received, ignored);
        Ok(step)
    }

    /// Waits for our server's report that a middleware refused a socket on `nsp`.
    async fn await_refusal(&mut self, nsp: &str, name: &str) -> Result<(), RunError> {
        let after = self.options.timeout;
        let Some(server) = self.our_server_mut() else {
            return Ok(());
        };
        let deadline = tokio::time::Instant::now() + after;
        loop {
            match tokio::time::timeout_at(deadline, server.next_event()).await {
                Ok(Some(ServerEvent::Refused { nsp: refused, .. })) if refused == nsp => return Ok(()),
                Ok(Some(_)) => {}
                Ok(None) => return Err(RunError::Other("the server stopped reporting".into())),
                Err(_) => {
                    return Err(RunError::Timeout {
                        what: format!("the server's middleware to refuse {name} on {nsp}"),
                        after,
                    });
                }
            }
        }
    }
}
