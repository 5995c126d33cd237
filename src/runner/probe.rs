//! The probes of lesson 1: does anything answer at this address, and what?
//!
//! A probe is a request made to see how a server answers, not to take part in a scenario: the
//! app called in-process (no network at all), a plain HTTP GET (what a browser does first), or a
//! Socket.IO handshake over WebSocket. Every way it can end is a [`ProbeOutcome`], recorded with
//! the lines it observed, in order.

use tower::ServiceExt;

use super::{Named, RunError, Session, one_line};
use crate::client::{self, ConnectError, SimClient};
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
        self.acting = node;
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
            ProbeKind::Websocket => {
                let name = client.unwrap_or("client");
                let url = client::connection::websocket_url(&self.base, &self.path);
                let masked = self.mask(&url);
                let record = match SimClient::connect(&self.base, &self.options_for_clients()).await {
                    Ok(connected) => {
                        let mut observed = vec![
                            "101 Switching Protocols: the connection is now a WebSocket".to_owned(),
                            format!(
                                "Engine.IO OPEN: session opened (ping every {} ms)",
                                connected.open.ping_interval
                            ),
                            "Socket.IO CONNECT: the server created a socket for this client".to_owned(),
                        ];
                        if self.server.is_some() {
                            self.await_server(&connected.sid, name, |e| {
                                matches!(e, ServerEvent::Connected { .. })
                            })
                            .await?;
                            observed.push("the server's io.on('connection') handler ran".to_owned());
                        }
                        self.clients.push(Named {
                            name: name.to_owned(),
                            client: connected,
                            node,
                        });
                        ProbeRecord {
                            method,
                            url: masked,
                            outcome: ProbeOutcome::SocketIo,
                            status: Some(101),
                            observed,
                        }
                    }
                    Err(ConnectError::Refused { addr }) => refused(method, masked, &addr),
                    Err(ConnectError::HttpStatus { status, body }) => {
                        let code = status.split(' ').next().and_then(|c| c.parse().ok());
                        let mut observed = vec![format!("{status}: the upgrade was not accepted")];
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
                        status: Some(101),
                        observed: vec![format!(
                            "the WebSocket opened, but the first frame was {} instead of an Engine.IO OPEN packet",
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
                (format!("{name} opens a Socket.IO connection"), record)
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
