//! Lesson 9's steps: a page's `io()` against a server configured to turn it away (or, in the
//! step after, configured to let it in), with what each side saw.
//!
//! Each step starts its own server with the step's options ([`ConfiguredServer`]), and a proxy
//! in front when the step has one ([`Proxy`]), plays the page's `io()` request by request
//! ([`page::connect`]), and writes three kinds of line: what the server saw (its access log and
//! its connection handler), what the browser let the page read (CORS), and what
//! socket.io-client reports to the page's code.
//!
//! Nothing here waits to see whether something happens: the page's requests run one after
//! another, each bounded, and the server logs a request before its answer leaves, so when the
//! page has its last answer the server's log is complete. Only the connection handler, which
//! socketioxide runs after its CONNECT reply, is awaited (bounded) when the page connected.

use std::net::SocketAddr;

mod then;

use super::{RunError, Session};
use crate::client::Transport;
use crate::client::page::{self, Exchange, PageOptions, Report};
use crate::lesson::{Attempt, ProbeKind};
use crate::server::proxy::Proxy;
use crate::server::stage_config::{ConfiguredServer, Seen};
use crate::trace::{Kind, ProbeOutcome, ProbeRecord, StepRecord};

impl Session<'_> {
    /// Plays one attempt step and records what both sides saw; against someone else's server
    /// (`check`), only the step marked `check`, and only what the page saw.
    pub(super) async fn attempt(
        &mut self,
        number: u32,
        attempt: &Attempt,
    ) -> Result<Option<StepRecord>, RunError> {
        if !self.is_ours() {
            return match attempt.check {
                true => self.remote_attempt(number, attempt).await.map(Some),
                false => Ok(None),
            };
        }
        let fail = |what: &str, e: &dyn std::fmt::Display| RunError::Other(format!("{what}: {e}"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| fail("cannot listen on 127.0.0.1", &e))?;
        let mut server = ConfiguredServer::start(&attempt.server, listener)
            .map_err(|e| fail("cannot start the server", &e))?;
        let proxy = match attempt.proxy {
            Some(upgrades) => Some(
                Proxy::start(server.addr(), upgrades)
                    .await
                    .map_err(|e| fail("cannot start the proxy", &e))?,
            ),
            None => None,
        };
        let reach = proxy.as_ref().map_or(server.addr(), Proxy::addr);
        let options = self.page_options(attempt);
        let played = page::connect(&reach.to_string(), &options).await;
        let mut seen = server.seen_so_far();
        let connected = matches!(
            &played,
            Ok(page::Attempt {
                report: Report::Connect { .. },
                ..
            })
        );
        if connected && !seen.iter().any(|s| matches!(s, Seen::Connected { .. })) {
            // socketioxide runs the connection handler after its CONNECT reply: wait for it.
            match server.next_seen(self.options.timeout).await {
                Some(more) => seen.push(more),
                None => {
                    return Err(RunError::Timeout {
                        what: format!("the server's connection handler for {}", attempt.client),
                        after: self.options.timeout,
                    });
                }
            }
        }
        let mut result = played.map_err(|e| RunError::Other(format!("{}'s io(): {e}", attempt.client)));
        // Then what the connected page does, and how its session ends on both sides.
        let mut ended = None;
        let mut echoed = false;
        let mut said = Vec::new();
        if let Ok(done) = &mut result
            && let Some(session) = done.session.as_mut()
        {
            let limit = self.options.timeout;
            if let Some(text) = &attempt.emit_on_connect {
                said = then::emit_on_connect(&mut server, session, &mut seen, text, limit)
                    .await
                    .map_err(|e| RunError::Other(format!("{}: {e}", attempt.client)))?;
            }
            if let Some(text) = &attempt.reconnect_then_emit {
                let (lines, more) = then::reconnect_and_echo(
                    &mut server,
                    session,
                    &options,
                    &mut seen,
                    text,
                    attempt.listeners_in_connect,
                    limit,
                )
                .await
                .map_err(|e| RunError::Other(format!("{}: {e}", attempt.client)))?;
                said = lines;
                done.exchanges.extend(more);
            }
            let end = match (attempt.send_bytes, attempt.stop_answering_pings) {
                (Some(bytes), _) => Some(session.emit_and_wait(bytes, limit).await),
                (None, true) => Some(session.stop_answering_pings(limit).await.map(Some)),
                (None, false) => None,
            };
            let end = end
                .transpose()
                .map_err(|e| RunError::Other(format!("{}: {e}", attempt.client)))?;
            echoed = matches!(end, Some(None));
            if let Some(Some(end)) = end {
                ended = Some(end);
                seen.extend(server.seen_so_far());
                if !seen.iter().any(|s| matches!(s, Seen::Disconnected { .. })) {
                    match server.next_seen(limit).await {
                        Some(more) => seen.push(more),
                        None => {
                            return Err(RunError::Timeout {
                                what: format!("the server's disconnect handler for {}", attempt.client),
                                after: limit,
                            });
                        }
                    }
                }
            }
        }
        if let Some(proxy) = proxy {
            proxy.stop().await;
        }
        let addrs = (server.addr(), reach);
        server.stop().await;
        let done = result?;
        let mut record = self.attempt_record(number, attempt, &options, &done, &seen, addrs);
        finish(&mut record, attempt, said, echoed, ended);
        Ok(Some(record))
    }

    /// The page's `io()` against someone else's server: what the server saw is in its own log.
    async fn remote_attempt(&mut self, number: u32, attempt: &Attempt) -> Result<StepRecord, RunError> {
        let authority = crate::client::connection::authority(&self.base);
        let reach: SocketAddr = tokio::net::lookup_host(&authority)
            .await
            .ok()
            .and_then(|mut addrs| addrs.next())
            .ok_or_else(|| RunError::Other(format!("cannot resolve {authority}")))?;
        let options = self.page_options(attempt);
        let options = PageOptions {
            path: attempt.path.clone().unwrap_or_else(|| self.path.clone()),
            ..options
        };
        let fail = |e: page::PageError| RunError::Other(format!("{}'s io(): {e}", attempt.client));
        let mut done = page::connect(&authority, &options).await.map_err(fail)?;
        // A step `check` plays sends at most a message; the server is not ours to watch.
        let (mut echoed, mut ended) = (false, None);
        if let (Some(bytes), Some(session)) = (attempt.send_bytes, done.session.as_mut()) {
            match session
                .emit_and_wait(bytes, self.options.timeout)
                .await
                .map_err(fail)?
            {
                None => echoed = true,
                Some(end) => ended = Some(end),
            }
        }
        let mut record = self.attempt_record(number, attempt, &options, &done, &[], (reach, reach));
        finish(&mut record, attempt, Vec::new(), echoed, ended);
        Ok(record)
    }

    /// The page's options for `attempt`, bounded by the run's timeout.
    fn page_options(&self, attempt: &Attempt) -> PageOptions {
        PageOptions {
            origin: attempt.origin.clone(),
            path: attempt.path.clone().unwrap_or_else(|| "/socket.io/".into()),
            eio: attempt.eio,
            transports: attempt
                .transports
                .clone()
                .unwrap_or_else(|| vec![Transport::Polling, Transport::WebSocket]),
            timeout: self.options.timeout,
        }
    }

    /// The record: the page's first request as the probe's URL, then the lines.
    fn attempt_record(
        &self,
        number: u32,
        attempt: &Attempt,
        options: &PageOptions,
        done: &page::Attempt,
        seen: &[Seen],
        (server, reach): (SocketAddr, SocketAddr),
    ) -> StepRecord {
        let sids: Vec<String> = done
            .exchanges
            .iter()
            .filter_map(|e| crate::parts::sticky::open_sid(&e.body))
            .collect();
        let mask = |text: &str| -> String {
            // Someone else's address is shown as given; ours changes from run to run.
            let mut text = match self.is_ours() {
                true => text.replace(&server.to_string(), "127.0.0.1:<port>"),
                false => text.to_owned(),
            };
            if reach != server {
                text = text.replace(&reach.to_string(), "127.0.0.1:<proxy port>");
            }
            sids.iter().enumerate().fold(text, |text, (i, sid)| match i {
                0 => text.replace(sid.as_str(), "<sid>"),
                i => text.replace(sid.as_str(), &format!("<sid {}>", i + 1)),
            })
        };
        // What the page's code is told comes first: it is the step's outcome (the summary and
        // predict mode read the first line), and all a developer sees without looking further.
        let who = match attempt.eio {
            3 => "socket.io-client 2.x",
            _ => "socket.io-client",
        };
        let mut observed = vec![format!("{who}: {}", done.report.line())];
        let upgrade_failed = done
            .exchanges
            .iter()
            .any(|e| e.method == "WebSocket" && e.status != 101);
        if upgrade_failed {
            observed.push(format!(
                "{who}: nothing else: the failed upgrade is only an 'upgradeError' event on \
                 socket.io.engine, and the socket stays on polling"
            ));
        }
        for (i, line) in seen.iter().enumerate() {
            match line {
                Seen::Request {
                    method,
                    target,
                    status,
                    body,
                } if i == 0 || *status >= 400 || target.contains("transport=websocket") => {
                    let what = match (*status, body) {
                        (200, _) if i == 0 => "200 (the OPEN packet: a session opened)".to_owned(),
                        (101, _) => "101 Switching Protocols".to_owned(),
                        (status, Some(body)) if !body.is_empty() => format!("{status} {body}"),
                        (status, _) => status.to_string(),
                    };
                    observed.push(mask(&format!("server: {method} {target} → {what}")));
                }
                Seen::Registered { after_await } => observed.push(
                    match after_await {
                        true => "server: socket.on('chat message') registered after the handler's await",
                        false => "server: socket.on('chat message') registered before the CONNECT reply",
                    }
                    .to_owned(),
                ),
                Seen::Disconnected { reason, .. } => {
                    observed.push(format!(
                        "server: socket.on('disconnect') ran, reason \"{reason}\""
                    ));
                }
                _ => {}
            }
        }
        // socketioxide runs the connection handler as a task of its own after the CONNECT
        // reply, so where its report falls among the requests is timing: it goes after the
        // handshake's line, always.
        if seen.iter().any(|s| matches!(s, Seen::Connected { .. })) {
            let at = observed
                .iter()
                .position(|l| l.starts_with("server:"))
                .map_or(observed.len(), |i| i + 1);
            observed.insert(
                at,
                format!("server: io.on('connection') ran for {}", attempt.client),
            );
        }
        for exchange in done
            .exchanges
            .iter()
            .filter(|e| e.method == "WebSocket" && e.status != 101)
        {
            let from = if reach != server { " (from the proxy)" } else { "" };
            observed.push(format!(
                "page: its WebSocket request got {}{from} {}",
                exchange.status,
                page::excerpt(&exchange.body)
            ));
        }
        if !self.is_ours() {
            if let Some(ws) = done
                .exchanges
                .iter()
                .find(|e| e.method == "WebSocket" && e.status == 101)
            {
                observed.push(mask(&format!(
                    "page: {} {} → 101 Switching Protocols",
                    ws.method, ws.target
                )));
            }
            observed.push("server: someone else's: what it saw is in its own log".to_owned());
        } else if seen.is_empty() {
            observed.push("server: no request reached it".to_owned());
        }
        if let Some(origin) = &options.origin {
            observed.push(browser_line(origin, &done.exchanges));
        }

        let first = done
            .exchanges
            .first()
            .map(|e| e.target.clone())
            .unwrap_or_default();
        let (outcome, status) = match &done.report {
            // An HTTP answer the page could read (200): the probe's ✓, whichever transport the
            // session ended up on, which the first line says.
            Report::Connect { .. } => (ProbeOutcome::Http, Some(200)),
            Report::ConnectError { description: 0, .. } => {
                (ProbeOutcome::Error, done.exchanges.last().map(|e| e.status))
            }
            Report::ConnectError { description, .. } => (ProbeOutcome::Http, Some(*description)),
        };
        let trigger = match self.is_ours() {
            false => format!(
                "{} against your server",
                trigger(attempt).split(';').next().unwrap_or_default()
            ),
            true => trigger(attempt),
        };
        let mut record = self.blank(number, Kind::Probe, trigger);
        record.sender = Some(attempt.client.clone());
        record.probe = Some(ProbeRecord {
            method: ProbeKind::Polling,
            url: mask(&format!("http://{reach}{first}")),
            outcome,
            status,
            observed,
        });
        record
    }
}

