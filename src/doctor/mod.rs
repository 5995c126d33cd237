//! `doctor URL`: probe a real Socket.IO deployment the way a page's `io()` reaches it, and say
//! what is wrong, why, and how to fix it.
//!
//! A page that calls `io(url)` goes through a fixed series of steps (see
//! [`crate::client::handshake`]): a long-polling handshake (`GET …?EIO=4&transport=polling`, whose
//! answer is the Engine.IO OPEN packet), the namespace CONNECT in a `POST` with its answer in the
//! next `GET`, and in parallel the upgrade to a WebSocket for the same session (`2probe`,
//! `3probe`, `5`). Each step can fail for its own well-known reasons: nothing at the path, an old
//! protocol, CORS, a proxy that drops the upgrade, a load balancer without sticky sessions, a
//! middleware that refuses. The doctor performs the same steps itself, one request at a time, and
//! keeps what each answer really was (status, headers, body), so each failure gets its cause.
//!
//! What it sends is fixed and small: only to the URL it was given, about twenty requests, no
//! scanning. Every request is bounded ([`REQUEST_LIMIT`], [`probe::BODY_LIMIT`]) and so is the
//! whole run ([`RUN_LIMIT`]).

mod engine;
pub mod findings;
pub mod probe;
pub mod report;
mod sessions;
mod socket;
mod transport;

use std::time::Duration;

use tokio::time::Instant;

pub use findings::{Finding, SHOWN_IN};
pub use report::{Check, Line, Report, Status};

use crate::client;
use probe::{Endpoint, ProbeError, Reply};

/// How long one request may take, from its TCP connect to its last byte: 2 s. A healthy server
/// on the same continent answers in well under a tenth of that.
pub const REQUEST_LIMIT: Duration = Duration::from_secs(2);

/// How long the whole run may take: 10 s. Past it, the checks not yet run say so.
pub const RUN_LIMIT: Duration = Duration::from_secs(10);

/// How many polling sessions the sticky-session check opens, each followed by its next requests.
pub const STICKY_SESSIONS: usize = 3;

/// What to probe, and how a page would connect.
#[derive(Debug, Clone)]
pub struct Options {
    /// The host to resolve (a name or an address, without brackets).
    pub host: String,
    pub port: u16,
    /// How the URL is shown: scheme, host and port, never credentials or a query.
    pub shown: String,
    /// Socket.IO's `path` option, with a trailing `/`.
    pub path: String,
    /// The URL's query (`token=…`), sent with every Engine.IO request as io(url) does, and
    /// never printed.
    pub query: Option<String>,
    /// The namespace to connect to: `/` or `/admin`.
    pub namespace: String,
    /// The page's origin, for the CORS checks.
    pub origin: Option<String>,
    /// The CONNECT packet's auth payload.
    pub auth: Option<serde_json::Value>,
}

/// The probe's state: where it sends, and when the whole run must end.
#[derive(Debug)]
pub(crate) struct Probe<'a> {
    pub(crate) options: &'a Options,
    pub(crate) endpoint: Endpoint,
    /// The `Origin` header sent: `--origin`, until the server turns that origin away outright
    /// (then the other checks go on without it, as a page on the server's own origin would).
    pub(crate) origin: Option<&'a str>,
    deadline: Instant,
}

