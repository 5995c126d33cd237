//! The same lesson must produce the same trace every time: fences, not timing, decide. (Lesson
//! 10 measures times and memory, which vary: those figures are set aside, its counts compared.)

use crate::common::{json_lines, plain_trace, run_all, runtime, without_timings};

#[test]
fn two_hundred_runs_in_a_row_give_identical_traces() {
    let rt = runtime();
    let render = |traces: &[realtime_tutor::trace::StageTrace]| {
        // Lesson 10's times and memory vary; its counted figures are compared with the rest.
        let text: String = traces.iter().map(|t| plain_trace(&without_timings(t))).collect();
        let refs: Vec<_> = traces.iter().collect();
        (
            text,
            json_lines(&refs),
            realtime_tutor::ui::diagram::stages_svg(traces),
        )
    };
    let first = render(&rt.block_on(run_all()));
    for run in 2..=200 {
        let again = render(&rt.block_on(run_all()));
        assert_eq!(again.0, first.0, "text trace differs on run {run}");
        assert_eq!(again.1, first.1, "JSON trace differs on run {run}");
        assert!(again.2 == first.2, "the diagram (SVG) differs on run {run}");
    }
}