/// Adds what the page was told after connecting to the record, and the step's ✓ or ✗: a
/// connection that did not last, a first event with no answer, or one packet that the page's
/// code handled more than once.
fn finish(
    record: &mut StepRecord,
    attempt: &Attempt,
    said: Vec<String>,
    echoed: bool,
    ended: Option<page::Disconnect>,
) {
    let mut then = said;
    let mut outcome = None;
    if let (true, Some(bytes)) = (echoed, attempt.send_bytes) {
        then.push(format!("the echo came back: 'chat message', {bytes} characters"));
    }
    if let Some(ended) = ended {
        then.push(ended.line());
        // The connection did not last.
        outcome = Some(ProbeOutcome::Closed);
    }
    if then.first().is_some_and(|l| l.contains("→ no echo")) {
        // Connected, but what it said first got no answer.
        outcome = Some(ProbeOutcome::NoAnswer);
    }
    if then
        .last()
        .is_some_and(|l| l.contains("listener ran") && !l.ends_with("ran 1 time"))
    {
        // One packet, handled more than once by the page's code.
        outcome = Some(ProbeOutcome::Error);
    }
    if let Some(probe) = record.probe.as_mut() {
        headline(probe, then, attempt);
        if let Some(outcome) = outcome {
            probe.outcome = outcome;
        }
    }
}

