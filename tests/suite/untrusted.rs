//! `check` talks to a server we do not control. These servers misbehave on purpose: text that
//! would drive a terminal, a body that never ends, a WebSocket message far too large, a flood of
//! events. Each must end in a clear verdict or error, within a bound, with nothing raw printed.

use std::time::{Duration, Instant};

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use futures_util::SinkExt;
use realtime_tutor::client::{ConnectOptions, Incoming, SimClient, http};
use realtime_tutor::runner::MAX_EVENTS_PER_STEP;
use socketioxide::SocketIo;
use socketioxide::extract::SocketRef;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use crate::check::{BAD_TARGET_BOUND, check_in_colour};
use crate::common::{raw_peer, runtime, unwrapped};

/// An OSC sequence that renames the terminal window, then a colour code that turns it red.
const EVIL: &str = "\u{1b}]0;pwned\u{7}\u{1b}[31m";

/// How [`EVIL`] must look once printed: every control character written out.
const SHOWN: &str = "\\u{1b}]0;pwned\\u{7}\\u{1b}[31m";

/// Runs `realtime-tutor check <args…> --color <color>`; returns stdout and stderr together and
/// the exit code.
fn check(args: &[&str], color: &str) -> (String, Option<i32>, Duration) {
    let out = check_in_colour(args, color);
    (out.stdout + &out.stderr, out.code, out.took)
}

/// True when every ESC in `text` starts a colour code (`ESC [ digits ; … m`), which is all
/// owo-colors writes.
fn only_colour_codes(text: &str) -> bool {
    text.split('\u{1b}').skip(1).all(|rest| {
        rest.strip_prefix('[')
            .and_then(|r| r.find('m').map(|end| &r[..end]))
            .is_some_and(|codes| codes.chars().all(|c| c.is_ascii_digit() || c == ';'))
    })
}

/// Runs one check twice: with `--color never`, nothing but text may come out (no ESC, no BEL)
/// and the server's sequences must show as visible escapes; with `--color always`, the only
/// escape sequences are the tutor's own colours.
fn assert_printed_safely(args: &[&str], needles: &[&str]) {
    let (plain, code, took) = check(args, "never");
    assert_eq!(code, Some(1), "expected FAIL:\n{plain}");
    assert!(took < BAD_TARGET_BOUND, "took {took:?}:\n{plain}");
    assert!(
        !plain.contains(['\u{1b}', '\u{7}']),
        "a raw control character reached the output:\n{plain:?}"
    );
    for needle in needles {
        assert!(
            plain.contains(needle) || unwrapped(&plain).contains(needle),
            "missing {needle:?}:\n{plain}"
        );
    }
    let (coloured, _, _) = check(args, "always");
    assert!(coloured.contains('\u{1b}'), "--color always printed no colour");
    assert!(
        only_colour_codes(&coloured) && !coloured.contains('\u{7}'),
        "an escape sequence other than a colour reached the output:\n{coloured:?}"
    );
}

