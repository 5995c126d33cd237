//! Delivery: a chat that stores every message before it sends it, so that a client that was away
//! can be given what it missed (lesson 6).
//!
//! Socket.IO itself stores nothing: `io.emit` reaches the sockets connected at that moment and
//! forgets the message. The official tutorial's fix has two halves, both here:
//!
//! * **The server offset.** Each message is written to a table first; its row id numbers it, and
//!   travels with it as a last argument: `io.emit('chat message', msg, id)`. The client keeps the
//!   last id it saw in `socket.auth.serverOffset`, and socket.io-client sends `auth` again with
//!   every reconnection, so the connection handler knows where the client stopped and replays
//!   every row after it ([`replay_missed`]), however many there are (see "A long replay" below).
//! * **The client offset.** A client that retries a message (its acknowledgement never came) sends
//!   the same message twice. The client names each message with an offset of its own, stored
//!   under a `UNIQUE` constraint: the second insert is refused, so the retry is stored once and
//!   acknowledged again ([`store_once_then_emit`]).
//!
//! # Where the messages live
//!
//! The handlers do not know which database they write to: they see a [`MessageLog`], two
//! statements wide. The tutor's SQLite store (`parts::store`) is one; the runner and `serve` hand
//! it to the server ([`super::Call::log`]). A stage that lists these handlers and gets no log is
//! refused with a reason, never silently turned into a chat that stores nothing.
//!
//! # A long replay
//!
//! Node's `socket.emit` never refuses a packet: it writes into the socket's memory, however much
//! is waiting. socketioxide gives each socket a bounded outgoing buffer (128 packets,
//! `realtime::SOCKET_BUFFER`), and `socket.emit` on a full one fails at once with
//! `InternalChannelFull`: the packet is dropped. A newcomer with 300 rows to catch up on would
//! get about 128 of them and lose the rest, through no fault of its own.
//!
//! So the replay reads the rows a page at a time (`LIMIT 100`, from the last id it sent, so it
//! never holds the whole table), and when the buffer is full it waits for the client to read
//! and tries again. socketioxide 0.18.9 has no public way to wait for room (its `reserve` is
//! crate-private), so the wait is a retry after a short pause, doubling from 1 ms to 16 ms.
//! The replay also yields after every few rows, which lets the socket's writer (and its
//! heartbeat, whose ping is refused by a full buffer and then closes the connection) run before
//! the buffer fills. A client still on long-polling is sent half a buffer, then the replay waits
//! for its upgrade to WebSocket (bounded by [`UPGRADE_WITHIN`]): socketioxide cannot finish an
//! upgrade that finds the buffer full (see `room.rs`).
//!
//! The server's handlers take turns (see `server::order`), so a replay holds the others up
//! while it waits. Its waits are bounded: a client that makes no room for [`ROOM_WITHIN`], or a
//! replay that has run for [`REPLAY_WITHIN`], stops the replay, and the trace says how far it
//! got and that the rest was lost for that client; a server that begins to stop ends the wait
//! at once.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef};

use super::{Call, Failed, Handle, Handler, Stopping, registry};
use crate::parts::store::{Inserted, Store};
use crate::vocab::{Audience, Effect, Emit};

/// The two statements the delivery handlers need from a database.
pub trait MessageLog: Send + Sync + fmt::Debug {
    /// `INSERT INTO messages (content, client_offset) VALUES (?, ?)`: the new row's id, or `None`
    /// when a row with this client offset exists already (the `UNIQUE` constraint refused it).
    fn insert(&self, content: &str, client_offset: Option<&str>) -> Result<Option<i64>, String>;
    /// `SELECT id, content FROM messages WHERE id > ? ORDER BY id LIMIT ?`: one page of the rows
    /// after `offset`, in id order.
    fn after(&self, offset: i64, limit: usize) -> Result<Vec<(i64, String)>, String>;
}

/// A shared handle on the stage's message log.
pub type Log = Arc<dyn MessageLog>;

