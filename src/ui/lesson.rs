//! A lesson for the terminal: its banner and introduction, each stage's heading, text and code,
//! and what to do next.

use std::fmt::Write;

use super::prose;
use super::style::{self, INDENT};
use crate::lesson::{Lesson, Stage};

/// The stage heading, its explanation, and the two pieces of code.
pub fn stage_intro(lesson: &Lesson, stage: &Stage) -> String {
    let mut out = String::new();
    let heading = format!(
        "Stage {}.{} · {} ({} of {})",
        lesson.number,
        stage.number,
        stage.title,
        stage.number,
        lesson.stages.len(),
    );
    let _ = writeln!(out, "{}", style::strong(heading));
    let _ = writeln!(out);
    out.push_str(&prose::render(&stage.text, INDENT, prose::width()));
    let _ = writeln!(out);
    let _ = writeln!(out, "{INDENT}{}", style::title("Node.js, the code being taught"));
    js_block(&mut out, &stage.node);
    for rust in &stage.rust {
        let _ = writeln!(out);
        let label = format!("Rust, the code running now ({})", rust.path);
        let _ = writeln!(out, "{INDENT}{}", style::title(label));
        let code = rust.code().unwrap_or_else(|e| format!("<{e}>"));
        for line in code.lines() {
            let _ = writeln!(out, "{INDENT}{INDENT}{}", style::rust(line));
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{INDENT}{}", style::title("Live trace"));
    out
}

/// JavaScript source as a block under a label: every line two steps in.
pub(super) fn js_block(out: &mut String, code: &str) {
    for line in code.trim_end().lines() {
        let _ = writeln!(out, "{INDENT}{INDENT}{}", style::js(line));
    }
}

/// The lesson heading and its introduction.
pub fn lesson_intro(lesson: &Lesson) -> String {
    let mut out = String::new();
    let heading = format!("Lesson {} · {}", lesson.number, lesson.title);
    let _ = writeln!(out, "{}", style::ruled(heading));
    let _ = writeln!(out);
    out.push_str(&prose::render(&lesson.intro, INDENT, prose::width()));
    out
}

/// What to do after the lesson.
pub fn exercise(lesson: &Lesson) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", style::strong("What next"));
    out.push_str(&prose::render(&lesson.exercise, INDENT, prose::width()));
    out
}
