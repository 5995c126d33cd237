//! `realtime-tutor check`, run as a learner runs it, against targets that need no Node.js: bad
//! targets (nothing listening, a listener that never answers, an HTTP server without Socket.IO),
//! usage mistakes, and our own Rust servers standing in for a learner's server written in Rust.

use std::net::TcpListener;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use realtime_tutor::server::{Behaviour, Mount, StageServer};

use crate::common::{COMMAND_LIMIT, run_bounded, runtime, unwrapped};

/// The bound the issue sets for a bad target: FAIL within 5 seconds.
pub const BAD_TARGET_BOUND: Duration = Duration::from_secs(5);

/// What one `check` run printed, how it ended, and how long it took.
#[derive(Debug)]
pub struct Checked {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Checked {
    pub fn assert_fails(&self, needles: &[&str]) {
        assert_eq!(self.code, Some(1), "expected FAIL (exit 1):\n{self}");
        let verdict = self.stdout.rsplit("\n\n").next().unwrap_or_default();
        assert!(verdict.starts_with("FAIL"), "no FAIL verdict at the end:\n{self}");
        // Long sentences are wrapped to 80 columns: a needle may span a line break.
        let joined = unwrapped(&self.stdout);
        for needle in needles {
            assert!(
                self.stdout.contains(needle) || joined.contains(needle),
                "missing {needle:?}:\n{self}"
            );
        }
        assert!(!self.stderr.contains("panicked"), "{self}");
    }

    pub fn assert_passes(&self) {
        assert_eq!(self.code, Some(0), "expected PASS (exit 0):\n{self}");
        assert!(self.stdout.contains("\nPASS  "), "no PASS verdict:\n{self}");
    }
}

impl std::fmt::Display for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?} after {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.took, self.stdout, self.stderr
        )
    }
}

/// Runs `realtime-tutor check <args…> --color never`.
pub fn check(args: &[&str]) -> Checked {
    check_in_colour(args, "never")
}

/// Runs `realtime-tutor check <args…> --color <color>`, with no colour variable set, so the flag
/// alone decides.
pub fn check_in_colour(args: &[&str], color: &str) -> Checked {
    let started = Instant::now();
    let out: Output = run_bounded(
        Command::new(env!("CARGO_BIN_EXE_realtime-tutor"))
            .arg("check")
            .args(args)
            .args(["--color", color])
            .env_remove("CLICOLOR_FORCE")
            .env_remove("NO_COLOR"),
        COMMAND_LIMIT,
    );
    Checked {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

/// A port on 127.0.0.1 where nothing listens: bind a free one, then let it go.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[test]
fn nothing_listening_fails_fast_and_says_so() {
    let url = format!("http://127.0.0.1:{}", free_port());
    for lesson in ["1", "2", "3"] {
        let out = check(&[lesson, "--url", &url]);
        out.assert_fails(&["nothing is listening on 127.0.0.1:", "Start your server first"]);
        assert!(out.took < BAD_TARGET_BOUND, "{out}");
    }
}

#[test]
fn a_listener_that_never_answers_fails_within_the_bound() {
    // The operating system completes TCP connections into the listen backlog, so this listener
    // accepts connections (from the client's point of view) and never says a word.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    for lesson in ["1", "2", "3"] {
        let out = check(&[lesson, "--url", &url]);
        out.assert_fails(&["accepted the connection but never answered", "timed out after"]);
        assert!(out.took < BAD_TARGET_BOUND, "lesson {lesson}: {out}");
    }
    drop(silent);
}

#[test]
fn an_http_server_without_socket_io_fails_with_the_status_it_got() {
    let rt = runtime();
    // Lesson 1 stage 2's server: the app inside an HTTP server, no Socket.IO.
    let server = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        StageServer::start(Mount::HttpServer, Behaviour::default(), Some(listener)).unwrap()
    });
    let url = format!("http://{}", server.addr().unwrap());
    for lesson in ["1", "2", "3"] {
        let out = check(&[lesson, "--url", &url]);
        out.assert_fails(&[
            "the Socket.IO handshake at /socket.io/ got HTTP 404 Not Found",
            "app.listen",
            "--path",
        ]);
        assert!(out.took < BAD_TARGET_BOUND, "{out}");
    }
    let lesson_1 = check(&["1", "--url", &url]);
    assert!(
        lesson_1.stdout.contains("✓ 200 OK"),
        "the page itself is served: {lesson_1}"
    );
    rt.block_on(server.stop());
}

#[test]
fn a_plain_websocket_server_is_told_apart_from_socket_io() {
    use futures_util::SinkExt;
    let rt = runtime();
    // A WebSocket server that greets every client with a line of text: a WebSocket, but no
    // Engine.IO OPEN packet, so not Socket.IO.
    let addr = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(async move {
                    if let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await {
                        let _ = ws.send("hello from a plain WebSocket".into()).await;
                        let _ = std::future::pending::<()>().await;
                    }
                });
            }
        });
        addr
    });
    let url = format!("http://{addr}");
    for lesson in ["2", "3"] {
        let out = check(&[lesson, "--url", &url]);
        out.assert_fails(&[
            "the first frame was hello from a plain WebSocket",
            "this is a WebSocket server, but not a Socket.IO server",
        ]);
        assert!(out.took < BAD_TARGET_BOUND, "{out}");
    }
}

