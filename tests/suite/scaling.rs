//! Lesson 7 on the real things: our two servers and Node's two socket.io servers (each pair on
//! its own private Redis) give the same traces; `check 7` judges a pair of Node servers; no
//! `redis-server` outlives the tutor. Lesson 7 without `redis-server` is in `missing_parts`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use realtime_tutor::parts::redis_server::{Redis, RedisServer};
use realtime_tutor::runner::{self, RunOptions, Target};
use realtime_tutor::trace::StageTrace;

use crate::common::compare::{assert_steps_agree, observed, ours_and_theirs, remote_options};
use crate::common::process::{STARTUP_LIMIT, Server, signal};
use crate::common::{COMMAND_LIMIT, lessons, run_bounded, runtime};
use crate::parts::node::node_process;

fn lesson_7() -> &'static realtime_tutor::lesson::Lesson {
    lessons().iter().find(|l| l.number == 7).expect("lesson 7")
}

/// Two Node servers running `lessons/07-scaling/stage-K.js` (`variant` `7.K`), on `redis` (a
/// socket path) or on nothing (`none`).
pub(crate) fn node_pair(redis: &str, variant: &str) -> (Server, Server) {
    (
        node_process("cluster.js", &["0", redis, variant]),
        node_process("cluster.js", &["0", redis, variant]),
    )
}

#[test]
fn lesson_7_traces_match_node_socket_io_and_its_redis_adapter_stage_by_stage() {
    let rt = runtime();
    let lesson = lesson_7();
    for stage in &lesson.stages {
        let variant = format!("7.{}", stage.number);
        let (ours, theirs): (StageTrace, StageTrace) = rt.block_on(async {
            // Each side its own Redis: the Rust and Node adapters do not speak to each other.
            let for_us = Arc::new(Redis::Private(
                RedisServer::start().await.expect("a Redis for us"),
            ));
            let for_node = RedisServer::start().await.expect("a Redis for Node");
            let socket = for_node.socket_path().to_str().unwrap().to_owned();
            let redis = if stage.needs_redis() {
                socket.as_str()
            } else {
                "none"
            };
            let (a, b) = node_pair(redis, &variant);
            let options = RunOptions {
                redis: Some(for_us),
                ..RunOptions::default()
            };
            ours_and_theirs(
                lesson,
                stage,
                &variant,
                &options,
                (&a.url, vec![b.url.clone()]),
                &remote_options(),
            )
            .await
        });
        assert_eq!(ours.clients, theirs.clients, "{variant}");
        assert_steps_agree(
            &ours,
            &theirs,
            &variant,
            observed,
            "our servers and Node's socket.io disagree",
        );
        for (a, b) in ours.steps.iter().zip(&theirs.steps) {
            // The probe: the same status, and socket.io's own words (socketioxide writes the
            // code as "1", Node as 1).
            if let (Some(p), Some(q)) = (&a.probe, &b.probe) {
                assert_eq!(
                    (p.outcome, p.status),
                    (q.outcome, q.status),
                    "{variant}: {p:?} {q:?}"
                );
                for probe in [p, q] {
                    assert!(
                        probe.observed.iter().any(|l| l.contains("Session ID unknown")),
                        "{variant}: {probe:?}"
                    );
                }
            }
        }
    }
}

pub(crate) fn tutor(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_realtime-tutor"));
    command.args(args).env("NO_COLOR", "1");
    command
}

#[test]
fn check_7_passes_two_joined_node_servers_and_names_the_two_common_mistakes() {
    let rt = runtime();
    let redis = rt.block_on(RedisServer::start()).expect("a Redis");
    let socket = redis.socket_path().to_str().unwrap().to_owned();

    let (a, b) = node_pair(&socket, "7.2");
    let out = run_bounded(
        &mut tutor(&["check", "7", "--url", &a.url, "--url", &b.url]),
        COMMAND_LIMIT,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The verdict line itself: PASS, and which lesson the pair of servers does.
    let headline = stdout
        .lines()
        .find(|l| l.starts_with("PASS  "))
        .unwrap_or_default();
    assert!(
        headline.contains("does what lesson 7 teaches"),
        "{headline}\n{stdout}"
    );

    // The same code without the adapter: alice's message never reaches B.
    let (a, b) = node_pair("none", "7.2");
    let out = run_bounded(
        &mut tutor(&["check", "7", "--url", &a.url, "--url", &b.url]),
        COMMAND_LIMIT,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL") && stdout.contains("bob"), "{stdout}");
    let joined = crate::common::unwrapped(&stdout);
    assert!(
        joined.contains("do not share broadcasts") && joined.contains("createAdapter"),
        "{stdout}"
    );
    let headline = fail_headline(&stdout);
    assert!(
        headline.contains("io.emit('chat message', msg)"),
        "{headline}\n{stdout}"
    );

    // Joined, but io.emit where the lesson asks for io.local.emit.
    let (a2, b2) = node_pair(&socket, "7.2-io-emit");
    let out = run_bounded(
        &mut tutor(&["check", "7", "--url", &a2.url, "--url", &b2.url]),
        COMMAND_LIMIT,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        crate::common::unwrapped(&stdout).contains("io.local.emit keeps it on server A"),
        "{stdout}"
    );
    // The headline names the call that went wrong, not the stage's first (right) io.emit.
    let headline = fail_headline(&stdout);
    assert!(
        headline.contains("io.local.emit('chat message', msg)"),
        "{headline}\n{stdout}"
    );

    // One --url for a lesson with two servers is a usage error that says how many.
    let out = run_bounded(&mut tutor(&["check", "7", "--url", &a.url]), COMMAND_LIMIT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("2 --url") && stderr.contains("A, B"), "{stderr}");
}

/// The verdict's headline: the `FAIL` line and the lines it wraps onto (six columns in, under
/// its text), read as one line.
fn fail_headline(stdout: &str) -> String {
    let lines: Vec<&str> = stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("FAIL"))
        .unwrap_or_default();
    let more = lines[at + 1..]
        .iter()
        .take_while(|l| l.starts_with("      ") && !l[6..].starts_with(' '));
    std::iter::once(&lines[at])
        .chain(more)
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The pids of the processes whose command line mentions `dir` (the tutor's temporary folder,
/// where its private Redis keeps its socket).
fn processes_under(dir: &Path) -> Vec<u32> {
    let needle = dir.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmd| String::from_utf8_lossy(&cmd).contains(&needle))
        })
        .filter(|pid| crate::parts::process_alive(*pid))
        .collect()
}

