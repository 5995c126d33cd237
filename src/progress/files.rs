//! The file-system side of the progress file: which file a save replaces (following a
//! symbolic link, refusing anything that is not a regular file), and the lock that keeps
//! overlapping saves from losing each other. See the parent module for why.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use super::{LOCK_NAME, ProgressError};

/// How long a save waits for another tutor's save to finish. A save holds the lock for the
/// time it takes to read and write a few hundred bytes (milliseconds); a lock held for this long
/// belongs to a tutor that is stuck (stopped with Ctrl-Z in the middle of a save, say), and
/// waiting on would hang this one too.
pub(super) const LOCK_WAIT: Duration = Duration::from_secs(5);

/// The file a save replaces: the progress file itself, or the regular file its symbolic
/// link points to (renaming over the link would turn it into a plain file).
pub(super) fn target(path: &Path) -> Result<PathBuf, ProgressError> {
    let meta = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(path.to_path_buf()),
        Err(error) => {
            return Err(ProgressError::Unwritable {
                path: path.to_path_buf(),
                error,
            });
        }
        Ok(meta) => meta,
    };
    let not_a_file = |meta: &std::fs::Metadata| ProgressError::NotAFile {
        path: path.to_path_buf(),
        kind: kind_of(&meta.file_type()),
    };
    if !meta.file_type().is_symlink() {
        return if meta.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(not_a_file(&meta))
        };
    }
    let bad_link = |detail: String| ProgressError::BadLink {
        path: path.to_path_buf(),
        detail,
    };
    let shown = std::fs::read_link(path)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "?".into());
    let target = std::fs::canonicalize(path)
        .map_err(|e| bad_link(format!("its target {shown} cannot be followed ({e})")))?;
    let meta = std::fs::metadata(&target)
        .map_err(|e| bad_link(format!("its target {shown} cannot be read ({e})")))?;
    if !meta.is_file() {
        return Err(bad_link(format!(
            "its target {shown} is {}, not a regular file",
            kind_of(&meta.file_type())
        )));
    }
    Ok(target)
}

/// Takes the lock that makes one save at a time, creating the folder and the lock file if
/// needed. It is released when the returned file is closed (dropped), also on a panic, and
/// by the system if the process dies.
pub(super) fn lock(path: &Path) -> Result<File, ProgressError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let lock_path = dir.join(LOCK_NAME);
    let unwritable = |error| ProgressError::Unwritable {
        path: path.to_path_buf(),
        error,
    };
    std::fs::create_dir_all(dir).map_err(unwritable)?;
    if let Ok(meta) = std::fs::metadata(&lock_path)
        && !meta.is_file()
    {
        return Err(ProgressError::NotAFile {
            path: lock_path,
            kind: kind_of(&meta.file_type()),
        });
    }
    // Read and write: opening a FIFO that way does not wait (were one to appear between the
    // check and here), where write-only would.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(unwritable)?;
    match file.try_lock() {
        Ok(()) => return Ok(file),
        Err(TryLockError::WouldBlock) => {}
        // A file system without locks (some network ones): save without, as before.
        Err(TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => return Ok(file),
        Err(TryLockError::Error(e)) => return Err(unwritable(e)),
    }
    // Another save is under way. `File::lock` waits for it with no time limit, so it waits
    // on a thread of its own, and this one waits for that thread at most LOCK_WAIT. If the
    // time runs out, the thread is left blocked; it ends with the process.
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let locked = file.lock().map(|()| file);
        // If nobody waits any more, the file is dropped here, which releases the lock.
        let _ = sender.send(locked);
    });
    match receiver.recv_timeout(LOCK_WAIT) {
        Ok(Ok(file)) => Ok(file),
        Ok(Err(e)) => Err(unwritable(e)),
        Err(_) => Err(ProgressError::Busy {
            path: path.to_path_buf(),
            lock: lock_path,
        }),
    }
}

