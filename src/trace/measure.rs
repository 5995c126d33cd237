//! What a measurement stage (lesson 10) observed, as plain data.
//!
//! Two kinds of figure live side by side here and are kept apart by their types:
//!
//! * **counted** ones (`u64`, `usize`): frames and bytes the clients read off their WebSockets,
//!   deliveries, encodings. They come out the same on every run and every machine, and the tests
//!   assert them;
//! * **timed** ones ([`Timing`]) and **memory** ([`Memory`]): they vary from run to run and from
//!   machine to machine. The tests mask them; what they show is how they *grow*.

use std::time::Duration;

use serde::Serialize;

/// A duration, measured on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Timing {
    pub micros: u64,
}

impl From<Duration> for Timing {
    fn from(d: Duration) -> Self {
        Self {
            micros: u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
        }
    }
}

/// The resident memory one connection added to this process, in bytes, measured from the
/// process's resident set (`VmRSS`) before and after the connections opened. `None` where the
/// operating system does not say (no `/proc`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Memory {
    pub bytes_per_connection: Option<u64>,
}

/// One audience size (or one message size) of a fan-out measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FanoutRow {
    /// How many clients were connected and received the emit.
    pub clients: usize,
    /// The length of the message's text, in bytes.
    pub message_bytes: usize,
    /// How many times the same emit was made.
    pub emits: u32,
    /// WebSocket frames the clients read, per emit (all clients together).
    pub frames_per_emit: u64,
    /// Bytes of those frames on the wire (WebSocket header and payload), per emit.
    pub bytes_per_emit: u64,
    /// Bytes of the one frame each client read, per emit (header and payload).
    pub frame_bytes: u64,
    /// Deliveries counted over all emits (one per client per emit).
    pub deliveries: u64,
    /// From the call to `io.emit` to the last client reading its frame: the median over the
    /// emits.
    pub last_delivery: Timing,
    /// Deliveries per second over all the emits.
    pub per_second: u64,
    pub memory: Memory,
}

/// What a fast and a slow reader got of normal and volatile emits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VolatileFigures {
    /// How many emits of each kind were made.
    pub emits: u32,
    /// The size of the message that filled the slow reader's connection first, in bytes.
    pub filler_bytes: usize,
    /// Normal emits the fast and the slow reader received.
    pub normal_fast: u64,
    pub normal_slow: u64,
    /// Volatile emits the fast and the slow reader received.
    pub volatile_fast: u64,
    pub volatile_slow: u64,
    /// The numbers of the volatile messages the slow reader received.
    pub volatile_slow_kept: Vec<u64>,
}

/// One way of sending one message to every client: `io.emit`, or `socket.emit` in a loop.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EncodeRow {
    /// The JavaScript it mirrors.
    pub how: String,
    pub clients: usize,
    pub message_bytes: usize,
    /// How many times the message was serialised (counted by the message itself).
    pub encodings: u64,
    /// Frames written (read by the clients), and their bytes on the wire.
    pub frames: u64,
    pub bytes: u64,
    /// Did every client read the very same bytes?
    pub identical: bool,
    /// From the call to the last delivery.
    pub last_delivery: Timing,
}

/// What a measurement stage observed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Measurement {
    /// The same emit to growing audiences, or messages of several sizes to one audience.
    Fanout { rows: Vec<FanoutRow> },
    /// Normal and volatile emits to a fast and a slow reader.
    Volatile(VolatileFigures),
    /// `io.emit` beside a loop of `socket.emit`.
    EncodeOnce { rows: Vec<EncodeRow> },
}
