//! Plays one stage: start its server, connect the clients, perform each step, and record what
//! every client observed.
//!
//! There are two ways to know that a step is over:
//!
//! * **Against our own server (fenced).** The server reports when each handler has finished
//!   ([`ServerEvent`]), and then sends every socket a numbered marker (a *fence*). A client that
//!   reads the marker has read everything sent to it before, so the step's deliveries are exactly
//!   what arrived ahead of the fence: no timer decides anything.
//! * **Against someone else's server (`check`).** There are no reports and no fences, so the
//!   runner waits, bounded, for the deliveries the lesson expects, then listens for a short quiet
//!   window for anything unexpected.
//!
//! This file holds the session (open, play each step, close) and the delivery steps;
//! `probe.rs` holds lesson 1's probes, and `settle.rs` the end of a step, in its fenced and its
//! remote form.

mod nodes;
mod probe;
mod settle;

pub use nodes::redis_hint;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::client::protocol::{EnginePacket, SocketPacket};
use crate::client::{self, ConnectError, ConnectOptions, SimClient};
use crate::lesson::{Lesson, Stage, Step, StepKind};
use crate::parts::redis::RedisError;
use crate::parts::redis_server::Redis;
use crate::server::{FENCE_EVENT, Mount, ServerEvent, StageServer};
use crate::trace::{Delivery, Kind, StageTrace, StepRecord, WireLine};
use nodes::{Cluster, Ours};

/// Why a stage could not be played to the end.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A bounded wait expired; the message says what was awaited from whom.
    #[error("timed out after {after:?} waiting for {what}")]
    Timeout { what: String, after: Duration },
    /// A client could not connect where the lesson needs it connected.
    #[error("{client} could not connect: {source}")]
    Connect { client: String, source: ConnectError },
    /// A stage needs Redis and there is none, or the one it used went away.
    #[error("{0}")]
    Redis(RedisError),
    /// The learner stopped the stage (predict mode's quit).
    #[error("stopped by the learner")]
    Stopped,
    /// Anything else, said plainly.
    #[error("{0}")]
    Other(String),
}

/// The most events one client may receive in one step from someone else's server (`check`).
/// A lesson step makes a server send one or two; past this, the step fails and says so, instead
/// of reading for as long as a flooding server keeps sending.
pub const MAX_EVENTS_PER_STEP: usize = 1000;

/// The bound on each client's goodbye at the end of a stage (see [`SimClient::leave`]). It takes
/// one round trip; a server that never answers the WebSocket Close costs at most this.
pub const LEAVE_WITHIN: Duration = Duration::from_millis(500);

/// How to play a stage.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Record raw frames for `--wire`.
    pub wire: bool,
    /// The bound on every single wait.
    pub timeout: Duration,
    /// A Redis the stages that need one share (the command line starts it once per run);
    /// without it, each such stage starts its own, or connects to `redis_url`.
    pub redis: Option<Arc<Redis>>,
    /// `--redis redis://host:port`: use this Redis instead of starting one.
    pub redis_url: Option<String>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            wire: false,
            timeout: Duration::from_secs(5),
            redis: None,
            redis_url: None,
        }
    }
}

/// Where the scenario is played.
#[derive(Debug, Clone)]
pub enum Target {
    /// Start the stage's own server on 127.0.0.1 and use fences.
    Local,
    /// Someone else's server at `url`, Socket.IO mounted at `path`; no fences. A stage with
    /// several servers finds the second and later ones at `more`.
    Remote {
        url: String,
        more: Vec<String>,
        path: String,
        /// The bound on waiting for an expected delivery.
        expect_within: Duration,
        /// How long to listen for unexpected deliveries once the expected ones are in.
        quiet: Duration,
    },
}

/// Plays `stage` of `lesson` against `target`.
pub async fn run_stage(
    lesson: &Lesson,
    stage: &Stage,
    target: &Target,
    options: &RunOptions,
) -> Result<StageTrace, RunError> {
    run_stage_with(lesson, stage, target, options, &mut NoHook).await
}

