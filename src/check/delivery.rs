//! Judging a server that should store and replay (lesson 6): the server offset each message
//! carries, and what a reconnecting client is given back.
//!
//! The generic checks compare each delivery with the lesson's declared arguments. A storing
//! server adds one the lesson cannot know in advance, the row id, and a replay sends several
//! messages at once; so for the steps whose handler declares a server offset
//! ([`crate::vocab::Effect::offset`]) the judgement is made here instead, from the offsets
//! themselves: each message must carry one, and a client must never be given again a row it has
//! already seen (its `auth.serverOffset` said so).

use std::collections::BTreeMap;

use serde_json::Value;

use super::findings::explained;
use super::verdict::Finding;
use crate::lesson::{Stage, StepKind};
use crate::trace::StepRecord;
use crate::vocab::Trigger;

const CHAT: &str = "chat message";

/// Does this step's handler declare that its messages carry a server offset?
pub(super) fn carries_offset(stage: &Stage, step: &crate::lesson::Step) -> bool {
    let effect = match &step.kind {
        StepKind::Emit { event, args, .. } | StepKind::QueuedEmit { event, args, .. } => {
            stage.effect(&Trigger::Event(event.clone()), args)
        }
        StepKind::Connect { .. } => stage.behaviour.on_connection(),
        _ => None,
    };
    effect.is_some_and(|e| e.offset)
}

/// What a passing storing server did, in words, if the stage is one.
pub(super) fn pass_summary(stage: &Stage, records: &[StepRecord]) -> Option<String> {
    let judged = records
        .iter()
        .filter(|r| {
            stage
                .steps
                .get(r.step as usize - 1)
                .is_some_and(|s| carries_offset(stage, s))
        })
        .count();
    (judged > 0).then(|| {
        format!(
            "every chat message carried its server offset, and each reconnecting client was given \
             exactly the rows after its auth.serverOffset, in order, once ({judged} steps)"
        )
    })
}

/// The mistakes, each named once: a message without its offset, a row given twice, a client
/// that came back to nothing. Returns the headline too.
pub(super) fn findings(stage: &Stage, records: &[StepRecord]) -> Option<(String, Vec<Finding>)> {
    let mut seen: BTreeMap<&str, i64> = BTreeMap::new();
    let mut out = Vec::new();
    let (mut missing, mut again, mut lost) = (false, false, false);
    for record in records {
        let Some(step) = stage.steps.get(record.step as usize - 1) else {
            continue;
        };
        if !carries_offset(stage, step) {
            continue;
        }
        let expected = step.expect_received_by.clone().unwrap_or_default();
        for (who, inbox) in &record.received {
            let chats: Vec<&crate::trace::Delivery> = inbox.iter().filter(|d| d.event == CHAT).collect();
            if matches!(step.kind, StepKind::Connect { .. })
                && expected.contains(who)
                && chats.is_empty()
                && !lost
            {
                lost = true;
                out.push(explained(
                    record,
                    format!("{who} came back and was given none of the messages said while they were away"),
                    Some(
                        "store each message before you emit it, and in io.on('connection') send the \
                         socket every row after socket.handshake.auth.serverOffset"
                            .into(),
                    ),
                ));
            }
            for delivery in chats {
                let text = delivery.args.first().map(Value::to_string).unwrap_or_default();
                let Some(offset) = delivery.args.get(1).and_then(Value::as_i64) else {
                    if !missing {
                        missing = true;
                        out.push(explained(
                            record,
                            format!("{who} received 'chat message' {text} without a server offset"),
                            Some(
                                "send the row id with it, io.emit('chat message', msg, id): without it \
                                 the client cannot say where it stopped, and gets everything again"
                                    .into(),
                            ),
                        ));
                    }
                    continue;
                };
                let last = seen.entry(who.as_str()).or_insert(0);
                if offset <= *last && !again {
                    again = true;
                    out.push(explained(
                        record,
                        format!(
                            "{who} was given {text} (offset {offset}) again, though they had read up to \
                             offset {last}"
                        ),
                        Some(
                            "replay only the rows WHERE id > socket.handshake.auth.serverOffset, not every \
                             row: the client told you where it stopped"
                                .into(),
                        ),
                    ));
                }
                *last = (*last).max(offset);
            }
        }
    }
    let headline = if lost {
        "your server gives a reconnecting client nothing of what it missed; lesson 6 asks it to \
         store each message and replay the rows after socket.handshake.auth.serverOffset"
    } else if missing {
        "your server's chat messages carry no server offset; lesson 6 asks for \
         io.emit('chat message', msg, id)"
    } else if again {
        "your server replays messages a reconnecting client has already seen; lesson 6 asks it to \
         replay only the rows after socket.handshake.auth.serverOffset"
    } else {
        return None;
    };
    Some((headline.to_owned(), out))
}
