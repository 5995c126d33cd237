//! Predict mode: commit to a prediction, watch it run live, and see how you did.
//!
//! `realtime-tutor lesson N --predict`, and `realtime-tutor` alone on a terminal (which continues
//! at the first unfinished stage), play stages through the runner's [`StepHook`](crate::runner::StepHook):
//!
//! * **before** a step that has a `question` in the lesson data, the learner answers it: for a
//!   delivery, a multi-select of the clients connected at that moment ("who will receive it?",
//!   the newcomer included when the step is a connection); for a lesson-1 probe, yes or no ("will
//!   it connect?");
//! * **after** the step, its trace lines are printed as they were observed, and then the
//!   prediction is set against them: each client marked right or wrong, and the step's `why`.
//!
//! Only steps with a question are asked, so the lesson data decides. The lessons ask where a
//! known misconception shows (does `io.emit` reach the newcomer, does the newcomer get its own
//! `hi`, does the sender see its own chat message). Asking before every arrival in lesson 2 would
//! pose the same question four times in a row; it asks at bob's arrival, the first with someone
//! else to hear it, and again at dave's. The steps in between still print their trace live.
//!
//! The verdict compares the answer with the observed records, never with the lesson's
//! expectations (see [`crate::quiz`], which asks and judges without a terminal).
//!
//! The flow is here; the step hook is in `hook`, the prompts in `prompts`, what is printed in
//! `render`, and the terminal's care (Ctrl-C, typed-ahead keys) in `cli::terminal`.
//!
//! Every answer and every finished stage is saved at once (see [`crate::progress`]), so quitting
//! with `q` at any prompt loses nothing that was answered.

mod growth;
mod hook;
mod prompts;
mod render;
mod screen;

use self::hook::Predictor;
use self::prompts::carry_on;
use self::render::{closing, stage_done, stopped};
use self::screen::{Flow, Screen};
use super::lookup::{load_lessons, pick};
use super::shared_redis::{SharedRedis, redis_lost};
use super::terminal::{require_terminal, restore_cursor_on_ctrl_c, theme};
use super::{Display, Format, UsageError};
use crate::lesson::{Lesson, Stage};
use crate::progress::Store;
use crate::runner::{self, RunError, RunOptions, Target};
use crate::trace::StageTrace;
use crate::ui;

/// `realtime-tutor lesson N --predict [--stage K]`.
pub async fn lesson(number: u32, stage: Option<u32>, display: &Display) -> anyhow::Result<i32> {
    if display.format == Format::Json {
        return Err(UsageError(
            "--predict asks questions and shows text, so it cannot be combined with --format json".into(),
        )
        .into());
    }
    require_terminal(
        "predict mode (--predict)",
        &format!("To watch the lesson without questions: realtime-tutor lesson {number} --no-pause"),
    )?;
    let lessons = load_lessons()?;
    let (lesson, stages) = pick(&lessons, number, stage)?;
    let store = Store::locate()?;
    // Read it now: a damaged file is reported before the lesson starts, not after the first answer.
    store.load()?;
    let plan = [Part { lesson, stages }];
    play(&plan, &lessons, &store, display, Screen::new()).await
}

/// `realtime-tutor` with no command: predict mode from the first unfinished stage on.
pub async fn resume() -> anyhow::Result<i32> {
    require_terminal(
        "without a command, realtime-tutor continues your lessons in predict mode, which",
        "To watch the lessons without questions: realtime-tutor tour --no-pause\n\
         To see every command: realtime-tutor --help",
    )?;
    let lessons = load_lessons()?;
    let store = Store::locate()?;
    let progress = store.load()?;
    let Some((first_lesson, first_stage)) = progress.first_unfinished(&lessons) else {
        outln!("{}", closing(&progress, &lessons, ui::width()))?;
        return Ok(0);
    };
    let plan: Vec<Part<'_>> = lessons
        .iter()
        .map(|lesson| Part {
            lesson,
            stages: lesson
                .stages
                .iter()
                .filter(|s| !progress.is_done(lesson.number, s.number))
                .collect(),
        })
        .filter(|part| !part.stages.is_empty())
        .collect();
    let started = lessons
        .iter()
        .flat_map(|l| l.stages.iter().map(move |s| (l.number, s.number)))
        .any(|(l, s)| progress.is_done(l, s));
    let greeting = if started {
        format!("Welcome back: continuing at stage {first_lesson}.{first_stage}.")
    } else {
        "Welcome. At each question, predict what will happen; then watch it happen live.".to_owned()
    };
    // The greeting goes through the screen too, so the lesson under it cannot push it away.
    let mut screen = Screen::new();
    let mut said = String::new();
    for line in ui::layout::wrap(&greeting, "", "", screen.width()) {
        said.push_str(&format!("{}\n", ui::style::strong(line)));
    }
    screen.print(&format!("{said}\n"))?;
    play(&plan, &lessons, &store, &Display::default(), screen).await
}

