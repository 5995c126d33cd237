//! Reading a message's argument as any JSON, as Node's `socket.on('chat message', (msg) => …)`
//! does.
//!
//! In JavaScript, `msg` is whatever JSON the client sent: a string, a number, an object with
//! any keys. socketioxide's usual extractor, `TryData<serde_json::Value>`, almost agrees, but
//! not quite. To find binary attachments it looks at the first key of every object, and it
//! reads that key as text borrowed from the frame, which fails for a key written with an
//! escape: `{"a\"b":1}` was "unreadable" here, while Node echoes it.
//!
//! [`AnyJson`] tries that extractor first (so binary attachments still arrive as they did) and,
//! if it fails, takes the packet's JSON text as it stands in the frame
//! ([`serde_json::value::RawValue`], which asks the JSON reader for the text without going
//! through the key check) and parses it with serde_json itself, which decodes escaped keys like
//! any others. (Both paths depend on how socketioxide 0.18.9, the pinned version, hands data to
//! an extractor; the suite's `hardening` tests check them.)

use std::convert::Infallible;
use std::sync::Arc;

use serde_json::Value;
use serde_json::value::RawValue;
use socketioxide::ParserError;
use socketioxide::adapter::Adapter;
use socketioxide::extract::TryData;
use socketioxide::handler::{FromMessageParts, Value as Packet};
use socketioxide::socket::Socket;

/// The first argument of a message as any JSON value, or why it could not be read.
#[derive(Debug)]
pub struct AnyJson(pub Result<Value, String>);

impl<A: Adapter> FromMessageParts<A> for AnyJson {
    type Error = Infallible;

    fn from_message_parts(
        socket: &Arc<Socket<A>>,
        packet: &mut Packet,
        ack: &Option<i64>,
    ) -> Result<Self, Infallible> {
        let Ok(TryData(first)) = TryData::<Value>::from_message_parts(socket, packet, ack);
        let error: ParserError = match first {
            Ok(value) => return Ok(AnyJson(Ok(value))),
            Err(error) => error,
        };
        // `RawValue` is a newtype, which socketioxide treats like a tuple: it receives the
        // packet's whole data array, `["chat message", msg, …]`, so `msg` is its second element.
        let Ok(TryData(raw)) = TryData::<Box<RawValue>>::from_message_parts(socket, packet, ack);
        let parsed = raw.map_err(|_| error.to_string()).and_then(|raw| {
            let mut data: Vec<Value> = serde_json::from_str(raw.get()).map_err(|e| e.to_string())?;
            if data.len() < 2 {
                return Err(error.to_string());
            }
            Ok(data.swap_remove(1))
        });
        Ok(AnyJson(parsed))
    }
}
