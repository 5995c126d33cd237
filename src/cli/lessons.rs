//! `list`, `lesson` and `tour`: play lessons and print their traces.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;

use super::diagram::{Pending, SvgTarget};
use super::lookup::{Place, load_lessons, pick};
use super::missing::{EXIT_MISSING_PART, Missing};
use super::shared_redis::{SharedRedis, redis_lost};
use super::{Display, Format};
use crate::lesson::{Lesson, Stage};
use crate::progress::{Score, Store};
use crate::runner::{self, RunOptions, Target};
use crate::trace::{StageTrace, json};
use crate::ui;

/// `realtime-tutor list`: the lessons, and for each stage whether it is done and how the
/// learner's predictions went (see [`crate::progress`]).
pub fn list(format: Format) -> anyhow::Result<i32> {
    let lessons = load_lessons()?;
    let store = Store::locate()?;
    let progress = store.load()?;
    if format == Format::Json {
        for lesson in &lessons {
            let stages: Vec<_> = lesson
                .stages
                .iter()
                .map(|s| {
                    let score = progress.score(lesson.number, s.number);
                    serde_json::json!({
                        "stage": s.number,
                        "title": s.title,
                        "done": progress.is_done(lesson.number, s.number),
                        "predictions": {"right": score.right, "answered": score.answered},
                    })
                })
                .collect();
            let line = serde_json::json!({"lesson": lesson.number, "title": lesson.title, "stages": stages});
            outln!("{}", json::to_string(&line)?)?;
        }
        return Ok(0);
    }
    use crate::ui::style::{self, DOT, OK};
    let width = lessons
        .iter()
        .flat_map(|l| l.stages.iter())
        .map(|s| s.title.chars().count())
        .max()
        .unwrap_or(0);
    let labels = lessons
        .iter()
        .flat_map(|l| {
            l.stages
                .iter()
                .map(move |s| format!("{}.{}", l.number, s.number).len())
        })
        .max()
        .unwrap_or(0);
    let (mut done, mut stages, mut total) = (0, 0, Score::default());
    outln!("{}", style::strong("Lessons"))?;
    for lesson in &lessons {
        outln!(
            "  {}  {}",
            style::strong(lesson.number),
            style::strong(&lesson.title)
        )?;
        for stage in &lesson.stages {
            let mut status = if progress.is_done(lesson.number, stage.number) {
                done += 1;
                style::good(format!("{OK} done"))
            } else {
                style::note(format!("{DOT} pending"))
            };
            let score = progress.score(lesson.number, stage.number);
            if let Some(right) = style::questions_right(score.right, score.answered) {
                status.push_str(&format!(" · {right}"));
            }
            total += score;
            stages += 1;
            let title = format!("{:width$}", stage.title);
            // The status moves under the title when the line would be too wide. Stage numbers
            // are right-aligned to the widest (`9.8`, `10.1`), so the titles keep one column.
            let label = format!("{}.{}", lesson.number, stage.number);
            let lead = format!("      {label:>labels$}  ");
            let pieces = [("", title), ("  ", status)];
            out!("{}", ui::layout::flow(&lead, pieces, lead.len(), ui::width()))?;
        }
    }
    outln!()?;
    let mut summary = format!("Done: {done} of {stages} stages");
    if total.answered > 0 {
        let (right, answered) = (total.right, total.answered);
        summary.push_str(&format!(" · questions answered right: {right} of {answered}"));
    }
    outln!("{summary}")?;
    let kept = match store.link_target() {
        Some(target) => format!(
            "(kept in {}, a link: saved to {})",
            store.path().display(),
            target.display()
        ),
        None => format!("(kept in {})", store.path().display()),
    };
    outln!("{}", style::note(kept))?;
    outln!()?;
    match progress.first_unfinished(&lessons) {
        Some((l, s)) => {
            outln!("Continue with `realtime-tutor` (it asks you to predict, starting at stage {l}.{s}).")?
        }
        None => outln!("Every stage is done. Start over with `realtime-tutor reset`.")?,
    }
    let run = "Play one lesson: `realtime-tutor lesson N`; all of them: `realtime-tutor tour`.";
    out!("{}", ui::layout::wrapped(run, "", "", ui::width()))?;
    Ok(0)
}

