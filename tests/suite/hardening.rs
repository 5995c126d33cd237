//! Hostile disks and terminals: output that cannot be written, progress files that are not
//! files, text meant to fool a terminal or a JSON consumer (issue 10's disk-and-output items).

use std::io::Read;
use std::process::{Command, Stdio};

use crate::common::{COMMAND_LIMIT, run_bounded, unwrapped, wait_bounded};

fn tutor() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_realtime-tutor"));
    command
        .env(
            "REALTIME_TUTOR_HOME",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/hardening-progress"),
        )
        .env("NO_COLOR", "1");
    command
}

/// Runs the tutor with `stdout` as its standard output; returns its exit code and stderr.
fn run_into(args: &[&str], stdout: Stdio) -> (Option<i32>, String) {
    let mut command = tutor();
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped());
    let what = format!("{command:?}");
    let mut child = command.spawn().expect("the tutor starts");
    let mut stderr_pipe = child.stderr.take().expect("piped stderr");
    // Read on a thread so that a chatty child cannot fill the pipe while we wait.
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr_pipe.read_to_string(&mut text);
        text
    });
    let status = wait_bounded(&mut child, COMMAND_LIMIT, &what);
    (status.code(), reader.join().expect("the stderr reader"))
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_an_error_message_and_status_1_not_a_panic() {
    for args in [
        &["lesson", "1"][..],
        &["lesson", "2", "--stage", "1", "--format", "json"],
        &["list"],
        &["list", "--format", "json"],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let (code, stderr) = run_into(args, Stdio::from(full));
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert_eq!(
            stderr.trim_end(),
            "error: cannot write to standard output: No space left on device (os error 28)",
            "{args:?}"
        );
    }
}

#[test]
fn a_closed_pipe_ends_quietly_with_status_141() {
    for args in [&["tour", "--no-pause"][..], &["list", "--format", "json"]] {
        // The reading end is closed before the tutor starts, so its very first write finds
        // nobody to read it: the same as `| head` after head exits, without a race.
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let (code, stderr) = run_into(args, Stdio::from(writer));
        assert_eq!(code, Some(141), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}: quiet");
    }
}

#[cfg(unix)]
#[test]
fn list_refuses_a_fifo_for_a_progress_file_instead_of_hanging() {
    let home = tempfile::tempdir().unwrap();
    let fifo = home.path().join("progress.json");
    assert!(
        run_bounded(Command::new("mkfifo").arg(&fifo), COMMAND_LIMIT)
            .status
            .success()
    );
    let out = run_bounded(
        tutor().env("REALTIME_TUTOR_HOME", home.path()).arg("list"),
        std::time::Duration::from_secs(20),
    );
    let raw = String::from_utf8_lossy(&out.stderr);
    // An error is wrapped to the width of standard error, 80 columns when it is a pipe.
    assert!(raw.lines().all(|l| l.chars().count() <= 80), "{raw}");
    let stderr = crate::common::unwrapped(&raw);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("is a FIFO (named pipe), not a regular file"),
        "{stderr}"
    );
}

/// Characters that reorder or split what a terminal shows, or that some terminals obey as
/// commands, as a hostile server might put them in an event name or a message.
const TRICKY: &str = "x\u{061c}a\u{2028}b\u{2029}c\u{202e}d\u{2066}e\u{200f}f\u{9b}31m\u{85}\u{7f}y";

fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

#[test]
fn text_and_json_output_escape_bidi_controls_c1_and_separators() {
    use realtime_tutor::trace::{Delivery, Kind, StageTrace, StepRecord, json};
    use realtime_tutor::ui;
    let mut record = StepRecord::new(2, 1, 1, Kind::Emit, "alice emits".into());
    record.sender = Some("alice".into());
    record.event = Some(TRICKY.into());
    record.args = vec![serde_json::Value::from(TRICKY)];
    record.received_by = vec!["bob".into()];
    record.received.insert(
        "bob".into(),
        vec![Delivery {
            event: TRICKY.into(),
            args: vec![serde_json::json!({ TRICKY: TRICKY })],
            nsp: None,
        }],
    );
    let line = json::step_line(&record);
    let raw: Vec<String> = line
        .chars()
        .filter(|&c| is_unsafe(c))
        .map(|c| format!("{:04x}", u32::from(c)))
        .collect();
    assert!(raw.is_empty(), "raw in the JSON line: {raw:?}\n{line}");
    assert!(
        line.contains(r"x\u061ca\u2028b\u2029c\u202ed\u2066e\u200ff\u009b31m\u0085\u007fy"),
        "{line}"
    );
    let back: serde_json::Value = serde_json::from_str(&line).expect("still JSON");
    assert_eq!(back["event"], TRICKY, "a parser reads the same text");
    let trace = StageTrace {
        lesson: 2,
        stage: 1,
        title: "t".into(),
        clients: vec!["alice".into(), "bob".into()],
        steps: vec![record],
        measure: None,
    };
    let shown = ui::stage_trace(&trace);
    // The styles `text` writes are ESC sequences of its own; look at what is left without them.
    let plain = anstream::adapter::strip_str(&shown).to_string();
    let raw: Vec<String> = plain
        .chars()
        .filter(|&c| c != '\n' && is_unsafe(c))
        .map(|c| format!("{:04x}", u32::from(c)))
        .collect();
    assert!(raw.is_empty(), "raw in the text trace: {raw:?}\n{plain}");
    assert!(plain.contains(r"x\u{61c}a\u{2028}b\u{2029}c\u{202e}d"), "{plain}");
}

