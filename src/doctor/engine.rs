//! The first checks: is the host there, does HTTP answer, and is it Engine.IO 4 at the path.
//!
//! One `GET {path}?EIO=4&transport=polling` answers all three, the request a page's `io()`
//! sends first. What can come back:
//!
//! ```text
//! 200  0{"sid":"…","upgrades":["websocket"],…}      Engine.IO 4: socket.io 3 or 4
//! 200  97:0{"sid":"…",…}2:40                          Engine.IO 3: socket.io 2.x ignores EIO=4
//!                                                     and answers in its own framing
//! 400  {"code":…,"message":"…"}                       Engine.IO, refusing the handshake
//! 404, a page, 426 Upgrade Required, …                something else is at that path
//! ```

use std::time::Duration;

use tokio::time::Instant;

use super::probe::{Endpoint, ProbeError, Reply};
use super::report::{Check, Line, Report, Status};
use super::{Finding, Options, Probe, socket};
use crate::client::protocol::{EnginePacket, OpenInfo};

/// Resolves the host name, within the run's bound. `None` (with a failing line) when it has no
/// address.
pub(super) async fn resolve(options: &Options, deadline: Instant, lines: &mut Vec<Line>) -> Option<Endpoint> {
    let limit = super::REQUEST_LIMIT.min(deadline.saturating_duration_since(Instant::now()));
    let lookup = tokio::net::lookup_host((options.host.as_str(), options.port));
    let host = if options.host.contains(':') {
        format!("[{}]:{}", options.host, options.port)
    } else {
        format!("{}:{}", options.host, options.port)
    };
    let failed = |said: String| Line::found(Check::Reachable, Status::Fail, said, Finding::Dns);
    match tokio::time::timeout(limit, lookup).await {
        Err(_) => lines.push(failed(format!(
            "no address for {} within {} ms (DNS did not answer)",
            options.host,
            limit.as_millis()
        ))),
        Ok(Err(e)) => lines.push(failed(format!("no address for {} (DNS: {e})", options.host))),
        Ok(Ok(mut addrs)) => match addrs.next() {
            Some(addr) => return Some(Endpoint { addr, host }),
            None => lines.push(failed(format!("no address for {}", options.host))),
        },
    }
    None
}

/// The polling handshake, and the lines it answers: reachable, Socket.IO at the path, the
/// protocol, the handshake's values. Returns the OPEN packet when Engine.IO 4 answered, and
/// whether it answered only without the page's `Origin` (the server turns that origin away
/// itself, as python-socketio does for an origin outside `cors_allowed_origins`).
pub(super) async fn handshake(probe: &Probe<'_>, report: &mut Report) -> Option<(OpenInfo, bool)> {
    let lines = &mut report.lines;
    let target = probe.target("polling", None);
    let mut reply = match probe.send("GET", &target, None, &[]).await {
        Ok(reply) => reply,
        Err(error) => {
            lines.push(unreachable(&probe.endpoint, &error));
            return None;
        }
    };
    let mut origin_refused = None;
    if let Some(origin) = probe.origin
        && !opens(&reply)
    {
        let bare = Probe {
            origin: None,
            endpoint: probe.endpoint.clone(),
            ..*probe
        };
        if let Ok(again) = bare.send("GET", &target, None, &[]).await
            && opens(&again)
        {
            origin_refused = Some(Line::found(
                Check::Cors,
                Status::Fail,
                format!(
                    "the handshake with Origin: {origin} got HTTP {} {}; without Origin it opens \
                     (the other checks go on without it)",
                    reply.code,
                    excerpt(&reply.body)
                ),
                Finding::OriginRefused,
            ));
            reply = again;
        }
    }
    lines.push(Line::new(
        Check::Reachable,
        Status::Pass,
        format!(
            "HTTP answers at {} ({} ms)",
            probe.endpoint.addr,
            millis(reply.took)
        ),
    ));
    let path = &probe.options.path;
    if reply.code == 200 && is_engine_io_3(&reply.body) {
        lines.push(Line::new(
            Check::SocketIo,
            Status::Pass,
            format!("an Engine.IO server answers at {path}"),
        ));
        lines.push(Line::found(
            Check::Protocol,
            Status::Fail,
            format!(
                "Engine.IO 3 (socket.io 2.x): asked for EIO=4, it answered in the old framing: {}",
                excerpt(&reply.body)
            ),
            Finding::EngineIo3,
        ));
        return None;
    }
    if reply.code == 200
        && let Ok(EnginePacket::Open(open)) = EnginePacket::decode(&reply.body)
    {
        lines.push(Line::new(
            Check::SocketIo,
            Status::Pass,
            format!("Engine.IO answers the polling handshake at {path}"),
        ));
        lines.push(Line::new(
            Check::Protocol,
            Status::Pass,
            "Engine.IO 4 (socket.io 3 or 4)",
        ));
        lines.push(Line::new(Check::Handshake, Status::Pass, values(&open)));
        report.figures.handshake = Some(reply.took);
        super::close(probe, &reply).await;
        let refused = origin_refused.is_some();
        lines.extend(origin_refused);
        return Some((open, refused));
    }
    if reply.code == 400
        && let Some((code, message)) = engine_error(&reply.body)
    {
        lines.push(Line::new(
            Check::SocketIo,
            Status::Pass,
            format!("an Engine.IO server answers at {path}"),
        ));
        let refused = format!("the polling handshake got HTTP 400, Engine.IO error {code} {message:?}");
        // "Transport unknown" for polling: perhaps a server that allows only WebSocket.
        let line = if code == 0 && websocket_only(probe).await {
            Line::found(
                Check::Handshake,
                Status::Fail,
                format!("{refused}, and a WebSocket opens: the server allows only WebSocket"),
                Finding::PollingOff,
            )
        } else {
            Line::found(Check::Handshake, Status::Fail, refused, Finding::HandshakeRefused)
        };
        lines.push(line);
        return None;
    }
    let there = if reply.code == 426 {
        plain_websocket(probe, path).await
    } else {
        None
    };
    let (said, finding) = match there {
        Some(said) => (said, Finding::PlainWebSocket),
        None => (what_is_there(&reply), Finding::NotSocketIo),
    };
    lines.push(Line::found(Check::SocketIo, Status::Fail, said, finding));
    None
}

