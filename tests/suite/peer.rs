//! A small adversarial peer for `serve`: raw TCP and WebSocket clients that misbehave on purpose
//! (half-sent requests, foreign origins, hoarded binary attachments, sockets that never read).
//! Every wait is bounded, and its error says what it waited for.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// `http://127.0.0.1:PORT` → `127.0.0.1:PORT`.
pub fn authority(url: &str) -> String {
    url.trim_start_matches("http://").trim_end_matches('/').to_owned()
}

/// Opens a connection and sends half a request (a request line and part of a header), then
/// nothing: the slow client of a slowloris attack.
pub async fn half_request(authority: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(authority)
        .await
        .unwrap_or_else(|e| panic!("connect to {authority}: {e}"));
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .expect("write half a request");
    tcp
}

/// Waits at most `within` for the server to close `tcp` (end of stream or reset); returns how
/// long that took, or an error saying it did not.
pub async fn closed_by_server(tcp: &mut TcpStream, within: Duration) -> Result<Duration, String> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(within.saturating_sub(started.elapsed()), tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(started.elapsed()),
            Ok(Ok(_)) => continue,
            Err(_) => return Err(format!("the server kept the connection open for {within:?}")),
        }
    }
}

/// Sends a Socket.IO handshake (a WebSocket upgrade, or the first polling request) with the
/// given `Origin` header, and returns the HTTP status of the answer.
pub async fn handshake_status(authority: &str, websocket: bool, origin: Option<&str>) -> u16 {
    let origin: Vec<(&str, &str)> = origin.map(|o| ("Origin", o)).into_iter().collect();
    handshake_status_with(authority, websocket, &origin).await
}

/// [`handshake_status`] with any extra headers, e.g. the `Sec-Fetch-*` marks a browser adds.
pub async fn handshake_status_with(authority: &str, websocket: bool, headers: &[(&str, &str)]) -> u16 {
    let mut tcp = TcpStream::connect(authority)
        .await
        .unwrap_or_else(|e| panic!("connect to {authority}: {e}"));
    let mut request = if websocket {
        format!(
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {authority}\r\n\
             Upgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        )
    } else {
        format!("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: {authority}\r\n")
    };
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    tcp.write_all(request.as_bytes())
        .await
        .expect("write the handshake");
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.windows(2).any(|w| w == b"\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no answer to the handshake from {authority} within 10s"))
            .expect("read the answer");
        assert!(
            n > 0,
            "the server closed the connection without answering the handshake"
        );
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    line.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP status line: {line:?}"))
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// A Socket.IO socket over a raw WebSocket, joined to `/` with the name `name`.
pub async fn raw_socket(authority: &str, name: &str) -> Ws {
    raw_socket_and_id(authority, name).await.0
}

/// [`raw_socket`], and the socket id the server's CONNECT reply gave it (`40{"sid":…}`).
pub async fn raw_socket_and_id(authority: &str, name: &str) -> (Ws, String) {
    let url = format!("ws://{authority}/socket.io/?EIO=4&transport=websocket&name={name}");
    let (mut ws, _) = tokio::time::timeout(Duration::from_secs(10), tokio_tungstenite::connect_async(url))
        .await
        .expect("the WebSocket opens within 10s")
        .expect("the WebSocket opens");
    let open = next_text(&mut ws).await;
    assert!(open.starts_with('0'), "an Engine.IO OPEN packet: {open}");
    ws.send(Message::text("40")).await.expect("send CONNECT");
    let connect = next_text(&mut ws).await;
    assert!(connect.starts_with("40"), "a Socket.IO CONNECT reply: {connect}");
    let reply: serde_json::Value = serde_json::from_str(&connect[2..]).unwrap_or_default();
    let sid = reply["sid"].as_str().unwrap_or_default().to_owned();
    (ws, sid)
}

async fn next_text(ws: &mut Ws) -> String {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            // A heartbeat: answer it, as every client must.
            Ok(Some(Ok(Message::Text(text)))) if text.as_str() == "2" => {
                ws.send(Message::text("3")).await.expect("send pong");
            }
            Ok(Some(Ok(Message::Text(text)))) => return text.to_string(),
            Ok(Some(Ok(_))) => continue,
            other => panic!("waited 10s for a text frame: {other:?}"),
        }
    }
}

