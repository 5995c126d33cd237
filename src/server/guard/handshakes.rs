//! How many Engine.IO sessions `serve` opens for clients that have not connected yet.
//!
//! A Socket.IO connection starts with an Engine.IO handshake: for long-polling a plain
//! `GET /socket.io/?EIO=4&transport=polling`, which the server answers with an `OPEN` packet and
//! a new session id. From then on the server keeps that session (its buffers, its timers) until
//! the client sends its Socket.IO `CONNECT` or the session is given up. A bare GET costs the
//! client nothing and the server a session, and a page on another site can send such GETs
//! without any `Origin` header (an `<img>` or a `no-cors` fetch): 40,000 of them grew `serve` by
//! over 500 MB.
//!
//! Two bounds together keep that small:
//!
//! * A session that sends no `CONNECT` is given up after [`super::super::realtime::CONNECT_WITHIN`]
//!   (Node waits 45 s, its `connectTimeout`). A real client sends its `CONNECT` right after the
//!   `OPEN` arrives, in a few milliseconds.
//! * This layer opens at most [`HANDSHAKES`] sessions within that time. A handshake past the
//!   bound is answered `503 Service Unavailable` and never reaches Socket.IO; socket.io-client
//!   retries later by itself. So no more than [`HANDSHAKES`] sessions can be waiting for their
//!   `CONNECT` at any moment.
//!
//! The bound counts every handshake, also those that go on to connect: it cannot tell them apart
//! at the handshake. For a teaching server, [`HANDSHAKES`] every few seconds is far more than its
//! tabs and bots make; what it stops is a flood.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use futures_util::future::Either;
use tower::{Layer, Service};

use super::super::http::Log;

/// The most Engine.IO handshakes [`HandshakeLayer`] lets through within one
/// [`super::super::realtime::CONNECT_WITHIN`]. Each waiting session costs the server about 14 KB, so this
/// many cost it about 14 MB at most.
pub const HANDSHAKES: usize = 1000;

/// The handshakes let through lately, oldest first: a sliding window of `within`.
#[derive(Debug)]
pub struct Window {
    within: Duration,
    most: usize,
    opened: VecDeque<Instant>,
    /// Refused since the last line logged about it.
    refused: u64,
}

impl Window {
    pub fn new(most: usize, within: Duration) -> Self {
        Self {
            within,
            most,
            opened: VecDeque::with_capacity(most),
            refused: 0,
        }
    }

    /// Whether a handshake at `now` may open a session; if so, it is counted.
    pub fn admit(&mut self, now: Instant) -> bool {
        while self
            .opened
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= self.within)
        {
            self.opened.pop_front();
        }
        if self.opened.len() < self.most {
            self.opened.push_back(now);
            return true;
        }
        self.refused += 1;
        false
    }
}

/// Wraps a service with the bound; see the module documentation.
#[derive(Clone)]
pub struct HandshakeLayer {
    window: Arc<Mutex<Window>>,
    log: Log,
}

impl std::fmt::Debug for HandshakeLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandshakeLayer").finish_non_exhaustive()
    }
}

impl HandshakeLayer {
    /// At most `most` handshakes within [`super::super::realtime::CONNECT_WITHIN`] ([`HANDSHAKES`] for
    /// `serve`; a benchmark that connects thousands of clients at once asks for more).
    pub fn new(most: usize, log: Log) -> Self {
        Self {
            window: Arc::new(Mutex::new(Window::new(
                most,
                super::super::realtime::CONNECT_WITHIN,
            ))),
            log,
        }
    }

    /// Counts a handshake; `Some(response)` when it is refused.
    fn check(&self) -> Option<Response<Body>> {
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if window.admit(Instant::now()) {
            return None;
        }
        // Said on the first refusal of a flood, then at 2, 4, 8, … so the log stays short.
        if window.refused.is_power_of_two() {
            (self.log)(format!(
                "refused {} Socket.IO handshakes (503): {} sessions were opened within \
                 {:?}, the most this server opens before they connect",
                window.refused, window.most, window.within
            ));
        }
        let mut response = Response::new(Body::from("too many new sessions; try again shortly\n"));
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        Some(response)
    }
}

impl<S> Layer<S> for HandshakeLayer {
    type Service = HandshakeBound<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HandshakeBound {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`HandshakeLayer`] puts in front of another.
#[derive(Clone)]
pub struct HandshakeBound<S> {
    inner: S,
    layer: HandshakeLayer,
}

impl<S> std::fmt::Debug for HandshakeBound<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandshakeBound").finish_non_exhaustive()
    }
}

/// Whether `request` opens an Engine.IO session: a request to Socket.IO's path that names no
/// session (`sid`) yet, over either transport.
fn is_handshake<B>(request: &Request<B>) -> bool {
    let path = request.uri().path();
    if !(path == "/socket.io" || path.starts_with("/socket.io/")) || path == "/socket.io/socket.io.js" {
        return false;
    }
    let query = request.uri().query().unwrap_or("");
    let names_a_session = query.split('&').any(|pair| pair.starts_with("sid="));
    query.split('&').any(|pair| pair.starts_with("EIO=")) && !names_a_session
}

impl<S, B> Service<Request<B>> for HandshakeBound<S>
where
    S: Service<Request<B>, Response = Response<Body>>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Either<std::future::Ready<Result<Response<Body>, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if is_handshake(&request)
            && let Some(refused) = self.layer.check()
        {
            return Either::Left(std::future::ready(Ok(refused)));
        }
        Either::Right(self.inner.call(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_admits_its_bound_then_refuses_until_the_oldest_expire() {
        let start = Instant::now();
        let within = Duration::from_secs(5);
        let mut window = Window::new(3, within);
        assert!(window.admit(start));
        assert!(window.admit(start + Duration::from_secs(1)));
        assert!(window.admit(start + Duration::from_secs(2)));
        assert!(
            !window.admit(start + Duration::from_secs(3)),
            "the fourth within 5 s"
        );
        assert_eq!(window.refused, 1);
        // The first expires at 5 s: one place again, and only one.
        assert!(window.admit(start + within));
        assert!(!window.admit(start + within));
        // Long after, the whole bound again.
        let later = start + Duration::from_secs(60);
        assert!((0..3).all(|_| window.admit(later)));
        assert!(!window.admit(later));
    }

    #[test]
    fn only_requests_that_open_a_session_are_handshakes() {
        let request = |uri: &str| Request::get(uri).body(()).unwrap();
        assert!(is_handshake(&request("/socket.io/?EIO=4&transport=polling")));
        assert!(is_handshake(&request("/socket.io/?EIO=4&transport=websocket")));
        assert!(!is_handshake(&request(
            "/socket.io/?EIO=4&transport=polling&sid=abc"
        )));
        assert!(!is_handshake(&request("/socket.io/socket.io.js")));
        assert!(!is_handshake(&request("/?EIO=4")));
        assert!(!is_handshake(&request("/tutor/events")));
    }
}
