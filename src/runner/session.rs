//! The session: one stage's server and clients, from opening (its server started, or someone
//! else's found) through every step played to closing (every client gone, our server stopped).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::ending::{Ending, Windows};
use super::nodes::{self, Cluster, Ours};
use super::{BeforeStep, LEAVE_WITHIN, RunError, RunOptions, StepHook, Target, delivery};
use crate::client::{self, ConnectOptions, SimClient};
use crate::lesson::{Lesson, Stage, Step, StepKind};
use crate::server::{Mount, ServerEvent, StageServer};
use crate::trace::{Kind, StepRecord, WireLine};

/// A client with its lesson name.
pub(super) struct Named {
    pub(super) name: String,
    pub(super) client: SimClient,
    /// The server (node) it is connected to; 0 on a stage with one.
    pub(super) node: usize,
    /// The namespaces it has a socket on, the one its handshake joined first: one Engine.IO
    /// session carries them all, as socket.io-client's Manager multiplexes them.
    pub(super) sockets: Vec<String>,
}

/// One stage being played: its server (ours, or where someone else's is), its clients, and
/// what the step being played has seen so far.
pub(super) struct Session<'a> {
    pub(super) lesson: &'a Lesson,
    pub(super) stage: &'a Stage,
    pub(super) options: &'a RunOptions,
    /// How each step ends: against our own server(s), or someone else's.
    pub(super) ending: Ending,
    /// `http://127.0.0.1:PORT`, the address clients use.
    pub(super) base: String,
    /// Every server's address, for a stage with several (the first is `base`).
    pub(super) bases: Vec<String>,
    /// The server that handled the step being played: the one the fence leaves from.
    pub(super) acting_node: usize,
    /// Where Socket.IO is mounted.
    pub(super) path: String,
    pub(super) clients: Vec<Named>,
    /// Every client that has connected in this stage, in the order they first did, whether
    /// still connected or not.
    pub(super) joined: Vec<String>,
    pub(super) fences: u64,
    pub(super) bursts: u32,
    /// Events this stage judges; anything else a remote server sends is set aside.
    pub(super) relevant: BTreeSet<String>,
    /// For an app-only stage: the port clients knock on, held so nobody else can take it.
    pub(super) silent_port_held: Option<tokio::net::TcpSocket>,
    /// A second handle on our one server's listening socket, for a stage that restarts its
    /// server (lesson 6): the restarted server serves the very socket the first one did, so
    /// the port is never free for another program to take in between (see `delivery.rs`).
    pub(super) listening: Option<std::net::TcpListener>,
    /// What our server reported sending during the current step ([`ServerEvent::Sent`]), for
    /// the why-not of each client that did not receive it, and what came back to the emits
    /// that asked for answers ([`ServerEvent::Acked`]).
    pub(super) sent: Vec<ServerEvent>,
    /// The client whose action the current step settles (it connected or emitted), for the
    /// remote round-trip fences (`settle.rs`).
    pub(super) acting: Option<String>,
    /// The frames a probe read to tell its story, kept for `--wire`.
    pub(super) probe_wire: Option<(String, Vec<client::WireFrame>)>,
    /// Whether someone else's server has, so far, handled each connection's packets in order
    /// (see `settle.rs`): presumed, as Node does, until a step shows otherwise.
    pub(super) ordered: bool,
    /// The event relay fences travel by (`relay.rs`); `None` once the servers did not carry one.
    pub(super) relay: Option<String>,
    /// The stage's message database for this run, if it has one (see `delivery.rs`).
    pub(super) database: Option<crate::parts::store::Store>,
    /// Each client's `socket.auth`, kept across its reconnections (see `delivery.rs`).
    pub(super) auth: BTreeMap<String, Value>,
    /// Each client's queue of emits waiting for an acknowledgement (see `queue.rs`).
    pub(super) outboxes: BTreeMap<String, crate::client::outbox::Outbox>,
    /// The frames of a client whose connection ended during the step, kept for `--wire`.
    pub(super) departed_wire: Vec<WireLine>,
}

