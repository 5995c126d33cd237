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

use std::collections::{BTreeMap, BTreeSet};

use super::findings::explained;
use super::headline::{describe, names};
use super::reach::Reach;
use super::verdict::{Failure, Finding, Verdict};
use crate::client::ConnectError;
use crate::lesson::{Stage, Step, StepKind};
use crate::runner::RunError;
use crate::trace::{Kind, Refusal, StepRecord};
use crate::vocab::Trigger;

/// What a server answers a CONNECT to a namespace it has not set up: Node's socket.io and
/// socketioxide say "Invalid namespace", python-socketio "Unable to connect".
const NO_SUCH_NAMESPACE: [&str; 2] = ["Invalid namespace", "Unable to connect"];

fn no_such_namespace(refusal: &Refusal) -> bool {
    NO_SUCH_NAMESPACE.contains(&refusal.message.as_str())
}

/// A middleware in words: `the /admin middleware`, or `the io.use middleware` for `/`.
fn middleware(nsp: &str) -> String {
    match nsp {
        "/" => "the io.use middleware".to_owned(),
        nsp => format!("the {nsp} middleware"),
    }
}

/// How a middleware is added to namespace `nsp`: `io.use`, or `io.of('/admin').use`.
fn use_call(nsp: &str) -> String {
    match nsp {
        "/" => "io.use".to_owned(),
        nsp => format!("io.of('{nsp}').use"),
    }
}

/// ` with auth {"token":"letmein"}`, or ` with no auth`.
fn with_auth(auth: Option<&serde_json::Value>) -> String {
    match auth {
        Some(auth) => format!(" with auth {auth}"),
        None => " with no auth".to_owned(),
    }
}

/// The connect step of a record: who, to which namespace, with which auth, expecting which
/// refusal.
struct Connect<'a> {
    client: &'a str,
    nsp: &'a str,
    auth: Option<&'a serde_json::Value>,
    refused: Option<&'a str>,
}

fn connect_of(step: &Step) -> Option<Connect<'_>> {
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
pub(super) fn taught(stage: &Stage) -> bool {
    !stage.behaviour.namespaces().is_empty()
        || stage.behaviour.guard().is_some()
        || stage.steps.iter().any(|s| {
            connect_of(s).is_some_and(|c| c.nsp != "/" || c.refused.is_some())
                || matches!(&s.kind, StepKind::Emit { namespace, .. } if namespace != "/")
        })
}

