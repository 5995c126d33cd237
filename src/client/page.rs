//! `io(url, options)` in a browser page, request by request, and what socket.io-client then
//! tells the page's code (lesson 9: why it does not connect).
//!
//! The simulated clients elsewhere connect to servers that want them. This one is built to fail
//! the way a page fails, so it keeps what the others do not need:
//!
//! * **The page's origin.** A page served from `http://localhost:5173` that calls
//!   `io('http://localhost:3000')` makes *cross-origin* requests. The browser sends them (with
//!   an `Origin` header) and the server answers them, but the browser hands the answer to the
//!   page only if it names that origin in `Access-Control-Allow-Origin` (or says `*`):
//!   [`cors_allows`]. Otherwise the page's `XMLHttpRequest` fails with status 0, whatever the
//!   server said. socket.io-client's requests are *simple* ones (`GET`, and `POST` with
//!   `text/plain`), so no preflight is sent. A WebSocket is not subject to CORS.
//! * **The Engine.IO version.** socket.io-client 2.x speaks Engine.IO 3 (`EIO=3`).
//! * **Every exchange**, with its status, kept for the trace.
//!
//! What socket.io-client reports is a rule of its code, applied to what came back
//! ([`Report`]): a polling `GET` that fails (any status but 200, or blocked by CORS) is
//! `connect_error` with `err.message` `"xhr poll error"` and `err.description` the status the
//! page could read (0 when CORS hid it); a `POST` that fails is `"xhr post error"`. A failed
//! WebSocket *upgrade* is not reported at all: the engine emits `upgradeError`, which pages
//! rarely listen to, and the socket stays on polling.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

mod session;

pub use session::{Disconnect, excerpt};

use super::engine::link::Transport;
use super::protocol::{EnginePacket, OpenInfo};

/// The options of `io(url, options)` a page's failure depends on.
#[derive(Debug, Clone)]
pub struct PageOptions {
    /// The page's origin when it is not the server's own (`http://localhost:5173`); `None` for
    /// a page the server itself served, to which CORS does not apply.
    pub origin: Option<String>,
    /// `path`: `/socket.io/` by default.
    pub path: String,
    /// The Engine.IO version the client speaks: 4 (socket.io-client 3 and 4) or 3 (2.x).
    pub eio: u8,
    /// `transports`: polling then WebSocket by default.
    pub transports: Vec<Transport>,
    /// Bounds each request.
    pub timeout: Duration,
}

impl Default for PageOptions {
    fn default() -> Self {
        Self {
            origin: None,
            path: "/socket.io/".to_owned(),
            eio: 4,
            transports: vec![Transport::Polling, Transport::WebSocket],
            timeout: Duration::from_secs(3),
        }
    }
}

/// One request and its answer, as the network carried it (the page may not see it all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// `GET`, `POST`, or `WebSocket` for an upgrade request.
    pub method: String,
    /// Path and query.
    pub target: String,
    pub status: u16,
    /// The answer's `Access-Control-Allow-Origin`, if it had one.
    pub allow_origin: Option<String>,
    /// The start of the body.
    pub body: String,
    /// Did the browser hand the answer to the page? (See [`cors_allows`].)
    pub readable: bool,
}

/// What socket.io-client tells the page's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// `socket.on('connect')`, on this transport (`socket.io.engine.transport.name`).
    Connect { transport: Transport },
    /// `socket.on('connect_error', err)`: `err.message`, `err.description`.
    ConnectError { message: String, description: u16 },
}

impl Report {
    /// The report as the page's code reads it: `connect (transport: polling)`,
    /// `connect_error: xhr poll error (description: 404)`.
    pub fn line(&self) -> String {
        match self {
            Report::Connect { transport } => format!("connect (transport: {transport})"),
            Report::ConnectError { message, description } => {
                format!("connect_error: {message} (description: {description})")
            }
        }
    }
}

/// A WebSocket the page opened.
pub type WsStream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// What one `io()` did: every exchange in order, and what the page was told.
#[derive(Debug)]
pub struct Attempt {
    pub exchanges: Vec<Exchange>,
    pub report: Report,
    /// The session, when it connected.
    pub session: Option<PageSession>,
    /// The handshake's values, when one was read.
    pub open: Option<OpenInfo>,
}

/// A connected page's session, on the transport it ended up on.
#[derive(Debug)]
pub struct PageSession {
    pub sid: String,
    /// The WebSocket, when the upgrade succeeded.
    pub websocket: Option<WsStream>,
    pub(super) authority: String,
    pub(super) target: String,
    pub(super) origin: Option<String>,
}

