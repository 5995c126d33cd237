//! `serve`'s live diagram page `/tutor/`: drawn in a real browser (through `node --test
//! tutor.mjs`), and its channel, `/tutor/events`, against a viewer that stops reading.

use std::time::Duration;

use realtime_tutor::client::Incoming;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::runtime;
use crate::serve::{Serve, WAIT, join};

/// Two chat tabs, a bot and the `/tutor/` page in Debian's chromium; rooms (lesson 4) and
/// acknowledgements (lesson 5) from the chat page's control strip (`tests/browser/tutor.mjs`).
/// Needs what `bash scripts/test.sh` installs; without it the test fails and says what is missing.
#[test]
fn a_real_browser_draws_the_live_diagram_of_tabs_and_bots() {
    crate::common::run_browser_test(&["tutor.mjs"], Duration::from_secs(240));
}

/// Opens `/tutor/events` on a socket with a small receive buffer, and does not read.
async fn stalled_viewer(url: &str) -> tokio::net::TcpStream {
    let authority = url.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("a small receive buffer");
    let mut stream = tokio::time::timeout(WAIT, socket.connect(authority.parse().expect("an address")))
        .await
        .expect("connects in time")
        .expect("connects");
    let request = format!("GET /tutor/events HTTP/1.1\r\nHost: {authority}\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("sends the request");
    stream
}

/// A viewer that stops reading holds nothing up: serve goes on tracing a flood of messages,
/// and when the viewer reads again it is told how many records it missed.
#[test]
fn a_viewer_that_stops_reading_is_told_what_it_missed_and_never_holds_serve_up() {
    runtime().block_on(async {
        let mut serve = Serve::start(&["3"]).await;
        let mut viewer = stalled_viewer(&serve.url).await;
        let mut flooder = join(&mut serve, "flooder").await;
        // Far more than the ring (64 records) plus what the kernel buffers for the stalled socket.
        // A few dozen in flight at a time, each sent once the echo of an earlier one is back:
        // all of them are handled (the server refuses what a client piles up past its bound in
        // the handler line, see src/server/order.rs), so every one makes a large record.
        let big = "x".repeat(12 * 1024);
        const SENT: usize = 800;
        let (mut sent, mut echoed) = (0, 0);
        while echoed < SENT {
            while sent < SENT && sent - echoed < 32 {
                flooder
                    .emit("chat message", vec![json!(format!("{sent} {big}"))])
                    .expect("the flooder sends");
                sent += 1;
            }
            match flooder.next(WAIT).await {
                Some(Incoming::Event { name, .. }) if name == "chat message" => echoed += 1,
                Some(Incoming::Event { .. }) => {}
                other => panic!("after {echoed} echoes of {SENT}: {other:?}"),
            }
        }
        flooder
            .emit("chat message", vec![json!("after the flood")])
            .expect("sends");
        let draining = tokio::spawn(async move { while flooder.next(WAIT).await.is_some() {} });
        // The serve loop got through the whole flood: it never waited for the viewer.
        serve
            .wait_for("the message after the flood", |l| {
                l["kind"] == "emit" && l["args"] == json!(["after the flood"])
            })
            .await;
        // Now read the stalled stream: somewhere in it, a line says how much was missed.
        let mut seen = Vec::new();
        let mut chunk = vec![0; 64 * 1024];
        let deadline = tokio::time::Instant::now() + WAIT;
        let missed = loop {
            let text = String::from_utf8_lossy(&seen);
            if let Some(at) = text.find(r#"{"kind":"lagged","missed":"#) {
                let rest = &text[at + 26..];
                let end = rest.find('}').expect("a whole line");
                break rest[..end].parse::<u64>().expect("a count");
            }
            let n = tokio::time::timeout_at(deadline, viewer.read(&mut chunk))
                .await
                .unwrap_or_else(|_| panic!("no lagged line within {WAIT:?}; read {} bytes", seen.len()))
                .expect("reads");
            assert!(
                n > 0,
                "the stream ended without a lagged line after {} bytes",
                seen.len()
            );
            seen.extend_from_slice(&chunk[..n]);
        };
        assert!(missed > 0 && missed <= SENT as u64 + 1, "missed {missed}");
        let (code, stderr) = serve.interrupt().await;
        assert_eq!(code, Some(0), "{stderr}");
        draining.abort();
    });
}

/// `GET path` on `url` (`http://HOST:PORT`): the status code and the body (bounded).
async fn get(url: &str, path: &str) -> (u16, String) {
    let authority = url.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let mut stream = tokio::time::timeout(WAIT, tokio::net::TcpStream::connect(&authority))
        .await
        .expect("connects in time")
        .expect("connects");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("sends");
    let mut response = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut response))
        .await
        .expect("answers in time")
        .expect("reads");
    let text = String::from_utf8_lossy(&response).into_owned();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"));
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    (code, body)
}