/// `realtime-tutor lesson N [--stage K] [--svg FILE]`.
pub async fn lesson(
    number: u32,
    stage: Option<u32>,
    pause: bool,
    display: &Display,
    svg: Option<&SvgTarget>,
) -> anyhow::Result<i32> {
    let lessons = load_lessons()?;
    let (lesson, stages) = pick(&lessons, number, stage)?;
    let diagram = svg.map(Pending::open).transpose()?;
    let mut played = Played::default();
    let svg_only = SvgTarget::is_stdout(svg);
    if svg_only {
        // The SVG is the whole output: run the stages without printing anything else.
        for stage in &stages {
            match run_local(lesson, stage, display, &mut played.redis).await {
                Ok(trace) => played.traces.push(trace),
                Err(error) => {
                    played.missing.record(lesson, stage, error)?;
                }
            }
        }
    } else {
        let mut pager = Pager { pause };
        play(
            lesson,
            &stages,
            stage.is_none(),
            false,
            &mut pager,
            display,
            &mut played,
        )
        .await?;
    }
    if let Some(diagram) = diagram {
        diagram.write(&played.traces)?;
    }
    finish(&played.missing, display.format == Format::Text && !svg_only)
}

/// `realtime-tutor tour [--from N[.K]]`: every lesson in order, or from lesson N (stage K) on.
pub async fn tour(from: Option<Place>, pause: bool, display: &Display) -> anyhow::Result<i32> {
    let lessons = load_lessons()?;
    let mut pager = Pager { pause };
    let mut played = Played::default();
    // clap has checked that the place exists (`lookup::Place::find`).
    let start = lessons
        .iter()
        .position(|l| from.is_none_or(|from| from.lesson == l.number))
        .unwrap_or(0);
    for lesson in &lessons[start..] {
        let first_stage = match from {
            Some(Place {
                lesson: n,
                stage: Some(k),
            }) if n == lesson.number => k,
            _ => 0,
        };
        let stages: Vec<&Stage> = lesson.stages.iter().filter(|s| s.number >= first_stage).collect();
        let more = Some(lesson.number) != lessons.last().map(|l| l.number);
        if !play(lesson, &stages, true, more, &mut pager, display, &mut played).await? {
            // The learner chose to stop: what was not shown is not news to them.
            return Ok(0);
        }
    }
    finish(&played.missing, display.format == Format::Text)
}

/// Ends a run: names the stages that did not run (on standard output after a text run, where
/// the reader is; on standard error when standard output is JSON or an SVG), and returns the
/// exit status, [`EXIT_MISSING_PART`] if any did not.
fn finish(missing: &Missing, text: bool) -> anyhow::Result<i32> {
    let Some(closing) = missing.closing() else {
        return Ok(0);
    };
    if text {
        outln!("{closing}")?;
    } else {
        super::warn(format_args!("{closing}"));
    }
    Ok(EXIT_MISSING_PART)
}

/// What the stages of one command share as they play: their traces so far, the Redis, and the
/// stages that could not run.
#[derive(Debug, Default)]
struct Played {
    traces: Vec<StageTrace>,
    redis: SharedRedis,
    missing: Missing,
}

/// Runs a stage against its own local server(s), with the Redis a stage may need.
async fn run_local(
    lesson: &Lesson,
    stage: &Stage,
    display: &Display,
    shared: &mut SharedRedis,
) -> anyhow::Result<StageTrace> {
    let options = RunOptions {
        wire: display.wire,
        redis: shared.for_stage(lesson, stage, display.redis.as_deref()).await?,
        redis_url: display.redis.clone(),
        transports: display.transports(),
        clients: display.clients.map(|n| n as usize),
        // Lesson 10 runs its clients in a second copy of this program.
        client_program: std::env::current_exe().ok(),
        ..RunOptions::default()
    };
    match runner::run_stage(lesson, stage, &Target::Local, &options).await {
        Err(runner::RunError::Redis(e)) => return Err(redis_lost(lesson, stage, &e).into()),
        outcome => outcome,
    }
    .with_context(|| {
        format!(
            "lesson {} stage {} ({}) did not complete",
            lesson.number, stage.number, stage.title
        )
    })
}

