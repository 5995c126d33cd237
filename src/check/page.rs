//! What a page names: where it loads the Socket.IO client script from, and the addresses it
//! connects to, as places to look for Socket.IO (see [`super::discovery`]).

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

/// Are two `http://host:port` addresses the same server (the same port on a loopback name)?
pub(super) fn same_server(a: &str, b: &str) -> bool {
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
