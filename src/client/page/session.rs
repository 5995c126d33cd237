//! What a connected page does next (lesson 9): send a message, stop answering pings, emit at
//! once and fence, and how socket.io-client then reports the end of its session.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use super::{PageError, PageSession, WsStream, request};

/// `socket.on('disconnect', (reason, details) => …)`: the reason, and what
/// `details.description` says (a status code, or the transport's words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disconnect {
    pub reason: String,
    pub description: String,
}

impl Disconnect {
    /// `disconnect: transport close (websocket connection closed)`.
    pub fn line(&self) -> String {
        format!("disconnect: {} ({})", self.reason, self.description)
    }
}

impl PageSession {
    /// `socket.emit('chat message', text)` with a text of `bytes` characters, then reads on
    /// (answering pings) until the server's echo comes back (`None`) or the session ends;
    /// `limit` bounds the whole wait.
    pub async fn emit_and_wait(
        &mut self,
        bytes: usize,
        limit: Duration,
    ) -> Result<Option<Disconnect>, PageError> {
        let packet = format!("42{}", serde_json::json!(["chat message", "x".repeat(bytes)]));
        match self.websocket.as_mut() {
            Some(ws) => {
                ws.send(Message::text(packet))
                    .await
                    .map_err(|e| PageError(format!("sending over the WebSocket: {e}")))?;
                websocket_end(ws, true, true, limit).await
            }
            None => {
                // A failed POST is a transport error, and socket.io-client closes the
                // transport; the server is not told.
                let post = request(
                    &self.authority,
                    "POST",
                    &self.target,
                    self.origin.as_deref(),
                    Some(packet),
                    limit,
                )
                .await?;
                match post.status {
                    200 => self.poll_until(true, true, limit).await,
                    status => Ok(Some(Disconnect {
                        reason: "transport error".into(),
                        description: format!("xhr post error, {status}"),
                    })),
                }
            }
        }
    }

    /// `socket.emit('chat message', text)` over the session's WebSocket.
    pub async fn emit_text(&mut self, text: &str) -> Result<(), PageError> {
        let ws = self.websocket_or_error()?;
        let packet = format!("42{}", serde_json::json!(["chat message", text]));
        ws.send(Message::text(packet))
            .await
            .map_err(|e| PageError(format!("sending over the WebSocket: {e}")))
    }

    /// A fence made of the protocol itself: a CONNECT to a namespace no server has, which the
    /// server refuses at once, as it reads it. Packets of one connection are read in order, so
    /// when the refusal is back the server has read, and dealt with, every packet sent before.
    /// Returns the texts of the `'chat message'` echoes that came back meanwhile.
    pub async fn fence(&mut self, limit: Duration) -> Result<Vec<String>, PageError> {
        let ws = self.websocket_or_error()?;
        ws.send(Message::text(format!("40{FENCE_NSP},")))
            .await
            .map_err(|e| PageError(format!("sending over the WebSocket: {e}")))?;
        read_echoes(ws, &format!("44{FENCE_NSP},"), limit).await
    }

    /// Reads until the echo of `text` comes back; returns every echo read on the way.
    pub async fn wait_echo(&mut self, text: &str, limit: Duration) -> Result<Vec<String>, PageError> {
        let ws = self.websocket_or_error()?;
        let wanted = format!("42{}", serde_json::json!(["chat message", text]));
        read_echoes(ws, &wanted, limit).await.map(|mut echoes| {
            echoes.push(text.to_owned());
            echoes
        })
    }

    fn websocket_or_error(&mut self) -> Result<&mut WsStream, PageError> {
        self.websocket
            .as_mut()
            .ok_or_else(|| PageError("this step needs the session on a WebSocket".into()))
    }

    /// Stops answering the server's pings (a frozen tab, a client stuck in a loop) and reads
    /// on until the session ends; `limit` bounds the wait.
    pub async fn stop_answering_pings(&mut self, limit: Duration) -> Result<Disconnect, PageError> {
        match self.websocket.as_mut() {
            Some(ws) => websocket_end(ws, false, false, limit).await,
            None => self.poll_until(false, false, limit).await,
        }
        .and_then(|end| end.ok_or_else(|| PageError("the session went on".into())))
    }

