//! HTTP long-polling, the transport `io()` starts with: Engine.IO over ordinary HTTP requests.
//!
//! A browser cannot keep an HTTP response open for the server to write into at will, so
//! Engine.IO makes two kinds of requests, each on the session's URL
//! (`/socket.io/?EIO=4&transport=polling&sid=…`):
//!
//! * **GET** asks "anything for me?". The server answers at once if it has packets queued, and
//!   otherwise *holds* the request until it has one (at the latest its next ping, every
//!   `pingInterval`). That held request is the "long poll". The client sends the next GET as soon
//!   as the previous one is answered, so the server always has one to write into. There must never
//!   be two GETs at once: both servers end the session when that happens.
//! * **POST** carries what the client sends, several packets joined by `\x1e` (see
//!   [`crate::client::payload`]). The server answers `ok`.
//!
//! The very first GET has no `sid`: it is the handshake, and its answer is the OPEN packet that
//! names the session. Each kind of request gets its own keep-alive HTTP/1.1 connection here (a
//! *lane*), so a GET the server is holding never delays a POST, which is also how a browser
//! spreads them over its connection pool.
//!
//! hyper's low-level `client::conn` API is used, as in [`crate::client::http`]: it shows the two
//! steps a high-level client hides (open a TCP connection, then speak HTTP over it).

use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::timeout;

use crate::client::limits::{ERROR_BODY_EXCERPT, MAX_MESSAGE_SIZE};

/// Why a polling request produced no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// No process listens on that port.
    #[error("connection refused: nothing is listening on {0}")]
    Refused(String),
    /// The server closed the connection before it answered.
    #[error("the server closed the connection without answering {0}")]
    Closed(String),
    /// The bounded wait ran out.
    #[error("timed out after {after:?} waiting for the answer to {what}")]
    Timeout { what: String, after: Duration },
    /// Anything else on the way.
    #[error("{0}")]
    Other(String),
}

/// One HTTP answer: status line and body text.
#[derive(Debug)]
pub struct Answer {
    /// The numeric status.
    pub code: u16,
    /// `200 OK`, `400 Bad Request`, …
    pub status: String,
    /// The body as text (lossy), at most [`MAX_MESSAGE_SIZE`] bytes.
    pub body: String,
}

impl Answer {
    /// The start of the body, for an error message.
    pub fn excerpt(&self) -> String {
        self.body.chars().take(ERROR_BODY_EXCERPT).collect()
    }
}

/// One keep-alive HTTP/1.1 connection to the server, reopened when the server closes it.
#[derive(Debug)]
struct Lane {
    sender: Option<(SendRequest<Full<Bytes>>, JoinHandle<()>)>,
}

impl Drop for Lane {
    fn drop(&mut self) {
        if let Some((_, driver)) = &self.sender {
            driver.abort();
        }
    }
}

/// The two lanes of one polling session, and where to send requests.
#[derive(Debug)]
pub struct PollingLink {
    authority: String,
    /// `/socket.io/?EIO=4&transport=polling` plus the caller's query; `&sid=…` once known.
    url: String,
    gets: Lane,
    posts: Lane,
}

impl PollingLink {
    /// A link to `authority` (`127.0.0.1:3000`) for the handshake URL `url` (path and query).
    pub fn new(authority: &str, url: &str) -> Self {
        Self {
            authority: authority.to_owned(),
            url: url.to_owned(),
            gets: Lane { sender: None },
            posts: Lane { sender: None },
        }
    }

    /// The request target of every request after the handshake.
    pub fn set_sid(&mut self, sid: &str) {
        self.url = format!("{}&sid={sid}", self.url);
    }

    /// A second link to the same session that takes over this one's POST lane: the reader
    /// keeps the GETs, the writer gets the POSTs.
    pub fn fork(&mut self) -> Self {
        Self {
            authority: self.authority.clone(),
            url: self.url.clone(),
            gets: Lane { sender: None },
            posts: std::mem::replace(&mut self.posts, Lane { sender: None }),
        }
    }

    /// The request target (path and query) requests go to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `GET`: the handshake, or one long poll. `limit` bounds the whole request.
    pub async fn get(&mut self, limit: Duration) -> Result<Answer, PollError> {
        let request = hyper::Request::get(&self.url);
        let what = format!("GET {}", self.url);
        send(
            &mut self.gets,
            &self.authority,
            request,
            Full::default(),
            what,
            limit,
        )
        .await
    }

    /// `POST`: some packets, already joined into one payload.
    pub async fn post(&mut self, payload: String, limit: Duration) -> Result<Answer, PollError> {
        let request =
            hyper::Request::post(&self.url).header(hyper::header::CONTENT_TYPE, "text/plain;charset=UTF-8");
        let what = format!("POST {}", self.url);
        let body = Full::new(Bytes::from(payload));
        send(&mut self.posts, &self.authority, request, body, what, limit).await
    }
}

/// Sends one request on `lane`, opening (or reopening) its connection first if needed, and reads
/// the answer's body up to [`MAX_MESSAGE_SIZE`]. Everything happens within `limit`.
async fn send(
    lane: &mut Lane,
    authority: &str,
    request: hyper::http::request::Builder,
    body: Full<Bytes>,
    what: String,
    limit: Duration,
) -> Result<Answer, PollError> {
    let request = request
        .header(hyper::header::HOST, authority)
        .body(body)
        .map_err(|e| PollError::Other(e.to_string()))?;
    let work = async {
        if lane.sender.as_ref().is_none_or(|(s, _)| s.is_closed()) {
            lane.sender = Some(open(authority).await?);
        }
        let (sender, _) = lane.sender.as_mut().expect("opened above");
        sender
            .ready()
            .await
            .map_err(|_| PollError::Closed(what.clone()))?;
        let response = sender.send_request(request).await.map_err(|e| {
            if e.is_incomplete_message() || e.is_canceled() || e.is_closed() {
                PollError::Closed(what.clone())
            } else {
                PollError::Other(format!("{what}: {e}"))
            }
        })?;
        let status = response.status();
        // `Limited` turns a body past the limit into an error instead of a memory hog.
        let bytes = Limited::new(response.into_body(), MAX_MESSAGE_SIZE)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    PollError::Other(format!(
                        "the answer to {what} is longer than {MAX_MESSAGE_SIZE} bytes"
                    ))
                } else {
                    PollError::Other(format!("{what}: {e}"))
                }
            })?
            .to_bytes();
        Ok(Answer {
            code: status.as_u16(),
            status: format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or(""))
                .trim_end()
                .to_owned(),
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    };
    match timeout(limit, work).await {
        Err(_) => {
            // The connection may still deliver the late answer; drop it so the next request on
            // this lane starts clean instead of reading a stale response.
            lane.sender = None;
            Err(PollError::Timeout { what, after: limit })
        }
        Ok(result) => result,
    }
}

/// Opens one TCP connection and starts HTTP/1.1 on it. `set_nodelay` turns off Nagle's
/// algorithm: these are small requests that should leave at once.
async fn open(authority: &str) -> Result<(SendRequest<Full<Bytes>>, JoinHandle<()>), PollError> {
    let stream = match TcpStream::connect(authority).await {
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return Err(PollError::Refused(authority.to_owned()));
        }
        Err(e) => return Err(PollError::Other(format!("connecting to {authority}: {e}"))),
        Ok(stream) => stream,
    };
    let _ = stream.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| PollError::Other(e.to_string()))?;
    // The connection future does the reading and writing; it must be polled, so it gets a task.
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok((sender, driver))
}
