//! Standard output, written so that a failed write is an error and not a panic.
//!
//! `println!` panics when its write fails (exit status 101 and a backtrace), and writes fail
//! more often than one might think: `realtime-tutor lesson 1 > /dev/full` on a full disk, or
//! `realtime-tutor tour | head`, where `head` exits after ten lines and closes the pipe. Every
//! command except `serve` (which has its own printer) prints through [`outln!`] and [`out!`]
//! instead: the same formatting, colour handled by `anstream` as before, and a
//! [`StdoutError`] returned for `?` to carry up to [`super::main`], which turns it into an exit
//! status:
//!
//! * a closed pipe ends quietly with status 141 (128 + SIGPIPE, what a shell reports for a
//!   program that the closed pipe stopped): the reader has seen all it wanted, and a message on
//!   stderr would only clutter the terminal;
//! * any other failure prints `error: cannot write to standard output: …` and exits 1.

use std::io::Write;

/// Standard output could not be written. The I/O error is part of the message.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output: {0}")]
pub struct StdoutError(pub std::io::Error);

impl StdoutError {
    /// The reader went away (`| head`, a pager that quit).
    pub fn is_closed_pipe(&self) -> bool {
        self.0.kind() == std::io::ErrorKind::BrokenPipe
    }
}

/// The exit status after a closed pipe (see the module documentation).
pub const CLOSED_PIPE_STATUS: i32 = 128 + 13;

/// Writes formatted text to standard output (what [`out!`] calls).
pub fn write(args: std::fmt::Arguments<'_>) -> Result<(), StdoutError> {
    anstream::stdout().write_fmt(args).map_err(StdoutError)
}

/// Writes formatted text and a newline to standard output (what [`outln!`] calls).
pub fn write_line(args: std::fmt::Arguments<'_>) -> Result<(), StdoutError> {
    let mut stdout = anstream::stdout().lock();
    stdout
        .write_fmt(args)
        .and_then(|()| stdout.write_all(b"\n"))
        .map_err(StdoutError)
}

/// Sends whatever is buffered on its way: the text of a prompt without a newline, and at the
/// end, the last line (a write that fails then would otherwise go unnoticed).
pub fn flush() -> Result<(), StdoutError> {
    std::io::stdout().flush().map_err(StdoutError)
}

/// Like `print!`, but returns a [`StdoutError`] instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::out::write(format_args!($($arg)*))
    };
}

/// Like `println!`, but returns a [`StdoutError`] instead of panicking.
macro_rules! outln {
    () => {
        $crate::cli::out::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::out::write_line(format_args!($($arg)*))
    };
}
