//! Predict mode: commit to a prediction, watch it run live, and see how you did.
//!
//! `realtime-tutor lesson N --predict`, and `realtime-tutor` alone on a terminal (which continues
//! at the first unfinished stage), play stages through the runner's [`StepHook`]:
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
//! The verdict compares the answer with the observed records (`received_by`, the probe's
//! outcome), never with the lesson's expectations: if the server ever behaved differently from
//! what the lesson says, the learner would be scored against what really happened.
//!
//! Every answer and every finished stage is saved at once (see [`crate::progress`]), so quitting
//! with `q` at any prompt loses nothing that was answered.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use dialoguer::theme::{ColorfulTheme, SimpleTheme, Theme};
use dialoguer::{Confirm, MultiSelect};
use owo_colors::OwoColorize;

use super::out::StdoutError;
use super::{Display, Format, UsageError, load_lessons};
use crate::lesson::{Lesson, Stage, StepKind};
use crate::progress::{Progress, Score, Store};
use crate::runner::{self, BeforeStep, RunError, RunOptions, StepHook, Target};
use crate::trace::{ProbeRecord, StageTrace, StepRecord};
use crate::ui;

const INDENT: &str = "  ";

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
    let (lesson, stages) = super::lessons::pick(&lessons, number, stage)?;
    let store = Store::locate()?;
    // Read it now: a damaged file is reported before the lesson starts, not after the first answer.
    store.load()?;
    let plan = [Part { lesson, stages }];
    play(&plan, &lessons, &store, display).await
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
        outln!("{}", closing(&progress, &lessons))?;
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
    outln!("{}", greeting.bold())?;
    outln!()?;
    play(&plan, &lessons, &store, &Display::default()).await
}

/// `realtime-tutor reset [--yes]`.
pub fn reset(yes: bool) -> anyhow::Result<i32> {
    let store = Store::locate()?;
    let path = store.path().display().to_string();
    if !store.path().exists() {
        outln!("Nothing to reset: there is no progress file ({path}).")?;
        return Ok(0);
    }
    if !yes {
        if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
            return Err(UsageError(format!(
                "reset asks before deleting {path}, and there is no terminal to ask on.\n\
                 To delete it without asking: realtime-tutor reset --yes"
            ))
            .into());
        }
        restore_cursor_on_ctrl_c();
        let sure = asked(
            Confirm::with_theme(&*theme())
                .with_prompt(format!(
                    "Forget every finished stage and prediction score (delete {path})?"
                ))
                .default(false)
                .interact_opt(),
        )
        .context("the confirmation prompt failed")?;
        if sure != Some(true) {
            outln!("Kept your progress.")?;
            return Ok(0);
        }
    }
    store.reset()?;
    outln!("Progress reset: {path} is deleted. `realtime-tutor` starts again at stage 1.1.")?;
    Ok(0)
}

/// Records that the learner watched a stage without predicting (`lesson`, `tour`).
///
/// Only a stage shown as text on a terminal counts: a person saw it. JSON and output sent to a
/// pipe or a file do not, so scripts and tests leave progress alone. The lesson itself does not
/// need the file, so a problem with it is a warning (once), not a failure.
pub fn note_seen(lesson: u32, stage: u32) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !std::io::stdout().is_terminal() {
        return;
    }
    let saved = Store::locate().and_then(|store| store.update(|p| p.mark_done(lesson, stage)));
    if let Err(error) = saved
        && !WARNED.swap(true, Ordering::Relaxed)
    {
        super::warn(format_args!("warning: progress not recorded: {error}"));
    }
}