/// Some stages of one lesson, played in order.
struct Part<'a> {
    lesson: &'a Lesson,
    stages: Vec<&'a Stage>,
}

/// Plays the plan, asking before every question and pausing between stages.
async fn play(
    plan: &[Part<'_>],
    lessons: &[Lesson],
    store: &Store,
    display: &Display,
    mut screen: Screen,
) -> anyhow::Result<i32> {
    restore_cursor_on_ctrl_c();
    let theme = theme();
    let width = screen.width();
    // Everything goes through the screen, which may pause; a quit there stops like a quit at
    // a question.
    macro_rules! show {
        ($($arg:tt)*) => {
            if screen.print(&format!($($arg)*))? == Flow::Quit {
                outln!("{}", stopped(store, lessons, width)?)?;
                return Ok(0);
            }
        };
    }
    // The stages that need Redis share one, as in `lesson N` (`--redis URL`, or a private one
    // started when the first such stage comes and stopped when predict mode ends).
    let mut redis = SharedRedis::default();
    for (p, part) in plan.iter().enumerate() {
        let lesson = part.lesson;
        show!("{}\n", ui::lesson_intro(lesson));
        let mut traces: Vec<StageTrace> = Vec::new();
        for (i, stage) in part.stages.iter().enumerate() {
            show!("{}", ui::stage_intro(lesson, stage));
            let options = RunOptions {
                wire: display.wire,
                redis: redis.for_stage(lesson, stage, display.redis.as_deref()).await?,
                redis_url: display.redis.clone(),
                transports: display.transports(),
                clients: display.clients.map(|n| n as usize),
                client_program: std::env::current_exe().ok(),
                ..RunOptions::default()
            };
            let mut hook = Predictor::new(lesson, stage, store, &*theme, &mut screen);
            let run = runner::run_stage_with(lesson, stage, &Target::Local, &options, &mut hook).await;
            let (spaced, score, output_error) = (hook.spaced, hook.score, hook.output_error.take());
            let trace = match run {
                Ok(trace) => trace,
                Err(RunError::Stopped) => {
                    if let Some(error) = output_error {
                        return Err(error.into());
                    }
                    outln!()?;
                    outln!("{}", stopped(store, lessons, width)?)?;
                    return Ok(0);
                }
                Err(RunError::Redis(e)) => return Err(redis_lost(lesson, stage, &e).into()),
                Err(error) => {
                    return Err(anyhow::Error::new(error).context(format!(
                        "lesson {} stage {} ({}) did not complete",
                        lesson.number, stage.number, stage.title
                    )));
                }
            };
            store.update(|p| p.mark_done(lesson.number, stage.number))?;
            if !spaced {
                show!("\n");
            }
            show!("{}\n", stage_done(lesson, stage, score));
            traces.push(trace);
            let lesson_ends = lesson
                .stages
                .last()
                .is_some_and(|last| last.number == stage.number);
            if lesson_ends {
                show!("\n");
                if traces.len() == lesson.stages.len() {
                    show!("{}\n", ui::summary_at(&traces, width));
                }
                show!("{}\n", ui::exercise(lesson));
            }
            let next = if let Some(next) = part.stages.get(i + 1) {
                Some(format!(
                    "stage {}.{} · {}",
                    lesson.number, next.number, next.title
                ))
            } else {
                plan.get(p + 1)
                    .map(|n| format!("lesson {} · {}", n.lesson.number, n.lesson.title))
            };
            match next {
                Some(next) if !carry_on(&*theme, &next, &mut screen)? => {
                    outln!("{}", stopped(store, lessons, width)?)?;
                    return Ok(0);
                }
                Some(_) => show!("\n"),
                None => show!("{}\n", closing(&store.load()?, lessons, width)),
            }
        }
    }
    Ok(0)
}
