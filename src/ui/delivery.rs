//! A delivery step's lines: for every connected client, what it received (✓) or not (✗), and
//! why not, as the server's own tables said at emit time.

use std::fmt::Write;

use super::style::{self, DOT, INDENT, SENDER};
use super::trace::{ack_line, describe, header, not_judged, pad, server_ack_line};
use crate::trace::safe::terminal_safe;
use crate::trace::{Audience, StepRecord};

/// Writes a connect, emit or disconnect step: its header, then one line per client.
pub(super) fn render(out: &mut String, step: &StepRecord, width: usize) {
    let _ = writeln!(out, "{}", header(step));
    if step.event.is_none() {
        nothing_emitted(out, step, width);
        return;
    }
    let event = step.event.as_deref().unwrap_or_default();
    for (name, inbox) in &step.received {
        let is_sender = step.sender.as_deref() == Some(name.as_str());
        let matching: Vec<_> = inbox.iter().filter(|d| d.event == event).map(describe).collect();
        let others: Vec<_> = inbox.iter().filter(|d| d.event != event).map(describe).collect();
        let set_aside = step.ignored.get(name).is_some_and(|v| !v.is_empty());
        let mut line = if matching.is_empty() && (inbox.is_empty() && !set_aside) {
            format!("{} nothing", style::no())
        } else if matching.is_empty() {
            // Something else arrived (shown next): say precisely what did not.
            format!("{} no '{}'", style::no(), terminal_safe(event))
        } else {
            format!("{} {}", style::ok(), matching.join(", "))
        };
        if !others.is_empty() {
            let _ = write!(line, "  (also: {})", others.join(", "));
        }
        if let Some(set_aside) = step.ignored.get(name) {
            let _ = write!(line, "  {}", not_judged(set_aside));
        }
        // The why-not column: the server's own reason, read at emit time.
        let why_not = step.why_not.get(name).filter(|_| matching.is_empty());
        if is_sender {
            let who = style::role(step.kind);
            let note = match (&step.audience, matching.is_empty()) {
                (Some(Audience::EveryoneButSender), true) => format!("{who}: a broadcast skips it"),
                (Some(Audience::RoomsButSender(_)), true) => format!("{who}: socket.to skips it"),
                (Some(Audience::Everyone), false) => format!("{who}, included by io.emit"),
                _ => match why_not {
                    Some(why) if why != SENDER => format!("{who}: {}", terminal_safe(why)),
                    _ => who.to_owned(),
                },
            };
            let _ = write!(line, "   {}", style::note(format!("← {note}")));
        } else if let Some(why) = why_not {
            // A connection handler's socket is the newcomer, whom `socket.emit` alone reaches.
            let why = match why.as_str() {
                "not the sender" if step.kind == crate::trace::Kind::Connect => {
                    format!("not {}", style::NEWCOMER)
                }
                why => why.to_owned(),
            };
            let _ = write!(line, "   {}", style::note(format!("← {}", terminal_safe(&why))));
        }
        if let Some(ack) = step.acks.get(name) {
            let _ = write!(line, "   {}", ack_line(ack));
        }
        if let Some(ack) = step.server_acks.get(name) {
            let _ = write!(line, "   {}", server_ack_line(ack));
        }
        let _ = writeln!(out, "{INDENT}{INDENT}{}  {line}", style::name(pad(name, width)));
    }
    // Clients that are disconnected: nothing reaches them, and the server keeps nothing for them.
    for name in &step.away {
        let _ = writeln!(
            out,
            "{INDENT}{INDENT}{}  {} nothing   {}",
            style::name(pad(name, width)),
            style::no(),
            style::note("← disconnected: no socket on the server to send to")
        );
    }
}

/// A step whose handler emitted nothing: say so, but still show anything that arrived
/// regardless, the acknowledgements, and what was set aside.
fn nothing_emitted(out: &mut String, step: &StepRecord, width: usize) {
    let strays: Vec<_> = step.received.iter().filter(|(_, v)| !v.is_empty()).collect();
    if strays.is_empty() && step.ignored.is_empty() && !step.acks.is_empty() {
        let _ = writeln!(
            out,
            "{INDENT}{INDENT}{}",
            style::note("(no event: an answer to a callback is an acknowledgement, not an emit)")
        );
    } else if strays.is_empty() && step.ignored.is_empty() {
        let _ = writeln!(
            out,
            "{INDENT}{INDENT}{}",
            style::note("(no event: nothing arrived at any client)")
        );
    }
    for (name, inbox) in strays {
        let items: Vec<_> = inbox.iter().map(describe).collect();
        let _ = writeln!(out, "{INDENT}{INDENT}{name:<width$}  ! {}", items.join(", "));
    }
    for (name, ack) in &step.acks {
        let _ = writeln!(
            out,
            "{INDENT}{INDENT}{}  {}",
            style::name(pad(name, width)),
            ack_line(ack)
        );
    }
    for (name, inbox) in &step.ignored {
        let _ = writeln!(
            out,
            "{INDENT}{INDENT}{}  {DOT} {}",
            style::name(pad(name, width)),
            not_judged(inbox)
        );
    }
}
