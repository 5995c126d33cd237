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
    // An HTTP answer is something the request got; anything else (a closed connection, a
    // broken handshake) is said as what happened.
    let message = match probe.outcome {
        ProbeOutcome::Http => format!("{what} got {observed}; the lesson's server answers it with {wrong}"),
        _ => format!("{what}: {observed}; the lesson's server answers it with {wrong}"),
    };
    Some(finding(record, message))
}

/// What a page's `io()` was told when the lesson expects something else (lesson 9): the
/// client's own words, and what the server answered first.
pub(super) fn attempt_finding(record: &StepRecord, attempt: &crate::lesson::Attempt) -> Option<Finding> {
    let probe = record.probe.as_ref()?;
    let said = probe.observed.first().cloned().unwrap_or_default();
    if attempt.reported(&probe.observed) {
        return None;
    }
    let rest: Vec<&str> = probe.observed.iter().skip(1).map(String::as_str).collect();
    Some(finding(
        record,
        format!(
            "{said}, where the lesson's server gets {}; {}",
            attempt.expect,
            rest.join("; ")
        ),
    ))
}

/// Engine.IO 3's framing of a polling answer, as socket.io 2.x sends it: the packets of a
/// payload each prefixed by their length, `97:0{"sid":…}2:40`, where Engine.IO 4 sends a bare
/// `0{"sid":…}`. The text may start with what the client said before quoting it.
pub(super) fn engine_io_3(text: &str) -> bool {
    text.match_indices(":0{").any(|(at, _)| {
        let digits = text[..at].chars().rev().take_while(char::is_ascii_digit).count();
        digits > 0 && (digits == at || !text[..at - digits].ends_with(|c: char| c.is_alphanumeric()))
    })
}

/// The client's own words when a CONNECT reply carries no sid, which is how a socket.io 2.x
/// server answers over a WebSocket (socket.io-client says the same).
const NO_SID: &str = "CONNECT reply carries no sid";

/// The client's words when the session ended at the CONNECT without a reply (over polling, the
/// Engine.IO session was closed; over a WebSocket, the WebSocket).
fn closed_at_connect(message: &str) -> bool {
    message.contains("closed") && message.contains("the Socket.IO CONNECT reply") && !message.contains("41")
}

/// A connection that failed in a way that names the server's protocol or parser.
fn protocol_problem(message: &str) -> Option<Problem> {
    if message.contains(NO_SID) || engine_io_3(message) {
        return Some(Problem::OlderProtocol {
            detail: message.to_owned(),
        });
    }
    closed_at_connect(message).then(|| Problem::OtherParser {
        detail: message.to_owned(),
    })
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
                None => protocol_problem(&first).unwrap_or(Problem::Other(first)),
            },
        ),
        ProbeOutcome::NotSocketIo if engine_io_3(&first) => Some(Problem::OlderProtocol { detail: first }),
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
            ConnectError::NotEngineIo(first) if engine_io_3(first) => Problem::OlderProtocol {
                detail: format!(
                    "the handshake was answered with {}, Engine.IO 3's length-prefixed framing",
                    crate::runner::one_line(first, 60)
                ),
            },
            ConnectError::NotEngineIo(first) => Problem::PlainWebSocket {
                detail: format!(
                    "the WebSocket opened, but the first frame was {} instead of an Engine.IO OPEN packet",
                    crate::runner::one_line(first, 60)
                ),
            },
            ConnectError::Refused44 { message, .. } => Problem::ConnectRefused(message.clone()),
            ConnectError::Timeout { .. } => Problem::NoAnswer {
                addr,
                detail: source.to_string(),
            },
            ConnectError::Other(message) => protocol_problem(message)
                .unwrap_or_else(|| Problem::Other(format!("{client} could not connect: {message}"))),
        },
        RunError::Other(message) => Problem::Other(format!("the scenario stopped: {message}")),
        other => Problem::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_io_3_framing_is_told_from_engine_io_4() {
        assert!(engine_io_3(r#"97:0{"sid":"x"}2:40"#));
        assert!(engine_io_3(r#"what came first was 97:0{"sid":"x"}…"#));
        assert!(!engine_io_3(r#"0{"sid":"x","upgrades":[]}"#));
        assert!(!engine_io_3("hello from a plain WebSocket"));
        assert!(!engine_io_3(r#"a9:0{"sid"}"#));
    }
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
            (
                ConnectError::Refused44 {
                    message: "not allowed".into(),
                    data: None,
                },
                "not allowed",
            ),
            (
                ConnectError::NotEngineIo(r#"97:0{"sid":"abc","upgrades":["websocket"]}2:40"#.into()),
                "an older protocol (Engine.IO 3",
            ),
            (
                ConnectError::Other(
                    "the server closed the Engine.IO session before the Socket.IO CONNECT reply (40{\"sid\":…})"
                        .into(),
                ),
                "socket.io-msgpack-parser",
            ),
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
