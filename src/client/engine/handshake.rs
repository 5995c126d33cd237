//! The handshake, on either transport, and the upgrade from long-polling to WebSocket.
//!
//! In the order the packets travel (see [`super`] for the why):
//!
//! ```text
//! polling first (io() default)                 websocket only
//! GET  ?EIO=4&transport=polling   → 0{"sid"…}   GET ?EIO=4&transport=websocket → 101, then 0{"sid"…}
//! POST ?…&sid=…  40               → ok          40 →
//! GET  ?…&sid=…                   → 40{"sid"…}  ← 40{"sid"…}
//! WebSocket ?…&transport=websocket&sid=… → 101
//! 2probe → ← 3probe,  5 →   (from now on: WebSocket)
//! ```
//!
//! socket.io-client asks for the WebSocket earlier, as soon as the OPEN packet offers it, even
//! before the `GET` that brings the CONNECT reply. This client waits for the reply first, on
//! purpose: socketioxide's Engine.IO layer starts moving a session when the WebSocket request
//! arrives, not when the probe does, and answers every later `GET` with a no-op (`6`). Asked
//! early, the reply would come back in the `GET` on one run and over the new WebSocket on the
//! next, depending on which task the server ran first; asked after, every run puts the same
//! frames on the wire, and the socket receives the same packets either way.
//!
//! Each step is bounded by `ConnectOptions::timeout`, and its error names what was awaited.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite;

use super::link::{Link, Transport, WsStream, websocket_config};
use super::polling::{PollError, PollingLink};
use crate::client::address::{authority, engine_target, websocket_url};
use crate::client::error::ConnectError;
use crate::client::options::ConnectOptions;
use crate::client::payload::Frame;
use crate::client::protocol::{EnginePacket, OpenInfo, SocketPacket};
use crate::client::receiver::{Output, Receiver};
use crate::client::usage::Usage;
use crate::client::wire::{WireDirection, WireLog};

/// Performs the handshake at `base` (`http://127.0.0.1:3000`) over the transports `options`
/// names, and hands back the transport to keep and what the tasks need.
pub(in crate::client) async fn handshake(
    base: &str,
    options: &ConnectOptions,
) -> Result<(Link, Session), ConnectError> {
    let wire = WireLog::new(options.record_wire);
    let usage = Arc::new(Usage::default());
    let base = base.trim_end_matches('/');
    let query = query_string(&options.query);
    let first = *options
        .transports
        .first()
        .ok_or_else(|| ConnectError::Other("no transport to connect with (transports is empty)".into()))?;
    let after = options.timeout;

    // Step 1: open the transport; step 2: its first packet must be the Engine.IO OPEN.
    let (mut link, frames) = match first {
        Transport::WebSocket => {
            let url = format!("{}{query}", websocket_url(base, &options.path));
            let mut link = Link::WebSocket(Box::new(open_websocket(&url, after).await?));
            let frames = link
                .recv(after, "the Engine.IO OPEN packet (0{\"sid\":…})", &wire)
                .await
                .map_err(|e| match e {
                    ConnectError::Other(_) => ConnectError::NotEngineIo("<connection closed>".into()),
                    other => other,
                })?;
            (link, frames)
        }
        Transport::Polling => {
            let authority = http_authority(base)?;
            let target = format!("{}{query}", engine_target(&options.path, Transport::Polling));
            let mut polling = PollingLink::new(&authority, &target);
            let frames = polling_handshake(&mut polling, after, &wire).await?;
            (Link::Polling(polling), frames)
        }
    };
    let mut frames = frames.into_iter();
    let open = match frames.next() {
        Some(Frame::Text(text)) => match EnginePacket::decode(&text) {
            Ok(EnginePacket::Open(info)) => info,
            _ => return Err(ConnectError::NotEngineIo(text)),
        },
        Some(binary) => return Err(ConnectError::NotEngineIo(super::link::frame_text(&binary))),
        None => return Err(ConnectError::NotEngineIo("<an empty answer>".into())),
    };
    if let Link::Polling(polling) = &mut link {
        polling.set_sid(&open.sid);
    }

    // Step 3: join the default namespace and wait for the server's answer. Whatever else
    // arrives first is legal: pings (answered at once) and events, which the receiver keeps
    // until the CONNECT reply, as socket.io-client does.
    let mut receiver = Receiver::new(&options.namespace);
    let mut pending: Vec<Frame> = frames.collect();
    let connect = SocketPacket::Connect {
        nsp: options.namespace.clone(),
        data: options.auth.clone(),
    }
    .to_frame();
    link.send(&[connect], after, &wire).await?;
    let deadline = Instant::now() + after;
    let waiting = "the Socket.IO CONNECT reply (40{\"sid\":…})";
    let (sid, pid, mut early) = 'connected: loop {
        for (i, frame) in pending.iter().enumerate() {
            usage.count_handshake(frame.len());
            let outputs = receiver.receive(frame).map_err(|v| {
                ConnectError::Other(format!(
                    "the server opened an Engine.IO session, then broke the Socket.IO protocol: {v}"
                ))
            })?;
            let mut outputs = outputs.into_iter();
            while let Some(output) = outputs.next() {
                match output {
                    Output::Pong(data) => {
                        link.send(&[EnginePacket::Pong(data).encode()], after, &wire)
                            .await?
                    }
                    Output::Connected { sid, pid } => {
                        // Events released by the reply, then whatever came after it in
                        // the same payload, go first to the owner, in this order.
                        let mut early: Vec<Output> = outputs.collect();
                        for later in &pending[i + 1..] {
                            usage.count_handshake(later.len());
                            early.extend(receiver.receive(later).map_err(|v| {
                                ConnectError::Other(format!("the server broke the Socket.IO protocol: {v}"))
                            })?);
                        }
                        break 'connected (sid, pid, early);
                    }
                    Output::Refused { message, data } => {
                        return Err(ConnectError::Refused44 { message, data });
                    }
                    Output::Closed => {
                        return Err(ConnectError::Other(format!(
                            "the server closed the Engine.IO session before {waiting}"
                        )));
                    }
                    Output::Disconnected => {
                        return Err(ConnectError::Other(format!(
                            "the server sent DISCONNECT (41) before {waiting}"
                        )));
                    }
                    _ => {}
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ConnectError::Timeout {
                what: waiting.into(),
                after,
            });
        }
        pending = link.recv(left, waiting, &wire).await?;
    };

    // Step 4: upgrade, when we started on polling, may use a WebSocket, and the server
    // offers one. A failed upgrade is no failure: the session stays on polling, as in
    // socket.io-client.
    let offered = open.upgrades.iter().any(|u| u == "websocket");
    if let Link::Polling(_) = &link
        && offered
        && options.transports.contains(&Transport::WebSocket)
    {
        let url = format!("{}{query}&sid={}", websocket_url(base, &options.path), open.sid);
        match upgrade(&url, after, &wire).await {
            Ok(ws) => link = Link::WebSocket(Box::new(ws)),
            Err(reason) => wire.push(
                WireDirection::Received,
                &format!("[upgrade to WebSocket failed, staying on polling: {reason}]"),
            ),
        }
    }
    early.retain(|o| !matches!(o, Output::Nothing));
    let session = Session {
        sid,
        pid,
        open,
        receiver,
        early,
        wire,
        usage,
        after,
    };
    Ok((link, session))
}

