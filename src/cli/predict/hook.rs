//! The step hook of predict mode: before a step with a question it asks for a prediction, and
//! after the step it prints the step's trace and the verdict, and saves the answer.

use dialoguer::theme::Theme;

use super::growth::{
    GROWTH_PROMPT_ROWS, prompt_growth, render_growth_answer, render_growth_question, render_growth_verdict,
};
use super::prompts::{prompt, prompt_rows};
use super::render::{render_answer, render_question, render_verdict};
use super::screen::{Flow, Screen};
use crate::cli::out::StdoutError;
use crate::cli::terminal::drop_typed_ahead;
use crate::lesson::{Lesson, Measure, Stage, StepKind};
use crate::progress::{Score, Store};
use crate::quiz::{Answer, Ask, Growth, GrowthAsk, judge};
use crate::runner::{BeforeStep, RunError, StepHook};
use crate::trace::measure::Measurement;
use crate::trace::{StageTrace, StepRecord};
use crate::ui;

/// The hook that asks before a step and judges after it.
pub(super) struct Predictor<'a> {
    lesson: &'a Lesson,
    stage: &'a Stage,
    store: &'a Store,
    theme: &'a dyn Theme,
    /// Where everything is printed (see [`Screen`]).
    screen: &'a mut Screen,
    /// Every client of the stage, so the trace columns line up from the first step on.
    clients: Vec<String>,
    /// The answer given before the step that is running.
    pending: Option<Answer>,
    /// The answer to lesson 10's growth question, before its measurement.
    pending_growth: Option<(GrowthAsk, Growth)>,
    /// Predictions in this run of the stage.
    pub(super) score: Score,
    /// The last thing printed ends with a blank line (a verdict does).
    pub(super) spaced: bool,
    /// Why printing failed, if it did (see [`Predictor::show`]).
    pub(super) output_error: Option<StdoutError>,
}

impl<'a> Predictor<'a> {
    pub(super) fn new(
        lesson: &'a Lesson,
        stage: &'a Stage,
        store: &'a Store,
        theme: &'a dyn Theme,
        screen: &'a mut Screen,
    ) -> Self {
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
            screen,
            clients,
            pending: None,
            pending_growth: None,
            score: Score::default(),
            spaced: false,
            output_error: None,
        }
    }

    /// Prints through the [`Screen`]. A failed write cannot travel through the runner's
    /// [`RunError`] as itself, so it is kept here and the stage stops; [`super::play`] then
    /// reports it like any other write error. A quit at a pause stops the stage too.
    fn show(&mut self, text: &str) -> Result<(), RunError> {
        let shown = self.screen.print(text);
        self.checked(shown)
    }

    fn checked(&mut self, shown: Result<Flow, StdoutError>) -> Result<(), RunError> {
        match shown {
            Ok(Flow::Shown) => Ok(()),
            Ok(Flow::Quit) => Err(RunError::Stopped),
            Err(error) => {
                self.output_error = Some(error);
                Err(RunError::Stopped)
            }
        }
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
        // The question, its keys and its choices appear together, on one screen.
        let width = self.screen.width();
        let asked = format!("\n{}\n", render_question(question, &ask, width));
        let room = self.screen.make_room(asked.lines().count() + prompt_rows(&ask));
        self.checked(room)?;
        self.show(&asked)?;
        drop_typed_ahead();
        let answer =
            prompt(&ask, self.theme).map_err(|e| RunError::Other(format!("the prompt failed: {e}")))?;
        let answer = answer.ok_or(RunError::Stopped)?;
        self.screen.read();
        self.show(&format!("{}\n", render_answer(&answer, width)))?;
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
            measure: None,
        };
        let width = self.screen.width();
        self.show(&ui::stage_trace_at(&observed, width))?;
        self.spaced = false;
        let Some(answer) = self.pending.take() else {
            return Ok(());
        };
        let verdict = judge(&answer, records);
        let why = step.step.why.as_deref();
        self.show(&format!("\n{}\n\n", render_verdict(&verdict, why, width)))?;
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

    fn before_measure(&mut self, measure: &Measure) -> Result<(), RunError> {
        self.pending_growth = None;
        let Some(ask) = GrowthAsk::for_measure(measure) else {
            return Ok(());
        };
        let width = self.screen.width();
        let asked = format!("\n{}\n", render_growth_question(&ask, width));
        let room = self.screen.make_room(asked.lines().count() + GROWTH_PROMPT_ROWS);
        self.checked(room)?;
        self.show(&asked)?;
        drop_typed_ahead();
        let chosen =
            prompt_growth(self.theme).map_err(|e| RunError::Other(format!("the prompt failed: {e}")))?;
        let chosen = chosen.ok_or(RunError::Stopped)?;
        self.screen.read();
        self.show(&format!("{}\n", render_growth_answer(chosen, width)))?;
        self.pending_growth = Some((ask, chosen));
        Ok(())
    }

    fn after_measure(&mut self, measured: &Measurement) -> Result<(), RunError> {
        let width = self.screen.width();
        self.show(&ui::measurement_at(measured, width))?;
        self.spaced = false;
        let Some((ask, predicted)) = self.pending_growth.take() else {
            return Ok(());
        };
        let Some((ratio, observed)) = ask.observed(measured) else {
            return Ok(());
        };
        self.show(&format!(
            "\n{}\n\n",
            render_growth_verdict(predicted, ratio, observed, width)
        ))?;
        self.spaced = true;
        let right = predicted == observed;
        self.score += Score {
            right: right as u32,
            answered: 1,
        };
        // Recorded as the step after the stage's last one: the measurement follows its steps.
        let (lesson, stage, after_last) = (
            self.lesson.number,
            self.stage.number,
            self.stage.steps.len() as u32 + 1,
        );
        self.store
            .update(|p| p.record_prediction(lesson, stage, after_last, right))
            .map_err(|e| RunError::Other(e.to_string()))?;
        Ok(())
    }
}
