//! Stages with several servers (lesson 7): starting them (and the Redis that joins them), the
//! fence that takes an emit's own road, the why-not of a client on another server, and the
//! polling session polled on the wrong server.
//!
//! The servers themselves are [`crate::server::nodes`]; why the fences are sound is explained
//! there. This file only drives them: one [`Cluster`] per stage, whose nodes all report through
//! one channel (socket ids are unique across nodes, so the runner's waits need no node name).
//!
//! # A witness on every node
//!
//! Through the adapter, a node applies another node's broadcasts when they come out of Redis,
//! a moment after the emitting node returned. A fence read by every *client* proves the step's
//! deliveries reached the clients; it does not prove that a node without clients has applied
//! them yet. Such a node could apply a late broadcast (the fence included) to a client that
//! connects in the next step, and that client would receive a packet of the step before. So
//! each node of a Redis stage holds one more client of the tutor's, a *witness*, connected
//! before the first step; a step is over when every client and every witness has read its
//! fence. The witness is plumbing like the fences: it is in no trace.

use std::collections::BTreeSet;
use std::sync::Arc;

use socketioxide::adapter::{Adapter, LocalAdapter};
use tokio::sync::mpsc;

use super::{RunError, RunOptions, Session};
use crate::client::http::HttpError;
use crate::client::{ConnectOptions, Incoming, SimClient};
use crate::lesson::{AdapterKind, ProbeKind, Stage};
use crate::parts::node::Node;
use crate::parts::redis::RedisError;
use crate::parts::redis_server::Redis;
use crate::parts::sticky;
use crate::server::FENCE_EVENT;
use crate::server::nodes::{self, RedisNode, StartError};
use crate::server::observe::live;
use crate::server::{Reporter, ServerEvent, StageServer};
use crate::trace::{ProbeOutcome, ProbeRecord};
use crate::vocab::{Audience, WhyNot};

/// Our own server(s) for a stage: the one-server stages' [`StageServer`], or several nodes.
pub(super) enum Ours {
    One(StageServer),
    Nodes(Cluster),
}

impl Ours {
    /// The next report of any handler, in the order they were sent; `None` once every server
    /// is gone.
    pub(super) async fn next_event(&mut self) -> Option<ServerEvent> {
        match self {
            Ours::One(server) => server.next_event().await,
            Ours::Nodes(cluster) => cluster.events.recv().await,
        }
    }

    /// Fences the step that node `acting` handled (see [`crate::server::nodes`]).
    pub(super) async fn fence(&self, n: u64, acting: usize) -> Result<(), String> {
        match self {
            Ours::One(server) => server.fence(n).await,
            Ours::Nodes(cluster) if cluster.adapter == AdapterKind::Redis => {
                cluster.nodes[acting].fence(n).await
            }
            Ours::Nodes(cluster) => {
                for node in &cluster.nodes {
                    node.fence(n).await?;
                }
                Ok(())
            }
        }
    }

    pub(super) async fn stop(self) {
        match self {
            Ours::One(server) => server.stop().await,
            Ours::Nodes(cluster) => {
                for witness in cluster.witnesses {
                    let _ = witness.leave(super::LEAVE_WITHIN).await;
                }
                for node in cluster.nodes {
                    node.stop().await;
                }
                // The Redis (if the stage started its own) is dropped last: killed and waited.
            }
        }
    }

    /// The Redis a stage uses, to watch for it going away.
    pub(super) fn redis(&self) -> Option<Arc<Redis>> {
        match self {
            Ours::Nodes(cluster) => cluster.redis.clone(),
            Ours::One(_) => None,
        }
    }
}

/// One node, on whichever adapter its stage asks for.
enum AnyNode {
    Lone(Node<LocalAdapter>),
    Redis(RedisNode),
}

impl AnyNode {
    fn url(&self) -> String {
        match self {
            AnyNode::Lone(node) => node.url(),
            AnyNode::Redis(node) => node.url(),
        }
    }

    async fn fence(&self, n: u64) -> Result<(), String> {
        match self {
            AnyNode::Lone(node) => nodes::fence(&node.io, n).await,
            AnyNode::Redis(node) => nodes::fence(&node.io, n).await,
        }
    }

