//! Every stage's text trace and every lesson's JSON, kept as snapshots in `snapshots/`.
//! The book includes these same files, so what it shows is what the tests check.

use crate::common::{json_lines, lessons, plain_trace, run_all, runtime, snapshot_settings};
use realtime_tutor::ui;

#[test]
fn traces_match_their_snapshots() {
    let traces = runtime().block_on(run_all());
    measured_figures_masked(snapshot_settings()).bind(|| {
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
    // A snapshot of the kinds this test writes that no stage or lesson writes any more (a lesson removed or renumbered) would stay
    // behind unnoticed: insta only compares what is asserted.
    let mut wanted: Vec<String> = traces
        .iter()
        .map(|t| format!("lesson-{}-stage-{}.snap", t.lesson, t.stage))
        .collect();
    for lesson in lessons() {
        for part in ["json", "summary"] {
            wanted.push(format!("lesson-{}-{part}.snap", lesson.number));
        }
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    let update = std::env::var("INSTA_UPDATE").is_ok_and(|v| v == "always");
    let mut stale = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("the snapshots folder") {
        let name = entry
            .expect("an entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if written_here(&name) && !wanted.contains(&name) {
            if update {
                std::fs::remove_file(dir.join(&name)).expect("remove a stale snapshot");
            } else {
                stale.push(name);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "snapshots/ holds snapshots no lesson writes: {}. Remove them with \
         INSTA_UPDATE=always cargo test --test suite snapshots, and review the diff.",
        stale.join(", ")
    );
}

/// The settings with lesson 10's measured figures masked: times (`0.473 ms`), rates
/// (`25,725/s`), memory (`36.4 KB`) and how a time grew (`7.3×`) vary from run to run, so each
/// becomes a placeholder, with the padding before it (whose width follows the figure's). Only
/// these units are masked; every counted figure (frames, bytes, deliveries, encodings) stays,
/// and is compared.
pub fn measured_figures_masked(mut settings: insta::Settings) -> insta::Settings {
    settings.add_filter(r" +[0-9]+\.[0-9]+ ms\b", " <time>");
    settings.add_filter(r" +[0-9][0-9,]*/s\b", " <rate>");
    settings.add_filter(r" +[0-9]+\.[0-9] KB\b", " <memory>");
    settings.add_filter(r"[0-9]+\.[0-9]× as long", "<ratio>× as long");
    settings
}

/// Is `name` of a kind [`traces_match_their_snapshots`] writes: `lesson-N-json.snap`,
/// `lesson-N-summary.snap` or `lesson-N-stage-K.snap`? (Other tests keep snapshots of their own
/// there, such as `lesson-3-stage-1-wire.snap`.)
fn written_here(name: &str) -> bool {
    let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let Some(rest) = name.strip_prefix("lesson-").and_then(|n| n.strip_suffix(".snap")) else {
        return false;
    };
    let Some((lesson, kind)) = rest.split_once('-') else {
        return false;
    };
    number(lesson) && (kind == "json" || kind == "summary" || kind.strip_prefix("stage-").is_some_and(number))
}

#[test]
fn only_the_kinds_of_snapshot_this_test_writes_are_its_own() {
    assert!(written_here("lesson-12-stage-3.snap"));
    assert!(written_here("lesson-1-json.snap") && written_here("lesson-7-summary.snap"));
    assert!(!written_here("lesson-3-stage-1-wire.snap"));
    assert!(!written_here("lesson-x-json.snap") && !written_here("notes.snap"));
}
