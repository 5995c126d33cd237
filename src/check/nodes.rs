//! The mistakes of a stage with several servers (lesson 7), named from where each client was
//! connected: servers that were never joined by an adapter, and an `io.emit` where the lesson
//! asks for `io.local.emit`.

use std::collections::BTreeMap;

use super::verdict::Finding;
use crate::lesson::{Stage, StepKind};
use crate::trace::StepRecord;
use crate::vocab::{Audience, Trigger};

/// Which server each client of the stage connected to, as its connect steps say (the tutor
/// connected them there itself).
fn servers(stage: &Stage) -> BTreeMap<&str, &str> {
    stage
        .steps
        .iter()
        .filter_map(|step| match &step.kind {
            StepKind::Connect { client, node, .. } => Some((client.as_str(), stage.node_name(*node)?)),
            _ => None,
        })
        .collect()
}

/// Adds the likely mistake to each finding of a step whose difference is exactly "the other
/// server's clients": all missed ones sit on another server (not joined), or all extra ones do
/// (`io.local` not used).
pub(super) fn explain(stage: &Stage, records: &[StepRecord], findings: &mut [Finding]) {
    if stage.nodes.is_empty() {
        return;
    }
    let on = servers(stage);
    for finding in findings.iter_mut().filter(|f| f.why.is_none()) {
        let Some(record) = records.iter().find(|r| r.step == finding.step) else {
            continue;
        };
        let Some(step) = stage.steps.get(record.step as usize - 1) else {
            continue;
        };
        let (Some(expected), Some(sender)) = (&step.expect_received_by, record.sender.as_deref()) else {
            continue;
        };
        let Some(home) = on.get(sender) else { continue };
        let local = match &step.kind {
            StepKind::Emit { event, args, .. } => stage
                .effect(&Trigger::Event(event.clone()), args)
                .and_then(|e| e.emit)
                .is_some_and(|e| e.to == Audience::ThisServer),
            _ => false,
        };
        let elsewhere = |who: &&String| on.get(who.as_str()).is_some_and(|s| s != home);
        let missed: Vec<&String> = expected
            .iter()
            .filter(|w| !record.received_by.contains(w))
            .collect();
        let extra: Vec<&String> = record
            .received_by
            .iter()
            .filter(|w| !expected.contains(w))
            .collect();
        if !missed.is_empty() && extra.is_empty() && missed.iter().all(elsewhere) {
            finding.why = Some(format!(
                "every client that missed it is on another server than {sender}'s (server {home}): \
                 the servers do not share broadcasts. Create each with the Redis adapter, on the same \
                 Redis: new Server(server, {{ adapter: createAdapter(pubClient, subClient) }})"
            ));
        } else if local && !extra.is_empty() && missed.is_empty() && extra.iter().all(elsewhere) {
            finding.why = Some(format!(
                "the clients of the other server received it: the broadcast went through the adapter. \
                 io.local.emit keeps it on server {home}; is it io.emit?"
            ));
        }
    }
}

/// On a stage with several servers, the headline names the first step that went wrong and the
/// call its handler teaches. The first delivery of such a stage may well be right (lesson 7's
/// `io.emit` through the adapter) while a later one is not (its `io.local.emit`); a headline
/// about the stage's first call would then blame the wrong one.
pub(super) fn headline(
    lesson: u32,
    stage: &Stage,
    records: &[StepRecord],
    findings: &[Finding],
) -> Option<String> {
    if stage.nodes.is_empty() {
        return None;
    }
    let first = findings.first()?;
    let record = records.iter().find(|r| r.step == first.step)?;
    let step = stage.steps.get(record.step as usize - 1)?;
    let StepKind::Emit { event, args, .. } = &step.kind else {
        return None;
    };
    let effect = stage.effect(&Trigger::Event(event.clone()), args)?;
    let sent = record.event.as_deref()?;
    Some(format!(
        "your server's '{sent}' deliveries are not what {} sends, as lesson {lesson} teaches",
        effect.js
    ))
}
