//! What a server can truthfully say about its own deliveries: the plumbing behind `serve`'s live
//! trace.
//!
//! # Queued is not received
//!
//! When a handler runs `io.emit('chat message', msg)`, socketioxide looks up which sockets the
//! call selects (every socket of the namespace for `io.emit`, all but one for
//! `socket.broadcast.emit`), encodes the packet once, and pushes it onto each selected socket's
//! outgoing queue. The `.await` returns as soon as the packet is *queued*. A writer task then
//! copies it onto that socket's TCP connection, and later still the browser on the other end
//! reads the frame and runs its `socket.on('chat message')` callback.
//!
//! So the server knows whom it queued a packet for, and nothing beyond that: it cannot see a tab
//! draw the message, nor tell a tab that was closed a millisecond later. The live trace therefore
//! says **"sent to"** for what the server did, and keeps **"read"** for what a client reported
//! having read off its own socket (the tutor's simulated clients do).
//!
//! # Which sockets an emit was queued for
//!
//! socketioxide does not hand back the list of sockets it sent to. It can list the sockets a
//! broadcast *would* select (`io.broadcast().sockets()`, `socket.broadcast().sockets()`), using
//! the same table the emit reads. [`observe`] reads that table just before and just after the
//! emit. A socket in both lists was selected by the emit; a socket in only one of them joined or
//! left while the emit was running, and is reported as such ([`Recipients::unsure`]) rather than
//! guessed. Socket.IO has no lock a handler could take to make the two reads one instant, and the
//! window between them is a few microseconds, so in practice `unsure` is almost always empty.

//! # Why the others did not receive it
//!
//! For every connected socket the emit did not select, [`observe`] also says why, from the same
//! tables, read just before the emit: it is the sender and the call leaves the sender out; it is
//! in none of the rooms the call goes to (`socket.rooms()`); or it is in a room the call excepts.
//! That is the server's own account, never the lesson's expectation.
//!
//! # A full buffer is a loss, not a delivery
//!
//! Each socket has a bounded outgoing queue in socketioxide. When a client does not read fast
//! enough, the queue fills and the emit fails for that socket with `InternalChannelFull`: the
//! packet is dropped. The error socketioxide returns lists one error per failed socket but not
//! which socket it was, so [`Recipients::full`] counts them, and the stage servers' adapter
//! ([`super::tally`]) names them in [`Recipients::dropped`]: the live trace says "lost for bob"
//! instead of "sent".

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use socketioxide::{BroadcastError, SocketError};

use crate::vocab::{Audience, WhyNot};

/// Who an emit was queued for, by socket id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipients {
    /// Selected by the emit, and connected before and after it: the packet was queued for them
    /// (unless their buffer was full, see `full`).
    pub to: Vec<String>,
    /// Connected, but not selected: the sender of a `socket.broadcast.emit`, a non-member of
    /// the room.
    pub skipped: Vec<String>,
    /// Joined or left while the emit ran: the server cannot say whether the packet was queued.
    pub unsure: Vec<String>,
    /// Why each skipped socket was not selected, read from the server's tables.
    pub why_not: BTreeMap<String, WhyNot>,
    /// How many selected sockets had a full outgoing buffer, so the packet was dropped for them.
    pub full: usize,
    /// Selected, but the packet was *not* queued: the socket's outgoing buffer was full
    /// (socketioxide's `SocketError::InternalChannelFull`, `max_buffer_size` packets waiting for
    /// a client that does not read). The live trace lists these apart from "sent to".
    /// socketioxide's errors say *that* a socket's buffer was full, not *which*; the stage
    /// servers' adapter ([`super::tally`]) names them. On another adapter (lesson 7's Redis
    /// nodes) this stays empty and only [`Recipients::full`], the count, is known.
    pub dropped: Vec<String>,
    /// The emit failed before it queued anything, on this server or any other (its INSERT, or
    /// the adapter's publish to Redis): it reached nobody, and another server's part of it
    /// (lesson 7's "via B") must not be claimed either.
    pub reached_nobody: bool,
}

