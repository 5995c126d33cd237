//! A burst (messages sent one after another) as text: the emits in the order sent, then each
//! client's arrivals in the order that client saw them.

use std::fmt::Write;

use super::layout;
use super::style::{self, INDENT};
use super::trace::{Columns, describe, not_judged, pad, shown_args};
use super::wire;
use crate::trace::{Delivery, StepRecord};

/// Writes the steps of one burst (they share a burst number, and come in the order sent).
pub(super) fn render(out: &mut String, steps: &[StepRecord], columns: Columns) {
    let width = columns.width;
    let lead = format!("{INDENT}{} ", style::arrow());
    let sent = format!("{} messages, one after another", steps.len());
    match &steps[0].action {
        Some(action) => {
            let ran = format!("→ server runs {} for each", style::js(action));
            out.push_str(&layout::flow(
                &lead,
                [("", sent), (" ", ran)],
                2 * INDENT.len(),
                width,
            ));
        }
        // Someone else's server (`check`): what it runs is not known, only what arrived.
        None => out.push_str(&layout::flow(&lead, [("", sent)], 2 * INDENT.len(), width)),
    }
    for (i, step) in steps.iter().enumerate() {
        let sent = Delivery {
            event: step.event.clone().unwrap_or_default(),
            args: step.args.clone(),
            nsp: None,
        };
        let sender = step.sender.as_deref().unwrap_or("?");
        let lead = format!(
            "{INDENT}{INDENT}{}. {} ",
            i + 1,
            style::name(pad(sender, columns.name))
        );
        let hang = layout::columns(&lead);
        out.push_str(&layout::flow(
            &lead,
            [("", format!("emits {}", describe(&sent)))],
            hang,
            width,
        ));
    }
    let _ = writeln!(
        out,
        "{INDENT}{INDENT}{}",
        style::note("what each client received, in arrival order:")
    );
    let names: Vec<&String> = steps[0].received.keys().collect();
    for name in names {
        let mut arrivals: Vec<(usize, usize)> = steps
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.arrival.get(name).map(|p| (*p, i + 1)))
            .collect();
        arrivals.sort();
        // What arrived for each message: as sent, or, from a server that changed or dropped
        // the arguments, what it sent instead. Each arrival is a piece, so a long order breaks
        // before an arrow, never inside a value.
        let mut changed = false;
        let order: Vec<String> = arrivals
            .iter()
            .map(|(_, message)| {
                let step = &steps[message - 1];
                let event = step.event.as_deref().unwrap_or_default();
                let got = step
                    .received
                    .get(name.as_str())
                    .and_then(|inbox| inbox.iter().find(|d| d.event == event && d.args != step.args));
                match got {
                    Some(other) => {
                        changed = true;
                        if other.args.is_empty() {
                            "(no arguments)".to_owned()
                        } else {
                            shown_args(&other.args)
                        }
                    }
                    None => shown_args(&step.args),
                }
            })
            .collect();
        let mark = if changed { style::no() } else { style::ok() };
        let mut pieces: Vec<(&str, String)> = order
            .into_iter()
            .enumerate()
            .map(|(i, args)| match i {
                0 => ("", format!("{mark} {args}")),
                _ => (" ", format!("→ {args}")),
            })
            .collect();
        let missing: Vec<String> = steps
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.arrival.contains_key(name))
            .map(|(i, _)| format!("#{}", i + 1))
            .collect();
        if pieces.is_empty() {
            pieces.push(("", format!("{} nothing", style::no())));
        } else if !missing.is_empty() {
            let not = style::bad(format!("{} not", style::NO));
            pieces.push(("   ", format!("{not} {}", missing.join(" "))));
        }
        if let Some(set_aside) = steps.iter().find_map(|s| s.ignored.get(name.as_str())) {
            pieces.push(("  ", not_judged(set_aside)));
        }
        out.push_str(&columns.client_line(name, pieces));
    }
    if let Some(frames) = steps.last().and_then(|s| s.wire.as_ref()) {
        wire::render(out, frames, width);
    }
}
