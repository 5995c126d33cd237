//! A stranger's text, cut to a size a person can read, before `check` judges or prints it.
//!
//! Everything a server under `check` sends can be as long as its message limit allows: an event
//! name, an argument, an acknowledgement, a refusal message, an HTTP reason phrase. Printed in
//! full, one 878 KiB argument is one 878 KiB line in the trace, the verdict and the JSON. The
//! lesson output already has a rule for text that came from someone else's program: serve's live
//! view shows at most 80 characters of it and marks the cut with `…`
//! ([`crate::trace::safe::terminal_safe_within`]). `check` applies the same rule to its records
//! once, right after the run, so its trace, its verdict and its JSON all show the same cut text.
//!
//! Cutting happens before judging, and it cannot change a judgement: the lessons' own arguments
//! are short, so a value that had to be cut (it ends with `…` after [`ARG_CHARS`] characters)
//! differs from every value a lesson expects, as the uncut value did.

use serde_json::{Map, Value};

use super::verdict::{Answer, Failure, Finding, Problem, Verdict};
use crate::trace::{Ack, Delivery, StageTrace, StepRecord};

/// The longest string shown inside an argument, and the longest event name, in characters:
/// serve's live view shows the same.
pub const ARG_CHARS: usize = 80;

/// How many characters of strings, keys and scalars one event's arguments may show in all; past
/// it an array or object says how many items it left out.
pub const ARGS_BUDGET: usize = 200;

/// The longest line a server's own words (a probe's observation, a refusal, a status line) may
/// take in a verdict, in characters.
pub const LINE_CHARS: usize = 200;

/// The longest sentence of a verdict, which can quote several of the above.
pub const SENTENCE_CHARS: usize = 1000;

/// `text`, cut after `max` characters, with `…` where it was cut.
pub fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn cut_in_place(text: &mut String, max: usize) {
    if let Some((at, _)) = text.char_indices().nth(max) {
        text.truncate(at);
        text.push('…');
    }
}

/// Every record of a check's trace with the server's text cut (see the module's doc).
pub fn trace(mut trace: StageTrace) -> StageTrace {
    trace.steps.iter_mut().for_each(record);
    trace
}

fn record(record: &mut StepRecord) {
    if let Some(event) = &mut record.event {
        cut_in_place(event, ARG_CHARS);
    }
    record.args = args(&record.args);
    for inbox in record.received.values_mut().chain(record.ignored.values_mut()) {
        inbox.iter_mut().for_each(delivery);
    }
    if let Some(sent) = &mut record.client_emit {
        delivery(sent);
    }
    for ack in record.acks.values_mut().chain(record.server_acks.values_mut()) {
        if let Ack::Answered(answer) = ack {
            *answer = args(answer);
        }
    }
    if let Some(probe) = &mut record.probe {
        cut_in_place(&mut probe.url, LINE_CHARS);
        probe
            .observed
            .iter_mut()
            .for_each(|line| cut_in_place(line, LINE_CHARS));
    }
}

fn delivery(delivery: &mut Delivery) {
    cut_in_place(&mut delivery.event, ARG_CHARS);
    delivery.args = args(&delivery.args);
}

/// An event's arguments within [`ARGS_BUDGET`].
pub fn args(args: &[Value]) -> Vec<Value> {
    let mut budget = ARGS_BUDGET;
    items(args.iter(), args.len(), &mut budget)
}

/// The items of an array (or an argument list) while the budget lasts, then one string that
/// says how many were left out.
fn items<'a>(all: impl Iterator<Item = &'a Value>, count: usize, budget: &mut usize) -> Vec<Value> {
    let mut out = Vec::new();
    for item in all {
        if *budget == 0 {
            out.push(Value::String(format!("… {} more", count - out.len())));
            break;
        }
        out.push(value(item, budget));
    }
    out
}

fn value(value: &Value, budget: &mut usize) -> Value {
    match value {
        Value::String(text) => Value::String(text_within(text, budget)),
        Value::Array(all) => {
            *budget = budget.saturating_sub(2);
            Value::Array(items(all.iter(), all.len(), budget))
        }
        Value::Object(map) => {
            *budget = budget.saturating_sub(2);
            let mut out = Map::new();
            for (key, item) in map {
                if *budget == 0 {
                    out.insert(
                        "…".to_owned(),
                        Value::String(format!("{} more", map.len() - out.len())),
                    );
                    break;
                }
                let key = text_within(key, budget);
                out.insert(key, self::value(item, budget));
            }
            Value::Object(out)
        }
        scalar => {
            *budget = budget.saturating_sub(scalar.to_string().len());
            scalar.clone()
        }
    }
}

