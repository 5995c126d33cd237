//! Binary attachments: how `socket.emit('file', buffer)` travels, and how the client shows it.
//!
//! JSON has no bytes, so Socket.IO sends a binary value in two parts. The packet itself is JSON in
//! which each binary value is replaced by a *placeholder*; its type is 5 (BINARY_EVENT) or 6
//! (BINARY_ACK) and it starts with the number of attachments:
//!
//! ```text
//! 451-["chat message",{"_placeholder":true,"num":0}]    then one binary frame: 68 69
//! ```
//!
//! Then come the attachments, in order, one binary frame each (over WebSocket a binary message,
//! in a polling body a `b<base64>` record). Only when the last has arrived is the event
//! complete; a receiver puts attachment `num` where its placeholder was.
//!
//! A terminal cannot show raw bytes, and the trace is JSON, so the client fills each placeholder
//! with a description of the bytes instead: `{"binary":{"length":2,"hex":"6869","utf8":"hi"}}`.
//! A binary chat message then appears as what it is (two bytes, which read "hi"), not as nothing.

use serde_json::{Value, json};

use super::protocol::DecodeError;

/// How many bytes of an attachment are written out in hex. A description, not a dump.
const HEX_SHOWN: usize = 64;

/// How many characters of an attachment that is UTF-8 text are shown as text.
const TEXT_SHOWN: usize = 256;

/// What the client shows in place of some bytes.
pub fn describe(bytes: &[u8]) -> Value {
    let mut hex: String = bytes[..bytes.len().min(HEX_SHOWN)]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if bytes.len() > HEX_SHOWN {
        hex.push('…');
    }
    let mut about = json!({ "length": bytes.len(), "hex": hex });
    if let Ok(text) = std::str::from_utf8(bytes) {
        let mut shown: String = text.chars().take(TEXT_SHOWN).collect();
        if shown.len() < text.len() {
            shown.push('…');
        }
        about["utf8"] = Value::String(shown);
    }
    json!({ "binary": about })
}

/// True for `{"_placeholder":true,"num":…}`, the stand-in for attachment `num`.
fn placeholder_number(value: &Value) -> Option<&Value> {
    let object = value.as_object()?;
    (object.get("_placeholder") == Some(&Value::Bool(true)))
        .then(|| object.get("num"))
        .flatten()
}

/// Replaces every placeholder inside `value` by the description of its attachment.
///
/// A placeholder whose number has no attachment is an error: the packet and its frames do not
/// belong together, and guessing would show the learner something the server never sent.
pub fn fill_placeholders(value: &mut Value, attachments: &[Vec<u8>]) -> Result<(), DecodeError> {
    if let Some(num) = placeholder_number(value) {
        let bytes = num
            .as_u64()
            .and_then(|n| attachments.get(usize::try_from(n).ok()?))
            .ok_or_else(|| {
                DecodeError::InvalidPayload(format!(
                    "placeholder {num} names no attachment (the packet announced {})",
                    attachments.len()
                ))
            })?;
        *value = describe(bytes);
        return Ok(());
    }
    match value {
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|item| fill_placeholders(item, attachments)),
        Value::Object(fields) => fields
            .values_mut()
            .try_for_each(|item| fill_placeholders(item, attachments)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::protocol::SocketPacket;

    #[test]
    fn a_binary_event_announces_its_attachments() {
        let (packet, attachments) =
            SocketPacket::decode_with_attachments(r#"51-["chat message",{"_placeholder":true,"num":0}]"#)
                .unwrap();
        assert_eq!(attachments, 1);
        assert_eq!(
            packet,
            SocketPacket::event("chat message", vec![json!({"_placeholder": true, "num": 0})])
        );
        let (ack, n) = SocketPacket::decode_with_attachments(
            r#"62-/admin,7[{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]"#,
        )
        .unwrap();
        assert_eq!(n, 2);
        assert!(matches!(ack, SocketPacket::Ack { id: 7, ref nsp, .. } if nsp == "/admin"));
        assert_eq!(
            SocketPacket::decode_with_attachments(r#"2["x"]"#).unwrap().1,
            0,
            "a text packet has none"
        );
        for bad in ["5-[\"x\"]", "5x-[\"x\"]", "51[\"x\"]"] {
            assert!(SocketPacket::decode_with_attachments(bad).is_err(), "{bad}");
        }
        assert!(
            SocketPacket::decode(r#"51-["x"]"#).is_err(),
            "decode keeps to text packets"
        );
    }

    #[test]
    fn placeholders_become_descriptions_of_the_bytes() {
        let mut args = json!(["chat message", {"_placeholder": true, "num": 0}, {"nested": [{"_placeholder": true, "num": 1}]}]);
        fill_placeholders(&mut args, &[b"hi".to_vec(), vec![0xff, 0x00]]).unwrap();
        assert_eq!(
            args,
            json!([
                "chat message",
                {"binary": {"length": 2, "hex": "6869", "utf8": "hi"}},
                {"nested": [{"binary": {"length": 2, "hex": "ff00"}}]}
            ])
        );
    }

    #[test]
    fn a_placeholder_without_attachment_is_an_error() {
        let mut args = json!([{"_placeholder": true, "num": 3}]);
        assert!(fill_placeholders(&mut args, &[vec![1]]).is_err());
        let mut not_one = json!([{"_placeholder": false, "num": 0}]);
        fill_placeholders(&mut not_one, &[]).unwrap();
        assert_eq!(not_one, json!([{"_placeholder": false, "num": 0}]));
    }

    #[test]
    fn long_attachments_are_described_not_dumped() {
        let about = describe(&[b'a'; 1000]);
        assert_eq!(about["binary"]["length"], 1000);
        assert_eq!(about["binary"]["hex"].as_str().unwrap().chars().count(), 129);
        assert_eq!(about["binary"]["utf8"].as_str().unwrap().chars().count(), 257);
    }
}
