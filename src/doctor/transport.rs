//! CORS, and the WebSocket: directly, and as the upgrade of a polling session.
//!
//! **CORS.** socket.io-client's polling transport sends `GET`s and `POST`s with
//! `Content-Type: text/plain;charset=UTF-8` and, by default, `withCredentials: false`: both are
//! "simple" requests, so a browser sends no preflight; it reads the answer only if it carries
//! `Access-Control-Allow-Origin` naming the page's origin (or `*`). With `withCredentials: true`
//! it also needs `Access-Control-Allow-Credentials: true` and the origin named, not `*`. A
//! client given `extraHeaders` makes every request preflighted (`OPTIONS`), which Node's
//! socket.io answers only when its `cors` option is set. WebSocket is not subject to CORS.
//!
//! **WebSocket.** Two ways a WebSocket can be missing, told apart by what the server answers
//! the WebSocket request:
//!
//! ```text
//! handshake "upgrades":[]            and  400 {"code":0,"message":"Transport unknown"}
//!     the server allows only polling: transports: ['polling']
//! handshake "upgrades":["websocket"] and  400 {"code":3,"message":"Bad request"}
//!     the server offers WebSocket, but the request reached it as a plain GET: a proxy in
//!     between dropped the Upgrade and Connection headers
//! ```

use tokio::time::Instant;

use super::engine::{engine_error, excerpt, millis, websocket_error};
use super::report::{Check, Line, Report, Status};
use super::socket::{self, WsRefusal};
use super::{Finding, Probe};
use crate::client::protocol::{EnginePacket, OpenInfo};

/// The CORS lines, for `--origin`: the simple request (the handshake again, as a page sends it),
/// credentials, and the preflight a client with `extraHeaders` causes.
pub(super) async fn cors(probe: &Probe<'_>, lines: &mut Vec<Line>) {
    let Some(origin) = probe.origin else {
        lines.push(Line::new(
            Check::Cors,
            Status::Skip,
            "no --origin given: a page served by this same server needs no CORS",
        ));
        return;
    };
    if probe.out_of_time() {
        lines.push(super::out_of_time(Check::Cors));
        return;
    }
    let target = probe.target("polling", None);
    let reply = match probe.send("GET", &target, None, &[]).await {
        Ok(reply) => reply,
        Err(error) => {
            lines.push(Line::new(
                Check::Cors,
                Status::Skip,
                format!("the handshake with Origin: {origin} got no answer: {error}"),
            ));
            return;
        }
    };
    super::close(probe, &reply).await;
    let allowed = reply.header("access-control-allow-origin");
    let credentials = reply.header("access-control-allow-credentials") == Some("true");
    match allowed {
        Some(value) if value == origin || value == "*" => lines.push(Line::new(
            Check::Cors,
            Status::Pass,
            format!("Access-Control-Allow-Origin: {value} lets a page on {origin} read the answers"),
        )),
        other => {
            let got = other.map_or("no Access-Control-Allow-Origin".to_owned(), |v| {
                format!("Access-Control-Allow-Origin: {v}")
            });
            lines.push(Line::found(
                Check::Cors,
                Status::Fail,
                format!("the handshake with Origin: {origin} got {got}"),
                Finding::NoCors,
            ));
        }
    }
    if credentials && allowed == Some(origin) {
        lines.push(Line::new(
            Check::Credentials,
            Status::Pass,
            "Access-Control-Allow-Credentials: true: withCredentials: true works too",
        ));
    } else {
        lines.push(Line::found(
            Check::Credentials,
            Status::Warn,
            "no credentials allowed for this origin: fine for a default io(), not with withCredentials: true",
            Finding::NoCredentials,
        ));
    }
    preflight(probe, origin, lines).await;
}

/// The `OPTIONS` a browser sends before a polling `POST` when the client has `extraHeaders`.
async fn preflight(probe: &Probe<'_>, origin: &str, lines: &mut Vec<Line>) {
    let target = probe.target("polling", None);
    let asks = [
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "content-type"),
    ];
    let line = match probe.send("OPTIONS", &target, None, &asks).await {
        Ok(reply)
            if (200..300).contains(&reply.code)
                && reply
                    .header("access-control-allow-origin")
                    .is_some_and(|v| v == origin || v == "*") =>
        {
            Line::new(
                Check::Preflight,
                Status::Pass,
                format!("OPTIONS answered {} with this origin allowed", reply.code),
            )
        }
        Ok(reply) => Line::found(
            Check::Preflight,
            Status::Warn,
            format!(
                "OPTIONS answered {} without allowing this origin (only a client with extraHeaders sends it){}",
                reply.code,
                engine_error(&reply.body).map_or(String::new(), |(c, m)| format!(": error {c} {m:?}"))
            ),
            Finding::PreflightRefused,
        ),
        Err(error) => Line::found(
            Check::Preflight,
            Status::Warn,
            format!("OPTIONS got no answer: {error}"),
            Finding::PreflightRefused,
        ),
    };
    lines.push(line);
}