/// Why the attempt could not be made at all (not a failure socket.io-client would report as
/// one of its own: nothing answered).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PageError(pub String);

// ANCHOR: cors_allows
/// The browser's rule for a cross-origin answer a page asked for without credentials: readable
/// when `Access-Control-Allow-Origin` is `*` or names the page's origin exactly. A page the
/// server served itself (`origin` is `None`) reads every answer.
pub fn cors_allows(origin: Option<&str>, allow_origin: Option<&str>) -> bool {
    match origin {
        None => true,
        Some(origin) => allow_origin.is_some_and(|allowed| allowed == "*" || allowed == origin),
    }
}
// ANCHOR_END: cors_allows

/// The request target of a polling request: `/socket.io/?EIO=4&transport=polling[&sid=…]`.
fn polling_target(options: &PageOptions, sid: Option<&str>) -> String {
    let path = format!("/{}/", options.path.trim_matches('/'));
    let mut target = format!("{path}?EIO={}&transport=polling", options.eio);
    if let Some(sid) = sid {
        target.push_str(&format!("&sid={sid}"));
    }
    target
}

/// Plays `io(url, options)` against `authority` (`127.0.0.1:3000`) until socket.io-client
/// would report `connect` or a first `connect_error`.
pub async fn connect(authority: &str, options: &PageOptions) -> Result<Attempt, PageError> {
    let mut exchanges = Vec::new();
    let failed = |exchanges: Vec<Exchange>, message: &str, description: u16| Attempt {
        exchanges,
        report: Report::ConnectError {
            message: message.to_owned(),
            description,
        },
        session: None,
        open: None,
    };
    let origin = options.origin.as_deref();
    // 1. The handshake: a GET without sid, answered by the OPEN packet.
    let handshake = request(
        authority,
        "GET",
        &polling_target(options, None),
        origin,
        None,
        options.timeout,
    )
    .await?;
    let (readable, status) = (handshake.readable, handshake.status);
    let body = handshake.body.clone();
    exchanges.push(handshake);
    if !readable || status != 200 {
        return Ok(failed(
            exchanges,
            "xhr poll error",
            if readable { status } else { 0 },
        ));
    }
    let open = match EnginePacket::decode(&body) {
        Ok(EnginePacket::Open(open)) => open,
        _ => return Ok(failed(exchanges, "parse error", 0)),
    };
    let target = polling_target(options, Some(&open.sid));
    // 2. The Socket.IO CONNECT, in a POST.
    let post = request(
        authority,
        "POST",
        &target,
        origin,
        Some("40".into()),
        options.timeout,
    )
    .await?;
    let (readable, status) = (post.readable, post.status);
    exchanges.push(post);
    if !readable || status != 200 {
        return Ok(failed(
            exchanges,
            "xhr post error",
            if readable { status } else { 0 },
        ));
    }
    // 3. GETs until the CONNECT reply; socketioxide pings a new session at once, and the
    // client answers each ping with a pong.
    let mut connected = false;
    for _ in 0..4 {
        let poll = request(authority, "GET", &target, origin, None, options.timeout).await?;
        let (readable, status) = (poll.readable, poll.status);
        let body = poll.body.clone();
        exchanges.push(poll);
        if !readable || status != 200 {
            return Ok(failed(
                exchanges,
                "xhr poll error",
                if readable { status } else { 0 },
            ));
        }
        for packet in body.split('\u{1e}') {
            if packet.starts_with("40") {
                connected = true;
            } else if let Some(data) = packet.strip_prefix('2') {
                let pong = request(
                    authority,
                    "POST",
                    &target,
                    origin,
                    Some(format!("3{data}")),
                    options.timeout,
                );
                exchanges.push(pong.await?);
            }
        }
        if connected {
            break;
        }
    }
    if !connected {
        return Err(PageError(format!("no CONNECT reply in four polls of {target}")));
    }
    let mut session = PageSession {
        sid: open.sid.clone(),
        websocket: None,
        authority: authority.to_owned(),
        target,
        origin: options.origin.clone(),
    };
    // 4. The upgrade, when both sides offer it.
    let mut transport = Transport::Polling;
    if options.transports.contains(&Transport::WebSocket) && open.upgrades.iter().any(|u| u == "websocket") {
        let (exchange, websocket) = upgrade(authority, options, &open.sid).await?;
        exchanges.push(exchange);
        if websocket.is_some() {
            transport = Transport::WebSocket;
        }
        session.websocket = websocket;
    }
    Ok(Attempt {
        exchanges,
        report: Report::Connect { transport },
        session: Some(session),
        open: Some(open),
    })
}

