//! Parsing `check`'s `--url` and `--path` into the address and the Socket.IO path it plays against.

/// Checks and normalises `--url`: `http://host[:port]`, nothing after the authority.
pub fn parse_url(text: &str) -> Result<(String, String), String> {
    let uri: axum::http::Uri = text
        .parse()
        .map_err(|e| format!("--url {text:?} is not a URL ({e}); write it like http://127.0.0.1:3000"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(format!(
                "--url {text:?}: https is not supported; the tutor speaks plain HTTP, so use http://"
            ));
        }
        Some(other) => {
            return Err(format!(
                "--url {text:?}: the scheme must be http, not {other:?} (Socket.IO's WebSocket starts as an HTTP request)"
            ));
        }
        None => {
            return Err(format!(
                "--url {text:?} needs a scheme and a host, like http://127.0.0.1:3000"
            ));
        }
    }
    let Some(authority) = uri.authority() else {
        return Err(format!(
            "--url {text:?} has no host; write it like http://127.0.0.1:3000"
        ));
    };
    if authority.as_str().contains('@') {
        return Err(format!(
            "--url {text:?}: user names and passwords are not supported"
        ));
    }
    if uri.path() != "/" || uri.query().is_some() {
        return Err(format!(
            "--url {text:?}: give only the server (http://host:port); the Socket.IO path goes in --path"
        ));
    }
    let host = authority.host();
    // The text after the host's last colon (outside an IPv6 [..]) is the port, when there is one.
    let explicit = authority
        .as_str()
        .rsplit_once(':')
        .map(|(_, port)| port)
        .filter(|port| !port.contains(']'));
    let port = match explicit {
        None => 80,
        Some(port) => match port.parse::<u16>() {
            Ok(port) if port != 0 => port,
            _ => return Err(format!("--url {text:?}: {port:?} is not a port (1 to 65535)")),
        },
    };
    let addr = if host.starts_with('[') {
        format!("{host}:{port}")
    } else if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    Ok((format!("http://{addr}"), addr))
}

/// Checks and normalises `--path`: absolute, ending in `/`, no query or spaces.
pub fn parse_path(text: &str) -> Result<String, String> {
    let ok = text.starts_with('/')
        && !text.contains(['?', '#', '\\'])
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        && text.len() <= 200;
    if !ok {
        return Err(format!(
            "--path {text:?} is not a server path; write it like /socket.io/ (the default) or /chat/"
        ));
    }
    Ok(if text.ends_with('/') {
        text.to_owned()
    } else {
        format!("{text}/")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_normalised() {
        assert_eq!(
            parse_url("http://127.0.0.1:3000").unwrap(),
            ("http://127.0.0.1:3000".into(), "127.0.0.1:3000".into())
        );
        assert_eq!(parse_url("http://localhost/").unwrap().1, "localhost:80");
        assert_eq!(parse_url("http://[::1]:3000").unwrap().1, "[::1]:3000");
        for bad in [
            "127.0.0.1:3000",
            "localhost",
            "https://x:1",
            "ws://x:1",
            "http://x:1/socket.io/",
            "http://x:1?a=b",
            "http://u:p@x:1",
            "",
            "http://",
            "http://x:99999",
            "http://x:0",
        ] {
            assert!(parse_url(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn paths_are_checked_and_normalised() {
        assert_eq!(parse_path("/socket.io/").unwrap(), "/socket.io/");
        assert_eq!(parse_path("/chat").unwrap(), "/chat/");
        for bad in ["chat", "/a b", "/x?y", ""] {
            assert!(parse_path(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
