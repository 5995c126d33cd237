//! Stages that could not run because a part is missing from this machine (today the one part a
//! stage can need is `redis-server`, for lesson 7's Redis stages).
//!
//! A missing part is not the learner's mistake, and it concerns a few stages, not the course:
//! so it never stops `lesson` or `tour`. The stage is shown as not run, in place of its trace,
//! with what to install; the other stages go on; the end names every stage that did not run and
//! how to run it once the part is there; and the exit status is [`EXIT_MISSING_PART`], so a
//! script can tell "install something" from a failure (1) and a usage error (2).

use std::fmt::Write;

use super::NeedsRedis;
use crate::lesson::{Lesson, Stage};
use crate::parts::redis::{EXIT_NO_REDIS, INSTALL_HINT};
use crate::ui::style::{self, INDENT};

/// The exit status when some stages could not run because a part is missing.
pub const EXIT_MISSING_PART: i32 = EXIT_NO_REDIS;

/// The width the notices are wrapped to: the tutor's 80 columns.
const WIDTH: usize = 80;

/// One stage that did not run, and the part it lacked.
#[derive(Debug)]
struct NotRun {
    lesson: u32,
    stage: u32,
    title: String,
    part: &'static str,
}

/// The stages of one command that did not run.
#[derive(Debug, Default)]
pub struct Missing {
    stages: Vec<NotRun>,
}

impl Missing {
    /// When `error` says that a part is missing, records the stage as not run and returns the
    /// notice to show in place of its trace; any other error is given back unchanged.
    pub fn record(&mut self, lesson: &Lesson, stage: &Stage, error: anyhow::Error) -> anyhow::Result<String> {
        match error.downcast_ref::<NeedsRedis>() {
            Some(needs) if needs.status == EXIT_NO_REDIS => {}
            _ => return Err(error),
        }
        let part = "redis-server";
        let first = self
            .stages
            .iter()
            .find(|s| s.part == part)
            .map(|s| (s.lesson, s.stage));
        self.stages.push(NotRun {
            lesson: lesson.number,
            stage: stage.number,
            title: stage.title.clone(),
            part,
        });
        let text = match first {
            None => format!(
                "Not run: this stage needs Redis, and there is no `{part}` on your PATH. \
                 To run it, {INSTALL_HINT}."
            ),
            Some((l, s)) => format!("Not run: this stage needs `{part}` too (see stage {l}.{s})."),
        };
        Ok(notice(&text))
    }

    /// The stages of `lesson` that did not run, as `7.2 and 7.3`, if any.
    pub fn in_lesson(&self, lesson: u32) -> Option<String> {
        let names: Vec<String> = self
            .stages
            .iter()
            .filter(|s| s.lesson == lesson)
            .map(|s| format!("{}.{}", s.lesson, s.stage))
            .collect();
        match names.as_slice() {
            [] => None,
            [one] => Some(format!("Stage {one} did not run: this summary leaves it out.")),
            [rest @ .., last] => Some(format!(
                "Stages {} and {last} did not run: this summary leaves them out.",
                rest.join(", ")
            )),
        }
    }

    /// The closing words: every stage that did not run, why, and the commands that run each
    /// once the part is installed. `None` when every stage ran.
    pub fn closing(&self) -> Option<String> {
        let first = self.stages.first()?;
        let mut out = String::new();
        let count = match self.stages.len() {
            1 => "1 stage".to_owned(),
            n => format!("{n} stages"),
        };
        let heading = format!("Not run: {count}, because `{}` is not installed", first.part);
        let _ = writeln!(out, "{}", style::strong(heading));
        for s in &self.stages {
            let line = format!("{INDENT}{}.{}  {}", s.lesson, s.stage, s.title);
            let _ = writeln!(out, "{}", clip(&line));
        }
        let them = if self.stages.len() == 1 { "it" } else { "them" };
        let then = format!("To run {them}: {INSTALL_HINT}; then:");
        let _ = writeln!(out, "{}", wrap(&then, "", "", 0));
        for s in &self.stages {
            let _ = writeln!(out, "{INDENT}realtime-tutor lesson {}.{}", s.lesson, s.stage);
        }
        Some(out.trim_end().to_owned())
    }
}

/// A notice in place of a stage's trace: under the "Live trace" heading, marked ✗.
fn notice(text: &str) -> String {
    let first = format!("{INDENT}{} ", style::no());
    wrap(text, &first, &format!("{INDENT}  "), INDENT.len() + 2)
}

/// `text` wrapped to [`WIDTH`] columns: the first line after `first`, the others after `rest`,
/// both `indent` columns wide (`first` may hold colour codes, so its width is given).
fn wrap(text: &str, first: &str, rest: &str, indent: usize) -> String {
    // No breaks at hyphens: `redis-server` is a name to type, so it stays whole.
    let options = textwrap::Options::new(WIDTH - indent).word_splitter(textwrap::WordSplitter::NoHyphenation);
    textwrap::wrap(text, options)
        .iter()
        .enumerate()
        .map(|(i, line)| format!("{}{line}", if i == 0 { first } else { rest }))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A line cut to [`WIDTH`] columns with `…`, for a stage title that would not fit.
fn clip(line: &str) -> String {
    if line.chars().count() <= WIDTH {
        return line.to_owned();
    }
    let kept: String = line.chars().take(WIDTH - 1).collect();
    format!("{kept}…")
}
