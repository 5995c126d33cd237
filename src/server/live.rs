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

use std::collections::BTreeSet;
use std::future::Future;

use socketioxide::SocketIo;
use socketioxide::extract::SocketRef;

use super::behaviour::Audience;

/// Who an emit was queued for, by socket id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipients {
    /// Selected by the emit, and connected before and after it: the packet was queued for them.
    pub to: Vec<String>,
    /// Connected, but not selected: the sender of a `socket.broadcast.emit`.
    pub skipped: Vec<String>,
    /// Joined or left while the emit ran: the server cannot say whether the packet was queued.
    pub unsure: Vec<String>,
    /// Selected, but the packet was *not* queued: the socket's outgoing buffer was full
    /// (socketioxide's `SocketError::InternalChannelFull`, `max_buffer_size` packets waiting for
    /// a client that does not read). socketioxide drops the packet and carries on; the trace must
    /// say so rather than list the socket under "sent to". Filled from the emit's own result,
    /// socket by socket; a socket listed here is not in `to`.
    pub dropped: Vec<String>,
}

/// Who a socket says it is, read from its handshake request: its query parameters and its
/// `User-Agent`. The realtime server reports this from a connect middleware, which socketioxide
/// runs *before* it adds the socket to the namespace: so the report is on the channel before any
/// emit can select that socket, and whoever reads the reports in order knows every socket an
/// emit names.
pub fn identify(socket: &SocketRef) -> super::ServerEvent {
    let parts = socket.req_parts();
    let query = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let user_agent = parts
        .headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    super::ServerEvent::Handshake {
        sid: socket.id.to_string(),
        query,
        user_agent,
    }
}

/// The socket ids connected to the default namespace right now.
///
/// `io.of("/")` rather than `io.sockets()`: the latter panics once the server has been closed,
/// and a handler may still be running while the tutor shuts down.
fn connected(io: &SocketIo) -> BTreeSet<String> {
    io.of("/")
        .map(|ns| ns.sockets().iter().map(|s| s.id.to_string()).collect())
        .unwrap_or_default()
}

/// The socket ids an emit to `audience`, made on behalf of `socket`, selects right now.
fn selected(io: &SocketIo, socket: &SocketRef, audience: Audience) -> BTreeSet<String> {
    match audience {
        Audience::Everyone => connected(io),
        Audience::EveryoneButSender => socket
            .broadcast()
            .sockets()
            .iter()
            .map(|s| s.id.to_string())
            .collect(),
    }
}

/// Runs `emit` (a behaviour sending to `audience` on behalf of `socket`) and works out whom it
/// was queued for, as the module documentation describes.
pub async fn observe<F: Future>(
    io: &SocketIo,
    socket: &SocketRef,
    audience: Audience,
    emit: F,
) -> (F::Output, Recipients) {
    let (all_before, before) = (connected(io), selected(io, socket, audience));
    let outcome = emit.await;
    let (all_after, after) = (connected(io), selected(io, socket, audience));

    let to: BTreeSet<&String> = before.intersection(&after).collect();
    let unsure: BTreeSet<&String> = before.symmetric_difference(&after).collect();
    let skipped = all_before
        .intersection(&all_after)
        .filter(|sid| !to.contains(sid) && !unsure.contains(sid))
        .cloned()
        .collect();
    let recipients = Recipients {
        to: to.into_iter().cloned().collect(),
        skipped,
        unsure: unsure.into_iter().cloned().collect(),
        dropped: Vec::new(),
    };
    (outcome, recipients)
}
