//! A private Redis for the stages that join servers through it, started by the tutor and never
//! left running; or someone else's Redis, named by a `redis://host:port` URL.
//!
//! Socket.IO servers on different ports (or machines) share nothing. An *adapter* on a shared
//! broker joins them: every broadcast is published to Redis, and every server subscribed to the
//! channel delivers it to its own clients. To show that on the real thing, the tutor needs a
//! Redis, and it must not leave one behind.
//!
//! # Where the private Redis listens: a Unix socket, not a port
//!
//! `redis-server --port 0` does not mean "pick a free port" as it does for our HTTP servers: it
//! means "no TCP at all". Asking the OS for a free port and then passing its number to Redis
//! leaves a gap in which another program can take it. So the private Redis listens on a **Unix
//! socket** inside a fresh temporary folder (mode 0700, readable by this user only) and on no TCP
//! port; the names cannot collide and no other user can connect. `--bind 127.0.0.1` and
//! `--protected-mode yes` are passed all the same, so a mistake in these arguments could at worst
//! open loopback. `--save ''` and `--appendonly no` keep it from writing anything to disk.
//!
//! # Why no redis-server can outlive the tutor
//!
//! Killing it on drop covers a normal end, an error and a Ctrl-C that unwinds. A tutor that is
//! killed outright (SIGKILL, a crash) runs no code, so something else must notice. Linux can send
//! a signal to a child when its parent dies (`prctl(PR_SET_PDEATHSIG)`), but it must be set in the
//! child between `fork` and `exec`, which in Rust takes `unsafe` `pre_exec`, and this crate
//! forbids `unsafe`. Redis has no option to follow its parent. So a tiny POSIX `sh` watchdog
//! starts Redis and holds the read end of a pipe whose write end only the tutor has:
//!
//! ```text
//! tutor ──stdin pipe──▶ sh (watchdog) ──starts──▶ redis-server
//!                         └─ background: read until EOF, then kill -KILL redis
//! ```
//!
//! When the tutor closes the pipe, or dies and the kernel closes it, `read` returns, and the
//! watchdog kills Redis and reaps it. The watchdog and Redis run in a process group of their own,
//! so a Ctrl-C in the terminal reaches the tutor alone, which then stops them in order. Nothing
//! is stored, so `KILL` loses nothing.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use socketioxide_redis::drivers::redis::redis_client as redis;
use tokio::sync::watch;

/// What to run when there is no `redis-server`, as the last line of the error.
pub const INSTALL_HINT: &str = "install it (Debian/Ubuntu: `sudo apt-get install redis-server`), or point the tutor at a \
     Redis 7 you run yourself with `--redis redis://127.0.0.1:6379`";

/// The exit status the command line should give when a stage needs Redis and there is none:
/// distinct from 1 (a failure) and 2 (a usage error), so scripts can tell "install something".
pub const EXIT_NO_REDIS: i32 = 3;

/// How long the private Redis may take to say it is ready (it takes milliseconds).
pub const START_LIMIT: Duration = Duration::from_secs(5);

/// How long a PING (and the connection before it) may take.
pub const PING_LIMIT: Duration = Duration::from_secs(2);

/// How many of Redis' last log lines an error quotes.
const LOG_TAIL: usize = 12;

/// A Unix socket path must fit `sockaddr_un.sun_path` (108 bytes on Linux, 104 on macOS).
const MAX_SOCKET_PATH: usize = 100;

