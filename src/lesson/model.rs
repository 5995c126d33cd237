//! The lesson model and its validation.

use serde::Deserialize;
use serde_json::Value;

use std::collections::BTreeMap;

pub use super::answers::Answer;
use crate::client::link::Transport;
use crate::server::{Behaviour, Mount};
use crate::vocab::{Effect, Trigger};

/// The only `format_version` this build understands. Version 2 names a stage's handlers per
/// trigger (`handlers = { connection = "io-emit-hello" }`) instead of version 1's two fixed
/// slots (`on_connection`, `on_chat`).
pub const FORMAT_VERSION: u32 = 2;

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

    /// The events the stage's steps emit, and those its server emits: what a client should
    /// judge.
    pub fn events(&self) -> Vec<String> {
        let mut events: Vec<String> = Vec::new();
        let mut add = |e: &str| {
            if !events.iter().any(|x| x == e) {
                events.push(e.to_owned());
            }
        };
        for trigger in [Trigger::Connection, Trigger::Disconnect] {
            if let Some(emit) = self.effect(&trigger, &[]).and_then(|e| e.emit) {
                add(&emit.event);
            }
        }
        for step in &self.steps {
            match &step.kind {
                StepKind::Emit { event, args, .. } => {
                    add(event);
                    if let Some(emit) = self
                        .effect(&Trigger::Event(event.clone()), args)
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
    Connect {
        client: String,
        node: usize,
        transports: Option<Vec<Transport>>,
    },
    /// A connected client emits an event; with `ack`, it passes a callback
    /// (`socket.emit(event, ...args, (answer) => { … })`) and the trace records the answer.
    Emit {
        client: String,
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

// ---- the TOML shape ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLesson {
    format_version: u32,
    number: u32,
    slug: String,
    title: String,
    check_stage: u32,
    #[serde(rename = "stage")]
    stages: Vec<RawStage>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStage {
    title: String,
    mount: Mount,
    /// Handler names by trigger: `connection`, `disconnect`, or an event name.
    #[serde(default)]
    handlers: BTreeMap<String, String>,
    #[serde(default)]
    rooms: Vec<String>,
    #[serde(default)]
    clients: BTreeMap<String, Handshake>,
    #[serde(default)]
    database: bool,
    #[serde(default)]
    server_offset: bool,
    client_queue: Option<ClientQueue>,
    /// The servers of a stage with several (`["A", "B"]`).
    #[serde(default)]
    nodes: Vec<String>,
    #[serde(default)]
    adapter: AdapterKind,
    /// The code shown; by default, the stage's handlers.
    rust: Option<Vec<String>>,
    #[serde(rename = "step", default)]
    steps: Vec<RawStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    probe: Option<ProbeKind>,
    path: Option<String>,
    client: Option<String>,
    expect: Option<String>,
    connect: Option<String>,
    /// The server a connect step's client reaches, or a probe's first request goes to.
    node: Option<String>,
    /// The transports of a connect step's client, as socket.io-client's option names them.
    transports: Option<Vec<Transport>>,
    /// A cross-poll probe's second request goes here.
    poll_on: Option<String>,
    disconnect: Option<String>,
    drop_transport: Option<bool>,
    restart_server: Option<bool>,
    while_disconnected: Option<bool>,
    drops_before_answer: Option<bool>,
    emit: Option<String>,
    event: Option<String>,
    args: Option<Vec<Value>>,
    ack: Option<bool>,
    ack_timeout_ms: Option<u64>,
    burst: Option<Vec<RawSend>>,
    expect_received_by: Option<Vec<String>>,
    question: Option<String>,
    why: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSend {
    from: String,
    args: Vec<Value>,
}

const CHAT_EVENT: &str = "chat message";

/// The longest acknowledgement timeout a lesson may wait for: a lesson runs in milliseconds,
/// and the one that teaches timeouts needs only a short one.
const MAX_ACK_TIMEOUT_MS: u64 = 1000;

/// Event names a client must not emit: Socket.IO reserves the first six for its own lifecycle, and
/// the last is the tutor's fence.
const RESERVED_EVENTS: [&str; 7] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
    crate::server::FENCE_EVENT,
];

impl Lesson {
    /// Parses `lesson.toml` and reads its companion files through `read`.
    pub fn parse(
        folder: &str,
        toml_text: &str,
        read: &dyn Fn(&str) -> Result<String, LessonError>,
    ) -> Result<Self, LessonError> {
        let err = |m: String| LessonError::new(folder, m);
        let raw: RawLesson = toml::from_str(toml_text).map_err(|e| err(format!("lesson.toml: {e}")))?;
        if raw.format_version != FORMAT_VERSION {
            return Err(err(format!(
                "format_version {} is not supported (this build reads version {FORMAT_VERSION})",
                raw.format_version
            )));
        }
        let expected_folder = format!("{:02}-{}", raw.number, raw.slug);
        if folder != expected_folder {
            return Err(err(format!("the folder should be named {expected_folder}")));
        }
        let mut stages = Vec::new();
        for (i, raw_stage) in raw.stages.into_iter().enumerate() {
            let number = i as u32 + 1;
            let stage_err = |m: String| err(format!("stage {number}: {m}"));
            if raw_stage.mount != Mount::Realtime && !raw_stage.handlers.is_empty() {
                return Err(stage_err("only a realtime stage can have handlers".into()));
            }
            check_nodes(&raw_stage.nodes, raw_stage.adapter).map_err(&stage_err)?;
            let mut behaviour = Behaviour::default();
            // The lesson's order is the TOML table's order, which `BTreeMap` sorts by trigger;
            // the connection handler goes first either way, as in Node.
            let mut chosen: Vec<(&String, &String)> = raw_stage.handlers.iter().collect();
            chosen.sort_by_key(|(t, _)| *t != "connection");
            for (trigger, name) in chosen {
                behaviour = behaviour
                    .with(trigger, name)
                    .map_err(|m| stage_err(format!("handlers: {m}")))?;
            }
            let rust_names: Vec<String> = match raw_stage.rust {
                Some(rust) => rust,
                None => behaviour.code().iter().map(|(f, a)| format!("{f}:{a}")).collect(),
            };
            let rust = rust_names
                .iter()
                .map(|r| {
                    let (path, anchor) = r
                        .split_once(':')
                        .ok_or_else(|| stage_err(format!("rust entry {r:?} is not path:anchor")))?;
                    let rust = RustRef {
                        path: path.to_owned(),
                        anchor: anchor.to_owned(),
                    };
                    rust.code().map_err(&stage_err)?;
                    Ok(rust)
                })
                .collect::<Result<Vec<_>, LessonError>>()?;
            let mut steps = Vec::new();
            let mut connected: Vec<String> = Vec::new();
            if let Some(queue) = raw_stage.client_queue
                && !(1..=MAX_ACK_TIMEOUT_MS).contains(&queue.ack_timeout_ms)
            {
                return Err(stage_err(format!(
                    "client_queue.ack_timeout_ms = {}: a lesson waits between 1 and {MAX_ACK_TIMEOUT_MS} ms",
                    queue.ack_timeout_ms
                )));
            }
            let scope = Scope {
                mount: raw_stage.mount,
                behaviour: &behaviour,
                rooms: &raw_stage.rooms,
                queue: raw_stage.client_queue,
                nodes: &raw_stage.nodes,
            };
            for (j, raw_step) in raw_stage.steps.into_iter().enumerate() {
                let step = raw_step
                    .into_step(&scope, &mut connected)
                    .map_err(|m| stage_err(format!("step {}: {m}", j + 1)))?;
                steps.push(step);
            }
            if steps.is_empty() {
                return Err(stage_err("has no steps".into()));
            }
            for name in raw_stage.clients.keys() {
                if !steps
                    .iter()
                    .any(|s| matches!(&s.kind, StepKind::Connect { client, .. } if client == name))
                {
                    return Err(stage_err(format!("clients.{name}: no step connects {name}")));
                }
            }
            for (j, step) in steps.iter().enumerate() {
                step.check_question(&behaviour)
                    .map_err(|m| stage_err(format!("step {}: {m}", j + 1)))?;
            }
            super::answers::check(&behaviour, &raw_stage.clients, &steps).map_err(&stage_err)?;
            stages.push(Stage {
                number,
                title: raw_stage.title,
                text: read(&format!("stage-{number}.md"))?,
                node: read(&format!("stage-{number}.js"))?,
                rust,
                mount: raw_stage.mount,
                behaviour,
                rooms: raw_stage.rooms,
                clients: raw_stage.clients,
                database: raw_stage.database,
                server_offset: raw_stage.server_offset,
                client_queue: raw_stage.client_queue,
                nodes: raw_stage.nodes,
                adapter: raw_stage.adapter,
                steps,
            });
        }
        if stages.is_empty() {
            return Err(err("has no stages".into()));
        }
        if raw.check_stage == 0 || raw.check_stage as usize > stages.len() {
            return Err(err(format!("check_stage {} does not exist", raw.check_stage)));
        }
        Ok(Self {
            number: raw.number,
            slug: raw.slug,
            title: raw.title,
            folder: folder.to_owned(),
            intro: read("intro.md")?,
            exercise: read("exercise.md")?,
            check_stage: raw.check_stage,
            stages,
        })
    }

    /// The stage `check` plays.
    pub fn check(&self) -> &Stage {
        &self.stages[self.check_stage as usize - 1]
    }
}

impl Step {
    /// Predict mode asks `question` before the step and shows `why` after it, so a question
    /// needs its explanation, and a step that can be predicted: a probe (will it connect?), or
    /// a single delivery (who receives it?). A burst is several deliveries at once; ask about
    /// one of its messages on a plain `emit` step instead.
    fn check_question(&self, behaviour: &Behaviour) -> Result<(), String> {
        if self.question.is_none() {
            return Ok(());
        }
        if self.why.as_deref().is_none_or(|w| w.trim().is_empty()) {
            return Err("a question needs a why, the explanation shown after the answer".into());
        }
        match &self.kind {
            StepKind::Burst { .. } => {
                Err("a burst cannot carry a question; ask on a single emit step".into())
            }
            StepKind::Emit { ack: false, .. } if self.expect_received_by.is_none() => {
                Err("a question on an emit step needs a handler that emits something, or an ack".into())
            }
            StepKind::Connect { .. } if behaviour.on_connection().and_then(|e| e.emit).is_none() => {
                Err("a question on a connect step needs a connection handler that emits something".into())
            }
            _ => Ok(()),
        }
    }
}

/// What a step is validated against: its stage's server.
struct Scope<'a> {
    mount: Mount,
    behaviour: &'a Behaviour,
    rooms: &'a [String],
    queue: Option<ClientQueue>,
    nodes: &'a [String],
}

/// A stage's servers: none named (one server), or at least two distinct names; an adapter
/// joins several servers, so it needs them.
fn check_nodes(nodes: &[String], adapter: AdapterKind) -> Result<(), String> {
    if nodes.len() == 1 {
        return Err("nodes: name at least two servers, or none for a stage with one".into());
    }
    for (i, node) in nodes.iter().enumerate() {
        if node.is_empty() || nodes[..i].contains(node) {
            return Err(format!("nodes: {node:?} must be a name, used once"));
        }
    }
    if adapter != AdapterKind::None && nodes.is_empty() {
        return Err("an adapter joins several servers: name them with nodes = [\"A\", \"B\"]".into());
    }
    Ok(())
}

impl Scope<'_> {
    /// The index of node `name`; on a stage with several servers a step must name one, on a
    /// stage with one it must not.
    fn node(&self, name: Option<&str>, what: &str) -> Result<usize, String> {
        match (name, self.nodes.is_empty()) {
            (None, true) => Ok(0),
            (Some(name), true) => Err(format!(
                "node = {name:?}, but this stage has one server (name several with nodes = [...])"
            )),
            (None, false) => Err(format!(
                "{what} on a stage with several servers needs node = one of {:?}",
                self.nodes
            )),
            (Some(name), false) => self.nodes.iter().position(|n| n == name).ok_or_else(|| {
                format!(
                    "node {name:?} is not one of this stage's servers {:?}",
                    self.nodes
                )
            }),
        }
    }

    /// What the stage's server declares for `event` sent with `args`, refused with a clear
    /// reason when no handler of the stage answers it, when the handler does not accept these
    /// arguments, or when it would use a room the stage does not declare.
    fn effect_of(&self, event: &str, args: &[Value], connected: &[String]) -> Result<Effect, String> {
        let trigger = Trigger::Event(event.to_owned());
        let effect = match self.behaviour.effect(&trigger, args) {
            Ok(Some(effect)) => effect,
            Ok(None) => {
                let answered = self.behaviour.events();
                return Err(format!(
                    "no handler of this stage answers '{event}' (it answers: {})",
                    if answered.is_empty() {
                        "no event at all".to_owned()
                    } else {
                        answered
                            .iter()
                            .map(|e| format!("'{e}'"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ));
            }
            Err(why) => {
                return Err(format!(
                    "the handler for '{event}' refuses these arguments: {why}"
                ));
            }
        };
        let used = effect
            .joins
            .iter()
            .chain(effect.emit.iter().flat_map(|e| e.to.rooms()));
        for room in used {
            if !self.rooms.contains(room) && own_room(room, connected).is_none() {
                return Err(format!(
                    "room '{room}' is not declared (add it to the stage's rooms = [...]; \
                     a socket's own room is written <name.id>)"
                ));
            }
        }
        Ok(effect)
    }
}

/// `<bob.id>`: the id of connected client `bob`, which is also the name of the room only bob's
/// socket is in. Returns the client's name.
pub fn own_room<'a>(text: &'a str, connected: &[String]) -> Option<&'a str> {
    let name = text.strip_prefix('<')?.strip_suffix(".id>")?;
    connected.iter().any(|c| c == name).then_some(name)
}

impl RawStep {
    fn into_step(self, scope: &Scope<'_>, connected: &mut Vec<String>) -> Result<Step, String> {
        let mount = scope.mount;
        let chosen = [
            self.probe.is_some(),
            self.connect.is_some(),
            self.disconnect.is_some(),
            self.emit.is_some(),
            self.burst.is_some(),
            self.restart_server == Some(true),
        ];
        if chosen.iter().filter(|c| **c).count() != 1 {
            return Err(
                "needs exactly one of probe, connect, disconnect, emit, burst, restart_server = true".into(),
            );
        }
        // Each field belongs to one kind of step; a stray one is almost always a typo'd intent.
        let kind_name = if self.probe.is_some() {
            "probe"
        } else if self.connect.is_some() {
            "connect"
        } else if self.disconnect.is_some() {
            "disconnect"
        } else if self.emit.is_some() {
            "emit"
        } else if self.burst.is_some() {
            "burst"
        } else {
            "restart_server"
        };
        let fields: [(&str, bool, &[&str]); 14] = [
            ("node", self.node.is_some(), &["connect", "probe"]),
            ("transports", self.transports.is_some(), &["connect"]),
            ("poll_on", self.poll_on.is_some(), &["probe"]),
            ("drop_transport", self.drop_transport.is_some(), &["disconnect"]),
            ("while_disconnected", self.while_disconnected.is_some(), &["emit"]),
            (
                "drops_before_answer",
                self.drops_before_answer.is_some(),
                &["emit"],
            ),
            ("path", self.path.is_some(), &["probe"]),
            ("client", self.client.is_some(), &["probe"]),
            ("expect", self.expect.is_some(), &["probe"]),
            ("event", self.event.is_some(), &["emit", "burst"]),
            ("args", self.args.is_some(), &["emit"]),
            ("ack", self.ack.is_some(), &["emit"]),
            ("ack_timeout_ms", self.ack_timeout_ms.is_some(), &["emit"]),
            (
                "expect_received_by",
                self.expect_received_by.is_some(),
                &["connect", "disconnect", "emit", "burst"],
            ),
        ];
        for (field, present, kinds) in fields {
            if present && !kinds.contains(&kind_name) {
                return Err(format!("`{field}` does not belong to a {kind_name} step"));
            }
        }
        if let Some(event) = &self.event
            && RESERVED_EVENTS.contains(&event.as_str())
        {
            return Err(format!(
                "`{event}` is reserved by Socket.IO or the tutor and cannot be emitted"
            ));
        }
        let known = |name: &String, connected: &Vec<String>| {
            if connected.contains(name) {
                Ok(())
            } else {
                Err(format!("{name} is not connected yet"))
            }
        };
        if self.burst.is_some() && self.question.is_some() {
            return Err("a burst cannot carry a question; ask on a single emit step".into());
        }
        let mut delivers = false;
        let kind = if self.restart_server == Some(true) {
            if mount != Mount::Realtime {
                return Err("restart_server needs a realtime stage".into());
            }
            // Every connection closes with the old server.
            connected.clear();
            StepKind::RestartServer
        } else if let Some(probe) = self.probe {
            let expect = match self.expect.as_deref() {
                Some("refused") => ProbeExpect::Refused,
                Some("socket.io") => ProbeExpect::SocketIo,
                Some(code) => ProbeExpect::Status(
                    code.parse()
                        .map_err(|_| format!("expect {code:?}: use refused, socket.io or a status code"))?,
                ),
                None => return Err("a probe needs expect".into()),
            };
            if matches!(probe, ProbeKind::Websocket | ProbeKind::Polling) {
                let Some(client) = &self.client else {
                    return Err("a Socket.IO client probe (polling, websocket) needs a client name".into());
                };
                if expect == ProbeExpect::SocketIo {
                    connected.push(client.clone());
                }
            }
            let path = self.path.unwrap_or_else(|| "/".into());
            let node = scope.node(self.node.as_deref(), "a probe")?;
            let poll_on = match (probe, self.poll_on.as_deref()) {
                (ProbeKind::CrossPoll, Some(other)) => {
                    let other = scope.node(Some(other), "a cross-poll")?;
                    if other == node {
                        return Err("a cross-poll polls another server than the one it opened on".into());
                    }
                    Some(other)
                }
                (ProbeKind::CrossPoll, None) => {
                    return Err(
                        "a cross-poll probe needs poll_on, the server its second request goes to".into(),
                    );
                }
                (_, Some(_)) => return Err("`poll_on` belongs to a cross-poll probe".into()),
                (_, None) => None,
            };
            StepKind::Probe {
                probe,
                path,
                client: self.client,
                expect,
                node,
                poll_on,
            }
        } else if let Some(client) = self.connect {
            if mount != Mount::Realtime {
                return Err("connect needs a realtime stage".into());
            }
            if connected.contains(&client) {
                return Err(format!("{client} is already connected"));
            }
            connected.push(client.clone());
            delivers = scope.behaviour.on_connection().is_some_and(|e| e.emit.is_some());
            let node = scope.node(self.node.as_deref(), "a connect step")?;
            let transports = self.transports;
            if transports.as_ref().is_some_and(Vec::is_empty) {
                return Err("transports = []: a client needs at least one".into());
            }
            StepKind::Connect {
                client,
                node,
                transports,
            }
        } else if let Some(client) = self.disconnect {
            known(&client, connected)?;
            connected.retain(|c| *c != client);
            delivers = scope
                .behaviour
                .effect(&Trigger::Disconnect, &[])
                .ok()
                .flatten()
                .is_some_and(|e| e.emit.is_some());
            StepKind::Disconnect {
                client,
                drop: self.drop_transport.unwrap_or(false),
            }
        } else if let Some(client) = self.emit.clone().filter(|_| scope.queue.is_some()) {
            let how = match (self.while_disconnected, self.drops_before_answer) {
                (Some(true), Some(true)) => {
                    return Err("an emit is either while_disconnected or drops_before_answer".into());
                }
                (Some(true), _) => Queued::WhileDisconnected,
                (_, Some(true)) => Queued::DropsBeforeAnswer,
                _ => Queued::Connected,
            };
            if how == Queued::WhileDisconnected {
                if connected.contains(&client) {
                    return Err(format!("while_disconnected, but {client} is connected"));
                }
            } else {
                known(&client, connected)?;
            }
            if self.ack.is_some() || self.ack_timeout_ms.is_some() {
                return Err("in a stage with a client_queue every emit waits for its ack; \
                            leave out ack and ack_timeout_ms"
                    .into());
            }
            let event = self.event.clone().unwrap_or_else(|| CHAT_EVENT.into());
            let args = self.args.clone().unwrap_or_default();
            let effect = scope.effect_of(&event, &args, connected)?;
            delivers = effect.emit.is_some() && how != Queued::WhileDisconnected;
            if how == Queued::DropsBeforeAnswer {
                connected.retain(|c| *c != client);
            }
            StepKind::QueuedEmit {
                client,
                event,
                args,
                how,
            }
        } else if let Some(client) = self.emit {
            if self.while_disconnected.is_some() || self.drops_before_answer.is_some() {
                return Err(
                    "while_disconnected and drops_before_answer need the stage's client_queue".into(),
                );
            }
            known(&client, connected)?;
            let event = self.event.unwrap_or_else(|| CHAT_EVENT.into());
            let args = self.args.unwrap_or_default();
            let effect = scope.effect_of(&event, &args, connected)?;
            let ack = self.ack.unwrap_or(false) || self.ack_timeout_ms.is_some();
            if let Some(ms) = self.ack_timeout_ms
                && !(1..=MAX_ACK_TIMEOUT_MS).contains(&ms)
            {
                return Err(format!(
                    "ack_timeout_ms = {ms}: a lesson waits between 1 and {MAX_ACK_TIMEOUT_MS} ms"
                ));
            }
            if ack && effect.answers.is_none() && self.ack_timeout_ms.is_none() {
                return Err(format!(
                    "ack = true, but the handler for '{event}' never calls the callback \
                     (the client would wait for an answer that does not come; give it an \
                     ack_timeout_ms)"
                ));
            }
            delivers = effect.emit.is_some();
            StepKind::Emit {
                client,
                event,
                args,
                ack,
                ack_timeout_ms: self.ack_timeout_ms,
            }
        } else {
            let sends = self.burst.unwrap_or_default();
            if sends.len() < 2 {
                return Err("a burst needs at least two sends".into());
            }
            let event = self.event.unwrap_or_else(|| CHAT_EVENT.into());
            for (i, send) in sends.iter().enumerate() {
                known(&send.from, connected)?;
                if scope.effect_of(&event, &send.args, connected)?.emit.is_none() {
                    return Err(
                        "a burst observes what the server sends, and this handler sends nothing".into(),
                    );
                }
                if sends[..i].iter().any(|s| s.args == send.args) {
                    return Err("the messages of a burst must differ, so each can be told apart".into());
                }
            }
            delivers = true;
            StepKind::Burst {
                event,
                sends: sends.into_iter().map(|s| (s.from, s.args)).collect(),
            }
        };
        // A delivery step must say who should receive it: tests and `check` judge by it.
        match (delivers, self.expect_received_by.is_some()) {
            (true, false) => {
                return Err(format!(
                    "{} {kind_name} step that delivers an event needs expect_received_by",
                    if kind_name == "emit" { "an" } else { "a" }
                ));
            }
            (false, true) => return Err("expect_received_by on a step whose server sends nothing".into()),
            _ => {}
        }
        if let Some(names) = &self.expect_received_by {
            for name in names {
                known(name, connected)?;
            }
        }
        Ok(Step {
            kind,
            expect_received_by: self.expect_received_by,
            question: self.question,
            why: self.why,
        })
    }
}
