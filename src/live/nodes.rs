//! `serve 7`: the lesson's two servers, joined through Redis, each on its own port, so that
//! browser tabs on different servers chat through Redis, with the same live trace, `/tutor/`
//! page and bots as a one-server `serve`.
//!
//! Each server is the lesson's stage server (the handlers of [`crate::server::realtime`], on
//! the Redis adapter as [`crate::server::nodes`] builds it) with the chat page and the `/tutor/`
//! pages in front, and the same guards as a one-server `serve`: a time limit on request
//! headers, a bound on open connections and on new sessions, and an `Origin` check that lets in
//! the server's own pages. Both servers' `/tutor/` pages read one [`Feed`]: either draws both servers' lanes.
//!
//! # Who received it on the other server
//!
//! A server's report of an emit names the sockets *it* queued the packet for: its tables hold
//! only its own sockets. The rest of a broadcast travels through Redis, and the other server
//! delivers it to its own sockets from its own tables, running no handler of ours, so it
//! reports nothing. When the tutor takes server A's report, it therefore reads server B's
//! tables the way B's part of the broadcast does ([`crate::server::observe::live::why_not_here`]: its
//! sockets, the rooms they are in) and records those sockets as "via B". That is B's account at
//! that moment, a few microseconds after the emit; the bots on B then report what they really
//! read, as bots do on one server.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::Poll;

use axum::routing::get;
use socketioxide::SocketIo;
use socketioxide::adapter::Emitter;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::bots::{self, Bots, Plan, Setup};
use super::feed::Feed;
use super::follow::{self, Report, Reports};
use super::hub::{Hub, Relay};
use super::printer::Records;
use super::{Ended, Serving, Stop};
use crate::parts::node::{NAMESPACE_LIMIT, NamespaceReady, RedisAdapter, redis_adapter};
use crate::parts::redis_server::Redis;
use crate::server::guard::handshakes::HandshakeLayer;
use crate::server::guard::origin::OriginLayer;
use crate::server::http::{self, Guard};
use crate::server::observe::live;
use crate::server::realtime::{builder, on_main_namespace};
use crate::server::{Reporter, ServerEvent, app};
use crate::trace::live::{self as records, Live};
use crate::vocab::{Audience, WhyNot};

/// One running server of the pair.
struct Running {
    io: SocketIo<RedisAdapter<Emitter>>,
    task: JoinHandle<std::io::Result<()>>,
    stop: tokio::sync::oneshot::Sender<()>,
}

/// The servers' reports, each tagged with its server, and what the others deliver of an emit.
struct Pair {
    names: Vec<String>,
    ios: Vec<SocketIo<RedisAdapter<Emitter>>>,
    events: Vec<mpsc::UnboundedReceiver<ServerEvent>>,
    /// Reports taken early (see [`Pair::next`]), handed out first.
    taken: VecDeque<Report>,
}

impl Pair {
    /// Server `at`'s report, with the other servers' part when it is an emit.
    fn report(&self, at: usize, event: ServerEvent) -> Report {
        let relays = match &event {
            // An emit that failed before it was published reached no other server.
            ServerEvent::Sent {
                audience, recipients, ..
            } if !recipients.reached_nobody => self.relays(at, audience),
            _ => Vec::new(),
        };
        Report {
            event,
            node: self.names.get(at).cloned(),
            relays,
        }
    }

    /// The sockets of every server but `at` that a broadcast to `audience` made on `at`
    /// selects there, from their own tables (see the module documentation).
    fn relays(&self, at: usize, audience: &Audience) -> Vec<Relay> {
        let mut relays = Vec::new();
        for (other, io) in self.ios.iter().enumerate().filter(|(i, _)| *i != at) {
            let node = self.names[other].clone();
            let sids: Vec<String> = io
                .of("/")
                .map(|ns| ns.sockets().iter().map(|s| s.id.to_string()).collect())
                .unwrap_or_default();
            let mut relay = Relay {
                node: node.clone(),
                ..Relay::default()
            };
            for sid in sids {
                let why = match audience {
                    // io.local publishes nothing: the other server never hears of it.
                    Audience::ThisServer => Some(WhyNot::OnAnotherServer {
                        server: node.clone(),
                        emitted_on: self.names[at].clone(),
                        local_only: true,
                    }),
                    _ => live::why_not_here(io, &sid, audience),
                };
                match why {
                    None => relay.to.push(sid),
                    Some(why) => relay.skipped.push((sid, why.to_string())),
                }
            }
            relays.push(relay);
        }
        relays
    }
}

impl Reports for Pair {
    /// The next report of either server. Before an emit of one server is handed out, what the
    /// other servers have already reported is taken first: a socket the emit reaches there
    /// reported its handshake before it joined, so the hub knows its name.
    async fn next(&mut self) -> Option<Report> {
        if let Some(report) = self.taken.pop_front() {
            return Some(report);
        }
        let (at, event) = std::future::poll_fn(|cx| {
            for (i, events) in self.events.iter_mut().enumerate() {
                match events.poll_recv(cx) {
                    Poll::Ready(Some(event)) => return Poll::Ready(Some((i, event))),
                    Poll::Ready(None) => return Poll::Ready(None),
                    Poll::Pending => {}
                }
            }
            Poll::Pending
        })
        .await?;
        if matches!(event, ServerEvent::Sent { .. }) {
            for other in (0..self.events.len()).filter(|i| *i != at) {
                while let Ok(early) = self.events[other].try_recv() {
                    let report = self.report(other, early);
                    self.taken.push_back(report);
                }
            }
        }
        let report = self.report(at, event);
        self.taken.push_back(report);
        self.taken.pop_front()
    }