/// The watchdog (see the module documentation). `$0` is the redis-server path, `$@` its
/// arguments. fd 3 keeps the tutor's pipe; Redis gets neither it nor a terminal. The two marker
/// lines are how the tutor learns Redis' pid and when it exited; everything else on stdout is
/// Redis' own log.
const WATCHDOG: &str = r#"exec 3<&0 </dev/null 2>&1
"$0" "$@" 3<&- &
pid=$!
echo "realtime-tutor-watchdog: pid $pid"
{ read -r _ <&3; kill -KILL "$pid" 2>/dev/null; } &
wait "$pid"
echo "realtime-tutor-watchdog: exited $?"
"#;
const PID_MARK: &str = "realtime-tutor-watchdog: pid ";
const EXIT_MARK: &str = "realtime-tutor-watchdog: exited ";
/// What Redis logs, in one case or the other, once it accepts connections: 7.0 on a Unix
/// socket says "The server is now ready to accept connections at PATH", over TCP "Ready to
/// accept connections"; 7.2 adds "tcp" or "unix". A PING confirms it afterwards.
const READY_LINE: &str = "ready to accept connections";

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
    #[error("redis-server did not log \"{READY_LINE}\" on {} within {limit:?}{}", socket.display(), log_tail(.log))]
    NotReady {
        socket: PathBuf,
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

fn log_tail(log: &[String]) -> String {
    if log.is_empty() {
        return String::new();
    }
    format!("\nits last log lines:\n  {}", log.join("\n  "))
}

/// What the stdout reader has seen of the watchdog and Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Life {
    Starting,
    Ready,
    /// Redis exited (the status the watchdog printed, or a note that its output ended).
    Exited(String),
}