/// Predict mode needs someone at the keyboard and a screen: a clear refusal otherwise.
fn require_terminal(what: &str, instead: &str) -> Result<(), UsageError> {
    let missing: Vec<&str> = [
        ("stdin", std::io::stdin().is_terminal()),
        ("stdout", std::io::stdout().is_terminal()),
        ("stderr", std::io::stderr().is_terminal()),
    ]
    .into_iter()
    .filter(|(_, ok)| !ok)
    .map(|(name, _)| name)
    .collect();
    let names = match missing.as_slice() {
        [] => return Ok(()),
        [one] => format!("{one} is not a terminal"),
        [first @ .., last] => format!("{} and {last} are not terminals", first.join(", ")),
    };
    Err(UsageError(format!(
        "{what} asks you questions, so it needs a terminal, but {names}.\n{instead}"
    )))
}

/// dialoguer's coloured theme, or its plain one when colour is off (`--color never`,
/// `NO_COLOR`, …), decided the same way as for everything else the tutor prints.
fn theme() -> Box<dyn Theme> {
    if anstream::AutoStream::choice(&std::io::stderr()) == anstream::ColorChoice::Never {
        Box::new(SimpleTheme)
    } else {
        Box::new(ColorfulTheme::default())
    }
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
) -> anyhow::Result<i32> {
    restore_cursor_on_ctrl_c();
    let theme = theme();
    // The stages that need Redis share one, as in `lesson N` (`--redis URL`, or a private one
    // started when the first such stage comes and stopped when predict mode ends).
    let mut redis = super::lessons::SharedRedis::default();
    for (p, part) in plan.iter().enumerate() {
        let lesson = part.lesson;
        outln!("{}", ui::lesson_intro(lesson))?;
        let mut traces: Vec<StageTrace> = Vec::new();
        for (i, stage) in part.stages.iter().enumerate() {
            out!("{}", ui::stage_intro(lesson, stage))?;
            let options = RunOptions {
                wire: display.wire,
                redis: redis.for_stage(lesson, stage, display.redis.as_deref()).await?,
                redis_url: display.redis.clone(),
                ..RunOptions::default()
            };
            let mut hook = Predictor::new(lesson, stage, store, &*theme);
            let trace = match runner::run_stage_with(lesson, stage, &Target::Local, &options, &mut hook).await
            {
                Ok(trace) => trace,
                Err(RunError::Stopped) => {
                    if let Some(error) = hook.output_error.take() {
                        return Err(error.into());
                    }
                    outln!()?;
                    outln!("{}", stopped(store, lessons)?)?;
                    return Ok(0);
                }
                Err(RunError::Redis(e)) => return Err(super::lessons::redis_lost(lesson, stage, &e).into()),
                Err(error) => {
                    return Err(anyhow::Error::new(error).context(format!(
                        "lesson {} stage {} ({}) did not complete",
                        lesson.number, stage.number, stage.title
                    )));
                }
            };
            store.update(|p| p.mark_done(lesson.number, stage.number))?;
            if !hook.spaced {
                outln!()?;
            }
            outln!("{}", stage_done(lesson, stage, hook.score))?;
            traces.push(trace);
            let lesson_ends = lesson
                .stages
                .last()
                .is_some_and(|last| last.number == stage.number);
            if lesson_ends {
                outln!()?;
                if traces.len() == lesson.stages.len() {
                    outln!("{}", ui::summary(&traces))?;
                }
                outln!("{}", ui::exercise(lesson))?;
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
                Some(next) if !carry_on(&*theme, &next)? => {
                    outln!("{}", stopped(store, lessons)?)?;
                    return Ok(0);
                }
                Some(_) => outln!()?,
                None => outln!("{}", closing(&store.load()?, lessons))?,
            }
        }
    }
    Ok(0)
}

/// Asks whether to go on to `next`. Enter means yes; n, q or Esc stop.
fn carry_on(theme: &dyn Theme, next: &str) -> anyhow::Result<bool> {
    drop_typed_ahead();
    let answer = asked(
        Confirm::with_theme(theme)
            .with_prompt(format!("Continue with {next}?"))
            .default(true)
            .report(false)
            .interact_opt(),
    )
    .context("the prompt failed")?;
    Ok(answer == Some(true))
}