#[test]
fn usage_mistakes_exit_2_with_a_message() {
    for (args, needle) in [
        (
            &["2", "--url", "localhost:3000"][..],
            "like http://127.0.0.1:3000",
        ),
        (
            &["2", "--url", "https://127.0.0.1:3000"],
            "https is not supported",
        ),
        (&["2", "--url", "http://127.0.0.1:3000/socket.io/"], "--path"),
        (&["2", "--url", "not a url"], "is not a URL"),
        (
            &["2", "--url", "http://127.0.0.1:3000", "--path", "chat"],
            "/socket.io/",
        ),
        (&["99", "--url", "http://127.0.0.1:3000"], "there is no lesson"),
        // A password in --url is never echoed.
        (
            &["2", "--url", "http://user:s3cret@127.0.0.1:3000"],
            "\"http://***@127.0.0.1:3000\": user names and passwords are not supported",
        ),
        (
            &[
                "2",
                "--url",
                "http://user:s3cret@127.0.0.1:3000/socket.io/",
                "--format",
                "json",
            ],
            "http://***@127.0.0.1:3000/socket.io/",
        ),
        (&["2"], "--url"),
    ] {
        let out = check(args);
        assert_eq!(out.code, Some(2), "{args:?}: {out}");
        assert!(
            crate::common::unwrapped(&out.stderr).contains(needle),
            "{args:?} should mention {needle:?}: {out}"
        );
        assert!(out.stdout.is_empty() && !out.stderr.contains("panicked"), "{out}");
        assert!(!out.stderr.contains("s3cret"), "{out}");
    }
}

/// socketioxide's natural way to send an event with nothing, `emit("hi", &())`, puts `null` on
/// the wire: `42["hi",null]`. Lesson 2 teaches who receives 'hi', not what it carries, so the
/// check passes and notes the difference.
#[test]
fn an_argument_where_the_lesson_sends_none_is_noted_not_failed() {
    use socketioxide::SocketIo;
    use socketioxide::extract::SocketRef;
    let rt = runtime();
    let url = rt.block_on(async {
        let (layer, io) = SocketIo::new_layer();
        io.ns("/", async |socket: SocketRef| {
            socket.broadcast().emit("hi", &()).await.ok();
        });
        let app = axum::Router::new().layer(layer);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    });
    let out = check(&["2", "--url", &url]);
    out.assert_passes();
    assert!(
        crate::common::unwrapped(&out.stdout).contains(
            "Note: your server sends 'hi' with null, where the lesson's server sends it with no arguments \
             (socketioxide's emit(\"hi\", &()) sends null). This lesson teaches who receives 'hi'"
        ),
        "{out}"
    );
    // Who receives it is still judged: the newcomer must not hear its own 'hi'.
    let out = check(&["2", "--url", &url, "--format", "json"]);
    let verdict: serde_json::Value =
        serde_json::from_str(out.stdout.lines().last().unwrap_or_default()).expect("a JSON verdict");
    assert_eq!(verdict["verdict"], "pass", "{out}");
}

/// Our own Rust servers, played as someone else's: the check must judge a Socket.IO server in
/// any language, and socketioxide answers CONNECT before its handlers exist (see "How the tutor knows what the server did" in src/server/mod.rs),
/// which the remote mode's quiet window has to cover.
#[test]
fn a_rust_server_is_judged_like_any_other() {
    let rt = runtime();
    let cases = [
        ("2", ("connection", "broadcast-hi"), Ok(())),
        ("3", ("chat message", "io-emit-chat"), Ok(())),
        (
            "3",
            ("chat message", "broadcast-chat"),
            Err(vec![
                "alice did not get their own 'chat message' \"hi everyone\" back",
                "that is what socket.broadcast.emit does; the lesson asks for io.emit, which includes the sender",
            ]),
        ),
        (
            "2",
            ("connection", "io-emit-hello"),
            Err(vec![
                "your server sent no 'hi' to any client",
                "It did send 'hello', which this lesson does not judge",
                "(not judged by this lesson: 'hello' \"world\")",
            ]),
        ),
    ];
    for (lesson, (trigger, handler), expected) in cases {
        let server = rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let behaviour = Behaviour::default().with(trigger, handler).unwrap();
            StageServer::start(Mount::Realtime, behaviour, Some(listener)).unwrap()
        });
        let url = format!("http://{}", server.addr().unwrap());
        let out = check(&[lesson, "--url", &url]);
        match expected {
            Ok(()) => out.assert_passes(),
            Err(needles) => out.assert_fails(&needles),
        }
        rt.block_on(server.stop());
    }
}
