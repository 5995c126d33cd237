//! The probes of lesson 1: does anything answer at this address, and what?
//!
//! A probe is a request made to see how a server answers, not to take part in a scenario: the
//! app called in-process (no network at all), a plain HTTP GET (what a browser does first), or a
//! Socket.IO handshake over WebSocket. Every way it can end is a [`ProbeOutcome`], recorded with
//! the lines it observed, in order.

use tower::ServiceExt;

use super::{Named, RunError, Session, one_line};
use crate::client::connection::engine_target;
use crate::client::protocol::EnginePacket;
use crate::client::{self, ConnectError, ConnectOptions, SimClient, Transport, WireDirection};
use crate::lesson::ProbeKind;
use crate::server::{self, ServerEvent};
use crate::trace::{Kind, ProbeOutcome, ProbeRecord, StepRecord};

impl Session<'_> {
    /// Runs one probe step and records what it observed.
    pub(super) async fn probe(
        &mut self,
        number: u32,
        method: ProbeKind,
        path: &str,
        client: Option<&str>,
        (node, poll_on): (usize, Option<usize>),
    ) -> Result<StepRecord, RunError> {
        self.acting_node = node;
        let authority = client::connection::authority(&self.base);
        let (trigger, record) = match method {
            ProbeKind::CrossPoll => self.cross_poll(node, poll_on.unwrap_or(node)).await?,
            ProbeKind::InProcess => (
                "the program calls the app directly".to_owned(),
                in_process_get(path).await?,
            ),
            ProbeKind::HttpGet => {
                let url = self.mask(&format!("{}{}", self.base, path));
                let observed = match client::http::get(&authority, path, self.options.timeout).await {
                    Ok(reply) => http_record(ProbeKind::HttpGet, url, &reply),
                    Err(client::http::HttpError::Refused(addr)) => refused(ProbeKind::HttpGet, url, &addr),
                    Err(e @ client::http::HttpError::Timeout { .. }) => {
                        no_answer(ProbeKind::HttpGet, url, e.to_string())
                    }
                    Err(e) => error_record(ProbeKind::HttpGet, url, e.to_string()),
                };
                ("a browser asks for the page".to_owned(), observed)
            }
            ProbeKind::Websocket | ProbeKind::Polling => {
                let name = client.unwrap_or("client");
                let record = self.client_probe(method, name).await?;
                let how = match method {
                    ProbeKind::Polling => "the way io() does",
                    _ => "with transports: ['websocket']",
                };
                (format!("{name} opens a Socket.IO connection {how}"), record)
            }
        };
        let mut step = self.blank(number, Kind::Probe, trigger);
        step.sender = client.map(str::to_owned);
        let mut observed: Vec<String> = record.observed.iter().map(|line| self.mask(line)).collect();
        if self.silent_port_held.is_some() && record.outcome == ProbeOutcome::Refused {
            // The app alone has no address at all; say which door was knocked on.
            if let Some(first) = observed.first_mut() {
                first.push_str(
                    " (the app has no port: the tutor knocked on one it holds but never listens on)",
                );
            }
        }
        step.probe = Some(ProbeRecord {
            url: self.mask(&record.url),
            observed,
            ..record
        });
        Ok(step)
    }
}

