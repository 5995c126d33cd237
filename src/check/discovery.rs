//! Looking for Socket.IO when the scenario could not reach it, and naming the likely cause from
//! what was found.
//!
//! When the scenario's first connection does not become a Socket.IO socket, the run only knows
//! how *that* request ended. A person would look further, and so does this module, each look a
//! real request, bounded:
//!
//! 1. **The page** (`GET /`): what it is, and where it loads the Socket.IO client from
//!    (`<script src="/socket.io/socket.io.js">`, or an address on another port) and which
//!    addresses it connects to (`io("http://localhost:3001")`).
//! 2. **The handshake on each transport** at the path: the long-polling GET that `io()` starts
//!    with (`?EIO=4&transport=polling`, answered by an OPEN packet in a plain HTTP body), and the
//!    WebSocket request that `io({ transports: ['websocket'] })` starts with.
//! 3. **The other places the page points to**: another path on this port, another port.
//!
//! The cause is then read from these sightings, and the sightings are kept in the verdict
//! ([`Problem::Found`]), so the learner sees the evidence, not only the conclusion. A server that
//! answers either handshake with an OPEN packet is a Socket.IO server, and is never called
//! anything else.

use std::time::Duration;

use super::{CONNECT_TIMEOUT, Failure, Problem, Verdict, Where, status_text};
use crate::client::{self, ConnectError, ConnectOptions, SimClient, Transport};
use crate::runner::one_line;

/// The bound on the whole search, on top of the looks at the target itself: a bad target still
/// fails within a few seconds.
const SEARCH_WITHIN: Duration = CONNECT_TIMEOUT;

/// How many other places (paths or ports) the page may send the search to.
const MAX_PLACES: usize = 4;

/// Where a page loads the Socket.IO client script from, or connects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A path on the same server: `<script src="/chat/socket.io.js">` → `/chat/`.
    SamePath(String),
    /// Another server, named by its address: `http://127.0.0.1:3001` and the path there.
    Other { base: String, path: String },
}

/// Reads the places a page names: the folders it loads `socket.io.js` (or `.min.js`) from, and
/// the `http://` or `ws://` addresses on a loopback or the same host that it mentions (an
/// `io("http://localhost:3001")`). A CDN's address says nothing about the server, so only
/// addresses of `host` or loopback count.
pub fn places(page: &str, host: &str) -> Vec<Place> {
    let mut out = Vec::new();
    let mut push = |place: Place| {
        if !out.contains(&place) {
            out.push(place);
        }
    };
    for name in ["socket.io.js", "socket.io.min.js"] {
        for (at, _) in page.match_indices(name) {
            let before = &page[..at];
            let Some(start) = before.rfind(['"', '\'']) else {
                continue;
            };
            let src = &before[start + 1..];
            if src.contains(char::is_whitespace) || !src.ends_with('/') {
                continue;
            }
            if src.starts_with('/') && !src.starts_with("//") {
                push(Place::SamePath(src.to_owned()));
            } else if let Some((base, path)) = split_address(src, host) {
                push(Place::Other { base, path });
            }
        }
    }
    for scheme in ["http://", "ws://"] {
        for (at, _) in page.match_indices(scheme) {
            let rest = &page[at..];
            let end = rest.find(['"', '\'', '`', ')', ' ', '<']).unwrap_or(rest.len());
            let address = &rest[..end];
            if address.contains("socket.io.js") || address.contains("socket.io.min.js") {
                continue;
            }
            if let Some((base, _)) = split_address(address, host) {
                push(Place::Other {
                    base,
                    path: "/socket.io/".to_owned(),
                });
            }
        }
    }
    out
}

