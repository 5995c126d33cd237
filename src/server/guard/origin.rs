//! Which web pages may talk to the server: the `Origin` check in front of Socket.IO.
//!
//! A browser lets any page open a WebSocket to any address, `ws://127.0.0.1:3000` included, and
//! it sends the page's origin along (`Origin: https://some.site`). Unlike `fetch`, a WebSocket is
//! not held back by the same-origin policy: it is the *server's* job to look at `Origin` and
//! refuse pages it does not know. Node's socket.io leaves that to an option (`cors`, or
//! `allowRequest`); without it, any site a learner visits while `serve` runs could join the chat
//! and drive it.
//!
//! So `serve` answers only its own page by default: `http://127.0.0.1:PORT` and
//! `http://localhost:PORT` (and the address it is bound to, when that is another one). Requests
//! without an `Origin` header come from programs, not pages (Node's `socket.io-client`, `curl`,
//! the tutor's bots) and pass: a program can write any header it likes, so refusing them would
//! protect nothing. A learner whose page lives elsewhere opens the door with `--allow-origin`.
//!
//! One kind of page request carries no `Origin`: a "no-cors" request, such as an `<img src>` or a
//! `fetch(url, { mode: 'no-cors' })` from another site. The page cannot read the answer, but the
//! server still does the work: each bare handshake opens a session. Browsers mark every request
//! with where it comes from (`Sec-Fetch-Site`: `same-origin`, `same-site`, `cross-site`, or
//! `none` for one the user typed), so a Socket.IO request without `Origin` that a browser marks
//! as coming from another site is refused too. socket.io-client's own requests from a page always
//! carry `Origin` when they cross origins, so no real client is refused by this.
//!
//! Why not compare `Origin` with the `Host` the request names? A page on a domain that resolves
//! to 127.0.0.1 (DNS rebinding) would send matching ones. A fixed list cannot be fooled that way.
//!
//! The check is a tower layer: it wraps the router, sees each request before Socket.IO does, and
//! answers `403 Forbidden` itself, so a refused request never reaches a handler.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use futures_util::future::Either;
use tower::{Layer, Service};

use super::super::http::Log;

/// The path under which Socket.IO answers (handshakes, polling and WebSocket upgrades).
const SOCKET_IO_PATH: &str = "/socket.io";

/// The most distinct refused origins logged one by one; later ones are only counted.
const LOGGED_ORIGINS: usize = 16;

/// The origins a server answers, in the form browsers send them: `scheme://host[:port]`,
/// lower case, no path, no default port.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowed {
    origins: BTreeSet<String>,
}

impl Allowed {
    /// The page's own origins for a server listening on `addr`, plus `extra` (already checked
    /// with [`parse_origin`]).
    pub fn for_address(addr: SocketAddr, extra: &[String]) -> Self {
        let port = addr.port();
        let mut origins: BTreeSet<String> = [
            format!("http://127.0.0.1:{port}"),
            format!("http://localhost:{port}"),
            format!("http://[::1]:{port}"),
        ]
        .into();
        match addr.ip() {
            ip if ip.is_unspecified() || ip.is_loopback() => {}
            IpAddr::V4(ip) => {
                origins.insert(format!("http://{ip}:{port}"));
            }
            IpAddr::V6(ip) => {
                origins.insert(format!("http://[{ip}]:{port}"));
            }
        }
        origins.extend(extra.iter().cloned());
        Self { origins }
    }

    /// Is a page from `origin` (the header's value) allowed?
    pub fn allows(&self, origin: &str) -> bool {
        parse_origin(origin).is_ok_and(|o| self.origins.contains(&o))
    }

    /// The allowed origins, sorted, for messages.
    pub fn list(&self) -> Vec<&str> {
        self.origins.iter().map(String::as_str).collect()
    }
}

/// Reads an origin as a learner writes it (`http://192.168.1.5:3000`, `https://example.org/`)
/// into the form a browser sends. The literal `null` (what sandboxed pages and `file://` send)
/// is kept as it is.
pub fn parse_origin(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text == "null" {
        return Ok(text.to_owned());
    }
    let bad = || {
        format!(
            "{text:?} is not an origin; write it like http://127.0.0.1:8080 (scheme, host and port, no path)"
        )
    };
    let (scheme, rest) = text.split_once("://").ok_or_else(bad)?;
    let scheme = scheme.to_ascii_lowercase();
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if !matches!(scheme.as_str(), "http" | "https")
        || rest.is_empty()
        || rest.contains(['/', '?', '#', '@', ' '])
    {
        return Err(bad());
    }
    let mut host = rest.to_ascii_lowercase();
    let default_port = if scheme == "http" { ":80" } else { ":443" };
    if let Some(stripped) = host.strip_suffix(default_port) {
        host = stripped.to_owned();
    }
    Ok(format!("{scheme}://{host}"))
}

/// An origin as it may be printed: a browser sends plain ASCII, anything else is a program
/// writing its own header, and must not reach the terminal as it is (escapes, bidi controls).
fn printable(origin: &str) -> String {
    let mut shown: String = origin
        .chars()
        .take(100)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect();
    if origin.chars().count() > 100 {
        shown.push('…');
    }
    shown
}

