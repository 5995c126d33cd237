//! Helpers shared by the test modules.

use std::sync::OnceLock;

use realtime_tutor::lesson::{self, Lesson};
use realtime_tutor::runner::{self, RunOptions, Target};
use realtime_tutor::trace::{StageTrace, json, text};

/// The embedded lessons, loaded once.
pub fn lessons() -> &'static [Lesson] {
    static LESSONS: OnceLock<Vec<Lesson>> = OnceLock::new();
    LESSONS.get_or_init(|| lesson::all().expect("the embedded lessons load"))
}

/// A runtime for tests that drive the runner directly.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Plays every stage of every lesson against its own server.
pub async fn run_all() -> Vec<StageTrace> {
    let mut traces = Vec::new();
    for lesson in lessons() {
        for stage in &lesson.stages {
            let trace = runner::run_stage(lesson, stage, &Target::Local, &RunOptions::default())
                .await
                .unwrap_or_else(|e| panic!("lesson {} stage {}: {e}", lesson.number, stage.number));
            traces.push(trace);
        }
    }
    traces
}

/// The text trace of a stage without colours, exactly as `--color never` prints it.
pub fn plain_trace(trace: &StageTrace) -> String {
    anstream::adapter::strip_str(&text::stage_trace(trace)).to_string()
}

/// The JSON Lines of some traces.
pub fn json_lines(traces: &[&StageTrace]) -> String {
    traces
        .iter()
        .flat_map(|t| t.steps.iter())
        .map(|s| json::step_line(s) + "\n")
        .collect()
}

/// insta settings: snapshots in the top-level `snapshots/` folder, plain names, short headers.
pub fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}