/// What a [`StepHook`] is told before a step runs.
#[derive(Debug)]
pub struct BeforeStep<'a> {
    /// The step about to run (1-based number and its lesson data).
    pub number: u32,
    pub step: &'a Step,
    /// The clients connected at this moment, in the order they joined.
    pub connected: Vec<String>,
}

/// Lets a caller act around each step while a stage plays, e.g. ask for a prediction before a
/// step and compare it with the records after. Both methods may block (the prompts of predict
/// mode do); they run on the runtime's worker thread via `block_in_place`.
pub trait StepHook {
    /// Called before a step runs. An error stops the stage (for example, the learner quit).
    fn before(&mut self, _step: &BeforeStep<'_>) -> Result<(), RunError> {
        Ok(())
    }
    /// Called with the records a step produced (several for a burst).
    fn after(&mut self, _step: &BeforeStep<'_>, _records: &[StepRecord]) -> Result<(), RunError> {
        Ok(())
    }
}

/// The hook that does nothing.
#[derive(Debug)]
pub struct NoHook;
impl StepHook for NoHook {}

/// Plays `stage` of `lesson` against `target`, calling `hook` around every step.
pub async fn run_stage_with(
    lesson: &Lesson,
    stage: &Stage,
    target: &Target,
    options: &RunOptions,
    hook: &mut dyn StepHook,
) -> Result<StageTrace, RunError> {
    let mut session = Session::open(lesson, stage, target, options).await?;
    let outcome = session.play(hook).await;
    let clients = session.joined.clone();
    session.close().await;
    let steps = outcome?;
    Ok(StageTrace {
        lesson: lesson.number,
        stage: stage.number,
        title: stage.title.clone(),
        clients,
        steps,
    })
}

/// A client with its lesson name.
struct Named {
    name: String,
    client: SimClient,
    /// The server (node) it is connected to; 0 on a stage with one.
    node: usize,
}

struct Session<'a> {
    lesson: &'a Lesson,
    stage: &'a Stage,
    options: &'a RunOptions,
    /// Our own server(s), when the target is local.
    server: Option<Ours>,
    /// Remote settings, when the target is someone else's server.
    remote: Option<(Duration, Duration)>,
    /// `http://127.0.0.1:PORT`, the address clients use.
    base: String,
    /// Every server's address, for a stage with several (the first is `base`).
    bases: Vec<String>,
    /// The server that handled the step being played: the one the fence leaves from.
    acting: usize,
    /// Where Socket.IO is mounted.
    path: String,
    clients: Vec<Named>,
    /// Every client that has connected in this stage, in the order they first did, whether
    /// still connected or not.
    joined: Vec<String>,
    fences: u64,
    bursts: u32,
    /// Events this stage judges; anything else a remote server sends is set aside.
    relevant: BTreeSet<String>,
    /// For an app-only stage: the port clients knock on, held so nobody else can take it.
    silent_port_held: Option<tokio::net::TcpSocket>,
    /// What our server reported sending during the current step ([`ServerEvent::Sent`]), for
    /// the why-not of each client that did not receive it.
    sent: Vec<ServerEvent>,
}

