//! Sticky sessions and the namespace: a few polling sessions, each followed by its next requests.
//!
//! Long-polling spreads one session over many HTTP requests, and only the server that answered
//! the handshake knows its `sid`. Behind a load balancer that sends each request to any server,
//! a follow-up lands elsewhere and gets `400 {"code":1,"message":"Session ID unknown"}`. One
//! session may be lucky (round robin over two servers with a request in between), so the doctor
//! opens [`super::STICKY_SESSIONS`] of them, each with the requests a page sends next:
//!
//! ```text
//! GET  ?EIO=4&transport=polling           → 0{"sid":…}           (the handshake)
//! POST ?…&sid=…  40{auth}                 → ok                   (the namespace CONNECT)
//! GET  ?…&sid=…                           → 40{"sid":…} or 44{"message":…}
//! POST ?…&sid=…  1                        → ok                   (close the session)
//! ```
//!
//! The first session's CONNECT answer is the namespace line.

use std::time::Duration;

use serde_json::Value;

use super::engine::{engine_error, excerpt, millis};
use super::report::{Check, Line, Report, Status};
use super::{Finding, Probe};
use crate::client::payload::{Frame, decode_payload};
use crate::client::protocol::{EnginePacket, SocketPacket};

/// What one session's CONNECT got.
#[derive(Debug)]
enum Answer {
    /// `40{"sid":…}`: connected.
    Connected,
    /// `44{"message":…,"data":…}`: refused.
    Refused { message: String, data: Option<Value> },
    /// Something else, said.
    Other(String),
}

/// Runs the sessions; adds the sticky line and the namespace line.
pub(super) async fn sticky_and_namespace(probe: &Probe<'_>, report: &mut Report) {
    let mut first: Option<(Answer, Duration)> = None;
    let mut unknown: Option<String> = None;
    let mut broken: Option<String> = None;
    let mut whole = 0;
    for n in 1..=super::STICKY_SESSIONS {
        if probe.out_of_time() {
            break;
        }
        match session(probe).await {
            Ok(answer) => {
                whole += 1;
                first.get_or_insert(answer);
            }
            Err(Broken::Unknown(which)) => {
                unknown = Some(format!("session {n}: {which}"));
                break;
            }
            // A session that broke for another reason says nothing about stickiness; the next
            // one would most likely break the same way, and take as long.
            Err(Broken::Other(said)) => {
                first.get_or_insert((Answer::Other(said.clone()), Duration::ZERO));
                broken = Some(said);
                break;
            }
        }
    }
    report.lines.push(match (&unknown, whole, &broken) {
        (Some(which), _, _) => Line::found(
            Check::Sticky,
            Status::Fail,
            format!("{which} got 400 \"Session ID unknown\": requests reach different servers"),
            Finding::NotSticky,
        ),
        (None, 0, Some(said)) => Line::new(
            Check::Sticky,
            Status::Skip,
            format!("not known: a session broke off ({said})"),
        ),
        (None, 0, None) => super::out_of_time(Check::Sticky),
        (None, n, _) => {
            let cut = if n < super::STICKY_SESSIONS {
                " (the whole run's bound left no time for more)"
            } else {
                ""
            };
            let sessions = if n == 1 {
                "1 session"
            } else {
                &format!("{n} sessions")
            };
            Line::new(
                Check::Sticky,
                Status::Pass,
                format!(
                    "{sessions}, each with 3 follow-up requests, all reached the server that knew \
                     them{cut}"
                ),
            )
        }
    });
    let nsp = &probe.options.namespace;
    let line = match first {
        None if unknown.is_some() => Line::new(
            Check::Namespace,
            Status::Skip,
            "not known: the session's requests did not reach one server",
        ),
        None => super::out_of_time(Check::Namespace),
        Some((Answer::Connected, took)) => {
            report.figures.connect = Some(took);
            Line::new(
                Check::Namespace,
                Status::Pass,
                format!("CONNECT to {nsp} answered with a sid ({} ms)", millis(took)),
            )
        }
        Some((Answer::Refused { message, data }, took)) => {
            report.figures.connect = Some(took);
            let finding = if message == "Invalid namespace" {
                Finding::InvalidNamespace
            } else {
                Finding::ConnectRefused
            };
            let data = data.map_or(String::new(), |d| format!(", data {}", excerpt(&d.to_string())));
            Line::found(
                Check::Namespace,
                Status::Fail,
                format!(
                    "CONNECT to {nsp} refused (CONNECT_ERROR): {}{data}",
                    excerpt(&message)
                ),
                finding,
            )
        }
        Some((Answer::Other(said), _)) => {
            Line::found(Check::Namespace, Status::Fail, said, Finding::NoConnectReply)
        }
    };
    report.lines.push(line);
}

