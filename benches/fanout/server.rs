//! The two servers under test, each in a process of its own so that its memory and CPU time
//! can be read from `/proc`, apart from the load's.
//!
//! * **ours**: `realtime-tutor serve 3`, the very server `serve 3` runs for a browser (lesson
//!   3's chat: `io.emit('chat message', msg)`), with no bots, its live trace as JSON Lines
//!   (which this process reads and throws away), and two hidden flags that lift its limits for
//!   strangers (256 connections, 1,000 new sessions per 5 s) to what the benchmark connects.
//! * **node**: `tests/node/server.js 3.1`, the same lesson written with Express and socket.io
//!   4.8, as the test suite runs it.

use std::process::Command;
use std::time::Duration;

use crate::lines::Spawned;

/// How long a server may take to print where it listens.
const START_WITHIN: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ours,
    Node,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ours => "serve 3 (socketioxide)",
            Kind::Node => "Node socket.io",
        }
    }
}

/// A running server; killed when dropped.
pub struct Server {
    pub pid: u32,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    _process: Spawned,
}

impl Server {
    /// Starts a server that will take `clients` connections, and waits (bounded) until it says
    /// where it listens.
    pub async fn start(kind: Kind, clients: usize) -> Result<Server, String> {
        let room = (clients + 64).min(usize::from(u16::MAX)).to_string();
        let command = match kind {
            Kind::Ours => {
                let mut c = Command::new(env!("CARGO_BIN_EXE_realtime-tutor"));
                c.args([
                    "serve", "3", "--port", "0", "--format", "json", "--color", "never",
                ])
                .args(["--max-connections", &room, "--max-handshakes", &room]);
                c
            }
            Kind::Node => {
                let mut c = Command::new("node");
                c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node"))
                    .args(["server.js", "3.1", "0"]);
                c
            }
        };
        let mut process =
            Spawned::start(command).map_err(|e| format!("cannot start {}: {e}", kind.name()))?;
        let first = process
            .next_line(START_WITHIN, "its address")
            .await
            .map_err(|e| format!("{}: {e}", kind.name()))?;
        let base = match kind {
            // `{"t_ms":…,"kind":"listening","url":"http://127.0.0.1:PORT/",…}`
            Kind::Ours => serde_json::from_str::<serde_json::Value>(&first)
                .ok()
                .and_then(|v| v["url"].as_str().map(|u| u.trim_end_matches('/').to_owned()))
                .ok_or_else(|| format!("serve's first line has no url: {first}"))?,
            // The port alone.
            Kind::Node => format!("http://127.0.0.1:{}", first.trim()),
        };
        // serve's live trace goes on; it is read and forgotten, so serve never waits on the pipe.
        process.drain();
        Ok(Server {
            pid: process.pid,
            base,
            _process: process,
        })
    }
}
