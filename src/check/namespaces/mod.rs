//! Judging namespaces and connect middleware: a CONNECT refused or let in, a namespace the
//! server does not have, a middleware that never answers, an emit made in another namespace.
//!
//! Everything here is read from the lesson's data, never from a lesson's number: a connect step
//! that expects a refusal (`expect_connect_error`), the middleware a namespace declares, and the
//! namespace each declared emit is made in ([`crate::vocab::Emit::namespace`]). What the server
//! did is read from the records: a refused CONNECT ([`crate::trace::Refusal`]) and the namespace
//! each delivery arrived on ([`crate::trace::Delivery::nsp`]).
//!
//! For a refusal, whether the client was refused is judged; its message is shown, not
//! compared, since a learner's words may differ from the lesson's. One message is read:
//! the one a server sends for a namespace it has not set up.
//!
//! * this file: the words the judgements share, and what the lesson says about each step;
//! * `mistakes.rs`: the findings of a played stage, and the headline they make;
//! * `stopped.rs`: a run that stopped at a CONNECT (refused, or never answered);
//! * `summary.rs`: what a passing stage did, in words.

use std::collections::BTreeSet;

use super::reach::Reach;
use crate::lesson::{Stage, Step, StepKind};
use crate::trace::{Kind, Refusal, StepRecord};
use crate::vocab::Trigger;

mod mistakes;
mod stopped;
mod summary;

pub(super) use mistakes::Mistakes;
pub(super) use stopped::{refused_elsewhere, refused_record, refused_unexpectedly, unanswered};
pub(super) use summary::pass_summary;

/// What a server answers a CONNECT to a namespace it has not set up: Node's socket.io and
/// socketioxide say "Invalid namespace", python-socketio "Unable to connect".
pub(super) const NO_SUCH_NAMESPACE: [&str; 2] = ["Invalid namespace", "Unable to connect"];

pub(super) fn no_such_namespace(refusal: &Refusal) -> bool {
    NO_SUCH_NAMESPACE.contains(&refusal.message.as_str())
}

/// A middleware in words: `the /admin middleware`, or `the io.use middleware` for `/`.
pub(super) fn middleware(nsp: &str) -> String {
    match nsp {
        "/" => "the io.use middleware".to_owned(),
        nsp => format!("the {nsp} middleware"),
    }
}

/// How a middleware is added to namespace `nsp`: `io.use`, or `io.of('/admin').use`.
pub(super) fn use_call(nsp: &str) -> String {
    match nsp {
        "/" => "io.use".to_owned(),
        nsp => format!("io.of('{nsp}').use"),
    }
}

/// ` with auth {"token":"letmein"}`, or ` with no auth`.
pub(super) fn with_auth(auth: Option<&serde_json::Value>) -> String {
    match auth {
        Some(auth) => format!(" with auth {auth}"),
        None => " with no auth".to_owned(),
    }
}

/// The connect step of a record: who, to which namespace, with which auth, expecting which
/// refusal.
pub(super) struct Connect<'a> {
    pub(super) client: &'a str,
    pub(super) nsp: &'a str,
    pub(super) auth: Option<&'a serde_json::Value>,
    pub(super) refused: Option<&'a str>,
}

pub(super) fn connect_of(step: &Step) -> Option<Connect<'_>> {
    match &step.kind {
        StepKind::Connect {
            client,
            namespace,
            auth,
            refused,
            ..
        } => Some(Connect {
            client,
            nsp: namespace,
            auth: auth.as_ref(),
            refused: refused.as_deref(),
        }),
        _ => None,
    }
}

/// Does this stage teach namespaces or middleware at all? Only then is its PASS said and its
/// failures headlined here.
pub(in crate::check) fn taught(stage: &Stage) -> bool {
    !stage.behaviour.namespaces().is_empty()
        || stage.behaviour.guard().is_some()
        || stage.steps.iter().any(|s| {
            connect_of(s).is_some_and(|c| c.nsp != "/" || c.refused.is_some())
                || matches!(&s.kind, StepKind::Emit { namespace, .. } if namespace != "/")
        })
}

/// A client, a namespace, and the step in which something happened between them.
pub(super) type AtStep = (String, String, u32);

/// The namespaces each client had a socket on before step `before`, and the CONNECTs refused
/// until then (client, namespace, step).
pub(super) fn sockets_before(
    stage: &Stage,
    records: &[StepRecord],
    before: u32,
) -> (BTreeSet<(String, String)>, Vec<AtStep>) {
    let mut sockets = BTreeSet::new();
    let mut refused = Vec::new();
    for record in records.iter().filter(|r| r.step < before) {
        let Some(step) = stage.steps.get(record.step as usize - 1) else {
            continue;
        };
        match (connect_of(step), &record.refused) {
            (Some(c), None) => {
                sockets.insert((c.client.to_owned(), c.nsp.to_owned()));
            }
            (Some(c), Some(_)) => refused.push((c.client.to_owned(), c.nsp.to_owned(), record.step)),
            (None, _) if record.kind == Kind::Disconnect => {
                let gone = record.sender.clone().unwrap_or_default();
                sockets.retain(|(who, _)| *who != gone);
            }
            (None, _) => {}
        }
    }
    (sockets, refused)
}

/// The clients let into a namespace before step `before` whose CONNECT the lesson refuses:
/// (client, namespace, step).
pub(super) fn let_in_before(stage: &Stage, records: &[StepRecord], before: u32) -> Vec<AtStep> {
    records
        .iter()
        .filter(|r| r.step < before && r.refused.is_none())
        .filter_map(|r| {
            let c = stage.steps.get(r.step as usize - 1).and_then(connect_of)?;
            c.refused?;
            Some((c.client.to_owned(), c.nsp.to_owned(), r.step))
        })
        .collect()
}

/// `the /admin middleware` → `your /admin middleware`.
pub(super) fn your(middleware: &str) -> String {
    middleware.replacen("the ", "your ", 1)
}

/// The namespace the lesson's emit at this step is made in, and its JavaScript.
pub(super) fn wanted_namespace(stage: &Stage, step: &Step) -> Option<(String, &'static str)> {
    let (nsp, effect) = match &step.kind {
        StepKind::Emit {
            namespace,
            event,
            args,
            ..
        } => (
            namespace.as_str(),
            stage.effect_in(namespace, &Trigger::Event(event.clone()), args)?,
        ),
        StepKind::Connect { namespace, auth, .. } => (
            namespace.as_str(),
            stage.effect_in(
                namespace,
                &Trigger::Connection,
                &[auth.clone().unwrap_or(serde_json::Value::Null)],
            )?,
        ),
        _ => return None,
    };
    let emit = effect.emit?;
    Some((emit.namespace(nsp).to_owned(), effect.js))
}

/// The call that reaches `received` among the sockets of namespace `nsp` (`on_nsp`).
pub(super) fn looks_like(
    sender: &str,
    nsp: &str,
    on_nsp: &BTreeSet<&str>,
    received: &BTreeSet<&str>,
) -> String {
    let reach = Reach::ALL.into_iter().find(|r| r.fits(sender, on_nsp, received));
    match (reach, nsp) {
        (Some(Reach::Everyone), "/") => "io.emit".to_owned(),
        (Some(Reach::Everyone), nsp) => format!("io.of('{nsp}').emit"),
        (Some(Reach::AllButSender), _) => "socket.broadcast.emit in the sender's namespace".to_owned(),
        (Some(Reach::OnlySender), _) => "socket.emit on the sender's own socket".to_owned(),
        _ => format!("an emit made in {nsp}"),
    }
}
