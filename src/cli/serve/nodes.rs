//! `serve 7`: the lesson's two servers, joined through Redis, on two ports (`--port` and the
//! next one), so that two browser tabs on different servers chat through Redis.
//!
//! Each server is the lesson's own stage server ([`crate::server::nodes`]'s handlers and the
//! Redis adapter), with the chat page in front. The trace printed is what each server reports
//! about its own handlers: which server ran which call, and how many of *its own* sockets it
//! queued the packet for. What the other server then delivers from Redis is that server's
//! business: it is counted when the other server's clients act, not guessed.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::get;
use socketioxide::SocketIo;
use socketioxide::adapter::Emitter;
use socketioxide::extract::SocketRef;
use tokio::task::JoinHandle;

use super::{STOP_BOUND, ServeArgs, bind};
use crate::cli::NeedsRedis;
use crate::lesson::{Lesson, Stage};
use crate::parts::node::{NamespaceReady, RedisAdapter, redis_adapter};
use crate::parts::redis_server::Redis;
use crate::server::order::{Turn, Turnstile};
use crate::server::realtime::{MAX_PAYLOAD, on_connection};
use crate::server::{Reporter, ServerEvent, app};

/// One running server of the pair.
struct Running {
    name: String,
    url: String,
    io: SocketIo<RedisAdapter<Emitter>>,
    task: JoinHandle<std::io::Result<()>>,
    stop: tokio::sync::oneshot::Sender<()>,
}

/// Runs the pair until Ctrl-C; returns the exit status.
pub async fn serve(
    args: &ServeArgs,
    lesson: &Lesson,
    stage: &Stage,
    ctrl_c: impl Future<Output = ()>,
) -> anyhow::Result<i32> {
    let redis = Redis::start_or_connect(args.redis.as_deref())
        .await
        .map_err(|e| NeedsRedis {
            message: format!(
                "lesson {}'s servers need Redis: {}",
                lesson.number,
                crate::runner::redis_hint(&e, lesson.number, stage.number)
            ),
            status: e.exit_status(),
        })?;
    let redis = Arc::new(redis);
    let (report, mut events) = Reporter::new();
    let mut servers = Vec::new();
    for (i, name) in stage.nodes.iter().enumerate() {
        // --port 0 lets the system pick both ports; otherwise the servers take consecutive ones.
        let port = if args.port == 0 {
            0
        } else {
            args.port.saturating_add(i as u16)
        };
        servers.push(start(name, &redis, stage, report.clone(), args.host, port).await?);
    }
    for server in &servers {
        anstream::println!("server {} listening on {}", server.name, server.url);
    }
    anstream::println!(
        "Both servers use the Redis adapter on {}. Open one tab on each: a message sent on one \
         reaches the other through Redis. Press Ctrl-C to stop.",
        redis.url()
    );
    tokio::pin!(ctrl_c);
    let gone = redis.gone();
    tokio::pin!(gone);
    let status = loop {
        tokio::select! {
            () = &mut ctrl_c => break 0,
            error = &mut gone => {
                anstream::eprintln!("error: {error}");
                break 1;
            }
            Some(event) = events.recv() => {
                if let ServerEvent::Sent { action, recipients, sid, .. } = event {
                    let holds = |s: &&Running| {
                        s.io.of("/")
                            .is_some_and(|ns| ns.sockets().iter().any(|x| x.id.to_string() == sid))
                    };
                    let on = servers.iter().find(holds).map_or("?", |s| s.name.as_str());
                    anstream::println!(
                        "server {on} ran {action}: queued for {} of its own sockets",
                        recipients.to.len()
                    );
                }
            }
        }
    };
    let deadline = tokio::time::Instant::now() + STOP_BOUND;
    for server in servers {
        let _ = server.stop.send(());
        let _ = tokio::time::timeout_at(deadline, server.task).await;
    }
    anstream::println!("stopped");
    Ok(status)
}

/// Starts server `name` of the pair on `host:port`, with the chat page and the stage's handlers.
async fn start(
    name: &str,
    redis: &Redis,
    stage: &Stage,
    report: Reporter,
    host: std::net::IpAddr,
    port: u16,
) -> anyhow::Result<Running> {
    let adapter = redis_adapter(redis).await?;
    let (layer, io) = SocketIo::builder()
        .max_payload(MAX_PAYLOAD)
        .with_state(Arc::new(Turnstile::default()))
        .with_adapter::<RedisAdapter<_>>(adapter)
        .build_layer();
    let behaviour = stage.behaviour.clone();
    let ready = io.ns(
        "/",
        async move |turn: Turn, socket: SocketRef<_>, io: SocketIo<_>| {
            on_connection(turn, socket, io, behaviour, report).await;
        },
    );
    tokio::time::timeout(crate::parts::node::NAMESPACE_LIMIT, ready.ready())
        .await
        .map_err(|_| anyhow::anyhow!("server {name}: the adapter did not subscribe in time"))?
        .map_err(|e| anyhow::anyhow!("server {name}: {e}"))?;
    let listener = bind(host, port).await?;
    let addr: SocketAddr = listener.local_addr()?;
    let router = app::app()
        .layer(layer)
        .route("/socket.io/socket.io.js", get(app::client_script));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    Ok(Running {
        name: name.to_owned(),
        url: format!("http://{addr}/"),
        io,
        task,
        stop,
    })
}
