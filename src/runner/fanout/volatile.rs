//! What `volatile` drops for a slow reader, while a normal emit waits in its queue.
//!
//! The slow reader's connection is filled first: a message larger than the kernel's buffers on
//! both ends (its own receive buffer is set small, so it does not grow) keeps the server's writer
//! for that socket stuck, because the slow reader reads nothing. Then, with the writer stuck:
//!
//! * each normal emit waits in the socket's queue (socketioxide's buffer holds 128 packets);
//! * each volatile emit goes through a channel that holds one value: the next replaces it.
//!
//! The fast reader reads each emit before the next is made (the runner waits for it), so it
//! receives everything of both kinds. When the slow reader finally reads, it gets the large
//! message, every normal emit, and of the volatile ones only the last.

use std::time::Duration;

use super::crowd::Crowd;
use super::lean::Got;
use crate::runner::RunError;
use crate::server::fanout::{io_emit, volatile_emit};
use crate::trace::measure::VolatileFigures;

/// The message that fills the slow reader's connection: more than the kernel lets a socket
/// buffer on either end (Linux grows a send buffer to 4 MB at most by default).
pub const FILLER_BYTES: usize = 8 << 20;

/// The slow reader's kernel receive buffer, in bytes.
const SLOW_RECEIVE_BUFFER: u32 = 4096;

/// Runs the stage: `emits` normal and `emits` volatile emits.
pub async fn volatile(emits: u32, bound: Duration) -> Result<VolatileFigures, RunError> {
    // The large message takes a while to cross in a debug build: a longer bound for it.
    let mut crowd = Crowd::start(bound * 4).await?;
    let outcome = play(&mut crowd, emits).await;
    crowd.stop().await;
    outcome
}

async fn play(crowd: &mut Crowd, emits: u32) -> Result<VolatileFigures, RunError> {
    let emit = |e: String| RunError::Other(format!("emit: {e}"));
    crowd.grow(1).await?;
    let (fast, slow) = (0, crowd.size);
    let (_, slow_ws) = crowd.hold(Some(SLOW_RECEIVE_BUFFER)).await?;
    let filler = "f".repeat(FILLER_BYTES);
    io_emit(&crowd.server.io, "filler", &filler).await.map_err(emit)?;
    // What the slow reader read, kept from every batch of frames taken.
    let mut slow_got: Vec<Got> = Vec::new();
    let keep = |into: &mut Vec<Got>, got: Vec<Got>| into.extend(got.into_iter().filter(|g| g.client == slow));
    keep(&mut slow_got, one(crowd, fast, "filler", None).await?);
    let mut normal_fast = 0;
    for n in 1..=u64::from(emits) {
        io_emit(&crowd.server.io, "tick", &n).await.map_err(emit)?;
        keep(&mut slow_got, one(crowd, fast, "tick", Some(n)).await?);
        normal_fast += 1;
    }
    let mut volatile_fast = 0;
    for n in 1..=u64::from(emits) {
        volatile_emit(&crowd.server.io, "flash", &n).await.map_err(emit)?;
        keep(&mut slow_got, one(crowd, fast, "flash", Some(n)).await?);
        volatile_fast += 1;
    }
    // Now the slow reader reads: everything queued for it arrives, the normal emits last.
    crowd.start_reading(slow, slow_ws);
    let what = format!("the slow reader's {emits} normal emits");
    let mut ticks = slow_got.iter().filter(|g| g.event() == "tick").count() as u64;
    keep(
        &mut slow_got,
        crowd
            .take_until(&what, |g| {
                ticks += u64::from(g.client == slow && g.event() == "tick");
                ticks == u64::from(emits)
            })
            .await?,
    );
    // A last normal emit: the writer has already written the volatile message it kept (it
    // picks that up as soon as its queue is empty), so whatever volatile message arrives comes
    // before this one.
    io_emit(&crowd.server.io, "end", &0).await.map_err(emit)?;
    keep(&mut slow_got, one(crowd, slow, "end", None).await?);
    let count = |who: &[Got], event: &str| who.iter().filter(|g| g.event() == event).count() as u64;
    Ok(VolatileFigures {
        emits,
        filler_bytes: FILLER_BYTES,
        normal_fast,
        normal_slow: count(&slow_got, "tick"),
        volatile_fast,
        volatile_slow: count(&slow_got, "flash"),
        volatile_slow_kept: slow_got
            .iter()
            .filter(|g| g.event() == "flash")
            .filter_map(Got::number)
            .collect(),
    })
}

/// Takes frames until client `who` has read `event` (with the number `n`, when given).
async fn one(crowd: &mut Crowd, who: usize, event: &str, n: Option<u64>) -> Result<Vec<Got>, RunError> {
    let what = match n {
        Some(n) => format!("'{event}' {n} at client {who}"),
        None => format!("'{event}' at client {who}"),
    };
    crowd
        .take_until(&what, |g| {
            g.client == who && g.event() == event && n.is_none_or(|n| g.number() == Some(n))
        })
        .await
}