impl<'a> Session<'a> {
    async fn open(
        lesson: &'a Lesson,
        stage: &'a Stage,
        target: &Target,
        options: &'a RunOptions,
    ) -> Result<Session<'a>, RunError> {
        let relevant: BTreeSet<String> = stage.events().into_iter().collect();
        let mut silent_port = None;
        let (server, remote, base, path) = match target {
            Target::Local if !stage.nodes.is_empty() => {
                let cluster = Cluster::start(stage, options).await?;
                let base = cluster.urls()[0].clone();
                (Some(Ours::Nodes(cluster)), None, base, "/socket.io/".to_owned())
            }
            Target::Local => {
                let server = start_local(stage).await?;
                let base = match server.addr {
                    Some(addr) => format!("http://{addr}"),
                    // Only the app exists: point the clients at a port where nothing listens.
                    None => {
                        let (socket, addr) = silent_port_on_loopback()?;
                        silent_port = Some(socket);
                        format!("http://{addr}")
                    }
                };
                (Some(Ours::One(server)), None, base, "/socket.io/".to_owned())
            }
            Target::Remote {
                url,
                path,
                expect_within,
                quiet,
                ..
            } => (
                None,
                Some((*expect_within, *quiet)),
                url.trim_end_matches('/').to_owned(),
                path.clone(),
            ),
        };
        let bases = match (&server, target) {
            (Some(Ours::Nodes(cluster)), _) => cluster.urls(),
            (_, Target::Remote { more, .. }) => std::iter::once(base.clone())
                .chain(more.iter().map(|u| u.trim_end_matches('/').to_owned()))
                .collect(),
            _ => vec![base.clone()],
        };
        if !stage.nodes.is_empty() && bases.len() != stage.nodes.len() {
            return Err(RunError::Other(format!(
                "this stage runs {} servers ({}), so it needs one address for each, not {}",
                stage.nodes.len(),
                stage.nodes.join(", "),
                bases.len()
            )));
        }
        Ok(Session {
            lesson,
            stage,
            options,
            server,
            remote,
            base,
            bases,
            acting: 0,
            path,
            clients: Vec::new(),
            joined: Vec::new(),
            fences: 0,
            bursts: 0,
            relevant,
            silent_port_held: silent_port,
            sent: Vec::new(),
        })
    }

    async fn play(&mut self, hook: &mut dyn StepHook) -> Result<Vec<StepRecord>, RunError> {
        let mut records = Vec::new();
        // A Redis that goes away mid-stage ends the step at once, with what it said last,
        // instead of a fence that never comes.
        let redis = self.server.as_ref().and_then(Ours::redis);
        for (index, step) in self.stage.steps.iter().enumerate() {
            let number = index as u32 + 1;
            let context = BeforeStep {
                number,
                step,
                connected: self.clients.iter().map(|c| c.name.clone()).collect(),
            };
            run_hook(|| hook.before(&context))?;
            self.sent.clear();
            let played = match &redis {
                Some(redis) => tokio::select! {
                    played = self.play_step(number, step) => played,
                    gone = redis.gone() => Err(RunError::Redis(gone)),
                },
                None => self.play_step(number, step).await,
            };
            let mut produced = match (played, &redis) {
                (Err(error), Some(redis)) => Err(nodes::blame_redis(error, redis).await),
                (played, _) => played,
            }?;
            if self.options.wire
                && let Some(last) = produced.last_mut()
            {
                last.wire = Some(self.take_wire());
            }
            run_hook(|| hook.after(&context, &produced))?;
            records.append(&mut produced);
        }
        Ok(records)
    }

    /// Plays one step.
    async fn play_step(&mut self, number: u32, step: &'a Step) -> Result<Vec<StepRecord>, RunError> {
        Ok(match &step.kind {
            StepKind::Probe {
                probe,
                path,
                client,
                node,
                poll_on,
                ..
            } => {
                let nodes = (*node, *poll_on);
                vec![self.probe(number, *probe, path, client.as_deref(), nodes).await?]
            }
            StepKind::Connect {
                client,
                node,
                transports,
            } => vec![self.connect(number, client, *node, transports).await?],
            StepKind::Disconnect { client, drop } => vec![self.disconnect(number, client, *drop).await?],
            StepKind::Emit {
                client,
                event,
                args,
                ack,
                ack_timeout_ms,
            } => {
                let ack = ack.then_some(*ack_timeout_ms);
                vec![self.emit(number, client, event, args, ack).await?]
            }
            StepKind::Burst { event, sends } => self.burst(number, step, event, sends).await?,
        })
    }

    /// Every client leaves politely (all at once, each bounded), then our server stops. The
    /// server under test sees sockets that left, as a browser's `socket.disconnect()` leaves,
    /// rather than connections that broke. A goodbye that times out changes nothing in the
    /// trace, which is complete by now.
    async fn close(&mut self) {
        let within = self.options.timeout.min(LEAVE_WITHIN);
        let leaving = self.clients.drain(..).map(|named| named.client.leave(within));
        futures_util::future::join_all(leaving).await;
        if let Some(server) = self.server.take() {
            // Bounded, like every wait: a stuck shutdown must not hang the lesson.
            let _ = tokio::time::timeout(self.options.timeout, server.stop()).await;
        }
    }

    fn options_for_clients(&self) -> ConnectOptions {
        ConnectOptions {
            path: self.path.clone(),
            timeout: self.options.timeout,
            record_wire: self.options.wire,
            ..ConnectOptions::websocket_only()
        }
    }

    fn blank(&self, step: u32, kind: Kind, trigger: String) -> StepRecord {
        let mut record = StepRecord::new(self.lesson.number, self.stage.number, step, kind, trigger);
        // On a stage with several servers, the record names the one that handled the step.
        record.node = self.stage.node_name(self.acting).map(str::to_owned);
        record
    }

    /// What the server runs, as the record states it: known for our own server, which runs the
    /// stage's behaviour; unknown for someone else's, whose code we only see through what its
    /// clients receive. A trace states observations, so a remote record leaves it out.
    fn ours<T>(&self, what: T) -> Option<T> {
        self.server.is_some().then_some(what)
    }

    /// Replaces the real port by `<port>`, so traces are identical from run to run.
    fn mask(&self, text: &str) -> String {
        if self.bases.len() > 1 {
            // Several servers: each port becomes its server's name, `<port A>`.
            return self
                .bases
                .iter()
                .enumerate()
                .fold(
                    text.to_owned(),
                    |text, (i, base)| match client::connection::authority(base).rsplit_once(':') {
                        Some((host, port)) if self.remote.is_none() => text.replace(
                            &format!("{host}:{port}"),
                            &format!("{host}:<port {}>", self.node_name(i)),
                        ),
                        _ => text,
                    },
                );
        }
        match client::connection::authority(&self.base).rsplit_once(':') {
            Some((host, port)) if self.remote.is_none() => {
                text.replace(&format!("{host}:{port}"), &format!("{host}:<port>"))
            }
            _ => text.to_owned(),
        }
    }

    // ---- deliveries ----

    async fn connect(
        &mut self,
        number: u32,
        name: &str,
        node: usize,
        transports: &[client::link::Transport],
    ) -> Result<StepRecord, RunError> {
        self.acting = node;
        let options = ConnectOptions {
            transports: transports.to_vec(),
            ..self.options_for_clients()
        };
        let connected = SimClient::connect(&self.bases[node], &options)
            .await
            .map_err(|source| RunError::Connect {
                client: name.to_owned(),
                source,
            })?;
        if self.server.is_some() {
            let sid = connected.sid.clone();
            self.await_server(&sid, name, |e| matches!(e, ServerEvent::Connected { .. }))
                .await?;
        }
        self.clients.push(Named {
            name: name.to_owned(),
            client: connected,
            node,
        });
        let again = self.joined.iter().any(|j| j == name);
        if !again {
            self.joined.push(name.to_owned());
        }
        let mut trigger = if again {
            format!("{name} reconnects")
        } else {
            format!("{name} connects")
        };
        if let Some(server) = self.stage.node_name(node) {
            trigger.push_str(&format!(" to server {server}"));
        }
        if transports != [client::link::Transport::WebSocket] {
            let names: Vec<&str> = transports.iter().map(|t| t.name()).collect();
            trigger.push_str(&format!(" (transports: {})", names.join(", ")));
        }
        let mut step = self.blank(number, Kind::Connect, trigger);
        step.sender = Some(name.to_owned());
        let expected = self.expected_receivers(number);
        if let Some(effect) = self.stage.behaviour.on_connection() {
            step.action = self.ours(effect.js.to_owned());
            if let Some(emit) = effect.emit {
                step.event = Some(emit.event);
                step.args = emit.args;
                step.audience = self.ours(emit.to);
            }
        }
        let (received, ignored) = self.settle(&[(step.event.clone(), expected)]).await?;
        self.fill_receivers(&mut step, received, ignored);
        Ok(step)
    }

    /// A client goes away, politely or by dropping its connection, and (against our server) the
    /// tutor waits until the server has seen the socket go: its disconnect handler reports it.
    async fn disconnect(&mut self, number: u32, name: &str, drop: bool) -> Result<StepRecord, RunError> {
        let index = self
            .clients
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| RunError::Other(format!("{name} is not connected")))?;
        let named = self.clients.remove(index);
        self.acting = named.node;
        let sid = named.client.sid.clone();
        let trigger = if drop {
            // Dropping the client aborts its tasks: the TCP connection closes with no goodbye,
            // as when a laptop's lid shuts or its network goes.
            std::mem::drop(named);
            format!("{name}'s connection drops")
        } else {
            // A goodbye that times out still closes the client; the server's report decides.
            let _ = named.client.leave(self.options.timeout.min(LEAVE_WITHIN)).await;
            format!("{name} disconnects (socket.disconnect())")
        };
        if self.server.is_some() {
            self.await_server(&sid, name, |e| matches!(e, ServerEvent::Disconnected { .. }))
                .await?;
        }
        let mut step = self.blank(number, Kind::Disconnect, trigger);
        step.sender = Some(name.to_owned());
        let (received, ignored) = self.settle(&[(None, Vec::new())]).await?;
        self.fill_receivers(&mut step, received, ignored);
        Ok(step)
    }

    async fn emit(
        &mut self,
        number: u32,
        name: &str,
        event: &str,
        args: &[Value],
        ack: Option<Option<u64>>,
    ) -> Result<StepRecord, RunError> {
        let answer = self.send(name, event, args, ack.is_some()).await?;
        let mut step = self.blank(number, Kind::Emit, format!("{name} emits '{event}'"));
        step.sender = Some(name.to_owned());
        self.describe_emit(&mut step, event, args);
        let expected = self.expected_receivers(number);
        let (received, ignored) = self.settle(&[(step.event.clone(), expected)]).await?;
        if let Some(answer) = answer {
            let within = ack.flatten();
            let got = self.await_ack(name, answer, within).await?;
            step.acks.insert(name.to_owned(), got);
        }
        self.fill_receivers(&mut step, received, ignored);
        Ok(step)
    }

    /// States what the stage's server does for `event` with `args`, as its handler declares it
    /// (only for our own server, see [`Session::ours`]): the action, and the event it emits and
    /// to whom. Against someone else's server, the event judged is the one the client sent, as
    /// the lessons echo it. When the server's emit differs from the client's (another event, or
    /// other arguments), the client's is kept in `client_emit`.
    fn describe_emit(&self, step: &mut StepRecord, event: &str, args: &[Value]) {
        let sent = Delivery {
            event: event.to_owned(),
            args: args.to_vec(),
        };
        let effect = self
            .stage
            .effect(&crate::vocab::Trigger::Event(event.to_owned()), args);
        let Some(effect) = effect else {
            step.event = Some(sent.event);
            step.args = sent.args;
            return;
        };
        step.action = self.ours(effect.js.to_owned());
        match effect.emit {
            Some(emit) => {
                let echo = Delivery {
                    event: emit.event,
                    args: emit.args,
                };
                step.audience = self.ours(emit.to);
                if echo != sent {
                    step.client_emit = Some(sent);
                }
                step.event = Some(echo.event);
                step.args = echo.args;
            }
            None => step.client_emit = Some(sent),
        }
    }

    /// Waits for the answer to `name`'s acknowledgement callback: for `within` milliseconds when
    /// the step gives the client a timeout (`socket.timeout(ms).emit`), which is then a result
    /// the lesson shows, or else for the bound on every wait, which is then an error.
    ///
    /// The ACK packet is queued before the handler reports that it has finished, so against our
    /// own server it has arrived by the time the fence has: no timer decides an answered ack.
    async fn await_ack(
        &mut self,
        name: &str,
        answer: tokio::sync::oneshot::Receiver<Vec<Value>>,
        within: Option<u64>,
    ) -> Result<crate::trace::Ack, RunError> {
        let after = within.map_or(self.options.timeout, Duration::from_millis);
        match tokio::time::timeout(after, answer).await {
            Ok(Ok(args)) => Ok(crate::trace::Ack::Answered(args)),
            Ok(Err(_)) => Err(RunError::Other(format!(
                "{name}'s connection closed before the answer came"
            ))),
            Err(_) => match within {
                Some(after_ms) => Ok(crate::trace::Ack::TimedOut { after_ms }),
                None => Err(RunError::Timeout {
                    what: format!(
                        "the answer to {name}'s acknowledgement callback (does the server's handler \
                         call its callback?)"
                    ),
                    after,
                }),
            },
        }
    }

    /// Several messages sent back to back, observed together: every client's inbox shows the
    /// order in which the server handled them.
    async fn burst(
        &mut self,
        number: u32,
        step: &Step,
        event: &str,
        sends: &[(String, Vec<Value>)],
    ) -> Result<Vec<StepRecord>, RunError> {
        self.bursts += 1;
        let expected = step.expect_received_by.clone().unwrap_or_default();
        let mut received = BTreeMap::new();
        let mut ignored = BTreeMap::new();
        for (i, (name, args)) in sends.iter().enumerate() {
            self.send(name, event, args, false).await?;
            if self.remote.is_some() || i + 1 == sends.len() {
                // Locally the server's reports already fix the order, and one fence at the end
                // suffices. Remotely, waiting for each message keeps the server's order the
                // order we sent in.
                let (got, skipped) = self.settle(&[(Some(event.to_owned()), expected.clone())]).await?;
                merge(&mut received, got);
                merge(&mut ignored, skipped);
            }
        }
        let mut records = Vec::new();
        for (i, (name, args)) in sends.iter().enumerate() {
            let mut record = self.blank(number, Kind::Emit, format!("{name} emits '{event}'"));
            record.sender = Some(name.clone());
            record.burst = Some(self.bursts);
            self.describe_emit(&mut record, event, args);
            let this = Delivery {
                event: record.event.clone().unwrap_or_default(),
                args: record.args.clone(),
            };
            let mut mine = BTreeMap::new();
            for (client, inbox) in &received {
                let got: Vec<Delivery> = inbox.iter().filter(|d| **d == this).cloned().collect();
                if let Some(position) = inbox.iter().position(|d| *d == this) {
                    record.arrival.insert(client.clone(), position + 1);
                }
                mine.insert(client.clone(), got);
            }
            let skipped = if i == 0 {
                std::mem::take(&mut ignored)
            } else {
                BTreeMap::new()
            };
            self.fill_receivers(&mut record, mine, skipped);
            records.push(record);
        }
        Ok(records)
    }

    /// Emits from a client (with an acknowledgement callback when `ack`, whose answer is
    /// returned to wait on) and, against our server, waits until the handler has finished.
    async fn send(
        &mut self,
        name: &str,
        event: &str,
        args: &[Value],
        ack: bool,
    ) -> Result<Option<tokio::sync::oneshot::Receiver<Vec<Value>>>, RunError> {
        let args = self.with_ids(args);
        let named = self
            .clients
            .iter_mut()
            .find(|c| c.name == name)
            .ok_or_else(|| RunError::Other(format!("{name} is not connected")))?;
        self.acting = named.node;
        let failed = |e| RunError::Other(format!("{name}: {e}"));
        let answer = if ack {
            Some(named.client.emit_with_ack(event, args).map_err(failed)?)
        } else {
            named.client.emit(event, args).map_err(failed)?;
            None
        };
        let sid = named.client.sid.clone();
        if self.server.is_some() {
            let wanted = event.to_owned();
            self.await_server(&sid, name, move |e| match e {
                ServerEvent::Handled { event, .. } | ServerEvent::Rejected { event, .. } => *event == wanted,
                _ => false,
            })
            .await?;
        }
        Ok(answer)
    }

    /// The arguments as sent on the wire: `"<bob.id>"` becomes bob's socket id (see
    /// [`crate::lesson::own_room`]).
    fn with_ids(&self, args: &[Value]) -> Vec<Value> {
        let names: Vec<String> = self.clients.iter().map(|c| c.name.clone()).collect();
        args.iter()
            .map(|arg| match arg {
                Value::String(text) => match crate::lesson::own_room(text, &names) {
                    Some(name) => {
                        let sid = self
                            .clients
                            .iter()
                            .find(|c| c.name == name)
                            .map(|c| c.client.sid.clone());
                        Value::String(sid.unwrap_or_else(|| text.clone()))
                    }
                    None => arg.clone(),
                },
                _ => arg.clone(),
            })
            .collect()
    }

    /// Writes every client's socket id as `<name.id>`, so traces do not depend on the random
    /// ids a run gets.
    fn mask_ids(&self, text: &str) -> String {
        self.clients.iter().fold(text.to_owned(), |text, c| {
            text.replace(&c.client.sid, &format!("<{}.id>", c.name))
        })
    }

    fn expected_receivers(&self, number: u32) -> Vec<String> {
        self.stage.steps[number as usize - 1]
            .expect_received_by
            .clone()
            .unwrap_or_default()
    }

    /// Sorts what each client received into `received_by` / `not_received_by`.
    fn fill_receivers(
        &self,
        step: &mut StepRecord,
        received: BTreeMap<String, Vec<Delivery>>,
        ignored: BTreeMap<String, Vec<Delivery>>,
    ) {
        for named in &self.clients {
            let inbox = received.get(&named.name).cloned().unwrap_or_default();
            let got = step
                .event
                .as_ref()
                .is_some_and(|ev| inbox.iter().any(|d| d.event == *ev));
            if step.event.is_some() {
                if got {
                    &mut step.received_by
                } else {
                    &mut step.not_received_by
                }
                .push(named.name.clone());
            }
            step.received.insert(named.name.clone(), inbox);
        }
        step.received_by.sort();
        step.not_received_by.sort();
        step.ignored = ignored.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        // Why each non-receiver did not receive: the server's own account, from the table it
        // read at emit time (see `server::live`), for the emit this record describes.
        for sent in &self.sent {
            let ServerEvent::Sent {
                event,
                args,
                recipients,
                ..
            } = sent
            else {
                continue;
            };
            if Some(event) != step.event.as_ref() || *args != step.args {
                continue;
            }
            for (sid, why) in &recipients.why_not {
                let Some(named) = self.clients.iter().find(|c| c.client.sid == *sid) else {
                    continue;
                };
                if step.not_received_by.contains(&named.name) {
                    step.why_not
                        .insert(named.name.clone(), self.mask_ids(&why.to_string()));
                }
            }
            // A client on another server is in none of the emitting server's tables: the server
            // that holds it says why (see `nodes::Cluster::why_not_elsewhere`).
            let ServerEvent::Sent { audience, .. } = sent else {
                continue;
            };
            if let Some(Ours::Nodes(cluster)) = &self.server {
                for named in &self.clients {
                    if !step.not_received_by.contains(&named.name) || step.why_not.contains_key(&named.name) {
                        continue;
                    }
                    if let Some(why) = cluster.why_not_elsewhere(&named.client.sid, self.acting, audience) {
                        step.why_not
                            .insert(named.name.clone(), self.mask_ids(&why.to_string()));
                    }
                }
            }
        }
    }

    /// Waits for the server's report about socket `sid` that matches `wanted`.
    async fn await_server(
        &mut self,
        sid: &str,
        name: &str,
        wanted: impl Fn(&ServerEvent) -> bool,
    ) -> Result<(), RunError> {
        let after = self.options.timeout;
        let Some(server) = self.server.as_mut() else {
            return Ok(());
        };
        let deadline = Instant::now() + after;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = match tokio::time::timeout(left, server.events().recv()).await {
                Ok(Some(event)) => event,
                Ok(None) => return Err(RunError::Other("the server stopped reporting".into())),
                Err(_) => {
                    return Err(RunError::Timeout {
                        what: format!("the server to finish its handler for {name}"),
                        after,
                    });
                }
            };
            let about = match &event {
                ServerEvent::Connected { sid }
                | ServerEvent::Handled { sid, .. }
                | ServerEvent::Rejected { sid, .. }
                | ServerEvent::Disconnected { sid }
                | ServerEvent::Sent { sid, .. } => sid,
            };
            if about == sid && matches!(event, ServerEvent::Sent { .. }) {
                self.sent.push(event.clone());
            }
            if about == sid && wanted(&event) {
                return Ok(());
            }
        }
    }

    fn take_wire(&self) -> Vec<WireLine> {
        let mut lines = Vec::new();
        for named in &self.clients {
            for frame in named.client.take_wire() {
                // Only our own server sends fences; whatever someone else's server sends is
                // part of what is being checked, whatever its name.
                let plumbing = self.server.is_some() && is_fence(&frame.text);
                lines.push(WireLine {
                    client: named.name.clone(),
                    direction: frame.direction,
                    frame: frame.text,
                    plumbing,
                });
            }
        }
        lines
    }
}

