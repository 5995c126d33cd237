//! Progress that survives between runs: which stages the learner has finished, and how their
//! predictions went.
//!
//! It is one small, versioned JSON file, `progress.json`, in the platform's state directory
//! (on Linux `$XDG_STATE_HOME/realtime-tutor` or `~/.local/state/realtime-tutor`; where a
//! platform has no state directory, its local data directory), or in the folder named by the
//! `REALTIME_TUTOR_HOME` environment variable. It looks like this:
//!
//! ```json
//! {
//!   "format_version": 1,
//!   "stages": {
//!     "1.1": { "done": true, "predictions": { "2": { "right": false } } }
//!   }
//! }
//! ```
//!
//! Stages are keyed `"lesson.stage"`; predictions by the step number inside the stage, and only
//! the latest answer to each question counts. Keys this build does not know (a lesson that no
//! longer exists) are kept as they are and ignored.
//!
//! Two properties matter more than the format:
//!
//! * **A save never leaves a half-written file.** The new content goes to a temporary file in
//!   the same folder, is flushed to disk, and then renamed over the old one; a rename within one
//!   file system replaces the file in one step, so a crash leaves either the old or the new file.
//! * **A damaged file is reported, never guessed at.** A file that cannot be read or parsed gets
//!   an error naming it and the way out (`realtime-tutor reset`, or deleting it), and the tutor
//!   does not overwrite it behind the learner's back.
//! * **Saves that overlap do not lose each other.** Two tutors may run at once (a lesson in one
//!   terminal, predict mode in another). Each save reads the latest file, applies its own
//!   change, and writes, all while holding an advisory lock on a small file beside it,
//!   `progress.lock`; without the lock, two saves that read the same old file each write back
//!   only their own change, and one is lost. The lock is on a separate file because the progress
//!   file itself is replaced on every save, and a lock belongs to the file that was opened, not
//!   to its name.
//! * **Only a regular file is used.** A FIFO, a device or a socket in place of the file is
//!   refused with a message (opening a FIFO would wait for a writer forever). A symbolic link is
//!   followed: the file it points to is read, and saved in place (the new content is renamed
//!   over the link's target, so the link stays a link). A link whose target is missing or not a
//!   regular file is refused, and the message says so.

use std::path::PathBuf;

use crate::parts::state;

mod files;
mod record;
mod store;

use files::LOCK_WAIT;
pub use record::{Prediction, Progress, Score, StageProgress};
pub use store::Store;

/// The environment variable that names the folder holding the progress file.
pub use crate::parts::state::HOME_ENV;

/// The file's name inside that folder.
pub const FILE_NAME: &str = "progress.json";

/// The only `format_version` this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// The lock file beside the progress file (see the module documentation).
pub const LOCK_NAME: &str = "progress.lock";

/// A progress file is a few hundred bytes; anything over this is not one, and is not read
/// into memory.
const MAX_BYTES: u64 = 1 << 20;

/// What every message about a damaged file ends with.
const WAY_OUT: &str = "To start over, run `realtime-tutor reset` (it asks first), or delete that file.";

/// What a message about a path the tutor cannot use ends with: `reset` cannot help there.
const OTHER_FOLDER: &str =
    "Check that path, or set REALTIME_TUTOR_HOME to a folder where realtime-tutor may keep its file.";

/// Why the progress file could not be used. The I/O error is part of each message (and not
/// chained as a `source`, which would print it twice).
#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    /// Neither `REALTIME_TUTOR_HOME` nor a home directory is known.
    #[error("{}", state::NoHome)]
    NoHome,
    /// The file exists but cannot be read (permissions, a folder in its place, …).
    #[error("cannot read your progress file {}: {error}\n{OTHER_FOLDER}", path.display())]
    Unreadable { path: PathBuf, error: std::io::Error },
    /// The file was read but is not a progress file this build understands.
    #[error("your progress file {} is damaged: {detail}\n{WAY_OUT}", path.display())]
    Damaged { path: PathBuf, detail: String },
    /// The file was written by a newer realtime-tutor.
    #[error(
        "your progress file {} was written by a newer realtime-tutor (format_version {found}; this one \
         reads {FORMAT_VERSION}).\nUpdate realtime-tutor to keep it, or run `realtime-tutor reset` to start over.",
        path.display()
    )]
    Newer { path: PathBuf, found: u64 },
    /// The new progress could not be written.
    #[error("cannot save your progress to {}: {error}\n{OTHER_FOLDER}", path.display())]
    Unwritable { path: PathBuf, error: std::io::Error },
    /// Something other than a regular file has the file's name: a FIFO, a device, a socket.
    #[error(
        "your progress file {} is {kind}, not a regular file, so realtime-tutor neither reads nor replaces it.\n\
         Remove it, or set {HOME_ENV} to another folder.",
        path.display()
    )]
    NotAFile { path: PathBuf, kind: &'static str },
    /// The file's name is a symbolic link that cannot be followed to a regular file.
    #[error(
        "your progress file {} is a symbolic link, and {detail}, so realtime-tutor refuses to save \
         through it (and does not replace the link with a file).\nPoint the link at a regular file, \
         or remove it.",
        path.display()
    )]
    BadLink { path: PathBuf, detail: String },
    /// Another tutor held the lock for longer than a save takes.
    #[error(
        "cannot save your progress to {}: another realtime-tutor has been saving for over {}s \
         (it holds {}). Is one stopped (Ctrl-Z) or stuck? End it, then try again.",
        path.display(),
        LOCK_WAIT.as_secs(),
        lock.display()
    )]
    Busy { path: PathBuf, lock: PathBuf },
}
