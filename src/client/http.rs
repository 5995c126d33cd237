//! A plain HTTP GET, the way a browser fetches the page before it runs any script.
//!
//! Lesson 1 needs to show that the same port answers both an ordinary request (`GET /`) and a
//! WebSocket upgrade. This is the ordinary half: one TCP connection, one HTTP/1.1 request, one
//! response. hyper's low-level `client::conn` API is used on purpose: it shows the two steps a
//! high-level client hides (open a TCP connection, then speak HTTP over it).

use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::timeout;

pub use super::limits::{BODY_LIMIT, EXCERPT_LIMIT};

/// What came back from a GET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    /// `200 OK`, `404 Not Found`, …
    pub status: String,
    /// The numeric status code.
    pub code: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The `Location` header, if any: where a redirect (`302 Found`) points.
    pub location: Option<String>,
    /// The body as text (lossy), cut at [`EXCERPT_LIMIT`] bytes.
    pub body: String,
}

/// Why a GET produced no response.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("connection refused: nothing is listening on {0}")]
    Refused(String),
    #[error("timed out after {after:?} waiting for {what}")]
    Timeout { what: String, after: Duration },
    #[error("{0}")]
    Other(String),
}

/// Sends `GET path` to `authority` (`127.0.0.1:3000`) and reads the response: its status and
/// headers, and its body up to [`BODY_LIMIT`] bytes, of which it keeps the first
/// [`EXCERPT_LIMIT`]. A longer body is not read to its end: the reply is what came before.
pub async fn get(authority: &str, path: &str, limit: Duration) -> Result<HttpReply, HttpError> {
    let timed_out = |what: &str| HttpError::Timeout {
        what: what.to_owned(),
        after: limit,
    };
    // Step 1: a TCP connection. "Refused" here means no process listens on that port.
    let stream = match timeout(limit, TcpStream::connect(authority)).await {
        Err(_) => return Err(timed_out(&format!("a TCP connection to {authority}"))),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return Err(HttpError::Refused(authority.to_owned()));
        }
        Ok(Err(e)) => return Err(HttpError::Other(e.to_string())),
        Ok(Ok(stream)) => stream,
    };
    // Step 2: speak HTTP/1.1 over it. hyper splits this into a request sender and a
    // connection future that does the actual reading and writing; the future must be polled.
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| HttpError::Other(e.to_string()))?;
    let driver = tokio::spawn(connection);
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, authority)
        .body(Empty::<Bytes>::new())
        .map_err(|e| HttpError::Other(e.to_string()))?;
    let what = format!("the response to GET {path} from {authority}");
    let response = match timeout(limit, sender.send_request(request)).await {
        Err(_) => return Err(timed_out(&what)),
        Ok(Err(e)) => return Err(HttpError::Other(e.to_string())),
        Ok(Ok(response)) => response,
    };
    let status = response.status();
    let content_type = response
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let location = response
        .headers()
        .get(hyper::header::LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    // Step 3: the body, one frame (a chunk of bytes) at a time, as it arrives. `Limited` turns
    // the frame that would go past BODY_LIMIT into an error, and reading stops there; the
    // excerpt keeps what came before. The time bound covers the whole body, so a server that
    // trickles bytes cannot hold us either.
    let mut body = Limited::new(response.into_body(), BODY_LIMIT);
    let mut excerpt: Vec<u8> = Vec::new();
    let read = timeout(limit, async {
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(frame) => {
                    if let Some(data) = frame.data_ref() {
                        let room = EXCERPT_LIMIT - excerpt.len();
                        excerpt.extend_from_slice(&data[..data.len().min(room)]);
                    }
                }
                Err(e) if e.is::<http_body_util::LengthLimitError>() => break,
                Err(e) => return Err(HttpError::Other(e.to_string())),
            }
        }
        Ok(())
    })
    .await;
    driver.abort();
    match read {
        Err(_) => return Err(timed_out(&what)),
        Ok(Err(e)) => return Err(e),
        Ok(Ok(())) => {}
    }
    Ok(HttpReply {
        status: format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("")),
        code: status.as_u16(),
        content_type,
        location,
        body: String::from_utf8_lossy(&excerpt).into_owned(),
    })
}
