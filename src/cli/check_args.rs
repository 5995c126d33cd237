//! Parsing `check`'s `--url` and `--path` into the address and the Socket.IO path it plays against.

/// `text` with any user name and password masked: `http://user:pass@host:3000` →
/// `http://***@host:3000`. Every message about a `--url` quotes it through this, so a password
/// typed into one is never echoed (the tutor sends none: credentials are refused).
pub fn masked(text: &str) -> String {
    let (scheme, rest) = match text.find("://") {
        Some(at) => text.split_at(at + 3),
        None => ("", text),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}***{}", &rest[at..]),
        None => text.to_owned(),
    }
}

/// Checks and normalises `--url`: `http://host[:port]`, nothing after the authority.
pub fn parse_url(text: &str) -> Result<(String, String), String> {
    let shown = masked(text);
    parse_masked(text, &shown)
}

/// [`parse_url`], quoting `text` as `shown` in every message.
fn parse_masked(text: &str, shown: &str) -> Result<(String, String), String> {
    let uri: axum::http::Uri = text
        .parse()
        .map_err(|e| format!("--url {shown:?} is not a URL ({e}); write it like http://127.0.0.1:3000"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(format!(
                "--url {shown:?}: https is not supported; the tutor speaks plain HTTP, so use http://"
            ));
        }
        Some(other) => {
            return Err(format!(
                "--url {shown:?}: the scheme must be http, not {other:?} (Socket.IO's WebSocket starts as an HTTP request)"
            ));
        }
        None => {
            return Err(format!(
                "--url {shown:?} needs a scheme and a host, like http://127.0.0.1:3000"
            ));
        }
    }
    let Some(authority) = uri.authority() else {
        return Err(format!(
            "--url {shown:?} has no host; write it like http://127.0.0.1:3000"
        ));
    };
    if authority.as_str().contains('@') {
        return Err(format!(
            "--url {shown:?}: user names and passwords are not supported (the tutor sends none); \
             give only the server, like http://127.0.0.1:3000"
        ));
    }
    if uri.path() != "/" || uri.query().is_some() {
        return Err(format!(
            "--url {shown:?}: give only the server (http://host:port); the Socket.IO path goes in --path"
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
            _ => return Err(format!("--url {shown:?}: {port:?} is not a port (1 to 65535)")),
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
    fn credentials_are_never_echoed() {
        assert_eq!(masked("http://user:pass@host:3000"), "http://***@host:3000");
        assert_eq!(masked("user:pass@host:3000/x"), "***@host:3000/x");
        assert_eq!(masked("http://host:3000/a@b"), "http://host:3000/a@b");
        for url in [
            "http://user:s3cret@127.0.0.1:3000",
            "http://user:s3cret@127.0.0.1:3000/socket.io/",
            "https://user:s3cret@127.0.0.1:3000",
            "ws://user:s3cret@127.0.0.1:3000",
            "user:s3cret@127.0.0.1:3000",
            "http://user:s3cret@127.0.0.1:99999",
        ] {
            let message = parse_url(url).unwrap_err();
            assert!(!message.contains("s3cret"), "{message}");
            assert!(message.contains("***@127.0.0.1:"), "{message}");
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