/// Is this WebSocket frame one of the tutor's fences? The frame is decoded with the codec, as the
/// client decodes it, rather than searched for the marker's name: a chat message whose text
/// mentions `tutor:fence` is still a chat message, and must not be labelled plumbing.
fn is_fence(frame: &str) -> bool {
    let Ok(EnginePacket::Message(inner)) = EnginePacket::decode(frame) else {
        return false;
    };
    matches!(SocketPacket::decode(&inner), Ok(SocketPacket::Event { name, .. }) if name == FENCE_EVENT)
}

/// Runs a hook that may block (a prompt) without stalling the runtime's other tasks.
fn run_hook(call: impl FnOnce() -> Result<(), RunError>) -> Result<(), RunError> {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(call),
        _ => call(),
    }
}

type Inboxes = BTreeMap<String, Vec<Delivery>>;

fn sort_in(
    relevant: &BTreeSet<String>,
    received: &mut Inboxes,
    ignored: &mut Inboxes,
    who: &str,
    event: String,
    args: Vec<Value>,
) {
    let target = if relevant.contains(&event) {
        received
    } else {
        ignored
    };
    target
        .entry(who.to_owned())
        .or_default()
        .push(Delivery { event, args });
}

fn merge(into: &mut Inboxes, from: Inboxes) {
    for (who, mut items) in from {
        into.entry(who).or_default().append(&mut items);
    }
}

