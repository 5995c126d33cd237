//! The lesson model: the lesson, stage and step types the rest of the tutor reads, as loaded and
//! validated from `lesson.toml` (see `parse` for the loading, `raw` for the file's shape).

use serde::Deserialize;
use serde_json::Value;

use std::collections::BTreeMap;

pub use super::answers::Answer;
pub use super::measure::Measure;
use crate::client::link::Transport;
use crate::server::{Behaviour, Mount};
use crate::vocab::{Effect, Trigger};

/// A lesson that could not be loaded, with the folder it came from.
#[derive(Debug, Clone, thiserror::Error)]
#[error("lesson {folder}: {message}")]
pub struct LessonError {
    pub folder: String,
    pub message: String,
}

impl LessonError {
    pub(crate) fn new(folder: &str, message: impl Into<String>) -> Self {
        Self {
            folder: folder.to_owned(),
            message: message.into(),
        }
    }
}

/// One lesson, validated.
#[derive(Debug, Clone)]
pub struct Lesson {
    pub number: u32,
    pub slug: String,
    pub title: String,
    /// The folder under `lessons/`, e.g. `02-emit-vs-broadcast`.
    pub folder: String,
    /// `intro.md`.
    pub intro: String,
    /// `exercise.md`: what to build yourself after the lesson.
    pub exercise: String,
    /// The stage whose server the exercise asks for, and that `check` plays.
    pub check_stage: u32,
    /// What the lesson teaches, in one line: the README's and the book's lesson lists.
    pub summary: String,
    /// What `check N` asks of your server, in one line: the README's `check` table.
    pub check_asks: String,
    /// What `serve N` runs, in one line: the README's `serve` table.
    pub serve_runs: String,
    pub stages: Vec<Stage>,
}

/// One stage: a server, a scenario, and what the lesson expects to be observed.
#[derive(Debug, Clone)]
pub struct Stage {
    pub number: u32,
    pub title: String,
    /// `stage-K.md`.
    pub text: String,
    /// `stage-K.js`: the Node.js code this stage mirrors.
    pub node: String,
    /// The Rust that runs, as `(path, anchor)` pairs cut from `src/server/`.
    pub rust: Vec<RustRef>,
    pub mount: Mount,
    pub behaviour: Behaviour,
    /// The rooms the stage's steps may use (a socket's own room, named by its id, is always
    /// there and never declared).
    pub rooms: Vec<String>,
    /// What some clients send in their handshake, by name (`io({ query, auth })`); sent again
    /// on every reconnection, as socket.io-client does.
    pub clients: BTreeMap<String, Handshake>,
    /// The server keeps its messages in a real SQLite database (lesson 6): a fresh file for a
    /// lesson run, which outlives a `restart_server` step.
    pub database: bool,
    /// Each client runs the tutorial's client code for the server offset: it connects with
    /// `io({ auth: { serverOffset: 0 } })`, and on every `'chat message'` (msg, serverOffset)
    /// sets `socket.auth.serverOffset = serverOffset`; socket.io-client sends `auth` again with
    /// every reconnection.
    pub server_offset: bool,
    /// socket.io-client's `retries` and `ackTimeout` options for every client of the stage
    /// (`io({ retries, ackTimeout })`): each emit waits for its acknowledgement and is sent again
    /// when none comes (see `client::outbox`).
    pub client_queue: Option<ClientQueue>,
    /// The servers (nodes) of a stage with several, by name (`["A", "B"]`); empty for the
    /// stages with one server.
    pub nodes: Vec<String>,
    /// What joins the nodes: nothing (each its own in-memory adapter) or the Redis adapter.
    pub adapter: AdapterKind,
    pub steps: Vec<Step>,
    /// What the stage measures after its steps, for a measurement stage (lesson 10).
    pub measure: Option<Measure>,
}

/// A client's options: its handshake, `io({ query: { … }, auth: { … } })`, and how it answers
/// when the server asks it for an acknowledgement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handshake {
    /// Parameters on the handshake request's URL (letters, digits, `-` and `_` only).
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// The CONNECT packet's payload, read by the server as `socket.handshake.auth`.
    pub auth: Option<Value>,
    /// How the client answers a server's `emitWithAck`, per event:
    /// `answers = { question = ["yes"] }` is `socket.on('question', (q, callback) => callback('yes'))`,
    /// `answers = { question = "never" }` a listener that never calls its callback.
    #[serde(default)]
    pub answers: BTreeMap<String, Answer>,
}

impl Handshake {
    /// The answers the client gives, per event (those it never gives are left out, as the
    /// client sends nothing for them).
    pub fn answers(&self) -> BTreeMap<String, Vec<Value>> {
        self.answers
            .iter()
            .filter_map(|(event, answer)| match answer {
                Answer::With(args) => Some((event.clone(), args.clone())),
                Answer::Never => None,
            })
            .collect()
    }
}

