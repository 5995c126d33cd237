//! `--svg FILE` of `lesson` and `check`: where a run's sequence diagram goes.
//!
//! The file is prepared before anything runs, so a path that cannot be written fails at once
//! with a clear message instead of after the run. The SVG goes into a temporary file beside the
//! target and takes the target's name only when complete: an interrupted or failed run never
//! leaves half a picture, nor an empty file, behind.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::trace::StageTrace;
use crate::ui::diagram;

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

/// A diagram on its way out: opened before the run, written after it.
#[derive(Debug)]
pub enum Pending {
    Stdout,
    File {
        temp: tempfile::NamedTempFile,
        path: PathBuf,
    },
}

impl Pending {
    /// Makes sure the diagram can be written where `target` says, before anything runs.
    pub fn open(target: &SvgTarget) -> anyhow::Result<Self> {
        let path = match target {
            SvgTarget::Stdout => return Ok(Self::Stdout),
            SvgTarget::File(path) => path,
        };
        if path.is_dir() {
            anyhow::bail!("cannot write the diagram to {}: it is a folder", path.display());
        }
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".realtime-tutor-").suffix(".svg");
        // A temporary file is private (0600) by default; a picture is meant to be opened by
        // whatever shows it, so it gets the permissions an ordinary new file has.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
        let temp = builder
            .tempfile_in(dir)
            .with_context(|| format!("cannot write the diagram to {}", path.display()))?;
        Ok(Self::File {
            temp,
            path: path.clone(),
        })
    }

    /// Draws `traces` (one stage, or several one under the other) and writes the SVG.
    pub fn write(self, traces: &[StageTrace]) -> anyhow::Result<()> {
        let svg = diagram::stages_svg(traces);
        match self {
            Self::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(svg.as_bytes())
                    .and_then(|()| out.flush())
                    .context("cannot write the diagram to standard output")
            }
            Self::File { mut temp, path } => {
                let what = || format!("cannot write the diagram to {}", path.display());
                temp.write_all(svg.as_bytes()).with_context(what)?;
                temp.persist(&path).map_err(|e| e.error).with_context(what)?;
                Ok(())
            }
        }
    }
}
