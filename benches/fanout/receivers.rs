//! A receivers process: connects N clients to a server, says `ready`, reads the chat messages,
//! and reports what it measured on its standard output, one line per figure:
//!
//! ```text
//! ready                         every client is connected (or `failed <why>`)
//! done <read> <last µs> <cpu ms> messages read, when the last was read, CPU from ready to done
//! lat <µs> <µs> …               each message's latency, in lines of at most 1,000
//! end
//! ```
//!
//! The benchmark starts one or more of these (`--client-processes`) and adds up their reports,
//! so the clients can run on more than one core and their own CPU time is known.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::client::{self, Seen};
use crate::proc;

/// How many clients open their WebSocket at the same time: enough to connect ten thousand in a
/// few seconds, few enough that no handshake waits long in a queue.
const OPENING_AT_ONCE: usize = 64;

/// How long all the clients of one process may take to connect.
pub const ALL_CONNECTED_WITHIN: Duration = Duration::from_secs(120);

/// How long a client reads, from when it connected, before it gives up on missing messages.
pub const READ_WITHIN: Duration = Duration::from_secs(120);

/// Runs the process's part: `clients` receivers of `messages` chat messages from `base`.
pub async fn run(base: String, clients: usize, messages: usize) -> Result<(), String> {
    let opening = Arc::new(Semaphore::new(OPENING_AT_ONCE));
    let (connected, mut connections) = mpsc::unbounded_channel::<Result<(), String>>();
    let mut receivers = JoinSet::new();
    for _ in 0..clients {
        let (base, opening, connected) = (base.clone(), opening.clone(), connected.clone());
        receivers.spawn(async move {
            let permit = opening.acquire().await;
            let ws = client::connect(&base).await;
            drop(permit);
            match ws {
                Ok(ws) => {
                    let _ = connected.send(Ok(()));
                    Some(client::receive(ws, messages, Instant::now() + READ_WITHIN).await)
                }
                Err(why) => {
                    let _ = connected.send(Err(why));
                    None
                }
            }
        });
    }
    // Every client connected, or the first failure, or the time is up: whichever comes first.
    let mut count = 0;
    let waiting = tokio::time::timeout(ALL_CONNECTED_WITHIN, async {
        while count < clients {
            match connections.recv().await {
                Some(Ok(())) => count += 1,
                Some(Err(why)) => return Err(why),
                None => return Err("the clients' tasks ended".to_owned()),
            }
        }
        Ok(())
    })
    .await;
    match waiting {
        Ok(Ok(())) => say("ready"),
        Ok(Err(why)) => return Err(format!("after {count} of {clients} clients connected: {why}")),
        Err(_) => {
            return Err(format!(
                "waited {ALL_CONNECTED_WITHIN:?} for {clients} clients to connect; {count} did"
            ));
        }
    }
    let pid = std::process::id();
    let cpu_at_ready = proc::cpu_time(pid).unwrap_or_default();

    // Each receiver ends by itself: all its messages read, or READ_WITHIN past.
    let mut all = Seen::default();
    let mut open = Vec::with_capacity(clients);
    while let Some(done) = receivers.join_next().await {
        if let Ok(Some((seen, ws))) = done {
            all.latencies_us.extend(seen.latencies_us);
            all.last_us = all.last_us.max(seen.last_us);
            open.push(ws);
        }
    }
    let cpu = proc::cpu_time(pid)
        .unwrap_or_default()
        .saturating_sub(cpu_at_ready);
    say(&format!(
        "done {} {} {}",
        all.latencies_us.len(),
        all.last_us,
        cpu.as_millis()
    ));
    for chunk in all.latencies_us.chunks(1000) {
        let line: Vec<String> = chunk.iter().map(u32::to_string).collect();
        say(&format!("lat {}", line.join(" ")));
    }
    say("end");
    // The connections close when the process exits, after the report.
    drop(open);
    Ok(())
}

/// One line of the report, flushed at once: the benchmark is waiting for it.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