/// socket.io-client's `retries` and `ackTimeout` options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientQueue {
    pub retries: u32,
    pub ack_timeout_ms: u64,
}

/// How an emit through a client's queue goes (lesson 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// The client is connected: it sends, waits for the acknowledgement, and retries.
    Connected,
    /// The client is disconnected: the emit waits in its queue until it reconnects.
    WhileDisconnected,
    /// The client sends, the server handles it, and the connection drops before the client
    /// reads the acknowledgement: the message stays in the queue, unacknowledged.
    DropsBeforeAnswer,
}

/// The adapter a stage's servers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdapterKind {
    /// socketioxide's in-memory adapter: each server knows only its own sockets.
    #[default]
    None,
    /// socketioxide-redis: broadcasts go through a Redis the tutor starts (or `--redis`).
    Redis,
}

impl Stage {
    /// Does this stage need a Redis to run?
    pub fn needs_redis(&self) -> bool {
        self.adapter == AdapterKind::Redis
    }

    /// The name of node `i` (`A`), or `None` for a stage with one server.
    pub fn node_name(&self, i: usize) -> Option<&str> {
        self.nodes.get(i).map(String::as_str)
    }

    /// What the stage's server declares it does when `trigger` fires with `args`, if any handler
    /// answers it. The lesson was validated at load, so a refusal here cannot happen for the
    /// lesson's own steps; it reads as "no effect".
    pub fn effect(&self, trigger: &Trigger, args: &[Value]) -> Option<Effect> {
        self.behaviour.effect(trigger, args).ok().flatten()
    }

    /// [`Stage::effect_in`] for client `client` as the stage has it connect (its `auth`).
    pub fn effect_for(&self, client: &str, nsp: &str, trigger: &Trigger, args: &[Value]) -> Option<Effect> {
        let auth = self
            .clients
            .get(client)
            .and_then(|c| c.auth.clone())
            .unwrap_or(Value::Null);
        self.behaviour
            .in_namespace(nsp)?
            .effect_as(trigger, args, &auth)
            .ok()
            .flatten()
    }

    /// [`Stage::effect`] for a handler of namespace `nsp`.
    pub fn effect_in(&self, nsp: &str, trigger: &Trigger, args: &[Value]) -> Option<Effect> {
        self.behaviour
            .in_namespace(nsp)?
            .effect(trigger, args)
            .ok()
            .flatten()
    }

    /// The events the stage's steps emit, and those its server emits: what a client should
    /// judge.
    pub fn events(&self) -> Vec<String> {
        let mut events: Vec<String> = Vec::new();
        let mut add = |e: &str| {
            if !events.iter().any(|x| x == e) {
                events.push(e.to_owned());
            }
        };
        let spaces =
            std::iter::once(&self.behaviour).chain(self.behaviour.namespaces().iter().map(|s| &s.behaviour));
        for behaviour in spaces {
            for trigger in [Trigger::Connection, Trigger::Disconnect] {
                if let Some(emit) = behaviour
                    .effect(&trigger, &[])
                    .ok()
                    .flatten()
                    .and_then(|e| e.emit)
                {
                    add(&emit.event);
                }
            }
        }
        for step in &self.steps {
            match &step.kind {
                StepKind::Emit {
                    event,
                    args,
                    namespace,
                    ..
                } => {
                    add(event);
                    if let Some(emit) = self
                        .effect_in(namespace, &Trigger::Event(event.clone()), args)
                        .and_then(|e| e.emit)
                    {
                        add(&emit.event);
                    }
                }
                StepKind::Burst { event, sends } => {
                    add(event);
                    for (_, args) in sends {
                        if let Some(emit) = self
                            .effect(&Trigger::Event(event.clone()), args)
                            .and_then(|e| e.emit)
                        {
                            add(&emit.event);
                        }
                    }
                }
                _ => {}
            }
        }
        events
    }
}

/// A region of real source code shown to the learner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RustRef {
    pub path: String,
    pub anchor: String,
}

impl RustRef {
    /// The code itself, cut from the embedded source.
    pub fn code(&self) -> Result<String, String> {
        let source =
            super::server_source(&self.path).ok_or_else(|| format!("no source file {}", self.path))?;
        super::anchor(source, &self.anchor).map_err(|e| format!("{}: {e}", self.path))
    }
}

