//! `reset`: forget every finished stage and prediction score, after asking.

use std::io::IsTerminal;

use anyhow::Context;
use dialoguer::Confirm;

use super::UsageError;
use super::terminal::{asked, restore_cursor_on_ctrl_c, theme};
use crate::progress::Store;

/// `realtime-tutor reset [--yes]`.
pub fn reset(yes: bool) -> anyhow::Result<i32> {
    let store = Store::locate()?;
    let path = store.path().display().to_string();
    if !store.path().exists() {
        outln!("Nothing to reset: there is no progress file ({path}).")?;
        return Ok(0);
    }
    if !yes {
        if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
            return Err(UsageError(format!(
                "reset asks before deleting {path}, and there is no terminal to ask on.\n\
                 To delete it without asking: realtime-tutor reset --yes"
            ))
            .into());
        }
        restore_cursor_on_ctrl_c();
        let sure = asked(
            Confirm::with_theme(&*theme())
                .with_prompt(format!(
                    "Forget every finished stage and prediction score (delete {path})?"
                ))
                .default(false)
                .interact_opt(),
        )
        .context("the confirmation prompt failed")?;
        if sure != Some(true) {
            outln!("Kept your progress.")?;
            return Ok(0);
        }
    }
    store.reset()?;
    outln!("Progress reset: {path} is deleted. `realtime-tutor` starts again at stage 1.1.")?;
    Ok(0)
}
