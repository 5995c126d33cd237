//! Predict mode's screen: everything it prints goes through here, so nothing scrolls off the top
//! before the learner has read it.
//!
//! A lesson prints a lot before its first question: the lesson's introduction, the stage's
//! text, the Node.js and the Rust code, the first steps of the trace. On a 40-row terminal the
//! introduction would scroll away while the learner is still at the question. So the screen
//! counts the rows printed since the learner last pressed a key, and when the next paragraph
//! would push an unread row off the top, it stops first and asks for Enter, as a pager does.
//! A question makes room for itself and its prompt the same way, so the question, its keys and
//! its choices always appear together.
//!
//! Every prompt the learner answers (a question, "Continue?", this pause) means the screen has
//! been read, and the count starts again.

use dialoguer::console::{Key, Term};

use crate::cli::out::{self, StdoutError};
use crate::cli::terminal::stop_on_ctrl_c;
use crate::ui::layout;
use crate::ui::style::{INDENT, note};

/// Whether to go on after the screen printed something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Shown,
    /// The learner pressed q or Esc at a pause.
    Quit,
}

/// The terminal's size and how much of it is unread.
#[derive(Debug)]
pub(crate) struct Screen {
    /// The terminal's height in rows.
    rows: usize,
    /// The width every line is laid out for (see [`layout::width`]).
    width: usize,
    /// Rows printed since the learner last pressed a key.
    unread: usize,
}

/// The words of the pause, on the row it keeps free.
const PAUSE: &str = "Enter: continue · q: quit";

impl Screen {
    /// The screen of this terminal. One that does not say how tall it is is never paused.
    pub(crate) fn new() -> Self {
        let rows = Term::stdout()
            .size_checked()
            .map_or(usize::MAX, |(rows, _)| usize::from(rows));
        Self::with_size(rows, layout::width())
    }

    /// A screen of a given size (for tests, and for a terminal that does not say).
    pub(crate) fn with_size(rows: usize, width: usize) -> Self {
        Self {
            // A screen too small to read anything on would pause after every line.
            rows: rows.max(10),
            width,
            unread: 0,
        }
    }

    /// The width lines are laid out for.
    pub(crate) fn width(&self) -> usize {
        self.width
    }

    /// How many rows `text` takes: a line wider than the terminal (which layout avoids) takes
    /// as many as the terminal wraps it into.
    fn height(&self, text: &str) -> usize {
        text.lines()
            .map(|line| layout::columns(line).div_ceil(self.width).max(1))
            .sum()
    }

    /// Prints `text`, a paragraph at a time, pausing first when a paragraph would push a row
    /// the learner has not read yet off the top (and inside a paragraph taller than the screen).
    pub(crate) fn print(&mut self, text: &str) -> Result<Flow, StdoutError> {
        // One row stays free for the pause itself.
        let limit = self.rows - 1;
        for paragraph in paragraphs(text) {
            if self.unread > 0 && self.unread + self.height(paragraph) > limit && self.pause()? == Flow::Quit
            {
                return Ok(Flow::Quit);
            }
            for line in paragraph.split_inclusive('\n') {
                if self.unread >= limit && self.pause()? == Flow::Quit {
                    return Ok(Flow::Quit);
                }
                out::write(format_args!("{line}"))?;
                self.unread += self.height(line);
            }
        }
        Ok(Flow::Shown)
    }

    /// Makes sure `rows` more rows (a question and its prompt) fit under what is unread,
    /// pausing first if they would not.
    pub(crate) fn make_room(&mut self, rows: usize) -> Result<Flow, StdoutError> {
        if self.unread > 0 && self.unread + rows > self.rows {
            return self.pause();
        }
        Ok(Flow::Shown)
    }

    /// The learner answered a prompt: everything on the screen has been seen.
    pub(crate) fn read(&mut self) {
        self.unread = 0;
    }

    /// Waits for Enter (or q / Esc to stop) on a row of its own, then clears that row, so the
    /// text reads on as if nothing had been there.
    fn pause(&mut self) -> Result<Flow, StdoutError> {
        out::flush()?;
        let term = Term::stdout();
        let prompt = note(format!("{INDENT}{PAUSE}"));
        term.write_str(&prompt).map_err(StdoutError)?;
        let flow = loop {
            match term.read_key() {
                Ok(Key::Enter | Key::Char(' ')) => break Flow::Shown,
                Ok(Key::Char('q' | 'Q') | Key::Escape) => break Flow::Quit,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => stop_on_ctrl_c(),
                // No key can be read: carry on rather than wait for one that cannot come.
                Err(_) => break Flow::Shown,
            }
        };
        term.clear_line().map_err(StdoutError)?;
        self.read();
        Ok(flow)
    }
}

/// Splits text into paragraphs, each with the blank lines after it, so a pause never falls
/// between a paragraph and the gap that ends it.
fn paragraphs(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut previous_blank = false;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let blank = line.trim().is_empty();
        if previous_blank && !blank {
            out.push(&text[start..offset]);
            start = offset;
        }
        previous_blank = blank;
        offset += line.len();
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_keep_their_blank_lines_and_lose_nothing() {
        let text = "a\nb\n\nc\n\n\nd";
        let parts = paragraphs(text);
        assert_eq!(parts, ["a\nb\n\n", "c\n\n\n", "d"]);
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn a_row_wider_than_the_screen_counts_as_the_rows_it_wraps_into() {
        let screen = Screen::with_size(40, 10);
        assert_eq!(screen.height("✓ 123456789\nshort\n\n"), 4);
    }
}
