//! A run that stopped at a CONNECT: refused where the lesson needs the client in, or never
//! answered at all.

use super::{connect_of, middleware, taught, with_auth, your};
use crate::check::verdict::{Failure, Finding, Verdict};
use crate::client::ConnectError;
use crate::lesson::Stage;
use crate::runner::RunError;
use crate::trace::{Kind, Refusal, StepRecord};

/// A refusal the run stopped at instead of recording it (a client refused where the lesson needs
/// it in): the record that step would have made, so it is judged as a recorded one is. `None`
/// for any other error, and on a stage that teaches no namespaces, where a refusal is said as
/// the target's problem ([`crate::check::Problem::ConnectRefused`]).
pub(in crate::check) fn refused_record(
    n: u32,
    stage: &Stage,
    records: &[StepRecord],
    error: &RunError,
) -> Option<StepRecord> {
    // A first CONNECT (`io('/admin')`) or one more namespace over a session (`JoinRefused`).
    let (client, message, data) = match error {
        RunError::Connect {
            client,
            source: ConnectError::Refused44 { message, data },
        } => (client, message, data),
        RunError::JoinRefused {
            client,
            message,
            data,
            ..
        } => (client, message, data),
        _ => return None,
    };
    if !taught(stage) {
        return None;
    }
    let number = records.iter().map(|r| r.step).max().unwrap_or(0) + 1;
    let c = stage
        .steps
        .get(number as usize - 1)
        .and_then(connect_of)
        .filter(|c| c.client == client)?;
    let mut trigger = match c.nsp {
        "/" => format!("{} connects", c.client),
        nsp => format!("{} connects to {nsp}", c.client),
    };
    if let Some(auth) = c.auth {
        trigger.push_str(&format!(" with auth {auth}"));
    }
    let mut record = StepRecord::new(n, stage.number, number, Kind::Connect, trigger);
    record.sender = Some(client.clone());
    record.refused = Some(Refusal {
        nsp: c.nsp.to_owned(),
        message: message.clone(),
        data: data.clone(),
    });
    Some(record)
}

/// On a stage that teaches no namespaces, the first CONNECT refused: said as the target's
/// problem, since no step of the lesson could be played without it.
pub(in crate::check) fn refused_elsewhere(stage: &Stage, records: &[StepRecord]) -> Option<String> {
    if taught(stage) {
        return None;
    }
    records
        .iter()
        .find_map(|r| r.refused.as_ref().map(|refusal| refusal.message.clone()))
}

/// Was any CONNECT refused that the lesson lets in?
pub(in crate::check) fn refused_unexpectedly(stage: &Stage, records: &[StepRecord]) -> bool {
    records.iter().any(|r| {
        r.refused.is_some()
            && stage
                .steps
                .get(r.step as usize - 1)
                .and_then(connect_of)
                .is_some_and(|c| c.refused.is_none())
    })
}

/// A run stopped because the server never answered a client's Socket.IO CONNECT: the Engine.IO
/// session opened, so a Socket.IO server is there, and something between the CONNECT and the
/// namespace, a middleware that calls neither `next()` nor `next(err)`, held it.
pub(in crate::check) fn unanswered(
    n: u32,
    stage: &Stage,
    records: &[StepRecord],
    error: &RunError,
) -> Option<Verdict> {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::check::{Where, judge};

    fn stage_3() -> (crate::lesson::Lesson, u32) {
        let lessons = crate::lesson::all().unwrap();
        let lesson = lessons.into_iter().find(|l| l.number == 8).unwrap();
        let number = lesson.check_stage;
        (lesson, number)
    }

    /// The records of lesson 8.3's first `n` steps as a right server gives them (no deliveries).
    fn first_steps(lesson: &crate::lesson::Lesson, n: u32) -> Vec<StepRecord> {
        let stage = lesson.check();
        (1..=n)
            .map(|step| {
                let c = connect_of(&stage.steps[step as usize - 1]).unwrap();
                let mut record =
                    StepRecord::new(8, stage.number, step, Kind::Connect, format!("step {step}"));
                record.sender = Some(c.client.to_owned());
                record.refused = c.refused.map(|message| Refusal {
                    nsp: c.nsp.to_owned(),
                    message: message.to_owned(),
                    data: None,
                });
                record
            })
            .collect()
    }

    fn target() -> Where {
        Where {
            addr: "127.0.0.1:3000".into(),
            path: "/socket.io/".into(),
        }
    }

    /// A run that stopped at a refusal (a runner that does not record an unexpected one) is
    /// judged as if the step had recorded it: bob, refused on `/` by an `io.use` the lesson does
    /// not have, is named as a refusal, not as a server that is missing.
    #[test]
    fn a_run_stopped_by_a_refusal_names_the_refusal() {
        let (lesson, _) = stage_3();
        let records = first_steps(&lesson, 3);
        let error = RunError::Connect {
            client: "bob".into(),
            source: ConnectError::Refused44 {
                message: "nope".into(),
                data: None,
            },
        };
        let verdict = judge(&lesson, lesson.check(), &records, Some(&error), &target());
        let Verdict::Fail(Failure::Behaviour { headline, findings }) = verdict else {
            panic!("{verdict:?}");
        };
        assert_eq!(
            headline,
            "your io.use middleware refused bob, who connected with no auth ('nope'); lesson 8's \
             lets that CONNECT in, and refuses only a client without the right auth"
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(
            (findings[0].step, findings[0].trigger.as_str()),
            (4, "bob connects")
        );
    }

    /// A CONNECT that nobody answers, to a namespace joined over a session, is named at its step.
    #[test]
    fn a_connect_nobody_answers_names_the_middleware() {
        let (lesson, _) = stage_3();
        let records = first_steps(&lesson, 2);
        let error = RunError::Connect {
            client: "alice".into(),
            source: ConnectError::Timeout {
                what: "the CONNECT reply for /admin (40/admin,{\"sid\":…})".into(),
                after: Duration::from_secs(2),
            },
        };
        let verdict = judge(&lesson, lesson.check(), &records, Some(&error), &target());
        let Verdict::Fail(Failure::Behaviour { headline, findings }) = verdict else {
            panic!("{verdict:?}");
        };
        assert!(
            headline
                .starts_with("your /admin middleware never answered alice's CONNECT: does it call next()?"),
            "{headline}"
        );
        assert_eq!(findings[0].step, 3);
        assert_eq!(
            findings[0].message,
            "alice's CONNECT to /admin with auth {\"token\":\"letmein\"} got no answer within 2 s, \
             neither the socket nor a connect_error"
        );
        // A handshake that timed out is still a server that never answered at all.
        let silent = RunError::Connect {
            client: "mallory".into(),
            source: ConnectError::Timeout {
                what: "the answer to the polling handshake".into(),
                after: Duration::from_secs(2),
            },
        };
        let verdict = judge(&lesson, lesson.check(), &[], Some(&silent), &target());
        assert!(
            matches!(verdict, Verdict::Fail(Failure::Target(_))),
            "{verdict:?}"
        );
    }
}
