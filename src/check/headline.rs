//! The first line of a verdict: the failing headline, or the passing summary, and the words they use.

use std::collections::BTreeSet;

use serde_json::Value;

use super::reach::{Reach, role};
use super::target::url_path;
use super::teaching::{Taught, taught_js};
use crate::lesson::{Lesson, ProbeKind, Stage, StepKind};
use crate::trace::{ProbeOutcome, StepRecord, format_args};
use crate::vocab::Trigger;

/// `'hi'` or `'chat message' "hi everyone"`.
pub(super) fn describe(event: &str, args: &[Value]) -> String {
    if args.is_empty() {
        format!("'{event}'")
    } else {
        format!("'{event}' {}", format_args(args))
    }
}

/// `alice`, `alice and bob`, `alice, bob and carol`.
pub(super) fn names(list: &[&str]) -> String {
    match list {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The first line of a failing verdict.
pub(super) fn headline(
    lesson: &Lesson,
    stage: &Stage,
    records: &[StepRecord],
    likely: Option<Reach>,
    taught: Option<&Taught>,
) -> String {
    let n = lesson.number;
    let Some(first) = records.iter().find(|r| r.event.is_some() && r.sender.is_some()) else {
        return format!("your server does not answer the way lesson {n} teaches");
    };
    let asks = match (taught, taught_js(stage)) {
        (Some(taught), _) => format!("lesson {n} asks for {}", taught.js),
        (None, Some(js)) => format!("lesson {n} asks for {js}"),
        (None, None) => format!("lesson {n} asks for something else"),
    };
    let event = first.event.as_deref().unwrap_or_default();
    let role = role(first.kind);
    match (likely, taught) {
        (Some(Reach::Nobody), _) => {
            let mut line = format!("your server sent no '{event}' to any client; {asks}");
            let others: BTreeSet<String> = records
                .iter()
                .flat_map(|r| r.ignored.values().flatten())
                .map(|d| format!("'{}'", d.event))
                .collect();
            if !others.is_empty() {
                let others: Vec<_> = others.into_iter().collect();
                line.push_str(&format!(
                    ". It did send {}, which this lesson does not judge: is the event name right?",
                    others.join(", ")
                ));
            }
            line
        }
        (Some(observed), Some(taught)) if observed != taught.reach => format!(
            "your server sends '{event}' to {}, which is what {} does; {asks}, which reaches {}",
            observed.who(role),
            observed.call(),
            taught.reach.who(role)
        ),
        _ => match taught.map(|t| t.js.as_str()).or(taught_js(stage)) {
            Some(js) => {
                format!("your server's '{event}' deliveries are not what {js} sends, as lesson {n} teaches")
            }
            None => format!("your server's '{event}' deliveries are not what lesson {n} teaches"),
        },
    }
}

/// `in each of 3 steps`, or `in its one step`: never "each of 1 steps".
fn in_each(steps: usize) -> String {
    if steps == 1 {
        "in its one step".to_owned()
    } else {
        format!("in each of {steps} steps")
    }
}

pub(super) fn pass_summary(
    lesson: &Lesson,
    stage: &Stage,
    records: &[StepRecord],
    taught: Option<&Taught>,
) -> String {
    let deliveries: Vec<&StepRecord> = records.iter().filter(|r| r.is_delivery()).collect();
    // A stage whose steps run different calls (lesson 7: io.emit, io.local.emit, socket.to)
    // says each step's call, not the first one's for all of them.
    let calls: Vec<(u32, &str)> = deliveries
        .iter()
        .filter_map(|r| step_js(stage, r).map(|js| (r.step, js)))
        .collect();
    if calls
        .iter()
        .any(|(_, js)| Some(*js) != calls.first().map(|(_, first)| *first))
    {
        let each: Vec<String> = calls
            .iter()
            .map(|(step, js)| format!("{js} in step {step}"))
            .collect();
        let each: Vec<&str> = each.iter().map(String::as_str).collect();
        return format!(
            "your server does what lesson {} teaches: {} each reached exactly the clients they \
             should",
            lesson.number,
            names(&each)
        );
    }
    if let (Some(taught), Some(first)) = (taught, deliveries.first()) {
        return format!(
            "your server does what lesson {} teaches: {} reached {}, {}",
            lesson.number,
            taught.js,
            taught.reach.who(role(first.kind)),
            in_each(deliveries.len())
        );
    }
    if let (Some(js), false) = (taught_js(stage), deliveries.is_empty()) {
        return format!(
            "your server does what lesson {} teaches: {js} reached exactly the clients it should, {}",
            lesson.number,
            in_each(deliveries.len())
        );
    }
    let answered = records.iter().filter(|r| !r.acks.is_empty()).count();
    if answered > 0 {
        return format!(
            "your server does what lesson {} teaches: each callback got its answer, back to the \
             one client that asked, {}",
            lesson.number,
            in_each(answered)
        );
    }
    let probes: Vec<String> = records
        .iter()
        .filter_map(|r| r.probe.as_ref())
        .map(|p| match p.method {
            // A page's io() of lesson 9 says first what socket.io-client told the page.
            _ if let Some(told) = p
                .observed
                .first()
                .and_then(|l| l.strip_prefix("socket.io-client: ")) =>
            {
                format!("a page's io() was told {told}")
            }
            ProbeKind::Websocket if p.outcome != ProbeOutcome::SocketIo => format!(
                "a WebSocket-only client was turned away ({}): your server allows only long-polling, \
                 which io() starts with, so its default clients connect",
                p.observed.first().cloned().unwrap_or_default()
            ),
            ProbeKind::Websocket => format!("a WebSocket-only client connected at {}", url_path(&p.url)),
            ProbeKind::Polling => format!(
                "a default io() client connected at {} (long-polling{})",
                url_path(&p.url),
                if p.observed.iter().any(|l| l.contains("101")) {
                    ", then the upgrade"
                } else {
                    ""
                }
            ),
            _ => format!(
                "GET {} answered {}",
                url_path(&p.url),
                p.observed.first().cloned().unwrap_or_default()
            ),
        })
        .collect();
    format!(
        "your server does what lesson {} teaches: {}, on one port",
        lesson.number,
        probes.join("; ")
    )
}

/// The JavaScript the lesson's server runs at a step: its connection handler for a connect,
/// the handler of the event for an emit.
fn step_js(stage: &Stage, record: &StepRecord) -> Option<&'static str> {
    let step = stage.steps.get(record.step.checked_sub(1)? as usize)?;
    let effect = match &step.kind {
        StepKind::Emit { event, args, .. } => stage.effect(&Trigger::Event(event.clone()), args),
        StepKind::Connect { .. } => stage.behaviour.on_connection(),
        _ => None,
    }?;
    effect.emit.is_some().then_some(effect.js)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lesson 7's check runs io.emit, io.local.emit and socket.to(room).emit: a PASS says
    /// each step's call, not the first one's for all three.
    #[test]
    fn a_pass_names_each_steps_call_when_the_steps_differ() {
        let lessons = crate::lesson::all().unwrap();
        let lesson = lessons.iter().find(|l| l.number == 7).unwrap();
        let stage = lesson.check();
        let records: Vec<StepRecord> = [5, 6, 9]
            .into_iter()
            .map(|n| {
                let mut record =
                    StepRecord::new(7, stage.number, n, crate::trace::Kind::Emit, format!("step {n}"));
                record.event = Some("chat message".into());
                record.sender = Some("alice".into());
                record
            })
            .collect();
        let taught = super::super::teaching::taught(stage);
        let summary = pass_summary(lesson, stage, &records, taught.as_ref());
        for call in [
            "io.emit('chat message', msg) in step 5",
            "io.local.emit('chat message', msg) in step 6",
            "socket.to(room).emit('room message', msg) in step 9",
        ] {
            assert!(summary.contains(call), "{call:?} in {summary}");
        }
        assert!(!summary.contains("in each of"), "{summary}");
    }

    #[test]
    fn names_read_as_a_sentence() {
        assert_eq!(names(&["alice"]), "alice");
        assert_eq!(names(&["alice", "bob"]), "alice and bob");
        assert_eq!(names(&["alice", "bob", "carol"]), "alice, bob and carol");
    }
}
