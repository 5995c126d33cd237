//! The progress file on disk: where it is, reading it (refusing what is not a progress file), and
//! saving it whole, atomically and under the lock.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::{FILE_NAME, FORMAT_VERSION, MAX_BYTES, Progress, ProgressError, files};
use crate::parts::state;

/// Where the progress file lives, and reading and writing it.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
}

impl Store {
    /// The store in `REALTIME_TUTOR_HOME` if it is set, else in the platform's state directory.
    pub fn locate() -> Result<Store, ProgressError> {
        let dir = state::dir().map_err(|state::NoHome| ProgressError::NoHome)?;
        Ok(Store::in_dir(&dir))
    }

    /// The store whose file is `dir/progress.json`.
    pub fn in_dir(dir: &Path) -> Store {
        Store {
            path: dir.join(FILE_NAME),
        }
    }

    /// The progress file's path (it may not exist yet).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where a symbolic link at [`Store::path`] leads, the file that is really read and saved;
    /// `None` when the path is not a link (or leads nowhere usable, which a save reports).
    pub fn link_target(&self) -> Option<PathBuf> {
        let is_link = std::fs::symlink_metadata(&self.path)
            .ok()?
            .file_type()
            .is_symlink();
        if !is_link {
            return None;
        }
        files::target(&self.path).ok()
    }

    /// Reads the progress. No file yet means no progress, which is not an error.
    pub fn load(&self) -> Result<Progress, ProgressError> {
        let unreadable = |error| ProgressError::Unreadable {
            path: self.path.clone(),
            error,
        };
        let damaged = |detail: String| ProgressError::Damaged {
            path: self.path.clone(),
            detail,
        };
        // Look before opening: opening a FIFO for reading waits until something writes to it.
        match std::fs::metadata(&self.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Progress::default()),
            Err(e) => return Err(unreadable(e)),
            // A folder is left to `open` and `read`, whose error says what it is.
            Ok(meta) if !meta.is_file() && !meta.is_dir() => {
                return Err(ProgressError::NotAFile {
                    path: self.path.clone(),
                    kind: files::kind_of(&meta.file_type()),
                });
            }
            Ok(_) => {}
        }
        let file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Progress::default()),
            Err(e) => return Err(unreadable(e)),
        };
        // Read at most one byte more than the limit: enough to know the file is too large
        // without reading all of it.
        let mut bytes = Vec::new();
        file.take(MAX_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(unreadable)?;
        if bytes.len() as u64 > MAX_BYTES {
            return Err(damaged(format!(
                "it is larger than {} KiB, far too large for a progress file",
                MAX_BYTES / 1024
            )));
        }
        // First as any JSON, to tell "written by a newer version" apart from "broken".
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| damaged(format!("it is not valid JSON ({e})")))?;
        match value.get("format_version").map(|v| (v, v.as_u64())) {
            Some((_, Some(v))) if v == u64::from(FORMAT_VERSION) => {}
            Some((_, Some(found))) if found > u64::from(FORMAT_VERSION) => {
                return Err(ProgressError::Newer {
                    path: self.path.clone(),
                    found,
                });
            }
            Some((_, Some(v))) => {
                return Err(damaged(format!(
                    "it has format_version {v}, and this realtime-tutor reads version {FORMAT_VERSION}"
                )));
            }
            Some((v, None)) => {
                let mut shown = v.to_string();
                if shown.chars().count() > 40 {
                    shown = shown.chars().take(40).collect::<String>() + "…";
                }
                return Err(damaged(format!(
                    "its format_version is {} ({shown}), not a version number like {FORMAT_VERSION}",
                    json_type(v)
                )));
            }
            None => return Err(damaged("it has no format_version".into())),
        }
        serde_json::from_value(value).map_err(|e| damaged(format!("unexpected content ({e})")))
    }

    /// Writes the progress, holding the lock (see [`Store::update`] to change it instead).
    pub fn save(&self, progress: &Progress) -> Result<(), ProgressError> {
        let _lock = files::lock(&self.path)?;
        self.write(progress)
    }

    /// Writes the progress atomically: a temporary file in the same folder as the file it
    /// replaces, flushed, then renamed over it. The caller holds the lock.
    fn write(&self, progress: &Progress) -> Result<(), ProgressError> {
        let unwritable = |error| ProgressError::Unwritable {
            path: self.path.clone(),
            error,
        };
        let target = files::target(&self.path)?;
        let dir = target.parent().unwrap_or(Path::new("."));
        let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(unwritable)?;
        let mut text = serde_json::to_string_pretty(progress).map_err(|e| unwritable(e.into()))?;
        text.push('\n');
        temp.write_all(text.as_bytes()).map_err(unwritable)?;
        // Flush to disk before the rename, or a crash could leave the new name on empty data.
        temp.as_file().sync_all().map_err(unwritable)?;
        temp.persist(&target).map_err(|e| unwritable(e.error))?;
        Ok(())
    }

    /// Reads the file afresh, applies `change`, and saves, holding the lock from the read to
    /// the end of the write: a save that overlaps waits, then reads the file this one wrote, so
    /// both changes are kept.
    pub fn update(&self, change: impl FnOnce(&mut Progress)) -> Result<Progress, ProgressError> {
        let _lock = files::lock(&self.path)?;
        let mut progress = self.load()?;
        change(&mut progress);
        self.write(&progress)?;
        Ok(progress)
    }

    /// Deletes the progress file (a symbolic link itself, not its target). Returns false when
    /// there was none. It does not read the file first, so it also works when the file is
    /// damaged. The lock file stays: another tutor may be waiting on it.
    pub fn reset(&self) -> Result<bool, ProgressError> {
        let _lock = match std::fs::symlink_metadata(&self.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            _ => files::lock(&self.path)?,
        };
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(error) => Err(ProgressError::Unwritable {
                path: self.path.clone(),
                error,
            }),
        }
    }
}

