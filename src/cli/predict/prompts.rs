//! The prompts of predict mode: the learner's prediction for each kind of question, and whether
//! to go on to the next stage.

use anyhow::Context;
use dialoguer::theme::Theme;
use dialoguer::{Confirm, MultiSelect};

use super::render::role_words;
use crate::cli::terminal::{asked, drop_typed_ahead};
use crate::quiz::{Answer, Ask};

/// Asks whether to go on to `next`. Enter means yes; n, q or Esc stop.
pub(super) fn carry_on(theme: &dyn Theme, next: &str) -> anyhow::Result<bool> {
    drop_typed_ahead();
    let answer = asked(
        Confirm::with_theme(theme)
            .with_prompt(format!("Continue with {next}?"))
            .default(true)
            .report(false)
            .interact_opt(),
    )
    .context("the prompt failed")?;
    Ok(answer == Some(true))
}

/// Asks on the terminal. `None` means the learner quit (q or Esc).
pub(super) fn prompt(ask: &Ask, theme: &dyn Theme) -> std::io::Result<Option<Answer>> {
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
