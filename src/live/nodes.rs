//! `serve 7`: the lesson's two servers, joined through Redis, each on its own port, so that two
//! browser tabs on different servers chat through Redis.
//!
//! Each server is the lesson's stage server (the handlers of [`crate::server::realtime`], on
//! the Redis adapter as [`crate::server::nodes`] builds it) with the chat page in front, and the
//! same guards as a one-server `serve`: a time limit on request headers, a bound on open
//! connections, and an `Origin` check that lets in the server's own page.
//!
//! The trace printed is what each server reports about its own handlers: which server ran
//! which call, and how many of *its own* sockets it queued the packet for. What the other server
//! then delivers from Redis is that server's business: it shows when the other server's clients
//! act, and is never guessed.

use std::sync::Arc;

use axum::routing::get;
use socketioxide::SocketIo;
use socketioxide::adapter::Emitter;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::Stop;
use super::printer::Printer;
use crate::lesson::Stage;
use crate::parts::node::{NAMESPACE_LIMIT, NamespaceReady, RedisAdapter, redis_adapter};
use crate::parts::redis_server::Redis;
use crate::server::http::{self, Guard};
use crate::server::origin::OriginLayer;
use crate::server::realtime::{builder, on_main_namespace};
use crate::server::{Reporter, ServerEvent, app};

/// One running server of the pair.
struct Running {
    name: String,
    io: SocketIo<RedisAdapter<Emitter>>,
    task: JoinHandle<std::io::Result<()>>,
    stop: tokio::sync::oneshot::Sender<()>,
}

/// Runs the stage's servers, one per listener (in the order of `stage.nodes`), with `guards`
/// for each, until `shutdown` completes or Redis goes away. Returns why it stopped, and whether
/// every server ended within its bound.
pub async fn run(
    listeners: Vec<TcpListener>,
    guards: Vec<Guard>,
    stage: &Stage,
    redis: Arc<Redis>,
    printer: &Printer,
    shutdown: impl Future<Output = Stop>,
) -> anyhow::Result<(Stop, bool)> {
    let (report, mut events) = Reporter::new();
    let mut servers = Vec::new();
    for ((name, listener), guard) in stage.nodes.iter().zip(listeners).zip(guards) {
        servers.push(start(name, &redis, stage, report.clone(), listener, guard).await?);
    }
    tokio::pin!(shutdown);
    let gone = redis.gone();
    tokio::pin!(gone);
    let why = loop {
        tokio::select! {
            why = &mut shutdown => break why,
            error = &mut gone => break Stop::Failed(error.to_string()),
            Some(event) = events.recv() => {
                if let ServerEvent::Sent { action, recipients, sid, .. } = event {
                    let holds = |s: &&Running| {
                        s.io.of("/")
                            .is_some_and(|ns| ns.sockets().iter().any(|x| x.id.to_string() == sid))
                    };
                    let on = servers.iter().find(holds).map_or("?", |s| s.name.as_str());
                    printer.out(format!(
                        "server {on} ran {action}: queued for {} of its own sockets\n",
                        recipients.to.len()
                    ));
                }
            }
        }
    };
    let deadline = tokio::time::Instant::now() + super::STOP_BOUND;
    let mut clean = true;
    for server in servers {
        let _ = server.stop.send(());
        clean &= tokio::time::timeout_at(deadline, server.task).await.is_ok();
    }
    Ok((why, clean))
}

/// Starts server `name` of the pair on `listener`, with the chat page and the stage's handlers.
async fn start(
    name: &str,
    redis: &Redis,
    stage: &Stage,
    report: Reporter,
    listener: TcpListener,
    guard: Guard,
) -> anyhow::Result<Running> {
    // This server's own Redis connection: one shared by both would lose a subscription.
    let adapter = redis_adapter(redis).await?;
    let (layer, io) = builder().with_adapter::<RedisAdapter<_>>(adapter).build_layer();
    let ready = on_main_namespace(&io, stage.behaviour.clone(), report, None);
    tokio::time::timeout(NAMESPACE_LIMIT, ready.ready())
        .await
        .map_err(|_| anyhow::anyhow!("server {name}: the adapter did not subscribe in time"))?
        .map_err(|e| anyhow::anyhow!("server {name}: {e}"))?;
    let router = app::app()
        .layer(layer)
        .route("/socket.io/socket.io.js", get(app::client_script))
        .layer(OriginLayer::new(guard.origins.clone(), guard.log.clone()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(http::serve_guarded(listener, router, guard, async move {
        let _ = stopped.await;
    }));
    Ok(Running {
        name: name.to_owned(),
        io,
        task,
        stop,
    })
}