/// Adds what the page was told after connecting (`then`) to the client's lines, and puts first
/// the line that says how the step ended, the one its `expect` names (or else the last): the
/// summary and predict mode read the first line. The others keep their order.
fn headline(probe: &mut ProbeRecord, then: Vec<String>, attempt: &Attempt) {
    let who = probe.observed[0]
        .split_once(": ")
        .map_or("", |(who, _)| who)
        .to_owned();
    let mut lines = vec![probe.observed.remove(0)];
    lines.extend(then.into_iter().map(|line| format!("{who}: {line}")));
    let lead = lines
        .iter()
        .position(|line| attempt.reported(std::slice::from_ref(line)))
        .unwrap_or(lines.len() - 1);
    let first = lines.remove(lead);
    for line in lines.into_iter().rev() {
        probe.observed.insert(0, line);
    }
    probe.observed.insert(0, first);
}

/// What the page does, and to what: `alice's page calls io({ path: '/realtime/' }); the
/// server runs new Server(httpServer, {})`.
fn trigger(attempt: &Attempt) -> String {
    let page = match &attempt.origin {
        Some(origin) => format!("{}'s page on {origin}", attempt.client),
        None => format!("{}'s page", attempt.client),
    };
    let client = match attempt.eio {
        3 => format!("{} (socket.io-client 2.x)", attempt.client_js()),
        _ => attempt.client_js(),
    };
    let proxy = match attempt.proxy {
        Some(crate::server::proxy::Upgrades::Dropped) => ", behind a proxy that drops Upgrade",
        Some(crate::server::proxy::Upgrades::Forwarded) => ", behind a proxy that forwards Upgrade",
        None => "",
    };
    let handler = match (attempt.server.handler_after_await, &attempt.emit_on_connect) {
        (true, _) => "; its connection handler awaits, then registers socket.on('chat message')",
        (false, Some(_)) => "; socket.on('chat message') is registered before any await",
        (false, None) if attempt.listeners_in_connect => {
            "; the page registers socket.on('chat message') inside socket.on('connect')"
        }
        (false, None) if attempt.reconnect_then_emit.is_some() => {
            "; the page registers socket.on('chat message') once, outside socket.on('connect')"
        }
        (false, None) => "",
    };
    format!(
        "{page} calls {client}; the server runs new Server(httpServer, {}){proxy}{handler}",
        attempt.server.as_js()
    )
}

/// What the browser let the page read: every answer, or not the first one it withheld.
fn browser_line(origin: &str, exchanges: &[Exchange]) -> String {
    match exchanges.iter().find(|e| !e.readable) {
        Some(withheld) => format!(
            "browser: the {} answer ({}) has no Access-Control-Allow-Origin for {origin}: the \
             page may not read it, and sees status 0",
            withheld.method, withheld.status
        ),
        None => format!("browser: every answer says Access-Control-Allow-Origin: {origin}"),
    }
}
