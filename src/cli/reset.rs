//! `reset`: forget every finished stage and prediction score, after asking.

use std::io::IsTerminal;

use anyhow::Context;
use dialoguer::Confirm;

use super::UsageError;
use super::terminal::{asked, restore_cursor_on_ctrl_c, theme};
use crate::progress::Store;
use crate::ui;

/// `realtime-tutor reset [--yes]`.
pub fn reset(yes: bool) -> anyhow::Result<i32> {
    let store = Store::locate()?;
    let path = store.path().display().to_string();
    if !store.path().exists() {
        let said = format!("Nothing to reset: there is no progress file ({path}).");
        out!("{}", ui::layout::wrapped(&said, "", "", ui::width()))?;
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
        // What will happen is said on lines of our own, wrapped here; the prompt stays short.
        // dialoguer redraws a prompt by its lines, not the rows a long one wraps into, so a
        // prompt wider than the terminal would leave a copy of itself behind.
        let said = format!("This forgets every finished stage and prediction score: it deletes {path}.");
        out!("{}", ui::layout::wrapped(&said, "", "", ui::width()))?;
        let sure = asked(
            Confirm::with_theme(&*theme())
                .with_prompt("Forget your progress?")
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
    let said = format!("Progress reset: {path} is deleted. `realtime-tutor` starts again at stage 1.1.");
    out!("{}", ui::layout::wrapped(&said, "", "", ui::width()))?;
    Ok(0)
}
