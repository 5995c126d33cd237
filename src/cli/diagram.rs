//! `--svg FILE` of `lesson` and `check`: where a run's sequence diagram goes.
//!
//! What `FILE` is decides how the diagram gets there, and the diagram never changes what `FILE`
//! is:
//!
//! * a regular file, or nothing yet: the SVG is written to a temporary file beside it, which
//!   takes the name only when complete, so an interrupted or failed run never leaves half a
//!   picture, nor an empty file, behind. The temporary file is made only once the run is over
//!   (a run killed by Ctrl-C leaves nothing), and its name is never part of a message;
//! * anything else (a FIFO, a terminal, `/dev/null`, `/dev/stdout`): the SVG is written into it,
//!   as a shell's `>>` would; renaming over it would replace the device or the pipe with a file;
//! * a symbolic link: what it points at, by the same two rules; the link stays a link. A link
//!   that stands for an open file descriptor (`/dev/stdout`, `/dev/fd/3`) is written into,
//!   whatever it is open on.
//!
//! The place is checked before anything runs, so a path that cannot be written (a missing
//! folder, a folder, a socket) fails at once with a clear message instead of after the run.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::trace::StageTrace;
use crate::trace::safe::terminal_safe;
use crate::ui::diagram;

/// How many symbolic links in a row are followed before the path is given up on (Linux's own
/// limit for one path lookup).
const MAX_LINKS: usize = 40;

/// How long to wait for a reader of a FIFO: opening one for writing waits until something opens
/// it for reading, and a wait is always bounded.
const READER_WAIT: Duration = Duration::from_secs(30);

/// The widest the line that says what was written may be.
const LINE: usize = 80;

/// Where `--svg` sends the diagram: a file, or standard output for `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SvgTarget {
    Stdout,
    File(PathBuf),
}

impl SvgTarget {
    /// The clap value parser: `-` is standard output, anything else a file path.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "" => Err("--svg needs a file name, or - for standard output".to_owned()),
            "-" => Ok(Self::Stdout),
            path => Ok(Self::File(PathBuf::from(path))),
        }
    }

    /// True when the SVG takes standard output, so nothing else may be printed there.
    pub fn is_stdout(target: Option<&Self>) -> bool {
        matches!(target, Some(Self::Stdout))
    }
}

/// What a path turned out to be, links followed.
#[derive(Debug)]
enum Place {
    /// A regular file (with its permissions, which the new file keeps), or nothing yet: replaced
    /// by a complete file in one rename.
    Replace(PathBuf, Option<Permissions>),
    /// Anything else: written into.
    Into(PathBuf),
}

/// A diagram on its way out: its place checked before the run, written after it.
#[derive(Debug)]
pub enum Pending {
    Stdout,
    /// A regular file or nothing: `path` as given (for messages and to look again after the run).
    Replace {
        path: PathBuf,
    },
    /// A FIFO, a terminal or a device, opened before the run.
    Into {
        file: File,
        path: PathBuf,
    },
}

impl Pending {
    /// Makes sure the diagram can be written where `target` says, before anything runs.
    pub fn open(target: &SvgTarget) -> anyhow::Result<Self> {
        let path = match target {
            SvgTarget::Stdout => return Ok(Self::Stdout),
            SvgTarget::File(path) => path.clone(),
        };
        if path
            .as_os_str()
            .to_string_lossy()
            .ends_with(std::path::is_separator)
            && !path.is_dir()
        {
            bail!(
                "cannot write the diagram to {}: a file name cannot end in a slash",
                shown(&path)
            );
        }
        match place(&path)? {
            Place::Replace(at, _) => {
                // A file that can be made in the folder now can be made there after the run.
                let probe = temporary(&at, None).map_err(|e| cannot(&path, &e))?;
                drop(probe);
                Ok(Self::Replace { path })
            }
            Place::Into(at) => {
                let file = open_into(&at).map_err(|e| cannot(&path, &e))?;
                Ok(Self::Into { file, path })
            }
        }
    }

    /// Draws `traces` (one stage, or several one under the other) and writes the SVG. Says on
    /// standard error what it wrote where, unless the SVG went to standard output.
    pub fn write(self, traces: &[StageTrace]) -> anyhow::Result<()> {
        let svg = diagram::stages_svg(traces);
        let path = match self {
            Self::Stdout => {
                let mut out = io::stdout().lock();
                return out
                    .write_all(svg.as_bytes())
                    .and_then(|()| out.flush())
                    .context("cannot write the diagram to standard output");
            }
            Self::Into { mut file, path } => {
                file.write_all(svg.as_bytes())
                    .and_then(|()| file.flush())
                    .map_err(|e| cannot(&path, &e))?;
                path
            }
            Self::Replace { path } => {
                // Looked at again: the run may have taken a while, and what is there now counts.
                match place(&path)? {
                    Place::Replace(at, mode) => replace(&at, mode, &svg),
                    Place::Into(at) => open_into(&at).and_then(|mut file| file.write_all(svg.as_bytes())),
                }
                .map_err(|e| cannot(&path, &e))?;
                path
            }
        };
        super::warn(format_args!("{}", written(traces.len(), &path, svg.len())));
        Ok(())
    }
}

