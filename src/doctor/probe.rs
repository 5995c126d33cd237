//! One HTTP request, seen raw: the status, the headers and the first bytes of the body.
//!
//! The simulated clients in [`crate::client`] turn a reply into "connected" or an error; a doctor
//! needs what came before that judgement: was it `404` or `400`, which CORS headers were there,
//! what did the body say. So this layer speaks HTTP/1.1 with hyper's low-level `client::conn`
//! API, one fresh TCP connection per request (as a browser may do: nothing here relies on
//! keep-alive, so a load balancer is free to send each request to another server, which is
//! exactly what the sticky-session check wants to see).
//!
//! Every request is bounded twice: in time (the whole exchange, connect to last body byte, within
//! the limit the caller gives) and in bytes ([`BODY_LIMIT`]): a server that trickles or streams an
//! endless body is cut off, and the reply says it was.

use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

/// The most of a body the doctor reads: 64 KiB. An Engine.IO handshake is about 120 bytes and
/// an error body about 45; a page that is not Socket.IO only needs its first words to be named.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Where the requests go: the address dialled, and the `Host` header a browser would send.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub addr: SocketAddr,
    pub host: String,
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code: 200, 400, 404, …
    pub code: u16,
    /// The response headers, names in lower case, values as text (lossy).
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy), at most [`BODY_LIMIT`] bytes of it.
    pub body: String,
    /// The body went on past [`BODY_LIMIT`], and the rest was not read.
    pub cut: bool,
    /// From the TCP connect to the last byte read.
    pub took: Duration,
}

impl Reply {
    /// The value of header `name` (lower case), if the response had it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request got no reply.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProbeError {
    /// Nothing listens on the port: the TCP connection was refused.
    #[error("connection refused: nothing listens on {0}")]
    Refused(SocketAddr),
    /// The limit passed, and `what` had not come.
    #[error("no answer within {} ms (waiting for {what})", after.as_millis())]
    Timeout { what: &'static str, after: Duration },
    /// The whole run's bound ([`super::RUN_LIMIT`]) passed while waiting.
    #[error("the whole run's bound ({secs} s) passed while waiting for {what}", secs = super::RUN_LIMIT.as_secs())]
    RunOver { what: &'static str },
    /// The server closed the connection or spoke something that is not HTTP.
    #[error("{0}")]
    Broken(String),
}

/// Sends one request and reads its reply within `limit`.
///
/// `target` is the path and query (`/socket.io/?EIO=4&transport=polling`); `headers` are sent
/// as given, after `Host`.
pub async fn request(
    endpoint: &Endpoint,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    limit: Duration,
) -> Result<Reply, ProbeError> {
    let started = Instant::now();
    let deadline = started + limit;
    let left = || deadline.saturating_duration_since(Instant::now());
    let stream = match timeout(left(), TcpStream::connect(endpoint.addr)).await {
        Err(_) => {
            return Err(ProbeError::Timeout {
                what: "the TCP connection",
                after: limit,
            });
        }
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return Err(ProbeError::Refused(endpoint.addr));
        }
        Ok(Err(e)) => return Err(ProbeError::Broken(format!("cannot connect: {e}"))),
        Ok(Ok(stream)) => stream,
    };
    // hyper splits HTTP/1.1 into a request sender and a connection future that does the reading
    // and writing; the future runs on its own task and ends when this function drops the sender.
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| ProbeError::Broken(e.to_string()))?;
    let driver = tokio::spawn(connection);
    let mut builder = hyper::Request::builder()
        .method(method)
        .uri(target)
        .header(hyper::header::HOST, &endpoint.host);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(Full::new(Bytes::from(body.unwrap_or_default().to_owned())))
        .map_err(|e| ProbeError::Broken(e.to_string()))?;
    let result = async {
        let response = match timeout(left(), sender.send_request(request)).await {
            Err(_) => {
                return Err(ProbeError::Timeout {
                    what: "the status line and headers",
                    after: limit,
                });
            }
            Ok(Err(e)) => return Err(ProbeError::Broken(no_http(&e))),
            Ok(Ok(response)) => response,
        };
        let code = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        // The body, one frame at a time; `Limited` fails the frame that goes past the limit,
        // and reading stops there.
        let mut frames = Limited::new(response.into_body(), BODY_LIMIT);
        let mut bytes: Vec<u8> = Vec::new();
        let mut cut = false;
        loop {
            match timeout(left(), frames.frame()).await {
                Err(_) => {
                    return Err(ProbeError::Timeout {
                        what: "the end of the body",
                        after: limit,
                    });
                }
                Ok(None) => break,
                Ok(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        bytes.extend_from_slice(data);
                    }
                }
                Ok(Some(Err(e))) if e.is::<http_body_util::LengthLimitError>() => {
                    cut = true;
                    break;
                }
                Ok(Some(Err(e))) => return Err(ProbeError::Broken(e.to_string())),
            }
        }
        Ok(Reply {
            code,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            cut,
            took: started.elapsed(),
        })
    }
    .await;
    driver.abort();
    result
}

/// hyper's error, said for someone who asked for HTTP and got something else.
fn no_http(error: &hyper::Error) -> String {
    if error.is_parse() {
        format!("the answer is not HTTP ({error})")
    } else if error.is_incomplete_message() {
        "the server closed the connection without an answer".to_owned()
    } else {
        error.to_string()
    }
}
