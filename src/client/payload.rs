//! HTTP long-polling's payload: several Engine.IO packets in one HTTP body, as pure functions.
//!
//! Over WebSocket every Engine.IO packet is its own frame, so the frame boundary is the packet
//! boundary. An HTTP body has no such boundaries, and one long-poll answer often carries several
//! packets (everything the server queued while no GET was waiting). Engine.IO v4 separates them
//! with the ASCII *record separator*, `\x1e`, a byte that cannot appear inside JSON text:
//!
//! ```text
//! 42["hello","world"]\x1e42["chat message","hi"]\x1e2
//! ```
//!
//! is an event, another event, and a ping. The client's POSTs use the same framing.
//!
//! A body is text, so binary packets cannot travel raw inside it: each binary frame becomes a
//! record that starts with `b` followed by the bytes in base64 (`bAQID` is the three bytes
//! `01 02 03`). Engine.IO v3 framed payloads differently (`<length>:<packet>`); the client asks
//! for v4 (`EIO=4`) and only reads v4.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::protocol::DecodeError;

/// The record separator between packets in a polling body.
pub const SEPARATOR: char = '\x1e';

/// One Engine.IO packet taken out of a polling body, or one WebSocket message: text (an Engine.IO
/// packet with its type digit) or the raw bytes of a binary attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// `0…` to `6…`: an Engine.IO packet as text.
    Text(String),
    /// The bytes of a binary attachment (a WebSocket binary message, or a `b<base64>` record).
    Binary(Vec<u8>),
}

impl Frame {
    /// How many bytes the frame carried: what the per-step byte limits count.
    pub fn len(&self) -> usize {
        match self {
            Self::Text(text) => text.len(),
            Self::Binary(bytes) => bytes.len(),
        }
    }

    /// True for an empty text frame (never sent by a conforming server).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Splits a polling body into its packets, decoding `b…` records from base64.
///
/// An empty body is an empty payload (no packets): socketioxide answers a pending GET that way
/// when the session closes. A `b` record that is not base64 is an error, since nothing after it
/// could be trusted to line up with its packet.
pub fn decode_payload(body: &str) -> Result<Vec<Frame>, DecodeError> {
    if body.is_empty() {
        return Ok(Vec::new());
    }
    body.split(SEPARATOR)
        .map(|record| match record.strip_prefix('b') {
            Some(encoded) => STANDARD
                .decode(encoded)
                .map(Frame::Binary)
                .map_err(|e| DecodeError::InvalidPayload(format!("binary record: {e}"))),
            None if record.is_empty() => Err(DecodeError::Empty),
            None => Ok(Frame::Text(record.to_owned())),
        })
        .collect()
}

/// Joins packets into one polling body, the way a POST carries them.
pub fn encode_payload<S: AsRef<str>>(packets: &[S]) -> String {
    let mut body = String::new();
    for (i, packet) in packets.iter().enumerate() {
        if i > 0 {
            body.push(SEPARATOR);
        }
        body.push_str(packet.as_ref());
    }
    body
}

/// The `b<base64>` record for some bytes (used by tests and by servers written in tests).
pub fn binary_record(bytes: &[u8]) -> String {
    format!("b{}", STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_a_body_on_the_record_separator() {
        let body = "42[\"hello\",\"world\"]\x1e42[\"chat message\",\"hi\"]\x1e2";
        assert_eq!(
            decode_payload(body).unwrap(),
            vec![
                Frame::Text(r#"42["hello","world"]"#.into()),
                Frame::Text(r#"42["chat message","hi"]"#.into()),
                Frame::Text("2".into()),
            ]
        );
    }

    #[test]
    fn one_packet_is_a_body_without_separator() {
        let open = r#"0{"sid":"a","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#;
        assert_eq!(decode_payload(open).unwrap(), vec![Frame::Text(open.into())]);
        assert_eq!(decode_payload("").unwrap(), vec![]);
        assert_eq!(decode_payload("6").unwrap(), vec![Frame::Text("6".into())]);
    }

    #[test]
    fn binary_records_are_base64() {
        let body = "451-[\"file\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID";
        assert_eq!(
            decode_payload(body).unwrap(),
            vec![
                Frame::Text(r#"451-["file",{"_placeholder":true,"num":0}]"#.into()),
                Frame::Binary(vec![1, 2, 3]),
            ]
        );
        assert_eq!(binary_record(&[1, 2, 3]), "bAQID");
        assert!(decode_payload("b!!!").is_err());
        assert!(
            decode_payload("2\x1e\x1e3").is_err(),
            "an empty record is not a packet"
        );
    }

    #[test]
    fn a_post_body_joins_packets() {
        assert_eq!(encode_payload(&["40"]), "40");
        assert_eq!(encode_payload(&["3", r#"42["x"]"#]), "3\x1e42[\"x\"]");
        assert_eq!(encode_payload::<&str>(&[]), "");
    }
}
