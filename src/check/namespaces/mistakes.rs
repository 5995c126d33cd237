//! The findings of a played stage about namespaces and middleware, and the headline they make.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    NO_SUCH_NAMESPACE, connect_of, let_in_before, looks_like, middleware, no_such_namespace, sockets_before,
    use_call, wanted_namespace, with_auth, your,
};
use crate::check::findings::explained;
use crate::check::headline::{describe, names};
use crate::check::verdict::Finding;
use crate::lesson::Stage;
use crate::trace::{Kind, StepRecord};

/// The first mistake of each kind, for the headline, in the order it is told.
#[derive(Debug, Default)]
pub(in crate::check) struct Mistakes {
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

impl Mistakes {
    /// One finding per connect step whose CONNECT was refused where the lesson lets the client
    /// in, or let in where the lesson refuses it.
    pub(in crate::check) fn refusals(&mut self, stage: &Stage, records: &[StepRecord]) -> Vec<Finding> {
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
    pub(in crate::check) fn deliveries(
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
    pub(in crate::check) fn headline(&self, n: u32, stage: &Stage) -> Option<String> {
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
