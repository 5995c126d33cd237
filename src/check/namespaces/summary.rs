//! What a passing stage did about namespaces and middleware, in words.

use super::{connect_of, middleware, sockets_before, wanted_namespace, with_auth};
use crate::check::headline::names;
use crate::lesson::Stage;
use crate::trace::{Kind, StepRecord};

/// What a passing stage did, in words: each refusal, each client let in with its auth, and
/// each emit's namespace.
pub(in crate::check) fn pass_summary(stage: &Stage, records: &[StepRecord]) -> String {
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