/// Who a socket says it is, read from its handshake request: its query parameters and its
/// `User-Agent`. The realtime server reports this from a connect middleware, which socketioxide
/// runs *before* it adds the socket to the namespace: so the report is on the channel before any
/// emit can select that socket, and whoever reads the reports in order knows every socket an
/// emit names.
pub fn identify<A: Adapter>(socket: &SocketRef<A>) -> super::super::ServerEvent {
    let parts = socket.req_parts();
    let query = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let user_agent = parts
        .headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    super::super::ServerEvent::Handshake {
        sid: socket.id.to_string(),
        query,
        user_agent,
    }
}

/// The socket ids connected to namespace `nsp` right now.
///
/// `io.of(nsp)` rather than `io.sockets()`: the latter panics once the server has been closed,
/// and a handler may still be running while the tutor shuts down.
fn connected<A: Adapter>(io: &SocketIo<A>, nsp: &str) -> BTreeSet<String> {
    io.of(nsp)
        .map(|ns| ns.sockets().iter().map(|s| s.id.to_string()).collect())
        .unwrap_or_default()
}

/// Every socket id connected to some other namespace than `nsp`, with the namespaces it is in
/// (the tutor's own round-trip namespaces aside). socketioxide gives a client's sockets on every
/// namespace the id of its Engine.IO session, so an id here names a client.
fn elsewhere<A: Adapter>(io: &SocketIo<A>, nsp: &str) -> BTreeMap<String, Vec<String>> {
    let mut theirs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for space in io.nsps() {
        for socket in space.sockets() {
            let name = socket.ns();
            if name != nsp {
                theirs
                    .entry(socket.id.to_string())
                    .or_default()
                    .push(name.to_owned());
            }
        }
    }
    theirs
}

fn ids<A: Adapter>(sockets: Vec<SocketRef<A>>) -> BTreeSet<String> {
    sockets.iter().map(|s| s.id.to_string()).collect()
}

/// The socket ids an emit to `audience`, made on behalf of `socket`, selects right now: the
/// same operators the handlers use, asked for their sockets instead of emitting.
fn selected<A: Adapter>(
    io: &SocketIo<A>,
    socket: &SocketRef<A>,
    audience: &Audience,
    nsp: &str,
) -> BTreeSet<String> {
    let Some(space) = io.of(nsp) else {
        return BTreeSet::new();
    };
    match audience {
        Audience::Everyone => connected(io, nsp),
        Audience::EveryoneButSender => ids(socket.broadcast().sockets()),
        Audience::OnlySender => BTreeSet::from([socket.id.to_string()]),
        Audience::Rooms(rooms) => ids(space.to(rooms.clone()).sockets()),
        Audience::RoomsButSender(rooms) => ids(socket.to(rooms.clone()).sockets()),
        Audience::EveryoneExcept(rooms) => ids(space.except(rooms.clone()).sockets()),
        Audience::ThisServer => ids(space.local().sockets()),
        Audience::Nobody => BTreeSet::new(),
    }
}

/// Why socket `sid` is not among those `audience` selects, from its rooms as the server holds
/// them now.
fn why_not<A: Adapter>(
    io: &SocketIo<A>,
    sender: &SocketRef<A>,
    sid: &str,
    audience: &Audience,
    nsp: &str,
) -> Option<WhyNot> {
    let is_sender = sender.id.to_string() == sid;
    if is_sender && audience.skips_sender() {
        return Some(WhyNot::Sender);
    }
    by_rooms(io, is_sender, sid, audience, nsp)
}

/// Why socket `sid`, connected to this server (`io`), was not selected by a broadcast to
/// `audience` that another server made and the adapter carried here: the rooms it is in, as this
/// server holds them. The sender is on the other server, so it is not this socket.
pub fn why_not_here<A: Adapter>(io: &SocketIo<A>, sid: &str, audience: &Audience) -> Option<WhyNot> {
    by_rooms(io, false, sid, audience, "/")
}

