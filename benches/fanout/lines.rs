//! A child process whose output is read line by line, with a time bound on every line.
//!
//! tokio's own process support is a cargo feature this crate does not build, so a plain thread
//! reads the child's standard output and hands each line over a channel that async code can
//! wait on with a timeout.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::sync::mpsc;

/// A running child process; killed when dropped.
pub struct Spawned {
    pub pid: u32,
    lines: mpsc::UnboundedReceiver<String>,
    child: Child,
}

impl Spawned {
    /// Starts `command` with its standard output piped to us (standard error is left as ours).
    pub fn start(mut command: Command) -> std::io::Result<Spawned> {
        let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).spawn()?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Spawned {
            pid: child.id(),
            lines,
            child,
        })
    }

    /// The next line, or `Err` with what went wrong: `awaited` names what was expected, for the
    /// message.
    pub async fn next_line(&mut self, within: Duration, awaited: &str) -> Result<String, String> {
        match tokio::time::timeout(within, self.lines.recv()).await {
            Ok(Some(line)) => Ok(line),
            Ok(None) => Err(format!("the process ended before it printed {awaited}")),
            Err(_) => Err(format!("waited {within:?} for {awaited}")),
        }
    }

    /// Forgets every line still to come, so the child never blocks on a full pipe.
    pub fn drain(&mut self) {
        let (_, empty) = mpsc::unbounded_channel();
        let mut lines = std::mem::replace(&mut self.lines, empty);
        tokio::spawn(async move { while lines.recv().await.is_some() {} });
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
