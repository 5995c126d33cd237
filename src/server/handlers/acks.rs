//! Acknowledgements: an answer that goes back to the one client that asked.
//!
//! A client that calls `socket.emit('question', q, (answer) => { … })` sends the event with an
//! id (`421["question",…]`). The server's handler receives a `callback` as its last argument;
//! calling it sends an ACK packet with the same id (`431[…]`) to that client only, and its
//! callback runs. No other client sees anything: an acknowledgement is not an emit.

use serde_json::{Value, json};
use socketioxide::SendError;
use socketioxide::adapter::Adapter;
use socketioxide::extract::AckSender;

use super::{Failed, Handler, boxed};
use crate::vocab::Effect;

/// This file's handlers, as the registry lists them.
pub fn handlers<A: Adapter>() -> Vec<Handler<A>> {
    let file = "src/server/handlers/acks.rs";
    vec![
        Handler {
            name: "answer-question",
            on: "question",
            file,
            anchor: "answer_question",
            declare: |args| {
                let q = args.first().cloned().unwrap_or(Value::Null);
                Ok(Effect {
                    answers: Some(vec![json!({ "got": q })]),
                    ..Effect::quiet("callback({ got: q })")
                })
            },
            run: |call| {
                boxed(async move {
                    let q = call.arg(0);
                    match call.ack {
                        Some(callback) => Ok(answer_question(callback, q)?),
                        None => Err(Failed::from("the client sent no callback to answer")),
                    }
                })
            },
        },
        Handler {
            name: "ignore-question",
            on: "question",
            file,
            anchor: "ignore_question",
            declare: |_| Ok(Effect::quiet("nothing (callback is never called)")),
            run: |call| {
                boxed(async move {
                    ignore_question(call.arg(0));
                    Ok(())
                })
            },
        },
    ]
}

// ANCHOR: answer_question
/// `socket.on('question', (q, callback) => { callback({ got: q }); });`
///
/// `callback` is the client's own function, called from the server: the
/// answer travels back to that client alone, tagged with its question's id.
pub fn answer_question<A: Adapter>(callback: AckSender<A>, q: Value) -> Result<(), SendError> {
    callback.send(&json!({ "got": q }))
}
// ANCHOR_END: answer_question

// ANCHOR: ignore_question
/// `socket.on('question', (q, callback) => { /* never calls callback */ });`
///
/// The client's callback is simply never called. Nothing tells the client:
/// without a timeout of its own (`socket.timeout(ms).emit(…)`) it would
/// wait for ever.
pub fn ignore_question(_q: Value) {}
// ANCHOR_END: ignore_question
