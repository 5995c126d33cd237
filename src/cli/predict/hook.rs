//! The step hook of predict mode: before a step with a question it asks for a prediction, and
//! after the step it prints the step's trace and the verdict, and saves the answer.

use dialoguer::theme::Theme;

use super::prompts::prompt;
use super::render::{render_answer, render_question, render_verdict};
use crate::cli::out::StdoutError;
use crate::cli::terminal::drop_typed_ahead;
use crate::lesson::{Lesson, Stage, StepKind};
use crate::progress::{Score, Store};
use crate::quiz::{Answer, Ask, judge};
use crate::runner::{BeforeStep, RunError, StepHook};
use crate::trace::{StageTrace, StepRecord};
use crate::ui;

/// The hook that asks before a step and judges after it.
pub(super) struct Predictor<'a> {
    lesson: &'a Lesson,
    stage: &'a Stage,
    store: &'a Store,
    theme: &'a dyn Theme,
    /// Every client of the stage, so the trace columns line up from the first step on.
    clients: Vec<String>,
    /// The answer given before the step that is running.
    pending: Option<Answer>,
    /// Predictions in this run of the stage.
    pub(super) score: Score,
    /// The last thing printed ends with a blank line (a verdict does).
    pub(super) spaced: bool,
    /// Why printing failed, if it did (see [`Predictor::printed`]).
    pub(super) output_error: Option<StdoutError>,
}

impl<'a> Predictor<'a> {
    pub(super) fn new(lesson: &'a Lesson, stage: &'a Stage, store: &'a Store, theme: &'a dyn Theme) -> Self {
        let mut clients: Vec<String> = Vec::new();
        for step in &stage.steps {
            let name = match &step.kind {
                StepKind::Connect { client, .. } => Some(client),
                StepKind::Probe { client, .. } => client.as_ref(),
                _ => None,
            };
            if let Some(name) = name
                && !clients.contains(name)
            {
                clients.push(name.clone());
            }
        }
        Self {
            lesson,
            stage,
            store,
            theme,
            clients,
            pending: None,
            score: Score::default(),
            spaced: false,
            output_error: None,
        }
    }

    /// A failed write cannot travel through the runner's [`RunError`] as itself, so it is kept
    /// here and the stage stops; [`super::play`] then reports it like any other write error.
    fn printed(&mut self, written: Result<(), StdoutError>) -> Result<(), RunError> {
        written.map_err(|error| {
            self.output_error = Some(error);
            RunError::Stopped
        })
    }
}

impl StepHook for Predictor<'_> {
    fn before(&mut self, step: &BeforeStep<'_>) -> Result<(), RunError> {
        self.pending = None;
        let (Some(question), Some(ask)) = (
            step.step.question.as_deref(),
            Ask::for_step(step.step, &step.connected),
        ) else {
            return Ok(());
        };
        self.printed(outln!())?;
        self.printed(outln!("{}", render_question(question, &ask)))?;
        drop_typed_ahead();
        let answer =
            prompt(&ask, self.theme).map_err(|e| RunError::Other(format!("the prompt failed: {e}")))?;
        let answer = answer.ok_or(RunError::Stopped)?;
        self.printed(outln!("{}", render_answer(&answer)))?;
        self.pending = Some(answer);
        Ok(())
    }

    fn after(&mut self, step: &BeforeStep<'_>, records: &[StepRecord]) -> Result<(), RunError> {
        // The step's own trace lines, exactly as the whole-stage trace would show them.
        let observed = StageTrace {
            lesson: self.lesson.number,
            stage: self.stage.number,
            title: self.stage.title.clone(),
            clients: self.clients.clone(),
            steps: records.to_vec(),
        };
        self.printed(out!("{}", ui::stage_trace(&observed)))?;
        self.spaced = false;
        let Some(answer) = self.pending.take() else {
            return Ok(());
        };
        let verdict = judge(&answer, records);
        self.printed(outln!())?;
        self.printed(outln!("{}", render_verdict(&verdict, step.step.why.as_deref())))?;
        self.printed(outln!())?;
        self.spaced = true;
        let right = verdict.is_right();
        self.score += Score {
            right: right as u32,
            answered: 1,
        };
        let (lesson, stage) = (self.lesson.number, self.stage.number);
        self.store
            .update(|p| p.record_prediction(lesson, stage, step.number, right))
            .map_err(|e| RunError::Other(e.to_string()))?;
        Ok(())
    }
}
