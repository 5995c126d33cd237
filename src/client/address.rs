//! Where a server's Engine.IO endpoint is: its WebSocket URL, the request target of its
//! handshake, and the `host:port` to dial.

use super::link::Transport;

/// Turns `http://host:port` into the WebSocket address of the Engine.IO endpoint.
pub fn websocket_url(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    let base = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_owned()
    };
    format!("{base}{}", engine_target(path, Transport::WebSocket))
}

/// The request target (path and query) of an Engine.IO handshake: `/socket.io/?EIO=4&transport=…`.
pub fn engine_target(path: &str, transport: Transport) -> String {
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let path = if path.ends_with('/') {
        path
    } else {
        format!("{path}/")
    };
    format!("{path}?EIO=4&transport={transport}")
}

/// `ws://127.0.0.1:3000/socket.io/…` → `127.0.0.1:3000`.
pub fn authority(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_engine_io_url() {
        assert_eq!(
            websocket_url("http://127.0.0.1:3000", "/socket.io/"),
            "ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket"
        );
        assert_eq!(
            websocket_url("http://localhost:3000/", "custom"),
            "ws://localhost:3000/custom/?EIO=4&transport=websocket"
        );
        assert_eq!(authority("ws://127.0.0.1:9/socket.io/?EIO=4"), "127.0.0.1:9");
    }
}