/// Why a session did not get its CONNECT answer.
#[derive(Debug)]
enum Broken {
    /// A follow-up got "Session ID unknown": which one.
    Unknown(String),
    /// Anything else, said.
    Other(String),
}

/// One session: handshake, CONNECT, its answer, close. Returns the answer and how long from
/// the CONNECT's POST to the GET that brought it.
async fn session(probe: &Probe<'_>) -> Result<(Answer, Duration), Broken> {
    let target = probe.target("polling", None);
    let reply = probe
        .send("GET", &target, None, &[])
        .await
        .map_err(|e| Broken::Other(format!("a handshake failed: {e}")))?;
    let Ok(EnginePacket::Open(open)) = EnginePacket::decode(&reply.body) else {
        return Err(Broken::Other(format!("a handshake got HTTP {}", reply.code)));
    };
    let target = probe.target("polling", Some(&open.sid));
    let connect = SocketPacket::Connect {
        nsp: probe.options.namespace.clone(),
        data: probe.options.auth.clone(),
    }
    .to_frame();
    let started = tokio::time::Instant::now();
    follow_up(probe, "POST", &target, Some(&connect), "the CONNECT's POST").await?;
    // The answer may come after other packets (python-socketio emits from its connect handler
    // first), or in a later poll: two GETs at most.
    let mut answer = None;
    for _ in 0..2 {
        let body = follow_up(probe, "GET", &target, None, "the GET after the CONNECT").await?;
        answer = connect_answer(&body, &probe.options.namespace);
        if answer.is_some() {
            break;
        }
    }
    let took = started.elapsed();
    // Close the session, politely: the last follow-up. Only its reaching another server
    // matters; the CONNECT's answer stands whatever else happens to it.
    if let Err(Broken::Unknown(which)) =
        follow_up(probe, "POST", &target, Some("1"), "the closing POST").await
    {
        return Err(Broken::Unknown(which));
    }
    let answer = answer.unwrap_or_else(|| Answer::Other("the CONNECT got no answer in two polls".to_owned()));
    Ok((answer, took))
}

/// One request of an open session. "Session ID unknown" is its own error; any other answer
/// but 200 is said.
async fn follow_up(
    probe: &Probe<'_>,
    method: &str,
    target: &str,
    body: Option<&str>,
    what: &str,
) -> Result<String, Broken> {
    let reply = probe
        .send(method, target, body, &[])
        .await
        .map_err(|e| Broken::Other(format!("{what}: {e}")))?;
    if reply.code == 200 {
        return Ok(reply.body);
    }
    match engine_error(&reply.body) {
        Some((1, _)) => Err(Broken::Unknown(what.to_owned())),
        _ => Err(Broken::Other(format!(
            "{what} got HTTP {} {}",
            reply.code,
            excerpt(&reply.body)
        ))),
    }
}

/// The CONNECT answer for `nsp` in a polling body, if it carries one.
fn connect_answer(body: &str, nsp: &str) -> Option<Answer> {
    let frames = decode_payload(body).ok()?;
    for frame in frames {
        let Frame::Text(text) = frame else { continue };
        let Ok(EnginePacket::Message(message)) = EnginePacket::decode(&text) else {
            continue;
        };
        match SocketPacket::decode(&message) {
            Ok(SocketPacket::Connect { nsp: n, .. }) if n == nsp => return Some(Answer::Connected),
            Ok(SocketPacket::ConnectError { nsp: n, data }) if n == nsp => {
                let message = data["message"]
                    .as_str()
                    .map_or_else(|| data.to_string(), str::to_owned);
                let data = data.get("data").cloned();
                return Some(Answer::Refused { message, data });
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_connect_answer_among_other_packets() {
        let body = "42[\"welcome\",\"hi\"]\u{1e}40{\"sid\":\"abc\"}";
        assert!(matches!(connect_answer(body, "/"), Some(Answer::Connected)));
        let refused = r#"44{"message":"not authorized","data":{"hint":"token"}}"#;
        match connect_answer(refused, "/") {
            Some(Answer::Refused { message, data }) => {
                assert_eq!(message, "not authorized");
                assert_eq!(data, Some(serde_json::json!({"hint": "token"})));
            }
            other => panic!("{other:?}"),
        }
        let invalid = r#"44/nope,{"message":"Invalid namespace"}"#;
        assert!(matches!(
            connect_answer(invalid, "/nope"),
            Some(Answer::Refused { .. })
        ));
        assert!(connect_answer("6", "/").is_none());
    }
}