/// Objects whose keys need escaping in JSON, at the top and further down.
fn escaped_key_messages() -> [serde_json::Value; 2] {
    [
        serde_json::json!({"a\"b": 1}),
        serde_json::json!({"plain": {"c\\d": [{"\u{e9}\n": "x"}]}}),
    ]
}

/// Node's socket.io echoes any JSON a client sends. socketioxide's argument parser reads the
/// first key of every object as borrowed text, which fails for a key with an escape in it
/// (`{"a\"b":1}`), and the lesson server then refused the message as unreadable.
#[test]
fn a_chat_object_whose_keys_need_escaping_is_echoed_like_node() {
    use std::time::Duration;

    use realtime_tutor::client::{ConnectOptions, Incoming, SimClient};
    use realtime_tutor::server::{Behaviour, Mount, ServerEvent, StageServer, http};

    const WAIT: Duration = Duration::from_secs(10);
    crate::common::runtime().block_on(async {
        let behaviour = Behaviour::default()
            .with("chat message", "io-emit-chat")
            .expect("a known handler");
        let listener = http::bind("127.0.0.1", 0).await.expect("bind");
        let mut stage = StageServer::start(Mount::Realtime, behaviour, Some(listener)).expect("start");
        let url = format!("http://{}", stage.addr().expect("listening"));
        let mut client = SimClient::connect(&url, &ConnectOptions::default())
            .await
            .expect("connects");
        let wait_for = async |stage: &mut StageServer, what: &str| {
            tokio::time::timeout(WAIT, stage.next_event())
                .await
                .unwrap_or_else(|_| panic!("waited {WAIT:?} for {what}"))
                .unwrap_or_else(|| panic!("the server stopped before {what}"))
        };
        loop {
            if let ServerEvent::Connected { .. } = wait_for(&mut stage, "the connection handler").await {
                break;
            }
        }
        for msg in escaped_key_messages() {
            client.emit("chat message", vec![msg.clone()]).expect("emit");
            loop {
                match wait_for(&mut stage, "the chat handler").await {
                    ServerEvent::Handled { .. } => break,
                    ServerEvent::Rejected { reason, .. } => panic!("{msg} was refused: {reason}"),
                    _ => {}
                }
            }
            match client.next(WAIT).await {
                Some(Incoming::Event { name, args }) => {
                    assert_eq!(name, "chat message");
                    assert_eq!(args, [msg], "echoed as sent");
                }
                other => panic!("expected the echo of {msg}, got {other:?}"),
            }
        }
        let _ = client.leave(Duration::from_millis(500)).await;
        stage.stop().await;
    });
}

/// A tiny HTTP/1.1 server on a free loopback port that answers every request with
/// `302 Found` to `/login?next=…`, as a login middleware in front of everything would.
fn redirecting_server() -> std::net::SocketAddr {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = String::new();
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            // Up to the blank line that ends the request head.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                request.push_str(&line);
                line.clear();
            }
            let target = request.split(' ').nth(1).unwrap_or("/").to_owned();
            let _ = write!(
                stream,
                "HTTP/1.1 302 Found\r\nLocation: /login?next={target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    addr
}

#[test]
fn check_names_a_redirect_instead_of_blaming_app_listen() {
    let addr = redirecting_server();
    for lesson in ["1", "2"] {
        let out = run_bounded(
            tutor().args(["check", lesson, "--url", &format!("http://{addr}")]),
            COMMAND_LIMIT,
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "lesson {lesson}: {stdout}");
        assert!(
            unwrapped(&stdout).contains("the server redirected /socket.io/ to /login?next=/socket.io/?EIO=4&transport=polling (HTTP 302 Found)"),
            "lesson {lesson}: {stdout}"
        );
        assert!(!stdout.contains("app.listen"), "lesson {lesson}: {stdout}");
    }
}

/// The reference for the test above: Node's socket.io, with the same handler
/// (`socket.on('chat message', (msg) => io.emit('chat message', msg))`), echoes those objects.
#[test]
fn node_echoes_objects_whose_keys_need_escaping() {
    use std::time::Duration;

    use realtime_tutor::client::{ConnectOptions, Incoming, SimClient};

    const WAIT: Duration = Duration::from_secs(10);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    assert!(
        dir.join("node_modules/socket.io/package.json").is_file(),
        "tests/node/node_modules is missing: run `npm ci` there (`bash scripts/test.sh` does)"
    );
    let script = "const http = require('node:http').createServer();
        const io = new (require('socket.io').Server)(http);
        io.on('connection', (socket) => {
          socket.on('chat message', (msg) => io.emit('chat message', msg));
        });
        http.listen(0, '127.0.0.1', () => console.log(http.address().port));";
    // Killed when the test ends, also when it fails.
    let node = crate::common::process::Server::start(
        Command::new("node").args(["-e", script]).current_dir(&dir),
        "node and `npm ci` in tests/node (`bash scripts/test.sh` does both)",
    );
    crate::common::runtime().block_on(async {
        let mut client = SimClient::connect(&node.url, &ConnectOptions::default())
            .await
            .expect("connects");
        for msg in escaped_key_messages() {
            client.emit("chat message", vec![msg.clone()]).expect("emit");
            match client.next(WAIT).await {
                Some(Incoming::Event { name, args }) => {
                    assert_eq!(name, "chat message");
                    assert_eq!(args, [msg], "Node echoes it as sent");
                }
                other => panic!("expected Node's echo of {msg}, got {other:?}"),
            }
        }
        let _ = client.leave(Duration::from_millis(500)).await;
    });
    drop(node);
}