    /// The socket ids in this node's own table.
    fn sids(&self) -> BTreeSet<String> {
        fn of<A: Adapter>(node: &Node<A>) -> BTreeSet<String> {
            node.io
                .of("/")
                .map(|ns| ns.sockets().iter().map(|s| s.id.to_string()).collect())
                .unwrap_or_default()
        }
        match self {
            AnyNode::Lone(node) => of(node),
            AnyNode::Redis(node) => of(node),
        }
    }

    fn why_not_here(&self, sid: &str, audience: &Audience) -> Option<WhyNot> {
        match self {
            AnyNode::Lone(node) => live::why_not_here(&node.io, sid, audience),
            AnyNode::Redis(node) => live::why_not_here(&node.io, sid, audience),
        }
    }

    async fn stop(self) {
        match self {
            AnyNode::Lone(node) => node.stop().await,
            AnyNode::Redis(node) => node.stop().await,
        }
    }
}

/// The nodes of one stage, and the Redis that joins them.
pub(super) struct Cluster {
    names: Vec<String>,
    nodes: Vec<AnyNode>,
    adapter: AdapterKind,
    events: mpsc::UnboundedReceiver<ServerEvent>,
    redis: Option<Arc<Redis>>,
    /// One tutor client per node on a Redis stage (see the module documentation).
    witnesses: Vec<SimClient>,
}

impl Cluster {
    /// Starts the stage's nodes, and first the Redis they need: the one the caller shares
    /// ([`RunOptions::redis`]), the one `--redis` names, or a private one for this stage.
    pub(super) async fn start(stage: &Stage, options: &RunOptions) -> Result<Self, RunError> {
        let (report, events) = Reporter::new();
        let redis = match stage.adapter {
            AdapterKind::None => None,
            AdapterKind::Redis => Some(match &options.redis {
                Some(shared) => shared.clone(),
                None => Arc::new(
                    Redis::start_or_connect(options.redis_url.as_deref())
                        .await
                        .map_err(RunError::Redis)?,
                ),
            }),
        };
        let mut started = Vec::new();
        for name in &stage.nodes {
            let failed = |e: StartError| match e {
                StartError::Redis(e) => RunError::Redis(e),
                StartError::Node(e) => RunError::Other(format!("server {name} did not start: {e}")),
            };
            let node = match &redis {
                None => AnyNode::Lone(
                    nodes::lone_node(stage.behaviour.clone(), report.clone())
                        .await
                        .map_err(failed)?,
                ),
                Some(redis) => AnyNode::Redis(
                    nodes::redis_node(redis, stage.behaviour.clone(), report.clone())
                        .await
                        .map_err(failed)?,
                ),
            };
            started.push(node);
        }
        let mut witnesses = Vec::new();
        if stage.adapter == AdapterKind::Redis {
            let options = ConnectOptions {
                timeout: options.timeout,
                ..ConnectOptions::websocket_only()
            };
            for (node, name) in started.iter().zip(&stage.nodes) {
                let witness = SimClient::connect(&node.url(), &options).await.map_err(|e| {
                    RunError::Other(format!(
                        "the tutor's witness could not connect to server {name}: {e}"
                    ))
                })?;
                witnesses.push(witness);
            }
        }
        Ok(Cluster {
            names: stage.nodes.clone(),
            nodes: started,
            adapter: stage.adapter,
            events,
            redis,
            witnesses,
        })
    }

