//! The private `redis-server` the tutor starts for a stage, and never leaves running.
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
use std::time::Duration;

use socketioxide_redis::drivers::redis::redis_client as redis;
use tokio::sync::watch;

use super::redis::{PING_LIMIT, RedisError, find_on_path, first_look, log_tail, parse_url, ping};

/// How long the private Redis may take to say it is ready (it takes milliseconds).
pub const START_LIMIT: Duration = Duration::from_secs(5);

/// How many of Redis' last log lines an error quotes.
const LOG_TAIL: usize = 12;

/// A Unix socket path must fit `sockaddr_un.sun_path` (108 bytes on Linux, 104 on macOS).
const MAX_SOCKET_PATH: usize = 100;

/// The watchdog (see the module documentation). `$0` is the redis-server path, `$@` its
/// arguments. fd 3 keeps the tutor's pipe; Redis gets neither it nor a terminal. The two marker
/// lines are how the tutor learns Redis' pid and when it exited; everything else on stdout is
/// Redis' own log. Once Redis has exited, the watchdog also removes the socket and the (then
/// empty) folder, which matters when the tutor was killed and could not remove them itself.
/// It ignores SIGPIPE: with the tutor gone, its stdout has no reader, and the shell's own
/// "Killed" notice about Redis would otherwise end it before that clean-up.
const WATCHDOG: &str = r#"trap '' PIPE
exec 3<&0 </dev/null 2>&1
"$0" "$@" 3<&- &
pid=$!
echo "realtime-tutor-watchdog: pid $pid"
{ read -r _ <&3; kill -KILL "$pid" 2>/dev/null; } &
wait "$pid"
status=$?
rm -f "$REALTIME_TUTOR_REDIS_DIR/redis.sock"
rmdir "$REALTIME_TUTOR_REDIS_DIR" 2>/dev/null
echo "realtime-tutor-watchdog: exited $status"
"#;
const PID_MARK: &str = "realtime-tutor-watchdog: pid ";
const EXIT_MARK: &str = "realtime-tutor-watchdog: exited ";
/// What Redis logs, in one case or the other, once it accepts connections: 7.0 on a Unix
/// socket says "The server is now ready to accept connections at PATH", over TCP "Ready to
/// accept connections"; 7.2 adds "tcp" or "unix". A PING confirms it afterwards.
const READY_LINE: &str = "ready to accept connections";

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
    /// [`PING_LIMIT`](super::redis::PING_LIMIT)) until it answers.
    pub async fn start() -> Result<Self, RedisError> {
        let program = find_on_path("redis-server").ok_or(RedisError::NotInstalled)?;
        let start_err = |detail: String| RedisError::Start {
            program: program.clone(),
            detail,
            log: Vec::new(),
        };
        // 0700: only this user may even look inside (tempfile's default follows the umask).
        let dir = tempfile::Builder::new()
            .prefix("realtime-tutor-redis-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir()
            .map_err(|e| start_err(format!("cannot create a temporary folder: {e}")))?;
        let socket = dir.path().join("redis.sock");
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(start_err(format!(
                "the socket path {} is too long for a Unix socket; set TMPDIR to a shorter folder",
                socket.display()
            )));
        }
        // `/bin/sh` by its path: the watchdog must not depend on what PATH holds.
        let mut command = Command::new("/bin/sh");
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
            .env("REALTIME_TUTOR_REDIS_DIR", dir.path())
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
                    awaited: READY_LINE,
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
            Life::Exited(status) => format!(
                "redis-server {status}{}",
                log_tail(&log[log.len().saturating_sub(3)..])
            ),
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
            let late = matches!(
                wait.recv_timeout(Duration::from_secs(2)),
                Err(mpsc::RecvTimeoutError::Timeout)
            );
            if let (true, Some(group)) = (late, group) {
                let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            }
        });
        let _ = self.watchdog.wait();
        let _ = done.send(());
        let _ = guard.join();
        // Normally nothing is left. But if the watchdog itself was killed, Redis is still
        // running in the group: end it too. (The group id stays taken while any member lives,
        // so this cannot reach a stranger; with no member left it is a harmless ESRCH.)
        if let Some(group) = group {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
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
        let mut text = line.trim_end().to_string();
        if text.len() > 300 {
            let mut cut = 300;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
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

/// How often [`watch_external`] asks an external Redis whether it is still there.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// Watches a Redis the tutor did not start, and returns once it has gone: a PING every
/// [`WATCH_EVERY`] on a connection of its own, each bounded by [`PING_LIMIT`]. Without it, a
/// `--redis` that stopped left serve's chat silently dead (the adapter's publishes failed, and
/// nothing said so), and it never came back when Redis did. Now serve stops with this error, as
/// it does when its private Redis exits.
async fn watch_external(url: &str) -> RedisError {
    let gone = |detail: String| RedisError::Gone {
        url: url.to_owned(),
        detail,
    };
    let client = match ping(url).await {
        Ok(client) => client,
        Err(e) => return gone(e.to_string()),
    };
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(PING_LIMIT))
        .set_response_timeout(Some(PING_LIMIT));
    let mut conn = match client.get_multiplexed_async_connection_with_config(&config).await {
        Ok(conn) => conn,
        Err(e) => return gone(format!("connecting to watch it: {e}")),
    };
    let mut every = tokio::time::interval(WATCH_EVERY);
    loop {
        every.tick().await;
        let pong =
            tokio::time::timeout(PING_LIMIT, redis::cmd("PING").query_async::<String>(&mut conn)).await;
        match pong {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return gone(format!("it stopped answering PING: {e}")),
            Err(_) => return gone(format!("no answer to PING within {PING_LIMIT:?}")),
        }
    }
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
                first_look(&url).await?;
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

    /// Completes if the Redis goes away while in use: a private Redis when its process exits
    /// (see [`RedisServer::gone`]); an external one, which has no process to watch, when it stops
    /// answering (see [`watch_external`]).
    pub async fn gone(&self) -> RedisError {
        match self {
            Redis::Private(server) => server.gone().await,
            Redis::External { url } => watch_external(url).await,
        }
    }

    /// A new client; each stage server must open its *own* connection from it (see
    /// [`crate::parts::node::redis_adapter`]).
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

    /// An external Redis that stops is noticed: the watch returns, naming it, within a few of its
    /// PINGs. (A private Redis started by the tutor stands in for someone else's; the watch
    /// sees only its URL.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_external_redis_that_stops_is_noticed_in_bounded_time() {
        let server = RedisServer::start()
            .await
            .expect("redis-server starts (the tests install it)");
        let url = server.url();
        let mut watch = tokio::spawn({
            let url = url.clone();
            async move { watch_external(&url).await }
        });
        // Still there: the watch goes on, through a PING or two. (This test is about a timer,
        // so it waits for one.)
        let early = tokio::time::timeout(WATCH_EVERY + WATCH_EVERY / 2, &mut watch).await;
        assert!(early.is_err(), "the watch ended while Redis was up: {early:?}");
        drop(server);
        let error = tokio::time::timeout(WATCH_EVERY + 2 * PING_LIMIT, watch)
            .await
            .expect("the watch notices within one round and one PING's limit")
            .expect("the watch task");
        assert!(
            matches!(&error, RedisError::Gone { url: u, .. } if *u == url),
            "{error}"
        );
    }
}
