//! The trace: what each client really received, as plain data.
//!
//! A trace is built only from observations (events a client read off its WebSocket, statuses a
//! probe got back). Expectations from the lesson are never written into it; tests and `check`
//! compare the two. Here are the data and its JSON ([`json`]); the words and colours a person
//! reads are [`crate::ui`]'s. Beside the lesson trace is serve's live trace ([`live`]), and the
//! rule for text that came from someone else's program ([`safe`]).

pub mod json;
pub mod live;
pub mod measure;
pub mod safe;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::client::WireDirection;
pub use crate::vocab::{Ack, Audience};

/// One event as a client received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub event: String,
    pub args: Vec<Value>,
    /// The namespace of the socket that received it, when not `/` (lesson 8: a client with a
    /// socket on `/` and one on `/admin` receives an admin announcement on the latter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nsp: Option<String>,
}

/// A CONNECT the server refused with a CONNECT_ERROR (`44/admin,{"message":…}`): what the
/// client's `connect_error` listener gets as `err.message` and `err.data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub nsp: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// What kind of step a record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A request made to see whether, and how, the server answers (lesson 1).
    Probe,
    /// A client connected.
    Connect,
    /// A client emitted an event.
    Emit,
    /// A client went away (`socket.disconnect()`, or a dropped transport).
    Disconnect,
}

/// What a probe observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeRecord {
    /// `in-process`, `http-get` or `websocket`.
    pub method: crate::lesson::ProbeKind,
    /// The address, with the port masked as `<port>` (it changes from run to run).
    pub url: String,
    /// How the probe ended (see [`ProbeOutcome`]).
    pub outcome: ProbeOutcome,
    /// The HTTP status code, when one came back (`101` for a WebSocket that switched protocols).
    pub status: Option<u16>,
    /// One line per observation, in order.
    pub observed: Vec<String>,
}

impl ProbeRecord {
    /// The observation that says how the probe ended: the first, or for a cross-poll the
    /// second server's answer, which is its point.
    pub fn outcome_line(&self) -> Option<&str> {
        let at = usize::from(self.method == crate::lesson::ProbeKind::CrossPoll);
        self.observed
            .get(at)
            .or(self.observed.first())
            .map(String::as_str)
    }

    /// Did the probe reach what it knocked on? A full Socket.IO connection, or an HTTP answer
    /// below 400. This one rule is the trace's ✓ and the "will it connect?" answer of predict
    /// mode, so they cannot disagree.
    pub fn succeeded(&self) -> bool {
        match self.outcome {
            ProbeOutcome::SocketIo => true,
            ProbeOutcome::Http => self.status.is_some_and(|status| status < 400),
            _ => false,
        }
    }
}

/// How a probe ended. The JSON names are the ones in the README's format table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeOutcome {
    /// The TCP connection was refused: nothing listens on that port.
    Refused,
    /// An HTTP status came back (for a WebSocket probe: the upgrade was answered with a status).
    Http,
    /// A full Socket.IO connection: 101, Engine.IO OPEN, Socket.IO CONNECT.
    #[serde(rename = "socket.io")]
    SocketIo,
    /// A WebSocket opened, but what came over it was not Engine.IO.
    #[serde(rename = "not-socket.io")]
    NotSocketIo,
    /// Something accepted the connection, then a bounded wait for its answer ran out.
    NoAnswer,
    /// The server closed the connection without answering the WebSocket request.
    Closed,
    /// Anything else that went wrong on the way.
    Error,
}

/// One frame for `--wire`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WireLine {
    pub client: String,
    pub direction: WireDirection,
    pub frame: String,
    /// True for the tutor's own frames (the fences), which are not part of the lesson.
    pub plumbing: bool,
}

