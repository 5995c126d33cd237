//! Lesson 10's question in predict mode: before a measurement of audiences, how will the time to
//! the last delivery grow when the audience grows tenfold? Asked with one choice of three, and
//! judged against the times just measured ([`crate::quiz::GrowthAsk`]).

use dialoguer::Select;
use dialoguer::theme::Theme;

use super::render::PROMPT_INDENT;
use crate::cli::terminal::{Indented, asked};
use crate::quiz::{Growth, GrowthAsk};
use crate::ui::layout::{self, flow};
use crate::ui::style::{INDENT, NO, OK, bad, good, note, strong, unsure};

/// The question and the keys, as they appear above the prompt.
pub(super) fn render_growth_question(ask: &GrowthAsk, width: usize) -> String {
    let mut out = String::new();
    let first = format!("{INDENT}? ");
    for (i, line) in layout::wrap(&ask.question(), &first, PROMPT_INDENT, width)
        .iter()
        .enumerate()
    {
        match line.strip_prefix(&first) {
            Some(text) if i == 0 => {
                out.push_str(&format!("{INDENT}{} {}\n", strong(unsure("?")), strong(text)))
            }
            _ => {
                let text = line.strip_prefix(PROMPT_INDENT).unwrap_or(line);
                out.push_str(&format!("{PROMPT_INDENT}{}\n", strong(text)));
            }
        }
    }
    let keys = ["↑/↓: move", "Enter: choose", "q: quit"];
    let pieces = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (if i == 0 { "" } else { " · " }, note(k)));
    out.push_str(&flow(PROMPT_INDENT, pieces, PROMPT_INDENT.len(), width));
    out.trim_end().to_owned()
}

/// How many rows the prompt takes: its line and one per choice.
pub(super) const GROWTH_PROMPT_ROWS: usize = 1 + Growth::ALL.len();

/// Asks for the choice; `None` when the learner quit.
pub(super) fn prompt_growth(theme: &dyn Theme) -> std::io::Result<Option<Growth>> {
    let theme = Indented {
        inner: theme,
        indent: PROMPT_INDENT,
    };
    let labels: Vec<&str> = Growth::ALL.iter().map(|g| g.label()).collect();
    let chosen = asked(
        Select::with_theme(&theme)
            .with_prompt("Your prediction")
            .items(&labels)
            .default(0)
            .report(false)
            .interact_opt(),
    )?;
    Ok(chosen.map(|i| Growth::ALL[i]))
}

/// The choice, repeated under the prompt as the other questions' answers are.
pub(super) fn render_growth_answer(chosen: Growth, width: usize) -> String {
    let lead = format!("{PROMPT_INDENT}You predicted: ");
    let hang = layout::columns(&lead);
    flow(&lead, [("", strong(chosen.label()))], hang, width)
        .trim_end()
        .to_owned()
}

/// The verdict: what was chosen, what was measured, and why the cost grows so.
pub(super) fn render_growth_verdict(predicted: Growth, ratio: f64, observed: Growth, width: usize) -> String {
    let right = predicted == observed;
    let mark = if right {
        good(format!("{OK} right"))
    } else {
        bad(format!("{NO} wrong"))
    };
    let lead = format!("{INDENT}{mark}  ");
    let hang = layout::columns(&lead);
    let sentence = format!(
        "you said {}; it took {ratio:.1} times as long here, {}",
        predicted.label(),
        observed.label()
    );
    let mut out = flow(&lead, [("", sentence)], hang, width);
    let why = "Each client is one frame and one write on its own connection, made one after \
               another by the same few threads: ten times the clients, about ten times the work.";
    let first = format!("{INDENT}Why: ");
    let rest = layout::spaces(layout::columns(&first));
    for (i, line) in layout::wrap(why, &first, &rest, width).iter().enumerate() {
        match line.strip_prefix(&first) {
            Some(text) if i == 0 => out.push_str(&format!("{INDENT}{} {text}\n", strong("Why:"))),
            _ => out.push_str(&format!("{line}\n")),
        }
    }
    out.trim_end().to_owned()
}
