//! The quiz of predict mode as plain data: the question a step asks, the learner's answer, and
//! the verdict that sets the answer against what was observed, judged without any I/O.
//!
//! The verdict compares the answer with the observed records (`received_by`, the probe's
//! outcome), never with the lesson's expectations: if the server ever behaved differently from
//! what the lesson says, the learner would be scored against what really happened. Asking and
//! printing are the command line's job (`cli::predict`); nothing here needs a terminal.

use crate::lesson::{Measure, Step, StepKind};
use crate::trace::measure::Measurement;
use crate::trace::{Ack, ProbeRecord, StepRecord};

/// What the learner is asked before a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// A probe: will it connect (or answer)?
    YesNo,
    /// A delivery: which of `options` (the clients connected when the event goes out) receive
    /// it. `subject` is the client the server acts for, in the part `role` names.
    Who {
        options: Vec<String>,
        subject: String,
        role: Role,
    },
}

/// The part the subject of a delivery question plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// It has just connected, and the connection handler emits.
    Newcomer,
    /// It sent the event the server answers.
    Sender,
}

impl Ask {
    /// The question that fits `step`, with `connected` the clients connected as it starts (in
    /// the order they joined), or none (a burst is several deliveries at once).
    pub fn for_step(step: &Step, connected: &[String]) -> Option<Ask> {
        match &step.kind {
            // "Will it connect?": a probe, or a page's io() against a configured server.
            StepKind::Probe { .. } | StepKind::Attempt(_) => Some(Ask::YesNo),
            // By the time the connection handler emits, the newcomer is connected too.
            StepKind::Connect { client, .. } => {
                let mut options = connected.to_vec();
                options.push(client.clone());
                Some(Ask::Who {
                    options,
                    subject: client.clone(),
                    role: Role::Newcomer,
                })
            }
            StepKind::Emit { client, .. } | StepKind::QueuedEmit { client, .. } => Some(Ask::Who {
                options: connected.to_vec(),
                subject: client.clone(),
                role: Role::Sender,
            }),
            StepKind::Burst { .. } | StepKind::Disconnect { .. } | StepKind::RestartServer => None,
        }
    }
}

/// The learner's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    YesNo(bool),
    /// Everyone who was offered, and who was chosen.
    Who {
        options: Vec<String>,
        chosen: Vec<String>,
    },
}

/// One client's line of a verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientVerdict {
    pub name: String,
    pub predicted: bool,
    pub received: bool,
}

/// The answer set against what was observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    YesNo {
        predicted: bool,
        observed: bool,
        /// The first thing the probe observed, e.g. `connection refused: …`.
        detail: String,
    },
    Who(Vec<ClientVerdict>),
}

impl Verdict {
    /// Right when every part of the prediction matches the observation.
    pub fn is_right(&self) -> bool {
        match self {
            Verdict::YesNo {
                predicted, observed, ..
            } => predicted == observed,
            Verdict::Who(rows) => rows.iter().all(|r| r.predicted == r.received),
        }
    }
}

/// Compares an answer with the records the step produced.
pub fn judge(answer: &Answer, records: &[StepRecord]) -> Verdict {
    match answer {
        Answer::YesNo(predicted) => {
            let probe = records.iter().find_map(|r| r.probe.as_ref());
            // The same reading as the trace's ✓: a Socket.IO connection, or an HTTP answer
            // below 400.
            let observed = probe.is_some_and(ProbeRecord::succeeded);
            let detail = probe
                .and_then(|p| p.outcome_line().map(str::to_owned))
                .unwrap_or_else(|| "no probe result was recorded".into());
            Verdict::YesNo {
                predicted: *predicted,
                observed,
                detail,
            }
        }
        Answer::Who { options, chosen } => Verdict::Who(
            options
                .iter()
                .map(|name| ClientVerdict {
                    name: name.clone(),
                    predicted: chosen.contains(name),
                    // An answer to a callback reaches its client like a delivery, though it is
                    // an acknowledgement, not an emit.
                    received: !records.is_empty()
                        && records.iter().all(|r| {
                            r.received_by.contains(name) || matches!(r.acks.get(name), Some(Ack::Answered(_)))
                        }),
                })
                .collect(),
        ),
    }
}

