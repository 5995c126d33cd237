//! Acknowledgements: an answer that goes back to the one who asked.
//!
//! A client that calls `socket.emit('question', q, (answer) => { … })` sends the event with an
//! id (`421["question",…]`). The server's handler receives a `callback` as its last argument;
//! calling it sends an ACK packet with the same id (`431[…]`) to that client only, and its
//! callback runs. No other client sees anything: an acknowledgement is not an emit.
//!
//! The server can ask too. `socket.timeout(300).emitWithAck('question', 'ready?')` sends the
//! event with an id of the server's choosing, and the client's listener answers through *its*
//! callback; `io.timeout(300).emitWithAck(…)` asks every connected socket at once. Either way the
//! server's timer is the only thing that ends the wait for a client that never answers: the
//! protocol has no packet for "I will not answer". socketioxide hands the answers back as an
//! `AckStream` (`socketioxide::ack::AckStream`): awaited, the one answer of one socket; read as a
//! stream, `(socket id, answer or error)` for each socket asked, in the order they come.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef};
use socketioxide::{AckError, SendError, SocketIo};

use super::{Call, CameBack, Failed, Handle, Handler, arg, registry};
use crate::server::message::Args;
use crate::vocab::{Ack, Audience, Effect};

/// How long the server's `emitWithAck` waits for each answer: `timeout(300)`. Real, because the
/// timeout is what these stages teach, and short, because a lesson runs in milliseconds; but
/// not shorter: the answering client races this timer, and on a loaded machine (two test suites
/// on two cores) an answer once took longer than 100 ms, which turned "answered" into "timed
/// out" in the trace. A client on this machine answers in about a millisecond.
pub const ASK_WITHIN: Duration = Duration::from_millis(300);

/// This file's handlers, as the registry lists them.
pub fn handlers<A: Adapter>() -> Vec<Handler<A>> {
    registry![A; AnswerQuestion, IgnoreQuestion, AskNewcomer, PollEveryone]
}

/// `callback({ got: q })` for each `question (q, callback)`.
#[derive(Debug)]
pub struct AnswerQuestion {
    q: Value,
}

impl Handle for AnswerQuestion {
    const NAME: &'static str = "answer-question";
    const ON: &'static str = "question";
    const ANCHOR: &'static str = "answer_question";

    fn parse(args: &[Value]) -> Result<Self, String> {
        Ok(Self { q: arg(args, 0) })
    }

    fn effect(&self) -> Effect {
        Effect {
            answers: Some(vec![json!({ "got": self.q })]),
            ..Effect::quiet("callback({ got: q })")
        }
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        match call.ack {
            Some(callback) => Ok(answer_question(callback, self.q)?),
            None => Err(Failed::from("the client sent no callback to answer")),
        }
    }
}

/// A `question (q, callback)` handler that never calls `callback`.
#[derive(Debug)]
pub struct IgnoreQuestion {
    q: Value,
}

impl Handle for IgnoreQuestion {
    const NAME: &'static str = "ignore-question";
    const ON: &'static str = "question";
    const ANCHOR: &'static str = "ignore_question";

    fn parse(args: &[Value]) -> Result<Self, String> {
        Ok(Self { q: arg(args, 0) })
    }

    fn effect(&self) -> Effect {
        Effect::quiet("nothing (callback is never called)")
    }

    async fn apply<A: Adapter>(self, _: Call<A>) -> Result<(), Failed> {
        ignore_question(self.q);
        Ok(())
    }
}

/// `socket.timeout(300).emitWithAck('question', 'ready?')` when a socket connects.
#[derive(Debug)]
pub struct AskNewcomer;

impl Handle for AskNewcomer {
    const NAME: &'static str = "ask-newcomer";
    const ON: &'static str = "connection";
    const ANCHOR: &'static str = "ask_newcomer";

    fn parse(_: &[Value]) -> Result<Self, String> {
        Ok(Self)
    }

    fn effect(&self) -> Effect {
        let js = "socket.timeout(300).emitWithAck('question', 'ready?')";
        Effect {
            asks_within_ms: Some(ASK_WITHIN.as_millis() as u64),
            ..Effect::emits(js, "question", vec![json!("ready?")], Audience::OnlySender)
        }
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        ask_newcomer(call.socket, call.came_back).await
    }
}

/// `io.timeout(300).emitWithAck('question', q)` for each `poll (q)`.
#[derive(Debug)]
pub struct PollEveryone {
    q: Value,
}

impl Handle for PollEveryone {
    const NAME: &'static str = "poll-everyone";
    const ON: &'static str = "poll";
    const ANCHOR: &'static str = "poll_everyone";

    fn parse(args: &[Value]) -> Result<Self, String> {
        Ok(Self { q: arg(args, 0) })
    }

    fn effect(&self) -> Effect {
        let js = "io.timeout(300).emitWithAck('question', q)";
        Effect {
            asks_within_ms: Some(ASK_WITHIN.as_millis() as u64),
            ..Effect::emits(js, "question", vec![self.q.clone()], Audience::Everyone)
        }
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        poll_everyone(call.io, self.q, call.came_back).await
    }
}

/// One socket's result as the trace states it: its answer, or the timer that ran out. `None`
/// for a socket that closed while the server waited: it is gone, and answers nothing.
fn came(result: Result<Args, AckError>) -> Option<Ack> {
    match result {
        Ok(Args(answer)) => Some(Ack::Answered(answer)),
        Err(AckError::Timeout) => Some(Ack::TimedOut {
            after_ms: ASK_WITHIN.as_millis() as u64,
        }),
        Err(_) => None,
    }
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

// ANCHOR: ask_newcomer
/// ```js
/// io.on('connection', async (socket) => {
///   try {
///     const answer = await socket.timeout(300).emitWithAck('question', 'ready?');
///   } catch (err) {
///     // no answer within 300 ms
///   }
/// });
/// ```
///
/// The question goes out with an id (`421["question","ready?"]`); awaiting the `AckStream`
/// gives this one socket's answer, or `AckError::Timeout` once 300 ms have passed without one.
pub async fn ask_newcomer<A: Adapter>(socket: SocketRef<A>, came_back: CameBack) -> Result<(), Failed> {
    let asking = socket
        .timeout(ASK_WITHIN)
        .emit_with_ack::<_, Args>("question", "ready?")?;
    let answer = asking.await; // Ok(answer), or Err(AckError::Timeout)
    if let Some(result) = came(answer) {
        came_back.record(socket.id, result);
    }
    Ok(())
}
// ANCHOR_END: ask_newcomer

// ANCHOR: poll_everyone
/// ```js
/// socket.on('poll', async (q) => {
///   try {
///     const answers = await io.timeout(300).emitWithAck('question', q);
///   } catch (err) {
///     // someone did not answer within 300 ms; err.responses holds the answers that came
///   }
/// });
/// ```
///
/// One question to every socket, each with its own id. socketioxide's `AckStream` then yields
/// `(socket id, answer)` for each of them as it comes, and a timeout error for each socket
/// still silent after 300 ms: the stream ends when every socket has answered or timed out.
pub async fn poll_everyone<A: Adapter>(io: SocketIo<A>, q: Value, came_back: CameBack) -> Result<(), Failed> {
    let answers = io
        .timeout(ASK_WITHIN)
        .emit_with_ack::<_, Args>("question", &q)
        .await
        .map_err(|e| Failed::from(e.to_string()))?;
    let mut answers = std::pin::pin!(answers);
    while let Some((sid, answer)) = answers.next().await {
        if let Some(result) = came(answer) {
            came_back.record(sid, result);
        }
    }
    Ok(())
}
// ANCHOR_END: poll_everyone
