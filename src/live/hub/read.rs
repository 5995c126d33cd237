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
pub fn fingerprint(event: &str, args: &[Value]) -> u64 {
    fingerprint_and_size(event, args).0
}

/// The fingerprint, and the size of the arguments as JSON.
pub(super) fn fingerprint_and_size(event: &str, args: &[Value]) -> (u64, usize) {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    event.hash(&mut hasher);
    let json = serde_json::to_string(args).unwrap_or_default();
    json.hash(&mut hasher);
    (hasher.finish(), json.len())
}