/// The room-based half of [`why_not`], from the rooms `sid` is in on `io`.
fn by_rooms<A: Adapter>(
    io: &SocketIo<A>,
    is_sender: bool,
    sid: &str,
    audience: &Audience,
    nsp: &str,
) -> Option<WhyNot> {
    // Looked up by id, not by a scan of every socket: called once per socket left out, a scan
    // made an emit to a small room among thousands of sockets quadratic.
    let rooms: BTreeSet<String> = io
        .of(nsp)?
        .get_socket(sid.parse().ok()?)?
        .rooms()
        .into_iter()
        .map(|r| r.to_string())
        .collect();
    match audience {
        Audience::Rooms(wanted) | Audience::RoomsButSender(wanted)
            if wanted.iter().all(|r| !rooms.contains(r)) =>
        {
            Some(WhyNot::NotInRooms(wanted.clone()))
        }
        Audience::EveryoneExcept(excepted) => excepted
            .iter()
            .find(|r| rooms.contains(*r))
            .map(|r| WhyNot::InExceptedRoom(r.clone())),
        Audience::OnlySender if !is_sender => Some(WhyNot::NotTheSender),
        Audience::Nobody => Some(WhyNot::NothingSent),
        _ => None,
    }
}

/// How many sockets an emit's error says had a full buffer.
pub fn full_buffers(error: &BroadcastError) -> usize {
    match error {
        BroadcastError::Socket(errors) => errors
            .iter()
            .filter(|e| matches!(e, SocketError::InternalChannelFull))
            .count(),
        _ => 0,
    }
}

/// Runs `emit` (a handler sending to `audience` on behalf of `socket`) and works out whom it
/// was queued for and why the others were not, as the module documentation describes.
/// `full` reads, from the emit's result, how many selected sockets had a full buffer.
pub async fn observe<A: Adapter, F: Future>(
    io: &SocketIo<A>,
    socket: &SocketRef<A>,
    audience: &Audience,
    nsp: &str,
    emit: F,
    full: impl Fn(&F::Output) -> usize,
) -> (F::Output, Recipients) {
    // `io.emit` selects every connected socket: the list read once serves both (at 10,000
    // sockets, each read is a set of 10,000 ids).
    let chosen = |all: &BTreeSet<String>| match audience {
        Audience::Everyone => all.clone(),
        _ => selected(io, socket, audience, nsp),
    };
    let all_before = connected(io, nsp);
    let before = chosen(&all_before);
    let mut reasons: BTreeMap<String, WhyNot> = all_before
        .difference(&before)
        .filter_map(|sid| why_not(io, socket, sid, audience, nsp).map(|w| (sid.clone(), w)))
        .collect();
    // A client with no socket in the emit's namespace is in none of its tables: the
    // namespaces it is in say why. (Only read when the stage has other namespaces.)
    let others = match io.nsps().len() {
        0 | 1 => BTreeMap::new(),
        _ => elsewhere(io, nsp),
    };
    let outcome = emit.await;
    let all_after = connected(io, nsp);
    let after = chosen(&all_after);

    let to: BTreeSet<&String> = before.intersection(&after).collect();
    let unsure: BTreeSet<&String> = before.symmetric_difference(&after).collect();
    let skipped: Vec<String> = all_before
        .intersection(&all_after)
        .filter(|sid| !to.contains(sid) && !unsure.contains(sid))
        .cloned()
        .collect();
    let mut skipped = skipped;
    for (sid, theirs) in others {
        if !all_before.contains(&sid) && !all_after.contains(&sid) {
            let why = WhyNot::NotInNamespace {
                nsp: nsp.to_owned(),
                theirs,
            };
            reasons.insert(sid.clone(), why);
            skipped.push(sid);
        }
    }
    let why_not = reasons
        .into_iter()
        .filter(|(sid, _)| skipped.contains(sid))
        .collect();
    let recipients = Recipients {
        to: to.into_iter().cloned().collect(),
        skipped,
        unsure: unsure.into_iter().cloned().collect(),
        why_not,
        full: full(&outcome),
        dropped: Vec::new(),
        reached_nobody: false,
    };
    (outcome, recipients)
}