/// `http://127.0.0.1:3001/socket.io/` → (`http://127.0.0.1:3001`, `/socket.io/`), for addresses
/// on `host` or a loopback name with an explicit port.
fn split_address(address: &str, host: &str) -> Option<(String, String)> {
    let rest = address
        .strip_prefix("http://")
        .or_else(|| address.strip_prefix("ws://"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (name, port) = authority.rsplit_once(':')?;
    let port: u16 = port.parse().ok().filter(|p| *p != 0)?;
    let local = ["127.0.0.1", "localhost", "[::1]"].contains(&name) || name == host;
    if !local {
        return None;
    }
    let path = if path.ends_with('/') {
        path.to_owned()
    } else {
        format!("{path}/")
    };
    Some((format!("http://{name}:{port}"), path))
}

/// What one handshake request got.
#[derive(Debug, Clone)]
enum Handshake {
    /// An Engine.IO OPEN packet: a Socket.IO server is here.
    Open { upgrades: Vec<String> },
    /// A WebSocket opened, and then something that is not Engine.IO came.
    NotEngineIo(String),
    /// An ordinary HTTP answer.
    Status { status: String, body: String },
    /// The connection was closed without an answer.
    Closed,
    /// Anything else (refused, timed out).
    Failed(String),
}

impl Handshake {
    fn said(&self) -> String {
        match self {
            Handshake::Open { upgrades } if upgrades.is_empty() => {
                "an Engine.IO OPEN packet, with no upgrade offered (the server allows only long-polling)"
                    .to_owned()
            }
            Handshake::Open { .. } => "an Engine.IO OPEN packet: Socket.IO answers here".to_owned(),
            Handshake::NotEngineIo(first) => {
                format!(
                    "a WebSocket whose first frame was {}, not an Engine.IO OPEN packet",
                    one_line(first, 60)
                )
            }
            Handshake::Status { status, body } if body.trim().is_empty() => status.clone(),
            Handshake::Status { status, body } => format!("{status} ({})", one_line(body.trim(), 60)),
            Handshake::Closed => "the connection was closed without an answer".to_owned(),
            Handshake::Failed(why) => why.clone(),
        }
    }
}

/// The long-polling handshake, as `io()` sends it first.
async fn polling(addr: &str, path: &str) -> Handshake {
    let target = client::connection::engine_target(path, Transport::Polling);
    match client::http::get(addr, &target, CONNECT_TIMEOUT).await {
        Ok(reply) if reply.code == 200 => match client::protocol::EnginePacket::decode(
            reply.body.split('\u{1e}').next().unwrap_or_default(),
        ) {
            Ok(client::protocol::EnginePacket::Open(info)) => Handshake::Open {
                upgrades: info.upgrades,
            },
            _ => Handshake::Status {
                status: format!(
                    "{} with {}, not an Engine.IO OPEN packet",
                    status_text(Some(200)),
                    reply.content_type.as_deref().unwrap_or("a body")
                ),
                body: String::new(),
            },
        },
        Ok(reply) => Handshake::Status {
            status: status_text(Some(reply.code)),
            body: reply.body,
        },
        Err(client::http::HttpError::Other(e)) if e.contains("closed") || e.contains("reset") => {
            Handshake::Closed
        }
        Err(e) => Handshake::Failed(e.to_string()),
    }
}

/// The WebSocket handshake, as `io({ transports: ['websocket'] })` sends it.
async fn websocket(base: &str, path: &str) -> Handshake {
    let options = ConnectOptions {
        path: path.to_owned(),
        timeout: CONNECT_TIMEOUT,
        ..ConnectOptions::websocket_only()
    };
    match SimClient::connect(base, &options).await {
        Ok(client) => {
            let upgrades = client.open.upgrades.clone();
            // Only a test: it leaves the way a browser would, so the server logs a socket that
            // left, not a broken connection.
            let _ = client.leave(crate::runner::LEAVE_WITHIN).await;
            Handshake::Open { upgrades }
        }
        // Refused by a middleware: still a Socket.IO server.
        Err(ConnectError::Refused44(_)) => Handshake::Open { upgrades: Vec::new() },
        Err(ConnectError::NotEngineIo(first)) => Handshake::NotEngineIo(first),
        // The body is left out: read raw by the WebSocket client, it may still carry the
        // chunked encoding's framing.
        Err(ConnectError::HttpStatus { status, .. }) => Handshake::Status {
            status: format!("HTTP {}", status.trim_end()),
            body: String::new(),
        },
        Err(ConnectError::ClosedUnanswered) => Handshake::Closed,
        Err(e) => Handshake::Failed(e.to_string()),
    }
}

/// Does a default client (`io()`) connect at `base` + `path`?
async fn socket_io_at(base: &str, path: &str) -> bool {
    let options = ConnectOptions {
        path: path.to_owned(),
        timeout: CONNECT_TIMEOUT,
        ..ConnectOptions::default()
    };
    match SimClient::connect(base, &options).await {
        Ok(client) => {
            let _ = client.leave(crate::runner::LEAVE_WITHIN).await;
            true
        }
        Err(ConnectError::Refused44(_)) => true,
        Err(_) => false,
    }
}

/// Looks further when the verdict says no Socket.IO server was reached, and replaces it by the
/// cause the sightings show, with the sightings kept ([`Problem::Found`]).
pub async fn diagnose(verdict: &mut Verdict, base: &str, target: &Where) {
    let Verdict::Fail(Failure::Target(problem)) = verdict else {
        return;
    };
    if !matches!(
        problem,
        Problem::NotSocketIo { .. } | Problem::PlainWebSocket { .. }
    ) {
        return;
    }
    let (addr, path) = (target.addr.clone(), target.path.clone());
    let host = addr.rsplit_once(':').map_or(addr.as_str(), |(h, _)| h).to_owned();
    let mut found = Vec::new();

    // 1. The page.
    let page = client::http::get(&addr, "/", CONNECT_TIMEOUT).await.ok();
    let named = page.as_ref().map(|p| places(&p.body, &host)).unwrap_or_default();
    match &page {
        Some(reply) => {
            let mut line = format!("GET / answered {}", status_text(Some(reply.code)));
            let scripts: Vec<String> = named
                .iter()
                .map(|p| match p {
                    Place::SamePath(dir) => dir.clone(),
                    Place::Other { base, path } => format!("{base}{path}"),
                })
                .collect();
            if !scripts.is_empty() {
                line.push_str(&format!(
                    "; the page points to Socket.IO at {}",
                    scripts.join(", ")
                ));
            }
            found.push(line);
        }
        None => found.push("GET / got no answer".to_owned()),
    }

    // 2. The handshake on each transport.
    let (polled, upgraded) = tokio::join!(polling(&addr, &path), websocket(base, &path));
    found.push(format!(
        "the long-polling handshake GET {path}?EIO=4&transport=polling (how io() starts) got {}",
        polled.said()
    ));
    found.push(format!(
        "the WebSocket handshake at {path} (how io({{ transports: ['websocket'] }}) starts) got {}",
        upgraded.said()
    ));

    // A redirect is its own diagnosis: Socket.IO clients do not follow them.
    if let Handshake::Status { status, .. } = &polled
        && status.starts_with("HTTP 3")
    {
        let target = client::connection::engine_target(&path, Transport::Polling);
        if let Ok(reply) = client::http::get(&addr, &target, CONNECT_TIMEOUT).await
            && let Some(location) = reply.location
        {
            let cause = Problem::Redirected {
                path: path.clone(),
                status: status_text(Some(reply.code)),
                location: crate::trace::text::terminal_safe_within(&location, 200),
            };
            *problem = Problem::Found {
                found,
                cause: Box::new(cause),
            };
            return;
        }
    }

    let cause = match (&polled, &upgraded) {
        // Socket.IO answers one of the transports: name which one is missing.
        (Handshake::Open { .. }, _) => None,
        (_, Handshake::Open { .. }) => Some(Problem::WebSocketOnly {
            path: path.clone(),
            polling: polled.said(),
        }),
        (_, Handshake::NotEngineIo(first)) => Some(Problem::PlainWebSocket {
            detail: format!(
                "the WebSocket opened, but the first frame was {} instead of an Engine.IO OPEN packet",
                one_line(first, 60)
            ),
        }),
        _ => None,
    };
    if let Some(cause) = cause {
        *problem = Problem::Found {
            found,
            cause: Box::new(cause),
        };
        return;
    }

    // 3. The places the page points to.
    let search = async {
        for place in named.iter().take(MAX_PLACES) {
            match place {
                Place::SamePath(dir) if *dir != path => {
                    if socket_io_at(base, dir).await {
                        return Some(place.clone());
                    }
                }
                Place::Other {
                    base: other,
                    path: there,
                } if !same_server(other, base) => {
                    if socket_io_at(other, there).await {
                        return Some(place.clone());
                    }
                }
                _ => {}
            }
        }
        None
    };
    let elsewhere = tokio::time::timeout(SEARCH_WITHIN, search).await.ok().flatten();
    let mut cause = problem.clone();
    match elsewhere {
        Some(Place::SamePath(dir)) => {
            found.push(format!("a Socket.IO client connected at {dir}"));
            if let Problem::NotSocketIo { found_at, .. } = &mut cause {
                *found_at = Some(dir);
            }
        }
        Some(Place::Other {
            base: other,
            path: there,
        }) => {
            found.push(format!("a Socket.IO client connected at {other}{there}"));
            cause = Problem::OtherPort {
                addr: addr.clone(),
                other: client::connection::authority(&other),
                path: there,
            };
        }
        None => {}
    }
    *problem = Problem::Found {
        found,
        cause: Box::new(cause),
    };
}

/// Are two `http://host:port` addresses the same server (the same port on a loopback name)?
fn same_server(a: &str, b: &str) -> bool {
    let port = |x: &str| {
        x.rsplit_once(':')
            .map(|(_, p)| p.trim_end_matches('/').to_owned())
    };
    a == b || port(a) == port(b) && is_loopback(a) && is_loopback(b)
}

fn is_loopback(base: &str) -> bool {
    ["//127.0.0.1:", "//localhost:", "//[::1]:"]
        .iter()
        .any(|name| base.contains(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_where_a_page_loads_the_client_from_and_connects_to() {
        let page = r#"<script src="/chat/socket.io.js"></script><script src='/socket.io/socket.io.min.js'>
                      <script src="https://cdn.socket.io/4.8.1/socket.io.min.js"></script>
                      <script src="//cdn.example/socket.io.js"></script>
                      <script src="http://127.0.0.1:3001/socket.io/socket.io.js"></script>
                      <script>const socket = io("http://localhost:3002"); fetch("http://example.com:80/")</script>"#;
        assert_eq!(
            places(page, "127.0.0.1"),
            vec![
                Place::SamePath("/chat/".into()),
                Place::Other {
                    base: "http://127.0.0.1:3001".into(),
                    path: "/socket.io/".into()
                },
                Place::SamePath("/socket.io/".into()),
                Place::Other {
                    base: "http://localhost:3002".into(),
                    path: "/socket.io/".into()
                },
            ]
        );
        assert!(places("<p>no script</p>", "127.0.0.1").is_empty());
    }

    #[test]
    fn the_same_port_on_two_loopback_names_is_one_server() {
        assert!(same_server("http://127.0.0.1:3000", "http://localhost:3000"));
        assert!(!same_server("http://127.0.0.1:3000", "http://127.0.0.1:3001"));
    }
}
