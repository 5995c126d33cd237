//! What the progress file records: the stages finished and the predictions answered, and the
//! questions the tutor asks of them (is this stage done, what is the score, where to resume).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::FORMAT_VERSION;
use crate::lesson::Lesson;

/// Everything the file records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    format_version: u32,
    #[serde(default)]
    stages: BTreeMap<String, StageProgress>,
}

/// One stage's record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageProgress {
    /// The learner has seen the stage through to its last step.
    #[serde(default)]
    pub done: bool,
    /// The latest answer to each question, by step number.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub predictions: BTreeMap<u32, Prediction>,
}

/// How one prediction went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prediction {
    /// Every part of the prediction matched what was observed.
    pub right: bool,
}

/// Predictions answered, and how many of them were right.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Score {
    pub right: u32,
    pub answered: u32,
}

impl std::ops::AddAssign for Score {
    fn add_assign(&mut self, other: Score) {
        self.right += other.right;
        self.answered += other.answered;
    }
}

impl Default for Progress {
    fn default() -> Self {
        Self {
            format_version: FORMAT_VERSION,
            stages: BTreeMap::new(),
        }
    }
}

fn key(lesson: u32, stage: u32) -> String {
    format!("{lesson}.{stage}")
}

impl Progress {
    /// The record of one stage (empty if there is none).
    pub fn stage(&self, lesson: u32, stage: u32) -> StageProgress {
        self.stages.get(&key(lesson, stage)).cloned().unwrap_or_default()
    }

    pub fn is_done(&self, lesson: u32, stage: u32) -> bool {
        self.stage(lesson, stage).done
    }

    pub fn mark_done(&mut self, lesson: u32, stage: u32) {
        self.stages.entry(key(lesson, stage)).or_default().done = true;
    }

    /// Records the answer to the question of `step`, replacing any earlier one.
    pub fn record_prediction(&mut self, lesson: u32, stage: u32, step: u32, right: bool) {
        self.stages
            .entry(key(lesson, stage))
            .or_default()
            .predictions
            .insert(step, Prediction { right });
    }

    /// The prediction score of one stage.
    pub fn score(&self, lesson: u32, stage: u32) -> Score {
        let record = self.stage(lesson, stage);
        Score {
            right: record.predictions.values().filter(|p| p.right).count() as u32,
            answered: record.predictions.len() as u32,
        }
    }

    /// The first stage, in course order, that is not done: `(lesson, stage)` numbers.
    pub fn first_unfinished(&self, lessons: &[Lesson]) -> Option<(u32, u32)> {
        lessons.iter().find_map(|lesson| {
            lesson
                .stages
                .iter()
                .find(|s| !self.is_done(lesson.number, s.number))
                .map(|s| (lesson.number, s.number))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_unfinished_stage_follows_course_order() {
        let lessons = crate::lesson::all().unwrap();
        let mut progress = Progress::default();
        assert_eq!(progress.first_unfinished(&lessons), Some((1, 1)));
        progress.mark_done(1, 1);
        progress.mark_done(1, 3);
        assert_eq!(progress.first_unfinished(&lessons), Some((1, 2)));
        for lesson in &lessons {
            for stage in &lesson.stages {
                progress.mark_done(lesson.number, stage.number);
            }
        }
        assert_eq!(progress.first_unfinished(&lessons), None);
    }
}