/// Is this the OPEN packet of Engine.IO 4?
fn opens(reply: &Reply) -> bool {
    reply.code == 200 && matches!(EnginePacket::decode(&reply.body), Ok(EnginePacket::Open(_)))
}

/// The line for a handshake that got no HTTP answer.
fn unreachable(endpoint: &Endpoint, error: &ProbeError) -> Line {
    let finding = match error {
        ProbeError::Refused(_) => Finding::Unreachable,
        ProbeError::Timeout { what, .. } if what.contains("TCP") => Finding::Unreachable,
        _ => Finding::NoHttp,
    };
    Line::found(
        Check::Reachable,
        Status::Fail,
        format!("{}: {error}", endpoint.addr),
        finding,
    )
}

/// A v2 server's answer: `<length>:<packet>` records, the first an OPEN packet.
fn is_engine_io_3(body: &str) -> bool {
    body.split_once(':').is_some_and(|(len, rest)| {
        !len.is_empty() && len.bytes().all(|b| b.is_ascii_digit()) && rest.starts_with("0{")
    })
}

/// Engine.IO's error body, `{"code":1,"message":"Session ID unknown"}`. A body still in its
/// chunked framing (a refused WebSocket's, read raw) is searched for the JSON object inside.
pub(super) fn engine_error(body: &str) -> Option<(i64, String)> {
    let json = body.get(body.find('{')?..=body.rfind('}')?)?;
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    Some((value["code"].as_i64()?, value["message"].as_str()?.to_owned()))
}

/// [`engine_error`] for a refused WebSocket request: Node's engine.io refuses the upgrade of a
/// session it does not know with the message alone, as plain text (`Session ID unknown`), which
/// is looked up in [`ENGINE_ERRORS`]. Only here: as the answer to a polling request, a bare
/// "Bad request" could come from any server.
pub(super) fn websocket_error(body: &str) -> Option<(i64, String)> {
    engine_error(body).or_else(|| {
        let code = ENGINE_ERRORS.iter().position(|m| body.trim() == *m)?;
        Some((code as i64, ENGINE_ERRORS[code].to_owned()))
    })
}

/// Engine.IO's error messages, by code (0 to 5), as Node's server words them.
const ENGINE_ERRORS: [&str; 6] = [
    "Transport unknown",
    "Session ID unknown",
    "Bad handshake method",
    "Bad request",
    "Forbidden",
    "Unsupported protocol version",
];

