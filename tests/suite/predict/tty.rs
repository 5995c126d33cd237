//! A tutor in a pseudo-terminal of a chosen size, driven by waiting for text and pressing keys.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use expectrl::process::unix::WaitStatus;
use expectrl::{Any, Eof, Expect, Session};

use crate::common::process::reap_within;

/// The bound on every wait for the tutor's screen. Generous, because the machine may be busy;
/// on the happy path each wait ends as soon as the text appears.
pub(super) const WAIT: Duration = Duration::from_secs(30);

/// A tutor running in a pseudo-terminal.
pub(super) struct Tty {
    session: expectrl::session::OsSession,
    /// Everything read so far, for failure messages.
    seen: String,
}

pub(super) fn command(home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_realtime-tutor"));
    command
        .args(args)
        .env("REALTIME_TUTOR_HOME", home)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR");
    command
}

/// The tutor behind a shell that waits for one line before it starts the tutor, so that the
/// terminal can be given its size first (see [`Tty::spawn_sized`]).
fn held(home: &Path, args: &[&str]) -> Command {
    let tutor = command(home, args);
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("read -r _ && exec \"$@\"")
        .arg("sh")
        .arg(tutor.get_program())
        .args(tutor.get_args());
    for (key, value) in tutor.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    command
}

impl Tty {
    /// The tutor on a terminal wide and tall enough that nothing wraps and nothing pauses: the
    /// tests that use it are about predictions and progress, not layout (see
    /// `layout::predict_mode_fits_an_80_by_40_terminal` for that).
    pub(super) fn spawn(home: &Path, args: &[&str]) -> Tty {
        Tty::spawn_sized(home, args, 200, 1000)
    }

    /// The tutor on a terminal of `columns` × `rows`. The pseudo-terminal starts at 80 × 24
    /// and is resized once it exists; the tutor is started only after that (the shell in front
    /// of it waits for a line), so it reads the new size, never the old one.
    pub(super) fn spawn_sized(home: &Path, args: &[&str], columns: u16, rows: u16) -> Tty {
        let mut session = Session::spawn(held(home, args)).expect("the tutor starts in a pseudo-terminal");
        session
            .get_process_mut()
            .set_window_size(columns, rows)
            .expect("the terminal takes its size");
        session.send("\n").expect("the shell reads its line");
        session.set_expect_timeout(Some(WAIT));
        Tty {
            session,
            seen: String::new(),
        }
    }

    /// Waits for `text` and returns what the tutor printed up to and including it.
    pub(super) fn wait_for(&mut self, text: &str) -> String {
        match self.session.expect(text) {
            Ok(found) => {
                let mut chunk = String::from_utf8_lossy(found.before()).into_owned();
                chunk.push_str(text);
                self.seen.push_str(&chunk);
                chunk
            }
            Err(e) => panic!(
                "waited up to {WAIT:?} for {text:?} on the tutor's terminal ({e}); the last output was:\n{}",
                tail(&self.seen)
            ),
        }
    }

    /// Waits for whichever of `texts` comes first; returns what was printed up to and including
    /// it, and which one it was.
    pub(super) fn wait_for_any(&mut self, texts: &[&str]) -> (String, usize) {
        match self.session.expect(Any(texts.to_vec())) {
            Ok(found) => {
                let matched = found.get(0).unwrap_or_default();
                let which = texts
                    .iter()
                    .position(|t| t.as_bytes() == matched)
                    .expect("the match is one of the texts");
                let mut chunk = String::from_utf8_lossy(found.before()).into_owned();
                chunk.push_str(texts[which]);
                self.seen.push_str(&chunk);
                (chunk, which)
            }
            Err(e) => panic!(
                "waited up to {WAIT:?} for any of {texts:?} on the tutor's terminal ({e}); the last \
                 output was:\n{}",
                tail(&self.seen)
            ),
        }
    }

    pub(super) fn press(&mut self, keys: &str) {
        self.session.send(keys).expect("keys reach the tutor");
    }

    /// Answers a multi-select: walks down the list, choosing the items marked true, then Enter.
    /// After each key it waits for the redrawn line, so no key is typed ahead of the prompt.
    pub(super) fn choose(&mut self, items: &[(&str, bool)]) {
        for (i, (label, chosen)) in items.iter().enumerate() {
            if *chosen {
                self.press(" ");
                self.wait_for(&format!("> [x] {label}"));
            }
            if let Some((next, _)) = items.get(i + 1) {
                self.press("j");
                self.wait_for(&format!("> [ ] {next}"));
            }
        }
        self.press("\r");
    }

    /// Waits for the tutor to finish and returns its exit code.
    pub(super) fn finish(mut self) -> (i32, String) {
        let rest = match self.session.expect(Eof) {
            Ok(found) => String::from_utf8_lossy(found.before()).into_owned(),
            Err(e) => panic!(
                "waited up to {WAIT:?} for the tutor to exit ({e}); the last output was:\n{}",
                tail(&self.seen)
            ),
        };
        // The terminal has closed, so the tutor is exiting; reaping it is bounded all the same.
        let process = self.session.get_process();
        let pid = process.pid().as_raw() as u32;
        let code = match reap_within(pid, WAIT, "the tutor to exit", || process.wait()) {
            Ok(WaitStatus::Exited(_, code)) => code,
            other => panic!("the tutor did not exit normally: {other:?}"),
        };
        (code, rest)
    }
}

pub(super) fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}
