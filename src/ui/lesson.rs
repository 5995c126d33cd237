//! A lesson for the terminal: its banner and introduction, each stage's heading, text and code,
//! and what to do next, every line fitted to the width it is given (see [`super::layout`]).

use std::fmt::Write;

use super::layout::{self, code_line, wrap};
use super::prose;
use super::style::{self, INDENT, RULE};
use crate::lesson::{Lesson, Stage};

/// The stage heading, its explanation, and the two pieces of code.
pub fn stage_intro(lesson: &Lesson, stage: &Stage) -> String {
    let width = layout::width();
    let mut out = String::new();
    let heading = format!(
        "Stage {}.{} · {} ({} of {})",
        lesson.number,
        stage.number,
        stage.title,
        stage.number,
        lesson.stages.len(),
    );
    styled_lines(&mut out, &heading, "", INDENT, width, |s| style::strong(s));
    let _ = writeln!(out);
    out.push_str(&prose::render(&stage.text, INDENT, prose::width(width)));
    let _ = writeln!(out);
    let _ = writeln!(out, "{INDENT}{}", style::title("Node.js, the code being taught"));
    js_block_at(&mut out, &stage.node, width);
    for rust in &stage.rust {
        let _ = writeln!(out);
        let label = format!("Rust, the code running now ({})", rust.path);
        styled_lines(&mut out, &label, INDENT, INDENT, width, |s| style::title(s));
        let code = rust.code().unwrap_or_else(|e| format!("<{e}>"));
        for line in code.lines() {
            for part in code_line(line, &format!("{INDENT}{INDENT}"), width) {
                let _ = writeln!(out, "{}", style::rust(part));
            }
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{INDENT}{}", style::title("Live trace"));
    out
}

/// JavaScript source as a block under a label, for this terminal (see [`js_block_at`]).
pub(super) fn js_block(out: &mut String, code: &str) {
    js_block_at(out, code, layout::width());
}

/// JavaScript source as a block under a label: every line two steps in, and a line too long
/// for `width` continued below it (see [`layout::code_line`]).
pub(super) fn js_block_at(out: &mut String, code: &str, width: usize) {
    for line in code.trim_end().lines() {
        for part in code_line(line, &format!("{INDENT}{INDENT}"), width) {
            let _ = writeln!(out, "{}", style::js(part));
        }
    }
}

/// Wraps `text` (no colour in it yet) and styles each line on its own, so that a style such
/// as an underline never runs into the indentation of the next line.
pub(super) fn styled_lines(
    out: &mut String,
    text: &str,
    first: &str,
    rest: &str,
    width: usize,
    style: fn(&str) -> String,
) {
    for (i, line) in wrap(text, first, rest, width).iter().enumerate() {
        let indent = if i == 0 { first } else { rest };
        let body = line.strip_prefix(indent).unwrap_or(line);
        let _ = writeln!(out, "{indent}{}", style(body));
    }
}

/// The lesson heading and its introduction.
pub fn lesson_intro(lesson: &Lesson) -> String {
    let width = layout::width();
    let mut out = String::new();
    let heading = format!("{RULE} Lesson {} · {} {RULE}", lesson.number, lesson.title);
    if layout::columns(&heading) <= width {
        let _ = writeln!(out, "{}", style::banner(heading));
    } else {
        // Too long for one line: the number keeps its rules, the title goes under it whole.
        let _ = writeln!(
            out,
            "{}",
            style::banner(format!("{RULE} Lesson {} {RULE}", lesson.number))
        );
        styled_lines(&mut out, &lesson.title, "    ", "    ", width, |s| {
            style::banner(s)
        });
    }
    let _ = writeln!(out);
    out.push_str(&prose::render(&lesson.intro, INDENT, prose::width(width)));
    out
}

/// What to do after the lesson.
pub fn exercise(lesson: &Lesson) -> String {
    let width = layout::width();
    let mut out = String::new();
    let _ = writeln!(out, "{}", style::strong("What next"));
    let text = lesson.exercise_with_command();
    out.push_str(&prose::render(&text, INDENT, prose::width(width)));
    out
}