impl<'a> Session<'a> {
    pub(super) async fn open(
        lesson: &'a Lesson,
        stage: &'a Stage,
        target: &Target,
        options: &'a RunOptions,
    ) -> Result<Session<'a>, RunError> {
        let relevant: BTreeSet<String> = stage.events().into_iter().collect();
        let mut silent_port = None;
        let mut listening = None;
        let database = match target {
            Target::Local => delivery::open_database(stage)?,
            Target::Remote { .. } => None,
        };
        let (ending, base, path) = match target {
            Target::Local if !stage.nodes.is_empty() => {
                let cluster = Cluster::start(stage, options).await?;
                let base = cluster.urls()[0].clone();
                (
                    Ending::Fenced(Some(Ours::Nodes(cluster))),
                    base,
                    "/socket.io/".to_owned(),
                )
            }
            Target::Local => {
                let log = match &database {
                    Some(store) => Some(std::sync::Arc::new(
                        crate::parts::store::Store::open(store.path())
                            .map_err(|e| RunError::Other(e.to_string()))?,
                    ) as crate::server::handlers::delivery::Log),
                    None => None,
                };
                let (listener, kept) = keep_for_restart(stage, bind_for(stage).await?)?;
                listening = kept;
                let server = start_local(stage, listener, log)?;
                let base = match server.addr() {
                    Some(addr) => format!("http://{addr}"),
                    // Only the app exists: point the clients at a port where nothing listens.
                    None => {
                        let (socket, addr) = silent_port_on_loopback()?;
                        silent_port = Some(socket);
                        format!("http://{addr}")
                    }
                };
                (
                    Ending::Fenced(Some(Ours::One(server))),
                    base,
                    "/socket.io/".to_owned(),
                )
            }
            Target::Remote {
                url,
                path,
                expect_within,
                quiet,
                ..
            } => (
                Ending::Remote(Windows {
                    expect_within: *expect_within,
                    quiet: *quiet,
                }),
                url.trim_end_matches('/').to_owned(),
                path.clone(),
            ),
        };
        let bases = match (&ending, target) {
            (Ending::Fenced(Some(Ours::Nodes(cluster))), _) => cluster.urls(),
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
            ending,
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
            listening,
            sent: Vec::new(),
            acting: None,
            probe_wire: None,
            ordered: true,
            relay: super::relay::relay_event(stage),
            database,
            auth: BTreeMap::new(),
            outboxes: BTreeMap::new(),
            departed_wire: Vec::new(),
        })
    }

    /// Plays every step in order, appending each one's records to `records` as it ends, so that
    /// when a step fails (or the hook stops the stage) the steps before it are still there.
    pub(super) async fn play(
        &mut self,
        hook: &mut dyn StepHook,
        records: &mut Vec<StepRecord>,
    ) -> Result<(), RunError> {
        // A Redis that goes away mid-stage ends the step at once, with what it said last,
        // instead of a fence that never comes.
        let redis = self.our_server().and_then(Ours::redis);
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
            let after = run_hook(|| hook.after(&context, &produced));
            // The step ran to its end, so its records stay even when the hook stops the stage
            // here (`check` stops once a probe finds nothing to talk to).
            records.append(&mut produced);
            after?;
        }
        Ok(())
    }

    /// Plays one step.
    pub(super) async fn play_step(
        &mut self,
        number: u32,
        step: &'a Step,
    ) -> Result<Vec<StepRecord>, RunError> {
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
                namespace,
                auth,
                refused,
            } => {
                let joins = super::connect::Joins {
                    nsp: namespace,
                    auth: auth.as_ref(),
                    refusal_expected: refused.is_some(),
                };
                vec![
                    self.connect(number, client, *node, transports.as_deref(), joins)
                        .await?,
                ]
            }
            StepKind::Disconnect { client, drop } => vec![self.disconnect(number, client, *drop).await?],
            StepKind::Emit {
                client,
                namespace,
                event,
                args,
                ack,
                ack_timeout_ms,
            } => {
                let ack = ack.then_some(*ack_timeout_ms);
                vec![self.emit(number, client, namespace, event, args, ack).await?]
            }
            StepKind::Burst { event, sends } => self.burst(number, step, event, sends).await?,
            StepKind::RestartServer => vec![self.restart_server(number).await?],
            StepKind::Attempt(attempt) => self.attempt(number, attempt).await?.into_iter().collect(),
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
    pub(super) async fn close(&mut self) {
        let within = self.options.timeout.min(LEAVE_WITHIN);
        let leaving = self.clients.drain(..).map(|named| named.client.leave(within));
        futures_util::future::join_all(leaving).await;
        if let Some(server) = self.take_server() {
            // Bounded, like every wait: a stuck shutdown must not hang the lesson.
            let _ = tokio::time::timeout(self.options.timeout, server.stop()).await;
        }
    }

    /// How client `name` connects: where, how long it waits, and its handshake, if the stage
    /// gives it one.
    ///
    /// They connect over the options' transports: by default what `io()` does (long-polling
    /// first, then the upgrade), so the lessons show what a page's client does, and `check`
    /// reaches every server the official client reaches (one that allows only polling, say).
    /// What each client receives is the same over polling, the upgrade and WebSocket alone (the
    /// suite's `transports` tests play every lesson stage each way and compare). Only `--wire`
    /// differs from run to run over polling: socketioxide pings each new session at once, and
    /// where that ping and its pong (a POST) fall among the handshake's requests is timing.
    pub(super) fn options_for(&self, name: &str) -> ConnectOptions {
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
            ..ConnectOptions::default()
        }
    }

    pub(super) fn blank(&self, step: u32, kind: Kind, trigger: String) -> StepRecord {
        let mut record = StepRecord::new(self.lesson.number, self.stage.number, step, kind, trigger);
        // On a stage with several servers, the record names the one that handled the step.
        record.node = self.stage.node_name(self.acting_node).map(str::to_owned);
        record
    }

    /// What the server runs, as the record states it: known for our own server, which runs the
    /// stage's behaviour; unknown for someone else's, whose code we only see through what its
    /// clients receive. A trace states observations, so a remote record leaves it out.
    pub(super) fn ours<T>(&self, what: T) -> Option<T> {
        self.is_ours().then_some(what)
    }
}