/// The JSON type of a value, as a message names it.
fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::{LOCK_NAME, Score};

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::in_dir(&dir.path().join("nested"));
        (dir, store)
    }

    #[test]
    fn no_file_means_no_progress() {
        let (_dir, store) = store();
        assert_eq!(store.load().unwrap(), Progress::default());
        assert!(!store.reset().unwrap(), "nothing to delete");
    }

    #[test]
    fn progress_survives_a_save_and_a_load() {
        let (_dir, store) = store();
        store
            .update(|p| {
                p.mark_done(2, 1);
                p.record_prediction(2, 1, 4, false);
                p.record_prediction(2, 1, 4, true);
                p.record_prediction(2, 2, 4, false);
            })
            .unwrap();
        let loaded = store.load().unwrap();
        assert!(loaded.is_done(2, 1) && !loaded.is_done(2, 2));
        assert_eq!(
            loaded.score(2, 1),
            Score {
                right: 1,
                answered: 1
            },
            "the latest answer counts"
        );
        assert_eq!(
            loaded.score(2, 2),
            Score {
                right: 0,
                answered: 1
            }
        );
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(text.contains(r#""format_version": 1"#), "{text}");
        assert!(text.contains(r#""2.1""#), "{text}");
        let leftovers: Vec<_> = std::fs::read_dir(store.path().parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|name| name != LOCK_NAME)
            .collect();
        assert_eq!(
            leftovers,
            [FILE_NAME],
            "the temporary file was renamed, not left behind"
        );
        assert!(store.reset().unwrap());
        assert_eq!(store.load().unwrap(), Progress::default());
    }

    #[test]
    fn damaged_files_are_reported_with_the_way_out() {
        let (_dir, store) = store();
        std::fs::create_dir_all(store.path().parent().unwrap()).unwrap();
        let cases = [
            ("{ not json".to_owned(), "not valid JSON"),
            (String::new(), "not valid JSON"),
            (r#"{"stages": {}}"#.to_owned(), "no format_version"),
            (
                r#"{"format_version": "1"}"#.to_owned(),
                r#"format_version is a string ("1"), not a version number"#,
            ),
            (r#"{"format_version": null}"#.to_owned(), "format_version is null"),
            (r#"{"format_version": 7}"#.to_owned(), "format_version 7"),
            (
                r#"{"format_version": 1, "stages": {"1.1": {"done": "yes"}}}"#.to_owned(),
                "unexpected content",
            ),
            (" ".repeat(MAX_BYTES as usize + 1), "too large"),
        ];
        for (content, needle) in cases {
            std::fs::write(store.path(), &content).unwrap();
            let message = store.load().unwrap_err().to_string();
            assert!(message.contains(needle), "{message}");
            assert!(message.contains(&store.path().display().to_string()), "{message}");
            assert!(message.contains("realtime-tutor reset"), "{message}");
        }
        assert!(store.reset().unwrap(), "reset works on a damaged file");
    }

    #[test]
    fn a_folder_in_place_of_the_file_is_unreadable_not_a_panic() {
        let (_dir, store) = store();
        std::fs::create_dir_all(store.path()).unwrap();
        let message = store.load().unwrap_err().to_string();
        assert!(message.contains("cannot read your progress file"), "{message}");
        assert!(store.save(&Progress::default()).is_err());
    }

    #[test]
    fn a_folder_that_cannot_be_made_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "").unwrap();
        let store = Store::in_dir(&file.join("sub"));
        let message = store.update(|p| p.mark_done(1, 1)).unwrap_err().to_string();
        assert!(message.starts_with("cannot save your progress to"), "{message}");
        assert!(message.contains("REALTIME_TUTOR_HOME"), "{message}");
    }
}