/// Plays the given stages of a lesson (`whole`: all of them, so end with the summary and the
/// exercise; `more`: another lesson follows), keeping each stage's trace in `traces`. Returns
/// false when the learner chose to quit.
async fn play(
    lesson: &Lesson,
    stages: &[&Stage],
    whole: bool,
    more: bool,
    pager: &mut Pager,
    display: &Display,
    played: &mut Played,
) -> anyhow::Result<bool> {
    let Played {
        traces,
        redis: shared,
        missing,
    } = played;
    let first = traces.len();
    if display.format == Format::Text {
        outln!("{}", ui::lesson_intro(lesson))?;
    }
    for (i, stage) in stages.iter().enumerate() {
        match (run_local(lesson, stage, display, shared).await, display.format) {
            (Ok(trace), Format::Json) => {
                for step in &trace.steps {
                    outln!("{}", json::step_line(step))?;
                }
                if let Some(line) = json::measure_line(&trace) {
                    outln!("{line}")?;
                }
                traces.push(trace);
            }
            (Ok(trace), Format::Text) => {
                out!("{}", ui::stage_intro(lesson, stage))?;
                outln!("{}", ui::stage_trace(&trace))?;
                note_seen(lesson.number, stage.number);
                traces.push(trace);
            }
            // A missing part: the stage is shown as not run, with what to install, and the
            // others go on. Any other error ends the command, as before.
            (Err(error), format) => {
                let notice = missing.record(lesson, stage, error)?;
                if format == Format::Text {
                    out!("{}", ui::stage_intro(lesson, stage))?;
                    outln!("{notice}")?;
                    outln!()?;
                }
            }
        }
        let another_stage = i + 1 < stages.len();
        if display.format == Format::Text && another_stage && !pager.next()? {
            return Ok(false);
        }
    }
    if display.format == Format::Text && whole {
        // A summary of the stages that ran, and which it leaves out; none if none ran.
        if traces.len() > first {
            outln!("{}", ui::summary(&traces[first..]))?;
            if let Some(left_out) = missing.in_lesson(lesson.number) {
                outln!("{}", ui::style::note(left_out))?;
                outln!()?;
            }
        }
        outln!("{}", ui::exercise(lesson))?;
        if more && !pager.next()? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Records that the learner watched a stage without predicting (`lesson`, `tour`).
///
/// Only a stage shown as text on a terminal counts: a person saw it. JSON and output sent to a
/// pipe or a file do not, so scripts and tests leave progress alone. The lesson itself does not
/// need the file, so a problem with it is a warning (once), not a failure.
fn note_seen(lesson: u32, stage: u32) {
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

/// Waits for a key between stages when a person is reading: Enter (or space) goes on, q or Esc
/// stops.
struct Pager {
    pause: bool,
}

impl Pager {
    /// Returns false when the learner chose to stop.
    fn next(&mut self) -> anyhow::Result<bool> {
        use crate::ui::style;
        use dialoguer::console::{Key, Term};
        if !self.pause {
            return Ok(true);
        }
        let term = Term::stdout();
        out!("{}", style::note("Press Enter to continue, q to quit "))?;
        super::out::flush()?;
        let go_on = loop {
            match term.read_key()? {
                Key::Enter | Key::Char(' ') => break true,
                Key::Char('q') | Key::Char('Q') | Key::Escape => break false,
                _ => {}
            }
        };
        // Clear the prompt line so the next stage starts on a clean line.
        term.clear_line()?;
        Ok(go_on)
    }
}