/// Reads `/tutor/events` on `url` until every one of `wanted` matches one of its records
/// (bounded); returns the records read.
async fn feed_until(url: &str, wanted: &[&dyn Fn(&serde_json::Value) -> bool]) -> Vec<serde_json::Value> {
    let authority = url.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let mut stream = tokio::time::timeout(WAIT, tokio::net::TcpStream::connect(&authority))
        .await
        .expect("connects in time")
        .expect("connects");
    let request = format!("GET /tutor/events HTTP/1.1\r\nHost: {authority}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("sends");
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut text = String::new();
    let mut chunk = vec![0; 16 * 1024];
    loop {
        // Chunked encoding puts sizes between the lines; a record is a line that parses as JSON.
        let records: Vec<serde_json::Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l.trim()).ok())
            .collect();
        if wanted.iter().all(|w| records.iter().any(w)) {
            return records;
        }
        let n = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
            .await
            .unwrap_or_else(|_| panic!("the feed did not carry every wanted record within {WAIT:?}:\n{text}"))
            .expect("reads");
        assert!(n > 0, "the feed ended early:\n{text}");
        text.push_str(&String::from_utf8_lossy(&chunk[..n]));
    }
}

/// `serve 7 --format json`, with server B's address (A's is `serve.url`).
async fn serve_7(args: &[&str]) -> (Serve, String) {
    let mut command = crate::serve::tutor();
    command.args(["serve", "7"]).args(args);
    let mut serve = Serve::spawn(command).await;
    let b = serve
        .wait_for("server B's listening line", |l| {
            l["kind"] == "listening" && l["node"] == "B"
        })
        .await;
    let b = b["url"].as_str().expect("a url").trim_end_matches('/').to_owned();
    assert_ne!(b, serve.url, "two servers, two addresses");
    (serve, b)
}

/// Connects `name` to `url` and waits for the trace to say it connected to server `node`.
async fn join_on(serve: &mut Serve, url: &str, name: &str, node: &str) -> realtime_tutor::client::SimClient {
    use realtime_tutor::client::{ConnectOptions, SimClient};
    let client = SimClient::connect_with_query(url, &ConnectOptions::default(), &[("name", name)])
        .await
        .unwrap_or_else(|e| panic!("{name} connects to {url}: {e}"));
    serve
        .wait_for(&format!("{name}'s connection to server {node}"), |l| {
            l["kind"] == "connect" && l["client"] == name && l["node"] == node
        })
        .await;
    client
}

/// serve 7's `/tutor/` page answers on both servers, and its feed (one for both) carries what
/// happened on A and on B, each record naming its server.
#[test]
fn serve_7_has_the_tutor_page_on_both_servers_with_records_from_both() {
    runtime().block_on(async {
        let (mut serve, b) = serve_7(&[]).await;
        for url in [&serve.url, &b] {
            let (code, page) = get(url, "/tutor/").await;
            assert_eq!(code, 200, "{url}/tutor/: {page}");
            assert!(page.contains("/tutor/tutor.js"), "the live page: {page}");
        }
        let a = serve.url.clone();
        let _nina = join_on(&mut serve, &a, "nina", "A").await;
        let _omar = join_on(&mut serve, &b, "omar", "B").await;
        let on = |name: &'static str, node: &'static str| {
            move |r: &serde_json::Value| r["kind"] == "connect" && r["client"] == name && r["node"] == node
        };
        let (nina, omar) = (on("nina", "A"), on("omar", "B"));
        let records = feed_until(&b, &[&nina, &omar]).await;
        assert_eq!(records[0]["kind"], "serving", "{records:?}");
        assert_eq!(records[0]["lesson"], 7);
        let (code, stderr) = serve.interrupt().await;
        assert_eq!(code, Some(0), "{stderr}");
    });
}

/// `serve 7 --bots 2`: alice joins A, bob joins B, and each one's chat message reaches the
/// other through Redis: the record says whom the other server selected ("relayed") and that
/// bot's read is reported.
#[test]
fn serve_7_bots_join_both_servers_and_read_each_others_messages() {
    runtime().block_on(async {
        let (mut serve, _b) = serve_7(&["--bots", "2"]).await;
        for (bot, node) in [("alice", "A"), ("bob", "B")] {
            serve
                .wait_for(&format!("{bot} on server {node}"), |l| {
                    l["kind"] == "connect" && l["client"] == bot && l["node"] == node
                })
                .await;
        }
        for (from, node, other, to) in [("bob", "B", "A", "alice"), ("alice", "A", "B", "bob")] {
            let line = serve
                .wait_for(&format!("{from}'s message read by {to} on server {other}"), |l| {
                    l["kind"] == "emit"
                        && l["client"] == from
                        && l["read_by"].as_array().is_some_and(|r| r.contains(&json!(to)))
                })
                .await;
            assert_eq!(line["node"], node, "{line}");
            assert_eq!(
                line["relayed"],
                json!([{"node": other, "sent_to": [to]}]),
                "{line}"
            );
            assert_eq!(line["sent_to"], json!([from]), "{line}");
        }
        let (code, stderr) = serve.interrupt().await;
        assert_eq!(code, Some(0), "{stderr}");
    });
}

