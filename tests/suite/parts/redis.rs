//! Lesson 7's parts: a private `redis-server` that never outlives the tutor, and socketioxide's
//! Redis adapter joining two servers, with fences through it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
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

use crate::common::{runtime, wait_bounded};

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
        Command::new("kill").args(["-KILL", &watchdog]).status().unwrap();
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
        Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .expect("kill runs");
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
        let pid = server.pid().to_string();
        let redis = Redis::Private(server);
        let a = redis_node(&redis).await;
        Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .expect("kill runs");
        let started = Instant::now();
        let emitted = tokio::time::timeout(WAIT, a.io.emit("chat message", "stalled")).await;
        let waited = started.elapsed();
        Command::new("kill")
            .args(["-CONT", &pid])
            .status()
            .expect("kill runs");
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

// ---- Interrupting the tutor: no redis-server survives it ----

const CHILD_ENV: &str = "REALTIME_TUTOR_TEST_REDIS_CHILD";

/// Not a test on its own: the child process of the tests below (this same test binary, run with
/// `CHILD_ENV` set). It starts a private Redis, prints its pid and socket, and then waits to be
/// killed; or, without `redis-server` on PATH, prints the error and its exit status.
#[test]
#[ignore = "run as a child process by the interrupt tests"]
fn redis_child_process() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    runtime().block_on(async {
        match RedisServer::start().await {
            Ok(server) => {
                println!("PID {}", server.pid());
                println!("SOCKET {}", server.socket_path().display());
                std::future::pending::<()>().await;
            }
            Err(e) => {
                println!("STATUS {}", e.exit_status());
                println!("ERROR {e}");
            }
        }
    });
}

fn child_command() -> Command {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command
        .args([
            "parts::redis::redis_child_process",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

/// Whether `pid` is a live process (a zombie counts as gone: it runs no code and holds no socket).
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or_default()
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

fn interrupt_and_check(signal: &str) {
    let mut child = child_command().spawn().expect("the child starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // The test harness prints its own text first ("running 1 test", "test … ... ").
        let mut wanted = lines.by_ref().map_while(Result::ok);
        let pid = wanted.find_map(|l| l.split_once("PID ").map(|(_, n)| n.to_string()));
        let socket = wanted.find_map(|l| l.strip_prefix("SOCKET ").map(str::to_string));
        let _ = tx.send((pid, socket));
        for _ in lines {}
    });
    let reported = rx.recv_timeout(Duration::from_secs(20));
    let Ok((Some(pid), Some(socket))) = reported else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the child did not report its Redis within 20 s: {reported:?}");
    };
    let pid: u32 = pid.parse().expect("a pid");
    // A connection to that Redis: its end (EOF) is the event that says Redis died.
    let mut watch = std::os::unix::net::UnixStream::connect(&socket).expect("the child's Redis accepts");
    assert!(process_alive(pid));
    Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    let status = wait_bounded(&mut child, Duration::from_secs(10), "the interrupted child");
    assert!(!status.success(), "the child was interrupted: {status:?}");
    watch.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut byte = [0u8; 1];
    let read = std::io::Read::read(&mut watch, &mut byte);
    assert!(
        matches!(read, Ok(0))
            || read
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "Redis closed the connection (it died) within 5 s of {signal} to its tutor: {read:?}"
    );
    // Its pid disappears once the watchdog reaps it, and the watchdog then removes the socket's
    // folder; bounded check.
    let folder = std::path::Path::new(&socket).parent().unwrap().to_path_buf();
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_alive(pid) || folder.exists() {
        assert!(
            Instant::now() < deadline,
            "redis-server {pid} (alive: {}) or its folder {} (exists: {}) outlived its tutor ({signal})",
            process_alive(pid),
            folder.display(),
            folder.exists()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_sigkilled_tutor_leaves_no_redis_server_behind() {
    interrupt_and_check("-KILL");
}

#[test]
fn a_tutor_interrupted_by_ctrl_c_leaves_no_redis_server_behind() {
    interrupt_and_check("-INT");
}

/// A `redis-server` that fails at once (here a stand-in script on PATH): the error says it did
/// not start, with the exit status and what it printed.
#[test]
fn a_redis_server_that_cannot_start_is_reported_with_its_own_words() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("redis-server");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'FATAL CONFIG FILE ERROR: a stand-in that refuses'\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut command = child_command();
    command.env("PATH", format!("{}:/usr/bin:/bin", dir.path().display()));
    let out = crate::common::run_bounded(&mut command, Duration::from_secs(20));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("STATUS 1"), "{stdout}");
    assert!(stdout.contains("did not start: exited with status 1"), "{stdout}");
    assert!(stdout.contains("a stand-in that refuses"), "{stdout}");
}

#[test]
fn without_redis_server_the_error_says_what_to_install_and_has_its_own_status() {
    let mut command = child_command();
    command.env("PATH", "");
    let out = crate::common::run_bounded(&mut command, Duration::from_secs(20));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("STATUS {}", redis::EXIT_NO_REDIS)),
        "{stdout}"
    );
    assert!(
        stdout.contains("apt-get install redis-server") && stdout.contains("--redis"),
        "{stdout}"
    );
}
