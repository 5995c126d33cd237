//! The stage servers' adapter: socketioxide's in-memory one, which also notes *which* sockets a
//! broadcast could not be queued for.
//!
//! An adapter is the part of a Socket.IO server that knows the rooms and carries a broadcast to
//! the sockets it selects: in Node, `io.of('/').adapter`; lesson 7 swaps it for the Redis one.
//! The in-memory adapter queues the packet on each selected socket's outgoing buffer. That buffer
//! is bounded, and a client that stops reading fills it; the packet is then dropped for that
//! socket, and `io.emit` returns an error with one `InternalChannelFull` per such socket, but no
//! socket id. A live trace that says "sent to bob" when bob's packet was dropped would be false,
//! and one that says "lost for 1 socket" leaves the learner guessing which.
//!
//! So this adapter does what the in-memory one does, one selected socket at a time, and writes
//! down the ids of the sockets whose buffer was full ([`Losses`]). The handler that emitted
//! reads them right after its emit returns (see `realtime::run`): the stage servers run one
//! handler at a time (see [`super::super::order`]), so the losses noted in between are that emit's.
//! Everything else (rooms, acknowledgements, fetching sockets) is the in-memory adapter's own.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use socketioxide::adapter::Emitter;
use socketioxide_core::Sid;
use socketioxide_core::adapter::errors::{BroadcastError, SocketError};
use socketioxide_core::adapter::{
    BroadcastFlags, BroadcastOptions, CoreAdapter, CoreLocalAdapter, DefinedAdapter, SocketEmitter,
};
use socketioxide_core::packet::Packet;

/// The socket ids a broadcast found with a full outgoing buffer, since they were last taken.
/// Shared by the adapter (which writes) and the server's handlers (which take).
#[derive(Debug, Clone, Default)]
pub struct Losses(Arc<Mutex<Vec<String>>>);

/// The most ids kept between two takes: a bound on what a flood can make this hold, far above
/// the sockets one emit can select on a tutor's server (serve admits 256 connections).
const MAX_KEPT: usize = 1024;

impl Losses {
    fn note(&self, sid: Sid) {
        if let Ok(mut ids) = self.0.lock()
            && ids.len() < MAX_KEPT
        {
            ids.push(sid.to_string());
        }
    }

    /// The ids noted since the last take, in the order the broadcasts met them.
    pub fn take(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|mut ids| std::mem::take(&mut *ids))
            .unwrap_or_default()
    }
}

/// socketioxide's in-memory adapter, socket by socket, with the [`Losses`] it meets.
pub struct Tally {
    local: CoreLocalAdapter<Emitter>,
    losses: Losses,
}

impl std::fmt::Debug for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tally")
            .field("losses", &self.losses)
            .finish_non_exhaustive()
    }
}

impl Tally {
    /// What `io.emit` and its relatives do: the packet to every socket `opts` selects, each
    /// queued on its own so that a full buffer has a name.
    fn broadcast_each(&self, packet: Packet, opts: BroadcastOptions) -> Result<(), BroadcastError> {
        // A volatile emit drops packets on purpose and reports nothing: nothing to name.
        if opts.has_flag(BroadcastFlags::Volatile) {
            return self.local.broadcast(packet, opts).map_err(BroadcastError::from);
        }
        let mut errors = Vec::new();
        for sid in self.local.sockets(opts) {
            // Options naming one socket and no room select exactly that socket.
            if let Err(failed) = self.local.broadcast(packet.clone(), BroadcastOptions::new(sid)) {
                if failed
                    .iter()
                    .any(|e| matches!(e, SocketError::InternalChannelFull))
                {
                    self.losses.note(sid);
                }
                errors.extend(failed);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(BroadcastError::from(errors))
        }
    }
}

impl CoreAdapter<Emitter> for Tally {
    type Error = std::convert::Infallible;
    type State = Losses;
    type AckStream = <Emitter as SocketEmitter>::AckStream;
    type InitRes = ();

    fn new(state: &Self::State, local: CoreLocalAdapter<Emitter>) -> Self {
        Self {
            local,
            losses: state.clone(),
        }
    }

    fn init(self: Arc<Self>, on_success: impl FnOnce() + Send + 'static) -> Self::InitRes {
        on_success();
    }

    fn broadcast(
        &self,
        packet: Packet,
        opts: BroadcastOptions,
    ) -> impl Future<Output = Result<(), BroadcastError>> + Send {
        std::future::ready(self.broadcast_each(packet, opts))
    }

    async fn broadcast_with_ack(
        &self,
        packet: Packet,
        opts: BroadcastOptions,
        timeout: Option<Duration>,
    ) -> Result<Self::AckStream, Self::Error> {
        Ok(self.local.broadcast_with_ack(packet, opts, timeout).0)
    }

    fn get_local(&self) -> &CoreLocalAdapter<Emitter> {
        &self.local
    }
}

impl DefinedAdapter for Tally {}