impl Probe<'_> {
    /// The time the next request may take: [`REQUEST_LIMIT`], or less near the run's end.
    pub(crate) fn limit(&self) -> Duration {
        REQUEST_LIMIT.min(self.deadline.saturating_duration_since(Instant::now()))
    }

    /// The run's time is up.
    pub(crate) fn out_of_time(&self) -> bool {
        self.limit().is_zero()
    }

    /// The request target of an Engine.IO request: `/socket.io/?EIO=4&transport=…[&sid=…]`,
    /// with the URL's own query after it.
    pub(crate) fn target(&self, transport: &str, sid: Option<&str>) -> String {
        let mut target = format!("{}?EIO=4&transport={transport}", self.options.path);
        if let Some(sid) = sid {
            target.push_str("&sid=");
            target.push_str(&encode_component(sid));
        }
        if let Some(query) = &self.options.query {
            target.push('&');
            target.push_str(query);
        }
        target
    }

    /// One request to the server, with the page's `Origin` when one was given.
    pub(crate) async fn send(
        &self,
        method: &str,
        target: &str,
        body: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Result<Reply, ProbeError> {
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(origin) = self.origin {
            headers.push(("origin", origin));
        }
        if body.is_some() {
            // What socket.io-client's XHR transport sends with a POST: a "simple" content type,
            // so a browser sends the POST without a CORS preflight.
            headers.push(("content-type", "text/plain;charset=UTF-8"));
        }
        headers.extend_from_slice(extra);
        match probe::request(&self.endpoint, method, target, &headers, body, self.limit()).await {
            // A request cut short by the run's end, not by its own limit, says so.
            Err(ProbeError::Timeout { what, .. }) if self.out_of_time() => Err(ProbeError::RunOver { what }),
            other => other,
        }
    }
}

/// Runs every check in order and returns the checklist.
pub async fn diagnose(options: &Options) -> Report {
    let started = Instant::now();
    let mut report = Report {
        url: options.shown.clone(),
        path: options.path.clone(),
        namespace: options.namespace.clone(),
        origin: options.origin.clone(),
        lines: Vec::new(),
        figures: report::Figures::default(),
        took: Duration::ZERO,
    };
    run(options, started + RUN_LIMIT, &mut report).await;
    report.took = started.elapsed();
    report
}

/// The checks, each adding its lines; one that makes the rest pointless ends the run.
async fn run(options: &Options, deadline: Instant, report: &mut Report) {
    let Some(endpoint) = engine::resolve(options, deadline, &mut report.lines).await else {
        return;
    };
    let mut probe = Probe {
        options,
        endpoint,
        origin: options.origin.as_deref(),
        deadline,
    };
    let Some((open, origin_refused)) = engine::handshake(&probe, report).await else {
        return;
    };
    if origin_refused {
        probe.origin = None;
    } else {
        transport::cors(&probe, &mut report.lines).await;
    }
    let websocket = transport::websocket(&probe, &open, &mut report.lines).await;
    transport::upgrade(&probe, websocket, report).await;
    sessions::sticky_and_namespace(&probe, report).await;
    report.lines.push(timing(&report.figures));
}

/// Closes the polling session a handshake `reply` opened (`POST 1`), so the probe leaves no
/// session waiting for its ping timeout on someone else's server. Its answer does not matter.
pub(crate) async fn close(probe: &Probe<'_>, reply: &Reply) {
    if let Ok(client::protocol::EnginePacket::Open(open)) =
        client::protocol::EnginePacket::decode(&reply.body)
    {
        let target = probe.target("polling", Some(&open.sid));
        let _ = probe.send("POST", &target, Some("1"), &[]).await;
    }
}

/// The round-trip figures, as one line.
fn timing(figures: &report::Figures) -> Line {
    let ms = |d: Option<Duration>| match d {
        Some(d) => format!("{:.1} ms", d.as_secs_f64() * 1000.0),
        None => "not measured".to_owned(),
    };
    Line::new(
        Check::Timing,
        Status::Info,
        format!(
            "handshake {} · upgrade {} · namespace connect {}",
            ms(figures.handshake),
            ms(figures.upgrade),
            ms(figures.connect)
        ),
    )
}

/// A line for a check the run's time bound left no room for.
pub(crate) fn out_of_time(check: Check) -> Line {
    Line::found(
        check,
        Status::Fail,
        format!(
            "not run: the whole run's bound ({} s) passed",
            RUN_LIMIT.as_secs()
        ),
        Finding::OutOfTime,
    )
}

/// Percent-encodes what is not safe in a query value (a session id is normally safe already).
fn encode_component(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_encoded_in_the_query() {
        assert_eq!(encode_component("aZ0-_"), "aZ0-_");
        assert_eq!(encode_component("a+b/="), "a%2Bb%2F%3D");
    }
}