/// Lesson 10's question: the audience grows tenfold; how does the time to the last delivery
/// grow? The choices are orders of magnitude, and the verdict reads the measured times, never
/// the lesson's text: a machine where the time did not grow tenfold scores the learner against
/// what happened there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Growth {
    Same,
    Tenfold,
    Hundredfold,
}

impl Growth {
    pub const ALL: [Growth; 3] = [Growth::Same, Growth::Tenfold, Growth::Hundredfold];

    /// The choice as the prompt offers it.
    pub fn label(self) -> &'static str {
        match self {
            Growth::Same => "about as long",
            Growth::Tenfold => "about 10 times as long",
            Growth::Hundredfold => "about 100 times as long",
        }
    }

    /// The nearest choice to a measured ratio, on a logarithmic scale: below √10 (3.2) is
    /// "about as long", from there to 10√10 (31.6) "about 10 times".
    pub fn of_ratio(ratio: f64) -> Growth {
        if ratio < 10f64.sqrt() {
            Growth::Same
        } else if ratio < 10f64.powf(1.5) {
            Growth::Tenfold
        } else {
            Growth::Hundredfold
        }
    }
}

/// The growth question for an audience measurement: between the last two audience sizes of which
/// the larger is ten times the smaller (100 and 1,000), if there are such.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrowthAsk {
    pub from: usize,
    pub to: usize,
}

impl GrowthAsk {
    pub fn for_measure(measure: &Measure) -> Option<GrowthAsk> {
        let Measure::Audience { clients, .. } = measure else {
            return None;
        };
        clients
            .windows(2)
            .rev()
            .find(|w| w[1] == w[0] * 10)
            .map(|w| GrowthAsk { from: w[0], to: w[1] })
    }

    /// The question, in words.
    pub fn question(&self) -> String {
        format!(
            "The same io.emit now goes to {} clients, then to {}: ten times as many. How long will \
             the last of the {} wait for it, compared with the last of the {}?",
            self.from, self.to, self.to, self.from
        )
    }

    /// What was measured: the ratio of the two times, and the choice nearest to it; `None` when
    /// the measurement has no rows for the two sizes.
    pub fn observed(&self, measured: &Measurement) -> Option<(f64, Growth)> {
        let Measurement::Fanout { rows } = measured else {
            return None;
        };
        let time = |n: usize| {
            rows.iter()
                .find(|r| r.clients == n)
                .map(|r| r.last_delivery.micros.max(1) as f64)
        };
        let ratio = time(self.to)? / time(self.from)?;
        Some((ratio, Growth::of_ratio(ratio)))
    }
}

#[cfg(test)]
pub(crate) mod tests {

    use super::*;
    use crate::lesson::ProbeKind;
    use crate::trace::{Kind, ProbeOutcome};

    /// dave connects, and the connection handler's `hi` reaches `received_by`.
    pub(crate) fn record(received_by: &[&str], not_received_by: &[&str]) -> StepRecord {
        StepRecord {
            sender: Some("dave".into()),
            event: Some("hi".into()),
            received_by: received_by.iter().map(|s| s.to_string()).collect(),
            not_received_by: not_received_by.iter().map(|s| s.to_string()).collect(),
            ..StepRecord::new(2, 2, 4, Kind::Connect, "dave connects".into())
        }
    }

