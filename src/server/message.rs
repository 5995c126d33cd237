//! Reading an event's arguments as any JSON, however many there are, as Node's
//! `socket.on('chat message', (msg, …rest) => …)` does.
//!
//! In JavaScript a handler's arguments are whatever JSON the client sent: strings, numbers,
//! objects with any keys, one or several. socketioxide decodes `42["ev", a, b]` into the data
//! type a handler asks for, with two details that matter here:
//!
//! * It spreads the arguments over that type only if the type deserializes as a *tuple* (it asks
//!   `deserialize_tuple`, then skips the event name); any other type, a `Vec` included, gets the
//!   first argument alone. So [`Args`] asks for a tuple of any length and collects what comes.
//! * To find binary attachments it looks at the first key of every object, and it reads that key
//!   as text borrowed from the frame, which fails for a key written with an escape:
//!   `{"a\"b":1}` was "unreadable" here, while Node echoes it.
//!
//! [`AnyArgs`] tries socketioxide's own reading first (so binary attachments still arrive as they
//! did) and, if it fails, takes the packet's JSON text as it stands in the frame
//! ([`serde_json::value::RawValue`], which asks the JSON reader for the text without going
//! through the key check) and parses it with serde_json itself, which decodes escaped keys like
//! any others. (Both paths depend on how socketioxide 0.18.9, the pinned version, hands data to
//! an extractor; the suite's `hardening` tests check them.)

use std::convert::Infallible;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use socketioxide::adapter::Adapter;
use socketioxide::extract::TryData;
use socketioxide::handler::{FromMessageParts, Value as Packet};
use socketioxide::socket::Socket;

/// An event's arguments, however many the client sent (see the module documentation).
#[derive(Debug)]
pub struct Args(pub Vec<Value>);

impl<'de> Deserialize<'de> for Args {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Collect;
        impl<'de> serde::de::Visitor<'de> for Collect {
            type Value = Args;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("the event's arguments")
            }
            fn visit_seq<S: serde::de::SeqAccess<'de>>(self, mut seq: S) -> Result<Args, S::Error> {
                let mut args = Vec::new();
                while let Some(arg) = seq.next_element()? {
                    args.push(arg);
                }
                Ok(Args(args))
            }
        }
        deserializer.deserialize_tuple(usize::MAX, Collect)
    }
}

/// Every argument of a message as JSON values, or why they could not be read.
#[derive(Debug)]
pub struct AnyArgs(pub Result<Vec<Value>, String>);

impl<A: Adapter> FromMessageParts<A> for AnyArgs {
    type Error = Infallible;

    fn from_message_parts(
        socket: &Arc<Socket<A>>,
        packet: &mut Packet,
        ack: &Option<i64>,
    ) -> Result<Self, Infallible> {
        let Ok(TryData(first)) = TryData::<Args>::from_message_parts(socket, packet, ack);
        let error = match first {
            Ok(Args(args)) => return Ok(AnyArgs(Ok(args))),
            Err(error) => format!("unreadable arguments: {error}"),
        };
        // `RawValue` is a newtype, which socketioxide treats like a tuple: it receives the
        // packet's whole data array, `["chat message", msg, …]`; the arguments follow the name.
        let Ok(TryData(raw)) = TryData::<Box<RawValue>>::from_message_parts(socket, packet, ack);
        let parsed = raw.map_err(|_| error.clone()).and_then(|raw| {
            let mut data: Vec<Value> = serde_json::from_str(raw.get()).map_err(|_| error.clone())?;
            if data.is_empty() {
                return Err(error.clone());
            }
            data.remove(0);
            Ok(data)
        });
        Ok(AnyArgs(parsed))
    }
}