/// Throws away keys typed before a prompt was shown. The terminal keeps keystrokes until someone
/// reads them, so a second Enter pressed at "Continue?" would otherwise confirm the next
/// question, unseen, as "nobody". A prediction must be made after reading the question.
fn drop_typed_ahead() {
    #[cfg(unix)]
    if std::io::stdin().is_terminal() {
        // Best effort: a terminal that refuses only means typed-ahead keys stay.
        let _ = rustix::termios::tcflush(std::io::stdin(), rustix::termios::QueueSelector::IFlush);
    }
}

/// Console prompts hide the cursor while they wait for a key. Ctrl-C would end the process with
/// the cursor still hidden, so predict mode handles Ctrl-C itself (see [`stop_on_ctrl_c`]).
///
/// Ctrl-C arrives two ways: as the signal SIGINT while a stage runs, and, while a prompt has
/// the terminal in raw mode, as a keystroke that the prompt reports as "interrupted" (and turns
/// into SIGINT too). [`asked`] catches the second, this task the first.
fn restore_cursor_on_ctrl_c() {
    tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop_on_ctrl_c();
        }
    });
}

/// Shows the cursor, says what was kept, and exits with the conventional status 130. Both
/// paths of Ctrl-C may get here at once: the first one exits, the other waits for it.
fn stop_on_ctrl_c() -> ! {
    static STOPPING: AtomicBool = AtomicBool::new(false);
    if !STOPPING.swap(true, Ordering::SeqCst) {
        let _ = dialoguer::console::Term::stderr().show_cursor();
        super::warn(format_args!(
            "\nStopped. Everything answered so far is saved; `realtime-tutor` continues."
        ));
        std::process::exit(130);
    }
    loop {
        std::thread::park();
    }
}

/// A prompt's result, with Ctrl-C handled as a stop rather than reported as an error.
fn asked<T>(result: dialoguer::Result<T>) -> std::io::Result<T> {
    result.map_err(|dialoguer::Error::IO(e)| {
        if e.kind() == std::io::ErrorKind::Interrupted {
            stop_on_ctrl_c();
        }
        e
    })
}

/// The hook that asks before a step and judges after it.
struct Predictor<'a> {
    lesson: &'a Lesson,
    stage: &'a Stage,
    store: &'a Store,
    theme: &'a dyn Theme,
    /// Every client of the stage, so the trace columns line up from the first step on.
    clients: Vec<String>,
    /// The answer given before the step that is running.
    pending: Option<Answer>,
    /// Predictions in this run of the stage.
    score: Score,
    /// The last thing printed ends with a blank line (a verdict does).
    spaced: bool,
    /// Why printing failed, if it did (see [`Predictor::printed`]).
    output_error: Option<StdoutError>,
}

impl<'a> Predictor<'a> {
    fn new(lesson: &'a Lesson, stage: &'a Stage, store: &'a Store, theme: &'a dyn Theme) -> Self {
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
    /// here and the stage stops; [`play`] then reports it like any other write error.
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
        let (Some(question), Some(ask)) = (step.step.question.as_deref(), Ask::for_step(step)) else {
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

// ---- the question, the answer, the verdict: plain data, judged without I/O ----

/// What the learner is asked before a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// A probe: will it connect (or answer)?
    YesNo,
    /// A delivery: which of `options` (the clients connected when the event goes out) receive
    /// it. `subject` is the client the server acts for, described by `role`.
    Who {
        options: Vec<String>,
        subject: String,
        role: &'static str,
    },
}

impl Ask {
    /// The question that fits a step, or none (a burst is several deliveries at once).
    pub fn for_step(step: &BeforeStep<'_>) -> Option<Ask> {
        match &step.step.kind {
            StepKind::Probe { .. } => Some(Ask::YesNo),
            // By the time the connection handler emits, the newcomer is connected too.
            StepKind::Connect { client, .. } => {
                let mut options = step.connected.clone();
                options.push(client.clone());
                Some(Ask::Who {
                    options,
                    subject: client.clone(),
                    role: "the newcomer",
                })
            }
            StepKind::Emit { client, .. } | StepKind::QueuedEmit { client, .. } => Some(Ask::Who {
                options: step.connected.clone(),
                subject: client.clone(),
                role: "the sender",
            }),
            StepKind::Burst { .. } | StepKind::Disconnect { .. } | StepKind::RestartServer => None,
        }
    }
}

/// The learner's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    YesNo(bool),
    /// Everyone who was offered, and who was chosen.
    Who {
        options: Vec<String>,
        chosen: Vec<String>,
    },
}

/// One client's line of a verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientVerdict {
    pub name: String,
    pub predicted: bool,
    pub received: bool,
}

