//! The differences between what a step should have delivered and what it did, one finding each.

use super::headline::{describe, names};
use super::reach::{Reach, role};
use super::teaching::{RoomTeaching, Taught};
use super::verdict::Finding;
use crate::lesson::{Stage, StepKind};
use crate::trace::Ack;
use crate::trace::{Delivery, Kind, StepRecord, format_args};
use crate::vocab::Trigger;

/// An acknowledgement that came back different from what the lesson's handler answers.
pub(super) fn ack_findings(stage: &Stage, step: &crate::lesson::Step, record: &StepRecord) -> Vec<Finding> {
    let StepKind::Emit {
        client,
        event,
        args,
        ack: true,
        ..
    } = &step.kind
    else {
        return Vec::new();
    };
    let expected = stage
        .effect(&Trigger::Event(event.clone()), args)
        .and_then(|e| e.answers);
    let got = record.acks.get(client);
    // `callback()` answers with no value at all, which reads as nothing after "got".
    let answer = |have: &[serde_json::Value]| {
        if have.is_empty() {
            "was called with no value (callback())".to_owned()
        } else {
            format!("got {}", format_args(have))
        }
    };
    let message = match (expected, got) {
        (Some(want), Some(Ack::Answered(have))) if *have == want => return Vec::new(),
        (None, Some(Ack::TimedOut { .. })) => return Vec::new(),
        (Some(want), Some(Ack::Answered(have))) => format!(
            "{client}'s callback {}; the lesson's server answers callback({})",
            answer(have),
            format_args(&want)
        ),
        (Some(want), _) => match emitted_instead(record, client) {
            Some(events) => format!(
                "{client}'s callback got no answer: the server emitted {events} to {client} instead of \
                 calling the callback. An emit is a new event; the lesson's server calls \
                 callback({}), whose answer goes back as the acknowledgement of this very question",
                format_args(&want)
            ),
            None => format!(
                "{client}'s callback got no answer; the lesson's server calls callback({}). Does \
                 your handler call its callback?",
                format_args(&want)
            ),
        },
        (None, Some(Ack::Answered(have))) => format!(
            "{client}'s callback {}, but the lesson's server never calls it",
            answer(have)
        ),
        (None, None) => return Vec::new(),
    };
    vec![finding(record, message)]
}

/// The events `client` received in a step where it asked for an acknowledgement and got none:
/// what the server sent instead of calling the callback (`'answer' {"got":"ready?"}`).
pub(super) fn emitted_instead(record: &StepRecord, client: &str) -> Option<String> {
    if matches!(record.acks.get(client), Some(Ack::Answered(_))) {
        return None;
    }
    let inbox = record
        .received
        .get(client)
        .into_iter()
        .chain(record.ignored.get(client));
    let events: Vec<String> = inbox.flatten().map(|d| describe(&d.event, &d.args)).collect();
    (!events.is_empty()).then(|| events.join(", "))
}

pub(super) fn finding(record: &StepRecord, message: String) -> Finding {
    Finding {
        step: record.step,
        trigger: record.trigger.clone(),
        message,
        why: None,
    }
}

pub(super) fn explained(record: &StepRecord, message: String, why: Option<String>) -> Finding {
    Finding {
        why,
        ..finding(record, message)
    }
}

/// The right clients, but the wrong thing or too many times.
pub(super) fn content_findings(record: &StepRecord, event: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for (who, inbox) in &record.received {
        let copies: Vec<&Delivery> = inbox.iter().filter(|d| d.event == event).collect();
        if copies.len() > 1 {
            out.push(finding(
                record,
                format!(
                    "{who} received '{event}' {} times; the lesson's server sends it once",
                    copies.len()
                ),
            ));
        }
        // An event the lesson sends without arguments teaches who receives it, not what it
        // carries: other arguments are noted on the verdict ([`argument_note`]), not failed.
        if record.args.is_empty() {
            continue;
        }
        if let Some(other) = copies.iter().find(|d| d.args != record.args) {
            let got = if other.args.is_empty() {
                "no arguments".to_owned()
            } else {
                format_args(&other.args)
            };
            let want = if record.args.is_empty() {
                "no arguments".to_owned()
            } else {
                format_args(&record.args)
            };
            out.push(finding(
                record,
                format!("{who} received '{event}' with {got}; the lesson's server sends it with {want}"),
            ));
        }
    }
    out
}

