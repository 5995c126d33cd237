//! `--wire` as text: the packets each client sent and read (WebSocket frames, long-polling
//! requests and the upgrade), the tutor's own plumbing dimmed and labelled.

use std::fmt::Write;

use super::layout;
use super::style::{self, INDENT};
use super::trace::pad;
use crate::client::WireDirection;
use crate::trace::WireLine;
use crate::trace::safe::terminal_safe;

/// Writes a step's frames under it, or nothing when there are none.
///
/// A frame too long for the line continues under its own start: a frame is data, so it may be
/// cut where it has no space, but its label (`(tutor plumbing: …)`) moves whole to a line of
/// its own.
pub(super) fn render(out: &mut String, wire: &[WireLine], width: usize) {
    if wire.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{INDENT}{INDENT}{}",
        style::note("wire (each client's own view, in the order it saw them):")
    );
    let name_width = wire.iter().map(|w| layout::columns(&w.client)).max().unwrap_or(0);
    for line in wire {
        let arrow = match line.direction {
            WireDirection::Sent => "→ server",
            WireDirection::Received => "← server",
        };
        // The heartbeat comes on the server's schedule (the first ping right after OPEN), so
        // where these frames appear varies from run to run: they are named to be recognised.
        let label = if line.plumbing {
            "(tutor plumbing: fence, not part of the lesson)"
        } else if line.direction == WireDirection::Received && line.frame == "2" {
            "(Engine.IO heartbeat: the server's ping)"
        } else if line.direction == WireDirection::Sent && line.frame == "3" {
            "(Engine.IO heartbeat: the client's pong)"
        } else {
            ""
        };
        let lead = format!("{INDENT}{INDENT}  {} {arrow}  ", pad(&line.client, name_width));
        let hang = layout::columns(&lead);
        // A frame breaks after a comma, between its JSON values, when it must break.
        let frame = terminal_safe(&line.frame);
        let mut pieces: Vec<(&str, String)> = frame
            .split_inclusive(',')
            .map(|part| ("", part.to_owned()))
            .collect();
        if !label.is_empty() {
            pieces.push(("  ", label.to_owned()));
        }
        let text = layout::flow(&lead, pieces, hang, width);
        if line.plumbing {
            // Dimmed line by line, so the style never spans a line break.
            for part in text.lines() {
                let _ = writeln!(out, "{}", style::note(part));
            }
        } else {
            out.push_str(&text);
        }
    }
}