/// The answer set against what was observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    YesNo {
        predicted: bool,
        observed: bool,
        /// The first thing the probe observed, e.g. `connection refused: …`.
        detail: String,
    },
    Who(Vec<ClientVerdict>),
}

impl Verdict {
    /// Right when every part of the prediction matches the observation.
    pub fn is_right(&self) -> bool {
        match self {
            Verdict::YesNo {
                predicted, observed, ..
            } => predicted == observed,
            Verdict::Who(rows) => rows.iter().all(|r| r.predicted == r.received),
        }
    }
}

/// Compares an answer with the records the step produced.
pub fn judge(answer: &Answer, records: &[StepRecord]) -> Verdict {
    match answer {
        Answer::YesNo(predicted) => {
            let probe = records.iter().find_map(|r| r.probe.as_ref());
            // The same reading as the trace's ✓: a Socket.IO connection, or an HTTP answer
            // below 400.
            let observed = probe.is_some_and(ProbeRecord::succeeded);
            let detail = probe
                .and_then(|p| p.outcome_line().map(str::to_owned))
                .unwrap_or_else(|| "no probe result was recorded".into());
            Verdict::YesNo {
                predicted: *predicted,
                observed,
                detail,
            }
        }
        Answer::Who { options, chosen } => Verdict::Who(
            options
                .iter()
                .map(|name| ClientVerdict {
                    name: name.clone(),
                    predicted: chosen.contains(name),
                    // An answer to a callback reaches its client like a delivery, though it is
                    // an acknowledgement, not an emit.
                    received: !records.is_empty()
                        && records.iter().all(|r| {
                            r.received_by.contains(name)
                                || matches!(r.acks.get(name), Some(crate::trace::Ack::Answered(_)))
                        }),
                })
                .collect(),
        ),
    }
}

/// Asks on the terminal. `None` means the learner quit (q or Esc).
fn prompt(ask: &Ask, theme: &dyn Theme) -> std::io::Result<Option<Answer>> {
    match ask {
        Ask::YesNo => Ok(asked(
            Confirm::with_theme(theme)
                .with_prompt("Your prediction")
                .report(false)
                .interact_opt(),
        )?
        .map(Answer::YesNo)),
        Ask::Who {
            options,
            subject,
            role,
        } => {
            let labels: Vec<String> = options
                .iter()
                .map(|name| {
                    if name == subject {
                        format!("{name} ({role})")
                    } else {
                        name.clone()
                    }
                })
                .collect();
            let chosen = asked(
                MultiSelect::with_theme(theme)
                    .with_prompt("Your prediction: who receives it?")
                    .items(&labels)
                    .report(false)
                    .interact_opt(),
            )?;
            Ok(chosen.map(|indices| Answer::Who {
                options: options.clone(),
                chosen: indices.into_iter().map(|i| options[i].clone()).collect(),
            }))
        }
    }
}

// ---- rendering (colour lives here and in `trace::text`) ----

fn render_question(question: &str, ask: &Ask) -> String {
    let keys = match ask {
        Ask::YesNo => "y: yes · n: no · q: quit",
        Ask::Who { .. } => "↑/↓: move · space: choose · Enter: confirm (none chosen = nobody) · q: quit",
    };
    format!(
        "{INDENT}{} {}\n{INDENT}  {}",
        "?".yellow().bold(),
        question.bold(),
        keys.dimmed()
    )
}

