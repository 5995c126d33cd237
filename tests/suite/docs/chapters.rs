//! Each lesson's book chapter, `book/src/lessons/NN-slug.md`, rendered whole from its folder.
//!
//! The chapter holds no lesson material of its own: it is a frame of headings and captions
//! around mdBook includes of the lesson's files (`intro.md`, each `stage-K.md` and
//! `stage-K.js`, `exercise.md`), of the Rust ANCHOR regions each stage names in `lesson.toml`,
//! of the snapshot traces in `snapshots/` and of the diagrams in `book/src/diagrams/`. So the
//! book shows the very files the command line reads and the tests check.
//!
//! What a chapter says beyond that frame lives in the lesson's folder too, in an optional
//! `book.toml` (see [`Extras`]): a sentence that replaces a default one, a caption note, a
//! paragraph after a stage, a section before the exercise. A copied lesson folder therefore
//! brings its whole chapter with it.

use std::collections::BTreeMap;
use std::path::Path;

use realtime_tutor::lesson::{Lesson, Stage};
use serde::Deserialize;

use super::regions::UPDATE_COMMAND;

/// The optional file in a lesson folder with what its chapter adds to the generated frame.
pub const EXTRAS_FILE: &str = "book.toml";

/// What a lesson's `book.toml` may say. Every field is optional; an unknown one is an error, so
/// a misspelt key fails the suite instead of vanishing from the book.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extras {
    /// Replaces "To run this lesson yourself:" above the command.
    run: Option<String>,
    /// Replaces the paragraph that says how to read a stage's sections.
    reading: Option<String>,
    /// Sections after the summary, before "What next" (Markdown, headings included).
    end: Option<String>,
    /// By stage number (`[stage.2]`): notes for that stage's section.
    #[serde(default)]
    stage: BTreeMap<u32, StageExtras>,
}

/// What one stage's section adds.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageExtras {
    /// Follows the live trace's caption, after a colon.
    trace_note: Option<String>,
    /// Follows the diagram's caption, after a colon.
    diagram_note: Option<String>,
    /// A paragraph after the stage's diagram.
    after: Option<String>,
}

impl Extras {
    /// Reads `lessons/<folder>/book.toml`; no file means no extras.
    pub fn read(root: &Path, folder: &str) -> Result<Extras, String> {
        let path = root.join("lessons").join(folder).join(EXTRAS_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| format!("lessons/{folder}/{EXTRAS_FILE}: {e}")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Extras::default()),
            Err(e) => Err(format!("lessons/{folder}/{EXTRAS_FILE}: {e}")),
        }
    }
}

/// The chapter's path relative to `book/src`.
pub fn chapter_path(lesson: &Lesson) -> String {
    format!("lessons/{}.md", lesson.folder)
}

const RUN: &str = "To run this lesson yourself:";

const READING: &str = "Each stage below gives the explanation, the Node.js code the stage is about, \
the Rust code the\ntutor runs in its place, and the live trace: what the simulated clients received \
when the\nstage ran. The trace is the snapshot the test suite compares every run against, so it \
is\nexactly what the command prints under \"Live trace\". Under it, the same run drawn as a \
sequence\ndiagram: one arrow per event that crossed the wire, a red mark where a client received \
nothing.";