/// The WebSocket request for session `sid`, then `2probe` → `3probe` → `5`. A refused request
/// is an exchange with its status and no socket.
async fn upgrade(
    authority: &str,
    options: &PageOptions,
    sid: &str,
) -> Result<(Exchange, Option<WsStream>), PageError> {
    let path = format!("/{}/", options.path.trim_matches('/'));
    let target = format!("{path}?EIO={}&transport=websocket&sid={sid}", options.eio);
    let mut req = format!("ws://{authority}{target}")
        .into_client_request()
        .map_err(|e| PageError(e.to_string()))?;
    if let Some(origin) = &options.origin {
        let value = origin
            .parse()
            .map_err(|_| PageError(format!("bad origin {origin}")))?;
        req.headers_mut().insert("Origin", value);
    }
    let exchange = |status: u16, body: String| Exchange {
        method: "WebSocket".into(),
        target: target.clone(),
        status,
        allow_origin: None,
        body,
        readable: true,
    };
    let what = format!("the WebSocket request to {target}");
    let opened = tokio::time::timeout(options.timeout, tokio_tungstenite::connect_async(req))
        .await
        .map_err(|_| PageError(format!("no answer to {what} within {:?}", options.timeout)))?;
    let mut ws = match opened {
        Ok((ws, _)) => ws,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let status = response.status().as_u16();
            let body = response
                .body()
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            return Ok((exchange(status, body), None));
        }
        Err(e) => return Err(PageError(format!("{what}: {e}"))),
    };
    let probe = async {
        ws.send(Message::text("2probe")).await.ok()?;
        loop {
            match ws.next().await? {
                Ok(Message::Text(text)) if text.as_str() == "3probe" => break,
                Ok(Message::Text(_) | Message::Ping(_) | Message::Pong(_)) => continue,
                _ => return None,
            }
        }
        ws.send(Message::text("5")).await.ok()
    };
    match tokio::time::timeout(options.timeout, probe).await {
        Ok(Some(())) => {}
        _ => return Err(PageError(format!("the upgrade probe over {what} got no 3probe"))),
    }
    Ok((exchange(101, String::new()), Some(ws)))
}

/// One HTTP request as the page's browser makes it: with `Origin` for a cross-origin page, over
/// a connection of its own, bounded by `limit`; the answer's body is kept up to 4 KiB.
pub async fn request(
    authority: &str,
    method: &str,
    target: &str,
    origin: Option<&str>,
    body: Option<String>,
    limit: Duration,
) -> Result<Exchange, PageError> {
    let what = format!("{method} {target}");
    let work = async {
        let stream = TcpStream::connect(authority)
            .await
            .map_err(|e| PageError(format!("{what}: {e}")))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| PageError(e.to_string()))?;
        let driver = tokio::spawn(connection);
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(target)
            .header(hyper::header::HOST, authority);
        if let Some(origin) = origin {
            req = req.header(hyper::header::ORIGIN, origin);
        }
        if body.is_some() {
            req = req.header(hyper::header::CONTENT_TYPE, "text/plain;charset=UTF-8");
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| PageError(e.to_string()))?;
        let response = sender
            .send_request(req)
            .await
            .map_err(|e| PageError(format!("{what}: {e}")))?;
        let status = response.status().as_u16();
        let allow_origin = response
            .headers()
            .get(hyper::header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let bytes = Limited::new(response.into_body(), 4096)
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        driver.abort();
        Ok(Exchange {
            method: method.to_owned(),
            target: target.to_owned(),
            status,
            readable: cors_allows(origin, allow_origin.as_deref()),
            allow_origin,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    };
    match tokio::time::timeout(limit, work).await {
        Ok(result) => result,
        Err(_) => Err(PageError(format!("no answer to {what} within {limit:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cross_origin_answer_is_readable_only_when_it_names_the_page() {
        let page = Some("http://localhost:5173");
        assert!(cors_allows(None, None), "same origin: no CORS at all");
        assert!(!cors_allows(page, None));
        assert!(cors_allows(page, Some("http://localhost:5173")));
        assert!(cors_allows(page, Some("*")));
        assert!(!cors_allows(page, Some("http://localhost:3000")));
        assert!(
            !cors_allows(page, Some("http://localhost:5173/")),
            "an origin has no path"
        );
    }

    #[test]
    fn the_page_reads_what_socket_io_client_reports() {
        let error = Report::ConnectError {
            message: "xhr poll error".into(),
            description: 404,
        };
        assert_eq!(error.line(), "connect_error: xhr poll error (description: 404)");
        let ok = Report::Connect {
            transport: Transport::Polling,
        };
        assert_eq!(ok.line(), "connect (transport: polling)");
    }
}