    /// Long-polls until the server closes the session (a CLOSE packet, or an error status),
    /// or, when `echo`, until its echo of `'chat message'` arrives (`None`).
    async fn poll_until(
        &mut self,
        pong: bool,
        echo: bool,
        limit: Duration,
    ) -> Result<Option<Disconnect>, PageError> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(PageError(format!("the session was still open after {limit:?}")));
            }
            let poll = request(
                &self.authority,
                "GET",
                &self.target,
                self.origin.as_deref(),
                None,
                left,
            )
            .await?;
            if poll.status != 200 {
                return Ok(Some(Disconnect {
                    reason: "transport error".into(),
                    description: format!("xhr poll error, {}", poll.status),
                }));
            }
            for packet in poll.body.split('\u{1e}') {
                if packet == "1" {
                    return Ok(Some(Disconnect {
                        reason: "transport close".into(),
                        description: "transport closed by the server".into(),
                    }));
                }
                if echo && packet.starts_with(ECHO) {
                    return Ok(None);
                }
                if pong && let Some(data) = packet.strip_prefix('2') {
                    let answer = Some(format!("3{data}"));
                    request(
                        &self.authority,
                        "POST",
                        &self.target,
                        self.origin.as_deref(),
                        answer,
                        left,
                    )
                    .await?;
                }
            }
        }
    }
}

/// The namespace of [`PageSession::fence`]: tutor plumbing, which no server has.
const FENCE_NSP: &str = "/tutor-fence";

/// Reads frames (answering pings) until one starts with `until`; returns the `'chat message'` texts read
/// before it.
async fn read_echoes(ws: &mut WsStream, until: &str, limit: Duration) -> Result<Vec<String>, PageError> {
    let read = async {
        let mut echoes = Vec::new();
        while let Some(frame) = ws.next().await {
            let Ok(Message::Text(text)) = frame else {
                match frame {
                    Ok(Message::Close(_)) | Err(_) => break,
                    _ => continue,
                }
            };
            let text = text.as_str();
            if text.starts_with(until) {
                return Ok(echoes);
            }
            if let Some(data) = text.strip_prefix('2') {
                let _ = ws.send(Message::text(format!("3{data}"))).await;
            } else if text.starts_with(ECHO)
                && let Ok(serde_json::Value::Array(args)) = serde_json::from_str(&text[2..])
            {
                echoes.push(
                    args.get(1)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
        }
        Err(PageError("the WebSocket closed".into()))
    };
    tokio::time::timeout(limit, read)
        .await
        .map_err(|_| PageError(format!("no {until} within {limit:?}")))?
}

/// The start of the server's echo: `42["chat message",…`.
const ECHO: &str = "42[\"chat message\"";

/// Reads a WebSocket until it ends, answering pings when `pong`, or, when `echo`, until the
/// echo arrives (`None`); socket.io-client calls any end of its WebSocket "transport close".
async fn websocket_end(
    ws: &mut WsStream,
    pong: bool,
    echo: bool,
    limit: Duration,
) -> Result<Option<Disconnect>, PageError> {
    let read = async {
        while let Some(frame) = ws.next().await {
            match frame {
                Ok(Message::Text(text)) if echo && text.as_str().starts_with(ECHO) => return true,
                Ok(Message::Text(text)) if pong && text.as_str().starts_with('2') => {
                    let answer = format!("3{}", &text.as_str()[1..]);
                    if ws.send(Message::text(answer)).await.is_err() {
                        break;
                    }
                }
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        false
    };
    let echoed = tokio::time::timeout(limit, read)
        .await
        .map_err(|_| PageError(format!("the WebSocket was still open after {limit:?}")))?;
    Ok((!echoed).then(|| Disconnect {
        reason: "transport close".into(),
        description: "websocket connection closed".into(),
    }))
}

/// The first line of a body, at most 80 characters, for a trace line.
pub fn excerpt(body: &str) -> String {
    let line = body.lines().next().unwrap_or("");
    line.chars().take(80).collect()
}

impl PageSession {
    /// The session's polling target (`…&transport=polling&sid=…`), or its WebSocket's.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The page's origin, as its requests carry it.
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }

    /// Where the session's requests go.
    pub fn authority(&self) -> &str {
        &self.authority
    }
}
