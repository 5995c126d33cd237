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
//! This file holds the session (open, play each step, close); `deliver.rs` the steps that
//! connect, emit, disconnect and reconnect; `probe.rs` lesson 1's probes; and `settle.rs` the
//! end of a step, in its fenced and its remote form.

mod deliver;
mod delivery;
mod nodes;
mod probe;
mod queue;
mod round_trip;
mod settle;

pub use nodes::redis_hint;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::client::protocol::{EnginePacket, SocketPacket};
use crate::client::{self, ConnectError, ConnectOptions, SimClient, Transport};
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
    /// How the simulated clients connect, named as socket.io-client's `transports` option.
    /// WebSocket only by default: see [`Session::options_for`] for why. `check` passes what a
    /// page's `io()` does, polling then WebSocket, unless told otherwise.
    pub transports: Vec<Transport>,
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
            transports: vec![Transport::WebSocket],
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
    acting_node: usize,
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
    /// the why-not of each client that did not receive it, and what came back to the emits
    /// that asked for answers ([`ServerEvent::Acked`]).
    sent: Vec<ServerEvent>,
    /// The client whose action the current step settles (it connected or emitted), for the
    /// remote round-trip fences (`settle.rs`).
    acting: Option<String>,
    /// The frames a probe read to tell its story, kept for `--wire`.
    probe_wire: Option<(String, Vec<client::WireFrame>)>,
    /// Whether someone else's server has, so far, handled each connection's packets in order
    /// (see `settle.rs`): presumed, as Node does, until a step shows otherwise.
    ordered: bool,
    /// The stage's message database for this run, if it has one (see `delivery.rs`).
    database: Option<crate::parts::store::Store>,
    /// Each client's `socket.auth`, kept across its reconnections (see `delivery.rs`).
    auth: BTreeMap<String, Value>,
    /// Each client's queue of emits waiting for an acknowledgement (see `queue.rs`).
    outboxes: BTreeMap<String, crate::client::outbox::Outbox>,
    /// The frames of a client whose connection ended during the step, kept for `--wire`.
    departed_wire: Vec<WireLine>,
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
        let database = match target {
            Target::Local => delivery::open_database(stage)?,
            Target::Remote { .. } => None,
        };
        let (server, remote, base, path) = match target {
            Target::Local if !stage.nodes.is_empty() => {
                let cluster = Cluster::start(stage, options).await?;
                let base = cluster.urls()[0].clone();
                (Some(Ours::Nodes(cluster)), None, base, "/socket.io/".to_owned())
            }
            Target::Local => {
                let log = match &database {
                    Some(store) => Some(std::sync::Arc::new(
                        crate::parts::store::Store::open(store.path())
                            .map_err(|e| RunError::Other(e.to_string()))?,
                    ) as crate::server::handlers::delivery::Log),
                    None => None,
                };
                let server = start_local(stage, bind_for(stage).await?, log)?;
                let base = match server.addr() {
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
            acting_node: 0,
            path,
            clients: Vec::new(),
            joined: Vec::new(),
            fences: 0,
            bursts: 0,
            relevant,
            silent_port_held: silent_port,
            sent: Vec::new(),
            acting: None,
            probe_wire: None,
            ordered: true,
            database,
            auth: BTreeMap::new(),
            outboxes: BTreeMap::new(),
            departed_wire: Vec::new(),
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
            } => vec![self.connect(number, client, *node, transports.as_deref()).await?],
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
            StepKind::RestartServer => vec![self.restart_server(number).await?],
            StepKind::QueuedEmit {
                client,
                event,
                args,
                how,
            } => vec![self.queued_emit(number, client, event, args, *how).await?],
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

    /// How client `name` connects: where, how long it waits, and its handshake, if the stage
    /// gives it one.
    ///
    /// They connect over the options' transports. `check` asks for what `io()` does
    /// (long-polling first, then the upgrade), so a server the official client reaches (one
    /// that allows only polling, say) is reached here too. The lessons keep the default,
    /// WebSocket-only. What each client receives is the same over polling
    /// and the upgrade (the suite's `transports` tests play every lesson stage both ways and
    /// compare), but a polling client's requests interleave with its heartbeat at moments no
    /// ordering fixes, and the `--wire` listing is a snapshot that must not change between runs.
    fn options_for(&self, name: &str) -> ConnectOptions {
        let handshake = self.stage.clients.get(name).cloned().unwrap_or_default();
        let answers = handshake.answers();
        let transports = self.options.transports.clone();
        ConnectOptions {
            path: self.path.clone(),
            timeout: self.options.timeout,
            record_wire: self.options.wire,
            query: handshake.query.into_iter().collect(),
            auth: handshake.auth,
            transports,
            answers,
        }
    }

    fn blank(&self, step: u32, kind: Kind, trigger: String) -> StepRecord {
        let mut record = StepRecord::new(self.lesson.number, self.stage.number, step, kind, trigger);
        // On a stage with several servers, the record names the one that handled the step.
        record.node = self.stage.node_name(self.acting_node).map(str::to_owned);
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
            let event = match tokio::time::timeout(left, server.next_event()).await {
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
                | ServerEvent::Handshake { sid, .. }
                | ServerEvent::Handled { sid, .. }
                | ServerEvent::Rejected { sid, .. }
                | ServerEvent::Disconnected { sid }
                | ServerEvent::Sent { sid, .. }
                | ServerEvent::Acked { sid, .. } => sid,
            };
            if about == sid && matches!(event, ServerEvent::Sent { .. } | ServerEvent::Acked { .. }) {
                self.sent.push(event.clone());
            }
            if about == sid && wanted(&event) {
                return Ok(());
            }
        }
    }

    fn take_wire(&mut self) -> Vec<WireLine> {
        let mut lines = std::mem::take(&mut self.departed_wire);
        let probed = self.probe_wire.take();
        for named in &self.clients {
            let mut frames = match &probed {
                Some((who, frames)) if *who == named.name => frames.clone(),
                _ => Vec::new(),
            };
            frames.extend(named.client.take_wire());
            for frame in frames {
                // Only our own server sends fences; whatever someone else's server sends is
                // part of what is being checked, whatever its name.
                let plumbing = (self.server.is_some() && is_fence(&frame.text)) || is_round_trip(&frame.text);
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

/// Is this frame part of a round-trip fence (`round_trip.rs`): our CONNECT for a fence
/// namespace, the server's answer, or our leaving it? Those frames are the tutor's, whoever's
/// server answers them.
fn is_round_trip(frame: &str) -> bool {
    let Ok(EnginePacket::Message(inner)) = EnginePacket::decode(frame) else {
        return false;
    };
    let nsp = match SocketPacket::decode(&inner) {
        Ok(SocketPacket::Connect { nsp, .. })
        | Ok(SocketPacket::ConnectError { nsp, .. })
        | Ok(SocketPacket::Disconnect { nsp }) => nsp,
        _ => return false,
    };
    nsp.starts_with(client::connection::ROUND_TRIP_NAMESPACE)
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

/// The listener a stage's server needs, on 127.0.0.1 and a free port chosen by the system.
async fn bind_for(stage: &Stage) -> Result<Option<tokio::net::TcpListener>, RunError> {
    Ok(match stage.mount {
        Mount::AppOnly => None,
        _ => Some(
            tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| RunError::Other(format!("cannot listen on 127.0.0.1: {e}")))?,
        ),
    })
}

/// Starts the server a stage asks for on `listener`, with its message database if it has one.
fn start_local(
    stage: &Stage,
    listener: Option<tokio::net::TcpListener>,
    log: Option<crate::server::handlers::delivery::Log>,
) -> Result<StageServer, RunError> {
    StageServer::start_with_log(stage.mount, stage.behaviour.clone(), listener, log)
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

    #[test]
    fn round_trip_frames_are_recognised_by_their_namespace() {
        assert!(is_round_trip("40/tutor-fence-1,"));
        assert!(is_round_trip(
            r#"44/tutor-fence-1,{"message":"Invalid namespace"}"#
        ));
        assert!(!is_round_trip(r#"40{"sid":"x"}"#));
        assert!(!is_round_trip(r#"42["chat message","40/tutor-fence-1,"]"#));
    }
}
