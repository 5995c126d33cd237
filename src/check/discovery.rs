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

use super::page::{Place, places, same_server};
use super::{CONNECT_TIMEOUT, Failure, Problem, Verdict, Where, status_text};
use crate::client::{self, ConnectError, ConnectOptions, SimClient, Transport};
use crate::runner::one_line;

/// The bound on the whole search, on top of the looks at the target itself: a bad target still
/// fails within a few seconds.
const SEARCH_WITHIN: Duration = CONNECT_TIMEOUT;

/// How many other places (paths or ports) the page may send the search to.
const MAX_PLACES: usize = 4;

/// What one handshake request got.
#[derive(Debug, Clone)]
enum Handshake {
    /// An Engine.IO OPEN packet: a Socket.IO server is here. `polling` when it answered the
    /// long-polling handshake: only there does an empty `upgrades` mean "no WebSocket" (over a
    /// WebSocket there is nothing to upgrade to, so the list is always empty).
    Open { upgrades: Vec<String>, polling: bool },
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
            Handshake::Open {
                upgrades,
                polling: true,
            } if upgrades.is_empty() => {
                "an Engine.IO OPEN packet, with no upgrade offered (the server allows only long-polling)"
                    .to_owned()
            }
            Handshake::Open { polling: false, .. } => {
                "an Engine.IO OPEN packet over the WebSocket: Socket.IO answers here".to_owned()
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
            Handshake::Closed => "no answer: the server closed the connection".to_owned(),
            Handshake::Failed(why) => format!("no Socket.IO connection ({why})"),
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
                polling: true,
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
            Handshake::Open {
                upgrades,
                polling: false,
            }
        }
        // Refused by a middleware: still a Socket.IO server.
        Err(ConnectError::Refused44 { .. }) => Handshake::Open {
            upgrades: Vec::new(),
            polling: false,
        },
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
        Err(ConnectError::Refused44 { .. }) => true,
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
                location: crate::trace::safe::terminal_safe_within(&location, 200),
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
            let (at, there) = match place {
                Place::SamePath(dir) if *dir != path => (base.to_owned(), dir.clone()),
                Place::Other {
                    base: other,
                    path: there,
                } if !same_server(other, base) => (other.clone(), there.clone()),
                _ => continue,
            };
            if socket_io_at(&at, &there).await {
                return Some(place.clone());
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
