//! A crowd: lesson 10's server and the lean clients connected to it, with one inbox where every
//! client's reader drops what it read.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::lean::{self, Got, Ws};
use crate::runner::RunError;
use crate::server::fanout::FanoutServer;

/// How many clients open their WebSocket at the same time: enough to connect a thousand in well
/// under a second, few enough that no handshake waits long in the listener's queue.
const OPENING_AT_ONCE: usize = 64;

/// The server and its clients.
#[derive(Debug)]
pub struct Crowd {
    pub server: FanoutServer,
    addr: SocketAddr,
    tx: mpsc::UnboundedSender<Got>,
    inbox: mpsc::UnboundedReceiver<Got>,
    readers: JoinSet<()>,
    /// How many clients have connected (readers and held ones), numbered from 0.
    pub size: usize,
    /// The bound on every wait.
    bound: Duration,
}

impl Crowd {
    /// Starts the server on a free port of 127.0.0.1.
    pub async fn start(bound: Duration) -> Result<Self, RunError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| RunError::Other(format!("cannot listen on 127.0.0.1: {e}")))?;
        let server = FanoutServer::start(listener)
            .map_err(|e| RunError::Other(format!("cannot start the server: {e}")))?;
        let (tx, inbox) = mpsc::unbounded_channel();
        Ok(Self {
            addr: server.addr(),
            server,
            tx,
            inbox,
            readers: JoinSet::new(),
            size: 0,
            bound,
        })
    }

    /// Connects clients until there are `to`, each reading into the inbox, and waits (bounded)
    /// until the server counts them all.
    pub async fn grow(&mut self, to: usize) -> Result<(), RunError> {
        let addr = self.addr;
        let opened: Vec<(usize, Result<Ws, String>)> = futures_util::stream::iter(self.size..to)
            .map(|i| async move { (i, lean::connect(addr, None).await) })
            .buffer_unordered(OPENING_AT_ONCE)
            .collect()
            .await;
        for (i, ws) in opened {
            let ws = ws.map_err(|why| RunError::Other(format!("client {} of {to}: {why}", i + 1)))?;
            self.readers.spawn(lean::read(ws, i, self.tx.clone()));
        }
        self.size = self.size.max(to);
        self.until_server_counts(to).await
    }

    /// Connects one client that does not read yet: its number and its WebSocket. Hand the
    /// WebSocket to [`Crowd::start_reading`] when it should begin.
    pub async fn hold(&mut self, receive_buffer: Option<u32>) -> Result<(usize, Ws), RunError> {
        let ws = lean::connect(self.addr, receive_buffer)
            .await
            .map_err(|why| RunError::Other(format!("the held client: {why}")))?;
        self.size += 1;
        self.until_server_counts(self.size).await?;
        Ok((self.size - 1, ws))
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Lets a held client read from now on.
    pub fn start_reading(&mut self, client: usize, ws: Ws) {
        self.readers.spawn(lean::read(ws, client, self.tx.clone()));
    }

    /// socketioxide sends a socket's CONNECT reply as it adds it to the namespace; this waits,
    /// bounded, until the namespace lists all `n`, so that an emit right after reaches them all.
    pub async fn until_server_counts(&self, n: usize) -> Result<(), RunError> {
        let waiting = async {
            while self.server.connected() < n {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        tokio::time::timeout(self.bound, waiting)
            .await
            .map_err(|_| RunError::Timeout {
                what: format!(
                    "the server to count {n} sockets ({} so far)",
                    self.server.connected()
                ),
                after: self.bound,
            })
    }

    /// Takes frames from the inbox until `done` says the last one completed what was awaited;
    /// returns every frame taken. Bounded: `what` names what was awaited when the time runs out.
    pub async fn take_until(
        &mut self,
        what: &str,
        mut done: impl FnMut(&Got) -> bool,
    ) -> Result<Vec<Got>, RunError> {
        let mut taken = Vec::new();
        let deadline = tokio::time::Instant::now() + self.bound;
        loop {
            match tokio::time::timeout_at(deadline, self.inbox.recv()).await {
                Ok(Some(got)) => {
                    let finished = done(&got);
                    taken.push(got);
                    if finished {
                        return Ok(taken);
                    }
                }
                Ok(None) => return Err(RunError::Other(format!("the clients stopped before {what}"))),
                Err(_) => {
                    return Err(RunError::Timeout {
                        what: what.to_owned(),
                        after: self.bound,
                    });
                }
            }
        }
    }

    /// Takes frames until each of the first `clients` clients has read one `event` frame.
    pub async fn until_each(&mut self, event: &str, clients: usize) -> Result<Vec<Got>, RunError> {
        let mut seen = vec![false; clients];
        let mut left = clients;
        let what = format!("'{event}' at each of {clients} clients");
        self.take_until(&what, |got| {
            if got.event() == event && got.client < clients && !seen[got.client] {
                seen[got.client] = true;
                left -= 1;
            }
            left == 0
        })
        .await
    }

    /// Stops the server and the readers.
    pub async fn stop(mut self) {
        self.server.stop().await;
        self.readers.abort_all();
        while self.readers.join_next().await.is_some() {}
    }
}

/// The resident memory of this process now, in kB (`VmRSS` in `/proc/self/status`), or `None`
/// where there is no such file.
pub fn resident_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line["VmRSS:".len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}
