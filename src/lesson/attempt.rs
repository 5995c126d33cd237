//! Lesson 9's step: a page's `io()` against a server configured to turn it away, and what
//! socket.io-client should report. The server's options, the proxy in between and the client's
//! options are all data, so each failure (and its fix) is a step of a few lines:
//!
//! ```toml
//! [[stage.step]]
//! attempt = { client = "alice", path = "/realtime/", expect = "connect_error: xhr poll error" }
//! ```

use serde::Deserialize;

use crate::client::link::Transport;
use crate::server::proxy::Upgrades;
use crate::server::stage_config::ServerConfig;

/// One `io()` and the server it knocks on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attempt {
    /// The client's name in the trace.
    pub client: String,
    /// The page's origin, when the server did not serve the page itself.
    pub origin: Option<String>,
    /// `io({ path })`.
    pub path: Option<String>,
    /// The Engine.IO version the client speaks: 4 (socket.io-client 3, 4) or 3 (2.x).
    #[serde(default = "four")]
    pub eio: u8,
    /// `io({ transports })`; polling then WebSocket when left out.
    pub transports: Option<Vec<Transport>>,
    /// `new Server(httpServer, { … })`.
    #[serde(default)]
    pub server: ServerConfig,
    /// A reverse proxy in front of the server, and what it does with `Upgrade`.
    pub proxy: Option<Upgrades>,
    /// Once connected: `socket.emit('chat message', text)` with a text this long, then wait
    /// for the session to end.
    pub send_bytes: Option<usize>,
    /// Once connected: `socket.emit('chat message', text)` at once, then once more after the
    /// server's connection handler is done (lesson 9.7).
    pub emit_on_connect: Option<String>,
    /// Once connected: the connection breaks, the client reconnects, and then it emits
    /// `'chat message'` with this text, which the server echoes (lesson 9.8).
    pub reconnect_then_emit: Option<String>,
    /// The page's code registers `socket.on('chat message')` inside `socket.on('connect')`.
    #[serde(default)]
    pub listeners_in_connect: bool,
    /// Once connected: stop answering the server's pings, and wait for the session to end.
    #[serde(default)]
    pub stop_answering_pings: bool,
    /// The step `check` plays against your server, which then stands for this step's server
    /// (the others show the lesson's own servers, and `check` skips them).
    #[serde(default)]
    pub check: bool,
    /// What socket.io-client should report, from the start of its line:
    /// `connect_error: xhr poll error`, `connect (transport: polling)`.
    pub expect: String,
}

fn four() -> u8 {
    4
}

/// The reports a step may expect: socket.io-client's events, as [`crate::client::page::Report`]
/// writes them.
const REPORTS: [&str; 5] = [
    "connect (transport: ",
    "connect_error: ",
    "disconnect: ",
    "the echo came back",
    "'chat message' ",
];

impl Attempt {
    /// Checks what serde cannot: a name, a version that exists, a report the client can make.
    pub(super) fn check(&self) -> Result<(), String> {
        if self.client.trim().is_empty() {
            return Err("attempt.client: name the client".into());
        }
        if !matches!(self.eio, 3 | 4) {
            return Err(format!(
                "attempt.eio = {}: Engine.IO versions are 3 and 4",
                self.eio
            ));
        }
        if !REPORTS.iter().any(|r| self.expect.starts_with(r)) {
            return Err(format!(
                "attempt.expect = {:?}: start with one of {}",
                self.expect,
                REPORTS.join(", ")
            ));
        }
        let actions = [
            self.send_bytes.is_some(),
            self.stop_answering_pings,
            self.emit_on_connect.is_some(),
            self.reconnect_then_emit.is_some(),
        ];
        if actions.iter().filter(|a| **a).count() > 1 {
            return Err("attempt: send_bytes, stop_answering_pings, emit_on_connect or \
                        reconnect_then_emit, one at a time"
                .into());
        }
        let fenced = self.emit_on_connect.is_some() || self.reconnect_then_emit.is_some();
        if fenced
            && self
                .transports
                .as_ref()
                .is_some_and(|t| !t.contains(&Transport::WebSocket))
        {
            return Err("attempt: emit_on_connect and reconnect_then_emit read over a WebSocket".into());
        }
        if self.listeners_in_connect && self.reconnect_then_emit.is_none() {
            return Err("attempt: listeners_in_connect shows only with reconnect_then_emit".into());
        }
        if self.check && (self.stop_answering_pings || fenced) {
            return Err(
                "attempt: `check` plays a connection, or one that sends a message, against \
                        a server the tutor does not control"
                    .into(),
            );
        }
        let ends = self.send_bytes.is_some() || self.stop_answering_pings;
        if !ends && self.expect.starts_with("disconnect: ") {
            return Err(
                "attempt: only a step that sends or stops answering pings can expect a disconnect".into(),
            );
        }
        if self.send_bytes.is_some()
            && !["disconnect: ", "the echo came back"]
                .iter()
                .any(|e| self.expect.starts_with(e))
        {
            return Err("attempt: after send_bytes, expect a disconnect or the echo".into());
        }
        if self.stop_answering_pings && !self.expect.starts_with("disconnect: ") {
            return Err("attempt: a client that stops answering pings is disconnected; expect it".into());
        }
        if self.server.ping_interval_ms.unwrap_or(0) + self.server.ping_timeout_ms.unwrap_or(0) > 2000 {
            return Err("attempt.server: a lesson waits at most 2 s for a ping timeout".into());
        }
        if self.stop_answering_pings
            && (self.server.ping_interval_ms.is_none() || self.server.ping_timeout_ms.is_none())
        {
            return Err(
                "attempt: stop_answering_pings needs small ping_interval_ms and ping_timeout_ms".into(),
            );
        }
        if self.transports.as_ref().is_some_and(Vec::is_empty) {
            return Err("attempt.transports = []: a client needs at least one".into());
        }
        Ok(())
    }