/// Writes `&key=value` pairs, percent-encoding everything but the characters a URL never needs
/// to escape (letters, digits, `-`, `_`, `.`, `~`).
fn query_string(query: &[(String, String)]) -> String {
    fn encode(text: &str, out: &mut String) {
        for byte in text.bytes() {
            if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
                out.push(byte as char);
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    let mut out = String::new();
    for (key, value) in query {
        out.push('&');
        encode(key, &mut out);
        out.push('=');
        encode(value, &mut out);
    }
    out
}

/// What the handshake hands to the tasks.
pub(in crate::client) struct Session {
    pub(in crate::client) sid: String,
    pub(in crate::client) pid: Option<String>,
    pub(in crate::client) open: OpenInfo,
    pub(in crate::client) receiver: Receiver,
    pub(in crate::client) early: Vec<Output>,
    pub(in crate::client) wire: WireLog,
    pub(in crate::client) usage: Arc<Usage>,
    pub(in crate::client) after: Duration,
}

/// `http://127.0.0.1:3000` → `127.0.0.1:3000`; long-polling here speaks plain HTTP only.
fn http_authority(base: &str) -> Result<String, ConnectError> {
    match base.strip_prefix("http://") {
        Some(_) => Ok(authority(base)),
        None => Err(ConnectError::Other(format!(
            "{base}: HTTP long-polling needs an http:// address (this client has no TLS)"
        ))),
    }
}

/// Step 1 over WebSocket: the HTTP request that asks to switch protocols. `true` turns off
/// Nagle's algorithm on our side (see `server::http` for why small frames need that).
async fn open_websocket(url: &str, after: Duration) -> Result<WsStream, ConnectError> {
    match timeout(
        after,
        tokio_tungstenite::connect_async_with_config(url, Some(websocket_config()), true),
    )
    .await
    {
        Err(_) => Err(ConnectError::Timeout {
            what: format!("the WebSocket handshake (HTTP 101) from {url}"),
            after,
        }),
        Ok(Err(error)) => Err(handshake_error(error, url)),
        Ok(Ok((ws, _response))) => Ok(ws),
    }
}

/// Steps 1 and 2 over polling: the first GET, whose answer must be `200` with the OPEN packet.
async fn polling_handshake(
    link: &mut PollingLink,
    after: Duration,
    wire: &WireLog,
) -> Result<Vec<Frame>, ConnectError> {
    let answer = super::link::poll(link, after, wire).await.map_err(|e| match e {
        PollError::Refused(addr) => ConnectError::Refused { addr },
        PollError::Closed(_) => ConnectError::ClosedUnanswered,
        PollError::Timeout { what, after } => ConnectError::Timeout {
            what: format!("the answer to the polling handshake {what}"),
            after,
        },
        PollError::Other(message) => ConnectError::Other(message),
    })?;
    if answer.code != 200 {
        return Err(ConnectError::HttpStatus {
            status: answer.status.clone(),
            body: answer.excerpt(),
        });
    }
    match super::link::payload_frames(&answer.body, wire) {
        Ok(frames) => Ok(frames),
        // Not an Engine.IO payload at all: show what came instead of an OPEN packet.
        Err(_) => Err(ConnectError::NotEngineIo(answer.body.chars().take(200).collect())),
    }
}

/// Step 4: the upgrade from long-polling to WebSocket, in socket.io-client's order.
///
/// 1. Open a WebSocket for the *same* session (`&sid=…`): `101 Switching Protocols`.
/// 2. Probe it: send `2probe`; a server that can switch answers `3probe` over the new socket.
/// 3. Pause polling: no GET may be waiting and no POST in flight, so nothing can still arrive
///    or leave over the old transport. socket.io-client sends its next GET at once and then
///    waits for it to return (the server answers it with a no-op, `6`, when the probe arrives);
///    this client upgrades before it sends that GET, which keeps the same guarantee and makes
///    the order of frames on the wire the same every run.
/// 4. Send `5` (upgrade). The server moves the session to the WebSocket and sends over it
///    everything it queued meanwhile, in order: nothing is lost or reordered by the switch.
async fn upgrade(url: &str, after: Duration, wire: &WireLog) -> Result<WsStream, String> {
    let target = url.split_once("://").map_or(url, |(_, rest)| rest);
    let target = &target[target.find('/').unwrap_or(0)..];
    wire.push(
        WireDirection::Sent,
        &format!("HTTP GET {target} (Upgrade: websocket)"),
    );
    let ws = open_websocket(url, after).await.map_err(|e| e.to_string())?;
    wire.push(WireDirection::Received, "HTTP 101 Switching Protocols");
    let mut link = Link::WebSocket(Box::new(ws));
    link.send(&[EnginePacket::Ping("probe".into()).encode()], after, wire)
        .await
        .map_err(|e| e.to_string())?;
    let answer = link
        .recv(after, "the answer to our probe (3probe)", wire)
        .await
        .map_err(|e| e.to_string())?;
    if answer != [Frame::Text(EnginePacket::Pong("probe".into()).encode())] {
        return Err(format!(
            "the probe was answered with {answer:?} instead of 3probe"
        ));
    }
    link.send(&[EnginePacket::Upgrade.encode()], after, wire)
        .await
        .map_err(|e| e.to_string())?;
    match link {
        Link::WebSocket(ws) => Ok(*ws),
        Link::Polling(_) => unreachable!("opened as a WebSocket above"),
    }
}

/// Explains a failed WebSocket handshake in the terms a learner needs.
fn handshake_error(error: tungstenite::Error, url: &str) -> ConnectError {
    match error {
        tungstenite::Error::Http(response) => {
            let status = response.status();
            let body = response
                .body()
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).chars().take(200).collect())
                .unwrap_or_default();
            ConnectError::HttpStatus {
                status: format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("")),
                body,
            }
        }
        tungstenite::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            ConnectError::Refused { addr: authority(url) }
        }
        // The connection ended (or was reset) before any HTTP response came back.
        tungstenite::Error::Protocol(tungstenite::error::ProtocolError::HandshakeIncomplete) => {
            ConnectError::ClosedUnanswered
        }
        tungstenite::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionReset => {
            ConnectError::ClosedUnanswered
        }
        // An HTTP/1.0 server (Python's http.server, for one) answers, but the WebSocket upgrade
        // exists only from HTTP/1.1 on: it is an ordinary web server, not a Socket.IO one.
        tungstenite::Error::Protocol(tungstenite::error::ProtocolError::WrongHttpVersion) => {
            ConnectError::HttpStatus {
                status: "HTTP/1.0 response, too old for WebSocket".to_owned(),
                body: String::new(),
            }
        }
        other => ConnectError::Other(format!("{other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_percent_encoded() {
        let query = vec![
            ("name".to_owned(), "alice".to_owned()),
            ("greeting".to_owned(), "hé & bye=1".to_owned()),
        ];
        assert_eq!(
            query_string(&query),
            "&name=alice&greeting=h%C3%A9%20%26%20bye%3D1"
        );
        assert_eq!(query_string(&[]), "");
    }

    #[test]
    fn polling_needs_plain_http() {
        assert_eq!(http_authority("http://127.0.0.1:3000").unwrap(), "127.0.0.1:3000");
        assert!(http_authority("https://example.com").is_err());
    }
}