    /// alice, bob and dave were offered; `chosen` were picked.
    pub(crate) fn who(chosen: &[&str]) -> Answer {
        Answer::Who {
            options: ["alice", "bob", "dave"].map(String::from).to_vec(),
            chosen: chosen.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// A WebSocket probe that the server answered with 404.
    pub(crate) fn refused_probe() -> StepRecord {
        let mut refused = record(&[], &[]);
        refused.kind = Kind::Probe;
        refused.probe = Some(ProbeRecord {
            method: ProbeKind::Websocket,
            url: "ws://127.0.0.1:<port>/socket.io/".into(),
            outcome: ProbeOutcome::Http,
            status: Some(404),
            observed: vec!["404 Not Found: the upgrade was not accepted".into()],
        });
        refused
    }

    #[test]
    fn each_client_is_judged_against_what_it_received() {
        let observed = [record(&["alice", "bob"], &["dave"])];
        let right = judge(&who(&["bob", "alice"]), &observed);
        assert!(right.is_right());
        let wrong = judge(&who(&["alice", "bob", "dave"]), &observed);
        assert!(!wrong.is_right());
        let Verdict::Who(rows) = &wrong else { panic!() };
        let dave = rows.iter().find(|r| r.name == "dave").unwrap();
        assert!(dave.predicted && !dave.received);
        assert_eq!(rows.iter().filter(|r| r.predicted == r.received).count(), 2);
    }

    #[test]
    fn an_answered_callback_counts_as_received() {
        let mut observed = record(&["alice"], &["bob", "dave"]);
        observed
            .acks
            .insert("bob".into(), Ack::Answered(vec![serde_json::json!("ok")]));
        let Verdict::Who(rows) = judge(&who(&["alice", "bob"]), &[observed]) else {
            panic!()
        };
        let received: Vec<&str> = rows
            .iter()
            .filter(|r| r.received)
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(received, ["alice", "bob"]);
    }

    #[test]
    fn nobody_is_a_prediction_too() {
        let observed = [record(&[], &["alice"])];
        let answer = Answer::Who {
            options: vec!["alice".into()],
            chosen: vec![],
        };
        assert!(judge(&answer, &observed).is_right());
        // A step that produced no records delivered nothing: "nobody" is right there too.
        assert!(judge(&answer, &[]).is_right());
    }

    #[test]
    fn a_probe_is_judged_by_its_outcome() {
        let refused = refused_probe();
        let verdict = judge(&Answer::YesNo(true), std::slice::from_ref(&refused));
        assert!(!verdict.is_right());
        let Verdict::YesNo { observed, detail, .. } = &verdict else {
            panic!("a yes/no answer gets a yes/no verdict")
        };
        assert!(!observed);
        assert!(detail.starts_with("404 Not Found"), "{detail}");
        assert!(judge(&Answer::YesNo(false), &[refused]).is_right());
    }

    #[test]
    fn the_newcomer_is_offered_when_a_connect_step_is_asked() {
        let step = Step {
            kind: StepKind::Connect {
                client: "dave".into(),
                node: 0,
                transports: None,
                namespace: "/".into(),
                auth: None,
                refused: None,
            },
            expect_received_by: None,
            question: Some("who?".into()),
            why: Some("because".into()),
        };
        let connected = ["alice".to_owned(), "bob".to_owned()];
        let Some(Ask::Who {
            options,
            subject,
            role,
        }) = Ask::for_step(&step, &connected)
        else {
            panic!("a connect step asks who")
        };
        assert_eq!(options, ["alice", "bob", "dave"]);
        assert_eq!(subject, "dave");
        assert_eq!(role, Role::Newcomer);
    }

    #[test]
    fn growth_is_judged_by_the_nearest_order_of_magnitude() {
        use super::Growth;
        assert_eq!(Growth::of_ratio(1.0), Growth::Same);
        assert_eq!(Growth::of_ratio(3.0), Growth::Same);
        assert_eq!(Growth::of_ratio(3.3), Growth::Tenfold);
        assert_eq!(Growth::of_ratio(9.2), Growth::Tenfold);
        assert_eq!(Growth::of_ratio(31.0), Growth::Tenfold);
        assert_eq!(Growth::of_ratio(32.0), Growth::Hundredfold);
    }

    #[test]
    fn the_growth_question_takes_the_last_tenfold_step_of_the_audiences() {
        use super::GrowthAsk;
        let audience = |clients: Vec<usize>| crate::lesson::Measure::Audience {
            clients,
            message: "hi".into(),
            emits: 1,
        };
        assert_eq!(
            GrowthAsk::for_measure(&audience(vec![10, 100, 1000, 9000])),
            Some(GrowthAsk { from: 100, to: 1000 })
        );
        assert_eq!(GrowthAsk::for_measure(&audience(vec![10, 50])), None);
    }
}
