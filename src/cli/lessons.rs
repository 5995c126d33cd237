//! `list`, `lesson` and `tour`: play lessons and print their traces.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;

use super::diagram::{Pending, SvgTarget};
use super::lookup::{load_lessons, pick};
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
            // The status moves under the title when the line would be too wide.
            let lead = format!("       {}.{}  ", lesson.number, stage.number);
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
    if SvgTarget::is_stdout(svg) {
        // The SVG is the whole output: run the stages without printing anything else.
        for stage in &stages {
            let trace = run_local(lesson, stage, display, &mut played.redis).await?;
            played.traces.push(trace);
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
    Ok(0)
}

/// `realtime-tutor tour`.
pub async fn tour(pause: bool, display: &Display) -> anyhow::Result<i32> {
    let lessons = load_lessons()?;
    let mut pager = Pager { pause };
    let mut played = Played::default();
    for lesson in &lessons {
        let stages: Vec<&Stage> = lesson.stages.iter().collect();
        let more = Some(lesson.number) != lessons.last().map(|l| l.number);
        if !play(lesson, &stages, true, more, &mut pager, display, &mut played).await? {
            break;
        }
    }
    Ok(0)
}

/// What the stages of one command share as they play: their traces so far, and the Redis.
#[derive(Debug, Default)]
struct Played {
    traces: Vec<StageTrace>,
    redis: SharedRedis,
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
    } = played;
    let first = traces.len();
    if display.format == Format::Text {
        outln!("{}", ui::lesson_intro(lesson))?;
    }
    for (i, stage) in stages.iter().enumerate() {
        let trace = run_local(lesson, stage, display, shared).await?;
        match display.format {
            Format::Json => {
                for step in &trace.steps {
                    outln!("{}", json::step_line(step))?;
                }
            }
            Format::Text => {
                out!("{}", ui::stage_intro(lesson, stage))?;
                outln!("{}", ui::stage_trace(&trace))?;
                note_seen(lesson.number, stage.number);
            }
        }
        traces.push(trace);
        let another_stage = i + 1 < stages.len();
        if display.format == Format::Text && another_stage && !pager.next()? {
            return Ok(false);
        }
    }
    if display.format == Format::Text && whole {
        outln!("{}", ui::summary(&traces[first..]))?;
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
