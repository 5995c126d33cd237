//! The terminal for the commands that ask (predict mode and `reset`): refusing clearly without
//! one, the prompts' theme, typed-ahead keys, and Ctrl-C with the cursor restored.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use dialoguer::theme::{ColorfulTheme, SimpleTheme, Theme};

use super::UsageError;

/// Predict mode needs someone at the keyboard and a screen: a clear refusal otherwise.
pub fn require_terminal(what: &str, instead: &str) -> Result<(), UsageError> {
    let missing: Vec<&str> = [
        ("stdin", std::io::stdin().is_terminal()),
        ("stdout", std::io::stdout().is_terminal()),
        ("stderr", std::io::stderr().is_terminal()),
    ]
    .into_iter()
    .filter(|(_, ok)| !ok)
    .map(|(name, _)| name)
    .collect();
    let names = match missing.as_slice() {
        [] => return Ok(()),
        [one] => format!("{one} is not a terminal"),
        [first @ .., last] => format!("{} and {last} are not terminals", first.join(", ")),
    };
    Err(UsageError(format!(
        "{what} asks you questions, so it needs a terminal, but {names}.\n{instead}"
    )))
}

/// dialoguer's coloured theme, or its plain one when colour is off (`--color never`,
/// `NO_COLOR`, …), decided the same way as for everything else the tutor prints.
pub fn theme() -> Box<dyn Theme> {
    if anstream::AutoStream::choice(&std::io::stderr()) == anstream::ColorChoice::Never {
        Box::new(SimpleTheme)
    } else {
        Box::new(ColorfulTheme::default())
    }
}

/// Throws away keys typed before a prompt was shown. The terminal keeps keystrokes until someone
/// reads them, so a second Enter pressed at "Continue?" would otherwise confirm the next
/// question, unseen, as "nobody". A prediction must be made after reading the question.
pub fn drop_typed_ahead() {
    #[cfg(unix)]
    if std::io::stdin().is_terminal() {
        // Best effort: a terminal that refuses only means typed-ahead keys stay.
        let _ = rustix::termios::tcflush(std::io::stdin(), rustix::termios::QueueSelector::IFlush);
    }
}

/// Console prompts hide the cursor while they wait for a key. Ctrl-C would end the process with
/// the cursor still hidden, so predict mode handles Ctrl-C itself (see [`stop_on_ctrl_c`]).
///
/// Ctrl-C arrives two ways: as the signal SIGINT while a stage runs, and, while a prompt has
/// the terminal in raw mode, as a keystroke that the prompt reports as "interrupted" (and turns
/// into SIGINT too). [`asked`] catches the second, this task the first.
pub fn restore_cursor_on_ctrl_c() {
    tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop_on_ctrl_c();
        }
    });
}

/// Shows the cursor, says what was kept, and exits with the conventional status 130. Both
/// paths of Ctrl-C may get here at once: the first one exits, the other waits for it.
pub(crate) fn stop_on_ctrl_c() -> ! {
    static STOPPING: AtomicBool = AtomicBool::new(false);
    if !STOPPING.swap(true, Ordering::SeqCst) {
        let _ = dialoguer::console::Term::stderr().show_cursor();
        super::warn(format_args!(
            "\nStopped. Everything answered so far is saved; `realtime-tutor` continues."
        ));
        std::process::exit(130);
    }
    loop {
        std::thread::park();
    }
}

/// A prompt's result, with Ctrl-C handled as a stop rather than reported as an error.
pub fn asked<T>(result: dialoguer::Result<T>) -> std::io::Result<T> {
    result.map_err(|dialoguer::Error::IO(e)| {
        if e.kind() == std::io::ErrorKind::Interrupted {
            stop_on_ctrl_c();
        }
        e
    })
}

/// A theme drawn `indent` in from the left: predict mode's prompts and their choices sit under
/// the question they answer, as the rest of a step's lines do, instead of at column 0.
pub struct Indented<'a> {
    pub inner: &'a dyn Theme,
    pub indent: &'a str,
}

impl std::fmt::Debug for Indented<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Indented")
            .field("indent", &self.indent)
            .finish_non_exhaustive()
    }
}

impl Indented<'_> {
    /// What the inner theme writes, after the indent.
    fn indented(
        &self,
        f: &mut dyn std::fmt::Write,
        draw: impl FnOnce(&mut dyn std::fmt::Write) -> std::fmt::Result,
    ) -> std::fmt::Result {
        f.write_str(self.indent)?;
        draw(f)
    }
}

impl Theme for Indented<'_> {
    fn format_prompt(&self, f: &mut dyn std::fmt::Write, prompt: &str) -> std::fmt::Result {
        self.indented(f, |f| self.inner.format_prompt(f, prompt))
    }

    fn format_confirm_prompt(
        &self,
        f: &mut dyn std::fmt::Write,
        prompt: &str,
        default: Option<bool>,
    ) -> std::fmt::Result {
        self.indented(f, |f| self.inner.format_confirm_prompt(f, prompt, default))
    }

    fn format_confirm_prompt_selection(
        &self,
        f: &mut dyn std::fmt::Write,
        prompt: &str,
        selection: Option<bool>,
    ) -> std::fmt::Result {
        self.indented(f, |f| {
            self.inner.format_confirm_prompt_selection(f, prompt, selection)
        })
    }

    fn format_multi_select_prompt(&self, f: &mut dyn std::fmt::Write, prompt: &str) -> std::fmt::Result {
        self.indented(f, |f| self.inner.format_multi_select_prompt(f, prompt))
    }

    fn format_multi_select_prompt_selection(
        &self,
        f: &mut dyn std::fmt::Write,
        prompt: &str,
        selections: &[&str],
    ) -> std::fmt::Result {
        self.indented(f, |f| {
            self.inner
                .format_multi_select_prompt_selection(f, prompt, selections)
        })
    }

    fn format_multi_select_prompt_item(
        &self,
        f: &mut dyn std::fmt::Write,
        text: &str,
        checked: bool,
        active: bool,
    ) -> std::fmt::Result {
        self.indented(f, |f| {
            self.inner
                .format_multi_select_prompt_item(f, text, checked, active)
        })
    }
}
