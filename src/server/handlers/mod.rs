//! The server handlers the lessons choose from: one small named function per JavaScript form,
//! grouped by topic, one file per topic (the way mini-redis keeps one command per file).
//!
//! | file            | what it teaches                                               |
//! |-----------------|---------------------------------------------------------------|
//! | [`broadcast`]   | `io.emit` and `socket.broadcast.emit` (lessons 2 and 3)        |
//! | [`rooms`]       | `socket.join`, `io.to`, `socket.to`, `io.except` (lesson 4)    |
//! | [`acks`]        | acknowledgements, either way round: `callback`, `emitWithAck` (lesson 5) |
//! | [`handshake`]   | what a client sends when it connects (`socket.handshake`)     |
//! | [`delivery`]    | store before emit, server and client offsets (lesson 6)        |
//! | [`scaling`]     | `io.local.emit`: a broadcast that stays on one server (lesson 7) |
//! | [`namespaces`]  | `io.of(nsp)`, middleware, `socket.data`, dynamic namespaces (lesson 8) |
//!
//! Each handler is a type that implements [`Handle`], the way mini-redis makes each command a
//! type: its fields are the event's arguments, read once by [`Handle::parse`]; [`Handle::effect`]
//! says what it will do, from those fields alone (its [`Effect`], in the words of
//! [`crate::vocab`]); and [`Handle::apply`] does it with socketioxide, through the small function
//! between `ANCHOR` comments that the lesson shows next to the JavaScript. Its name (what a
//! lesson's `lesson.toml` lists), the trigger it answers and its anchor are constants of the
//! type, written once.
//!
//! Each file's `handlers()` lists its types with [`registry!`], which also takes the file's path
//! from the compiler. The engine sees them as [`Handler`] values and reads only the declared
//! effect; it never names a handler. Adding a behaviour is one type and its body in one of these
//! files, plus its name in that file's list.
//!
//! # Generic over the adapter
//!
//! socketioxide keeps its rooms and its list of sockets in an *adapter*. The default one,
//! `LocalAdapter`, keeps them in this process's memory; `socketioxide-redis` keeps them in Redis,
//! so that several server processes share them. Every handler here is written once, for any
//! adapter `A` (`SocketIo<A>`, `SocketRef<A>`), so a stage can run the very same code on either.

pub mod acks;
pub mod broadcast;
pub mod delivery;
pub mod handshake;
pub mod namespaces;
pub mod rooms;
pub mod scaling;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::{Adapter, LocalAdapter};
use socketioxide::extract::{AckSender, SocketRef};

use crate::vocab::{Ack, Effect, Trigger};

/// A handler's body, once called: a future that says whether it did what it declared.
pub type Running = Pin<Box<dyn Future<Output = Result<(), Failed>> + Send>>;

/// Why a handler did not do what it declared: in words, how many of the sockets its emit
/// selected had a full outgoing buffer (see [`super::observe::live`]), and how far it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    pub reason: String,
    pub full_buffers: usize,
    /// Every socket the emit failed for had closed meanwhile: the others got it, and a socket
    /// that is gone cannot miss anything. Not a failure of the handler (see `realtime::run`).
    pub only_closed: bool,
    /// How far the handler got before it failed: what the trace may say it sent.
    pub reached: Reached,
}

/// How far a failed handler got, which decides whom the trace says it sent to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Reached {
    /// Its emit ran: it was sent to the sockets the server saw it select, except those the
    /// adapter named with a full buffer.
    #[default]
    Emit,
    /// It failed before it queued anything (the INSERT or the SELECT failed): it was sent to
    /// nobody.
    Nobody,
    /// It sent part of what it declared to its own socket, whose buffer then stayed full (a
    /// replay whose client did not read): the rest is lost for that socket.
    LostForSender,
}

impl Failed {
    /// A failure before anything was queued: see [`Reached::Nobody`].
    pub fn sent_nothing(reason: impl Into<String>) -> Self {
        Self {
            reached: Reached::Nobody,
            ..Self::from(reason.into())
        }
    }
}

impl From<String> for Failed {
    fn from(reason: String) -> Self {
        Self {
            reason,
            full_buffers: 0,
            only_closed: false,
            reached: Reached::Emit,
        }
    }
}

impl From<&str> for Failed {
    fn from(reason: &str) -> Self {
        reason.to_owned().into()
    }
}

