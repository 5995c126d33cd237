//! Why HTTP long-polling needs sticky sessions: a session opened on one node, polled on another.
//!
//! A client that starts with HTTP long-polling (the default `io()`) sends many separate HTTP
//! requests, each naming its session (`&sid=…`). A load balancer without sticky sessions may
//! send the next request to another node, which has never heard of that session; Socket.IO
//! answers it with HTTP 400 and "Session ID unknown", and the client starts over. A WebSocket
//! is one long connection, so a WebSocket-only client (`transports: ['websocket']`) stays on
//! the node it reached. An adapter does not help: it shares broadcasts, not sessions.
//!
//! [`cross_poll`] performs exactly that: the polling handshake on node A, then the next poll on
//! node B. The answers, as observed (socketioxide 0.18.9 and Node's socket.io 4.8.4 differ in one
//! character):
//!
//! ```text
//! socketioxide  400 Bad Request  application/json  {"code":"1","message":"Session ID unknown"}
//! Node          400 Bad Request  application/json  {"code":1,"message":"Session ID unknown"}
//! ```

use std::time::Duration;

use crate::client::http::{self, HttpError, HttpReply};

/// The Engine.IO polling handshake request.
pub const HANDSHAKE: &str = "/socket.io/?EIO=4&transport=polling";

/// What the two requests got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossPoll {
    /// The session A opened.
    pub sid: String,
    /// A's answer to the handshake (an OPEN packet as the body).
    pub open: HttpReply,
    /// B's answer to a poll for A's session.
    pub other: HttpReply,
}

/// Why the probe could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CrossPollError {
    #[error("{0}")]
    Http(#[from] HttpError),
    #[error("the polling handshake on {authority} did not answer an OPEN packet: {status} {body:?}")]
    NoOpen {
        authority: String,
        status: String,
        body: String,
    },
}

/// Opens a polling session on `a` (`127.0.0.1:PORT`) and polls it on `b`; each request bounded by
/// `limit`.
pub async fn cross_poll(a: &str, b: &str, limit: Duration) -> Result<CrossPoll, CrossPollError> {
    let open = http::get(a, HANDSHAKE, limit).await?;
    let sid = open_sid(&open.body).ok_or_else(|| CrossPollError::NoOpen {
        authority: a.to_string(),
        status: open.status.clone(),
        body: open.body.clone(),
    })?;
    let other = http::get(b, &format!("{HANDSHAKE}&sid={sid}"), limit).await?;
    Ok(CrossPoll { sid, open, other })
}

/// The session id of an OPEN packet (`0{"sid":"…",…}`), if the body is one.
pub fn open_sid(body: &str) -> Option<String> {
    let json: serde_json::Value = serde_json::from_str(body.strip_prefix('0')?).ok()?;
    Some(json.get("sid")?.as_str()?.to_string())
}

#[cfg(test)]
mod tests {
    use super::open_sid;

    #[test]
    fn the_sid_is_read_from_an_open_packet_only() {
        assert_eq!(
            open_sid(r#"0{"sid":"abc","upgrades":["websocket"]}"#).as_deref(),
            Some("abc")
        );
        assert_eq!(open_sid(r#"{"sid":"abc"}"#), None);
        assert_eq!(open_sid("0not json"), None);
        assert_eq!(open_sid(r#"0{"nosid":1}"#), None);
    }
}