/// Announces a binary event with `announced` attachments, sends `sent` binary frames of `bytes`
/// each, and reports whether the server closed the connection within `within` (true) or kept
/// holding the partial packet (false).
pub async fn hoard_attachments(
    authority: &str,
    announced: usize,
    sent: usize,
    bytes: usize,
    within: Duration,
) -> bool {
    let mut ws = raw_socket(authority, "hoarder").await;
    let placeholders: Vec<String> = (0..announced)
        .map(|n| format!(r#"{{"_placeholder":true,"num":{n}}}"#))
        .collect();
    let header = format!("45{announced}-[\"upload\",{}]", placeholders.join(","));
    if ws.send(Message::text(header)).await.is_err() {
        return true;
    }
    for _ in 0..sent {
        if ws.send(Message::binary(vec![7u8; bytes])).await.is_err() {
            return true;
        }
    }
    let deadline = Instant::now() + within;
    loop {
        match tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), ws.next()).await {
            Err(_) => return false,
            Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return true,
            // Engine.IO close ("1") or anything else: keep reading until the socket ends.
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// Opens a Socket.IO socket over a raw WebSocket, then starts a frame whose header announces
/// `announced` bytes and sends only `sent` of them. Reports whether the server closed the
/// connection within `within` (true), or kept reading, waiting to buffer the whole frame (false).
pub async fn announce_a_large_frame(authority: &str, announced: u64, sent: usize, within: Duration) -> bool {
    let ws = raw_socket(authority, "large-frame").await;
    let tokio_tungstenite::MaybeTlsStream::Plain(mut tcp) = ws.into_inner() else {
        panic!("a plain TCP connection to {authority}");
    };
    // A client's frame: FIN and opcode 2 (binary), then "masked" with a 64-bit length, the
    // length, and a mask key of zeros (so the payload goes as it is).
    let mut header = vec![0x82, 0x80 | 127];
    header.extend_from_slice(&announced.to_be_bytes());
    header.extend_from_slice(&[0, 0, 0, 0]);
    if tcp.write_all(&header).await.is_err() {
        return true;
    }
    let chunk = vec![b'x'; 16 * 1024];
    let mut written = 0;
    while written < sent {
        let n = chunk.len().min(sent - written);
        if tcp.write_all(&chunk[..n]).await.is_err() {
            return true;
        }
        written += n;
    }
    closed_by_server(&mut tcp, within).await.is_ok()
}

/// Opens a Socket.IO socket over a raw WebSocket and, the moment the CONNECT reply has arrived,
/// sends `count` chat messages and then a last one, `"last"`, as socket.io-client sends what it
/// buffered before it was connected. Returns how many of the `count` came back (serve's chat
/// echoes every message with `io.emit`) by the time `"last"` did: the server handles one
/// socket's events in order, so whatever has not come back by then was never handled.
pub async fn emit_at_once(authority: &str, name: &str, count: usize) -> usize {
    let mut ws = raw_socket(authority, name).await;
    for n in 0..count {
        ws.send(Message::text(format!(r#"42["chat message","{name}-{n}"]"#)))
            .await
            .expect("send an event");
    }
    ws.send(Message::text(format!(r#"42["chat message","{name}-last"]"#)))
        .await
        .expect("send the last event");
    let mut echoed = 0;
    loop {
        let text = next_text(&mut ws).await;
        if text == format!(r#"42["chat message","{name}-last"]"#) {
            return echoed;
        }
        if text.starts_with(&format!(r#"42["chat message","{name}-"#)) {
            echoed += 1;
        }
    }
}

/// Opens a long-polling session, then starts a `POST` to it whose headers announce a 100-byte
/// body and sends 10 bytes of it, then nothing: a body that trickles, or stops.
pub async fn trickling_post(authority: &str) -> TcpStream {
    let open = realtime_tutor::client::http::get(
        authority,
        "/socket.io/?EIO=4&transport=polling",
        Duration::from_secs(10),
    )
    .await
    .expect("a polling handshake")
    .body;
    let sid = open
        .split("\"sid\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("an Engine.IO OPEN packet with a sid: {open}"))
        .to_owned();
    let mut tcp = TcpStream::connect(authority)
        .await
        .unwrap_or_else(|e| panic!("connect to {authority}: {e}"));
    let head = format!(
        "POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: {authority}\r\n\
         Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 100\r\n\r\n40{{\"a\":\"b\""
    );
    tcp.write_all(head.as_bytes())
        .await
        .expect("write the headers and a part of the body");
    tcp
}
