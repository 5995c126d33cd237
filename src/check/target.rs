//! The target itself: what lesson 1's probes found, and why a run could not be played at all.

use super::findings::finding;
use super::verdict::{Answer, Finding, Problem, Where};
use crate::client::ConnectError;
use crate::lesson::{ProbeExpect, ProbeKind};
use crate::runner::RunError;
use crate::trace::{ProbeOutcome, StepRecord};

/// What a probe found when it expected something else (the target answered, differently).
pub(super) fn probe_finding(record: &StepRecord, expect: &ProbeExpect) -> Option<Finding> {
    let probe = record.probe.as_ref()?;
    let wrong = match expect {
        ProbeExpect::Status(code) => (probe.outcome != ProbeOutcome::Http || probe.status != Some(*code))
            .then(|| format!("HTTP {code}")),
        ProbeExpect::SocketIo => {
            (probe.outcome != ProbeOutcome::SocketIo).then(|| "a Socket.IO connection".to_owned())
        }
        ProbeExpect::Refused => {
            (probe.outcome != ProbeOutcome::Refused).then(|| "a refused connection".to_owned())
        }
    }?;
    let what = match probe.method {
        ProbeKind::HttpGet => format!("GET {}", url_path(&probe.url)),
        ProbeKind::Websocket => format!("the WebSocket handshake at {}", url_path(&probe.url)),
        ProbeKind::Polling => format!("the Socket.IO handshake at {}", url_path(&probe.url)),
        ProbeKind::InProcess => probe.url.clone(),
        ProbeKind::CrossPoll => format!("a polling session polled on another server ({})", probe.url),
    };
    let observed = probe.outcome_line().unwrap_or_default().to_owned();
    Some(finding(
        record,
        format!("{what} got {observed}; the lesson's server answers it with {wrong}"),
    ))
}

/// A WebSocket-only probe refused with `400 Transport unknown` while a default client (polling
/// first) connected in the same check: the server allows only long-polling (`transports:
/// ['polling']`), a legal choice with which the default `io()` works. Not a fault.
pub(super) fn websocket_turned_away(records: &[StepRecord], record: &StepRecord) -> bool {
    let Some(probe) = &record.probe else {
        return false;
    };
    let polled = records
        .iter()
        .filter_map(|r| r.probe.as_ref())
        .any(|p| p.method == ProbeKind::Polling && p.outcome == ProbeOutcome::SocketIo);
    polled
        && probe.method == ProbeKind::Websocket
        && probe.outcome == ProbeOutcome::Http
        && probe.status == Some(400)
        && probe.observed.iter().any(|l| l.contains("Transport unknown"))
}

/// `http://127.0.0.1:3000/x?y` → `/x`.
pub(super) fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split('?').next().unwrap_or(path)
}

/// A probe that found no server to talk to, or no Socket.IO where one was expected.
pub(super) fn probe_problem(record: &StepRecord, target: &Where) -> Option<Problem> {
    let probe = record.probe.as_ref()?;
    let first = probe.observed.first().cloned().unwrap_or_default();
    let addr = target.addr.clone();
    match probe.outcome {
        ProbeOutcome::Refused => Some(Problem::NothingListening { addr }),
        ProbeOutcome::NoAnswer => Some(Problem::NoAnswer { addr, detail: first }),
        // A middleware's refusal, as the client probe words it: still a Socket.IO server.
        ProbeOutcome::Error => Some(
            match first.strip_prefix("the server refused the Socket.IO connection: ") {
                Some(message) => Problem::ConnectRefused(message.to_owned()),
                None => Problem::Other(first),
            },
        ),
        ProbeOutcome::NotSocketIo => Some(Problem::PlainWebSocket { detail: first }),
        ProbeOutcome::Http if matches!(probe.method, ProbeKind::Websocket | ProbeKind::Polling) => {
            Some(Problem::NotSocketIo {
                addr,
                path: target.path.clone(),
                answer: Answer::Status(status_text(probe.status)),
                found_at: None,
            })
        }
        ProbeOutcome::Closed => Some(Problem::NotSocketIo {
            addr,
            path: target.path.clone(),
            answer: Answer::Closed,
            found_at: None,
        }),
        _ => None,
    }
}

pub(crate) fn status_text(code: Option<u16>) -> String {
    let Some(code) = code else {
        return "an HTTP answer".to_owned();
    };
    let reason = axum::http::StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    format!("HTTP {code} {reason}").trim_end().to_owned()
}

/// Why a run stopped before its end, in the learner's terms.
pub(super) fn run_problem(error: &RunError, target: &Where) -> Problem {
    let addr = target.addr.clone();
    match error {
        RunError::Connect { client, source } => match source {
            ConnectError::Refused { .. } => Problem::NothingListening { addr },
            ConnectError::HttpStatus { status, .. } => Problem::NotSocketIo {
                addr,
                path: target.path.clone(),
                answer: Answer::Status(if status.starts_with("HTTP") {
                    status.trim_end().to_owned()
                } else {
                    format!("HTTP {}", status.trim_end())
                }),
                found_at: None,
            },
            ConnectError::ClosedUnanswered => Problem::NotSocketIo {
                addr,
                path: target.path.clone(),
                answer: Answer::Closed,
                found_at: None,
            },
            ConnectError::NotEngineIo(first) => Problem::PlainWebSocket {
                detail: format!(
                    "the WebSocket opened, but the first frame was {} instead of an Engine.IO OPEN packet",
                    crate::runner::one_line(first, 60)
                ),
            },
            ConnectError::Refused44(message) => Problem::ConnectRefused(message.clone()),
            ConnectError::Timeout { .. } => Problem::NoAnswer {
                addr,
                detail: source.to_string(),
            },
            ConnectError::Other(message) => Problem::Other(format!("{client} could not connect: {message}")),
        },
        RunError::Other(message) => Problem::Other(format!("the scenario stopped: {message}")),
        other => Problem::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Failure, Verdict, judge};

    #[test]
    fn a_run_that_could_not_connect_names_what_it_found() {
        let lessons = crate::lesson::all().unwrap();
        let lesson = &lessons[1];
        let target = Where {
            addr: "127.0.0.1:3000".into(),
            path: "/socket.io/".into(),
        };
        let cases = [
            (
                ConnectError::Refused { addr: "x".into() },
                "nothing is listening on 127.0.0.1:3000",
            ),
            (
                ConnectError::NotEngineIo("hello".into()),
                "this is a WebSocket server, but not a Socket.IO server",
            ),
            (ConnectError::ClosedUnanswered, "another `path` option"),
            (ConnectError::Refused44("not allowed".into()), "not allowed"),
        ];
        for (source, needle) in cases {
            let error = RunError::Connect {
                client: "alice".into(),
                source,
            };
            let verdict = judge(lesson, lesson.check(), &[], Some(&error), &target);
            let Verdict::Fail(Failure::Target(problem)) = verdict else {
                panic!("{verdict:?}");
            };
            assert!(problem.to_string().contains(needle), "{problem}");
        }
    }
}
