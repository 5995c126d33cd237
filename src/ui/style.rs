//! The look every printed line shares, defined once: colours, marks, role words, indentation,
//! the arrow and the heading rule.
//!
//! This is the only file that knows about colour. Its functions always write owo-colors
//! styles; the caller prints through `anstream`, which removes them when colour is off
//! (`--color never`, `NO_COLOR`, not a terminal), and tests strip them the same way. Each
//! function names what the text *is* (a client's name, JavaScript, a note), not its colour, so
//! a renderer reads as what it shows and the palette can change here alone.

use std::fmt::Display;

use owo_colors::OwoColorize;

use crate::trace::Kind;

/// One step of indentation: a step's lines sit one in, the clients under it two.
pub const INDENT: &str = "  ";

/// Received: the mark of a delivery, a probe that got through, a prediction that was right.
pub const OK: &str = "✓";
/// Did not receive: the mark of a missing delivery or a failed probe.
pub const NO: &str = "✗";
/// Not there yet: a client that was not connected when a step ran.
pub const DOT: &str = "·";

/// The drawn rule on either side of a banner (`━━━ Lesson 1 · … ━━━`).
pub const RULE: &str = "━━━";

/// The socket a connection handler acts for.
pub const NEWCOMER: &str = "the newcomer";
/// The socket whose event a handler answers.
pub const SENDER: &str = "the sender";

/// The socket a step's handler acts for, in words: the one that connects, or the one that
/// emits.
pub fn role(kind: Kind) -> &'static str {
    if kind == Kind::Connect { NEWCOMER } else { SENDER }
}

/// The arrow that starts each step of a trace.
pub fn arrow() -> String {
    strong("▸")
}

/// [`OK`] in its colour.
pub fn ok() -> String {
    good(OK)
}

/// [`NO`] in its colour.
pub fn no() -> String {
    bad(NO)
}

/// [`DOT`] in its colour.
pub fn dot() -> String {
    note(DOT)
}

/// A count and its noun, agreeing: `1 question`, `2 questions`, `0 questions`.
pub fn counted(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// How a learner's predictions went, `2 of 3 questions right`; nothing when none was answered,
/// so no line ever says "0 of 0".
pub fn questions_right(right: u32, answered: u32) -> Option<String> {
    (answered > 0).then(|| format!("{right} of {} right", counted(answered, "question", "questions")))
}

/// A lesson's banner: `━━━ text ━━━`, bold.
pub fn ruled(text: impl Display) -> String {
    banner(format!("{RULE} {text} {RULE}"))
}

/// A top-level heading (a lesson, `check`, `serve`).
pub fn banner(text: impl Display) -> String {
    text.bold().magenta().to_string()
}

/// Emphasis: a heading, a bold phrase of prose.
pub fn strong(text: impl Display) -> String {
    text.bold().to_string()
}

/// The label over a block (`Node.js, the code being taught`, `Live trace`).
pub fn title(text: impl Display) -> String {
    text.underline().to_string()
}

/// A client's name (and the address to open).
pub fn name(text: impl Display) -> String {
    text.cyan().to_string()
}

/// JavaScript: the code being taught and the call the server ran.
pub fn js(text: impl Display) -> String {
    text.yellow().to_string()
}

/// Rust: the code that runs.
pub fn rust(text: impl Display) -> String {
    text.cyan().to_string()
}

/// A side remark: why not, what a line means, what is not judged.
pub fn note(text: impl Display) -> String {
    text.dimmed().to_string()
}

/// Something that went right (a mark, `PASS`).
pub fn good(text: impl Display) -> String {
    text.green().to_string()
}

/// Something that went wrong or did not happen (a mark, `FAIL`).
pub fn bad(text: impl Display) -> String {
    text.red().to_string()
}

/// Something not known either way (a bot that did not report reading).
pub fn unsure(text: impl Display) -> String {
    text.yellow().to_string()
}
