//! The frame log behind `--wire`: kept only when it will be shown, and within a byte budget.
//!
//! A client that copies every frame it sees, for a log nobody reads, grows without bound (a
//! server streaming 1 MiB frames took a `check` run past 3 GB). So the log is off unless its owner
//! asks for it ([`super::ConnectOptions::record_wire`]), and on, it keeps at most
//! [`WIRE_BUDGET`] bytes between two reads; past that it counts what it drops and says so in one
//! last line, so the reader of `--wire` knows the capture was cut and where.
//!
//! Besides frames, the log holds short lines about the HTTP requests of the long-polling
//! transport and the WebSocket upgrade (`GET /socket.io/?EIO=4&transport=polling` → `200 OK`),
//! written so a learner can tell them from frames at a glance: they start with `HTTP`.

use std::sync::{Arc, Mutex};

use super::limits::{WIRE_BUDGET, WIRE_FRAME_TEXT};

/// Which way a frame travelled, seen from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WireDirection {
    /// Client → server.
    Sent,
    /// Server → client.
    Received,
}

/// One raw frame (or one line about an HTTP request), kept for `--wire`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WireFrame {
    pub direction: WireDirection,
    pub text: String,
}

#[derive(Debug, Default)]
struct Log {
    frames: Vec<WireFrame>,
    bytes: usize,
    dropped_frames: usize,
    dropped_bytes: usize,
}

/// A shared, bounded frame log. Cloning it shares the same log (the reader and writer tasks
/// both append). A `std::sync::Mutex` is enough: nobody holds it across an `.await`.
#[derive(Debug, Clone)]
pub struct WireLog {
    log: Option<Arc<Mutex<Log>>>,
}

impl WireLog {
    /// A log that keeps frames (`record` true) or one that drops them at no cost.
    pub fn new(record: bool) -> Self {
        Self {
            log: record.then(Arc::default),
        }
    }

    /// True when frames are kept: callers skip formatting what would be dropped anyway.
    pub fn is_recording(&self) -> bool {
        self.log.is_some()
    }

    /// Appends a frame, cut to [`WIRE_FRAME_TEXT`] and within [`WIRE_BUDGET`].
    pub fn push(&self, direction: WireDirection, text: &str) {
        let Some(log) = &self.log else { return };
        let Ok(mut log) = log.lock() else { return };
        if log.bytes + text.len().min(WIRE_FRAME_TEXT) > WIRE_BUDGET {
            log.dropped_frames += 1;
            log.dropped_bytes += text.len();
            return;
        }
        let text = cut(text);
        log.bytes += text.len();
        log.frames.push(WireFrame { direction, text });
    }

    /// Takes what was logged since the last call, ending with a line about any frames the budget
    /// left out, and starts a fresh budget.
    pub fn take(&self) -> Vec<WireFrame> {
        let Some(log) = &self.log else {
            return Vec::new();
        };
        let Ok(mut log) = log.lock() else {
            return Vec::new();
        };
        let taken = std::mem::take(&mut *log);
        let mut frames = taken.frames;
        if taken.dropped_frames > 0 {
            frames.push(WireFrame {
                direction: WireDirection::Received,
                text: format!(
                    "[--wire budget of {} KiB spent: {} more frames ({} bytes) not recorded]",
                    WIRE_BUDGET / 1024,
                    taken.dropped_frames,
                    taken.dropped_bytes
                ),
            });
        }
        frames
    }
}

/// The first [`WIRE_FRAME_TEXT`] bytes of a frame (on a character boundary), and how much is left.
fn cut(text: &str) -> String {
    if text.len() <= WIRE_FRAME_TEXT {
        return text.to_owned();
    }
    let mut end = WIRE_FRAME_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &text[..end], text.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_that_is_not_shown_keeps_nothing() {
        let log = WireLog::new(false);
        log.push(WireDirection::Sent, "40");
        assert!(log.take().is_empty());
    }

    #[test]
    fn the_budget_cuts_and_says_so() {
        let log = WireLog::new(true);
        let big = "x".repeat(WIRE_FRAME_TEXT * 2);
        let fit = WIRE_BUDGET / (WIRE_FRAME_TEXT + 20);
        for _ in 0..fit + 10 {
            log.push(WireDirection::Received, &big);
        }
        let frames = log.take();
        let last = frames.last().unwrap();
        assert!(
            last.text.starts_with("[--wire budget of 256 KiB spent:"),
            "{}",
            last.text
        );
        assert!(
            frames[0]
                .text
                .ends_with(&format!("… ({} more bytes)", WIRE_FRAME_TEXT))
        );
        let kept: usize = frames.iter().map(|f| f.text.len()).sum();
        assert!(kept < WIRE_BUDGET + 200, "{kept}");
        // A fresh budget after each take.
        log.push(WireDirection::Sent, "40");
        assert_eq!(
            log.take(),
            vec![WireFrame {
                direction: WireDirection::Sent,
                text: "40".into()
            }]
        );
    }
}
