//! Judging the records of a check: could the scenario be played, and did every step deliver
//! what the lesson teaches?

use std::collections::BTreeSet;

use super::delivery;
use super::findings::{
    ack_findings, argument_note, content_findings, delivery_findings, emitted_instead, finding,
};
use super::headline::{describe, headline, pass_summary};
use super::namespaces::{self, Mistakes};
use super::nodes;
use super::reach::Reach;
use super::target::{probe_finding, probe_problem, run_problem, websocket_turned_away};
use super::teaching::{RoomTeaching, taught};
use super::verdict::{Failure, Problem, Verdict, Where};
use crate::lesson::{Lesson, Stage, StepKind};
use crate::runner::RunError;
use crate::trace::StepRecord;

/// Judges the records a check produced. `error` is how the run ended, if it did not complete.
pub fn judge(
    lesson: &Lesson,
    stage: &Stage,
    records: &[StepRecord],
    error: Option<&RunError>,
    target: &Where,
) -> Verdict {
    // 1. Could the scenario be played at all?
    // A page's io() (lesson 9) is judged by what socket.io-client reports, below.
    let attempt = |r: &StepRecord| {
        matches!(
            stage.steps.get(r.step as usize - 1).map(|s| &s.kind),
            Some(StepKind::Attempt(_))
        )
    };
    for record in records
        .iter()
        .filter(|r| !websocket_turned_away(records, r) && !attempt(r))
    {
        if let Some(problem) = probe_problem(record, target) {
            return Verdict::Fail(Failure::Target(problem));
        }
    }
    // A CONNECT refused where the lesson needs the client in: on a stage without namespaces,
    // nothing of the lesson could be played; on one with them, the refusal is the finding, and a
    // later step that needed the client only stopped because of it.
    if let Some(message) = namespaces::refused_elsewhere(stage, records) {
        return Verdict::Fail(Failure::Target(Problem::ConnectRefused(message)));
    }
    let error = error.filter(|_| !namespaces::refused_unexpectedly(stage, records));
    if let Some(error) = error {
        // A Socket.IO server that never answered a CONNECT is there; a middleware held it.
        if let Some(verdict) = namespaces::unanswered(lesson.number, stage, records, error) {
            return verdict;
        }
        // A refused CONNECT the run stopped at is judged as the step it would have recorded.
        if let Some(record) = namespaces::refused_record(lesson.number, stage, records, error) {
            let mut played = records.to_vec();
            played.push(record);
            return judge(lesson, stage, &played, None, target);
        }
        return Verdict::Fail(Failure::Target(run_problem(error, target)));
    }

    // 2. Every step, compared with what the lesson expects.
    let mut findings = Vec::new();
    let mut shapes: Vec<Reach> = Reach::ALL.to_vec();
    for record in records {
        let Some(step) = stage.steps.get(record.step as usize - 1) else {
            continue;
        };
        if let StepKind::Attempt(attempt) = &step.kind {
            findings.extend(super::target::attempt_finding(record, attempt));
            continue;
        }
        if let StepKind::Probe { expect, .. } = &step.kind {
            if !websocket_turned_away(records, record) {
                findings.extend(probe_finding(record, expect));
            }
            continue;
        }
        let Some(event) = record.event.as_deref() else {
            // The lesson's server sends nothing at this step; anything it judges that arrived
            // anyway is a difference.
            for (who, inbox) in &record.received {
                // An event sent where a callback was asked for is named by `ack_findings`.
                let asked = matches!(&step.kind, StepKind::Emit { client, ack: true, .. } if client == who);
                let explained = asked && emitted_instead(record, who).is_some();
                if !inbox.is_empty() && !explained {
                    let items: Vec<_> = inbox.iter().map(|d| describe(&d.event, &d.args)).collect();
                    findings.push(finding(
                        record,
                        format!(
                            "{who} received {}, but the lesson's server sends nothing at this point",
                            items.join(", ")
                        ),
                    ));
                }
            }
            continue;
        };
        let Some(sender) = record.sender.as_deref() else {
            continue;
        };
        let connected: BTreeSet<&str> = record.received.keys().map(String::as_str).collect();
        let received: BTreeSet<&str> = record.received_by.iter().map(String::as_str).collect();
        shapes.retain(|shape| shape.fits(sender, &connected, &received));
        // A stored message carries an offset the lesson cannot declare: judged in `delivery`.
        if !delivery::carries_offset(stage, step) {
            findings.extend(content_findings(record, event));
        }
    }
    for record in records {
        if let Some(step) = stage.steps.get(record.step as usize - 1) {
            findings.extend(ack_findings(stage, step, record));
        }
    }

    // 3. Who should have received what, and who did: on which namespace first, and whether
    // each CONNECT was let in or refused as the lesson's middleware does.
    let likely = shapes.first().copied();
    let taught = taught(stage);
    let mut spaces = Mistakes::default();
    findings.extend(spaces.refusals(stage, records));
    for record in records {
        let Some(step) = stage.steps.get(record.step as usize - 1) else {
            continue;
        };
        let (Some(expected), Some(event), Some(sender)) = (
            step.expect_received_by.as_ref(),
            record.event.as_deref(),
            record.sender.as_deref(),
        ) else {
            continue;
        };
        let (named, expected) = spaces.deliveries(stage, records, record, event, sender, expected);
        findings.extend(named);
        let Some(expected) = expected else {
            continue;
        };
        let rooms = RoomTeaching::of(stage, step);
        findings.extend(delivery_findings(
            record,
            event,
            sender,
            &expected,
            likely,
            taught.as_ref(),
            rooms.as_ref(),
        ));
    }
    findings.sort_by_key(|f| f.step);
    nodes::explain(stage, records, &mut findings);
    if let Some((headline, mut named)) = delivery::findings(stage, records) {
        named.extend(findings);
        named.sort_by_key(|f| f.step);
        return Verdict::Fail(Failure::Behaviour {
            headline,
            findings: named,
        });
    }

    if findings.is_empty() {
        let mut summary = match delivery::pass_summary(stage, records) {
            Some(done) => format!("your server does what lesson {} teaches: {done}", lesson.number),
            None if namespaces::taught(stage) => format!(
                "your server does what lesson {} teaches: {}",
                lesson.number,
                namespaces::pass_summary(stage, records)
            ),
            None => pass_summary(lesson, stage, records, taught.as_ref()),
        };
        if let Some(note) = argument_note(records) {
            summary = format!("{summary}. {note}");
        }
        return Verdict::Pass { summary };
    }
    Verdict::Fail(Failure::Behaviour {
        headline: spaces
            .headline(lesson.number, stage)
            .or_else(|| nodes::headline(lesson.number, stage, records, &findings))
            .unwrap_or_else(|| headline(lesson, stage, records, likely, taught.as_ref())),
        findings,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::trace::{Delivery, Kind};

    /// A step of lesson 3's check as a remote run records it, with what each client received.
    fn chat_step(received: &[(&str, Vec<Delivery>)]) -> StepRecord {
        let received: std::collections::BTreeMap<String, Vec<Delivery>> = received
            .iter()
            .map(|(who, inbox)| ((*who).to_owned(), inbox.clone()))
            .collect();
        let received_by = received
            .iter()
            .filter(|(_, inbox)| inbox.iter().any(|d| d.event == "chat message"))
            .map(|(who, _)| who.clone())
            .collect();
        let not_received_by = received
            .iter()
            .filter(|(_, inbox)| inbox.is_empty())
            .map(|(who, _)| who.clone())
            .collect();
        StepRecord {
            lesson: 3,
            stage: 1,
            step: 4,
            kind: Kind::Emit,
            action: None,
            trigger: "alice emits 'chat message'".into(),
            sender: Some("alice".into()),
            node: None,
            event: Some("chat message".into()),
            args: vec![Value::from("hi everyone")],
            audience: None,
            received_by,
            not_received_by,
            received,
            burst: None,
            arrival: Default::default(),
            probe: None,
            ignored: Default::default(),
            client_emit: None,
            why_not: Default::default(),
            acks: Default::default(),
            away: Vec::new(),
            refused: None,
            server_acks: Default::default(),
            wire: None,
        }
    }

    fn chat(text: &str) -> Delivery {
        Delivery {
            event: "chat message".into(),
            args: vec![Value::from(text)],
            nsp: None,
        }
    }

    #[test]
    fn changed_or_repeated_messages_are_findings() {
        let lessons = crate::lesson::all().unwrap();
        let lesson = &lessons[2];
        let target = Where {
            addr: "127.0.0.1:3000".into(),
            path: "/socket.io/".into(),
        };
        let right = chat_step(&[
            ("alice", vec![chat("hi everyone")]),
            ("bob", vec![chat("hi everyone")]),
            ("carol", vec![chat("hi everyone")]),
        ]);
        let verdict = judge(lesson, lesson.check(), &[right], None, &target);
        assert!(verdict.passed(), "{verdict:?}");

        let wrong = chat_step(&[
            ("alice", vec![chat("hi everyone"), chat("hi everyone")]),
            ("bob", vec![chat("HI EVERYONE")]),
            ("carol", vec![chat("hi everyone")]),
        ]);
        let Verdict::Fail(Failure::Behaviour { headline, findings }) =
            judge(lesson, lesson.check(), &[wrong], None, &target)
        else {
            panic!("a changed message must fail");
        };
        let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "alice received 'chat message' 2 times; the lesson's server sends it once",
                "bob received 'chat message' with \"HI EVERYONE\"; the lesson's server sends it with \"hi everyone\"",
            ]
        );
        assert_eq!(
            headline,
            "your server's 'chat message' deliveries are not what io.emit('chat message', msg) sends, as lesson 3 teaches"
        );
    }
}
