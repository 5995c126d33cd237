//! The doctor's checklist as plain data: one line per check, in the order they ran.
//!
//! The text for a person is [`crate::ui`]'s job, and the JSON is this data serialised, so both
//! say the same. Text that came from the server (a status body, an error message) is kept as it
//! came: the renderers make it safe to print.

use std::time::Duration;

use serde::Serialize;

use super::findings::{Finding, shown_in};

/// The checks, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    Reachable,
    SocketIo,
    Protocol,
    Handshake,
    Cors,
    Credentials,
    Preflight,
    Websocket,
    Upgrade,
    Sticky,
    Namespace,
    Timing,
}

impl Check {
    /// The check's name on its line.
    pub fn label(self) -> &'static str {
        match self {
            Check::Reachable => "reachable",
            Check::SocketIo => "Socket.IO at the path",
            Check::Protocol => "protocol",
            Check::Handshake => "handshake",
            Check::Cors => "CORS",
            Check::Credentials => "CORS credentials",
            Check::Preflight => "CORS preflight",
            Check::Websocket => "WebSocket",
            Check::Upgrade => "upgrade",
            Check::Sticky => "sticky sessions",
            Check::Namespace => "namespace",
            Check::Timing => "round trips",
        }
    }
}

/// How a check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Fine.
    Pass,
    /// Wrong: a page's `io()` would fail, or degrade, because of it.
    Fail,
    /// Worth knowing, fine for a default `io()` (a refused preflight, say).
    Warn,
    /// Figures and facts, no judgement.
    Info,
    /// Not run: an earlier check made it pointless, or it was not asked for.
    Skip,
}

/// One line of the checklist.
#[derive(Debug, Clone)]
pub struct Line {
    pub check: Check,
    pub status: Status,
    /// What was observed, in one sentence (may quote the server).
    pub said: String,
    /// For a failing or warning line: the cause, named.
    pub finding: Option<Finding>,
}

impl Line {
    pub fn new(check: Check, status: Status, said: impl Into<String>) -> Line {
        Line {
            check,
            status,
            said: said.into(),
            finding: None,
        }
    }

    /// A line that names its cause.
    pub fn found(check: Check, status: Status, said: impl Into<String>, finding: Finding) -> Line {
        Line {
            finding: Some(finding),
            ..Line::new(check, status, said)
        }
    }
}

/// How long the steps a page waits for took.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// The polling handshake: GET to the OPEN packet.
    pub handshake: Option<Duration>,
    /// The upgrade: the WebSocket's 101, `2probe`/`3probe`, and `5`.
    pub upgrade: Option<Duration>,
    /// The namespace: POST of the CONNECT to the GET that brought its answer.
    pub connect: Option<Duration>,
}

/// The whole checklist; [`Report::json`] is its JSON.
#[derive(Debug, Clone)]
pub struct Report {
    /// The URL probed, without credentials or query.
    pub url: String,
    pub path: String,
    pub namespace: String,
    pub origin: Option<String>,
    pub lines: Vec<Line>,
    pub figures: Figures,
    /// How long the whole run took.
    pub took: Duration,
}

impl Report {
    /// Healthy: no line failed.
    pub fn healthy(&self) -> bool {
        self.lines.iter().all(|l| l.status != Status::Fail)
    }

    /// The report as one JSON object, findings with their cause, fix and stages.
    pub fn json(&self) -> serde_json::Value {
        let lines: Vec<serde_json::Value> = self
            .lines
            .iter()
            .map(|line| {
                let mut value = serde_json::json!({
                    "check": line.check,
                    "status": line.status,
                    "said": line.said,
                });
                if let Some(finding) = line.finding {
                    value["finding"] = serde_json::json!({
                        "id": finding,
                        "cause": finding.cause(),
                        "fix": finding.fix(),
                        "shown_in": shown_in(finding),
                    });
                }
                value
            })
            .collect();
        let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1000.0);
        serde_json::json!({
            "doctor": self.url,
            "path": self.path,
            "namespace": self.namespace,
            "origin": self.origin,
            "healthy": self.healthy(),
            "checks": lines,
            "round_trip_ms": {
                "handshake": ms(self.figures.handshake),
                "upgrade": ms(self.figures.upgrade),
                "connect": ms(self.figures.connect),
            },
            "took_ms": self.took.as_secs_f64() * 1000.0,
        })
    }
}
