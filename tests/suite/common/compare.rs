//! One stage played twice, on our Rust server and on a Node socket.io server playing the same
//! lesson, so a test can require that both traces say the same.

use std::fmt::Debug;

use realtime_tutor::check;
use realtime_tutor::lesson::{Lesson, Stage};
use realtime_tutor::runner::{self, RunOptions, Target};
use realtime_tutor::trace::{StageTrace, StepRecord};

/// How a stage is played against Node's server(s): with `check`'s own connect bound.
pub fn remote_options() -> RunOptions {
    RunOptions {
        timeout: check::CONNECT_TIMEOUT,
        ..RunOptions::default()
    }
}

/// Plays `stage` on our server(s) with `ours`, then against `url` (and the servers in `more`)
/// as `check` would, with `theirs`. `variant` names the stage in a panic.
pub async fn ours_and_theirs(
    lesson: &Lesson,
    stage: &Stage,
    variant: &str,
    ours: &RunOptions,
    (url, more): (&str, Vec<String>),
    theirs: &RunOptions,
) -> (StageTrace, StageTrace) {
    let our_trace = runner::run_stage(lesson, stage, &Target::Local, ours)
        .await
        .unwrap_or_else(|e| panic!("{variant} on our server: {e}"));
    let remote = Target::Remote {
        url: url.to_owned(),
        more,
        path: "/socket.io/".into(),
        expect_within: check::EXPECT_WITHIN,
        quiet: check::QUIET,
    };
    let their_trace = runner::run_stage(lesson, stage, &remote, theirs)
        .await
        .unwrap_or_else(|e| panic!("{variant} on Node's server: {e}"));
    (our_trace, their_trace)
}

/// Requires the same number of steps and, step by step, the same `observed` fields; a mismatch
/// names the stage, the step and `disagree` (who disagrees, and what that means).
pub fn assert_steps_agree<T: PartialEq + Debug>(
    ours: &StageTrace,
    theirs: &StageTrace,
    variant: &str,
    observed: impl Fn(&StepRecord) -> T,
    disagree: &str,
) {
    assert_eq!(ours.steps.len(), theirs.steps.len(), "{variant}");
    for (a, b) in ours.steps.iter().zip(&theirs.steps) {
        assert_eq!(
            observed(a),
            observed(b),
            "lesson {variant}, step {}: {disagree}",
            a.step
        );
    }
}

/// The fields that say who received what, in which order: everything the lesson teaches that a
/// client can observe. (`server_acks`, what came back to the server's own `emitWithAck`, only
/// our server can report; it is checked apart.)
pub fn observed(step: &StepRecord) -> impl PartialEq + std::fmt::Debug + use<> {
    (
        step.step,
        step.kind,
        step.sender.clone(),
        step.event.clone(),
        step.args.clone(),
        step.received_by.clone(),
        step.not_received_by.clone(),
        step.received.clone(),
        step.burst,
        step.arrival.clone(),
        step.ignored.clone(),
        (
            step.client_emit.clone(),
            step.acks.clone(),
            // A refused CONNECT: the namespace and the message. Its `data` is not compared:
            // Node sends what the middleware's error carries, socketioxide sends none (the
            // lesson says so, and `node.rs` asserts that one difference).
            step.refused.as_ref().map(|r| (r.nsp.clone(), r.message.clone())),
        ),
    )
}
