//! The same `io.emit` to growing audiences, and messages of several sizes to one audience.

use std::path::Path;
use std::time::Duration;

use super::apart::{Apart, now_us};
use super::crowd::{Crowd, resident_kb};
use super::lean::Got;
use crate::runner::RunError;
use crate::server::fanout::io_emit;
use crate::trace::measure::{FanoutRow, Memory, Timing};

/// The event every measured emit sends, as lesson 3's chat does.
const EVENT: &str = "chat message";

/// `io.emit(EVENT, message)` to each audience size in turn, `emits` times each. The clients of
/// one size stay connected for the next, which adds only the difference: so the memory each new
/// connection takes is measured on fresh allocations, not on memory freed by a smaller run.
///
/// With `program`, the clients run in processes of their own ([`super::apart`]) and the memory
/// is the server's alone; without it, they share this process and their share is included.
pub async fn audiences(
    sizes: &[usize],
    message: &str,
    emits: u32,
    bound: Duration,
    program: Option<&Path>,
) -> Result<Vec<FanoutRow>, RunError> {
    let mut crowd = Crowd::start(bound).await?;
    let mut parts: Vec<Apart> = Vec::new();
    let mut rows = Vec::new();
    let outcome = async {
        let mut connected = 0;
        for &size in sizes {
            let (before, added) = (resident_kb(), size - connected);
            match program {
                Some(program) if added > 0 => {
                    parts.push(Apart::start(program, crowd.addr(), added, bound).await?);
                    crowd.until_server_counts(size).await?;
                }
                Some(_) => {}
                None => crowd.grow(size).await?,
            }
            connected = size;
            let memory = match (before, resident_kb()) {
                (Some(before), Some(after)) if added > 0 => {
                    Some(after.saturating_sub(before) * 1024 / added as u64)
                }
                _ => None,
            };
            let mut row = match program {
                Some(_) => emit_apart(&crowd, &mut parts, size, message, emits).await?,
                None => emit_to_all(&mut crowd, message, emits).await?,
            };
            row.memory = Memory {
                bytes_per_connection: memory,
            };
            rows.push(row);
        }
        Ok(())
    }
    .await;
    drop(parts);
    crowd.stop().await;
    outcome.map(|()| rows)
}

/// [`emit_to_all`] with the clients in processes apart: each reports what its clients read.
async fn emit_apart(
    crowd: &Crowd,
    parts: &mut [Apart],
    clients: usize,
    message: &str,
    emits: u32,
) -> Result<FanoutRow, RunError> {
    let (mut frames, mut bytes, mut frame_bytes, mut times) = (0, 0, 0, Vec::new());
    for _ in 0..emits {
        let start_us = now_us();
        io_emit(&crowd.server.io, EVENT, message)
            .await
            .map_err(|e| RunError::Other(format!("io.emit to {clients} clients: {e}")))?;
        let mut last_us = start_us;
        for part in parts.iter_mut() {
            let round = part.round().await?;
            frames += round.frames;
            bytes += round.bytes;
            frame_bytes = round.frame_bytes;
            last_us = last_us.max(round.last_us);
        }
        times.push(Duration::from_micros(last_us - start_us));
    }
    Ok(row(
        clients,
        message.len(),
        emits,
        frames,
        bytes,
        frame_bytes,
        times,
    ))
}

/// One audience of `clients`, a message of each size in `bytes` (the letter `a`, repeated).
pub async fn message_sizes(
    clients: usize,
    bytes: &[usize],
    emits: u32,
    bound: Duration,
) -> Result<Vec<FanoutRow>, RunError> {
    let mut crowd = Crowd::start(bound).await?;
    let outcome = async {
        crowd.grow(clients).await?;
        let mut rows = Vec::new();
        for &size in bytes {
            rows.push(emit_to_all(&mut crowd, &"a".repeat(size), emits).await?);
        }
        Ok(rows)
    }
    .await;
    crowd.stop().await;
    outcome
}

/// Emits `message` to every client of the crowd `emits` times, each time waiting until every
/// client has read it, and counts what they read.
async fn emit_to_all(crowd: &mut Crowd, message: &str, emits: u32) -> Result<FanoutRow, RunError> {
    let clients = crowd.size;
    let (mut frames, mut bytes, mut times) = (0u64, 0u64, Vec::new());
    let mut frame_bytes = 0;
    for _ in 0..emits {
        let start = tokio::time::Instant::now();
        io_emit(&crowd.server.io, EVENT, message)
            .await
            .map_err(|e| RunError::Other(format!("io.emit to {clients} clients: {e}")))?;
        let got: Vec<Got> = crowd.until_each(EVENT, clients).await?;
        let mine = got.iter().filter(|g| g.event() == EVENT);
        let last = mine.clone().map(|g| g.at).max().unwrap_or(start);
        frames += mine.clone().count() as u64;
        bytes += mine.clone().map(|g| g.wire).sum::<u64>();
        frame_bytes = mine.map(|g| g.wire).max().unwrap_or(0);
        times.push(last - start);
    }
    Ok(row(
        clients,
        message.len(),
        emits,
        frames,
        bytes,
        frame_bytes,
        times,
    ))
}

/// A row from what was counted and timed over `emits` emits.
fn row(
    clients: usize,
    message_bytes: usize,
    emits: u32,
    frames: u64,
    bytes: u64,
    frame_bytes: u64,
    mut times: Vec<Duration>,
) -> FanoutRow {
    let total: Duration = times.iter().sum();
    times.sort();
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    let per_second = match total.as_secs_f64() {
        secs if secs > 0.0 => (frames as f64 / secs) as u64,
        _ => 0,
    };
    FanoutRow {
        clients,
        message_bytes,
        emits,
        frames_per_emit: frames / u64::from(emits),
        bytes_per_emit: bytes / u64::from(emits),
        frame_bytes,
        deliveries: frames,
        last_delivery: Timing::from(median),
        per_second,
        memory: Memory {
            bytes_per_connection: None,
        },
    }
}