impl Session<'_> {
    /// A Socket.IO client's connection as a probe: over WebSocket only, or the way `io()` does by
    /// default (long-polling, then the upgrade). What it observed is read from the client's own
    /// record of the requests and packets, in their order on the wire.
    async fn client_probe(&mut self, method: ProbeKind, name: &str) -> Result<ProbeRecord, RunError> {
        let options = ConnectOptions {
            transports: match method {
                ProbeKind::Polling => ConnectOptions::default().transports,
                _ => ConnectOptions::websocket_only().transports,
            },
            // The probe's story is told from the wire, so it records it.
            record_wire: true,
            ..self.options_for(name)
        };
        let first = engine_target(
            &self.path,
            match method {
                ProbeKind::Polling => Transport::Polling,
                _ => Transport::WebSocket,
            },
        );
        let url = self.mask(&format!("{}{first}", self.base));
        let masked = match method {
            ProbeKind::Polling => url,
            _ => self.mask(&client::connection::websocket_url(&self.base, &self.path)),
        };
        let record = match SimClient::connect(&self.base, &options).await {
            Ok(connected) => {
                let frames = connected.take_wire();
                let mut observed = match method {
                    ProbeKind::Polling => polling_story(&connected, &frames),
                    _ => vec![
                        "101 Switching Protocols: the connection is now a WebSocket".to_owned(),
                        format!(
                            "Engine.IO OPEN: session opened (ping every {} ms)",
                            connected.open.ping_interval
                        ),
                        "Socket.IO CONNECT: the server created a socket for this client".to_owned(),
                    ],
                };
                if self.options.wire {
                    self.probe_wire = Some((name.to_owned(), frames));
                }
                if self.is_ours() {
                    self.await_server(&connected.sid, name, |e| {
                        matches!(e, ServerEvent::Connected { .. })
                    })
                    .await?;
                    observed.push("the server's io.on('connection') handler ran".to_owned());
                }
                self.clients.push(Named {
                    name: name.to_owned(),
                    client: connected,
                    node: self.acting_node,
                    sockets: vec!["/".to_owned()],
                });
                ProbeRecord {
                    method,
                    url: masked,
                    outcome: ProbeOutcome::SocketIo,
                    status: Some(if method == ProbeKind::Polling { 200 } else { 101 }),
                    observed,
                }
            }
            Err(ConnectError::Refused { addr }) => refused(method, masked, &addr),
            Err(ConnectError::HttpStatus { status, body }) => {
                let code = status.split(' ').next().and_then(|c| c.parse().ok());
                let what = match method {
                    ProbeKind::Polling => "the long-polling request got no Engine.IO answer",
                    _ => "the upgrade was not accepted",
                };
                let mut observed = vec![format!("{status}: {what}")];
                let body = body.trim();
                if !body.is_empty() {
                    observed.push(format!("body: {}", one_line(body, 80)));
                }
                ProbeRecord {
                    method,
                    url: masked,
                    outcome: ProbeOutcome::Http,
                    status: code,
                    observed,
                }
            }
            Err(ConnectError::NotEngineIo(first)) => ProbeRecord {
                method,
                url: masked,
                outcome: ProbeOutcome::NotSocketIo,
                status: Some(if method == ProbeKind::Polling { 200 } else { 101 }),
                observed: vec![format!(
                    "{}, but what came first was {} instead of an Engine.IO OPEN packet",
                    if method == ProbeKind::Polling {
                        "the request was answered"
                    } else {
                        "the WebSocket opened"
                    },
                    one_line(&first, 60)
                )],
            },
            Err(e @ ConnectError::Timeout { .. }) => no_answer(method, masked, e.to_string()),
            Err(e @ ConnectError::ClosedUnanswered) => ProbeRecord {
                method,
                url: masked,
                outcome: ProbeOutcome::Closed,
                status: None,
                observed: vec![e.to_string()],
            },
            Err(e) => error_record(method, masked, e.to_string()),
        };
        Ok(record)
    }
}

/// The default client's way in, one line per HTTP request, from its record of the wire: the
/// request, the packets its body carried, its answer and the packets in the answer, then the
/// probe over the new WebSocket. Session ids become `<sid>`, so the story is the same every run.
/// Heartbeats (`2`/`3`) are left out: when a server sends its first ping is its own choice
/// (Node waits `pingInterval`, socketioxide pings at once), and it is not part of the way in.
fn polling_story(client: &SimClient, frames: &[client::WireFrame]) -> Vec<String> {
    /// One HTTP request and what travelled with it.
    #[derive(Default)]
    struct Request {
        line: String,
        sent: Vec<String>,
        status: Option<String>,
        got: Vec<String>,
        /// It carried a heartbeat, which is left out.
        heartbeat: bool,
    }
    impl Request {
        /// A request that carried nothing but a heartbeat is the heartbeat's, not the way in's.
        /// The upgrade's request is always told: what travels after it (a ping among them) goes
        /// over the new WebSocket, not in this request.
        fn told_unless_heartbeat(self) -> Option<String> {
            let upgrade = self.status.as_deref().is_some_and(|s| s.starts_with("101"));
            let idle = self.heartbeat && self.sent.is_empty() && self.got.is_empty();
            (upgrade || !idle).then(|| self.told())
        }
        fn told(&self) -> String {
            let mut line = self.line.clone();
            if !self.sent.is_empty() {
                line.push_str(&format!(" carrying {}", self.sent.join(", ")));
            }
            if let Some(status) = &self.status {
                line.push_str(&format!(" → {status}"));
            }
            if !self.got.is_empty() {
                line.push_str(&format!(": {}", self.got.join(", ")));
            }
            line
        }
    }
    let mask = |text: &str| {
        text.replace(&client.open.sid, "<sid>")
            .replace(&client.sid, "<sid>")
    };
    let mut lines = Vec::new();
    let mut current: Option<Request> = None;
    let mut over_websocket: Vec<String> = Vec::new();
    for frame in frames {
        let text = mask(&frame.text);
        let sent = frame.direction == WireDirection::Sent;
        if let Some(request) = text.strip_prefix("HTTP ").filter(|_| sent) {
            lines.extend(current.take().and_then(Request::told_unless_heartbeat));
            current = Some(Request {
                line: request.to_owned(),
                ..Request::default()
            });
            continue;
        }
        if let Some(status) = text.strip_prefix("HTTP ") {
            if let Some(request) = current.as_mut() {
                request.status = Some(status.to_owned());
            }
            continue;
        }
        if text.starts_with('[') {
            // The client's own note (a refused upgrade) is said as it is.
            lines.extend(current.take().and_then(Request::told_unless_heartbeat));
            lines.push(text);
            continue;
        }
        let what = match EnginePacket::decode(&text) {
            Ok(EnginePacket::Ping(data) | EnginePacket::Pong(data)) if data.is_empty() => {
                if let Some(request) = current.as_mut() {
                    request.heartbeat = true;
                }
                continue;
            }
            Ok(EnginePacket::Open(info)) => {
                format!("Engine.IO OPEN (upgrades: [{}])", info.upgrades.join(", "))
            }
            Ok(EnginePacket::Ping(_)) => "2probe".to_owned(),
            Ok(EnginePacket::Pong(_)) => "3probe".to_owned(),
            Ok(EnginePacket::Upgrade) => "5 (upgrade)".to_owned(),
            Ok(EnginePacket::Noop) => "6 (noop)".to_owned(),
            Ok(EnginePacket::Message(inner)) if inner.starts_with('0') && sent => {
                "40 (Socket.IO CONNECT)".to_owned()
            }
            Ok(EnginePacket::Message(inner)) if inner.starts_with('0') => {
                "40{…} (the CONNECT reply: the server created a socket)".to_owned()
            }
            _ => one_line(&text, 60),
        };
        let upgraded = current
            .as_ref()
            .is_some_and(|r| r.status.as_deref().is_some_and(|s| s.starts_with("101")));
        match current.as_mut() {
            Some(_) if upgraded => over_websocket.push(format!("{} {what}", if sent { "→" } else { "←" })),
            Some(request) if request.status.is_none() => request.sent.push(what),
            Some(request) => request.got.push(what),
            None => lines.push(what),
        }
    }
    lines.extend(current.take().and_then(Request::told_unless_heartbeat));
    if !over_websocket.is_empty() {
        lines.push(format!(
            "over the new WebSocket: {}: the session now travels over it",
            over_websocket.join(", ")
        ));
    }
    lines
}

