//! A Redis for the stages that join servers through it: what can go wrong finding or reaching
//! one, `--redis` URLs, and a bounded PING. The private `redis-server` the tutor starts itself
//! is in [`super::redis_server`].
//!
//! Socket.IO servers on different ports (or machines) share nothing. An *adapter* on a shared
//! broker joins them: every broadcast is published to Redis, and every server subscribed to the
//! channel delivers it to its own clients. To show that on the real thing, the tutor needs a
//! Redis, and it must not leave one behind.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use socketioxide_redis::drivers::redis::redis_client as redis;

/// What to run when there is no `redis-server`, as the last line of the error.
pub const INSTALL_HINT: &str = "install it (Debian/Ubuntu: `sudo apt-get install redis-server`), or point the tutor at a \
     Redis 6 or later you run yourself with `--redis redis://127.0.0.1:6379`";

/// The exit status the command line should give when a stage needs Redis and there is none:
/// distinct from 1 (a failure) and 2 (a usage error), so scripts can tell "install something".
pub const EXIT_NO_REDIS: i32 = 3;

/// How long a PING (and the connection before it) may take.
pub const PING_LIMIT: Duration = Duration::from_secs(2);

/// Why there is no Redis to use.
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    /// `redis-server` is not on `PATH`.
    #[error(
        "this stage needs Redis, and there is no `redis-server` on your PATH.\nTo run it, {INSTALL_HINT}."
    )]
    NotInstalled,
    /// The private Redis could not be started, or it stopped before it was ready.
    #[error("redis-server ({program}) did not start: {detail}{}", log_tail(.log))]
    Start {
        program: PathBuf,
        detail: String,
        log: Vec<String>,
    },
    /// It started but did not become ready in time.
    #[error("redis-server did not say it was {awaited} on {} within {limit:?}{}", socket.display(), log_tail(.log))]
    NotReady {
        socket: PathBuf,
        awaited: &'static str,
        limit: Duration,
        log: Vec<String>,
    },
    /// A `--redis` URL the tutor cannot use.
    #[error("`{url}` is not a Redis URL the tutor can use: {why} (expected redis://host:port)")]
    BadUrl { url: String, why: String },
    /// Nothing answered a PING in time, or the answer was an error.
    #[error("no Redis answered at {url} ({what}): {detail}")]
    Unreachable {
        url: String,
        what: String,
        detail: String,
    },
    /// The Redis the stage was using went away while it ran.
    #[error("Redis at {url} went away during the stage: {detail}")]
    Gone { url: String, detail: String },
}

impl RedisError {
    /// The exit status for this error: [`EXIT_NO_REDIS`] for a missing `redis-server`, else 1.
    pub fn exit_status(&self) -> i32 {
        match self {
            RedisError::NotInstalled => EXIT_NO_REDIS,
            RedisError::BadUrl { .. } => 2,
            _ => 1,
        }
    }
}

/// The last lines of a log, indented, for an error message.
pub fn log_tail(log: &[String]) -> String {
    if log.is_empty() {
        return String::new();
    }
    format!("\nits last log lines:\n  {}", log.join("\n  "))
}

/// The first executable file called `name` in the folders of `PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|file| {
            file.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Checks a `--redis` URL and returns it as the adapter needs it: `redis://host:port`, RESP3.
///
/// The adapter receives pub/sub messages as RESP3 *push* frames on its one connection, so
/// `protocol=resp3` is added unless the URL already names a protocol (RESP2 is refused).
pub fn parse_url(url: &str) -> Result<String, RedisError> {
    let bad = |why: &str| RedisError::BadUrl {
        url: url.to_string(),
        why: why.to_string(),
    };
    let rest = url
        .strip_prefix("redis://")
        .ok_or_else(|| bad("it must start with redis://"))?;
    let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
    let host_port = authority.trim_end_matches('/');
    let (host, port) = host_port
        .rsplit_once(':')
        .ok_or_else(|| bad("it names no port"))?;
    if host.is_empty() || port.parse::<u16>().is_err() || host_port.contains('/') {
        return Err(bad("it must be redis://host:port"));
    }
    let protocol = query.split('&').find_map(|kv| kv.strip_prefix("protocol="));
    match protocol {
        None => Ok(format!(
            "redis://{host_port}/?protocol=resp3{}",
            if query.is_empty() {
                String::new()
            } else {
                format!("&{query}")
            }
        )),
        Some(p) if p.eq_ignore_ascii_case("resp3") || p == "3" => Ok(format!("redis://{host_port}/?{query}")),
        Some(_) => Err(bad("the Redis adapter needs protocol=resp3")),
    }
}

