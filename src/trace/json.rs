//! JSON Lines: one object per step, for scripts and for comparing runs.
//!
//! Text in the trace can come from someone else's program (the server under `check`, a client
//! of `serve`). JSON itself only requires escaping `"`, `\\` and `U+0000`–`U+001F`, and
//! serde_json escapes nothing more, so a bidirectional override or a C1 control character
//! would reach whoever prints a decoded string. [`to_string`] also escapes every character
//! that [`super::safe::is_unsafe`] names, as `\\u061c` and the like: the JSON means the same
//! to a parser, and its bytes carry nothing a terminal obeys.

use std::io::Write;

use serde::Serialize;

use super::safe::is_unsafe;
use super::{StageTrace, StepRecord};

/// One line of JSON for a step.
pub fn step_line(step: &StepRecord) -> String {
    // Serialising plain data with string keys cannot fail; keep a readable fallback anyway.
    to_string(step).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// The line that follows a measurement stage's steps (lesson 10), with what it measured:
/// `{"lesson":10,"stage":1,"measure":{"kind":"fanout","rows":[…]}}`. `None` for other stages.
pub fn measure_line(trace: &StageTrace) -> Option<String> {
    let measure = trace.measure.as_ref()?;
    let line = serde_json::json!({"lesson": trace.lesson, "stage": trace.stage, "measure": measure});
    Some(to_string(&line).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")))
}

/// `value` as compact JSON (like `serde_json::to_string`), with the characters a terminal
/// could obey escaped in every string and key.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut bytes = Vec::new();
    value.serialize(&mut serde_json::Serializer::with_formatter(&mut bytes, Escaping))?;
    // The formatter writes whole characters or ASCII escapes, so the bytes stay UTF-8.
    String::from_utf8(bytes).map_err(serde::ser::Error::custom)
}

/// serde_json's compact formatter, but for the text inside strings.
struct Escaping;

impl serde_json::ser::Formatter for Escaping {
    /// Called with the runs of a string between the escapes serde_json makes itself.
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            if is_unsafe(c) {
                writer.write_all(&fragment.as_bytes()[start..at])?;
                // Every such character is in the Basic Multilingual Plane: one \uXXXX each.
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = at + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_c1_and_separators_are_escaped_and_parse_back() {
        let tricky = "a\u{202e}b\u{061c}c\u{2028}d\u{2029}e\u{9b}31m\u{7f}f\u{1b}g\"h";
        let value = serde_json::json!({ tricky: [tricky] });
        let line = to_string(&value).unwrap();
        assert_eq!(
            line,
            r#"{"a\u202eb\u061cc\u2028d\u2029e\u009b31m\u007ff\u001bg\"h":["a\u202eb\u061cc\u2028d\u2029e\u009b31m\u007ff\u001bg\"h"]}"#
        );
        assert!(line.chars().all(|c| !is_unsafe(c)), "{line}");
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back, value, "the same JSON to a parser");
        // Everything else is written as serde_json writes it.
        let plain = serde_json::json!({"n": 1, "s": "é ✓ \n", "x": [null, true, 2.5]});
        assert_eq!(to_string(&plain).unwrap(), serde_json::to_string(&plain).unwrap());
    }
}
