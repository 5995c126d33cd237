//! Clients in a process of their own, so that the server's memory per connection is the
//! server's alone: the tutor starts itself again (`realtime-tutor fanout-clients ADDR N`, a
//! hidden command) to hold N lean clients, and reads the resident memory of its own process,
//! where only the server is, before and after they connect.
//!
//! The child speaks in lines on its standard output:
//!
//! ```text
//! ready                                      every client is connected (or `failed <why>`)
//! got <frames> <bytes> <frame bytes> <µs>    each client read one 'chat message': how many
//!                                            frames and bytes that took, and when (µs since
//!                                            the Unix epoch) the last one was read
//! ```
//!
//! It prints a `got` line for every emit, and ends when its standard input closes (the parent
//! is gone or done). Both processes read one clock (`SystemTime`), on one machine.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::lean::{self, Got};
use crate::runner::RunError;

/// The event every measured emit sends.
const EVENT: &str = "chat message";

/// Microseconds since the Unix epoch, on the clock both processes read.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// What the child's clients read of one emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub frames: u64,
    pub bytes: u64,
    pub frame_bytes: u64,
    pub last_us: u64,
}

/// A running clients process; killed when dropped.
#[derive(Debug)]
pub struct Apart {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    bound: Duration,
}

impl Apart {
    /// Starts `program` as a clients process of `clients` clients of the server at `addr`, and
    /// waits (bounded) until they are all connected.
    pub async fn start(
        program: &Path,
        addr: SocketAddr,
        clients: usize,
        bound: Duration,
    ) -> Result<Apart, RunError> {
        let mut child = Command::new(program)
            .args(["fanout-clients", &addr.to_string(), &clients.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| RunError::Other(format!("cannot start the clients' process: {e}")))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut apart = Apart { child, lines, bound };
        // Connecting is the slow part: one bound for each thousand clients, and one more.
        let within = bound * (1 + clients as u32 / 1000);
        match apart.line(within, "the clients to connect").await?.as_str() {
            "ready" => Ok(apart),
            other => Err(RunError::Other(format!(
                "the clients' process: {}",
                other.strip_prefix("failed ").unwrap_or(other)
            ))),
        }
    }

    async fn line(&mut self, within: Duration, awaited: &str) -> Result<String, RunError> {
        match tokio::time::timeout(within, self.lines.recv()).await {
            Ok(Some(line)) => Ok(line),
            Ok(None) => Err(RunError::Other(format!(
                "the clients' process ended while waiting for {awaited}"
            ))),
            Err(_) => Err(RunError::Timeout {
                what: format!("{awaited} in the clients' process"),
                after: within,
            }),
        }
    }

    /// What the clients read of the emit just made.
    pub async fn round(&mut self) -> Result<Round, RunError> {
        let line = self.line(self.bound, "every client to read the emit").await?;
        let numbers: Vec<u64> = line
            .strip_prefix("got ")
            .map(|rest| rest.split(' ').filter_map(|n| n.parse().ok()).collect())
            .unwrap_or_default();
        match numbers[..] {
            [frames, bytes, frame_bytes, last_us] => Ok(Round {
                frames,
                bytes,
                frame_bytes,
                last_us,
            }),
            _ => Err(RunError::Other(format!("the clients' process said {line:?}"))),
        }
    }
}

impl Drop for Apart {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child's side: connects `clients` clients to `addr`, says `ready`, then a `got` line per
/// emit, until its standard input closes. Returns the exit status.
pub async fn run_child(addr: SocketAddr, clients: usize) -> i32 {
    // The parent closes our standard input when it is done, or when it dies: then we end.
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
        std::process::exit(0);
    });
    let say = |line: &str| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    let opened: Vec<Result<lean::Ws, String>> = futures_util::stream::iter(0..clients)
        .map(|_| lean::connect(addr, None))
        .buffer_unordered(64)
        .collect()
        .await;
    let (tx, mut inbox) = mpsc::unbounded_channel::<Got>();
    for (i, ws) in opened.into_iter().enumerate() {
        match ws {
            Ok(ws) => {
                tokio::spawn(lean::read(ws, i, tx.clone()));
            }
            Err(why) => {
                say(&format!("failed client {} of {clients}: {why}", i + 1));
                return 1;
            }
        }
    }
    say("ready");
    // A read's time on the shared clock: the epoch time now, plus how long after now it was.
    let (base, base_us) = (tokio::time::Instant::now(), now_us());
    let on_clock = |at: tokio::time::Instant| base_us + at.saturating_duration_since(base).as_micros() as u64;
    loop {
        let mut seen = vec![false; clients];
        let (mut left, mut round) = (
            clients,
            Round {
                frames: 0,
                bytes: 0,
                frame_bytes: 0,
                last_us: 0,
            },
        );
        while left > 0 {
            let Some(got) = inbox.recv().await else { return 1 };
            if got.event() != EVENT {
                continue;
            }
            round.frames += 1;
            round.bytes += got.wire;
            round.frame_bytes = got.wire;
            round.last_us = round.last_us.max(on_clock(got.at));
            if !seen[got.client] {
                seen[got.client] = true;
                left -= 1;
            }
        }
        say(&format!(
            "got {} {} {} {}",
            round.frames, round.bytes, round.frame_bytes, round.last_us
        ));
    }
}
