//! Plays one stage: start its server, connect the clients, perform each step, and record what
//! every client observed.
//!
//! There are two ways to know that a step is over:
//!
//! * **Against our own server (fenced).** The server reports when each handler has finished
//!   ([`ServerEvent`](crate::server::ServerEvent)), and then sends every socket a numbered marker
//!   (a *fence*). A client that reads the marker has read everything sent to it before, so the
//!   step's deliveries are exactly what arrived ahead of the fence: no timer decides anything.
//! * **Against someone else's server (`check`).** There are no reports and the server sends no
//!   fences. While it handles each connection's packets in order, the runner makes its own
//!   fences from round trips through it; otherwise it waits, bounded, for the deliveries the
//!   lesson expects, then listens for a short quiet window for anything unexpected.
//!
//! A stage that stops part-way still returns what it observed ([`run_stage_observed`]).
//!
//! Where things are:
//!
//! * this file: the entry points, what a run returns ([`Observed`]) and the hook a caller acts
//!   through around each step;
//! * `options.rs`: how to play a stage (options, target, bounds) and why it could not be played;
//! * `session.rs`: the session itself: open, play each step, close;
//! * `connect.rs`: the steps where a client connects, reconnects or goes away; `join.rs`: a
//!   client joining another namespace over its session, and a CONNECT the server refuses;
//! * `emit.rs`: the steps where a client emits, once (with or without an acknowledgement) or in a
//!   burst;
//! * `receivers.rs`: who received a step's event, and the server's own why-not for the others;
//! * `settle.rs`: the end of a step, in one of two forms (`session::Ending`): `fenced.rs`
//!   against our own server, `remote.rs` against someone else's (with `round_trip.rs`, round
//!   trips through one server, and `relay.rs`, relay fences across servers joined by Redis);
//! * `ids.rs`: the placeholders that keep traces the same from run to run (ports, socket ids);
//! * `wire.rs`: the raw frames kept for `--wire`, with the tutor's plumbing labelled;
//! * `probe.rs`: lesson 1's probes; `delivery.rs` and `queue.rs`: lesson 6's database, restart,
//!   offsets and client queues; `nodes.rs`: lesson 7's several servers; `failures.rs`: lesson
//!   9's pages that do not connect, each against a server configured for its step.

mod connect;
mod delivery;
mod emit;
mod ending;
mod failures;
pub mod fanout;
mod fenced;
mod ids;
mod join;
mod nodes;
mod options;
mod probe;
mod queue;
mod receivers;
mod relay;
mod remote;
mod round_trip;
mod session;
mod settle;
mod wire;

pub use nodes::redis_hint;
pub use options::{LEAVE_WITHIN, MAX_EVENTS_PER_STEP, RunError, RunOptions, Target};

use crate::lesson::{Lesson, Measure, Stage, Step};
use crate::trace::measure::Measurement;
use crate::trace::{StageTrace, StepRecord};
use receivers::{Inboxes, merge, sort_in};
use session::{Named, Session, start_local};
use wire::is_fence;

/// Plays `stage` of `lesson` against `target`.
pub async fn run_stage(
    lesson: &Lesson,
    stage: &Stage,
    target: &Target,
    options: &RunOptions,
) -> Result<StageTrace, RunError> {
    run_stage_with(lesson, stage, target, options, &mut NoHook).await
}

/// What a [`StepHook`] is told before a step runs.
#[derive(Debug)]
pub struct BeforeStep<'a> {
    /// The step about to run (1-based number and its lesson data).
    pub number: u32,
    pub step: &'a Step,
    /// The clients connected at this moment, in the order they joined.
    pub connected: Vec<String>,
}

/// Lets a caller act around each step while a stage plays, e.g. ask for a prediction before a
/// step and compare it with the records after. Both methods may block (the prompts of predict
/// mode do); they run on the runtime's worker thread via `block_in_place`.
pub trait StepHook {
    /// Called before a step runs. An error stops the stage (for example, the learner quit).
    fn before(&mut self, _step: &BeforeStep<'_>) -> Result<(), RunError> {
        Ok(())
    }
    /// Called with the records a step produced (several for a burst).
    fn after(&mut self, _step: &BeforeStep<'_>, _records: &[StepRecord]) -> Result<(), RunError> {
        Ok(())
    }
    /// Called before a measurement stage measures, after its steps (lesson 10).
    fn before_measure(&mut self, _measure: &Measure) -> Result<(), RunError> {
        Ok(())
    }
    /// Called with what a measurement stage measured.
    fn after_measure(&mut self, _measured: &Measurement) -> Result<(), RunError> {
        Ok(())
    }
}

/// The hook that does nothing.
#[derive(Debug)]
pub struct NoHook;
impl StepHook for NoHook {}

/// Plays `stage` of `lesson` against `target`, calling `hook` around every step.
///
/// All or nothing: a step that fails loses the trace (see [`run_stage_observed`] to keep it).
pub async fn run_stage_with(
    lesson: &Lesson,
    stage: &Stage,
    target: &Target,
    options: &RunOptions,
    hook: &mut dyn StepHook,
) -> Result<StageTrace, RunError> {
    run_stage_observed(lesson, stage, target, options, hook)
        .await
        .into_result()
}

