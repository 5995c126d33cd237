//! The verdict as JSON, the last line of `check --format json`.

use serde_json::Value;

use super::verdict::{Failure, Problem, Verdict};
use crate::lesson::{Lesson, Stage};

/// The verdict as one JSON object, the last line of `check --format json`.
pub fn verdict_json(lesson: &Lesson, stage: &Stage, url: &str, path: &str, verdict: &Verdict) -> Value {
    let found = match verdict {
        Verdict::Fail(Failure::Target(Problem::Found { found, .. })) => found.clone(),
        _ => Vec::new(),
    };
    let (word, summary, findings) = match verdict {
        Verdict::Pass { summary } => ("pass", summary.clone(), Vec::new()),
        Verdict::Fail(Failure::Target(problem)) => ("fail", problem.to_string(), Vec::new()),
        Verdict::Fail(Failure::Behaviour { headline, findings }) => {
            ("fail", headline.clone(), findings.clone())
        }
    };
    serde_json::json!({
        "verdict": word,
        "lesson": lesson.number,
        "stage": stage.number,
        "url": url,
        "path": path,
        "summary": summary,
        "findings": findings,
        "found": found,
    })
}
