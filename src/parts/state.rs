//! Where the tutor keeps its files between runs: one folder, for the progress file and `serve`'s
//! message database alike.
//!
//! The folder is the one named by the `REALTIME_TUTOR_HOME` environment variable when it is set,
//! else the platform's state directory (on Linux `$XDG_STATE_HOME/realtime-tutor` or
//! `~/.local/state/realtime-tutor`; where a platform has no state directory, its local data
//! directory). It lives here, at the bottom of the crate, so that both the progress file and the
//! message store can find it without either knowing the other.

use std::path::PathBuf;

/// The environment variable that names the folder holding the tutor's files.
pub const HOME_ENV: &str = "REALTIME_TUTOR_HOME";

/// Neither `REALTIME_TUTOR_HOME` nor a home directory is known, so there is nowhere to keep a
/// file. The words name the progress file, the file every learner's tutor keeps; the message
/// store's own error quotes this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("there is no folder to keep your progress in: set {HOME_ENV} to one")]
pub struct NoHome;

/// The folder: `REALTIME_TUTOR_HOME` if it is set (and not empty), else the platform's state
/// directory. It may not exist yet; whoever writes a file there creates it.
pub fn dir() -> Result<PathBuf, NoHome> {
    if let Some(dir) = std::env::var_os(HOME_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    // The qualifier and organisation only shape the folder name on macOS and Windows.
    let dirs = directories::ProjectDirs::from("", "", "realtime-tutor").ok_or(NoHome)?;
    Ok(dirs
        .state_dir()
        .unwrap_or_else(|| dirs.data_local_dir())
        .to_path_buf())
}