    /// Does one of `lines`, a trace's lines, say from socket.io-client what this step expects?
    pub fn reported(&self, lines: &[String]) -> bool {
        lines.iter().any(|line| {
            line.split_once(": ").is_some_and(|(who, said)| {
                who.starts_with("socket.io-client") && said.starts_with(&self.expect)
            })
        })
    }

    /// The client's options as `io()` takes them: `io({ path: '/realtime/' })`, `io()`.
    pub fn client_js(&self) -> String {
        let mut parts = Vec::new();
        if let Some(path) = &self.path {
            parts.push(format!("path: '{path}'"));
        }
        if let Some(transports) = &self.transports {
            let names: Vec<String> = transports.iter().map(|t| format!("'{t}'")).collect();
            parts.push(format!("transports: [{}]", names.join(", ")));
        }
        match parts.is_empty() {
            true => "io()".to_owned(),
            false => format!("io({{ {} }})", parts.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(toml_text: &str) -> Attempt {
        toml::from_str(toml_text).expect("an attempt")
    }

    /// Steps that cannot be played, or that expect what the client cannot report, are refused
    /// when the lesson loads, each with its reason.
    #[test]
    fn an_attempt_that_cannot_happen_is_refused() {
        let ok = attempt("client = \"a\"\nexpect = \"connect (transport: websocket)\"");
        assert_eq!(ok.check(), Ok(()));
        for (text, says) in [
            (
                "client = \"a\"\neio = 2\nexpect = \"connect_error: x\"",
                "Engine.IO versions",
            ),
            ("client = \"a\"\nexpect = \"connected\"", "start with one of"),
            (
                "client = \"a\"\nexpect = \"disconnect: transport close\"",
                "only a step that sends",
            ),
            (
                "client = \"a\"\nsend_bytes = 10\nstop_answering_pings = true\nexpect = \"disconnect: x\"",
                "one at a time",
            ),
            (
                "client = \"a\"\nstop_answering_pings = true\nexpect = \"disconnect: x\"",
                "small ping_interval_ms",
            ),
            (
                "client = \"a\"\nemit_on_connect = \"hi\"\ntransports = [\"polling\"]\nexpect = \"'chat message' x\"",
                "over a WebSocket",
            ),
            (
                "client = \"a\"\nlisteners_in_connect = true\nexpect = \"connect (transport: polling)\"",
                "only with",
            ),
            (
                "client = \"a\"\ncheck = true\nemit_on_connect = \"hi\"\nexpect = \"'chat message' x\"",
                "does not control",
            ),
        ] {
            let refused = attempt(text).check().expect_err(text);
            assert!(refused.contains(says), "{text}: {refused}");
        }
    }

    #[test]
    fn a_report_is_read_from_the_client_lines_only() {
        let a = attempt("client = \"a\"\nexpect = \"connect_error: xhr poll error\"");
        let lines = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(a.reported(&lines(&[
            "socket.io-client: connect_error: xhr poll error (description: 0)"
        ])));
        assert!(a.reported(&lines(&[
            "socket.io-client 2.x: connect_error: xhr poll error (description: 400)"
        ])));
        assert!(!a.reported(&lines(&["server: connect_error: xhr poll error"])));
        assert!(!a.reported(&lines(&["socket.io-client: connect (transport: polling)"])));
    }
}