fn render_answer(answer: &Answer) -> String {
    let said = match answer {
        Answer::YesNo(true) => "yes".to_owned(),
        Answer::YesNo(false) => "no".to_owned(),
        Answer::Who { chosen, .. } if chosen.is_empty() => "nobody".to_owned(),
        Answer::Who { chosen, .. } => chosen.join(", "),
    };
    format!("{INDENT}  You predicted: {}", said.bold())
}

/// The verdict, then the lesson's one-line explanation.
pub fn render_verdict(verdict: &Verdict, why: Option<&str>) -> String {
    let mut out = String::new();
    let mark = |right: bool| {
        if right {
            format!("{}", "✓ right".green())
        } else {
            format!("{}", "✗ wrong".red())
        }
    };
    match verdict {
        Verdict::YesNo {
            predicted,
            observed,
            detail,
        } => {
            let said = if *predicted { "yes" } else { "no" };
            let did = if *observed { "it did" } else { "it did not" };
            let link = if predicted == observed { "and" } else { "but" };
            out.push_str(&format!(
                "{INDENT}{}  you said {said}, {link} {did} ({detail})",
                mark(predicted == observed)
            ));
        }
        Verdict::Who(rows) => {
            let right = rows.iter().filter(|r| r.predicted == r.received).count();
            let heading = format!("Your prediction: {right} of {} clients right", rows.len());
            out.push_str(&format!("{INDENT}{}", heading.bold()));
            let width = rows.iter().map(|r| r.name.chars().count()).max().unwrap_or(0);
            for row in rows {
                let what = match (row.received, row.predicted) {
                    (true, true) => "received it, as you predicted",
                    (false, false) => "did not receive it, as you predicted",
                    (true, false) => "received it, but you predicted it would not",
                    (false, true) => "did not receive it, but you predicted it would",
                };
                out.push_str(&format!(
                    "\n{INDENT}{INDENT}{}  {}  {what}",
                    format!("{:width$}", row.name).cyan(),
                    mark(row.predicted == row.received)
                ));
            }
        }
    }
    if let Some(why) = why {
        out.push_str(&format!("\n{INDENT}{} {why}", "Why:".bold()));
    }
    out
}

fn stage_done(lesson: &Lesson, stage: &Stage, score: Score) -> String {
    let mut line = format!("{} Stage {}.{} done", "✓".green(), lesson.number, stage.number);
    if score.answered > 0 {
        line.push_str(&format!(
            " · questions answered right: {} of {}",
            score.right, score.answered
        ));
    }
    line.bold().to_string()
}

/// What to say after a quit: everything answered is kept, and where to pick up.
fn stopped(store: &Store, lessons: &[Lesson]) -> anyhow::Result<String> {
    let progress = store.load()?;
    let next = match progress.first_unfinished(lessons) {
        Some((l, s)) => format!(" Run `realtime-tutor` to pick up at stage {l}.{s}."),
        None => String::new(),
    };
    Ok(format!("Stopped. Your progress is saved.{next}"))
}