/// The handshake's values, as the OPEN packet gave them.
fn values(open: &OpenInfo) -> String {
    format!(
        "sid {} · pingInterval {} ms · pingTimeout {} ms · maxPayload {} · upgrades [{}]",
        open.sid,
        open.ping_interval,
        open.ping_timeout,
        open.max_payload
            .map_or("not given".to_owned(), |b| format!("{b} bytes")),
        open.upgrades.join(", ")
    )
}

/// What answers at the path instead of Socket.IO: its status, its type, and its page title.
fn what_is_there(reply: &Reply) -> String {
    let kind = reply.header("content-type").unwrap_or("no content type");
    let mut said = format!("no Socket.IO here: HTTP {} ({kind})", reply.code);
    if reply.cut {
        said.push_str(&format!(
            ", and a body that goes on past {} KiB",
            super::probe::BODY_LIMIT / 1024
        ));
    } else if let Some(title) = title(&reply.body) {
        said.push_str(&format!(", a page titled {title:?}"));
    } else if !reply.body.trim().is_empty() {
        said.push_str(&format!(": {}", excerpt(&reply.body)));
    }
    if reply.code == 404 {
        said.push_str("; is Socket.IO's path another one (--path)?");
    }
    said
}

/// A page's `<title>`, when the body is HTML with one.
fn title(body: &str) -> Option<String> {
    let lower = body.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = start + lower[start..].find("</title>")?;
    Some(body.get(start..end)?.trim().chars().take(80).collect())
}

/// A `426 Upgrade Required` is what a plain WebSocket server (Node's `ws`) answers a GET: open a
/// WebSocket at the path and see whether its first frame is Engine.IO's OPEN.
async fn plain_websocket(probe: &Probe<'_>, path: &str) -> Option<String> {
    let target = probe.target("websocket", None);
    let (mut ws, _) = socket::open(&probe.endpoint, &target, None, probe.limit())
        .await
        .ok()?;
    let first = socket::next_text(&mut ws, Duration::from_millis(300)).await;
    socket::close(ws).await;
    match first {
        Ok(text) if text.starts_with("0{") => None,
        Ok(text) => Some(format!(
            "a plain WebSocket server at {path}: its first frame is {}, not Engine.IO's OPEN",
            excerpt(&text)
        )),
        Err(_) => Some(format!(
            "a plain WebSocket server at {path}: it opens a WebSocket but sends no Engine.IO OPEN"
        )),
    }
}

/// Does a WebSocket straight away (`transports: ['websocket']`) get Engine.IO's OPEN packet?
async fn websocket_only(probe: &Probe<'_>) -> bool {
    let target = probe.target("websocket", None);
    let origin = probe.origin;
    let Ok((mut ws, _)) = socket::open(&probe.endpoint, &target, origin, probe.limit()).await else {
        return false;
    };
    let first = socket::next_text(&mut ws, probe.limit()).await;
    socket::close(ws).await;
    first.is_ok_and(|text| text.starts_with("0{"))
}

/// The first characters of something the server sent, quoted as they came (the renderers make
/// them safe to print); an Engine.IO error body read raw is shown as its JSON alone.
pub(super) fn excerpt(text: &str) -> String {
    let text = match (text.find('{'), text.rfind('}'), engine_error(text)) {
        (Some(start), Some(end), Some(_)) if start < end => &text[start..=end],
        _ => text.trim(),
    };
    let cut: String = text.chars().take(80).collect();
    if cut.len() < text.len() {
        format!("\"{cut}…\"")
    } else {
        format!("\"{cut}\"")
    }
}

/// Milliseconds with one decimal.
pub(super) fn millis(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_the_old_framing_from_the_new() {
        assert!(is_engine_io_3(r#"97:0{"sid":"x","upgrades":[]}2:40"#));
        assert!(!is_engine_io_3(r#"0{"sid":"x:y"}"#));
        assert_eq!(
            engine_error(r#"{"code":1,"message":"Session ID unknown"}"#),
            Some((1, "Session ID unknown".to_owned()))
        );
        assert_eq!(
            websocket_error("Session ID unknown"),
            Some((1, "Session ID unknown".to_owned()))
        );
        assert_eq!(engine_error("Session ID unknown"), None);
        assert_eq!(engine_error("} {"), None);
        assert_eq!(websocket_error("Not Found"), None);
        assert_eq!(title("<html><TITLE> Hi </TITLE>"), Some("Hi".to_owned()));
    }
}
