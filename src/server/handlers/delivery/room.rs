//! How a replay waits for room in its client's buffer, bounded: the part of
//! [`super::replay_missed`] that Node does not need (see "A long replay" in [`super`]).

use std::time::Duration;

use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use socketioxide::{SendError, SocketError, TransportType};
use tokio::time::Instant;

use super::CHAT;
use crate::server::handlers::{Failed, Reached, Stopping};

/// How long a replay waits for its client to make room in a full buffer before it stops. A
/// client that reads takes a full buffer in well under a millisecond over a WebSocket, and in
/// one long-polling round trip.
pub const ROOM_WITHIN: Duration = Duration::from_secs(2);

/// How long one replay may run in all: it holds the server's other handlers up, so a client
/// that reads just fast enough never to hit [`ROOM_WITHIN`] cannot hold them up for ever.
pub const REPLAY_WITHIN: Duration = Duration::from_secs(10);

/// The replay yields to the socket's writer after this many rows: a quarter of the buffer.
const BURST: usize = 32;

/// How many rows a replay sends to a client still on long-polling before it waits for the
/// client's upgrade to WebSocket: half the buffer, so the upgrade finds room (see
/// [`UPGRADE_WITHIN`]).
const BEFORE_UPGRADE: usize = 64;

/// How long a replay to a client on long-polling waits for its upgrade to WebSocket.
///
/// socketioxide 0.18.9 starts an upgrade by queueing a NOOP packet in the socket's buffer and
/// waiting for room, while it answers every long-polling GET with a NOOP instead of the buffer:
/// if the buffer is full at that moment, nothing empties it, and after its upgrade timeout
/// (10 s) the session is closed (measured: 15 of 20 default clients lost that way). A default
/// client (`io()`) starts its upgrade as soon as it is connected, so the replay keeps the
/// buffer half empty until the upgrade is done. A client that stays on polling
/// (`transports: ['polling']`) never upgrades, and gets the rest after this wait.
pub const UPGRADE_WITHIN: Duration = Duration::from_secs(1);

/// The first and the longest pause before a full buffer is tried again.
const FIRST_PAUSE: Duration = Duration::from_millis(1);
const LONGEST_PAUSE: Duration = Duration::from_millis(16);

/// Why a replay stopped before its last row.
pub(super) enum Stop {
    /// The client's buffer stayed full for [`ROOM_WITHIN`].
    NoRoom,
    /// The replay has run for [`REPLAY_WITHIN`].
    TooLong,
    /// The server is stopping.
    ServerStopping,
    /// The socket has closed: nobody is left to miss the rest.
    Gone,
    /// Anything else: the database, or a row that could not be sent.
    Other(String),
}

impl From<String> for Stop {
    fn from(reason: String) -> Self {
        Stop::Other(reason)
    }
}

/// A replay's bounds on waiting for room in its client's buffer (see the module documentation).
pub(super) struct Room<'a> {
    started: Instant,
    stopping: &'a Stopping,
    /// Rows queued so far.
    sent: usize,
}

impl<'a> Room<'a> {
    pub(super) fn new(stopping: &'a Stopping) -> Self {
        Self {
            started: Instant::now(),
            stopping,
            sent: 0,
        }
    }

    /// `socket.emit('chat message', content, id)`, waiting (bounded) while the buffer is full.
    pub(super) async fn emit<A: Adapter>(
        &mut self,
        socket: &SocketRef<A>,
        row: &(&String, &i64),
    ) -> Result<(), Stop> {
        if self.sent % BURST == BURST - 1 {
            tokio::task::yield_now().await;
        }
        if self.stopping.now() {
            return Err(Stop::ServerStopping);
        }
        if self.started.elapsed() >= REPLAY_WITHIN {
            return Err(Stop::TooLong);
        }
        if self.sent >= BEFORE_UPGRADE {
            self.upgraded(socket).await?;
        }
        let full_since = Instant::now();
        let mut pause = FIRST_PAUSE;
        loop {
            match socket.emit(CHAT, row) {
                Ok(()) => {
                    self.sent += 1;
                    return Ok(());
                }
                Err(SendError::Socket(SocketError::InternalChannelFull)) => {}
                Err(SendError::Socket(SocketError::Closed)) => return Err(Stop::Gone),
                Err(e) => return Err(Stop::Other(e.to_string())),
            }
            if self.stopping.now() {
                return Err(Stop::ServerStopping);
            }
            if full_since.elapsed() >= ROOM_WITHIN {
                return Err(Stop::NoRoom);
            }
            if self.started.elapsed() >= REPLAY_WITHIN {
                return Err(Stop::TooLong);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
    }

    /// Waits (at most [`UPGRADE_WITHIN`] from the start of the replay) while the socket is on
    /// long-polling, for its upgrade to WebSocket.
    async fn upgraded<A: Adapter>(&mut self, socket: &SocketRef<A>) -> Result<(), Stop> {
        let mut pause = FIRST_PAUSE;
        while socket.transport_type() == TransportType::Polling && self.started.elapsed() < UPGRADE_WITHIN {
            if self.stopping.now() {
                return Err(Stop::ServerStopping);
            }
            if !socket.connected() {
                return Err(Stop::Gone);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
        Ok(())
    }

    /// What the trace says about a replay that stopped after the row with server offset
    /// `offset` (its last one sent).
    pub(super) fn stopped(&self, why: impl Into<Stop>, offset: i64) -> Failed {
        let rest = if self.sent == 0 {
            "none of the rows was sent".to_owned()
        } else {
            format!(
                "{} rows were sent, up to server offset {offset}; those after it were not",
                self.sent
            )
        };
        let lost = |reason: String| Failed {
            full_buffers: 1,
            reached: Reached::LostForSender,
            ..Failed::from(reason)
        };
        match why.into() {
            Stop::NoRoom => lost(format!(
                "the client made no room in its buffer for {ROOM_WITHIN:?}, so the replay stopped: {rest}"
            )),
            Stop::TooLong => lost(format!(
                "the client read too slowly: the replay stopped after {REPLAY_WITHIN:?}: {rest}"
            )),
            Stop::ServerStopping => Failed::from(format!("the server is stopping: {rest}")),
            Stop::Gone => Failed {
                only_closed: true,
                ..Failed::from(format!("the client left during the replay: {rest}"))
            },
            Stop::Other(reason) if self.sent == 0 => Failed::sent_nothing(format!("{reason}; {rest}")),
            Stop::Other(reason) => Failed::from(format!("{reason}; {rest}")),
        }
    }
}