/// Runs a hook that may block (a prompt) without stalling the runtime's other tasks.
fn run_hook(call: impl FnOnce() -> Result<(), RunError>) -> Result<(), RunError> {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(call),
        _ => call(),
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

/// For a stage with a server restart: `listener`, and a second handle on the same socket that
/// the session keeps (a duplicated descriptor). The server owns and drops its handle when it
/// stops; the socket stays open, bound and listening through the session's, and a connection
/// that arrives meanwhile waits in its backlog instead of being refused.
///
/// Binding the port again after the stop would be a race: between the old server letting go
/// and the new one binding, any program on the machine (a busy test run has many) can be given
/// that port, and the restart would fail with "address already in use".
fn keep_for_restart(
    stage: &Stage,
    listener: Option<tokio::net::TcpListener>,
) -> Result<(Option<tokio::net::TcpListener>, Option<std::net::TcpListener>), RunError> {
    let restarts = stage
        .steps
        .iter()
        .any(|step| matches!(step.kind, StepKind::RestartServer));
    let Some(listener) = listener else {
        return Ok((None, None));
    };
    if !restarts {
        return Ok((Some(listener), None));
    }
    let fail = |e: std::io::Error| RunError::Other(format!("cannot keep the listening socket: {e}"));
    // Out of tokio's hands, duplicated, and back: both handles are the one socket, already in
    // non-blocking mode (a flag the duplicate shares), as `from_std` requires.
    let listener = listener.into_std().map_err(fail)?;
    let kept = listener.try_clone().map_err(fail)?;
    let listener = tokio::net::TcpListener::from_std(listener).map_err(fail)?;
    Ok((Some(listener), Some(kept)))
}

/// Starts the server a stage asks for on `listener`, with its message database if it has one.
pub(super) fn start_local(
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Lesson 6 stage 3 restarts its server. While the first server's handle is gone and the
    /// second not yet made, the port must stay ours: nobody can bind it, and a client that
    /// knocks waits in the backlog and is accepted by the restarted server.
    #[tokio::test]
    async fn a_restarting_stage_keeps_its_port_while_no_server_holds_it() {
        let lessons = crate::lesson::all().expect("the embedded lessons load");
        let lesson = lessons.iter().find(|l| l.number == 6).expect("lesson 6");
        let stage = &lesson.stages[2];
        let bound = bind_for(stage).await.expect("a port on loopback");
        let (served, kept) = keep_for_restart(stage, bound).expect("a second handle");
        let served = served.expect("the stage listens");
        let kept = kept.expect("a restarting stage keeps a handle");
        let addr = served.local_addr().expect("an address");
        // The first server stops: its handle is dropped.
        drop(served);

        let taken = std::net::TcpListener::bind(addr);
        assert!(
            taken.is_err(),
            "another program could bind {addr} during the restart"
        );
        let knock = tokio::spawn(tokio::net::TcpStream::connect(addr));

        let again = tokio::net::TcpListener::from_std(kept.try_clone().expect("dup"))
            .expect("the kept socket serves again");
        let accepted = tokio::time::timeout(Duration::from_secs(2), again.accept()).await;
        assert!(
            matches!(accepted, Ok(Ok(_))),
            "the restarted server accepts the client that knocked: {accepted:?}"
        );
        assert!(knock.await.expect("joins").is_ok());
    }

    /// A stage without a restart keeps no second handle: its port goes when its server does.
    #[tokio::test]
    async fn a_stage_without_a_restart_keeps_no_second_handle() {
        let lessons = crate::lesson::all().expect("the embedded lessons load");
        let stage = &lessons[2].stages[0];
        let bound = bind_for(stage).await.expect("a port on loopback");
        let (served, kept) = keep_for_restart(stage, bound).expect("no error");
        assert!(served.is_some());
        assert!(kept.is_none());
    }
}
