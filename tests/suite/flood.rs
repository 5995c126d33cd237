//! A small adversarial peer: a Socket.IO server written by hand that accepts the client and then
//! streams large frames of one kind, for as long as the client reads. `check` must stay bounded
//! in memory (peak RSS measured with `/usr/bin/time -v`, under 100 MB) and fail within a few
//! seconds with a message that names the flood, whatever the kind of frame.
//!
//! Kinds: events for another namespace, events of 256 KiB, events of dense arrays (16 times
//! their wire size once decoded), bare heartbeats, no-ops, binary
//! attachments of 900 KiB, a ping that carries data, and the same namespace flood over HTTP
//! long-polling. Plus a binary packet whose last attachment never comes, which must be given up
//! within its time bound.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::RawQuery;
use axum::routing::get;
use futures_util::SinkExt;
use realtime_tutor::client::limits::{ATTACHMENTS_WITHIN, MAX_ATTACHMENTS};
use realtime_tutor::client::payload::encode_payload;
use realtime_tutor::client::{ConnectOptions, Incoming, SimClient};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use crate::check::BAD_TARGET_BOUND;
use crate::common::{COMMAND_LIMIT, raw_peer, run_bounded, runtime};

/// The peak memory a flooded `check` may reach.
const PEAK_LIMIT_KB: u64 = 100 * 1024;

/// What the peer streams after it has accepted the client's CONNECT.
#[derive(Debug, Clone, Copy)]
enum Kind {
    OtherNamespace,
    BigEvents,
    /// Events of `[0,0,0,…]`: 2 bytes on the wire per value, 32 once decoded.
    DenseArrays,
    Heartbeats,
    Noops,
    Binary,
    PingWithData,
    /// Announces [`MAX_ATTACHMENTS`] attachments, sends one fewer, then waits.
    PartialBinary,
}

