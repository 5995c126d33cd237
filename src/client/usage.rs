//! What a client's reader has read, per step and over a run, and the flood limits that stop it.
//!
//! The runner arms these limits against servers it does not control (see [`super::limits`] for
//! each number and its reason); the reader counts every frame, and every event once more at its
//! decoded size, and stops with the name of the flood once a limit is passed.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde_json::Value;

use super::limits::{MAX_BYTES_PER_RUN, MAX_BYTES_PER_STEP, MAX_FRAMES_PER_STEP};

/// What the reader has read in the current step, and whether the per-step limits apply.
///
/// The runner arms the limits against someone else's server and starts a new step after each
/// one; a bot in `serve` never arms them and is bounded by its queue alone.
#[derive(Debug, Default)]
pub struct Usage {
    frames: AtomicU64,
    bytes: AtomicU64,
    /// Bytes since the limits were armed, across steps: the runner keeps every step's events
    /// until the stage ends.
    run_bytes: AtomicU64,
    armed: AtomicBool,
    flood: Mutex<Option<String>>,
}

impl Usage {
    /// Applies [`MAX_FRAMES_PER_STEP`] and [`MAX_BYTES_PER_STEP`] from now on.
    pub fn arm(&self) {
        if !self.armed.swap(true, Ordering::Relaxed) {
            self.run_bytes.store(0, Ordering::Relaxed);
        }
    }

    /// Starts counting a new step.
    pub fn new_step(&self) {
        self.frames.store(0, Ordering::Relaxed);
        self.bytes.store(0, Ordering::Relaxed);
    }

    /// Frames and bytes read in this step so far.
    pub fn read(&self) -> (u64, u64) {
        (
            self.frames.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }

    /// The flood that stopped the reader, if one did.
    pub fn flood(&self) -> Option<String> {
        self.flood.lock().ok().and_then(|f| f.clone())
    }

    /// Counts one frame of the handshake, where no step has begun yet.
    pub fn count_handshake(&self, bytes: usize) {
        let _ = self.count(bytes);
    }

    /// Counts one frame; past an armed limit, says which flood it is.
    pub(super) fn count(&self, bytes: usize) -> Result<(), String> {
        self.frames.fetch_add(1, Ordering::Relaxed);
        self.add(bytes)
    }

    /// Adds bytes to the step and the run (a frame's, or what an event takes once decoded).
    pub(super) fn add(&self, bytes: usize) -> Result<(), String> {
        let frames = self.frames.load(Ordering::Relaxed);
        let step = self.bytes.fetch_add(bytes as u64, Ordering::Relaxed) + bytes as u64;
        let run = self.run_bytes.fetch_add(bytes as u64, Ordering::Relaxed) + bytes as u64;
        if !self.armed.load(Ordering::Relaxed) {
            return Ok(());
        }
        let flood = if frames > MAX_FRAMES_PER_STEP {
            format!(
                "more than {MAX_FRAMES_PER_STEP} frames in one step \
                 (heartbeats, packets for other namespaces and binary attachments count too)"
            )
        } else if step > MAX_BYTES_PER_STEP {
            format!(
                "more than {} MiB in one step (frames, and events at their decoded size)",
                MAX_BYTES_PER_STEP >> 20
            )
        } else if run > MAX_BYTES_PER_RUN {
            format!(
                "more than {} MiB over the steps so far (frames, and events at their decoded size)",
                MAX_BYTES_PER_RUN >> 20
            )
        } else {
            return Ok(());
        };
        if let Ok(mut slot) = self.flood.lock() {
            *slot = Some(flood.clone());
        }
        Err(format!("the tutor stopped reading a flood of {flood}"))
    }
}

/// Roughly what decoded JSON takes in memory: 32 bytes per value (the size of a
/// `serde_json::Value`) plus the text of strings and keys. `[0,0,0]` is 7 bytes on the wire and
/// about 100 here, which is why events are counted again once decoded.
pub fn decoded_size(value: &Value) -> usize {
    32 + match value {
        Value::String(text) => text.len(),
        Value::Array(items) => items.iter().map(decoded_size).sum(),
        Value::Object(fields) => fields.iter().map(|(k, v)| k.len() + decoded_size(v)).sum(),
        _ => 0,
    }
}

/// The limits as the owner of a client sees them.
impl super::SimClient {
    /// Applies the per-step limits ([`super::limits::MAX_FRAMES_PER_STEP`] and
    /// [`super::limits::MAX_BYTES_PER_STEP`]) from now on: past either, the client stops
    /// reading and its last item says which flood it was. The runner arms them against servers
    /// it does not control.
    pub fn limit_steps(&self) {
        self.usage.arm();
    }

    /// Starts a new step for the per-step limits.
    pub fn begin_step(&self) {
        self.usage.new_step();
    }

    /// Frames and bytes read from the server in the current step.
    pub fn step_traffic(&self) -> (u64, u64) {
        self.usage.read()
    }

    /// The flood that made the client stop reading, if one did.
    pub fn flood(&self) -> Option<String> {
        self.usage.flood()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decoded_json_is_counted_by_its_values() {
        assert_eq!(decoded_size(&json!(0)), 32);
        assert_eq!(decoded_size(&json!("hi")), 34);
        assert_eq!(decoded_size(&json!([0, 0, 0])), 128);
        assert_eq!(decoded_size(&json!({"ab": 1})), 32 + 2 + 32);
    }

    #[test]
    fn limits_apply_only_once_armed_and_name_the_flood() {
        let usage = Usage::default();
        for _ in 0..MAX_FRAMES_PER_STEP + 10 {
            usage.count(1).unwrap();
        }
        usage.arm();
        usage.new_step();
        for _ in 0..MAX_FRAMES_PER_STEP {
            usage.count(1).unwrap();
        }
        let flood = usage.count(1).unwrap_err();
        assert!(
            flood.contains(&format!("more than {MAX_FRAMES_PER_STEP} frames")),
            "{flood}"
        );
        assert_eq!(
            usage.flood().as_deref(),
            flood.strip_prefix("the tutor stopped reading a flood of ")
        );

        let usage = Usage::default();
        usage.arm();
        usage.add(MAX_BYTES_PER_STEP as usize).unwrap();
        assert!(usage.add(1).unwrap_err().contains("MiB in one step"));

        let usage = Usage::default();
        usage.arm();
        for _ in 0..(MAX_BYTES_PER_RUN / MAX_BYTES_PER_STEP) {
            usage.add(MAX_BYTES_PER_STEP as usize).unwrap();
            usage.new_step();
        }
        assert!(usage.add(1).unwrap_err().contains("over the steps so far"));
    }
}
