//! The same `io.emit` to growing audiences, and messages of several sizes to one audience.

use std::time::Duration;

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
pub async fn audiences(
    sizes: &[usize],
    message: &str,
    emits: u32,
    bound: Duration,
) -> Result<Vec<FanoutRow>, RunError> {
    let mut crowd = Crowd::start(bound).await?;
    let mut rows = Vec::new();
    let outcome = async {
        for &size in sizes {
            let (before, added) = (resident_kb(), size - crowd.size);
            crowd.grow(size).await?;
            let memory = match (before, resident_kb()) {
                (Some(before), Some(after)) if added > 0 => {
                    Some(after.saturating_sub(before) * 1024 / added as u64)
                }
                _ => None,
            };
            let mut row = emit_to_all(&mut crowd, message, emits).await?;
            row.memory = Memory {
                bytes_per_connection: memory,
            };
            rows.push(row);
        }
        Ok(())
    }
    .await;
    crowd.stop().await;
    outcome.map(|()| rows)
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
    let total: Duration = times.iter().sum();
    times.sort();
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    let per_second = match total.as_secs_f64() {
        secs if secs > 0.0 => (frames as f64 / secs) as u64,
        _ => 0,
    };
    Ok(FanoutRow {
        clients,
        message_bytes: message.len(),
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
    })
}