/// When an event the lesson sends without arguments came with some: a note for the verdict,
/// since the lesson judges only who received it. socketioxide's `emit("hi", &())`, its natural
/// way to send an event with nothing, puts `null` on the wire (`42["hi",null]`).
pub(super) fn argument_note(records: &[StepRecord]) -> Option<String> {
    let (event, args) = records.iter().find_map(|record| {
        let event = record.event.as_deref().filter(|_| record.args.is_empty())?;
        let other = record
            .received
            .values()
            .flatten()
            .find(|d| d.event == event && !d.args.is_empty())?;
        Some((event.to_owned(), other.args.clone()))
    })?;
    let origin = if args.iter().all(serde_json::Value::is_null) {
        format!(" (socketioxide's emit(\"{event}\", &()) sends null)")
    } else {
        String::new()
    };
    Some(format!(
        "Note: your server sends '{event}' with {}, where the lesson's server sends it with no \
         arguments{origin}. This lesson teaches who receives '{event}', so that does not count",
        format_args(&args)
    ))
}

/// Who received what they should not have, and who missed what they should have received.
pub(super) fn delivery_findings(
    record: &StepRecord,
    event: &str,
    sender: &str,
    expected: &[String],
    likely: Option<Reach>,
    taught: Option<&Taught>,
    rooms: Option<&RoomTeaching>,
) -> Vec<Finding> {
    let role = role(record.kind);
    let what = describe(event, &record.args);
    let got = |who: &str| record.received_by.iter().any(|r| r == who);
    let wanted = |who: &str| expected.iter().any(|e| e == who);
    // "that is what io.emit does; the lesson asks for socket.broadcast.emit"
    let mistake = |extra: &str| -> Option<String> {
        let observed = likely.filter(|l| Some(*l) != taught.map(|t| t.reach));
        let taught = taught?;
        Some(match observed {
            Some(observed) => format!(
                "that is what {} does; the lesson asks for {}, which {extra}",
                observed.call(),
                taught.reach.call()
            ),
            None => format!("the lesson asks for {}, which {extra}", taught.reach.call()),
        })
    };
    let cause = if record.kind == Kind::Connect {
        format!("{sender}'s connection triggered")
    } else {
        format!("{sender} sent")
    };
    if record.received_by.is_empty() && !expected.is_empty() {
        // Nothing arrived anywhere: one finding says it; naming each client would only repeat it.
        let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        let mut message = format!(
            "no client received the {what} {cause}; the lesson expects {} to",
            names(&expected)
        );
        if let Some(rooms) = rooms {
            message = format!("{message}: {}", rooms.nobody());
        }
        return vec![finding(record, message)];
    }
    let mut out = Vec::new();
    if got(sender) && !wanted(sender) {
        let message = if record.kind == Kind::Connect {
            format!("{sender} received the {what} their own connection triggered")
        } else {
            format!("{sender} got their own {what} back")
        };
        let why =
            mistake(&format!("leaves out the {role}")).or_else(|| rooms.and_then(|r| r.sender_mistake(true)));
        out.push(explained(record, message, why));
    }
    if !got(sender) && wanted(sender) {
        let message = if record.kind == Kind::Connect {
            format!("{sender} did not receive the {what} their own connection triggered")
        } else {
            format!("{sender} did not get their own {what} back")
        };
        let why =
            mistake(&format!("includes the {role}")).or_else(|| rooms.and_then(|r| r.sender_mistake(false)));
        out.push(explained(record, message, why));
    }
    let others = |pick: &dyn Fn(&str) -> bool| -> Vec<&str> {
        record
            .received
            .keys()
            .map(String::as_str)
            .filter(|who| *who != sender && pick(who))
            .collect()
    };
    let extra = others(&|who| got(who) && !wanted(who));
    if !extra.is_empty() {
        out.push(explained(
            record,
            format!(
                "{} received the {what} {cause}, which the lesson's server does not send them",
                names(&extra)
            ),
            rooms.and_then(|r| r.outsider_mistake(likely, record.kind)),
        ));
    }
    let missed = others(&|who| !got(who) && wanted(who));
    if !missed.is_empty() {
        let why = match likely {
            Some(Reach::OnlySender) => mistake(&format!("reaches more than the {role}")),
            _ => None,
        };
        out.push(explained(
            record,
            format!("{} did not receive the {what} {cause}", names(&missed)),
            why,
        ));
    }
    out
}
