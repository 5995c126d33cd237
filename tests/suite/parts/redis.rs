//! Lesson 7's parts: a private `redis-server` that never outlives the tutor, and socketioxide's
//! Redis adapter joining two servers, with fences through it.

use std::time::{Duration, Instant};

use axum::Router;
use realtime_tutor::client::http;
use realtime_tutor::client::{ConnectOptions, Incoming, SimClient};
use realtime_tutor::parts::node::{Node, RedisAdapter, redis_adapter, start_node};
use realtime_tutor::parts::redis::{self, RedisError};
use realtime_tutor::parts::redis_server::{Redis, RedisServer};
use realtime_tutor::parts::sticky::{HANDSHAKE, cross_poll};
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::adapter::{Adapter, LocalAdapter};
use socketioxide::extract::{AckSender, Data, SocketRef};

use super::process_alive;
use crate::common::process::signal;
use crate::common::runtime;

const FENCE: &str = "tutor:fence";
const WAIT: Duration = Duration::from_secs(5);

/// The connection handler of the test nodes: joins the room named in the query
/// (`?room=r`), answers "to room" by `socket.to(room).emit(..)`, then says it is ready (the
/// readiness event closes socketioxide's connect race).
async fn on_connection<A: Adapter>(socket: SocketRef<A>) {
    let query = socket.req_parts().uri.query().unwrap_or_default().to_string();
    if let Some(room) = query.split('&').find_map(|kv| kv.strip_prefix("room=")) {
        socket.join(room.to_string());
    }
    socket.on(
        "to room",
        async |socket: SocketRef<A>, Data::<(String, String)>((room, text)), ack: AckSender<A>| {
            let sent = socket.to(room).emit("chat message", &text).await.is_ok();
            let _ = ack.send(&sent);
        },
    );
    let _ = socket.emit("ready", &());
}

async fn redis_node(redis: &Redis) -> Node<RedisAdapter<socketioxide::adapter::Emitter>> {
    let ctr = redis_adapter(redis).await.expect("adapter connection");
    let builder = SocketIo::builder().with_adapter::<RedisAdapter<_>>(ctr);
    start_node(Router::new(), builder, |io| io.ns("/", on_connection))
        .await
        .expect("a node with the Redis adapter starts")
}

/// A client that has seen `ready`.
async fn client(url: &str, room: Option<&str>) -> SimClient {
    let options = ConnectOptions::default();
    let mut c = match room {
        Some(room) => SimClient::connect_with_query(url, &options, &[("room", room)]).await,
        None => SimClient::connect(url, &options).await,
    }
    .expect("connects");
    match c.next(WAIT).await {
        Some(Incoming::Event { name, .. }) if name == "ready" => c,
        other => panic!("expected ready, got {other:?}"),
    }
}

/// What `c` receives before fence `n`, in order (bounded; the fence proves the rest).
async fn until_fence(c: &mut SimClient, n: u64) -> Vec<String> {
    let mut got = Vec::new();
    loop {
        match c.next(WAIT).await {
            Some(Incoming::Event { name, args }) if name == FENCE => {
                assert_eq!(args, vec![json!(n)], "fences arrive in order");
                return got;
            }
            Some(Incoming::Event { name, args }) => got.push(format!(
                "{name} {}",
                args.iter().map(Value::to_string).collect::<Vec<_>>().join(" ")
            )),
            other => panic!("waiting for fence {n}: {other:?}"),
        }
    }
}

#[test]
fn the_private_redis_answers_quickly_and_is_gone_after_drop() {
    runtime().block_on(async {
        let mut times = Vec::new();
        for _ in 0..5 {
            let started = Instant::now();
            let server = RedisServer::start().await.expect("redis-server starts");
            times.push(started.elapsed());
            let pid = server.pid();
            let socket = server.socket_path().to_path_buf();
            let mode = std::os::unix::fs::PermissionsExt::mode(
                &std::fs::metadata(socket.parent().unwrap()).unwrap().permissions(),
            );
            assert_eq!(mode & 0o777, 0o700, "the socket's folder is private");
            assert!(pid > 0 && process_alive(pid), "redis-server runs as pid {pid}");
            assert!(server.url().starts_with("redis+unix://") && server.url().ends_with("?protocol=resp3"));
            redis::ping(&server.url()).await.expect("it answers PING");
            drop(server);
            // Drop kills it and waits: the watchdog has reaped it when drop returns.
            assert!(
                !process_alive(pid),
                "redis-server {pid} is gone once the handle is dropped"
            );
            assert!(!socket.exists(), "its temporary folder is removed");
        }
        times.sort();
        eprintln!(
            "redis-server start to PONG: median {:?}, min {:?}, max {:?}",
            times[2], times[0], times[4]
        );
    });
}

