//! The WebSocket half of the probe: open one, as a page would, and read and write text frames.
//!
//! A refused WebSocket is the interesting case here, so a refusal keeps what the server said:
//! Node's socket.io answers a WebSocket request it will not take with HTTP 400 and a JSON body
//! whose `code` tells why (0 "Transport unknown" when WebSocket is switched off, 3 "Bad request"
//! when the request reached it without its `Upgrade` header, as behind a proxy that drops it).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

use super::probe::{BODY_LIMIT, Endpoint, ProbeError};

/// An open WebSocket to the server.
pub type Ws = WebSocketStream<TcpStream>;

/// Why no WebSocket opened.
#[derive(Debug, Clone)]
pub enum WsRefusal {
    /// The server answered with HTTP, not `101 Switching Protocols`: its status and body.
    Http { code: u16, body: String },
    /// No answer, or not one a WebSocket client understands.
    Failed(ProbeError),
}

/// Opens a WebSocket at `target` (`/socket.io/?EIO=4&transport=websocket…`) within `limit`,
/// with the page's `Origin` when there is one, and says how long the `101` took.
pub async fn open(
    endpoint: &Endpoint,
    target: &str,
    origin: Option<&str>,
    limit: Duration,
) -> Result<(Ws, Duration), WsRefusal> {
    let started = Instant::now();
    let url = format!("ws://{}{target}", endpoint.host);
    let mut request = url
        .into_client_request()
        .map_err(|e| WsRefusal::Failed(ProbeError::Broken(e.to_string())))?;
    if let Some(origin) = origin.and_then(|o| o.parse().ok()) {
        request.headers_mut().insert("origin", origin);
    }
    let attempt = async {
        let stream = TcpStream::connect(endpoint.addr).await.map_err(|e| {
            WsRefusal::Failed(if e.kind() == std::io::ErrorKind::ConnectionRefused {
                ProbeError::Refused(endpoint.addr)
            } else {
                ProbeError::Broken(format!("cannot connect: {e}"))
            })
        })?;
        tokio_tungstenite::client_async_with_config(request, stream, Some(config()))
            .await
            .map_err(|e| match e {
                tungstenite::Error::Http(response) => {
                    let code = response.status().as_u16();
                    let body = response.into_body().unwrap_or_default();
                    let body = &body[..body.len().min(BODY_LIMIT)];
                    WsRefusal::Http {
                        code,
                        body: String::from_utf8_lossy(body).into_owned(),
                    }
                }
                other => WsRefusal::Failed(ProbeError::Broken(other.to_string())),
            })
    };
    match timeout(limit, attempt).await {
        Err(_) => Err(WsRefusal::Failed(ProbeError::Timeout {
            what: "the WebSocket's 101 Switching Protocols",
            after: limit,
        })),
        Ok(Err(refusal)) => Err(refusal),
        Ok(Ok((ws, _response))) => Ok((ws, started.elapsed())),
    }
}

/// Small frames only: a handshake frame is about 120 bytes.
fn config() -> tungstenite::protocol::WebSocketConfig {
    tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(BODY_LIMIT))
        .max_frame_size(Some(BODY_LIMIT))
}

/// Reads the next text frame within `limit`, skipping nothing but WebSocket pings.
pub async fn next_text(ws: &mut Ws, limit: Duration) -> Result<String, ProbeError> {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, ws.next()).await {
            Err(_) => {
                return Err(ProbeError::Timeout {
                    what: "a WebSocket frame",
                    after: limit,
                });
            }
            Ok(None) | Ok(Some(Ok(Message::Close(_)))) => {
                return Err(ProbeError::Broken("the server closed the WebSocket".to_owned()));
            }
            Ok(Some(Err(e))) => return Err(ProbeError::Broken(e.to_string())),
            Ok(Some(Ok(Message::Text(text)))) => return Ok(text.to_string()),
            Ok(Some(Ok(Message::Binary(bytes)))) => {
                return Ok(format!("<{} binary bytes>", bytes.len()));
            }
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// Sends one text frame within `limit`.
pub async fn send(ws: &mut Ws, text: &str, limit: Duration) -> Result<(), ProbeError> {
    match timeout(limit, ws.send(Message::text(text))).await {
        Err(_) => Err(ProbeError::Timeout {
            what: "sending a WebSocket frame",
            after: limit,
        }),
        Ok(Err(e)) => Err(ProbeError::Broken(e.to_string())),
        Ok(Ok(())) => Ok(()),
    }
}

/// Closes politely, without waiting long for the server's answer.
pub async fn close(mut ws: Ws) {
    let _ = timeout(Duration::from_millis(200), ws.close(None)).await;
}
