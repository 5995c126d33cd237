//! What a bot reports it read, kept as a fingerprint of the event and its arguments.

use std::hash::{Hash, Hasher};

use serde_json::Value;

/// A bot read an event off its socket. The arguments are kept as a fingerprint: matching needs
/// only equality, and a bot flooded with large messages then holds a few bytes per read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub sid: String,
    pub event: String,
    pub fingerprint: u64,
}

impl Read {
    pub fn new(sid: String, event: String, args: &[Value]) -> Self {
        let fingerprint = fingerprint(&event, args);
        Self {
            sid,
            event,
            fingerprint,
        }
    }
}

/// A 64-bit digest of an event and its arguments. Two different messages share one with a
/// chance of about 1 in 2^64; a mismatch then would only mark a read on the wrong one of two
/// records with the same event.
///
/// The arguments are hashed as values (`serde_json::Value` is `Hash`), not written out as JSON
/// first: every bot computes this for every event it reads, and under a flood of large messages
/// escaping the text again, eight times per message, was the busiest work in the process.
pub fn fingerprint(event: &str, args: &[Value]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    event.hash(&mut hasher);
    args.hash(&mut hasher);
    hasher.finish()
}

/// The fingerprint, and the size of the arguments as JSON (counted as they are written, without
/// keeping the text).
pub(super) fn fingerprint_and_size(event: &str, args: &[Value]) -> (u64, usize) {
    let mut counted = Counted(0);
    // Writing a `Value` to a writer that never fails cannot fail.
    let _ = serde_json::to_writer(&mut counted, args);
    (fingerprint(event, args), counted.0)
}

/// A writer that only counts the bytes it is given.
struct Counted(usize);

impl std::io::Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What the server emitted and what a bot decoded from the wire are two separate values:
    /// they must print the same when equal, and differ when anything differs.
    #[test]
    fn equal_arguments_share_a_fingerprint_and_any_difference_changes_it() {
        let sent = vec![json!({"text": "hé \"quoted\"", "n": 3, "tags": [1.5, null, true]})];
        let wire = serde_json::to_string(&sent).unwrap();
        let read: Vec<Value> = serde_json::from_str(&wire).unwrap();
        assert_eq!(
            fingerprint("chat message", &sent),
            fingerprint("chat message", &read)
        );
        assert_ne!(fingerprint("chat message", &sent), fingerprint("chat", &sent));
        let other = vec![json!({"text": "hé \"quoted\"", "n": 4, "tags": [1.5, null, true]})];
        assert_ne!(
            fingerprint("chat message", &sent),
            fingerprint("chat message", &other)
        );
        assert_ne!(
            fingerprint("chat message", &[json!("a"), json!("b")]),
            fingerprint("chat message", &[json!("ab")])
        );
    }

    #[test]
    fn the_size_is_the_length_of_the_arguments_as_json() {
        let args = vec![json!("line\nbreak \u{7}"), json!({"a\"b": [1, 2]})];
        let (_, size) = fingerprint_and_size("chat message", &args);
        assert_eq!(size, serde_json::to_string(&args).unwrap().len());
    }
}