/// What playing a stage observed: the trace of every step that ran to its end and, when the
/// stage stopped before its last step, why.
///
/// A stage that fails part-way has still observed something real: the steps before the failure
/// were played against a real server, and `check` shows them next to its verdict. So the run
/// hands back both, rather than an error that throws the records away. (An error type that
/// carried the partial trace would say the same, but then every caller that wants all or nothing,
/// the lessons and the tests, would dig the trace out of its error; here
/// [`Observed::into_result`] is that view, and [`run_stage`] is built on it.)
#[derive(Debug)]
pub struct Observed {
    /// The trace so far: complete when `error` is `None`. The step that failed left no record;
    /// a step after which the hook stopped the stage left its records. `clients` names every
    /// client that connected in a connect step, also one whose step then failed (a probe's
    /// client is not among them).
    pub trace: StageTrace,
    /// Why the stage stopped before its end, if it did (a hook's own stop included).
    pub error: Option<RunError>,
}

impl Observed {
    /// The whole trace, or the error that stopped the stage (the steps before it are dropped).
    pub fn into_result(self) -> Result<StageTrace, RunError> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.trace),
        }
    }
}

/// Plays `stage` of `lesson` against `target`, calling `hook` around every step, and returns
/// what it observed, also when a step fails (see [`Observed`]).
pub async fn run_stage_observed(
    lesson: &Lesson,
    stage: &Stage,
    target: &Target,
    options: &RunOptions,
    hook: &mut dyn StepHook,
) -> Observed {
    let mut trace = StageTrace {
        lesson: lesson.number,
        stage: stage.number,
        title: stage.title.clone(),
        clients: Vec::new(),
        steps: Vec::new(),
        measure: None,
    };
    let mut session = match Session::open(lesson, stage, target, options).await {
        Ok(session) => session,
        Err(error) => {
            return Observed {
                trace,
                error: Some(error),
            };
        }
    };
    let outcome = session.play(hook, &mut trace.steps).await;
    trace.clients = session.joined.clone();
    session.close().await;
    let mut error = outcome.err();
    // A measurement stage measures after its steps, on its own server (lesson 10).
    if let (None, Some(measure), Target::Local) = (&error, &stage.measure, target) {
        let measured = match hook.before_measure(measure) {
            Ok(()) => fanout::measure(measure, options).await,
            Err(stopped) => Err(stopped),
        };
        match measured.and_then(|m| hook.after_measure(&m).map(|()| m)) {
            Ok(measured) => trace.measure = Some(measured),
            Err(failed) => error = Some(failed),
        }
    }
    Observed { trace, error }
}

/// Shortens text to one line of at most `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        format!("{}…", flat.chars().take(max).collect::<String>())
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stops the stage at step `at`: before it runs, or after it has run.
    struct StopAt {
        at: u32,
        after: bool,
    }

    impl StepHook for StopAt {
        fn before(&mut self, step: &BeforeStep<'_>) -> Result<(), RunError> {
            match !self.after && step.number == self.at {
                true => Err(RunError::Stopped),
                false => Ok(()),
            }
        }
        fn after(&mut self, step: &BeforeStep<'_>, _records: &[StepRecord]) -> Result<(), RunError> {
            match self.after && step.number == self.at {
                true => Err(RunError::Stopped),
                false => Ok(()),
            }
        }
    }

    /// Lesson 3's first stage connects alice, bob and carol, then alice emits: a stage stopped
    /// part-way keeps the records of the steps that ran, and `into_result` drops them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stage_that_stops_part_way_returns_the_steps_before_the_stop() {
        let lessons = crate::lesson::all().expect("the embedded lessons load");
        let lesson = lessons.iter().find(|l| l.number == 3).expect("lesson 3");
        let stage = &lesson.stages[0];
        let options = RunOptions::default();
        let triggers = |observed: &Observed| -> Vec<String> {
            observed.trace.steps.iter().map(|s| s.trigger.clone()).collect()
        };

        let mut before_third = StopAt { at: 3, after: false };
        let observed = run_stage_observed(lesson, stage, &Target::Local, &options, &mut before_third).await;
        assert!(
            matches!(observed.error, Some(RunError::Stopped)),
            "{:?}",
            observed.error
        );
        assert_eq!(triggers(&observed), ["alice connects", "bob connects"]);
        assert_eq!(observed.trace.clients, ["alice", "bob"]);
        assert!(matches!(observed.into_result(), Err(RunError::Stopped)));

        // A hook that stops the stage after a step has run keeps that step's record.
        let mut after_third = StopAt { at: 3, after: true };
        let observed = run_stage_observed(lesson, stage, &Target::Local, &options, &mut after_third).await;
        assert!(
            matches!(observed.error, Some(RunError::Stopped)),
            "{:?}",
            observed.error
        );
        assert_eq!(
            triggers(&observed),
            ["alice connects", "bob connects", "carol connects"]
        );

        let whole = run_stage(lesson, stage, &Target::Local, &options)
            .await
            .expect("the stage plays");
        assert_eq!(
            whole.steps.len(),
            stage.steps.len() + 2,
            "the burst of three makes three records"
        );
    }
}
