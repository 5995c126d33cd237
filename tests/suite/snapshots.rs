//! Every stage's text trace and every lesson's JSON, kept as snapshots in `snapshots/`.
//! The book includes these same files, so what it shows is what the tests check.

use crate::common::{json_lines, lessons, plain_trace, run_all, runtime, snapshot_settings};
use realtime_tutor::ui;

#[test]
fn traces_match_their_snapshots() {
    let traces = runtime().block_on(run_all());
    snapshot_settings().bind(|| {
        for trace in &traces {
            insta::assert_snapshot!(
                format!("lesson-{}-stage-{}", trace.lesson, trace.stage),
                plain_trace(trace)
            );
        }
        for lesson in lessons() {
            let mine: Vec<_> = traces.iter().filter(|t| t.lesson == lesson.number).collect();
            insta::assert_snapshot!(format!("lesson-{}-json", lesson.number), json_lines(&mine));
            let owned: Vec<_> = mine.iter().map(|t| (*t).clone()).collect();
            let summary = anstream::adapter::strip_str(&ui::summary_at(&owned, ui::PIPED_WIDTH)).to_string();
            insta::assert_snapshot!(format!("lesson-{}-summary", lesson.number), summary);
        }
    });
    // The book's diagrams are drawn from these same traces.
    crate::diagrams::assert_committed(&traces);
}
