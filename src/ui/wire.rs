//! `--wire` as text: the packets each client sent and read (WebSocket frames, long-polling
//! requests and the upgrade), the tutor's own plumbing dimmed and labelled.

use std::fmt::Write;

use super::style::{self, INDENT};
use super::trace::pad;
use crate::client::WireDirection;
use crate::trace::WireLine;
use crate::trace::safe::terminal_safe;

/// Writes a step's frames under it, or nothing when there are none.
pub(super) fn render(out: &mut String, wire: &[WireLine]) {
    if wire.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{INDENT}{INDENT}{}",
        style::note("wire (each client's own view, in the order it saw them):")
    );
    let width = wire.iter().map(|w| w.client.len()).max().unwrap_or(0);
    for line in wire {
        let arrow = match line.direction {
            WireDirection::Sent => "→ server",
            WireDirection::Received => "← server",
        };
        // The heartbeat comes on the server's schedule (the first ping right after OPEN), so
        // where these frames appear varies from run to run: they are named to be recognised.
        let label = if line.plumbing {
            "  (tutor plumbing: fence, not part of the lesson)"
        } else if line.direction == WireDirection::Received && line.frame == "2" {
            "  (Engine.IO heartbeat: the server's ping)"
        } else if line.direction == WireDirection::Sent && line.frame == "3" {
            "  (Engine.IO heartbeat: the client's pong)"
        } else {
            ""
        };
        let text = format!(
            "{INDENT}{INDENT}  {} {arrow}  {}{label}",
            pad(&line.client, width),
            terminal_safe(&line.frame)
        );
        let _ = writeln!(out, "{}", if line.plumbing { style::note(text) } else { text });
    }
}