/// A private `redis-server`: killed and reaped when dropped.
#[derive(Debug)]
pub struct RedisServer {
    watchdog: Child,
    /// The tutor's end of the watchdog's pipe; dropping it is the order to stop.
    stop: Option<ChildStdin>,
    pid: u32,
    socket: PathBuf,
    life: watch::Receiver<(Life, Vec<String>)>,
    /// Holds the socket; removed after Redis has stopped (declared last: dropped last).
    _dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts a private Redis and waits (at most [`START_LIMIT`], then a PING within
    /// [`PING_LIMIT`]) until it answers.
    pub async fn start() -> Result<Self, RedisError> {
        let program = find_on_path("redis-server").ok_or(RedisError::NotInstalled)?;
        let start_err = |detail: String| RedisError::Start {
            program: program.clone(),
            detail,
            log: Vec::new(),
        };
        let dir = tempfile::Builder::new()
            .prefix("realtime-tutor-redis-")
            .tempdir()
            .map_err(|e| start_err(format!("cannot create a temporary folder: {e}")))?;
        let socket = dir.path().join("redis.sock");
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(start_err(format!(
                "the socket path {} is too long for a Unix socket; set TMPDIR to a shorter folder",
                socket.display()
            )));
        }
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(WATCHDOG)
            .arg(&program)
            .args(["--port", "0", "--bind", "127.0.0.1", "--protected-mode", "yes"])
            .arg("--unixsocket")
            .arg(&socket)
            .args(["--unixsocketperm", "700", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .args(["--logfile", "", "--daemonize", "no", "--databases", "1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // Its own process group: a Ctrl-C in the terminal goes to the tutor only.
            .process_group(0);
        let mut watchdog = command
            .spawn()
            .map_err(|e| start_err(format!("cannot run sh to start it: {e}")))?;
        let stop = watchdog.stdin.take();
        let stdout = watchdog.stdout.take().expect("stdout is piped");
        let (life_tx, mut life) = watch::channel((Life::Starting, Vec::new()));
        let (pid_tx, pid_rx) = mpsc::channel();
        std::thread::spawn(move || read_output(stdout, pid_tx, life_tx));
        // From here on, dropping `server` stops whatever has started.
        let mut server = RedisServer {
            watchdog,
            stop,
            pid: 0,
            socket,
            life: life.clone(),
            _dir: dir,
        };
        let deadline = tokio::time::Instant::now() + START_LIMIT;
        let waited = tokio::time::timeout_at(deadline, life.wait_for(|(state, _)| *state != Life::Starting))
            .await
            .map(|_| ());
        let (state, log) = life.borrow().clone();
        match (waited, state) {
            (Ok(_), Life::Ready) => {}
            (Ok(_), Life::Exited(status)) => {
                return Err(RedisError::Start {
                    program,
                    detail: status,
                    log,
                });
            }
            _ => {
                return Err(RedisError::NotReady {
                    socket: server.socket.clone(),
                    limit: START_LIMIT,
                    log,
                });
            }
        }
        server.pid = pid_rx.try_recv().unwrap_or(0);
        ping(&server.url()).await?;
        Ok(server)
    }

    /// The URL the redis crate (and so the adapter) connects with: the socket, in RESP3.
    pub fn url(&self) -> String {
        format!("redis+unix://{}?protocol=resp3", self.socket.display())
    }

    /// The Unix socket it listens on (Node's `redis` client takes it as `socket: { path }`).
    pub fn socket_path(&self) -> &Path {
        &self.socket
    }

    /// The process id of `redis-server` itself.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Completes when Redis has exited (it should not, until dropped), with what the watchdog and
    /// Redis said last: for a stage to `select!` against, so a Redis killed mid-stage becomes an
    /// error at once instead of a wait that runs out.
    pub async fn gone(&self) -> RedisError {
        let mut life = self.life.clone();
        let _ = life.wait_for(|(state, _)| matches!(state, Life::Exited(_))).await;
        let (state, log) = life.borrow().clone();
        let detail = match state {
            Life::Exited(status) => format!("redis-server {status}{}", log_tail(&log)),
            _ => "its output ended".to_string(),
        };
        RedisError::Gone {
            url: self.url(),
            detail,
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // Closing the pipe is the order to stop: the watchdog kills Redis, reaps it and exits.
        drop(self.stop.take());
        // Bounded: should the watchdog not exit in time, its whole group (it, Redis, the
        // reader) is killed. No polling: a thread waits on a channel with a deadline.
        let group = rustix::process::Pid::from_raw(self.watchdog.id() as i32);
        let (done, wait) = mpsc::channel::<()>();
        let guard = std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(Duration::from_secs(2)) {
                if let Some(group) = group {
                    let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
                }
            }
        });
        let _ = self.watchdog.wait();
        let _ = done.send(());
        let _ = guard.join();
    }
}

/// Reads the watchdog's stdout to its end: the pid line, Redis' log (the last [`LOG_TAIL`]
/// lines kept), the ready line, and the exit line.
fn read_output(
    stdout: std::process::ChildStdout,
    pid: mpsc::Sender<u32>,
    life: watch::Sender<(Life, Vec<String>)>,
) {
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    loop {
        line.clear();
        // A log line is a few hundred bytes; a longer one is cut, not buffered without bound.
        match (&mut reader).take(8 * 1024).read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let text = line.trim_end().to_string();
        if let Some(n) = text.strip_prefix(PID_MARK) {
            let _ = pid.send(n.parse().unwrap_or(0));
        } else if let Some(status) = text.strip_prefix(EXIT_MARK) {
            let status = match status.parse::<i32>() {
                Ok(137) => "was killed (SIGKILL)".to_string(),
                Ok(n) if n > 128 => format!("was killed by signal {}", n - 128),
                _ => format!("exited with status {status}"),
            };
            life.send_modify(|(state, _)| *state = Life::Exited(status));
            return;
        } else {
            let ready = text.to_ascii_lowercase().contains(READY_LINE);
            life.send_modify(|(state, log)| {
                if log.len() == LOG_TAIL {
                    log.remove(0);
                }
                log.push(text);
                if ready && *state == Life::Starting {
                    *state = Life::Ready;
                }
            });
        }
    }
    life.send_modify(|(state, _)| {
        if !matches!(state, Life::Exited(_)) {
            *state = Life::Exited("stopped (its output ended)".to_string());
        }
    });
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

/// The Redis a stage uses: the tutor's own, or the one `--redis URL` names.
#[derive(Debug)]
pub enum Redis {
    Private(RedisServer),
    External { url: String },
}

impl Redis {
    /// `--redis URL` when given (checked by a PING), else a private Redis.
    pub async fn start_or_connect(url: Option<&str>) -> Result<Self, RedisError> {
        match url {
            Some(url) => {
                let url = parse_url(url)?;
                ping(&url).await?;
                Ok(Redis::External { url })
            }
            None => Ok(Redis::Private(RedisServer::start().await?)),
        }
    }

    /// The URL to connect with (RESP3).
    pub fn url(&self) -> String {
        match self {
            Redis::Private(server) => server.url(),
            Redis::External { url } => url.clone(),
        }
    }

    /// A new client; each stage server must open its *own* connection from it (see
    /// [`crate::parts::stage::redis_adapter`]).
    pub fn client(&self) -> Result<redis::Client, RedisError> {
        redis::Client::open(self.url()).map_err(|e| RedisError::Unreachable {
            url: self.url(),
            what: "opening a client".into(),
            detail: e.to_string(),
        })
    }
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
}