/// The text trace of serve 7, as a learner reads it: a Socket.IO client that connects to A is
/// printed, and its chat message says who received it on A and, through Redis, on B; every
/// line fits 80 columns.
#[test]
fn serve_7_prints_a_client_on_a_and_who_received_its_message_on_b() {
    use crate::common::process::{STARTUP_LIMIT, Server, signal};
    let mut child = Server::spawn(
        crate::serve::tutor().args(["serve", "7", "--port", "0"]),
        "serve 7 needs redis-server (`bash scripts/test.sh` installs it)",
    );
    let mut printed = Vec::new();
    let mut urls = Vec::new();
    loop {
        let line = child.line("the banner", STARTUP_LIMIT);
        if let Some(url) = line
            .trim()
            .strip_prefix("Server ")
            .and_then(|l| l.split_whitespace().nth(1))
        {
            urls.push(url.trim_end_matches('/').to_owned());
        }
        let done = line.trim() == "Live trace";
        printed.push(line);
        if done {
            break;
        }
    }
    assert_eq!(urls.len(), 2, "{printed:#?}");
    runtime().block_on(async {
        use realtime_tutor::client::{ConnectOptions, SimClient};
        let options = ConnectOptions::default();
        let mut omar = SimClient::connect_with_query(&urls[1], &options, &[("name", "omar")])
            .await
            .expect("omar on B");
        let mut nina = SimClient::connect_with_query(&urls[0], &options, &[("name", "nina")])
            .await
            .expect("nina on A");
        let mut until = |what: &str, wanted: &dyn Fn(&str) -> bool| loop {
            let line = child.line(what, WAIT);
            let found = wanted(&line);
            printed.push(line);
            if found {
                break;
            }
        };
        until("nina's connection", &|l| l.contains("nina connects to server A"));
        // Sent until it comes back (the connection handler may not have run yet): bounded.
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            assert!(
                tokio::time::Instant::now() < deadline,
                "nina's message never came back"
            );
            nina.emit("chat message", vec![json!("across")]).expect("sends");
            if let Some(Incoming::Event { .. }) = nina.next(Duration::from_millis(300)).await {
                break;
            }
        }
        assert!(
            matches!(omar.next(WAIT).await, Some(Incoming::Event { .. })),
            "omar got it"
        );
        until("nina's message", &|l| {
            l.contains("nina emits 'chat message' \"across\"")
        });
        until("who received it on B", &|l| {
            l.trim_start().starts_with("via B") && l.contains("omar")
        });
    });
    signal("-INT", child.pid());
    let exit = child.wait(Duration::from_secs(10), "serve 7 after Ctrl-C");
    assert_eq!(exit.code(), Some(0));
    let wide: Vec<&String> = printed.iter().filter(|l| l.chars().count() > 80).collect();
    assert!(wide.is_empty(), "lines wider than 80 columns: {wide:#?}");
}

/// Every lesson's serve banner names the `/tutor/` page by its address.
#[test]
fn every_serve_banner_names_the_tutor_page() {
    use crate::common::process::{STARTUP_LIMIT, Server, signal};
    for lesson in crate::common::lessons() {
        let number = lesson.number.to_string();
        let mut child = Server::spawn(
            crate::serve::tutor().args(["serve", &number, "--port", "0"]),
            "serve 7 needs redis-server (`bash scripts/test.sh` installs it)",
        );
        let mut banner = Vec::new();
        loop {
            let line = child.line(&format!("serve {number}'s banner"), STARTUP_LIMIT);
            let done = line.trim() == "Live trace";
            banner.push(line);
            if done {
                break;
            }
        }
        let url = banner
            .iter()
            .find_map(|l| l.split_whitespace().find(|w| w.starts_with("http://127.0.0.1:")))
            .unwrap_or_else(|| panic!("serve {number} prints no address: {banner:#?}"));
        let tutor = format!("{url}tutor/");
        assert!(
            banner.iter().any(|l| l.contains(&tutor)),
            "serve {number}'s banner does not name {tutor}: {banner:#?}"
        );
        signal("-INT", child.pid());
        let exit = child.wait(Duration::from_secs(10), "serve after Ctrl-C");
        assert_eq!(exit.code(), Some(0), "serve {number}");
    }
}
