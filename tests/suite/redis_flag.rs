//! `--redis URL`: checked for its form before anything runs, refused where no stage would use
//! it, and every word about it names the same Redis version.

use std::process::{Command, Output};

use crate::common::{COMMAND_LIMIT, run_bounded};

fn tutor(args: &[&str]) -> Output {
    let home = tempfile::tempdir().expect("a temporary progress folder");
    run_bounded(
        Command::new(env!("CARGO_BIN_EXE_realtime-tutor"))
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE")
            .env("REALTIME_TUTOR_HOME", home.path()),
        COMMAND_LIMIT,
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The version the adapter needs: RESP3 (`HELLO 3`, and pub/sub messages as push frames on the
/// connection that also sends commands) came with Redis 6.0.
const VERSION: &str = "Redis 6 or later";

#[test]
fn a_malformed_url_is_refused_before_stage_1_runs() {
    for (url, why) in [
        ("http://127.0.0.1:6379", "it must start with redis://"),
        ("redis://127.0.0.1", "it names no port"),
        ("redis://127.0.0.1:99999", "redis://host:port"),
    ] {
        let out = tutor(&["lesson", "7", "--no-pause", "--redis", url]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{url}: {err}");
        assert!(
            out.stdout.is_empty(),
            "{url}: stage 7.1 ran:\n{}",
            text(&out.stdout)
        );
        assert!(
            err.contains(why) && err.contains("redis://127.0.0.1:6379"),
            "{url}: {err}"
        );
    }
}

#[test]
fn redis_is_refused_where_no_stage_uses_it() {
    let url = "redis://127.0.0.1:6379";
    for (args, needle) in [
        (
            &["lesson", "3", "--redis", url][..],
            "lesson 3 does not use Redis",
        ),
        (&["lesson", "7.1", "--redis", url], "stage 7.1 does not use Redis"),
        (
            &["lesson", "7", "--stage", "1", "--redis", url],
            "stage 7.1 does not use Redis",
        ),
        (
            &["check", "3", "--url", "http://127.0.0.1:9", "--redis", url],
            "check does not use --redis",
        ),
        (
            &["serve", "3", "--redis", url],
            "lesson 3's server does not use Redis",
        ),
    ] {
        let out = tutor(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?} ran something");
        assert!(
            crate::common::unwrapped(&err).contains(needle),
            "{args:?}: {needle:?} in {err}"
        );
        assert!(err.lines().all(|l| l.chars().count() <= 80), "{err}");
    }
    // The tour reaches lesson 7, so it takes --redis: here a Redis nobody runs, which the
    // tutor then reports as unreachable (exit 1), not as a usage error.
    let out = tutor(&["tour", "--from", "7.2", "--redis", "redis://127.0.0.1:1"]);
    let err = crate::common::unwrapped(&text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no Redis answered at redis://127.0.0.1:1"), "{err}");
    assert!(err.contains(VERSION), "{err}");
}

#[test]
fn the_help_and_the_messages_name_the_same_redis_version() {
    for args in [
        &["lesson", "--help"][..],
        &["tour", "--help"],
        &["serve", "--help"],
    ] {
        let help = text(&tutor(args).stdout);
        let words = help.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(words.contains(VERSION), "{args:?}: {help}");
        assert!(!words.contains("Redis 7"), "{args:?}: {help}");
    }
    let nothing = tempfile::tempdir().expect("a temporary folder");
    let out = run_bounded(
        Command::new(env!("CARGO_BIN_EXE_realtime-tutor"))
            .args(["lesson", "7.2", "--color", "never"])
            .env("PATH", nothing.path()),
        COMMAND_LIMIT,
    );
    let words = text(&out.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(&format!("a {VERSION} you run yourself")),
        "{words}"
    );
    assert!(!words.contains("Redis 7"), "{words}");
}

/// A `redis-server` of the test's own on a TCP port (what `--redis` takes), killed on drop.
/// Its port is chosen at random and tried again when taken: a free port is never assumed to
/// stay free.
fn tcp_redis() -> (crate::common::process::KillOnDrop, u16) {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    for _ in 0..20 {
        let port = 20_000 + fastrand::u16(..40_000);
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "no"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("redis-server starts (`bash scripts/test.sh` installs it)");
        let stdout = child.stdout.take().expect("stdout");
        let child = crate::common::process::KillOnDrop(child);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("Ready to accept connections") {
                    let _ = tx.send(true);
                }
            }
            let _ = tx.send(false);
        });
        if rx.recv_timeout(COMMAND_LIMIT) == Ok(true) {
            return (child, port);
        }
    }
    panic!("redis-server did not start on any of 20 ports");
}

/// `serve 7 --redis URL` when that Redis goes away: a chat message sent after it went is shown
/// as sent to nobody, on neither server, with the adapter's error (the Redis adapter publishes
/// before it sends to its own sockets, so the sender did not get it either), and serve stops
/// with exit status 1, naming the Redis, within the watch's bound. (The watch may notice first
/// and stop serve before the message is handled; then there is no line for it at all.)
#[test]
fn serve_7_stops_and_says_so_when_its_redis_goes_away() {
    use serde_json::json;
    let (redis, port) = tcp_redis();
    let url = format!("redis://127.0.0.1:{port}");
    crate::common::runtime().block_on(async {
        let mut command = crate::serve::tutor();
        command.args(["serve", "7", "--redis", &url]);
        let mut serve = crate::serve::Serve::spawn(command).await;
        let b = serve
            .wait_for("server B's listening line", |l| {
                l["kind"] == "listening" && l["node"] == "B"
            })
            .await;
        let b = b["url"].as_str().expect("a url").trim_end_matches('/').to_owned();
        let options = realtime_tutor::client::ConnectOptions::default();
        let _omar = realtime_tutor::client::SimClient::connect_with_query(&b, &options, &[("name", "omar")])
            .await
            .expect("omar connects to B");
        serve
            .wait_for("omar on B", crate::serve::connect_line("omar"))
            .await;
        let nina = crate::serve::join(&mut serve, "nina").await;
        // Redis goes away (killed, as a crash would), and nina speaks at once.
        drop(redis);
        nina.emit("chat message", vec![json!("after redis")])
            .expect("sends");
        let (lines, code, stderr) = serve.until_exit(std::time::Duration::from_secs(15)).await;
        let emitted = lines
            .iter()
            .find(|l| crate::serve::emit_line("nina", "after redis")(l));
        let refused = lines
            .iter()
            .find(|l| l["kind"] == "rejected" && l["client"] == "nina");
        if let Some(line) = emitted {
            assert_eq!(line["sent_to"], json!([]), "nobody got it: {line}");
            assert_eq!(line["relayed"], json!(null), "not relayed to B: {line}");
            let refused = refused.unwrap_or_else(|| panic!("no reason given: {lines:#?}"));
            let reason = refused["reason"].as_str().unwrap_or_default();
            assert!(reason.starts_with("Adapter error"), "{refused}");
        }
        assert_eq!(code, Some(1), "{stderr}\n{lines:#?}");
        let stderr = crate::common::unwrapped(&stderr);
        assert!(stderr.contains(&url), "names the Redis: {stderr}");
        assert!(stderr.contains("went away"), "says what happened: {stderr}");
    });
}
