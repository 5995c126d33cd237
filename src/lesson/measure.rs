//! A measurement stage's `measure = { kind = …, … }` (lesson 10): after its steps, the stage
//! measures what one emit costs instead of (only) showing who received it.
//!
//! What is measured is fixed by the kind; the numbers (audience sizes, message sizes, how many
//! emits) come from the lesson, within bounds that keep a lesson run to seconds.

use serde::Deserialize;

/// The most clients a lesson file may ask for; `lesson 10 --clients N` may ask for more.
pub const MAX_LESSON_CLIENTS: usize = 2_000;

/// The largest message a lesson may send, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// How many emits a measurement may repeat per size.
pub const MAX_EMITS: u32 = 50;

/// What a measurement stage measures.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Measure {
    /// `io.emit('chat message', message)` to each audience in turn (10, 100, 1,000 clients),
    /// `emits` times each: frames, bytes, time to the last delivery, memory per connection.
    Audience {
        clients: Vec<usize>,
        message: String,
        emits: u32,
    },
    /// The same emit to one audience with messages of each size in `bytes`.
    MessageSize {
        clients: usize,
        bytes: Vec<usize>,
        emits: u32,
    },
    /// `emits` normal and `emits` volatile emits to a reader that reads and one that does not,
    /// after a large message has filled the slow reader's connection.
    Volatile { emits: u32 },
    /// One message of `bytes` to `clients` clients, by `io.emit` and by `socket.emit` in a loop:
    /// how many times each encodes it.
    EncodeOnce { clients: usize, bytes: usize },
}

impl Measure {
    /// Checks the numbers against the bounds above.
    pub(super) fn check(&self) -> Result<(), String> {
        let clients = |n: usize| match n {
            1..=MAX_LESSON_CLIENTS => Ok(()),
            _ => Err(format!(
                "measure: {n} clients; a lesson measures 1 to {MAX_LESSON_CLIENTS}"
            )),
        };
        let bytes = |n: usize| match n {
            1..=MAX_MESSAGE_BYTES => Ok(()),
            _ => Err(format!(
                "measure: a {n}-byte message; a lesson sends 1 to {MAX_MESSAGE_BYTES} bytes"
            )),
        };
        let emits = |n: u32| match n {
            1..=MAX_EMITS => Ok(()),
            _ => Err(format!("measure: {n} emits; a lesson makes 1 to {MAX_EMITS}")),
        };
        match self {
            Measure::Audience {
                clients: sizes,
                message,
                emits: n,
            } => {
                if sizes.is_empty() || !sizes.is_sorted() {
                    return Err("measure: clients must list audience sizes, smallest first".into());
                }
                sizes.iter().try_for_each(|&n| clients(n))?;
                bytes(message.len())?;
                emits(*n)
            }
            Measure::MessageSize {
                clients: n,
                bytes: sizes,
                emits: e,
            } => {
                if sizes.is_empty() {
                    return Err("measure: bytes must list at least one message size".into());
                }
                clients(*n)?;
                sizes.iter().try_for_each(|&b| bytes(b))?;
                emits(*e)
            }
            Measure::Volatile { emits: n } => emits(*n),
            Measure::EncodeOnce { clients: n, bytes: b } => {
                clients(*n)?;
                bytes(*b)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_outside_the_bounds_are_refused_with_the_bound() {
        let audience = |clients: Vec<usize>, emits| Measure::Audience {
            clients,
            message: "hi".into(),
            emits,
        };
        assert!(audience(vec![10, 100, 1000], 5).check().is_ok());
        assert!(
            audience(vec![100, 10], 5)
                .check()
                .unwrap_err()
                .contains("smallest first")
        );
        assert!(audience(vec![0], 5).check().unwrap_err().contains("1 to 2000"));
        assert!(audience(vec![10], 0).check().unwrap_err().contains("1 to 50"));
        let big = Measure::EncodeOnce {
            clients: 10,
            bytes: MAX_MESSAGE_BYTES + 1,
        };
        assert!(big.check().unwrap_err().contains("bytes"));
    }
}