/// The most bytes [`first_look`] reads of a Redis's answer to `HELLO 3` and `PING`: a real one
/// answers in about 200.
const FIRST_LOOK_BYTES: usize = 64 * 1024;

/// A first, bounded look at what listens at `host_port` before the Redis client library is
/// trusted with it: the library reads a reply whole, however large, so a service that answers
/// with an endless reply (something else on that port, or a hostile one) would make the tutor
/// hold all of it. Here the tutor sends `HELLO 3` (with `AUTH` when the URL carries a user and
/// password) and `PING` itself, reads at most [`FIRST_LOOK_BYTES`] within [`PING_LIMIT`], and
/// requires a RESP reply to both: a map (or an error) for HELLO, then `+PONG`.
pub async fn first_look(url: &str) -> Result<(), RedisError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let refuse = |what: &str, detail: String| RedisError::Unreachable {
        url: url.to_string(),
        what: what.to_string(),
        detail,
    };
    let rest = url.strip_prefix("redis://").unwrap_or(url);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let (credentials, host_port) = match authority.rsplit_once('@') {
        Some((credentials, host_port)) => (Some(credentials), host_port),
        None => (None, authority),
    };
    let mut command = vec!["HELLO", "3"];
    if let Some((user, password)) = credentials.map(|c| c.split_once(':').unwrap_or(("default", c))) {
        command.extend(["AUTH", if user.is_empty() { "default" } else { user }, password]);
    }
    let mut request = format!("*{}\r\n", command.len());
    for part in &command {
        request.push_str(&format!("${}\r\n{part}\r\n", part.len()));
    }
    request.push_str("*1\r\n$4\r\nPING\r\n");
    let look = async {
        let mut tcp = tokio::net::TcpStream::connect(host_port).await.map_err(|e| {
            refuse(
                "connecting, RESP3 HELLO (Redis 6 or later is needed)",
                e.to_string(),
            )
        })?;
        tcp.write_all(request.as_bytes())
            .await
            .map_err(|e| refuse("HELLO 3", e.to_string()))?;
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = tcp
                .read(&mut buf)
                .await
                .map_err(|e| refuse("HELLO 3", e.to_string()))?;
            if n == 0 {
                return Err(refuse("HELLO 3", "the connection closed before a PONG".into()));
            }
            seen.extend_from_slice(&buf[..n]);
            if !matches!(seen[0], b'%' | b'-' | b'!') {
                return Err(refuse(
                    "HELLO 3",
                    "the answer is not Redis's RESP3 (is another program on that port?)".into(),
                ));
            }
            if seen.windows(7).any(|w| w == b"+PONG\r\n") {
                return Ok(());
            }
            if seen.len() > FIRST_LOOK_BYTES {
                return Err(refuse(
                    "HELLO 3",
                    format!(
                        "more than {} KiB came back without a PONG",
                        FIRST_LOOK_BYTES / 1024
                    ),
                ));
            }
        }
    };
    tokio::time::timeout(PING_LIMIT, look)
        .await
        .map_err(|_| refuse("HELLO 3, PING", format!("no PONG within {PING_LIMIT:?}")))?
}