/// What `path` is, symbolic links followed one at a time (so a link to nothing yet still names
/// the file to make, which `canonicalize` would refuse).
fn place(path: &Path) -> anyhow::Result<Place> {
    let mut at = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        let meta = match std::fs::symlink_metadata(&at) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Place::Replace(at, None)),
            Err(e) => return Err(cannot(path, &e)),
        };
        let kind = meta.file_type();
        if kind.is_symlink() {
            if names_a_descriptor(&at) {
                return Ok(Place::Into(at));
            }
            let target = std::fs::read_link(&at).map_err(|e| cannot(path, &e))?;
            at = match at.parent() {
                Some(dir) => dir.join(target),
                None => target,
            };
        } else if kind.is_dir() {
            bail!("cannot write the diagram to {}: it is a folder", shown(path));
        } else if kind.is_file() {
            return Ok(Place::Replace(at, Some(meta.permissions())));
        } else {
            return Ok(Place::Into(at));
        }
    }
    bail!(
        "cannot write the diagram to {}: more than {MAX_LINKS} symbolic links in a row",
        shown(path)
    )
}

/// True for a link in a process's table of open files (`/proc/PID/fd/N`, which `/dev/stdout`
/// and `/dev/fd/N` lead to): what it points at may be a pipe or a socket with no path at all,
/// and opening the link itself reaches the very file that is open.
fn names_a_descriptor(link: &Path) -> bool {
    let Some(dir) = link.parent().and_then(|d| std::fs::canonicalize(d).ok()) else {
        return false;
    };
    let parts: Vec<_> = dir
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    matches!(
        parts.iter().map(String::as_str).collect::<Vec<_>>()[..],
        ["/", "proc", pid, "fd"] if pid.bytes().all(|b| b.is_ascii_digit()) || pid == "self"
    )
}

/// A new file in the folder of `at`, private to us until it is complete, with the permissions
/// `mode` (those of the file it replaces) or those of an ordinary new file.
fn temporary(at: &Path, mode: Option<Permissions>) -> io::Result<tempfile::NamedTempFile> {
    let dir = match at.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "its folder is not a folder",
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "its folder does not exist",
            ));
        }
        Err(e) => return Err(e),
    }
    let mut builder = tempfile::Builder::new();
    builder.prefix(".realtime-tutor-").suffix(".svg");
    // A temporary file is private (0600) by default; a picture is meant to be opened by whatever
    // shows it, so it gets the permissions an ordinary new file has, or the replaced file's.
    #[cfg(unix)]
    builder.permissions(mode.unwrap_or_else(|| std::os::unix::fs::PermissionsExt::from_mode(0o644)));
    #[cfg(not(unix))]
    let _ = mode;
    // Its errors name the temporary file; what went wrong is all a message needs.
    builder.tempfile_in(dir).map_err(|e| io::Error::from(e.kind()))
}

/// Writes `svg` beside `at` and renames it over `at`. On any error the temporary file is
/// removed (dropping it does).
fn replace(at: &Path, mode: Option<Permissions>, svg: &str) -> io::Result<()> {
    let mut temp = temporary(at, mode)?;
    // Through the file itself: the library's own writer would name the file in an error.
    temp.as_file_mut().write_all(svg.as_bytes())?;
    temp.persist(at).map_err(|e| e.error)?;
    Ok(())
}

/// Opens a FIFO, a terminal or a device for writing, adding at its end as `>>` does. Opening a
/// FIFO waits for a reader, so the opening happens on a thread of its own and is waited for at
/// most [`READER_WAIT`]; a thread still waiting then ends with the process.
fn open_into(at: &Path) -> io::Result<File> {
    let (tx, rx) = mpsc::channel();
    let at = at.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(OpenOptions::new().append(true).open(at));
    });
    rx.recv_timeout(READER_WAIT).unwrap_or_else(|_| {
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("nothing opened it for reading within {} s", READER_WAIT.as_secs()),
        ))
    })
}