/// A WebSocket straight away (`transport=websocket`, as `transports: ['websocket']` does).
/// Returns whether it opened and sent the OPEN packet.
pub(super) async fn websocket(probe: &Probe<'_>, open: &OpenInfo, lines: &mut Vec<Line>) -> bool {
    if probe.out_of_time() {
        lines.push(super::out_of_time(Check::Websocket));
        return false;
    }
    let target = probe.target("websocket", None);
    let origin = probe.origin;
    let offered = open.upgrades.iter().any(|u| u == "websocket");
    let line = match socket::open(&probe.endpoint, &target, origin, probe.limit()).await {
        Ok((mut ws, took)) => {
            let first = socket::next_text(&mut ws, probe.limit()).await;
            socket::close(ws).await;
            match first {
                Ok(text) if text.starts_with("0{") => {
                    let note = if offered {
                        ""
                    } else {
                        " (yet the polling handshake offered no upgrade)"
                    };
                    Line::new(
                        Check::Websocket,
                        Status::Pass,
                        format!("opens, with the OPEN packet first ({} ms){note}", millis(took)),
                    )
                }
                Ok(text) => Line::found(
                    Check::Websocket,
                    Status::Fail,
                    format!("opens, but its first frame is {}", excerpt(&text)),
                    Finding::WebSocketBroken,
                ),
                Err(error) => Line::found(
                    Check::Websocket,
                    Status::Fail,
                    format!("opens, but no OPEN packet came: {error}"),
                    Finding::WebSocketBroken,
                ),
            }
        }
        Err(WsRefusal::Http { code, body }) => refused(code, &body, offered),
        Err(WsRefusal::Failed(error)) => Line::found(
            Check::Websocket,
            Status::Fail,
            format!("does not open: {error}"),
            Finding::WebSocketBroken,
        ),
    };
    let opened = line.status == Status::Pass;
    lines.push(line);
    opened
}

/// A WebSocket request answered with HTTP: which of the two known causes, if either.
fn refused(code: u16, body: &str, offered: bool) -> Line {
    let said = format!("refused: HTTP {code} {}", excerpt(body));
    match websocket_error(body) {
        Some((0, _)) if !offered => Line::found(
            Check::Websocket,
            Status::Warn,
            format!("{said}; the handshake offered no upgrade: the server allows only polling"),
            Finding::WebSocketOff,
        ),
        Some((3, _)) if offered => Line::found(
            Check::Websocket,
            Status::Fail,
            format!(
                "{said}; the server offers WebSocket, so the request reached it as a plain GET, \
                 without Upgrade"
            ),
            Finding::UpgradeDropped,
        ),
        _ => Line::found(Check::Websocket, Status::Fail, said, Finding::WebSocketBroken),
    }
}

/// The upgrade of a fresh polling session: the WebSocket with its `sid`, `2probe` answered by
/// `3probe`, then `5`. Timed from the WebSocket request to the `5` sent.
pub(super) async fn upgrade(probe: &Probe<'_>, websocket_opens: bool, report: &mut Report) {
    if !websocket_opens {
        report.lines.push(Line::new(
            Check::Upgrade,
            Status::Skip,
            "not tried: the WebSocket does not open",
        ));
        return;
    }
    if probe.out_of_time() {
        report.lines.push(super::out_of_time(Check::Upgrade));
        return;
    }
    let failed = |said: String| Line::found(Check::Upgrade, Status::Fail, said, Finding::WebSocketBroken);
    let target = probe.target("polling", None);
    let sid = match probe.send("GET", &target, None, &[]).await {
        Ok(reply) => match EnginePacket::decode(&reply.body) {
            Ok(EnginePacket::Open(open)) => open.sid,
            _ => {
                report
                    .lines
                    .push(failed(format!("a second handshake got HTTP {}", reply.code)));
                return;
            }
        },
        Err(error) => {
            report
                .lines
                .push(failed(format!("a second handshake failed: {error}")));
            return;
        }
    };
    let started = Instant::now();
    let target = probe.target("websocket", Some(&sid));
    let origin = probe.origin;
    let mut ws = match socket::open(&probe.endpoint, &target, origin, probe.limit()).await {
        Ok((ws, _)) => ws,
        Err(WsRefusal::Http { code, body }) => {
            let said = format!(
                "the WebSocket for the session was refused: HTTP {code} {}",
                excerpt(&body)
            );
            // The session's own server would know it: this request reached another one.
            report.lines.push(match websocket_error(&body) {
                Some((1, _)) => Line::found(Check::Upgrade, Status::Fail, said, Finding::NotSticky),
                _ => failed(said),
            });
            return;
        }
        Err(WsRefusal::Failed(error)) => {
            report
                .lines
                .push(failed(format!("the WebSocket for the session: {error}")));
            return;
        }
    };
    let probed = async {
        socket::send(&mut ws, "2probe", probe.limit()).await?;
        let answer = socket::next_text(&mut ws, probe.limit()).await?;
        if answer != "3probe" {
            return Ok(Some(answer));
        }
        socket::send(&mut ws, "5", probe.limit()).await?;
        Ok::<_, super::probe::ProbeError>(None)
    }
    .await;
    let took = started.elapsed();
    // Closing the WebSocket ends the session on the server.
    let _ = socket::send(&mut ws, "1", probe.limit()).await;
    socket::close(ws).await;
    let line = match probed {
        Ok(None) => {
            report.figures.upgrade = Some(took);
            Line::new(
                Check::Upgrade,
                Status::Pass,
                format!(
                    "2probe answered 3probe, then 5: the session moved to WebSocket ({} ms)",
                    millis(took)
                ),
            )
        }
        Ok(Some(answer)) => failed(format!(
            "2probe was answered {} instead of 3probe",
            excerpt(&answer)
        )),
        Err(error) => failed(format!("the probe exchange failed: {error}")),
    };
    report.lines.push(line);
}