/// The closing words: the overall score, and what remains.
fn closing(progress: &Progress, lessons: &[Lesson]) -> String {
    let mut total = Score::default();
    let mut unanswered: Option<u32> = None;
    for lesson in lessons {
        for stage in &lesson.stages {
            let score = progress.score(lesson.number, stage.number);
            total += score;
            let questions = stage.steps.iter().filter(|s| s.question.is_some()).count() as u32;
            if score.answered < questions && unanswered.is_none() {
                unanswered = Some(lesson.number);
            }
        }
    }
    let score = format!("questions answered right: {} of {}", total.right, total.answered);
    match progress.first_unfinished(lessons) {
        Some((l, s)) => {
            format!("Next time: stage {l}.{s} ({score}). Run `realtime-tutor` to continue there.")
        }
        None => {
            let mut out = format!("Every stage is done · {score}.");
            if let Some(n) = unanswered {
                out.push_str(&format!(
                    "\nSome questions are still unanswered: try `realtime-tutor lesson {n} --predict`."
                ));
            }
            out.push_str("\nReplay any lesson with `realtime-tutor lesson N --predict`, or start over with `realtime-tutor reset`.");
            out
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::lesson::{ProbeKind, Step};
    use crate::trace::{Kind, ProbeOutcome};

    fn record(received_by: &[&str], not_received_by: &[&str]) -> StepRecord {
        StepRecord {
            sender: Some("dave".into()),
            event: Some("hi".into()),
            received_by: received_by.iter().map(|s| s.to_string()).collect(),
            not_received_by: not_received_by.iter().map(|s| s.to_string()).collect(),
            ..StepRecord::new(2, 2, 4, Kind::Connect, "dave connects".into())
        }
    }

    fn who(chosen: &[&str]) -> Answer {
        Answer::Who {
            options: ["alice", "bob", "dave"].map(String::from).to_vec(),
            chosen: chosen.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn each_client_is_judged_against_what_it_received() {
        let observed = [record(&["alice", "bob"], &["dave"])];
        let right = judge(&who(&["bob", "alice"]), &observed);
        assert!(right.is_right());
        let wrong = judge(&who(&["alice", "bob", "dave"]), &observed);
        assert!(!wrong.is_right());
        let Verdict::Who(rows) = &wrong else { panic!() };
        let dave = rows.iter().find(|r| r.name == "dave").unwrap();
        assert!(dave.predicted && !dave.received);
        assert_eq!(rows.iter().filter(|r| r.predicted == r.received).count(), 2);
        let text = anstream::adapter::strip_str(&render_verdict(&wrong, Some("because"))).to_string();
        assert!(text.contains("2 of 3 clients right"), "{text}");
        assert!(
            text.contains("dave   ✗ wrong  did not receive it, but you predicted it would"),
            "{text}"
        );
        assert!(text.contains("Why: because"), "{text}");
    }

    #[test]
    fn nobody_is_a_prediction_too() {
        let observed = [record(&[], &["alice"])];
        let answer = Answer::Who {
            options: vec!["alice".into()],
            chosen: vec![],
        };
        assert!(judge(&answer, &observed).is_right());
    }

    #[test]
    fn a_probe_is_judged_by_its_outcome() {
        let mut refused = record(&[], &[]);
        refused.kind = Kind::Probe;
        refused.probe = Some(ProbeRecord {
            method: ProbeKind::Websocket,
            url: "ws://127.0.0.1:<port>/socket.io/".into(),
            outcome: ProbeOutcome::Http,
            status: Some(404),
            observed: vec!["404 Not Found: the upgrade was not accepted".into()],
        });
        let verdict = judge(&Answer::YesNo(true), std::slice::from_ref(&refused));
        assert!(!verdict.is_right());
        let text = anstream::adapter::strip_str(&render_verdict(&verdict, None)).to_string();
        assert!(
            text.contains("you said yes, but it did not (404 Not Found"),
            "{text}"
        );
        assert!(judge(&Answer::YesNo(false), &[refused]).is_right());
    }

    #[test]
    fn the_newcomer_is_offered_when_a_connect_step_is_asked() {
        let step = Step {
            kind: StepKind::Connect {
                client: "dave".into(),
                node: 0,
                transports: None,
            },
            expect_received_by: None,
            question: Some("who?".into()),
            why: Some("because".into()),
        };
        let before = BeforeStep {
            number: 4,
            step: &step,
            connected: vec!["alice".into(), "bob".into()],
        };
        let Some(Ask::Who { options, subject, .. }) = Ask::for_step(&before) else {
            panic!("a connect step asks who")
        };
        assert_eq!(options, ["alice", "bob", "dave"]);
        assert_eq!(subject, "dave");
    }
}
