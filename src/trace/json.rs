//! JSON Lines: one object per step, for scripts and for comparing runs.

use super::StepRecord;

/// One line of JSON for a step.
pub fn step_line(step: &StepRecord) -> String {
    // Serialising plain data with string keys cannot fail; keep a readable fallback anyway.
    serde_json::to_string(step).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