/// A Socket.IO server whose page title and whose event carry [`EVIL`].
async fn evil_socket_io_server() -> String {
    let (layer, io) = SocketIo::new_layer();
    io.ns("/", async |socket: SocketRef| {
        socket.emit(format!("hi{EVIL}"), &EVIL).ok();
    });
    let page = format!("<html><head><title>{EVIL}</title></head><body>{EVIL}</body></html>");
    let app = Router::new()
        .route("/", get(move || async move { Html(page) }))
        .layer(layer);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// What a raw WebSocket server does after the upgrade.
#[derive(Debug, Clone, Copy)]
enum Raw {
    /// Sends this text instead of an Engine.IO OPEN packet.
    Greet(&'static str),
    /// Opens the session, then refuses the Socket.IO CONNECT with [`EVIL`] as the message.
    Refuse,
    /// Opens the session, accepts the CONNECT, then sends events for as long as it can.
    Flood,
    /// Opens the session, accepts the CONNECT, then sends one 2 MiB event.
    Huge,
    /// Opens the session, then refuses the Socket.IO CONNECT with a 300 kB message.
    RefuseHuge,
}

/// A raw peer (see [`raw_peer`]) that breaks the protocol as `mode` says.
async fn raw_server(mode: Raw) -> String {
    raw_peer::serve(move |mut ws| async move {
        if let Raw::Greet(text) = mode {
            let _ = ws.send(Message::text(text)).await;
            std::future::pending::<()>().await;
        }
        if !raw_peer::open_session(&mut ws).await {
            return;
        }
        match mode {
            Raw::Greet(_) => {}
            Raw::Refuse => {
                let refusal = serde_json::json!({ "message": EVIL });
                let _ = ws.send(Message::text(format!("44{refusal}"))).await;
                std::future::pending::<()>().await;
            }
            Raw::RefuseHuge => {
                let refusal = serde_json::json!({ "message": "n".repeat(HUGE) });
                let _ = ws.send(Message::text(format!("44{refusal}"))).await;
                std::future::pending::<()>().await;
            }
            Raw::Flood => {
                let _ = ws.send(Message::text(raw_peer::CONNECTED)).await;
                // Endless, but yielding now and then: a loop that never yields would take
                // a whole core from the tutor it floods (and from the tests next to it).
                while ws.send(Message::text(r#"42["hi"]"#)).await.is_ok() {
                    tokio::task::yield_now().await;
                }
            }
            Raw::Huge => {
                let _ = ws.send(Message::text(raw_peer::CONNECTED)).await;
                let big = format!(r#"42["hi","{}"]"#, "x".repeat(2 << 20));
                let _ = ws.send(Message::text(big)).await;
                std::future::pending::<()>().await;
            }
        }
    })
    .await
}

#[test]
fn a_page_title_and_events_cannot_drive_the_terminal() {
    let rt = runtime();
    let url = rt.block_on(evil_socket_io_server());
    // Lesson 1: the title is shown under GET /; the server is right otherwise, so it passes.
    let (plain, code, _) = check(&["1", "--url", &url], "never");
    assert_eq!(code, Some(0), "{plain}");
    assert!(!plain.contains(['\u{1b}', '\u{7}']), "{plain:?}");
    assert!(plain.contains(&format!("<title>{SHOWN}</title>")), "{plain}");
    let (coloured, _, _) = check(&["1", "--url", &url], "always");
    assert!(only_colour_codes(&coloured), "{coloured:?}");
    // Lesson 2: the event's name and argument appear in the trace, the wire and the verdict.
    assert_printed_safely(
        &["2", "--url", &url, "--wire"],
        &[
            &format!("(not judged by this lesson: 'hi{SHOWN}' \"\\u001b]0;pwned\\u0007"),
            &format!("It did send 'hi{SHOWN}'"),
        ],
    );
}

/// A string far longer than any line should be (an audit saw `check` print a line of 878 KiB),
/// yet small enough that a step stays within what the tutor reads from one client in one step
/// (2 MiB, counting frames and decoded events): three of them still fit.
const HUGE: usize = 300_000;

/// A Socket.IO server whose every string is huge: the 'hi' it broadcasts carries a 300 kB
/// argument, the event it greets with has a 300 kB name, and its callback answers with 300 kB.
async fn huge_socket_io_server() -> String {
    use socketioxide::extract::AckSender;
    let (layer, io) = SocketIo::new_layer();
    io.ns("/", async |socket: SocketRef| {
        socket.emit("x".repeat(HUGE), &()).ok();
        socket.broadcast().emit("hi", &"y".repeat(HUGE)).await.ok();
        socket.on("question", async |ack: AckSender| {
            ack.send(&"z".repeat(HUGE)).ok();
        });
    });
    let app = Router::new().layer(layer);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// The longest line in `text`, in characters.
fn longest_line(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

#[test]
fn a_servers_huge_strings_are_cut_in_the_trace_the_verdict_and_the_json() {
    let rt = runtime();
    let url = rt.block_on(huge_socket_io_server());
    let refusing = rt.block_on(raw_server(Raw::RefuseHuge));
    for args in [
        &["2", "--url", url.as_str()][..],
        &["2", "--url", &url, "--format", "json"],
        &["5", "--url", &url],
        &["5", "--url", &url, "--format", "json"],
        &["2", "--url", &refusing, "--transports", "websocket"],
        &[
            "2",
            "--url",
            &refusing,
            "--transports",
            "websocket",
            "--format",
            "json",
        ],
    ] {
        let (out, code, _) = check(args, "never");
        // A verdict either way: when socketioxide's broadcast from its connection handler
        // arrives is its own business (see PROTOCOL.md's connect race), and not this test's.
        assert!(
            matches!(code, Some(0 | 1)),
            "{args:?}: {}",
            &out[..out.len().min(4000)]
        );
        // The lesson output's rule: a stranger's string shows 80 characters and a `…`; a whole
        // sentence of the verdict stays within 1000.
        assert!(
            longest_line(&out) < 2000,
            "{args:?}: a line of {} characters",
            longest_line(&out)
        );
        assert!(out.len() < 64 * 1024, "{args:?}: {} bytes", out.len());
        assert!(out.contains("…"), "{args:?}: the cut is marked: {out}");
    }
    // A long value is wrapped to the terminal's width, inside the value too: compared without
    // the white space, the cut value is whole.
    let solid = |text: &str| text.split_whitespace().collect::<String>();
    let (out, _, _) = check(&["2", "--url", &url], "never");
    assert!(
        solid(&out).contains(&format!("'hi'\"{}…\"", "y".repeat(80))),
        "{out}"
    );
    let (out, _, _) = check(&["5", "--url", &url], "never");
    assert!(
        solid(&out).contains(&format!("alice'scallbackgot\"{}…\"", "z".repeat(80))),
        "{out}"
    );
}

#[test]
fn a_first_frame_and_a_refusal_cannot_drive_the_terminal() {
    let rt = runtime();
    let greeting = rt.block_on(raw_server(Raw::Greet(EVIL)));
    assert_printed_safely(
        &["2", "--url", &greeting, "--transports", "websocket"],
        &[&format!("the first frame was {SHOWN}"), "not a Socket.IO server"],
    );
    let refusing = rt.block_on(raw_server(Raw::Refuse));
    assert_printed_safely(
        &["2", "--url", &refusing, "--transports", "websocket"],
        &[&format!(
            "refused the Socket.IO connection to the default namespace: {SHOWN}"
        )],
    );
}

#[test]
fn a_flood_of_events_fails_the_step_instead_of_reading_forever() {
    let rt = runtime();
    let url = rt.block_on(raw_server(Raw::Flood));
    // The raw peers speak WebSocket only (see `common::raw_peer`).
    let (plain, code, took) = check(&["2", "--url", &url, "--transports", "websocket"], "never");
    assert_eq!(code, Some(1), "{plain}");
    assert!(
        unwrapped(&plain).contains(&format!(
            "the server sent more than {MAX_EVENTS_PER_STEP} events to alice in one step"
        )),
        "{plain}"
    );
    assert!(took < BAD_TARGET_BOUND, "took {took:?}\n{plain}");
}

#[test]
fn a_message_over_the_size_limit_closes_the_client() {
    runtime().block_on(async {
        let url = raw_server(Raw::Huge).await;
        let options = ConnectOptions {
            timeout: Duration::from_secs(5),
            ..ConnectOptions::websocket_only()
        };
        let mut client = SimClient::connect(&url, &options).await.unwrap();
        match client.next(Duration::from_secs(5)).await {
            Some(Incoming::Closed { reason }) => {
                assert!(reason.contains("Message too long"), "{reason}")
            }
            other => panic!("a 2 MiB message must close the client, got {other:?}"),
        }
    });
}

#[test]
fn an_endless_body_is_read_only_up_to_the_limit() {
    runtime().block_on(async {
        // An HTTP server that answers GET with a chunked body that never ends.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut request = [0u8; 1024];
                    let _ = tcp.read(&mut request).await;
                    let head =
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n";
                    let mut out = head.as_bytes().to_vec();
                    out.extend_from_slice(b"10\r\n<title>t</title>\r\n");
                    let chunk = format!("4000\r\n{}\r\n", "y".repeat(0x4000));
                    while tcp.write_all(&out).await.is_ok() {
                        out = chunk.clone().into_bytes();
                    }
                });
            }
        });
        let started = Instant::now();
        let reply = http::get(&addr.to_string(), "/", Duration::from_secs(5))
            .await
            .expect("the first part of the body is the reply");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(reply.code, 200);
        assert_eq!(reply.body.len(), http::EXCERPT_LIMIT);
        assert!(reply.body.starts_with("<title>t</title>yyy"));
    });
}
