//! `serve 6` gives a newcomer every row it missed, however many: over long-polling, over a
//! WebSocket and over the default transports (polling, then the upgrade), run after run. A
//! socket's outgoing buffer holds 128 packets (`realtime::SOCKET_BUFFER`); a replay longer than
//! that must wait for the client to read, not drop the rest. And when a client never reads, the
//! trace says so, and never says "sent to" for rows that were not.

use std::path::{Path, PathBuf};
use std::time::Duration;

use realtime_tutor::client::link::Transport;
use realtime_tutor::client::polling::PollingLink;
use realtime_tutor::client::{ConnectOptions, Incoming, SimClient};
use realtime_tutor::parts::store::Store;
use serde_json::{Value, json};

use crate::common::runtime;
use crate::serve::{Serve, tutor};
use crate::serve_hardening::rss_kb;

/// Rows in the history: more than two socket buffers' worth.
const ROWS: i64 = 300;

/// Runs per transport.
const RUNS: usize = 20;

/// The bound on one whole replay as a client reads it.
const REPLAY_WITHIN: Duration = Duration::from_secs(10);

/// A database file in `dir` holding `ROWS` messages, `message 1` to `message 300`.
fn history(dir: &Path) -> PathBuf {
    let db = dir.join("history.sqlite3");
    let store = Store::open(&db).expect("a fresh database");
    for i in 1..=ROWS {
        store.insert(&format!("message {i}"), None).expect("stored");
    }
    db
}

/// `serve 6 --db FILE` in JSON, with its trace lines on a channel.
async fn serve_6(db: &Path) -> Serve {
    let mut command = tutor();
    command.args(["serve", "6", "--db"]).arg(db);
    Serve::spawn(command).await
}

fn options(transports: &[Transport]) -> ConnectOptions {
    ConnectOptions {
        auth: Some(json!({ "serverOffset": 0 })),
        transports: transports.to_vec(),
        ..ConnectOptions::default()
    }
}

/// Connects as a newcomer (`serverOffset` 0), reads the replay until all `ROWS` came or
/// `REPLAY_WITHIN` ran out, and leaves. The server offsets read, in the order they came.
async fn replay_once(url: &str, options: &ConnectOptions) -> Result<Vec<i64>, String> {
    let mut client = SimClient::connect(url, options)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let deadline = tokio::time::Instant::now() + REPLAY_WITHIN;
    let mut ids = Vec::new();
    while ids.len() < ROWS as usize {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match client.next(left).await {
            Some(Incoming::Event { name, args }) if name == "chat message" => {
                let id = args
                    .get(1)
                    .and_then(Value::as_i64)
                    .ok_or(format!("no offset: {args:?}"))?;
                let wanted = format!("message {id}");
                if args.first().and_then(Value::as_str) != Some(wanted.as_str()) {
                    return Err(format!("row {id} came as {args:?}"));
                }
                ids.push(id);
            }
            Some(Incoming::Event { .. }) => {}
            Some(Incoming::Closed { reason }) => {
                return Err(format!("closed after {} rows: {reason}", ids.len()));
            }
            None => break,
        }
    }
    let _ = client.leave(Duration::from_secs(2)).await;
    Ok(ids)
}