/// The tutor's SQLite store is what the delivery handlers write to and replay from: the two
/// statements of [`MessageLog`], and nothing else.
impl MessageLog for Store {
    fn insert(&self, content: &str, client_offset: Option<&str>) -> Result<Option<i64>, String> {
        match Store::insert(self, content, client_offset) {
            Ok(Inserted::New(id)) => Ok(Some(id)),
            Ok(Inserted::Duplicate) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    fn after(&self, offset: i64, limit: usize) -> Result<Vec<(i64, String)>, String> {
        let rows = Store::after(self, offset, limit).map_err(|e| e.to_string())?;
        Ok(rows.into_iter().map(|row| (row.id, row.content)).collect())
    }
}

/// `callback()`: an acknowledgement with no arguments (`43N[]`). An empty array is what serde
/// calls a tuple of length zero, which socketioxide spreads into zero arguments; `()` would
/// send one `null`.
const NO_ARGS: [u8; 0] = [];

/// The event the delivery chat uses.
const CHAT: &str = "chat message";

/// How many rows one SELECT of a replay reads.
pub const PAGE: usize = 100;

mod room;
use room::Room;
pub use room::{REPLAY_WITHIN, ROOM_WITHIN, UPGRADE_WITHIN};

/// This file's handlers, as the registry lists them.
pub fn handlers<A: Adapter>() -> Vec<Handler<A>> {
    registry![A; StoreThenEmit, StoreOnceThenEmit, ReplayMissed]
}

/// `INSERT`, then `io.emit('chat message', msg, id)`, for each chat message.
#[derive(Debug)]
pub struct StoreThenEmit {
    msg: String,
}

impl Handle for StoreThenEmit {
    const NAME: &'static str = "store-then-emit";
    const ON: &'static str = CHAT;
    const ANCHOR: &'static str = "store_then_emit";

    fn parse(args: &[Value]) -> Result<Self, String> {
        Ok(Self { msg: text_arg(args)? })
    }

    fn effect(&self) -> Effect {
        let js = "INSERT, then io.emit('chat message', msg, id)";
        with_offset(js, self.msg.clone(), Audience::Everyone)
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        let log = need_log(&call.log)?;
        store_then_emit(&call.io, log, &self.msg).await
    }
}

/// `INSERT` once per client offset, then `io.emit('chat message', msg, id)` and `callback()`,
/// for each `chat message (msg, clientOffset, callback)`.
#[derive(Debug)]
pub struct StoreOnceThenEmit {
    msg: String,
    client_offset: String,
}

impl Handle for StoreOnceThenEmit {
    const NAME: &'static str = "store-once-then-emit";
    const ON: &'static str = CHAT;
    const ANCHOR: &'static str = "store_once_then_emit";

    fn parse(args: &[Value]) -> Result<Self, String> {
        Ok(Self {
            msg: text_arg(args)?,
            client_offset: client_offset_arg(args)?,
        })
    }

    fn effect(&self) -> Effect {
        let js = "INSERT once per clientOffset, then io.emit('chat message', msg, id); callback()";
        Effect {
            answers: Some(Vec::new()),
            ..with_offset(js, self.msg.clone(), Audience::Everyone)
        }
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        let log = need_log(&call.log)?;
        store_once_then_emit(&call.io, log, &self.msg, &self.client_offset, call.ack).await
    }
}

/// `socket.emit('chat message', content, id)` for each row after the client's
/// `auth.serverOffset`, when a socket connects.
#[derive(Debug)]
pub struct ReplayMissed;

impl Handle for ReplayMissed {
    const NAME: &'static str = "replay-missed";
    const ON: &'static str = "connection";
    const ANCHOR: &'static str = "replay_missed";

    fn parse(_: &[Value]) -> Result<Self, String> {
        Ok(Self)
    }

    fn effect(&self) -> Effect {
        let js = "socket.emit('chat message', …) for each row after auth.serverOffset";
        Effect {
            emit: Some(Emit {
                event: CHAT.to_owned(),
                args: Vec::new(),
                to: Audience::OnlySender,
                nsp: Default::default(),
            }),
            offset: true,
            ..Effect::quiet(js)
        }
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        let log = need_log(&call.log)?;
        replay_missed(&call.socket, log, &call.auth, &call.stopping).await
    }
}

/// The declared effect of a storing chat: `msg` to `to`, followed by its server offset.
fn with_offset(js: &'static str, msg: String, to: Audience) -> Effect {
    Effect {
        offset: true,
        ..Effect::emits(js, CHAT, vec![Value::from(msg)], to)
    }
}

fn need_log(log: &Option<Log>) -> Result<Log, Failed> {
    log.clone()
        .ok_or_else(|| Failed::from("this stage's server has no message database"))
}

/// The message: the tutorial's table stores text.
fn text_arg(args: &[Value]) -> Result<String, String> {
    match args.first() {
        Some(Value::String(msg)) => Ok(msg.clone()),
        Some(other) => Err(format!("the message should be a string, not {other}")),
        None => Err("the message is missing".into()),
    }
}

/// The client offset: the second argument, a string the client chose for this message.
fn client_offset_arg(args: &[Value]) -> Result<String, String> {
    match args.get(1) {
        Some(Value::String(offset)) if !offset.is_empty() => Ok(offset.clone()),
        Some(other) => Err(format!("the client offset should be a string, not {other}")),
        None => Err("the client offset (the second argument) is missing".into()),
    }
}

// ANCHOR: store_then_emit
/// ```js
/// socket.on('chat message', async (msg) => {
///   let result;
///   try {
///     result = await db.run('INSERT INTO messages (content) VALUES (?)', msg);
///   } catch (e) {
///     return; // not stored: not sent either
///   }
///   io.emit('chat message', msg, result.lastID);
/// });
/// ```
///
/// Stored first, sent second: a message everyone saw is always one a
/// reconnecting client can be given again. The row id goes out with it, so
/// each client knows how far it has read.
pub async fn store_then_emit<A: Adapter>(io: &SocketIo<A>, log: Log, msg: &str) -> Result<(), Failed> {
    let Some(id) = log.insert(msg, None).map_err(Failed::sent_nothing)? else {
        return Err(Failed::sent_nothing("no row was stored"));
    };
    io.emit(CHAT, &(msg, id)).await?;
    Ok(())
}
// ANCHOR_END: store_then_emit

// ANCHOR: store_once_then_emit
/// ```js
/// socket.on('chat message', async (msg, clientOffset, callback) => {
///   let result;
///   try {
///     result = await db.run(
///       'INSERT INTO messages (content, client_offset) VALUES (?, ?)',
///       msg, clientOffset);
///   } catch (e) {
///     if (e.errno === 19 /* SQLITE_CONSTRAINT */) {
///       callback(); // stored before: a retry whose first ack was lost
///     }
///     return;
///   }
///   io.emit('chat message', msg, result.lastID);
///   callback();
/// });
/// ```
///
/// `client_offset` is `UNIQUE`, so a message sent twice is stored once: the
/// retry is acknowledged, and nobody sees it a second time.
pub async fn store_once_then_emit<A: Adapter>(
    io: &SocketIo<A>,
    log: Log,
    msg: &str,
    client_offset: &str,
    callback: Option<AckSender<A>>,
) -> Result<(), Failed> {
    let Some(id) = log
        .insert(msg, Some(client_offset))
        .map_err(Failed::sent_nothing)?
    else {
        // A duplicate: already stored and sent; only the acknowledgement was missing.
        if let Some(callback) = callback {
            callback.send(&NO_ARGS)?;
        }
        return Ok(());
    };
    io.emit(CHAT, &(msg, id)).await?;
    if let Some(callback) = callback {
        callback.send(&NO_ARGS)?;
    }
    Ok(())
}
// ANCHOR_END: store_once_then_emit

// ANCHOR: replay_missed
/// ```js
/// io.on('connection', async (socket) => {
///   // ... socket.on('chat message', ...) as above ...
///   await db.each('SELECT id, content FROM messages WHERE id > ?',
///     [socket.handshake.auth.serverOffset || 0],
///     (_err, row) => { socket.emit('chat message', row.content, row.id); });
/// });
/// ```
///
/// `auth` is what the client sent in its CONNECT packet (`40{"serverOffset":2}`),
/// and socket.io-client sends it again on every reconnection: the server
/// learns where this client stopped reading, and sends it the rest, in order.
///
/// Node writes every row into the socket's memory at once. socketioxide's
/// buffer holds 128 packets, so the rows are read 100 at a time, and each
/// one waits for room if the client has not read the ones before yet.
pub async fn replay_missed<A: Adapter>(
    socket: &SocketRef<A>,
    log: Log,
    auth: &Value,
    stopping: &Stopping,
) -> Result<(), Failed> {
    let mut offset = auth.get("serverOffset").and_then(Value::as_i64).unwrap_or(0);
    let mut room = Room::new(stopping);
    loop {
        let page = log.after(offset, PAGE).map_err(|e| room.stopped(e, offset))?;
        for (id, content) in &page {
            room.emit(socket, &(content, id))
                .await
                .map_err(|e| room.stopped(e, offset))?;
            offset = *id;
        }
        if page.len() < PAGE {
            return Ok(());
        }
    }
}
// ANCHOR_END: replay_missed