fn own_tmp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("l7-")
        .tempdir_in("/tmp")
        .expect("a temporary folder");
    let path = dir.path().to_path_buf();
    (dir, path)
}

#[test]
fn no_redis_server_outlives_the_lesson_when_it_ends_or_is_interrupted() {
    // A run to the end: the Redis is stopped (and waited for) before the tutor exits.
    let (_dir, tmp) = own_tmp();
    let out = run_bounded(
        tutor(&["lesson", "7", "--no-pause"]).env("TMPDIR", &tmp),
        COMMAND_LIMIT,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        processes_under(&tmp),
        Vec::<u32>::new(),
        "a redis-server outlived the lesson"
    );

    // Interrupted with Ctrl-C's signal while it waits between stages, its Redis up.
    use expectrl::{Expect, Session};
    let (_dir, tmp) = own_tmp();
    let mut command = tutor(&["lesson", "7"]);
    command.env("TMPDIR", &tmp).env("TERM", "xterm");
    let mut session = Session::spawn(command).expect("the tutor in a pseudo-terminal");
    session.set_expect_timeout(Some(Duration::from_secs(30)));
    session.expect("Press Enter").expect("stage 7.1 ends");
    session.send("\r").expect("a key");
    session.expect("Stage 7.2").expect("stage 7.2 runs");
    session.expect("Press Enter").expect("stage 7.2 ends");
    let running = processes_under(&tmp);
    assert!(
        !running.is_empty(),
        "the private Redis runs while the lesson waits"
    );
    signal("-INT", session.get_process().pid().as_raw() as u32);
    // The watchdog notices its tutor is gone; a bounded wait for the process table to say so.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !processes_under(&tmp).is_empty() {
        assert!(
            Instant::now() < deadline,
            "redis-server {:?} outlived an interrupted tutor by 10 s",
            processes_under(&tmp)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills the Redis (by its pid) just before step `at` runs.
struct KillRedisBefore {
    at: u32,
    pid: u32,
}

impl runner::StepHook for KillRedisBefore {
    fn before(&mut self, step: &runner::BeforeStep<'_>) -> Result<(), runner::RunError> {
        if step.number == self.at {
            signal("-KILL", self.pid);
        }
        Ok(())
    }
}

#[test]
fn a_redis_that_goes_away_mid_stage_ends_it_with_a_clear_error_in_bounded_time() {
    let rt = runtime();
    let lesson = lesson_7();
    let stage = &lesson.stages[1];
    assert!(stage.needs_redis());
    let redis = rt.block_on(RedisServer::start()).expect("a Redis");
    let mut hook = KillRedisBefore {
        at: 5,
        pid: redis.pid(),
    };
    let options = RunOptions {
        redis: Some(Arc::new(Redis::Private(redis))),
        ..RunOptions::default()
    };
    let started = Instant::now();
    let outcome = rt.block_on(runner::run_stage_with(
        lesson,
        stage,
        &Target::Local,
        &options,
        &mut hook,
    ));
    let took = started.elapsed();
    let error = outcome.expect_err("the stage cannot finish without its Redis");
    assert!(matches!(error, runner::RunError::Redis(_)), "{error}");
    assert!(error.to_string().contains("went away"), "{error}");
    assert!(took < Duration::from_secs(3), "took {took:?} to notice: {error}");
}

#[test]
fn a_stage_with_several_servers_is_checked_at_load() {
    use realtime_tutor::lesson::{Lesson, LessonError};
    let read = |name: &str| -> Result<String, LessonError> { Ok(format!("text of {name}")) };
    let head = "format_version = 2\nnumber = 9\nslug = \"x\"\ntitle = \"t\"\nsummary = \"s\"\ncheck_asks = \"c\"\nserve_runs = \"r\"\ncheck_stage = 1\n\
                [[stage]]\ntitle = \"s\"\nmount = \"realtime\"\nrust = []\n";
    let two = format!("{head}nodes = [\"A\", \"B\"]\n");
    let good =
        format!("{two}[[stage.step]]\nconnect = \"alice\"\nnode = \"B\"\ntransports = [\"polling\"]\n");
    assert!(Lesson::parse("09-x", &good, &read).is_ok());
    let cases = [
        (
            format!("{head}nodes = [\"A\"]\n[[stage.step]]\nconnect = \"a\"\n"),
            "at least two",
        ),
        (
            format!("{head}nodes = [\"A\", \"A\"]\n[[stage.step]]\nconnect = \"a\"\n"),
            "used once",
        ),
        (
            format!("{head}adapter = \"redis\"\n[[stage.step]]\nconnect = \"a\"\n"),
            "name them with nodes",
        ),
        (
            format!("{two}[[stage.step]]\nconnect = \"a\"\n"),
            "needs node = one of",
        ),
        (
            format!("{two}[[stage.step]]\nconnect = \"a\"\nnode = \"C\"\n"),
            "node \"C\" is not one",
        ),
        (
            format!("{head}[[stage.step]]\nconnect = \"a\"\nnode = \"A\"\n"),
            "this stage has one server",
        ),
        (
            format!("{two}[[stage.step]]\nconnect = \"a\"\nnode = \"A\"\ntransports = []\n"),
            "at least one",
        ),
        (
            format!("{two}[[stage.step]]\nprobe = \"cross-poll\"\nnode = \"A\"\nexpect = \"400\"\n"),
            "needs poll_on",
        ),
        (
            format!(
                "{two}[[stage.step]]\nprobe = \"cross-poll\"\nnode = \"A\"\npoll_on = \"A\"\nexpect = \"400\"\n"
            ),
            "another server",
        ),
        (
            format!(
                "{two}[[stage.step]]\nprobe = \"http-get\"\nnode = \"A\"\npoll_on = \"B\"\nexpect = \"200\"\n"
            ),
            "belongs to a cross-poll",
        ),
        (
            format!("{two}[[stage.step]]\nemit = \"a\"\nnode = \"A\"\n"),
            "`node` does not belong to a emit step",
        ),
    ];
    for (toml, needle) in cases {
        let err = Lesson::parse("09-x", &toml, &read).expect_err(needle).to_string();
        assert!(err.contains(needle), "{err:?} should mention {needle:?}");
    }
}

#[test]
fn serve_7_runs_two_servers_that_chat_through_redis_and_stops_on_ctrl_c() {
    use realtime_tutor::client::{ConnectOptions, Incoming, SimClient};
    use serde_json::json;

    let (_dir, tmp) = own_tmp();
    let mut child = Server::spawn(
        tutor(&["serve", "7", "--port", "0"]).env("TMPDIR", &tmp),
        "serve 7 needs redis-server (`bash scripts/test.sh` installs it)",
    );
    // The banner names each server's address: "Server A  http://127.0.0.1:PORT/".
    let mut urls = Vec::new();
    while urls.len() < 2 {
        let line = child.line("both servers' addresses", STARTUP_LIMIT);
        if let Some(url) = line
            .trim()
            .strip_prefix("Server ")
            .and_then(|l| l.split_whitespace().nth(1))
        {
            assert!(url.starts_with("http://127.0.0.1:"), "{line}");
            urls.push(url.trim_end_matches('/').to_owned());
        }
    }
    runtime().block_on(async {
        let options = ConnectOptions::websocket_only();
        let mut alice = SimClient::connect(&urls[0], &options).await.expect("alice on A");
        let mut bob = SimClient::connect(&urls[1], &options).await.expect("bob on B");
        // The connection handler registers `socket.on('chat message')` after the CONNECT
        // reply; the message is sent until it comes back to alice (bounded), which proves the
        // handler exists, and then bob, on the other server, must have it too.
        let deadline = Instant::now() + Duration::from_secs(5);
        let got = loop {
            assert!(
                Instant::now() < deadline,
                "alice's message never came back from A"
            );
            alice.emit("chat message", vec![json!("across")]).expect("sent");
            if let Some(Incoming::Event { name, args }) = alice.next(Duration::from_millis(200)).await {
                break (name, args);
            }
        };
        assert_eq!(got, ("chat message".to_owned(), vec![json!("across")]));
        match bob.next(Duration::from_secs(5)).await {
            Some(Incoming::Event { name, args }) => {
                assert_eq!((name.as_str(), args), ("chat message", vec![json!("across")]));
            }
            other => panic!("bob on B got {other:?} instead of alice's message"),
        }
    });
    assert!(
        !processes_under(&tmp).is_empty(),
        "serve 7 runs its private Redis"
    );
    signal("-INT", child.pid());
    let exit = child.wait(Duration::from_secs(10), "serve 7 after Ctrl-C");
    assert_eq!(exit.code(), Some(0));
    assert_eq!(
        processes_under(&tmp),
        Vec::<u32>::new(),
        "a redis-server outlived serve 7"
    );
}
