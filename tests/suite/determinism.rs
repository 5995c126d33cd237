//! The same lesson must produce the same trace every time: fences, not timing, decide. (Lesson
//! 10 measures times and memory, which vary: those figures are set aside, its counts compared.)
//!
//! Two tests, so the suite's test threads run them side by side: the measurement stages, which
//! keep a core busy connecting a thousand clients, and every other stage, whose runs wait on the
//! network and on the one lesson timer (lesson 9.6's ping timeout) far more than on the CPU, and
//! so play [`AT_ONCE`] runs at a time. A run beside another is also the busy machine the traces
//! must not depend on.

use realtime_tutor::lesson::{Lesson, Stage};
use realtime_tutor::runner::{self, RunOptions, Target};
use realtime_tutor::trace::StageTrace;

use crate::common::{json_lines, lessons, plain_trace, runtime, without_timings};

/// How many runs of the stages that wait more than they compute play at the same time.
const AT_ONCE: usize = 2;

/// How many runs each test compares with the first.
const RUNS: usize = 200;

/// Every stage `which` selects, in lesson order.
async fn run_stages(which: fn(&Stage) -> bool) -> Vec<StageTrace> {
    let mut traces = Vec::new();
    for lesson in lessons() {
        for stage in lesson.stages.iter().filter(|s| which(s)) {
            traces.push(play(lesson, stage).await);
        }
    }
    traces
}

async fn play(lesson: &Lesson, stage: &Stage) -> StageTrace {
    runner::run_stage(lesson, stage, &Target::Local, &RunOptions::default())
        .await
        .unwrap_or_else(|e| panic!("lesson {} stage {}: {e}", lesson.number, stage.number))
}

/// The text, the JSON lines and the diagram of a run, its measured times and memory set aside.
fn render(traces: &[StageTrace]) -> (String, String, String) {
    let text: String = traces.iter().map(|t| plain_trace(&without_timings(t))).collect();
    let refs: Vec<_> = traces.iter().collect();
    (
        text,
        json_lines(&refs),
        realtime_tutor::ui::diagram::stages_svg(traces),
    )
}

/// Plays the stages `which` selects [`RUNS`] times, `at_once` runs at a time, and compares
/// every run with the first.
fn identical_runs(which: fn(&Stage) -> bool, at_once: usize) {
    let rt = runtime();
    let first = render(&rt.block_on(run_stages(which)));
    assert!(!first.0.is_empty(), "some stage was played");
    let mut run = 1;
    while run < RUNS {
        let batch = at_once.min(RUNS - run);
        let runs = rt.block_on(futures_util::future::join_all(
            (0..batch).map(|_| run_stages(which)),
        ));
        for traces in runs {
            run += 1;
            let again = render(&traces);
            assert_eq!(again.0, first.0, "text trace differs on run {run}");
            assert_eq!(again.1, first.1, "JSON trace differs on run {run}");
            assert!(again.2 == first.2, "the diagram (SVG) differs on run {run}");
        }
    }
}

#[test]
fn two_hundred_runs_in_a_row_give_identical_traces() {
    identical_runs(|stage| stage.measure.is_none(), AT_ONCE);
}

#[test]
fn two_hundred_measurements_count_the_same_frames_and_bytes() {
    identical_runs(|stage| stage.measure.is_some(), 1);
}
