//! The prompts of predict mode: the learner's prediction for each kind of question, and whether
//! to go on to the next stage.

use anyhow::Context;
use dialoguer::theme::Theme;
use dialoguer::{Confirm, MultiSelect};

use super::render::{PROMPT_INDENT, role_words};
use super::screen::{Flow, Screen};
use crate::cli::terminal::{Indented, asked, drop_typed_ahead};
use crate::quiz::{Answer, Ask};
use crate::ui::layout;

/// Asks whether to go on to `next`. Enter means yes; n, q or Esc stop.
///
/// dialoguer redraws a prompt by counting its lines, not the rows a long one wraps into, so a
/// prompt wider than the terminal would leave a copy of itself behind. When `Continue with
/// <next>?` would not fit, the next stage is named on a line of its own (wrapped here) and the
/// prompt is only `Continue?`.
pub(super) fn carry_on(theme: &dyn Theme, next: &str, screen: &mut Screen) -> anyhow::Result<bool> {
    let long = format!("Continue with {next}? [Y/n] ");
    let prompt = if layout::columns(&long) < screen.width() {
        format!("Continue with {next}?")
    } else {
        let named = layout::wrapped(&format!("Next: {next}"), "", "      ", screen.width());
        if screen.print(&named)? == Flow::Quit {
            return Ok(false);
        }
        "Continue?".to_owned()
    };
    if screen.make_room(1)? == Flow::Quit {
        return Ok(false);
    }
    drop_typed_ahead();
    let answer = asked(
        Confirm::with_theme(theme)
            .with_prompt(prompt)
            .default(true)
            .report(false)
            .interact_opt(),
    )
    .context("the prompt failed")?;
    screen.read();
    Ok(answer == Some(true))
}

/// How many rows the prompt for `ask` takes: its line, and a line for each choice.
pub(super) fn prompt_rows(ask: &Ask) -> usize {
    match ask {
        Ask::YesNo => 1,
        Ask::Who { options, .. } => 1 + options.len(),
    }
}

/// Asks on the terminal, the prompt and its choices under the question. `None` means the
/// learner quit (q or Esc).
pub(super) fn prompt(ask: &Ask, theme: &dyn Theme) -> std::io::Result<Option<Answer>> {
    let theme = Indented {
        inner: theme,
        indent: PROMPT_INDENT,
    };
    let theme = &theme;
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
                        format!("{name} ({})", role_words(*role))
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
