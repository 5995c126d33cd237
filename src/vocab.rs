//! The words the tutor uses to talk about Socket.IO: what starts a handler, whom an emit reaches,
//! and what a handler declares it does.
//!
//! This module is plain data, with no server and no network in it. The lessons, the runner,
//! `check`, predict mode and the renderers all speak in these terms, and the server handlers in
//! `src/server/handlers/` each *declare* their [`Effect`] in them. So the engine can say "this
//! step's server runs `socket.to(room).emit`, which reaches the room's members but the sender"
//! without knowing which handler, or which lesson, it is looking at.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// What makes a server handler run, as Socket.IO names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trigger {
    /// `io.on('connection', (socket) => { … })`: a socket has just connected.
    Connection,
    /// `socket.on(event, (…args) => { … })`: the socket's client emitted this event.
    Event(String),
    /// `socket.on('disconnect', (reason) => { … })`: the socket has gone.
    Disconnect,
}

impl Trigger {
    /// The name a lesson's TOML uses for it: `connection`, `disconnect`, or the event name.
    pub fn key(&self) -> &str {
        match self {
            Self::Connection => "connection",
            Self::Disconnect => "disconnect",
            Self::Event(name) => name,
        }
    }

    /// Reads a lesson's key back: the two lifecycle names, or else an event name.
    pub fn from_key(key: &str) -> Self {
        match key {
            "connection" => Self::Connection,
            "disconnect" => Self::Disconnect,
            name => Self::Event(name.to_owned()),
        }
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connection => f.write_str("io.on('connection')"),
            Self::Disconnect => f.write_str("socket.on('disconnect')"),
            Self::Event(name) => write!(f, "socket.on('{name}')"),
        }
    }
}

/// Who a server call reaches, in Socket.IO's terms. The JSON names of the first two are the
/// ones lessons 1 to 3 have always used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Audience {
    /// Every connected socket, the one that triggered it included (`io.emit`).
    Everyone,
    /// Every connected socket except the one that triggered it (`socket.broadcast.emit`).
    EveryoneButSender,
    /// Only the socket that triggered it (`socket.emit`, or an acknowledgement).
    OnlySender,
    /// The members of any of these rooms, counted once each, the sender too if it is one
    /// (`io.to('a').to('b').emit`).
    Rooms(Vec<String>),
    /// The members of any of these rooms except the sender (`socket.to(room).emit`).
    RoomsButSender(Vec<String>),
    /// Every connected socket except the members of these rooms (`io.except(room).emit`).
    EveryoneExcept(Vec<String>),
    /// Every socket of the server that runs the handler, and none of the other servers' even
    /// when an adapter joins them (`io.local.emit`).
    ThisServer,
    /// Nobody: the handler sends nothing.
    Nobody,
}

impl Audience {
    /// Does this audience leave the sender out whatever rooms it is in?
    pub fn skips_sender(&self) -> bool {
        matches!(self, Self::EveryoneButSender | Self::RoomsButSender(_))
    }

    /// The rooms the audience is chosen by, if any.
    pub fn rooms(&self) -> &[String] {
        match self {
            Self::Rooms(rooms) | Self::RoomsButSender(rooms) | Self::EveryoneExcept(rooms) => rooms,
            _ => &[],
        }
    }
}

impl Audience {
    /// Is this audience chosen from the server (`io.emit`, `io.to`, `io.except`, `io.local`)
    /// rather than from the socket that runs the handler (`socket.broadcast`, `socket.to`,
    /// `socket.emit`)? In Node `io` is the main namespace, `/`, wherever the handler runs; a
    /// socket's operators stay in the socket's own namespace.
    pub fn from_io(&self) -> bool {
        matches!(
            self,
            Self::Everyone | Self::Rooms(_) | Self::EveryoneExcept(_) | Self::ThisServer
        )
    }
}

/// Which namespace an emit is made in: Socket.IO's sockets, rooms and broadcasts all live
/// inside one namespace, and an emit never leaves the one it is made in.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Namespace {
    /// The one the operator implies (see [`Audience::from_io`]): `io.emit` is `io.of('/')`,
    /// `socket.broadcast.emit` stays in the socket's namespace.
    #[default]
    Implied,
    /// `io.of('/admin').emit(…)`: a namespace named in the code.
    Of(String),
    /// `socket.nsp.emit(…)`: every socket of the namespace the handler's socket is in, the
    /// way a handler of a dynamic namespace reaches its own namespace's sockets.
    Senders,
}

/// What one emit of a handler sends, and to whom: the namespace and the audience in it are the
/// selection socketioxide's broadcast operators make (its `BroadcastOptions`: the namespace,
/// the rooms, the rooms excepted, the sender left out, this server only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emit {
    pub event: String,
    pub args: Vec<Value>,
    pub to: Audience,
    pub nsp: Namespace,
}

impl Emit {
    /// The namespace this emit is made in, for a handler whose socket is in `senders`.
    pub fn namespace<'a>(&'a self, senders: &'a str) -> &'a str {
        match &self.nsp {
            Namespace::Of(nsp) => nsp,
            Namespace::Senders => senders,
            Namespace::Implied if self.to.from_io() => "/",
            Namespace::Implied => senders,
        }
    }
}