/// For a request without `Origin`: if a browser marked it as coming from a page on another site
/// (`Sec-Fetch-Site: cross-site` or `same-site`), a name for that page in the log: its `Referer`
/// origin when the browser sent one, else the mark itself.
fn from_another_site(headers: &axum::http::HeaderMap) -> Option<String> {
    let site = headers.get("sec-fetch-site")?.to_str().ok()?;
    if !matches!(site, "cross-site" | "same-site") {
        return None;
    }
    let referer = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| {
            let (scheme, rest) = r.split_once("://")?;
            let host = rest.split(['/', '?', '#']).next()?;
            Some(format!("{scheme}://{host}"))
        });
    Some(referer.unwrap_or_else(|| format!("(a {site} page, no-cors)")))
}

/// Wraps a service with the check; see the module documentation.
#[derive(Clone)]
pub struct OriginLayer {
    allowed: Arc<Allowed>,
    log: Log,
    refused: Arc<Mutex<Refused>>,
}

impl std::fmt::Debug for OriginLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OriginLayer")
            .field("allowed", &self.allowed)
            .finish_non_exhaustive()
    }
}

/// Refusals seen so far, so that a page retrying every second does not fill the log.
#[derive(Debug, Default)]
struct Refused {
    logged: BTreeSet<String>,
    unlogged: u64,
}

impl OriginLayer {
    pub fn new(allowed: Allowed, log: Log) -> Self {
        Self {
            allowed: Arc::new(allowed),
            log,
            refused: Arc::default(),
        }
    }

    fn refuse(&self, origin: &str) -> Response<Body> {
        let shown = printable(origin);
        let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        if refused.logged.contains(&shown) {
            // Said once already.
        } else if refused.logged.len() < LOGGED_ORIGINS {
            refused.logged.insert(shown.clone());
            (self.log)(format!(
                "refused a Socket.IO request from a page at {shown} (403): this server answers pages from {} only; \
                 to let that page in, run serve with --allow-origin {shown}",
                self.allowed.list().join(", ")
            ));
        } else {
            refused.unlogged += 1;
            if refused.unlogged.is_power_of_two() {
                (self.log)(format!(
                    "refused {} more Socket.IO requests from other origins (403)",
                    refused.unlogged
                ));
            }
        }
        let mut response = Response::new(Body::from(format!(
            "this server does not answer Socket.IO requests from pages at {shown}\n"
        )));
        *response.status_mut() = StatusCode::FORBIDDEN;
        response
    }
}

impl<S> Layer<S> for OriginLayer {
    type Service = OriginCheck<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OriginCheck {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`OriginLayer`] puts in front of another.
#[derive(Clone)]
pub struct OriginCheck<S> {
    inner: S,
    layer: OriginLayer,
}

impl<S> std::fmt::Debug for OriginCheck<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OriginCheck")
            .field("layer", &self.layer)
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<Request<B>> for OriginCheck<S>
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
        let path = request.uri().path();
        let socket_io = path == SOCKET_IO_PATH || path.starts_with("/socket.io/");
        // The browser client script is a plain file, like the page: any page may load it.
        let script = path == "/socket.io/socket.io.js";
        if socket_io && !script {
            if let Some(origin) = request.headers().get(header::ORIGIN) {
                let origin = String::from_utf8_lossy(origin.as_bytes()).into_owned();
                if !self.layer.allowed.allows(&origin) {
                    return Either::Left(std::future::ready(Ok(self.layer.refuse(&origin))));
                }
            } else if let Some(site) = from_another_site(request.headers()) {
                // A page's no-cors request (see the module documentation).
                return Either::Left(std::future::ready(Ok(self.layer.refuse(&site))));
            }
            // No Origin and no browser's mark: a program, not a page.
        }
        Either::Right(self.inner.call(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_read_the_way_browsers_write_them() {
        assert_eq!(
            parse_origin("HTTP://Example.org:80/").unwrap(),
            "http://example.org"
        );
        assert_eq!(parse_origin("https://a.b:443").unwrap(), "https://a.b");
        assert_eq!(parse_origin("http://[::1]:3000").unwrap(), "http://[::1]:3000");
        assert_eq!(parse_origin("null").unwrap(), "null");
        for bad in ["example.org", "ftp://x", "http://x/path", "http://", "http://a b"] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_the_pages_own_origin_is_allowed_by_default() {
        let allowed = Allowed::for_address("127.0.0.1:3000".parse().unwrap(), &[]);
        assert!(allowed.allows("http://127.0.0.1:3000"));
        assert!(allowed.allows("http://localhost:3000"));
        assert!(
            !allowed.allows("http://localhost:3001"),
            "another port is another origin"
        );
        assert!(!allowed.allows("https://127.0.0.1:3000"), "so is another scheme");
        assert!(!allowed.allows("https://evil.example"));
        assert!(!allowed.allows("null"));
        let opened = Allowed::for_address(
            "0.0.0.0:3000".parse().unwrap(),
            &[parse_origin("http://192.168.1.5:3000").unwrap()],
        );
        assert!(opened.allows("http://192.168.1.5:3000"));
        assert!(!opened.allows("http://0.0.0.0:3000"));
    }
}
