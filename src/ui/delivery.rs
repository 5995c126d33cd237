//! A delivery step's lines: for every connected client, what it received (✓) or not (✗), and
//! why not, as the server's own tables said at emit time.

use super::layout;
use super::style::{self, DOT, INDENT, SENDER};
use super::trace::{Columns, ack_line, describe, header, not_judged, server_ack_line};
use crate::trace::safe::terminal_safe;
use crate::trace::{Audience, StepRecord};

/// Writes a connect, emit or disconnect step: its header, then one line per client.
///
/// A client's line is its mark and what it received, then what else arrived, what was set
/// aside, why it did not receive, and what came back to a callback: each a piece that moves to
/// a line of its own, under the first, when the line would be too wide (see [`Columns`]).
pub(super) fn render(out: &mut String, step: &StepRecord, columns: Columns) {
    out.push_str(&header(step, columns.width));
    if let Some(refusal) = &step.refused {
        refused(out, step, refusal, columns);
    }
    if step.event.is_none() {
        nothing_emitted(out, step, columns);
        return;
    }
    let event = step.event.as_deref().unwrap_or_default();
    for (name, inbox) in &step.received {
        let is_sender = step.sender.as_deref() == Some(name.as_str());
        let matching: Vec<_> = inbox.iter().filter(|d| d.event == event).map(describe).collect();
        let others: Vec<_> = inbox.iter().filter(|d| d.event != event).map(describe).collect();
        let set_aside = step.ignored.get(name).is_some_and(|v| !v.is_empty());
        // Each delivery its own piece, so a long list breaks between deliveries.
        let mut pieces: Vec<(&str, String)> = if matching.is_empty() && (inbox.is_empty() && !set_aside) {
            vec![("", format!("{} nothing", style::no()))]
        } else if matching.is_empty() {
            // Something else arrived (shown next): say precisely what did not.
            vec![("", format!("{} no '{}'", style::no(), terminal_safe(event)))]
        } else {
            listed(&matching, &format!("{} ", style::ok()))
        };
        if !others.is_empty() {
            let mut also = listed(&others, "(also: ");
            if let Some((_, last)) = also.last_mut() {
                last.push(')');
            }
            also[0].0 = "  ";
            pieces.extend(also);
        }
        if let Some(set_aside) = step.ignored.get(name) {
            pieces.push(("  ", not_judged(set_aside)));
        }
        // The why-not column: the server's own reason, read at emit time.
        let why_not = step.why_not.get(name).filter(|_| matching.is_empty());
        if is_sender {
            let who = style::role(step.kind);
            let note = match (&step.audience, matching.is_empty()) {
                (Some(Audience::EveryoneButSender), true) => format!("{who}: a broadcast skips it"),
                (Some(Audience::RoomsButSender(_)), true) => format!("{who}: socket.to skips it"),
                (Some(Audience::Everyone), false) => format!("{who}, included by {}", broadcast(step)),
                _ => match why_not {
                    Some(why) if why != SENDER => format!("{who}: {}", terminal_safe(why)),
                    _ => who.to_owned(),
                },
            };
            pieces.push(("   ", style::note(format!("← {note}"))));
        } else if let Some(why) = why_not {
            // A connection handler's socket is the newcomer, whom `socket.emit` alone reaches.
            let why = match why.as_str() {
                "not the sender" if step.kind == crate::trace::Kind::Connect => {
                    format!("not {}", style::NEWCOMER)
                }
                why => why.to_owned(),
            };
            pieces.push(("   ", style::note(format!("← {}", terminal_safe(&why)))));
        }
        if let Some(ack) = step.acks.get(name) {
            pieces.push(("   ", ack_line(ack)));
        }
        if let Some(ack) = step.server_acks.get(name) {
            pieces.push(("   ", server_ack_line(ack)));
        }
        out.push_str(&columns.client_line(name, pieces));
    }
    // Clients that are disconnected: nothing reaches them, and the server keeps nothing for them.
    for name in &step.away {
        let pieces = [
            ("", format!("{} nothing", style::no())),
            (
                "   ",
                style::note("← disconnected: no socket on the server to send to"),
            ),
        ];
        out.push_str(&columns.client_line(name, pieces));
    }
}

/// A list of deliveries as pieces for [`Columns::client_line`]: `first` before the first item,
/// a comma after every item but the last, so the list breaks only between items.
fn listed(items: &[String], first: &str) -> Vec<(&'static str, String)> {
    let last = items.len().saturating_sub(1);
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let comma = if i < last { "," } else { "" };
            if i == 0 {
                ("", format!("{first}{item}{comma}"))
            } else {
                (" ", format!("{item}{comma}"))
            }
        })
        .collect()
}

/// A step whose handler emitted nothing: say so, but still show anything that arrived
/// regardless, the acknowledgements, and what was set aside.
/// The broadcast a step's action makes, as the JavaScript writes it up to `.emit`:
/// `io.emit`, `io.of('/admin').emit`, `socket.nsp.emit`.
fn broadcast(step: &StepRecord) -> &str {
    step.action
        .as_deref()
        .and_then(|a| {
            let end = a.find(".emit(")?;
            let start = a[..end].rfind(' ').map_or(0, |i| i + 1);
            Some(&a[start..end + 5])
        })
        .unwrap_or("io.emit")
}

/// The line of a CONNECT the server refused: what the client's `connect_error` listener gets.
fn refused(out: &mut String, step: &StepRecord, refusal: &crate::trace::Refusal, columns: Columns) {
    let who = step.sender.as_deref().unwrap_or("?");
    let mut pieces = vec![(
        "",
        format!(
            "{} connect_error on {}: '{}'",
            style::no(),
            terminal_safe(&refusal.nsp),
            terminal_safe(&refusal.message)
        ),
    )];
    if let Some(data) = &refusal.data {
        pieces.push((
            " ",
            format!(
                "with data {}",
                super::trace::shown_args(std::slice::from_ref(data))
            ),
        ));
    }
    out.push_str(&columns.client_line(who, pieces));
}

fn nothing_emitted(out: &mut String, step: &StepRecord, columns: Columns) {
    if step.refused.is_some() && step.received.values().all(Vec::is_empty) && step.ignored.is_empty() {
        return;
    }
    let strays: Vec<_> = step.received.iter().filter(|(_, v)| !v.is_empty()).collect();
    let said = if !strays.is_empty() || !step.ignored.is_empty() {
        None
    } else if !step.acks.is_empty() {
        Some("(no event: an answer to a callback is an acknowledgement, not an emit)")
    } else {
        Some("(no event: nothing arrived at any client)")
    };
    if let Some(said) = said {
        let indent = format!("{INDENT}{INDENT}");
        out.push_str(&layout::flow(
            &indent,
            [("", style::note(said))],
            indent.len() + 1,
            columns.width,
        ));
    }
    for (name, inbox) in strays {
        let items: Vec<_> = inbox.iter().map(describe).collect();
        out.push_str(&columns.client_line(name, listed(&items, "! ")));
    }
    for (name, ack) in &step.acks {
        out.push_str(&columns.client_line(name, [("", ack_line(ack))]));
    }
    for (name, inbox) in &step.ignored {
        out.push_str(&columns.client_line(name, [("", format!("{DOT} {}", not_judged(inbox)))]));
    }
}