/// The error for `path`. Every error that reaches here says only what went wrong, never the
/// temporary file's name: the operating system's own errors, ours, and the temporary-file
/// library's reduced to their kind (see [`temporary`]).
fn cannot(path: &Path, e: &io::Error) -> anyhow::Error {
    anyhow::anyhow!("cannot write the diagram to {}: {e}", shown(path))
}

/// `path` as it can be printed: control characters and the like as visible escapes.
fn shown(path: &Path) -> String {
    terminal_safe(&path.display().to_string())
}

/// `wrote the diagram of 3 stages to chat.svg (12 KiB)`, at most [`LINE`] columns: a path too
/// long for the line keeps its file name and loses folders from the front (`…/b/chat.svg`).
fn written(stages: usize, path: &Path, bytes: usize) -> String {
    let what = match stages {
        0 => "the diagram (no stage ran)".to_owned(),
        1 => "the diagram of 1 stage".to_owned(),
        n => format!("the diagram of {n} stages"),
    };
    let size = if bytes < 1024 {
        format!("{bytes} bytes")
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    };
    let fixed = format!("wrote {what} to  ({size})").chars().count();
    let path = fit(&shown(path), LINE.saturating_sub(fixed));
    format!("wrote {what} to {path} ({size})")
}

/// `path` in at most `room` characters: whole if it fits, else its last components after `…/`,
/// else the file name cut in the middle.
fn fit(path: &str, room: usize) -> String {
    let len = |s: &str| s.chars().count();
    if len(path) <= room {
        return path.to_owned();
    }
    let parts: Vec<&str> = path.split('/').collect();
    for start in 1..parts.len() {
        let tail = format!("…/{}", parts[start..].join("/"));
        if len(&tail) <= room {
            return tail;
        }
    }
    let name: Vec<char> = parts.last().copied().unwrap_or(path).chars().collect();
    let keep = room.saturating_sub(1);
    let (front, back) = (keep - keep / 2, keep / 2);
    let head: String = name[..front.min(name.len())].iter().collect();
    let tail: String = name[name.len() - back.min(name.len())..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_what_went_where_within_80_columns() {
        assert_eq!(
            written(3, Path::new("chat.svg"), 12 * 1024 - 5),
            "wrote the diagram of 3 stages to chat.svg (12 KiB)"
        );
        assert_eq!(
            written(1, Path::new("/dev/null"), 900),
            "wrote the diagram of 1 stage to /dev/null (900 bytes)"
        );
        let deep = format!("/{}pictures/chat.svg", "long-folder-name/".repeat(5));
        let line = written(2, Path::new(&deep), 40_000);
        assert_eq!(
            line,
            "wrote the diagram of 2 stages to …/long-folder-name/pictures/chat.svg (40 KiB)"
        );
        let long_name = format!("{}.svg", "n".repeat(120));
        let line = written(2, Path::new(&long_name), 40_000);
        assert_eq!(line.chars().count(), 80, "{line}");
        assert!(
            line.contains("nnn…nnn") && line.ends_with(".svg (40 KiB)"),
            "{line}"
        );
        let odd = written(1, Path::new("a\u{1b}[31m\u{202e}.svg"), 10);
        assert_eq!(
            odd,
            "wrote the diagram of 1 stage to a\\u{1b}[31m\\u{202e}.svg (10 bytes)"
        );
    }

    #[test]
    fn a_name_ending_in_a_slash_is_refused_before_the_run() {
        let message = format!(
            "{:#}",
            Pending::open(&SvgTarget::File("no-such-dir/".into())).unwrap_err()
        );
        assert_eq!(
            message,
            "cannot write the diagram to no-such-dir/: a file name cannot end in a slash"
        );
    }

    #[test]
    fn descriptor_links_are_written_into() {
        assert!(names_a_descriptor(Path::new("/proc/self/fd/1")));
        assert!(!names_a_descriptor(Path::new("/tmp/x.svg")));
    }

    #[test]
    fn errors_never_name_the_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere/x.svg");
        let message = format!(
            "{:#}",
            Pending::open(&SvgTarget::File(missing.clone())).unwrap_err()
        );
        assert_eq!(
            message,
            format!(
                "cannot write the diagram to {}: its folder does not exist",
                missing.display()
            )
        );
        // A folder where no file can be made, even by root: the library's error names the
        // temporary file, the message does not.
        #[cfg(target_os = "linux")]
        {
            let e = temporary(Path::new("/proc/x.svg"), None).unwrap_err();
            let message = cannot(Path::new("/proc/x.svg"), &e).to_string();
            assert!(!message.contains(".realtime-tutor-"), "{message}");
        }
    }
}