/// How lesson 1 reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeKind {
    /// Hand a request to the app directly, in the same process, with no network.
    InProcess,
    /// An HTTP GET over TCP.
    HttpGet,
    /// A Socket.IO client that connects the way `io()` does by default: long-polling first (plain
    /// HTTP requests), then the upgrade to a WebSocket for the same session.
    Polling,
    /// A Socket.IO client with `transports: ['websocket']`: its first request asks to upgrade.
    Websocket,
    /// An HTTP long-polling session opened on one server, and its next poll sent to another:
    /// what a load balancer without sticky sessions does.
    CrossPoll,
}

/// What a probe should find.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeExpect {
    /// The TCP connection is refused.
    Refused,
    /// An HTTP response with this status code.
    Status(u16),
    /// A complete Socket.IO connection whose connection handler ran.
    SocketIo,
}

/// One thing that happens in a stage.
#[derive(Debug, Clone)]
pub enum StepKind {
    /// Lesson 1's probes, and lesson 7's polling session opened on one node and polled on
    /// another (`cross-poll`, from `node` to `poll_on`).
    Probe {
        probe: ProbeKind,
        path: String,
        client: Option<String>,
        expect: ProbeExpect,
        node: usize,
        poll_on: Option<usize>,
    },
    /// A new client connects (which may trigger the connection handler's emit), to node `node`
    /// (0 on a stage with one server), over `transports` when the step names them (as
    /// socket.io-client's option does), else over the run's transports (see
    /// `runner::RunOptions::transports`).
    ///
    /// A client connects to namespace `namespace` (`io(url + '/admin')`, `/` by default); a
    /// client already connected to another namespace joins this one over the same session, as
    /// socket.io-client's Manager does. `auth` is that socket's CONNECT payload. With
    /// `refused`, the lesson expects the server to answer CONNECT_ERROR with this message (a
    /// middleware's refusal, or "Invalid namespace").
    Connect {
        client: String,
        node: usize,
        transports: Option<Vec<Transport>>,
        namespace: String,
        auth: Option<Value>,
        refused: Option<String>,
    },
    /// A connected client emits an event; with `ack`, it passes a callback
    /// (`socket.emit(event, ...args, (answer) => { … })`) and the trace records the answer.
    Emit {
        client: String,
        /// The namespace of the socket it emits on (`/` unless the step names another).
        namespace: String,
        event: String,
        args: Vec<Value>,
        ack: bool,
        /// `socket.timeout(ms).emit(…)`: how long the client waits for the answer before its
        /// callback gets a timeout error. The only real timer a lesson may use.
        ack_timeout_ms: Option<u64>,
    },
    /// A connected client goes away: politely, as `socket.disconnect()` does (a DISCONNECT
    /// packet, then the WebSocket's close), or with `drop`, as a broken transport does (the
    /// connection just ends). A later `connect` of the same name is a reconnection.
    Disconnect { client: String, drop: bool },
    /// The server process stops and starts again on the same database (lesson 6): every
    /// connection closes, the memory of the old server is gone, the file is not.
    RestartServer,
    /// An emit through the client's queue (the stage's `client_queue`): see [`Queued`].
    QueuedEmit {
        client: String,
        event: String,
        args: Vec<Value>,
        how: Queued,
    },
    /// Lesson 9: a page's `io()` against a server (and proxy) configured for the step, and
    /// what socket.io-client reports (see [`super::Attempt`]).
    Attempt(Box<super::Attempt>),
    /// Several emits, one after another, observed together at the end.
    Burst {
        event: String,
        sends: Vec<(String, Vec<Value>)>,
    },
}

/// A step with its expectation and its prediction question (for predict mode).
#[derive(Debug, Clone)]
pub struct Step {
    pub kind: StepKind,
    /// For delivery steps: which clients the lesson expects to receive the event.
    pub expect_received_by: Option<Vec<String>>,
    /// A question to ask before the step runs, in predict mode.
    pub question: Option<String>,
    /// One line on why the observed result is what it is.
    pub why: Option<String>,
}

impl Lesson {
    /// The stage `check` plays.
    pub fn check(&self) -> &Stage {
        &self.stages[self.check_stage as usize - 1]
    }

    /// The command the exercise ends with: `check` for this lesson, with one `--url` per server
    /// its check stage runs (ports 3000, 3001, …). Made from the lesson's data, not written in
    /// `exercise.md`, so a lesson folder copied under another number names itself.
    pub fn check_command(&self) -> String {
        let servers = self.check().nodes.len().max(1);
        let urls: Vec<String> = (0..servers)
            .map(|i| format!("--url http://127.0.0.1:{}", 3000 + i))
            .collect();
        format!("realtime-tutor check {} {}", self.number, urls.join(" "))
    }

    /// `exercise.md`, then [`Lesson::check_command`] as a console block.
    pub fn exercise_with_command(&self) -> String {
        format!(
            "{}\n\n```console\n$ {}\n```\n",
            self.exercise.trim_end(),
            self.check_command()
        )
    }
}