#[test]
fn serve_6_replays_every_missed_row_in_order_over_every_transport() {
    let dir = tempfile::tempdir().unwrap();
    let db = history(dir.path());
    let rt = runtime();
    rt.block_on(async {
        let mut serve = serve_6(&db).await;
        let all: Vec<i64> = (1..=ROWS).collect();
        let transports: [(&str, &[Transport]); 3] = [
            ("polling", &[Transport::Polling]),
            ("websocket", &[Transport::WebSocket]),
            ("default", &[Transport::Polling, Transport::WebSocket]),
        ];
        let mut report = Vec::new();
        for (name, transports) in transports {
            let options = options(transports);
            let mut counts = Vec::new();
            let mut wrong = Vec::new();
            for run in 1..=RUNS {
                match replay_once(&serve.url, &options).await {
                    Ok(ids) => {
                        counts.push(ids.len());
                        if ids != all {
                            wrong.push(format!(
                                "run {run}: {} rows, first {:?}",
                                ids.len(),
                                &ids[..ids.len().min(5)]
                            ));
                        }
                    }
                    Err(e) => {
                        counts.push(0);
                        wrong.push(format!("run {run}: {e}"));
                    }
                }
            }
            eprintln!("{name}: rows replayed per run {counts:?}");
            report.push((name, counts, wrong));
        }
        let failed: Vec<String> = report
            .iter()
            .filter(|(_, _, wrong)| !wrong.is_empty())
            .map(|(name, counts, wrong)| format!("{name}: {counts:?}\n  {}", wrong.join("\n  ")))
            .collect();
        assert!(
            failed.is_empty(),
            "every run of every transport gets rows 1 to {ROWS} in order:\n{}",
            failed.join("\n")
        );
        // What the trace said about each replay: sent to the newcomer, nothing lost, no error.
        for i in 0..3 * RUNS {
            let connect = serve
                .wait_for(&format!("connect record {}", i + 1), |l| l["kind"] == "connect")
                .await;
            assert!(connect["error"].is_null(), "a reading client, yet: {connect}");
            assert!(
                connect.get("dropped").is_none(),
                "a reading client, yet: {connect}"
            );
            assert_eq!(connect["sent_to"], json!([connect["client"]]), "{connect}");
        }
    });
}

#[test]
fn memory_per_connection_stays_small_while_twenty_newcomers_are_replayed_at_once() {
    const CLIENTS: usize = 20;
    let dir = tempfile::tempdir().unwrap();
    let db = history(dir.path());
    runtime().block_on(async {
        let serve = serve_6(&db).await;
        let pid = serve.child.id();
        // One replay first, so that what every server allocates once is not counted.
        let options = options(&[Transport::Polling, Transport::WebSocket]);
        let first = replay_once(&serve.url, &options).await.expect("a first replay");
        assert_eq!(first.len(), ROWS as usize);
        let before = rss_kb(pid);
        // Sample the server's memory while the replays run.
        let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let sampler = {
            let sampling = sampling.clone();
            std::thread::spawn(move || {
                let mut peak = 0;
                while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                    peak = peak.max(rss_kb(pid));
                    std::thread::sleep(Duration::from_millis(2));
                }
                peak
            })
        };
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let (url, options) = (serve.url.clone(), options.clone());
                tokio::spawn(async move { replay_once(&url, &options).await })
            })
            .collect();
        for client in clients {
            let ids = client.await.expect("the client task").expect("a replay");
            assert_eq!(ids.len(), ROWS as usize, "every newcomer got every row");
        }
        sampling.store(false, std::sync::atomic::Ordering::Relaxed);
        let peak = sampler.join().expect("the sampler").max(rss_kb(pid));
        let per_connection = peak.saturating_sub(before) / CLIENTS as u64;
        eprintln!(
            "serve 6 RSS: {before} kB before, {peak} kB at most while {CLIENTS} newcomers were \
             replayed {ROWS} rows each: {per_connection} kB per connection"
        );
        // A socket's buffer at its fullest holds 128 packets; a page of rows is 100 short ones.
        assert!(
            per_connection < 1024,
            "{per_connection} kB per connection during a replay of {ROWS} short rows"
        );
    });
}