/// What kind of thing stands where a regular file was expected, in words.
pub(super) fn kind_of(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a folder"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Progress, Store};
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::in_dir(&dir.path().join("nested"));
        (dir, store)
    }

    /// Saves that run at once, each from its own `Store` as separate tutors would, each adding
    /// one stage: every stage is kept, in every round. Without the lock, a save that read the
    /// file before another's rename writes back without that other's stage.
    #[test]
    fn overlapping_saves_keep_every_stage() {
        const SAVES: u32 = 8;
        for round in 0..20 {
            let (_dir, store) = store();
            let start = std::sync::Arc::new(std::sync::Barrier::new(SAVES as usize));
            let savers: Vec<_> = (1..=SAVES)
                .map(|stage| {
                    let store = Store::in_dir(store.path().parent().unwrap());
                    let start = start.clone();
                    std::thread::spawn(move || {
                        start.wait();
                        store.update(|p| p.mark_done(1, stage)).unwrap();
                    })
                })
                .collect();
            for saver in savers {
                saver.join().unwrap();
            }
            let progress = store.load().unwrap();
            let kept: Vec<u32> = (1..=SAVES).filter(|&s| progress.is_done(1, s)).collect();
            assert_eq!(
                kept,
                (1..=SAVES).collect::<Vec<_>>(),
                "round {round}: stages kept"
            );
        }
    }

    /// Runs `f` on a thread and gives it a few seconds: a call that hangs fails the test.
    fn within_seconds<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(f());
        });
        receiver
            .recv_timeout(Duration::from_secs(5))
            .expect("the call returned within 5 s instead of hanging")
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_in_place_of_the_file_is_refused_without_waiting() {
        let (_dir, store) = store();
        std::fs::create_dir_all(store.path().parent().unwrap()).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(store.path())
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        let (loaded, saved) = within_seconds({
            let store = store.clone();
            move || (store.load(), store.save(&Progress::default()))
        });
        let message = loaded.unwrap_err().to_string();
        assert!(
            message.contains("is a FIFO (named pipe), not a regular file"),
            "{message}"
        );
        assert!(message.contains(&store.path().display().to_string()), "{message}");
        let message = saved.unwrap_err().to_string();
        assert!(message.contains("is a FIFO"), "{message}");
        use std::os::unix::fs::FileTypeExt;
        let kind = std::fs::symlink_metadata(store.path()).unwrap().file_type();
        assert!(kind.is_fifo(), "the FIFO is left as it was");
    }

    #[cfg(unix)]
    #[test]
    fn a_device_in_place_of_the_file_is_refused() {
        let (_dir, store) = store();
        std::fs::create_dir_all(store.path().parent().unwrap()).unwrap();
        std::os::unix::fs::symlink("/dev/zero", store.path()).unwrap();
        let message = within_seconds({
            let store = store.clone();
            move || store.load()
        })
        .unwrap_err()
        .to_string();
        assert!(message.contains("is a device, not a regular file"), "{message}");
        let message = store.save(&Progress::default()).unwrap_err().to_string();
        assert!(
            message.contains("is a symbolic link, and its target /dev/zero is a device"),
            "{message}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_file_is_saved_through_the_link() {
        let (dir, store) = store();
        std::fs::create_dir_all(store.path().parent().unwrap()).unwrap();
        let real = dir.path().join("elsewhere").join("kept.json");
        std::fs::create_dir_all(real.parent().unwrap()).unwrap();
        std::fs::write(
            &real,
            r#"{"format_version": 1, "stages": {"1.1": {"done": true}}}"#,
        )
        .unwrap();
        std::os::unix::fs::symlink(&real, store.path()).unwrap();
        store.update(|p| p.mark_done(2, 1)).unwrap();
        assert_eq!(store.link_target(), Some(std::fs::canonicalize(&real).unwrap()));
        let link = std::fs::symlink_metadata(store.path()).unwrap();
        assert!(link.file_type().is_symlink(), "the link is still a link");
        let saved: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&real).unwrap()).unwrap();
        assert_eq!(saved["stages"]["1.1"]["done"], true, "{saved}");
        assert_eq!(
            saved["stages"]["2.1"]["done"], true,
            "the target holds the new save: {saved}"
        );
        // A link to nothing is refused, not replaced by a file.
        std::fs::remove_file(&real).unwrap();
        let message = store.save(&Progress::default()).unwrap_err().to_string();
        assert!(
            message.contains("is a symbolic link, and its target"),
            "{message}"
        );
        assert!(message.contains("refuses to save through it"), "{message}");
        assert!(
            std::fs::symlink_metadata(store.path())
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}
