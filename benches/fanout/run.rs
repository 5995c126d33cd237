//! One measurement: one server, N receivers, one sender, M chat messages.
//!
//! 1. Start the server; read its memory (`VmRSS`) with nobody connected.
//! 2. Start the receivers processes; wait until every receiver is connected; read the server's
//!    memory again. The difference over N is the memory one connection costs.
//! 3. Connect the sender and emit M chat messages back to back, each carrying its send time.
//!    The server answers each with `io.emit`, so every receiver (and the sender) gets all M.
//! 4. Wait for the receivers' reports: deliveries per second is N × M over the time from the
//!    first emit to the last delivery; latency is each delivery's read time minus its send
//!    time. CPU time of the server and of the client side over the same stretch says which one
//!    was busy.

use std::process::Command;
use std::time::Duration;

use crate::client::{self, Frame};
use crate::lines::Spawned;
use crate::proc;
use crate::receivers::{ALL_CONNECTED_WITHIN, READ_WITHIN};
use crate::server::{Kind, Server};
use futures_util::{SinkExt, StreamExt};

/// What one measurement found.
pub struct Figures {
    pub kind: Kind,
    pub clients: usize,
    pub delivered: usize,
    pub expected: usize,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Server memory per connection, in KiB (what /proc calls kB is 1,024 bytes).
    pub kib_per_connection: f64,
    /// The server's peak memory (`VmHWM`), in MiB.
    pub peak_mib: f64,
    /// From the first emit to the last delivery.
    pub wall: Duration,
    pub server_cpu: Duration,
    /// The receivers processes and the sender, over the same stretch.
    pub client_cpu: Duration,
    /// The server's CPU time by kind of thread, most first: where it went.
    pub server_threads: Vec<(String, Duration)>,
}

/// Runs one measurement of `kind` with `clients` receivers spread over `processes` processes.
pub async fn measure(
    kind: Kind,
    clients: usize,
    messages: usize,
    processes: usize,
) -> Result<Figures, String> {
    let server = Server::start(kind, clients).await?;
    let rss = |what: &str| {
        proc::status_kb(server.pid, what).ok_or_else(|| format!("cannot read {what} of the server"))
    };
    let idle_kib = rss("VmRSS")?;

    // The receivers, as even a share each as can be.
    let mut groups = Vec::new();
    for i in 0..processes {
        let share = clients / processes + usize::from(i < clients % processes);
        groups.push(start_receivers(&server.base, share, messages)?);
    }
    for group in &mut groups {
        expect_line(group, ALL_CONNECTED_WITHIN + Duration::from_secs(5), "ready").await?;
    }
    let connected_kib = rss("VmRSS")?;

    // The sender reads its own echoes (io.emit includes it) and answers pings, on a task of its
    // own, so its socket's buffer at the server never fills.
    let sender = client::connect(&server.base).await?;
    let (mut write, mut read) = sender.split();
    let echoes = tokio::spawn(async move {
        let mut got = 0;
        let until = tokio::time::Instant::now() + READ_WITHIN;
        while got < messages {
            match tokio::time::timeout_at(until, read.next()).await {
                Ok(Some(Ok(frame))) => {
                    if let Frame::Chat { .. } = client::read(&frame) {
                        got += 1;
                    }
                }
                _ => break,
            }
        }
        read
    });
    let cpu = |pid| proc::cpu_time(pid).unwrap_or_default();
    let (server_cpu, own_cpu) = (cpu(server.pid), cpu(std::process::id()));
    let threads_before = proc::thread_times(server.pid);
    let first_us = client::now_us();
    let sending = async {
        for _ in 0..messages {
            write.send(client::chat_frame(client::now_us())).await?;
        }
        Ok::<_, tokio_tungstenite::tungstenite::Error>(())
    };
    tokio::time::timeout(READ_WITHIN, sending)
        .await
        .map_err(|_| format!("the sender could not emit {messages} messages within {READ_WITHIN:?}"))?
        .map_err(|e| format!("the sender could not emit: {e}"))?;

    // The reports.
    let (mut delivered, mut last_us, mut client_ms) = (0usize, first_us, 0u64);
    let mut latencies: Vec<u32> = Vec::with_capacity(clients * messages);
    for group in &mut groups {
        let done = expect_line(group, READ_WITHIN + Duration::from_secs(10), "done").await?;
        let numbers: Vec<u64> = done.split(' ').skip(1).filter_map(|n| n.parse().ok()).collect();
        let [read, last, ms] = numbers[..] else {
            return Err(format!("a bad report: {done}"));
        };
        delivered += read as usize;
        last_us = last_us.max(last);
        client_ms += ms;
        loop {
            let line = expect_line(group, Duration::from_secs(10), "").await?;
            let Some(values) = line.strip_prefix("lat ") else {
                break;
            };
            latencies.extend(values.split(' ').filter_map(|n| n.parse::<u32>().ok()));
        }
    }
    let server_cpu = cpu(server.pid).saturating_sub(server_cpu);
    let server_threads = proc::busiest_threads(&threads_before, &proc::thread_times(server.pid));
    let own = cpu(std::process::id()).saturating_sub(own_cpu);
    let peak_kib = rss("VmHWM")?;
    echoes.abort();

    latencies.sort_unstable();
    let at = |q: f64| {
        let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(i).map_or(f64::NAN, |&us| f64::from(us) / 1000.0)
    };
    let wall = Duration::from_micros(last_us.saturating_sub(first_us));
    Ok(Figures {
        kind,
        clients,
        delivered,
        expected: clients * messages,
        per_second: delivered as f64 / wall.as_secs_f64().max(1e-6),
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        kib_per_connection: connected_kib.saturating_sub(idle_kib) as f64 / clients as f64,
        peak_mib: peak_kib as f64 / 1024.0,
        wall,
        server_cpu,
        client_cpu: own + Duration::from_millis(client_ms),
        server_threads,
    })
}

/// Starts this same program as a receivers process (see `receivers.rs`).
fn start_receivers(base: &str, clients: usize, messages: usize) -> Result<Spawned, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let mut command = Command::new(me);
    command.args(["--receivers", base, &clients.to_string(), &messages.to_string()]);
    Spawned::start(command).map_err(|e| format!("cannot start a receivers process: {e}"))
}

/// The next line of a receivers process's report, which must start with `word` (any line
/// when `word` is empty), within `within`; `failed <why>` and silence become errors that say
/// what was awaited.
async fn expect_line(group: &mut Spawned, within: Duration, word: &str) -> Result<String, String> {
    let awaited = if word.is_empty() { "its report" } else { word };
    let line = group
        .next_line(within, &format!("{awaited:?}"))
        .await
        .map_err(|e| format!("a receivers process: {e}"))?;
    if let Some(why) = line.strip_prefix("failed ") {
        return Err(format!("a receivers process failed: {why}"));
    }
    if !line.starts_with(word) {
        return Err(format!(
            "a receivers process said {line:?} where {awaited:?} was awaited"
        ));
    }
    Ok(line)
}