/// A string cut to [`ARG_CHARS`] and to what is left of the budget, which it then spends.
fn text_within(text: &str, budget: &mut usize) -> String {
    let max = ARG_CHARS.min(*budget);
    let shown = cut(text, max);
    *budget = budget.saturating_sub(shown.chars().count().max(1));
    shown
}

/// A verdict with every sentence and every quoted line within its bound. The records it was
/// made from are already cut ([`trace`]); the problems quote the server's words directly.
pub fn verdict(verdict: Verdict) -> Verdict {
    match verdict {
        Verdict::Pass { summary } => Verdict::Pass {
            summary: cut(&summary, SENTENCE_CHARS),
        },
        Verdict::Fail(Failure::Target(problem)) => Verdict::Fail(Failure::Target(self::problem(problem))),
        Verdict::Fail(Failure::Behaviour { headline, findings }) => Verdict::Fail(Failure::Behaviour {
            headline: cut(&headline, SENTENCE_CHARS),
            findings: findings
                .into_iter()
                .map(|f| Finding {
                    trigger: cut(&f.trigger, LINE_CHARS),
                    message: cut(&f.message, SENTENCE_CHARS),
                    why: f.why.map(|why| cut(&why, SENTENCE_CHARS)),
                    ..f
                })
                .collect(),
        }),
    }
}

fn problem(problem: Problem) -> Problem {
    let line = |text: String| cut(&text, LINE_CHARS);
    match problem {
        Problem::NoAnswer { addr, detail } => Problem::NoAnswer {
            addr,
            detail: line(detail),
        },
        Problem::NotSocketIo {
            addr,
            path,
            answer,
            found_at,
        } => Problem::NotSocketIo {
            addr,
            path,
            answer: match answer {
                Answer::Status(status) => Answer::Status(line(status)),
                closed => closed,
            },
            found_at: found_at.map(line),
        },
        Problem::Redirected {
            path,
            status,
            location,
        } => Problem::Redirected {
            path,
            status: line(status),
            location: line(location),
        },
        Problem::PlainWebSocket { detail } => Problem::PlainWebSocket { detail: line(detail) },
        Problem::OlderProtocol { detail } => Problem::OlderProtocol { detail: line(detail) },
        Problem::OtherParser { detail } => Problem::OtherParser { detail: line(detail) },
        Problem::ConnectRefused(message) => Problem::ConnectRefused(line(message)),
        Problem::Other(message) => Problem::Other(cut(&message, SENTENCE_CHARS)),
        Problem::WebSocketOnly { path, polling } => Problem::WebSocketOnly {
            path,
            polling: line(polling),
        },
        Problem::OtherPort { addr, other, path } => Problem::OtherPort {
            addr,
            other: line(other),
            path: line(path),
        },
        Problem::Found { found, cause } => Problem::Found {
            found: found.into_iter().map(|f| cut(&f, SENTENCE_CHARS)).collect(),
            cause: Box::new(self::problem(*cause)),
        },
        refused @ Problem::NothingListening { .. } => refused,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn long_text_is_cut_and_marked() {
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("ééé", 2), "éé…");
        let long = "x".repeat(900_000);
        let shown = args(&[Value::String(long)]);
        assert_eq!(shown[0].as_str().unwrap().chars().count(), ARG_CHARS + 1);
    }

    #[test]
    fn many_or_nested_arguments_stay_within_the_budget() {
        let many: Vec<Value> = (0..100_000).map(Value::from).collect();
        let shown = args(&many);
        assert!(serde_json::to_string(&shown).unwrap().len() < 2 * ARGS_BUDGET);
        assert!(shown.last().unwrap().as_str().unwrap().ends_with("more"));
        let wide: serde_json::Map<String, Value> = (0..10_000)
            .map(|i| (format!("key{i}"), json!("v".repeat(100))))
            .collect();
        let shown = args(&[Value::Object(wide)]);
        assert!(serde_json::to_string(&shown).unwrap().len() < 3 * ARGS_BUDGET);
        // What a lesson sends is short, and stays as it is.
        let lesson = [json!("hi everyone"), json!({"got": "ready?"})];
        assert_eq!(args(&lesson), lesson);
    }
}