/// The frames of one round of `kind`, sent again and again.
fn round(kind: Kind) -> Vec<Message> {
    let fill = |n: usize| "x".repeat(n);
    match kind {
        Kind::OtherNamespace => vec![Message::text(format!(r#"42/admin,["x","{}"]"#, fill(900 << 10)))],
        Kind::BigEvents => vec![Message::text(format!(r#"42["hi","{}"]"#, fill(256 << 10)))],
        Kind::DenseArrays => vec![Message::text(format!(
            r#"42["hi",[{}0]]"#,
            "0,".repeat(128 << 10)
        ))],
        Kind::Heartbeats => vec![Message::text("2")],
        Kind::Noops => vec![Message::text("6")],
        Kind::Binary => vec![
            Message::text(r#"451-["file",{"_placeholder":true,"num":0}]"#),
            Message::binary(vec![7u8; 900 << 10]),
        ],
        Kind::PingWithData => vec![Message::text(format!("2{}", fill(512 << 10)))],
        Kind::PartialBinary => {
            let mut frames = vec![Message::text(format!(r#"45{MAX_ATTACHMENTS}-["file"]"#))];
            frames.extend((1..MAX_ATTACHMENTS).map(|_| Message::binary(vec![1u8; 60 << 10])));
            frames
        }
    }
}

/// A WebSocket peer that opens the session, accepts the CONNECT, then floods with `kind`.
async fn websocket_peer(kind: Kind) -> String {
    raw_peer::serve(move |mut ws| async move {
        if !raw_peer::open_session(&mut ws).await
            || ws.send(Message::text(raw_peer::CONNECTED)).await.is_err()
        {
            return;
        }
        'flood: loop {
            for frame in round(kind) {
                if ws.send(frame).await.is_err() {
                    break 'flood;
                }
            }
            if let Kind::PartialBinary = kind {
                std::future::pending::<()>().await;
            }
            // Yield now and then, so the flood does not take a whole core from the tutor
            // it floods (and from the tests next to it).
            tokio::task::yield_now().await;
        }
    })
    .await
}

/// A long-polling peer: each GET after the CONNECT reply is answered at once with 900 KiB of
/// events for another namespace, in one `\x1e`-separated body.
async fn polling_peer() -> String {
    let connected = Arc::new(AtomicBool::new(false));
    let get_answer = {
        let connected = connected.clone();
        move |RawQuery(query): RawQuery| {
            let connected = connected.clone();
            async move {
                let query = query.unwrap_or_default();
                if !query.contains("sid=") {
                    return r#"0{"sid":"p","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#
                        .to_owned();
                }
                if !connected.swap(true, Ordering::SeqCst) {
                    return r#"40{"sid":"p"}"#.to_owned();
                }
                let packet = format!(r#"42/admin,["x","{}"]"#, "y".repeat(1 << 10));
                encode_payload(&vec![packet; 900])
            }
        }
    };
    let app = Router::new().route("/socket.io/", get(get_answer).post(async || "ok"));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// Runs `check 2 --url URL` under `/usr/bin/time -v`: its output, exit code, time, peak RSS (KiB).
fn measured_check(url: &str, extra: &[&str]) -> (String, Option<i32>, Duration, u64) {
    let started = Instant::now();
    let out = run_bounded(
        Command::new("/usr/bin/time")
            .arg("-v")
            .arg(env!("CARGO_BIN_EXE_realtime-tutor"))
            // The peers speak Socket.IO over WebSocket only, as `io({ transports:
            // ['websocket'] })` expects: the flood comes once the session is open.
            .args([
                "check",
                "2",
                "--url",
                url,
                "--color",
                "never",
                "--transports",
                "websocket",
            ])
            .args(extra),
        COMMAND_LIMIT,
    );
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let peak = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes): "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS in /usr/bin/time's report:\n{stderr}"));
    let text = format!("{}{stderr}", String::from_utf8_lossy(&out.stdout));
    (text, out.status.code(), took, peak)
}

#[test]
fn every_kind_of_flood_stays_bounded_and_is_named() {
    let rt = runtime();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "other namespace",
            rt.block_on(websocket_peer(Kind::OtherNamespace)),
            "MiB in one step",
        ),
        (
            "256 KiB events",
            rt.block_on(websocket_peer(Kind::BigEvents)),
            "MiB in one step",
        ),
        (
            "dense arrays",
            rt.block_on(websocket_peer(Kind::DenseArrays)),
            "MiB in one step",
        ),
        (
            "heartbeats",
            rt.block_on(websocket_peer(Kind::Heartbeats)),
            "frames in one step",
        ),
        (
            "no-ops",
            rt.block_on(websocket_peer(Kind::Noops)),
            "frames in one step",
        ),
        (
            "binary attachments",
            rt.block_on(websocket_peer(Kind::Binary)),
            "MiB in one step",
        ),
        (
            "a ping with data",
            rt.block_on(websocket_peer(Kind::PingWithData)),
            "a ping carrying 524288 bytes",
        ),
    ];
    let mut figures = Vec::new();
    for (kind, url, named) in &cases {
        for extra in [&[][..], &["--wire"][..]] {
            let (text, code, took, peak) = measured_check(url, extra);
            let what = format!("{kind} {extra:?}");
            assert_eq!(code, Some(1), "{what}: expected FAIL\n{text}");
            assert!(
                crate::common::unwrapped(&text).contains(named),
                "{what}: the message names the flood ({named:?})\n{text}"
            );
            assert!(took < BAD_TARGET_BOUND, "{what}: took {took:?}\n{text}");
            assert!(peak < PEAK_LIMIT_KB, "{what}: peak RSS {peak} KiB\n{text}");
            figures.push(format!("{what}: {peak} KiB, {took:?}"));
        }
    }
    // Shown with --nocapture: the figures for the record.
    println!("{}", figures.join("\n"));
}

/// The checks above are told `--transports websocket` (the raw peers speak WebSocket only); the
/// same flood over long-polling is met by the client itself, with the per-step limits armed as
/// the runner arms them.
#[test]
fn a_flood_over_long_polling_is_named_too() {
    runtime().block_on(async {
        let url = polling_peer().await;
        let options = ConnectOptions {
            timeout: Duration::from_secs(5),
            ..ConnectOptions::default()
        };
        let mut client = SimClient::connect(&url, &options).await.unwrap();
        client.limit_steps();
        let started = Instant::now();
        // Events for /admin are never delivered: the first item is the end, naming the flood.
        let reason = match client.next(BAD_TARGET_BOUND).await {
            Some(Incoming::Closed { reason }) => reason,
            Some(Incoming::Event { name, .. }) => panic!("an event for /admin was delivered: {name}"),
            None => panic!("no end to the flood within {BAD_TARGET_BOUND:?}"),
        };
        assert!(reason.contains("in one step"), "{reason}");
        assert!(client.flood().is_some());
        let (_, bytes) = client.step_traffic();
        assert!(bytes < 10 << 20, "read {bytes} bytes before stopping");
        assert!(started.elapsed() < BAD_TARGET_BOUND);
    });
}

#[test]
fn a_binary_packet_missing_an_attachment_is_given_up_in_time() {
    runtime().block_on(async {
        let url = websocket_peer(Kind::PartialBinary).await;
        let options = ConnectOptions {
            timeout: Duration::from_secs(5),
            ..ConnectOptions::websocket_only()
        };
        let mut client = SimClient::connect(&url, &options).await.unwrap();
        let started = Instant::now();
        match client.next(ATTACHMENTS_WITHIN + Duration::from_secs(5)).await {
            Some(Incoming::Closed { reason }) => assert!(
                reason.contains(&format!(
                    "announced {MAX_ATTACHMENTS} attachments and only {} arrived",
                    MAX_ATTACHMENTS - 1
                )),
                "{reason}"
            ),
            other => panic!("expected the client to give up on the packet, got {other:?}"),
        }
        assert!(started.elapsed() < ATTACHMENTS_WITHIN + Duration::from_secs(2));
    });
}