    fn pending(&self) -> usize {
        self.taken.len()
            + self
                .events
                .iter()
                .map(mpsc::UnboundedReceiver::len)
                .sum::<usize>()
    }
}

/// Runs the stage's servers, one per listener (named `names`, in order), with `guards` for
/// each (`serving.guard` is not used), as `serving` says, until `shutdown` completes or Redis goes away; prints the live trace
/// through `records` (whose listening lines the caller has queued), then shuts down within
/// [`super::STOP_BOUND`].
pub async fn run(
    listeners: Vec<TcpListener>,
    guards: Vec<Guard>,
    names: &[String],
    serving: Serving,
    redis: Arc<Redis>,
    records: &Records,
    shutdown: impl Future<Output = Stop>,
) -> anyhow::Result<Ended> {
    let feed = Feed::new();
    feed.about(serving.about.json());
    let plan = Plan::for_server(&serving.behaviour);
    let mut pair = Pair {
        names: names.to_vec(),
        ios: Vec::new(),
        events: Vec::new(),
        taken: VecDeque::new(),
    };
    let mut servers = Vec::new();
    let mut bases = Vec::new();
    for ((name, listener), guard) in names.iter().zip(listeners).zip(guards) {
        bases.push(format!("http://{}", super::local_address(listener.local_addr()?)));
        let (report, events) = Reporter::new();
        let server = start(name, &redis, &serving, &feed, report, listener, guard).await?;
        pair.ios.push(server.io.clone());
        pair.events.push(events);
        servers.push(server);
    }
    let print = |live: &Live| {
        let t_ms = records.t_ms();
        records.print_at(t_ms, live);
        feed.publish(records::json(t_ms, live));
    };

    let token = bots::token();
    let mut hub = Hub::new(token.clone());
    hub.quiet_handlers(&serving.behaviour);
    let (report, mut reads) = mpsc::channel(bots::REPORTS);
    let bots = (serving.bots > 0).then(|| {
        Bots::start(
            serving.bots,
            &Setup {
                bases,
                token,
                plan,
                ready: hub.ready.subscribe(),
                report,
            },
        )
    });

    // Stop on the caller's word, or when the Redis both servers need is gone.
    let gone = redis.gone();
    let stop = async {
        tokio::select! {
            why = shutdown => why,
            error = gone => Stop::Failed(error.to_string()),
        }
    };
    tokio::pin!(stop);
    let why = follow::follow(&mut pair, &mut hub, &mut reads, &print, stop).await;

    // Shutting down, as a one-server serve does (see super::run): the bots first, then every
    // server, under one deadline.
    let deadline = tokio::time::Instant::now() + super::STOP_BOUND;
    for live in hub.take_all() {
        print(&live);
    }
    print(&Live::Stopping);
    drop(reads);
    if let Some(bots) = bots {
        bots.stop(super::BOTS_BOUND).await;
    }
    feed.close();
    let mut clean = true;
    for server in servers {
        let _ = server.stop.send(());
        clean &= tokio::time::timeout_at(deadline, server.task).await.is_ok();
    }
    records.print(&Live::Stopped { clean });
    Ok(Ended { clean, why })
}

/// Starts server `name` of the pair on `listener`, with the chat page, the `/tutor/` pages and
/// the stage's handlers.
async fn start(
    name: &str,
    redis: &Redis,
    serving: &Serving,
    feed: &Feed,
    report: Reporter,
    listener: TcpListener,
    guard: Guard,
) -> anyhow::Result<Running> {
    // This server's own Redis connection: one shared by both would lose a subscription.
    let adapter = redis_adapter(redis).await?;
    let (layer, io) = builder().with_adapter::<RedisAdapter<_>>(adapter).build_layer();
    let ready = on_main_namespace(&io, serving.behaviour.clone(), report, None);
    tokio::time::timeout(NAMESPACE_LIMIT, ready.ready())
        .await
        .map_err(|_| anyhow::anyhow!("server {name}: the adapter did not subscribe in time"))?
        .map_err(|e| anyhow::anyhow!("server {name}: {e}"))?;
    let router = super::tutor::app(feed.clone(), guard.origins.clone(), &serving.about)
        .layer(layer)
        .route("/socket.io/socket.io.js", get(app::client_script))
        // As on one server: the Origin check first (outermost), then the bound on new sessions.
        .layer(HandshakeLayer::new(guard.max_handshakes, guard.log.clone()))
        .layer(OriginLayer::new(guard.origins.clone(), guard.log.clone()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(http::serve_guarded(listener, router, guard, async move {
        let _ = stopped.await;
    }));
    Ok(Running { io, task, stop })
}
