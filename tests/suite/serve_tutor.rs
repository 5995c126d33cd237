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