impl From<socketioxide::BroadcastError> for Failed {
    /// An adapter's error means the broadcast reached nobody: the Redis adapter publishes to the
    /// other servers *before* it sends to this server's sockets, and returns at once when the
    /// publish fails (Redis gone: "broken pipe"). A packet that cannot be serialized is sent to
    /// nobody either. Socket errors come after the sends, from the sockets that could not take
    /// the packet.
    fn from(error: socketioxide::BroadcastError) -> Self {
        let only_closed = matches!(&error, socketioxide::BroadcastError::Socket(errors)
            if errors.iter().all(|e| matches!(e, socketioxide::SocketError::Closed)));
        let reached = match &error {
            socketioxide::BroadcastError::Adapter(_) | socketioxide::BroadcastError::Serialize(_) => {
                Reached::Nobody
            }
            _ => Reached::Emit,
        };
        Self {
            full_buffers: super::observe::live::full_buffers(&error),
            reason: error.to_string(),
            only_closed,
            reached,
        }
    }
}

impl From<socketioxide::SendError> for Failed {
    fn from(error: socketioxide::SendError) -> Self {
        let full = matches!(
            error,
            socketioxide::SendError::Socket(socketioxide::SocketError::InternalChannelFull)
        );
        Self {
            full_buffers: usize::from(full),
            reason: error.to_string(),
            only_closed: false,
            reached: Reached::Emit,
        }
    }
}

/// Everything one call of a handler receives: the socket it runs for, the server, the event's
/// arguments (empty for `connection`), the client's acknowledgement callback when it sent
/// one, the `auth` object of the client's CONNECT packet (`socket.handshake.auth`, `null` when
/// it sent none), the stage's message database, for the stages that have one, and whether the
/// server has begun to stop.
pub struct Call<A: Adapter = LocalAdapter> {
    pub socket: SocketRef<A>,
    pub io: SocketIo<A>,
    pub args: Vec<Value>,
    pub ack: Option<AckSender<A>>,
    /// Where a handler that asks for acknowledgements (`emitWithAck`) writes what came back.
    pub came_back: CameBack,
    pub auth: Value,
    pub log: Option<delivery::Log>,
    /// A handler that waits (a replay waiting for its client to read) stops waiting once the
    /// server has begun to stop.
    pub stopping: Stopping,
}

/// Whether the server has begun to stop. Set by the server before it waits for the handler
/// under way to finish its emit, so that a handler that waits on a client gives up instead of
/// holding the shutdown up. Cloning shares the flag.
#[derive(Debug, Clone, Default)]
pub struct Stopping(Arc<std::sync::atomic::AtomicBool>);

impl Stopping {
    /// Says that the server is stopping; every clone sees it from now on.
    pub fn begin(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether [`Stopping::begin`] has been called.
    pub fn now(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// What came back to a handler's `emitWithAck`, socket by socket, in the order it came: an
/// answer, or the handler's timer running out first. The handler writes each result as it
/// arrives; once the handler has finished, the server reports them all to the tutor
/// (`ServerEvent::Acked`), so the trace says who answered what from the server's side.
///
/// One per call, and a call asks each socket once: it holds at most one entry per socket.
#[derive(Debug, Clone, Default)]
pub struct CameBack(Arc<Mutex<Vec<(String, Ack)>>>);

impl CameBack {
    /// Notes what came back from socket `sid`.
    pub fn record(&self, sid: impl fmt::Display, ack: Ack) {
        if let Ok(mut list) = self.0.lock() {
            list.push((sid.to_string(), ack));
        }
    }

    /// Takes everything noted so far.
    pub fn take(&self) -> Vec<(String, Ack)> {
        self.0
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }
}

impl<A: Adapter> fmt::Debug for Call<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("socket", &self.socket.id)
            .field("args", &self.args)
            .field("ack", &self.ack.is_some())
            .finish_non_exhaustive()
    }
}

/// A handler whose arguments have been read: its declared effect, and its body, ready to run.
pub type Started = (Effect, Running);

/// One handler type: see the module documentation.
pub trait Handle: Sized + Send + 'static {
    /// The name a lesson lists it by, e.g. `io-emit-chat`.
    const NAME: &'static str;
    /// `connection`, `disconnect`, or the event it is registered for.
    const ON: &'static str;
    /// The ANCHOR of its body in its file, shown beside the JavaScript.
    const ANCHOR: &'static str;

    /// Reads the event's arguments (for `connection`, the client's `auth`) into the handler's
    /// fields. An error says why they do not fit: a lesson that sends them is refused at load,
    /// a client that sends them at run time gets that reason on the trace.
    fn parse(args: &[Value]) -> Result<Self, String>;

    /// Reads what the handler uses from its socket beyond the event's arguments
    /// (`socket.data`), before [`Handle::effect`] is asked at run time. Most need nothing.
    fn read_socket<A: Adapter>(&mut self, _socket: &SocketRef<A>) {}

    /// The same, before the handler runs: what it will find in `socket.data`, worked out from
    /// the `auth` the client connects with, the way the stage's middleware keeps it. The tutor
    /// declares an effect this way where no socket is at hand (a lesson's steps, and `check`,
    /// against a server it does not run).
    fn read_auth(&mut self, _auth: &Value) {}

    /// What it will do, worked out from its fields alone: no clock.
    fn effect(&self) -> Effect;