    /// Reads every witness up to fence `n`: then every node has applied what the step sent.
    pub(super) async fn read_witnesses(
        &mut self,
        n: u64,
        after: std::time::Duration,
    ) -> Result<(), RunError> {
        for (witness, name) in self.witnesses.iter_mut().zip(&self.names) {
            loop {
                match witness.next(after).await {
                    None => {
                        return Err(RunError::Timeout {
                            what: format!("the tutor's fence #{n} to reach server {name}'s witness"),
                            after,
                        });
                    }
                    Some(Incoming::Closed { reason }) => {
                        return Err(RunError::Other(format!(
                            "the tutor's witness on server {name} was disconnected: {reason}"
                        )));
                    }
                    Some(Incoming::Event { name: event, args }) => {
                        if event == FENCE_EVENT && args.first() == Some(&serde_json::Value::from(n)) {
                            break;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Each node's `http://127.0.0.1:PORT`, in the stage's order.
    pub(super) fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(AnyNode::url).collect()
    }

    /// The node whose own table holds socket `sid`.
    fn holder(&self, sid: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.sids().contains(sid))
    }

    /// Why the client with socket `sid` did not receive what node `acting` emitted to
    /// `audience`, when it is on another node; `None` when the emitting node holds it (that
    /// node's own report says why) or no node does.
    ///
    /// The tables are read when the step has settled: the steps run one at a time, so no
    /// handler has run on any node between the emit and this read.
    pub(super) fn why_not_elsewhere(&self, sid: &str, acting: usize, audience: &Audience) -> Option<WhyNot> {
        let at = self.holder(sid)?;
        if at == acting {
            return None;
        }
        let elsewhere = |local_only| WhyNot::OnAnotherServer {
            server: self.names[at].clone(),
            emitted_on: self.names[acting].clone(),
            local_only,
        };
        match (self.adapter, audience) {
            (AdapterKind::None, _) => Some(elsewhere(false)),
            (_, Audience::ThisServer) => Some(elsewhere(true)),
            (AdapterKind::Redis, audience) => self.nodes[at].why_not_here(sid, audience),
        }
    }
}

impl Session<'_> {
    /// A polling session opened on node `from` and polled on node `to`: what a load balancer
    /// without sticky sessions does to a client that starts with HTTP long-polling.
    pub(super) async fn cross_poll(&self, from: usize, to: usize) -> Result<(String, ProbeRecord), RunError> {
        let (a, b) = (self.node_name(from), self.node_name(to));
        let authority = |i: usize| crate::client::connection::authority(&self.bases[i]).to_owned();
        let url = format!("{}{}", self.bases[from], sticky::HANDSHAKE);
        let trigger = format!(
            "a client opens an HTTP long-polling session on server {a}; its next request goes to server {b}"
        );
        let record = match sticky::cross_poll(&authority(from), &authority(to), self.options.timeout).await {
            Ok(poll) => {
                let mut observed = vec![
                    format!(
                        "server {a}: {}, Engine.IO OPEN: session <sid> opened",
                        poll.open.status
                    ),
                    format!("server {b}, GET …&sid=<sid>: {}", poll.other.status),
                ];
                if !poll.other.body.trim().is_empty() {
                    observed.push(format!(
                        "body: {}",
                        super::one_line(&poll.other.body.replace(&poll.sid, "<sid>"), 80)
                    ));
                }
                ProbeRecord {
                    method: ProbeKind::CrossPoll,
                    url,
                    outcome: ProbeOutcome::Http,
                    status: Some(poll.other.code),
                    observed,
                }
            }
            Err(sticky::CrossPollError::Http(HttpError::Refused(addr))) => ProbeRecord {
                method: ProbeKind::CrossPoll,
                url,
                outcome: ProbeOutcome::Refused,
                status: None,
                observed: vec![format!("connection refused: nothing is listening on {addr}")],
            },
            Err(e) => ProbeRecord {
                method: ProbeKind::CrossPoll,
                url,
                outcome: ProbeOutcome::Error,
                status: None,
                observed: vec![e.to_string()],
            },
        };
        Ok((trigger, record))
    }

    /// The name of node `i` (`A`), or `server` on a stage with one.
    pub(super) fn node_name(&self, i: usize) -> String {
        self.stage.node_name(i).unwrap_or("server").to_owned()
    }
}

/// How long a failed step of a Redis stage waits to learn whether Redis itself went away.
pub(super) const GONE_WITHIN: std::time::Duration = std::time::Duration::from_secs(1);

/// A step of a Redis stage failed: an emit through the adapter often fails (a broken pipe)
/// before the tutor hears that the process exited. If the private Redis is gone (within
/// [`GONE_WITHIN`]), that is the error to report, with the step's own words beside it.
pub(super) async fn blame_redis(error: RunError, redis: &Redis) -> RunError {
    if matches!(error, RunError::Redis(_) | RunError::Stopped) {
        return error;
    }
    match tokio::time::timeout(GONE_WITHIN, redis.gone()).await {
        Ok(RedisError::Gone { url, detail }) => RunError::Redis(RedisError::Gone {
            url,
            detail: format!("{detail}; the step failed with: {error}"),
        }),
        Ok(other) => RunError::Redis(other),
        Err(_) => error,
    }
}

/// The message for a stage that needs Redis when there is none, with how to rerun it.
pub fn redis_hint(error: &RedisError, lesson: u32, stage: u32) -> String {
    match error {
        RedisError::NotInstalled => {
            format!("{error}\nThen run it again: realtime-tutor lesson {lesson} --stage {stage}")
        }
        _ => error.to_string(),
    }
}