/// A long-polling client that connects as a newcomer and then never polls again: nothing takes
/// the packets out of its buffer. Returns the link, to keep the session open.
async fn newcomer_that_never_reads(url: &str) -> PollingLink {
    let authority = url.trim_start_matches("http://").to_owned();
    let mut link = PollingLink::new(&authority, "/socket.io/?EIO=4&transport=polling");
    let open = link.get(Duration::from_secs(5)).await.expect("the handshake");
    let sid = open
        .body
        .strip_prefix('0')
        .and_then(|json| serde_json::from_str::<Value>(json).ok())
        .and_then(|open| open["sid"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("an OPEN packet, not {:?}", open.body));
    link.set_sid(&sid);
    let sent = link
        .post(r#"40{"serverOffset":0}"#.to_owned(), Duration::from_secs(5))
        .await
        .expect("the CONNECT packet");
    assert_eq!(sent.code, 200, "{sent:?}");
    link
}

/// A newcomer that never reads is given what fits in its buffer; the replay then stops within
/// its bound, the trace says it was lost for that client and why (not "sent to"), and the
/// server goes on serving the others.
#[test]
fn a_newcomer_that_never_reads_is_reported_and_holds_nobody_up_for_long() {
    let dir = tempfile::tempdir().unwrap();
    let db = history(dir.path());
    runtime().block_on(async {
        let mut serve = serve_6(&db).await;
        let _silent = newcomer_that_never_reads(&serve.url).await;
        let connect = serve
            .wait_for("the silent newcomer", |l| l["kind"] == "connect")
            .await;
        let name = connect["client"].clone();
        assert_eq!(connect["sent_to"], json!([]), "not \"sent to\": {connect}");
        assert_eq!(connect["dropped"], json!([name]), "lost for it: {connect}");
        let error = connect["error"]
            .as_str()
            .unwrap_or_else(|| panic!("an error: {connect}"));
        assert!(
            error.contains("the client made no room in its buffer for 2s, so the replay stopped")
                && error.contains("those after it were not"),
            "{error}"
        );
        // The others are served again: a client up to date chats as usual.
        let options = ConnectOptions {
            auth: Some(json!({ "serverOffset": ROWS })),
            ..ConnectOptions::websocket_only()
        };
        let mut talker = SimClient::connect(&serve.url, &options).await.expect("connects");
        serve
            .wait_for("the talker's connection", |l| {
                l["kind"] == "connect" && l["client"] != name
            })
            .await;
        talker
            .emit("chat message", vec![json!("still here")])
            .expect("emits");
        match talker.next(Duration::from_secs(10)).await {
            Some(Incoming::Event { name, args }) => {
                assert_eq!(name, "chat message");
                assert_eq!(args, vec![json!("still here"), json!(ROWS + 1)]);
            }
            other => panic!("the echo, not {other:?}"),
        }
    });
}

/// An INSERT that fails sends nothing, and the trace says so: the message database is locked by
/// another program, so the chat message is neither stored nor sent to anyone.
#[test]
fn a_message_whose_insert_fails_is_not_traced_as_sent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.sqlite3");
    Store::open(&db).expect("a fresh database");
    runtime().block_on(async {
        let mut serve = serve_6(&db).await;
        let mut client = SimClient::connect(&serve.url, &options(&[Transport::WebSocket]))
            .await
            .expect("connects");
        serve.wait_for("the connection", |l| l["kind"] == "connect").await;
        let other = rusqlite::Connection::open(&db).expect("another program's connection");
        other.execute_batch("BEGIN EXCLUSIVE").expect("holds the lock");
        client
            .emit("chat message", vec![json!("not stored")])
            .expect("emits");
        let emit = serve.wait_for("the chat message", |l| l["kind"] == "emit").await;
        assert_eq!(emit["sent_to"], json!([]), "sent to nobody: {emit}");
        let rejected = serve.wait_for("why", |l| l["kind"] == "rejected").await;
        let reason = rejected["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("is locked by another program"), "{rejected}");
        other.execute_batch("ROLLBACK").expect("lets go");
        // Events on one connection arrive in order: the next message's echo coming first proves
        // that the refused one was never sent to this client.
        client
            .emit("chat message", vec![json!("stored now")])
            .expect("emits");
        match client.next(Duration::from_secs(10)).await {
            Some(Incoming::Event { name, args }) => {
                assert_eq!(name, "chat message");
                assert_eq!(
                    args,
                    vec![json!("stored now"), json!(1)],
                    "the refused one never came"
                );
            }
            other => panic!("the echo, not {other:?}"),
        }
    });
}