/// A client for `url`, checked by one bounded PING over RESP3.
pub async fn ping(url: &str) -> Result<redis::Client, RedisError> {
    let unreachable = |what: &str, detail: String| RedisError::Unreachable {
        url: url.to_string(),
        what: what.to_string(),
        detail,
    };
    let client = redis::Client::open(url).map_err(|e| unreachable("opening a client", e.to_string()))?;
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(PING_LIMIT))
        .set_response_timeout(Some(PING_LIMIT));
    let started = Instant::now();
    let mut conn = tokio::time::timeout(
        PING_LIMIT,
        client.get_multiplexed_async_connection_with_config(&config),
    )
    .await
    .map_err(|_| {
        unreachable(
            "connecting, RESP3 HELLO",
            format!("no answer within {PING_LIMIT:?}"),
        )
    })?
    .map_err(|e| {
        unreachable(
            "connecting, RESP3 HELLO (Redis 6 or later is needed)",
            e.to_string(),
        )
    })?;
    let left = PING_LIMIT.saturating_sub(started.elapsed());
    let pong: String = tokio::time::timeout(left, redis::cmd("PING").query_async(&mut conn))
        .await
        .map_err(|_| unreachable("PING", format!("no PONG within {PING_LIMIT:?}")))?
        .map_err(|e| unreachable("PING", e.to_string()))?;
    if pong != "PONG" {
        return Err(unreachable("PING", format!("answered {pong:?} instead of PONG")));
    }
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_gets_resp3_and_keeps_its_address() {
        assert_eq!(
            parse_url("redis://127.0.0.1:6379").unwrap(),
            "redis://127.0.0.1:6379/?protocol=resp3"
        );
        assert_eq!(
            parse_url("redis://localhost:7000/").unwrap(),
            "redis://localhost:7000/?protocol=resp3"
        );
        assert_eq!(
            parse_url("redis://h:1?protocol=resp3").unwrap(),
            "redis://h:1/?protocol=resp3"
        );
    }

    #[test]
    fn a_url_the_adapter_cannot_use_is_refused_with_the_reason() {
        for (url, why) in [
            ("http://127.0.0.1:6379", "start with redis://"),
            ("redis://127.0.0.1", "no port"),
            ("redis://:6379", "redis://host:port"),
            ("redis://h:99999", "redis://host:port"),
            ("redis://h:1?protocol=resp2", "resp3"),
        ] {
            let e = parse_url(url).unwrap_err();
            assert!(e.to_string().contains(why), "{url}: {e}");
            assert_eq!(e.exit_status(), 2);
        }
    }

    #[test]
    fn a_missing_redis_server_says_what_to_install_and_has_its_own_status() {
        let e = RedisError::NotInstalled;
        assert!(e.to_string().contains("apt-get install redis-server"), "{e}");
        assert!(e.to_string().contains("--redis redis://"), "{e}");
        assert_eq!(e.exit_status(), EXIT_NO_REDIS);
    }

    /// A service that answers with an endless reply is refused after a bounded read, and one
    /// that speaks another protocol at once; a real Redis's answer passes.
    #[tokio::test]
    async fn the_first_look_reads_a_bounded_amount_and_wants_a_pong() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        async fn serve(answer: impl Fn() -> Vec<u8> + Send + 'static, endless: bool) -> String {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                let (mut tcp, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 256];
                let _ = tcp.read(&mut buf).await;
                loop {
                    if tcp.write_all(&answer()).await.is_err() || !endless {
                        break;
                    }
                }
                let _ = tcp.read(&mut buf).await;
            });
            format!("redis://{addr}/?protocol=resp3")
        }
        let endless = serve(|| b"%1\r\n+x\r\n".repeat(1024), true).await;
        let error = first_look(&endless).await.expect_err("an endless reply");
        assert!(error.to_string().contains("more than 64 KiB"), "{error}");
        let http = serve(|| b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(), false).await;
        let error = first_look(&http).await.expect_err("not RESP");
        assert!(error.to_string().contains("not Redis's RESP3"), "{error}");
        let redis = serve(|| b"%1\r\n+server\r\n+redis\r\n+PONG\r\n".to_vec(), false).await;
        first_look(&redis).await.expect("a Redis's answer");
    }
}