/// The whole chapter of `lesson`, or why it cannot be written (extras naming a stage the lesson
/// does not have).
pub fn chapter(lesson: &Lesson, extras: &Extras) -> Result<String, String> {
    if let Some(k) = extras
        .stage
        .keys()
        .find(|k| !lesson.stages.iter().any(|s| s.number == **k))
    {
        return Err(format!(
            "lessons/{}/{EXTRAS_FILE}: [stage.{k}] names no stage of lesson {}",
            lesson.number, lesson.number
        ));
    }
    let (n, folder) = (lesson.number, &lesson.folder);
    let mut out = format!("# Lesson {n}: {}\n\n", lesson.title);
    out.push_str(&format!(
        "<!-- generated: chapter; edit lessons/{folder}/ (lesson.toml, *.md, *.js, {EXTRAS_FILE}), \
         then run {UPDATE_COMMAND} -->\n\n"
    ));
    out.push_str(&format!(
        "{{{{#include ../../../lessons/{folder}/intro.md}}}}\n\n"
    ));
    out.push_str(&paragraph(extras.run.as_deref().unwrap_or(RUN)));
    out.push_str(&format!("```sh\nrealtime-tutor lesson {n}\n```\n\n"));
    out.push_str(&paragraph(extras.reading.as_deref().unwrap_or(READING)));
    for stage in &lesson.stages {
        let none = StageExtras::default();
        out.push_str(&stage_section(
            lesson,
            stage,
            extras.stage.get(&stage.number).unwrap_or(&none),
        ));
    }
    out.push_str("## Summary\n\nAfter the last stage the tutor sums up the lesson:\n\n");
    out.push_str(&format!(
        "```text\n{{{{#include ../../../snapshots/lesson-{n}-summary.snap:4:}}}}\n```\n\n"
    ));
    if let Some(end) = &extras.end {
        out.push_str(&paragraph(end));
    }
    out.push_str(&format!(
        "## What next\n\n{{{{#include ../../../lessons/{folder}/exercise.md}}}}\n\n```console\n$ {}\n```\n",
        lesson.check_command()
    ));
    Ok(out)
}

/// One stage's section: its text, its Node.js code, the Rust that runs, its trace and diagram.
fn stage_section(lesson: &Lesson, stage: &Stage, extras: &StageExtras) -> String {
    let (n, k, folder) = (lesson.number, stage.number, &lesson.folder);
    let note = |text: &Option<String>| {
        text.as_deref()
            .map_or(String::new(), |t| format!(": {}", t.trim()))
    };
    let mut out = format!("## Stage {n}.{k}: {}\n\n", stage.title);
    out.push_str(&format!(
        "{{{{#include ../../../lessons/{folder}/stage-{k}.md}}}}\n\n"
    ));
    out.push_str("**Node.js, the code being taught**\n\n");
    out.push_str(&format!(
        "```js\n{{{{#include ../../../lessons/{folder}/stage-{k}.js}}}}\n```\n\n"
    ));
    if !stage.rust.is_empty() {
        let mut files: Vec<&str> = Vec::new();
        for rust in &stage.rust {
            if !files.contains(&rust.path.as_str()) {
                files.push(&rust.path);
            }
        }
        let files: Vec<String> = files.iter().map(|f| format!("`{f}`")).collect();
        out.push_str(&format!(
            "**Rust, the code running now** ({})\n\n```rust,ignore\n",
            files.join(", ")
        ));
        let includes: Vec<String> = stage
            .rust
            .iter()
            .map(|r| format!("{{{{#include ../../../{}:{}}}}}\n", r.path, r.anchor))
            .collect();
        out.push_str(&includes.join("\n"));
        out.push_str("```\n\n");
    }
    out.push_str(&format!(
        "**Live trace** (`realtime-tutor lesson {n} --stage {k}`){}\n\n",
        note(&extras.trace_note)
    ));
    out.push_str(&format!(
        "```text\n{{{{#include ../../../snapshots/lesson-{n}-stage-{k}.snap:4:}}}}\n```\n\n"
    ));
    out.push_str(&format!(
        "**The same run as a diagram** (`realtime-tutor lesson {n} --stage {k} --svg FILE`){}\n\n",
        note(&extras.diagram_note)
    ));
    out.push_str(&format!(
        "{{{{#include ../diagrams/lesson-{n}-stage-{k}.svg}}}}\n\n"
    ));
    if let Some(after) = &extras.after {
        out.push_str(&paragraph(after));
    }
    out
}

/// A block of Markdown followed by one blank line.
fn paragraph(text: &str) -> String {
    format!("{}\n\n", text.trim())
}
