//! The shape of `lesson.toml`, as serde reads it: plain fields, checked only for their types
//! and names; what they mean together is checked in `parse` and `step`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::model::{AdapterKind, ClientQueue, Handshake, ProbeKind};
use crate::client::link::Transport;
use crate::server::Mount;

/// The only `format_version` this build understands. Version 2 names a stage's handlers per
/// trigger (`handlers = { connection = "io-emit-hello" }`) instead of version 1's two fixed
/// slots (`on_connection`, `on_chat`).
pub const FORMAT_VERSION: u32 = 2;

/// A whole `lesson.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLesson {
    pub(super) format_version: u32,
    pub(super) number: u32,
    pub(super) slug: String,
    pub(super) title: String,
    /// What the lesson teaches, in one line (see `blurb`).
    pub(super) summary: String,
    /// What `check N` asks of the learner's server, in one line.
    pub(super) check_asks: String,
    /// What `serve N` runs, in one line.
    pub(super) serve_runs: String,
    pub(super) check_stage: u32,
    #[serde(rename = "stage")]
    pub(super) stages: Vec<RawStage>,
}

/// One `[[stage]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStage {
    pub(super) title: String,
    pub(super) mount: Mount,
    /// Handler names by trigger: `connection`, `disconnect`, or an event name.
    #[serde(default)]
    pub(super) handlers: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) rooms: Vec<String>,
    #[serde(default)]
    pub(super) clients: BTreeMap<String, Handshake>,
    #[serde(default)]
    pub(super) database: bool,
    #[serde(default)]
    pub(super) server_offset: bool,
    pub(super) client_queue: Option<ClientQueue>,
    /// The servers of a stage with several (`["A", "B"]`).
    #[serde(default)]
    pub(super) nodes: Vec<String>,
    #[serde(default)]
    pub(super) adapter: AdapterKind,
    /// The code shown; by default, the stage's handlers.
    pub(super) rust: Option<Vec<String>>,
    /// The connect middleware of the main namespace (`io.use(fn)`), by name.
    pub(super) middleware: Option<String>,
    /// The namespaces besides `/` (`[[stage.namespace]]`).
    #[serde(rename = "namespace", default)]
    pub(super) namespaces: Vec<RawNamespace>,
    /// What a measurement stage measures after its steps (lesson 10).
    pub(super) measure: Option<super::measure::Measure>,
    #[serde(rename = "step", default)]
    pub(super) steps: Vec<RawStep>,
}

/// One `[[stage.namespace]]` table: `path = "/admin"`, or `dynamic = "/team-{id}"` for a family
/// of namespaces made on demand; its middleware and handlers, like a stage's for `/`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNamespace {
    pub(super) path: Option<String>,
    pub(super) dynamic: Option<String>,
    pub(super) middleware: Option<String>,
    #[serde(default)]
    pub(super) handlers: BTreeMap<String, String>,
}

/// One `[[stage.step]]` table: every field any kind of step may have, all optional here.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    pub(super) probe: Option<ProbeKind>,
    pub(super) path: Option<String>,
    pub(super) client: Option<String>,
    pub(super) expect: Option<String>,
    pub(super) connect: Option<String>,
    /// The server a connect step's client reaches, or a probe's first request goes to.
    pub(super) node: Option<String>,
    /// The transports of a connect step's client, as socket.io-client's option names them.
    pub(super) transports: Option<Vec<Transport>>,
    /// A cross-poll probe's second request goes here.
    pub(super) poll_on: Option<String>,
    pub(super) disconnect: Option<String>,
    pub(super) drop_transport: Option<bool>,
    pub(super) restart_server: Option<bool>,
    pub(super) while_disconnected: Option<bool>,
    pub(super) drops_before_answer: Option<bool>,
    pub(super) emit: Option<String>,
    pub(super) event: Option<String>,
    pub(super) args: Option<Vec<Value>>,
    pub(super) ack: Option<bool>,
    pub(super) ack_timeout_ms: Option<u64>,
    pub(super) burst: Option<Vec<RawSend>>,
    /// Lesson 9: a page's `io()` against a server configured for the step.
    pub(super) attempt: Option<super::attempt::Attempt>,
    pub(super) expect_received_by: Option<Vec<String>>,
    /// The namespace of a connect, emit step's socket (`/` when left out).
    pub(super) namespace: Option<String>,
    /// A connect step's CONNECT payload for that socket (`io('/admin', { auth })`).
    pub(super) auth: Option<Value>,
    /// A connect step the server refuses, with the message socket.io-client reports.
    pub(super) expect_connect_error: Option<String>,
    pub(super) question: Option<String>,
    pub(super) why: Option<String>,
}

/// One send of a burst: who sends, and the arguments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSend {
    pub(super) from: String,
    pub(super) args: Vec<Value>,
}
