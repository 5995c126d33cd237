//! The two ways a step ends, as a type: against our own server (its reports and fences,
//! `fenced.rs`) or against someone else's (bounded windows, `remote.rs`).

use std::time::Duration;

use super::Session;
use super::nodes::Ours;

/// The two ways a step ends, one per kind of target (see the module documentation of
/// [`super`]): our own server's reports and fences (`fenced.rs`), or the bounded windows kept
/// against someone else's server (`remote.rs`).
pub(super) enum Ending {
    /// Our own server(s). Empty only for the moment a stage restarts its server (lesson 6).
    Fenced(Option<Ours>),
    /// Someone else's server, with how long to wait for what the lesson expects and how long
    /// to listen for anything else.
    Remote(Windows),
}

/// How long a step against someone else's server waits (see `remote.rs`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Windows {
    /// For each delivery the lesson expects.
    pub(super) expect_within: Duration,
    /// For anything else, once the expected deliveries are in.
    pub(super) quiet: Duration,
}

impl Session<'_> {
    /// Is the step played against our own server, which reports and fences?
    pub(super) fn is_ours(&self) -> bool {
        matches!(self.ending, Ending::Fenced(_))
    }

    /// Our own server(s), when the stage plays against them.
    pub(super) fn our_server(&self) -> Option<&Ours> {
        match &self.ending {
            Ending::Fenced(server) => server.as_ref(),
            Ending::Remote(_) => None,
        }
    }

    /// [`Session::our_server`], to act on.
    pub(super) fn our_server_mut(&mut self) -> Option<&mut Ours> {
        match &mut self.ending {
            Ending::Fenced(server) => server.as_mut(),
            Ending::Remote(_) => None,
        }
    }

    /// Takes our server out, to stop it (a restart puts the new one back, `delivery.rs`).
    pub(super) fn take_server(&mut self) -> Option<Ours> {
        match &mut self.ending {
            Ending::Fenced(server) => server.take(),
            Ending::Remote(_) => None,
        }
    }
}