/// Starts the server a stage asks for, on 127.0.0.1 and a free port chosen by the system.
async fn start_local(stage: &Stage) -> Result<StageServer, RunError> {
    let listener = match stage.mount {
        Mount::AppOnly => None,
        _ => Some(
            tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| RunError::Other(format!("cannot listen on 127.0.0.1: {e}")))?,
        ),
    };
    StageServer::start(stage.mount, stage.behaviour.clone(), listener)
        .map_err(|e| RunError::Other(format!("cannot start the stage server: {e}")))
}

/// A port on 127.0.0.1 that is ours but has no listener: the socket is bound (so no other
/// program can take the port while the stage runs) and never told to `listen`, so the operating
/// system refuses every connection to it, exactly as for a program that never opened a port.
fn silent_port_on_loopback() -> Result<(tokio::net::TcpSocket, std::net::SocketAddr), RunError> {
    let fail = |e: std::io::Error| RunError::Other(format!("cannot reserve a port on 127.0.0.1: {e}"));
    let socket = tokio::net::TcpSocket::new_v4().map_err(fail)?;
    socket.bind(([127, 0, 0, 1], 0).into()).map_err(fail)?;
    let addr = socket.local_addr().map_err(fail)?;
    Ok((socket, addr))
}

/// Shortens text to one line of at most `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        format!("{}…", flat.chars().take(max).collect::<String>())
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fence_is_recognised_by_its_event_name_not_by_its_text() {
        assert!(is_fence(r#"42["tutor:fence",3]"#));
        // The text of a chat message may mention the marker; it is still a chat message.
        assert!(!is_fence(r#"42["chat message","tutor:fence"]"#));
        assert!(!is_fence(r#"42["chat message","42[\"tutor:fence\",1]"]"#));
        // Other packets that carry the text somewhere are not fences either.
        assert!(!is_fence(r#"431["tutor:fence"]"#));
        assert!(!is_fence("2tutor:fence"));
        assert!(!is_fence(
            r#"0{"sid":"tutor:fence","pingInterval":1,"pingTimeout":1}"#
        ));
        assert!(!is_fence("not a frame tutor:fence"));
    }
}