/// The first mistake of each kind, for the headline, in the order it is told.
#[derive(Debug, Default)]
pub(super) struct Mistakes {
    /// A namespace the server does not have: (namespace, its refusal's message).
    missing: Option<(String, String)>,
    /// A client refused that the lesson lets in: (client, namespace, message, auth).
    refused: Option<(String, String, String, String)>,
    /// A client let in that the lesson refuses: (client, namespace, the lesson's message, auth).
    let_in: Option<(String, String, String, String)>,
    /// An event sent in another namespace: (event, got, wanted, the call it looks like, the
    /// lesson's call).
    elsewhere: Option<(String, String, String, String, &'static str)>,
}

/// A client, a namespace, and the step in which something happened between them.
type AtStep = (String, String, u32);

/// The namespaces each client had a socket on before step `before`, and the CONNECTs refused
/// until then (client, namespace, step).
fn sockets_before(
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
fn let_in_before(stage: &Stage, records: &[StepRecord], before: u32) -> Vec<AtStep> {
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

impl Mistakes {
    /// One finding per connect step whose CONNECT was refused where the lesson lets the client
    /// in, or let in where the lesson refuses it.
    pub(super) fn refusals(&mut self, stage: &Stage, records: &[StepRecord]) -> Vec<Finding> {
        let mut out = Vec::new();
        for record in records {
            let Some(c) = stage.steps.get(record.step as usize - 1).and_then(connect_of) else {
                continue;
            };
            let guard = stage.behaviour.in_namespace(c.nsp).and_then(|b| b.guard());
            match (c.refused, &record.refused) {
                // Refused as the lesson expects: the message is shown, not judged.
                (Some(want), Some(got)) if !no_such_namespace(got) || NO_SUCH_NAMESPACE.contains(&want) => {}
                (_, Some(got)) if no_such_namespace(got) => {
                    self.missing
                        .get_or_insert_with(|| (c.nsp.to_owned(), got.message.clone()));
                    out.push(explained(
                        record,
                        format!(
                            "{}'s CONNECT to {} was refused with '{}', the answer for a namespace \
                             the server has not set up",
                            c.client, c.nsp, got.message
                        ),
                        Some(format!(
                            "a client can join only a namespace the server has created; the lesson's \
                             server creates {} with io.of('{}'){} and a connection handler",
                            c.nsp,
                            c.nsp,
                            if guard.is_some() { ", a middleware" } else { "" }
                        )),
                    ));
                }
                (None, Some(got)) => {
                    let auth = with_auth(c.auth);
                    let sent = match c.auth {
                        Some(auth) => format!("sent auth {auth}"),
                        None => "sent no auth".to_owned(),
                    };
                    self.refused.get_or_insert_with(|| {
                        (
                            c.client.to_owned(),
                            c.nsp.to_owned(),
                            got.message.clone(),
                            auth.clone(),
                        )
                    });
                    let why = match guard {
                        Some(_) => "does your middleware call next() when the auth is right, and \
                                    next(err) only for the others?"
                            .to_owned(),
                        None => format!(
                            "the lesson's server has no middleware on {}: does a middleware \
                             ({}) refuse it?",
                            c.nsp,
                            use_call(c.nsp)
                        ),
                    };
                    out.push(explained(
                        record,
                        format!(
                            "{} {sent} and was refused on {} with connect_error '{}'; the lesson's \
                             server lets this CONNECT in",
                            c.client, c.nsp, got.message
                        ),
                        Some(why),
                    ));
                }
                (Some(want), None) => {
                    self.let_in.get_or_insert_with(|| {
                        (
                            c.client.to_owned(),
                            c.nsp.to_owned(),
                            want.to_owned(),
                            with_auth(c.auth),
                        )
                    });
                    let why = match guard {
                        Some(_) => format!(
                            "{} must refuse a client without the right auth: next(new \
                             Error('{want}')) sends connect_error, and the connection handler never \
                             runs. Is there a middleware ({}) at all?",
                            middleware(c.nsp),
                            use_call(c.nsp)
                        ),
                        None => format!(
                            "the lesson's server has no namespace {}, so it answers '{want}'",
                            c.nsp
                        ),
                    };
                    out.push(explained(
                        record,
                        format!(
                            "{} connected to {}{}; the lesson's server refuses them with connect_error \
                             '{want}'",
                            c.client,
                            c.nsp,
                            with_auth(c.auth)
                        ),
                        Some(why),
                    ));
                }
                (None, None) | (Some(_), Some(_)) => {}
            }
        }
        out
    }

    /// The findings of one delivery step that the namespaces explain: deliveries on another
    /// namespace than the one the lesson's emit is made in, and expected receivers that have no
    /// socket there because their CONNECT was refused. Returns them, and the receivers left for
    /// the generic judgement, or `None` when that judgement would only repeat these.
    pub(super) fn deliveries(
        &mut self,
        stage: &Stage,
        records: &[StepRecord],
        record: &StepRecord,
        event: &str,
        sender: &str,
        expected: &[String],
    ) -> (Vec<Finding>, Option<Vec<String>>) {
        let Some(step) = stage.steps.get(record.step as usize - 1) else {
            return (Vec::new(), Some(expected.to_vec()));
        };
        let Some((want, js)) = wanted_namespace(stage, step) else {
            return (Vec::new(), Some(expected.to_vec()));
        };
        let (sockets, refused) = sockets_before(stage, records, record.step);
        let what = describe(event, &record.args);
        let cause = if record.kind == Kind::Connect {
            format!("{sender}'s connection triggered")
        } else {
            format!("{sender} sent")
        };

        // Deliveries on another namespace, grouped by the namespace they came on.
        let mut elsewhere: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut here: Vec<&str> = Vec::new();
        for (who, inbox) in &record.received {
            for delivery in inbox.iter().filter(|d| d.event == event) {
                let nsp = delivery.nsp.as_deref().unwrap_or("/");
                if nsp == want {
                    here.push(who);
                } else {
                    elsewhere.entry(nsp).or_default().push(who);
                }
            }
        }
        if !elsewhere.is_empty() {
            let mut out = Vec::new();
            for (got, mut who) in elsewhere {
                who.dedup();
                let on_got: BTreeSet<&str> = sockets
                    .iter()
                    .filter(|(_, nsp)| nsp == got)
                    .map(|(c, _)| c.as_str())
                    .collect();
                let received: BTreeSet<&str> = who.iter().copied().collect();
                let call = looks_like(sender, got, &on_got, &received);
                self.elsewhere.get_or_insert_with(|| {
                    (
                        event.to_owned(),
                        got.to_owned(),
                        want.to_owned(),
                        call.clone(),
                        js,
                    )
                });
                let missed: Vec<&str> = expected
                    .iter()
                    .map(String::as_str)
                    .filter(|e| !here.contains(e))
                    .collect();
                let lesson = if missed.is_empty() {
                    format!("the lesson's server sends it on {want} only")
                } else {
                    format!("the lesson's server sends it on {want}, to {}", names(&missed))
                };
                out.push(explained(
                    record,
                    format!(
                        "{} received the {what} {cause} on {got}, not on {want}; {lesson}",
                        names(&who),
                    ),
                    Some(format!(
                        "that is what {call} does{}, and an emit never leaves the namespace it is \
                         made in; the lesson asks for {js}, which reaches the sockets of {want} only",
                        if call == "io.emit" {
                            " (io is the main namespace, /)"
                        } else {
                            ""
                        }
                    )),
                ));
            }
            return (out, None);
        }

        // Expected receivers with no socket on the namespace, because it refused them.
        let mut out = Vec::new();
        let mut left = Vec::new();
        for who in expected {
            let had = sockets.contains(&(who.clone(), want.to_owned()));
            match refused.iter().find(|(c, nsp, _)| c == who && *nsp == want) {
                Some((_, _, at)) if !had => out.push(explained(
                    record,
                    format!("{who} did not receive the {what} {cause}"),
                    Some(format!(
                        "{who} has no socket on {want}, since the CONNECT to {want} was refused in \
                         step {at}"
                    )),
                )),
                _ => left.push(who.clone()),
            }
        }
        // Receivers on the namespace that the lesson's middleware would have kept out: the step
        // where they got in is the mistake, this delivery its consequence.
        for (who, nsp, at) in let_in_before(stage, records, record.step) {
            let got = record.received_by.contains(&who) && !expected.contains(&who);
            if nsp == want && got {
                out.push(explained(
                    record,
                    format!("{who} received the {what} {cause}"),
                    Some(format!(
                        "{who} has a socket on {want} only because {} let them in, in step {at}",
                        middleware(&want)
                    )),
                ));
                left.push(who);
            }
        }
        (out, Some(left))
    }

    /// The first line of a failing verdict, when a namespace or a middleware explains it.
    pub(super) fn headline(&self, n: u32, stage: &Stage) -> Option<String> {
        if let Some((nsp, message)) = &self.missing {
            let guarded = stage
                .behaviour
                .in_namespace(nsp)
                .and_then(|b| b.guard())
                .is_some();
            return Some(format!(
                "your server has no {nsp} namespace: it refused each CONNECT to {nsp} with \
                 '{message}'. Lesson {n} asks for io.of('{nsp}'){}",
                if guarded { ", guarded by a middleware" } else { "" }
            ));
        }
        if let Some((client, nsp, message, auth)) = &self.refused {
            return Some(format!(
                "{} refused {client}, who connected{auth} ('{message}'); lesson {n}'s lets that \
                 CONNECT in, and refuses only a client without the right auth",
                your(&middleware(nsp))
            ));
        }
        if let Some((client, nsp, message, auth)) = &self.let_in {
            return Some(format!(
                "{} let {client} in{auth}; lesson {n}'s refuses that CONNECT with connect_error \
                 '{message}', and its connection handler never runs for it",
                your(&middleware(nsp))
            ));
        }
        if let Some((event, got, want, call, js)) = &self.elsewhere {
            return Some(format!(
                "your server sends '{event}' to the sockets of {got}, which is what {call} does; \
                 lesson {n} asks for {js}, which reaches the sockets of {want} only"
            ));
        }
        None
    }
}

/// `the /admin middleware` → `your /admin middleware`.
fn your(middleware: &str) -> String {
    middleware.replacen("the ", "your ", 1)
}

/// The namespace the lesson's emit at this step is made in, and its JavaScript.
fn wanted_namespace(stage: &Stage, step: &Step) -> Option<(String, &'static str)> {
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
fn looks_like(sender: &str, nsp: &str, on_nsp: &BTreeSet<&str>, received: &BTreeSet<&str>) -> String {
    let reach = Reach::ALL.into_iter().find(|r| r.fits(sender, on_nsp, received));
    match (reach, nsp) {
        (Some(Reach::Everyone), "/") => "io.emit".to_owned(),
        (Some(Reach::Everyone), nsp) => format!("io.of('{nsp}').emit"),
        (Some(Reach::AllButSender), _) => "socket.broadcast.emit in the sender's namespace".to_owned(),
        (Some(Reach::OnlySender), _) => "socket.emit on the sender's own socket".to_owned(),
        _ => format!("an emit made in {nsp}"),
    }
}

/// What a passing stage did, in words: each refusal, each client let in with its auth, and
/// each emit's namespace.
pub(super) fn pass_summary(stage: &Stage, records: &[StepRecord]) -> String {
    let mut said = Vec::new();
    for record in records {
        let Some(step) = stage.steps.get(record.step as usize - 1) else {
            continue;
        };
        if let Some(c) = connect_of(step) {
            let guarded = stage
                .behaviour
                .in_namespace(c.nsp)
                .and_then(|b| b.guard())
                .is_some();
            match &record.refused {
                Some(refusal) if guarded => said.push(format!(
                    "{} refused {}{} ('{}')",
                    middleware(c.nsp),
                    c.client,
                    with_auth(c.auth),
                    refusal.message
                )),
                Some(refusal) => said.push(format!(
                    "a CONNECT to {} was refused ('{}')",
                    c.nsp, refusal.message
                )),
                None if guarded => said.push(format!(
                    "{} let {} in{}",
                    middleware(c.nsp),
                    c.client,
                    with_auth(c.auth)
                )),
                None => {}
            }
        }
        let (Some(event), Some(sender), Some((want, js))) = (
            record.event.as_deref(),
            record.sender.as_deref(),
            wanted_namespace(stage, step),
        ) else {
            continue;
        };
        let who: Vec<&str> = record
            .received
            .iter()
            .filter(|(_, inbox)| inbox.iter().any(|d| d.event == event))
            .map(|(who, _)| who.as_str())
            .collect();
        if who.is_empty() {
            continue;
        }
        let (sockets, _) = sockets_before(stage, records, record.step);
        let outside = !sockets.contains(&(sender.to_owned(), want.clone()));
        said.push(format!(
            "{js} reached {} on {want}{}",
            names(&who),
            if outside && record.kind == Kind::Emit {
                format!(", not {sender}, who has no socket there")
            } else {
                String::new()
            }
        ));
    }
    // "the /admin middleware refused mallory …; the /admin middleware let alice in …" reads as
    // one sentence about one middleware.
    let mut merged: Vec<String> = Vec::new();
    for line in said {
        let merged_into = merged.last_mut().and_then(|last| {
            let (head, _) = last.split_once(" middleware ")?;
            let rest = line.strip_prefix(&format!("{head} middleware "))?;
            Some((last, rest.to_owned()))
        });
        match merged_into {
            Some((last, rest)) => {
                last.push_str(" and ");
                last.push_str(&rest);
            }
            None => merged.push(line),
        }
    }
    merged.join("; ")
}

/// A run stopped because the server never answered a client's Socket.IO CONNECT: the Engine.IO
/// session opened, so a Socket.IO server is there, and something between the CONNECT and the
/// namespace, a middleware that calls neither `next()` nor `next(err)`, held it.
pub(super) fn unanswered(n: u32, stage: &Stage, records: &[StepRecord], error: &RunError) -> Option<Verdict> {
    let RunError::Connect {
        client,
        source: ConnectError::Timeout { what, after },
    } = error
    else {
        return None;
    };
    if !what.contains("CONNECT reply") {
        return None;
    }
    let number = records.iter().map(|r| r.step).max().unwrap_or(0) + 1;
    let step = stage.steps.get(number as usize - 1)?;
    let c = connect_of(step).filter(|c| c.client == client)?;
    let guard = stage.behaviour.in_namespace(c.nsp).and_then(|b| b.guard());
    let headline = format!(
        "{} never answered {}'s CONNECT: does it call next()? Lesson {n}'s {} calls next() to let a \
         client in and next(err) to refuse it",
        your(&middleware(c.nsp)),
        c.client,
        if guard.is_some() { "middleware" } else { "server" }
    );
    let trigger = match c.nsp {
        "/" => format!("{} connects", c.client),
        nsp => format!("{} connects to {nsp}", c.client),
    };
    let finding = Finding {
        step: number,
        trigger,
        message: format!(
            "{}'s CONNECT to {}{} got no answer within {} s, neither the socket nor a \
             connect_error",
            c.client,
            c.nsp,
            with_auth(c.auth),
            after.as_secs_f64().round()
        ),
        why: Some(
            "a middleware that calls neither next() nor next(err) leaves the CONNECT waiting \
             forever, and the connection handler never runs"
                .to_owned(),
        ),
    };
    Some(Verdict::Fail(Failure::Behaviour {
        headline,
        findings: vec![finding],
    }))
}