/// What a handler declares it does for one call, worked out from the arguments alone (no
/// server involved): the JavaScript it mirrors, what it emits, the rooms it joins, and what it
/// answers through the client's acknowledgement callback.
///
/// The engine reads only this. The server's own tables (which sockets an emit really selected,
/// and why the others were not) are read at run time and reported beside it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Effect {
    /// The JavaScript of the handler's body, as the trace names the action.
    pub js: &'static str,
    /// The event it emits, if any.
    pub emit: Option<Emit>,
    /// Rooms the triggering socket joins (`socket.join(room)`).
    pub joins: Vec<String>,
    /// The arguments it calls the client's acknowledgement callback with (`callback(…)`).
    pub answers: Option<Vec<Value>>,
    /// Its emit asks every socket it reaches for an answer and waits at most this many
    /// milliseconds for them (`socket.timeout(ms).emitWithAck(…)`, `io.timeout(ms).emitWithAck(…)`).
    pub asks_within_ms: Option<u64>,
    /// Every message its emit sends carries one more argument after `emit.args`: the row id the
    /// server stored it under, its *server offset* (`io.emit('chat message', msg, id)`). The id
    /// comes from the database, so it is not declared; only that it is there.
    pub offset: bool,
}

impl Effect {
    /// A handler whose body is `js` and that does nothing visible.
    pub fn quiet(js: &'static str) -> Self {
        Self {
            js,
            ..Self::default()
        }
    }

    /// A handler whose body is `js` and that emits `event` with `args` to `to`.
    pub fn emits(js: &'static str, event: &str, args: Vec<Value>, to: Audience) -> Self {
        Self {
            js,
            emit: Some(Emit {
                event: event.to_owned(),
                args,
                to,
                nsp: Namespace::Implied,
            }),
            ..Self::default()
        }
    }
}

impl Effect {
    /// The same effect, its emit made in namespace `nsp` (`io.of(nsp).emit`, `socket.nsp.emit`).
    pub fn in_namespace(mut self, nsp: Namespace) -> Self {
        if let Some(emit) = &mut self.emit {
            emit.nsp = nsp;
        }
        self
    }
}

/// What came back to whoever asked for an acknowledgement: a client's callback
/// (`socket.emit(ev, data, callback)`), or a server's `emitWithAck`, socket by socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ack {
    /// The other side called the callback with these arguments.
    Answered(Vec<Value>),
    /// Nothing came back within the time the caller gave (`timeout(ms)`).
    TimedOut { after_ms: u64 },
}

/// Why a connected socket did not receive an emit, as the server's tables showed it at emit
/// time. The words are what the trace's why-not column prints.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WhyNot {
    /// The emit leaves out the socket it was made for (`socket.broadcast`, `socket.to`).
    Sender,
    /// The emit goes to rooms, and this socket is in none of them.
    NotInRooms(Vec<String>),
    /// The emit excepts rooms, and this socket is in one of them.
    InExceptedRoom(String),
    /// The emit goes to its sender only.
    NotTheSender,
    /// The handler sent nothing at all.
    NothingSent,
    /// The emit was made in namespace `nsp`, and this client has no socket there: its sockets
    /// are in `theirs` (a namespace's broadcast never reaches another namespace's sockets).
    NotInNamespace { nsp: String, theirs: Vec<String> },
    /// The socket is connected to another server than the one that emitted (`server`), and
    /// nothing carried the emit there: no adapter joins the servers, or the emit was
    /// `io.local` (`local_only`).
    OnAnotherServer {
        server: String,
        emitted_on: String,
        local_only: bool,
    },
}

impl fmt::Display for WhyNot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sender => f.write_str("the sender"),
            Self::NotInRooms(rooms) => {
                let names: Vec<String> = rooms.iter().map(|r| format!("'{r}'")).collect();
                match names.len() {
                    1 => write!(f, "not in room {}", names[0]),
                    _ => write!(f, "in none of the rooms {}", names.join(", ")),
                }
            }
            Self::InExceptedRoom(room) => write!(f, "in excepted room '{room}'"),
            Self::NotTheSender => f.write_str("not the sender"),
            Self::NothingSent => f.write_str("nothing was sent"),
            Self::NotInNamespace { nsp, theirs } => {
                let names: Vec<String> = theirs.iter().map(|n| format!("'{n}'")).collect();
                match names.len() {
                    0 => write!(f, "no socket in namespace '{nsp}'"),
                    _ => write!(f, "no socket in '{nsp}', only in {}", names.join(", ")),
                }
            }
            Self::OnAnotherServer {
                server,
                emitted_on,
                local_only: true,
            } => write!(
                f,
                "on server {server}; io.local.emit stays on server {emitted_on}"
            ),
            Self::OnAnotherServer {
                server, emitted_on, ..
            } => write!(
                f,
                "on server {server}; no adapter carries server {emitted_on}'s emit there"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lesson_one_to_three_audiences_keep_their_json_names() {
        let json = |a: &Audience| serde_json::to_string(a).unwrap();
        assert_eq!(json(&Audience::Everyone), "\"everyone\"");
        assert_eq!(json(&Audience::EveryoneButSender), "\"everyone-but-sender\"");
        assert_eq!(json(&Audience::Rooms(vec!["a".into()])), r#"{"rooms":["a"]}"#);
    }

    #[test]
    fn triggers_read_back_from_their_keys() {
        for t in [
            Trigger::Connection,
            Trigger::Disconnect,
            Trigger::Event("chat message".into()),
        ] {
            assert_eq!(Trigger::from_key(t.key()), t);
        }
    }

    #[test]
    fn reasons_read_as_words() {
        assert_eq!(WhyNot::Sender.to_string(), "the sender");
        assert_eq!(
            WhyNot::NotInRooms(vec!["a".into()]).to_string(),
            "not in room 'a'"
        );
        assert_eq!(
            WhyNot::NotInRooms(vec!["a".into(), "b".into()]).to_string(),
            "in none of the rooms 'a', 'b'"
        );
        assert_eq!(
            WhyNot::InExceptedRoom("a".into()).to_string(),
            "in excepted room 'a'"
        );
    }
}