    /// Does it, for the socket and server in `call`.
    fn apply<A: Adapter>(self, call: Call<A>) -> impl Future<Output = Result<(), Failed>> + Send;
}

/// One handler as the engine sees it, whatever its type: what [`registry!`] makes of a
/// [`Handle`].
pub struct Handler<A: Adapter = LocalAdapter> {
    /// [`Handle::NAME`].
    pub name: &'static str,
    /// [`Handle::ON`].
    pub on: &'static str,
    /// The source file of its code, as the compiler names it, and [`Handle::ANCHOR`].
    pub file: &'static str,
    pub anchor: &'static str,
    /// [`Handle::parse`], then [`Handle::effect`]: what it does with these arguments.
    pub declare: fn(&[Value]) -> Result<Effect, String>,
    /// [`Handler::declare`] for a client that connected with this `auth` ([`Handle::read_auth`]).
    pub declare_as: fn(&[Value], &Value) -> Result<Effect, String>,
    /// Parses the call's arguments once, and hands back the declared effect and the body, ready
    /// to run.
    pub start: fn(Call<A>) -> Result<Started, String>,
}

impl<A: Adapter> Handler<A> {
    /// The entry of handler type `H`, whose code is in `file`.
    pub fn of<H: Handle>(file: &'static str) -> Self {
        Self {
            name: H::NAME,
            on: H::ON,
            file,
            anchor: H::ANCHOR,
            declare: |args| H::parse(args).map(|h| h.effect()),
            declare_as: |args, auth| {
                let mut handler = H::parse(args)?;
                handler.read_auth(auth);
                Ok(handler.effect())
            },
            start: |call| {
                let mut handler = H::parse(&call.args)?;
                handler.read_socket(&call.socket);
                let effect = handler.effect();
                Ok((effect, Box::pin(handler.apply(call))))
            },
        }
    }

    /// The trigger it answers.
    pub fn trigger(&self) -> Trigger {
        Trigger::from_key(self.on)
    }
}

/// `registry![A; TypeA, TypeB]`: the [`Handler`] entries of a file's handler types, for adapter
/// `A`, each with the path of the file the macro is written in.
macro_rules! registry {
    ($adapter:ty; $($handler:ty),+ $(,)?) => {
        vec![$($crate::server::handlers::Handler::<$adapter>::of::<$handler>(file!())),+]
    };
}
pub(crate) use registry;

impl<A: Adapter> fmt::Debug for Handler<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handler")
            .field("name", &self.name)
            .field("on", &self.on)
            .finish_non_exhaustive()
    }
}

impl<A: Adapter> Clone for Handler<A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A: Adapter> Copy for Handler<A> {}

impl<A: Adapter> PartialEq for Handler<A> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl<A: Adapter> Eq for Handler<A> {}

/// Every handler, for adapter `A`.
pub fn all<A: Adapter>() -> Vec<Handler<A>> {
    [
        broadcast::handlers(),
        rooms::handlers(),
        acks::handlers(),
        handshake::handlers(),
        delivery::handlers(),
        scaling::handlers(),
        namespaces::handlers(),
    ]
    .concat()
}

/// The handler called `name`, for adapter `A`.
pub fn find<A: Adapter>(name: &str) -> Option<Handler<A>> {
    all().into_iter().find(|h| h.name == name)
}

/// The names of the registry's handlers, for error messages.
pub fn names() -> Vec<&'static str> {
    all::<LocalAdapter>().iter().map(|h| h.name).collect()
}

/// Argument `i`, or `null` when the client sent fewer (as a JavaScript parameter would be
/// `undefined`).
pub fn arg(args: &[Value], i: usize) -> Value {
    args.get(i).cloned().unwrap_or(Value::Null)
}

/// The longest room name a handler accepts, in bytes. Socket.IO sets no limit: a room is a key
/// in the server's table, kept as long as a socket is in it, so a client that may name rooms
/// could otherwise make the server keep whatever it sends. A name is a label, and short.
pub const MAX_ROOM_NAME: usize = 128;

/// The argument `i` as a room name: rooms are strings in Socket.IO (at most [`MAX_ROOM_NAME`]
/// bytes here).
pub fn room_arg(args: &[Value], i: usize) -> Result<String, String> {
    match args.get(i) {
        Some(Value::String(room)) if room.len() > MAX_ROOM_NAME => Err(format!(
            "argument {} is a room name of {} bytes, longer than the {MAX_ROOM_NAME} this server \
             accepts",
            i + 1,
            room.len()
        )),
        Some(Value::String(room)) if !room.is_empty() => Ok(room.clone()),
        Some(other) => Err(format!(
            "argument {} should be a room name (a string), not {other}",
            i + 1
        )),
        None => Err(format!(
            "argument {} should be a room name, and there is none",
            i + 1
        )),
    }
}
