//! `check`: play a lesson's scenario against someone else's server, and judge what was observed.
//!
//! The runner plays the lesson's check stage against the server at a URL (its remote mode:
//! round trips through the server as fences while it keeps one order per connection, else a
//! bounded wait for the expected deliveries, then a quiet window). This module turns the
//! records it produced into a [`Verdict`]: PASS, or FAIL with a diagnosis in the learner's terms.
//!
//! The diagnosis is computed, not looked up. For every delivery step the lesson data says who
//! should receive the event (`expect_received_by`), and the stage's behaviour says which call the
//! lesson teaches and whom it reaches (its [`Audience`]). Comparing that with who actually received
//! the event names the mistake: when the newcomer hears the `hi` their own connection triggered,
//! the server reaches everyone, which is what `io.emit` does, while the lesson asks for
//! `socket.broadcast.emit`. No lesson is named here.

//!
//! The files, in the order a verdict is made:
//!
//! * [`verdict`]: what a check concludes ([`Verdict`], [`Failure`], [`Problem`], [`Finding`]).
//! * [`reach`]: who one emit reached, as the shape of one of Socket.IO's calls.
//! * [`teaching`]: the call the lesson's server teaches, read from the stage's data.
//! * [`judge`](mod@judge): the records compared with the lesson, step by step.
//! * [`findings`]: one finding per difference in a delivery step.
//! * [`namespaces`]: a CONNECT refused or let in against the lesson's middleware, a namespace
//!   the server lacks, a CONNECT nobody answers, an emit made in another namespace.
//! * [`delivery`]: the offsets of a storing server, and what a reconnecting client is given back.
//! * [`target`]: lesson 1's probes, and why a run could not be played at all.
//! * [`nodes`]: the mistakes of a stage with two servers, from where each client connected.
//! * [`headline`]: the verdict's first line.
//! * [`discovery`]: looking for Socket.IO when the scenario could not reach it, at the places
//!   the page names ([`page`]).
//! * [`json`]: the verdict as JSON.
//! * [`shown`]: the server's text cut to a readable size, in the records and the verdict.

use std::time::Duration;

use crate::trace::{ProbeOutcome, StepRecord};

mod delivery;
pub mod discovery;
mod findings;
mod headline;
pub mod json;
pub mod judge;
mod namespaces;
mod nodes;
pub mod page;
mod reach;
pub mod shown;
mod target;
mod teaching;
pub mod verdict;

pub use json::verdict_json;
pub use judge::judge;
pub(crate) use target::status_text;
pub use verdict::{Answer, Failure, Finding, Problem, Verdict, Where};

/// The bound on each step of connecting (TCP, WebSocket 101, Engine.IO OPEN, Socket.IO CONNECT)
/// and on each HTTP request. A server on 127.0.0.1 answers in milliseconds; a listener that
/// never answers is reported after this long instead of hanging the check.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long to wait for a delivery the lesson expects before calling it missing.
pub const EXPECT_WITHIN: Duration = Duration::from_secs(1);

/// How long to listen, after the expected deliveries, for deliveries the lesson does not expect.
/// One emit reaches all its sockets within a millisecond or two here, so this is a wide margin.
/// Only steps that cannot be fenced by round trips pay it (see `runner::settle`).
pub const QUIET: Duration = Duration::from_millis(150);

/// A stopped check: the probe found nothing to talk to, so later steps would only wait for the
/// same silence.
pub fn unreachable(record: &StepRecord) -> bool {
    record.probe.as_ref().is_some_and(|p| {
        matches!(
            p.outcome,
            ProbeOutcome::Refused | ProbeOutcome::NoAnswer | ProbeOutcome::Error
        )
    })
}