/// One step of a stage, as observed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRecord {
    pub lesson: u32,
    pub stage: u32,
    pub step: u32,
    pub kind: Kind,
    /// The JavaScript expression the server ran (the thing being taught), when there is one.
    pub action: Option<String>,
    /// What the client side did to cause it, in words (`dave connects`).
    pub trigger: String,
    /// The client whose socket the server acted for, or null.
    pub sender: Option<String>,
    /// On a stage with several servers: the one that handled the step (`A`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The event the server action emits, and its arguments.
    pub event: Option<String>,
    pub args: Vec<Value>,
    /// Who the action is meant to reach, in Socket.IO's terms.
    pub audience: Option<Audience>,
    /// Connected clients that received `event` in this step, sorted.
    pub received_by: Vec<String>,
    /// Connected clients that did not, sorted.
    pub not_received_by: Vec<String>,
    /// Everything each connected client received in this step, in arrival order.
    pub received: BTreeMap<String, Vec<Delivery>>,
    /// Steps that were sent in one go share a burst number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    /// Within a burst: the position (from 1) at which each client received this message.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub arrival: BTreeMap<String, usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeRecord>,
    /// Events a `check` received that this lesson does not judge, per client.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub ignored: BTreeMap<String, Vec<Delivery>>,
    /// What the client emitted, when the server's emit (`event`, `args`) differs from it, or
    /// when the server emits nothing (a `join`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_emit: Option<Delivery>,
    /// For each connected client that did not receive `event`: why not, in words, as the
    /// server's own tables showed it at emit time (`the sender`, `not in room 'a'`). Only our own
    /// server can say; against someone else's, it stays empty.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub why_not: BTreeMap<String, String>,
    /// Acknowledgements: for each client that passed a callback, what came back.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub acks: BTreeMap<String, Ack>,
    /// When the server asked for acknowledgements (`timeout(ms).emitWithAck`): for each client
    /// it asked, what came back to the server, or that its timer ran out first, as the server's
    /// handler reported it. Only our own server can say; against someone else's, it stays empty.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub server_acks: BTreeMap<String, Ack>,
    /// Clients that connected earlier in the stage and are disconnected now: nothing can reach
    /// them, and the trace lists them so what they missed is plain (lesson 6).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub away: Vec<String>,
    /// A connect step the server refused (see [`Refusal`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<Refusal>,
    /// Raw frames, only with `--wire`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wire: Option<Vec<WireLine>>,
}

impl StepRecord {
    /// A record of step `step` with nothing observed yet: the runner fills in what happens.
    pub fn new(lesson: u32, stage: u32, step: u32, kind: Kind, trigger: String) -> Self {
        Self {
            lesson,
            stage,
            step,
            kind,
            action: None,
            trigger,
            sender: None,
            node: None,
            event: None,
            args: Vec::new(),
            audience: None,
            received_by: Vec::new(),
            not_received_by: Vec::new(),
            received: BTreeMap::new(),
            burst: None,
            arrival: BTreeMap::new(),
            probe: None,
            ignored: BTreeMap::new(),
            client_emit: None,
            why_not: BTreeMap::new(),
            acks: BTreeMap::new(),
            server_acks: BTreeMap::new(),
            away: Vec::new(),
            refused: None,
            wire: None,
        }
    }

    /// A delivery step carries an event that the server sent (or meant to send) to clients.
    pub fn is_delivery(&self) -> bool {
        self.kind != Kind::Probe && self.event.is_some()
    }
}

/// All steps of one stage, with the clients in the order they joined.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageTrace {
    pub lesson: u32,
    pub stage: u32,
    pub title: String,
    pub clients: Vec<String>,
    pub steps: Vec<StepRecord>,
    /// What a measurement stage measured after its steps (lesson 10), else `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measure: Option<measure::Measurement>,
}

impl StageTrace {
    /// The steps as they are shown: one at a time, except the messages of a burst, which were
    /// sent back to back and observed together, and so come as one group.
    pub fn groups(&self) -> impl Iterator<Item = &[StepRecord]> {
        self.steps
            .chunk_by(|a, b| a.burst.is_some() && a.burst == b.burst)
    }
}

/// Formats arguments the way they appear in JavaScript source: `"world"`, `1, {"a":2}`.
pub fn format_args(args: &[Value]) -> String {
    args.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_outcomes_keep_their_json_names() {
        for (outcome, name) in [
            (ProbeOutcome::Refused, "refused"),
            (ProbeOutcome::Http, "http"),
            (ProbeOutcome::SocketIo, "socket.io"),
            (ProbeOutcome::NotSocketIo, "not-socket.io"),
            (ProbeOutcome::NoAnswer, "no-answer"),
            (ProbeOutcome::Closed, "closed"),
            (ProbeOutcome::Error, "error"),
        ] {
            assert_eq!(serde_json::to_string(&outcome).unwrap(), format!("\"{name}\""));
        }
    }

    #[test]
    fn a_probe_succeeds_with_socket_io_or_an_http_answer_below_400() {
        let probe = |outcome, status| ProbeRecord {
            method: crate::lesson::ProbeKind::HttpGet,
            url: String::new(),
            outcome,
            status,
            observed: Vec::new(),
        };
        assert!(probe(ProbeOutcome::SocketIo, Some(101)).succeeded());
        assert!(probe(ProbeOutcome::Http, Some(200)).succeeded());
        assert!(probe(ProbeOutcome::Http, Some(304)).succeeded());
        assert!(!probe(ProbeOutcome::Http, Some(404)).succeeded());
        assert!(!probe(ProbeOutcome::Http, None).succeeded());
        for failed in [
            ProbeOutcome::Refused,
            ProbeOutcome::NotSocketIo,
            ProbeOutcome::NoAnswer,
            ProbeOutcome::Closed,
            ProbeOutcome::Error,
        ] {
            assert!(!probe(failed, Some(101)).succeeded(), "{failed:?}");
        }
    }
}