/// Should the watchdog itself be killed, dropping the handle still ends Redis.
#[test]
fn a_killed_watchdog_does_not_leave_redis_running_after_drop() {
    runtime().block_on(async {
        let server = RedisServer::start().await.expect("redis-server starts");
        let pid = server.pid();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let watchdog = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string();
        signal("-KILL", watchdog.parse().expect("a pid"));
        drop(server);
        // Redis was killed, not reaped by us (its parent is gone): wait, bounded, for it to vanish.
        let deadline = Instant::now() + Duration::from_secs(5);
        while process_alive(pid) {
            assert!(
                Instant::now() < deadline,
                "redis-server {pid} outlived its killed watchdog"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    });
}

#[test]
fn without_an_adapter_each_node_reaches_only_its_own_clients() {
    runtime().block_on(async {
        let local = || SocketIo::builder();
        let a = start_node(Router::new(), local(), |io| {
            io.ns("/", on_connection::<LocalAdapter>)
        })
        .await
        .unwrap();
        let b = start_node(Router::new(), local(), |io| {
            io.ns("/", on_connection::<LocalAdapter>)
        })
        .await
        .unwrap();
        let mut alice = client(&a.url(), None).await;
        let mut bob = client(&b.url(), None).await;
        a.io.emit("chat message", "hi").await.unwrap();
        // No adapter: a fence from A never reaches B, so each node fences its own clients.
        a.io.emit(FENCE, &1).await.unwrap();
        b.io.emit(FENCE, &1).await.unwrap();
        assert_eq!(until_fence(&mut alice, 1).await, ["chat message \"hi\""]);
        assert_eq!(until_fence(&mut bob, 1).await, Vec::<String>::new());
    });
}

#[test]
fn the_redis_adapter_joins_two_nodes_and_a_fence_through_it_keeps_order() {
    runtime().block_on(async {
        let redis = Redis::start_or_connect(None).await.expect("a private Redis");
        let a = redis_node(&redis).await;
        let b = redis_node(&redis).await;
        let mut alice = client(&a.url(), Some("r")).await;
        let mut carol = client(&a.url(), None).await;
        let mut bob = client(&b.url(), Some("r")).await;
        let mut dave = client(&b.url(), None).await;

        // io.emit on A reaches B's clients too.
        let started = Instant::now();
        a.io.emit("chat message", "from A").await.unwrap();
        a.io.emit(FENCE, &1).await.unwrap();
        for c in [&mut alice, &mut carol, &mut bob, &mut dave] {
            assert_eq!(until_fence(c, 1).await, ["chat message \"from A\""]);
        }
        eprintln!(
            "emit + fence through Redis, seen by 4 clients on 2 nodes: {:?}",
            started.elapsed()
        );
        // io.local().emit on A stays on A; the fence through Redis proves B never got it.
        a.io.local().emit("chat message", "A only").await.unwrap();
        a.io.emit(FENCE, &2).await.unwrap();
        for c in [&mut alice, &mut carol] {
            assert_eq!(until_fence(c, 2).await, ["chat message \"A only\""]);
        }
        for c in [&mut bob, &mut dave] {
            assert_eq!(until_fence(c, 2).await, Vec::<String>::new());
        }
        // socket.to(room) from alice (A) reaches bob (B), not alice, carol or dave.
        let ack = alice
            .emit_with_ack("to room", vec![json!("r"), json!("room hi")])
            .unwrap();
        let answer = tokio::time::timeout(WAIT, ack)
            .await
            .expect("ack in time")
            .expect("ack");
        assert_eq!(answer, vec![json!(true)]);
        a.io.emit(FENCE, &3).await.unwrap();
        assert_eq!(until_fence(&mut bob, 3).await, ["chat message \"room hi\""]);
        for c in [&mut alice, &mut carol, &mut dave] {
            assert_eq!(until_fence(c, 3).await, Vec::<String>::new());
        }
        // And the other way round: B's io.emit reaches A's clients.
        b.io.emit("chat message", "from B").await.unwrap();
        b.io.emit(FENCE, &4).await.unwrap();
        for c in [&mut alice, &mut carol, &mut bob, &mut dave] {
            assert_eq!(until_fence(c, 4).await, ["chat message \"from B\""]);
        }
        // Order: a burst of emits from A, then one fence, arrives complete and in order at
        // every client of both nodes.
        for i in 0..200 {
            a.io.emit("n", &i).await.unwrap();
        }
        a.io.emit(FENCE, &5).await.unwrap();
        let expected: Vec<String> = (0..200).map(|i| format!("n {i}")).collect();
        for c in [&mut alice, &mut carol, &mut bob, &mut dave] {
            assert_eq!(until_fence(c, 5).await, expected);
        }
    });
}

#[test]
fn polling_on_one_node_and_polling_the_other_is_session_id_unknown() {
    runtime().block_on(async {
        let redis = Redis::start_or_connect(None).await.expect("a private Redis");
        let a = redis_node(&redis).await;
        let b = redis_node(&redis).await;
        let probe = cross_poll(&a.addr().to_string(), &b.addr().to_string(), WAIT)
            .await
            .expect("both nodes answer");
        assert_eq!(probe.open.code, 200, "{probe:?}");
        let on_b = &probe.other;
        eprintln!(
            "B answers a poll for A's session: {} {:?} {:?}",
            on_b.status, on_b.content_type, on_b.body
        );
        assert_eq!(
            (on_b.code, on_b.content_type.as_deref()),
            (400, Some("application/json"))
        );
        // socketioxide writes the code as a string; Node's engine.io writes `"code":1`.
        assert_eq!(on_b.body, r#"{"code":"1","message":"Session ID unknown"}"#);
        let poll = format!("{HANDSHAKE}&sid={}", probe.sid);
        // The same request on A, the node that holds the session, is answered.
        let on_a = http::get(&a.addr().to_string(), &format!("{poll}&t=1"), WAIT)
            .await
            .expect("A answers");
        assert_eq!(on_a.code, 200, "{on_a:?}");
    });
}

#[test]
fn a_redis_that_goes_away_mid_run_is_a_clear_error_in_bounded_time() {
    runtime().block_on(async {
        let server = RedisServer::start().await.expect("redis-server starts");
        let pid = server.pid();
        let redis = Redis::Private(server);
        let a = redis_node(&redis).await;
        a.io.emit("chat message", "before")
            .await
            .expect("an emit through Redis");
        let Redis::Private(server) = &redis else {
            unreachable!()
        };
        signal("-KILL", pid);
        let started = Instant::now();
        let gone = tokio::time::timeout(WAIT, server.gone())
            .await
            .expect("the loss is noticed in time");
        let message = gone.to_string();
        assert!(
            message.contains("went away") && message.contains("SIGKILL"),
            "{message}"
        );
        let emitted = tokio::time::timeout(WAIT, a.io.emit("chat message", "after")).await;
        let error = emitted
            .expect("the emit ends in time")
            .expect_err("an emit without Redis fails");
        eprintln!(
            "after redis-server was killed: {message}\nio.emit: {error} (within {:?})",
            started.elapsed()
        );
        assert!(started.elapsed() < Duration::from_secs(3));
    });
}

/// A Redis that stops answering (here: stopped with SIGSTOP) without closing its socket: an
/// emit fails once the driver's response timeout (500 ms) has passed, instead of hanging.
#[test]
fn a_redis_that_stops_answering_fails_an_emit_in_bounded_time() {
    runtime().block_on(async {
        let server = RedisServer::start().await.expect("redis-server starts");
        let pid = server.pid();
        let redis = Redis::Private(server);
        let a = redis_node(&redis).await;
        signal("-STOP", pid);
        let started = Instant::now();
        let emitted = tokio::time::timeout(WAIT, a.io.emit("chat message", "stalled")).await;
        let waited = started.elapsed();
        signal("-CONT", pid);
        let error = emitted
            .expect("the emit ends in time")
            .expect_err("a stalled Redis fails the emit");
        eprintln!("a stopped redis-server: io.emit failed after {waited:?}: {error}");
        assert!(waited < Duration::from_secs(2), "{waited:?}");
    });
}

#[test]
fn an_external_redis_url_is_checked_by_a_bounded_ping() {
    runtime().block_on(async {
        // Nothing listens on port 1: refused at once, named, with the step it failed at.
        let e = Redis::start_or_connect(Some("redis://127.0.0.1:1"))
            .await
            .unwrap_err();
        assert!(matches!(e, RedisError::Unreachable { .. }), "{e:?}");
        assert!(e.to_string().contains("127.0.0.1:1"), "{e}");
        let e = Redis::start_or_connect(Some("http://x:1")).await.unwrap_err();
        assert_eq!(e.exit_status(), 2, "{e}");
    });
}