/// Hands a request to the app inside this process: no socket, no port.
async fn in_process_get(path: &str) -> Result<ProbeRecord, RunError> {
    let request = axum::http::Request::get(path)
        .body(axum::body::Body::empty())
        .map_err(|e| RunError::Other(e.to_string()))?;
    let response = server::app::app()
        .oneshot(request)
        .await
        .map_err(|e| RunError::Other(format!("the app failed: {e}")))?;
    let status = response.status();
    let content_type = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .map_err(|e| RunError::Other(e.to_string()))?;
    let reply = client::http::HttpReply {
        status: format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("")),
        code: status.as_u16(),
        content_type,
        location: None,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    Ok(http_record(
        ProbeKind::InProcess,
        format!("app(GET {path})"),
        &reply,
    ))
}

fn http_record(method: ProbeKind, url: String, reply: &client::http::HttpReply) -> ProbeRecord {
    let mut observed = vec![match &reply.content_type {
        Some(kind) => format!("{} ({kind})", reply.status),
        None => reply.status.clone(),
    }];
    if let Some(title) = html_title(&reply.body) {
        observed.push(format!("the page: <title>{title}</title>"));
    } else if !reply.body.trim().is_empty() {
        observed.push(format!("body: {}", one_line(reply.body.trim(), 80)));
    }
    ProbeRecord {
        method,
        url,
        outcome: ProbeOutcome::Http,
        status: Some(reply.code),
        observed,
    }
}

fn refused(method: ProbeKind, url: String, addr: &str) -> ProbeRecord {
    ProbeRecord {
        method,
        url,
        outcome: ProbeOutcome::Refused,
        status: None,
        observed: vec![format!("connection refused: nothing is listening on {addr}")],
    }
}

/// Something accepted the connection but a bounded wait for its answer ran out.
fn no_answer(method: ProbeKind, url: String, message: String) -> ProbeRecord {
    ProbeRecord {
        method,
        url,
        outcome: ProbeOutcome::NoAnswer,
        status: None,
        observed: vec![message],
    }
}

fn error_record(method: ProbeKind, url: String, message: String) -> ProbeRecord {
    ProbeRecord {
        method,
        url,
        outcome: ProbeOutcome::Error,
        status: None,
        observed: vec![message],
    }
}

fn html_title(body: &str) -> Option<&str> {
    let start = body.find("<title>")? + "<title>".len();
    let end = body[start..].find("</title>")? + start;
    Some(body[start..end].trim())
}
