//! A burst (messages sent one after another) as text: the emits in the order sent, then each
//! client's arrivals in the order that client saw them.

use std::fmt::Write;

use super::style::{self, INDENT};
use super::trace::{describe, not_judged, pad, shown_args};
use super::wire;
use crate::trace::{Delivery, StepRecord};

/// Writes the steps of one burst (they share a burst number, and come in the order sent).
pub(super) fn render(out: &mut String, steps: &[StepRecord], width: usize) {
    match &steps[0].action {
        Some(action) => {
            let _ = writeln!(
                out,
                "{INDENT}{} {} messages, one after another → server runs {} for each",
                style::arrow(),
                steps.len(),
                style::js(action)
            );
        }
        // Someone else's server (`check`): what it runs is not known, only what arrived.
        None => {
            let _ = writeln!(
                out,
                "{INDENT}{} {} messages, one after another",
                style::arrow(),
                steps.len()
            );
        }
    }
    for (i, step) in steps.iter().enumerate() {
        let sent = Delivery {
            event: step.event.clone().unwrap_or_default(),
            args: step.args.clone(),
        };
        let sender = step.sender.as_deref().unwrap_or("?");
        let _ = writeln!(
            out,
            "{INDENT}{INDENT}{}. {} emits {}",
            i + 1,
            style::name(pad(sender, width)),
            describe(&sent)
        );
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
        // the arguments, what it sent instead.
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
        let missing: Vec<String> = steps
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.arrival.contains_key(name))
            .map(|(i, _)| format!("#{}", i + 1))
            .collect();
        let mut line = if order.is_empty() {
            format!("{} nothing", style::no())
        } else if changed {
            format!("{} {}", style::no(), order.join(" → "))
        } else {
            format!("{} {}", style::ok(), order.join(" → "))
        };
        if !missing.is_empty() && !order.is_empty() {
            let _ = write!(
                line,
                "   {} {}",
                style::bad(format!("{} not", style::NO)),
                missing.join(" ")
            );
        }
        if let Some(set_aside) = steps.iter().find_map(|s| s.ignored.get(name.as_str())) {
            let _ = write!(line, "  {}", not_judged(set_aside));
        }
        let _ = writeln!(out, "{INDENT}{INDENT}{}  {line}", style::name(pad(name, width)));
    }
    if let Some(frames) = steps.last().and_then(|s| s.wire.as_ref()) {
        wire::render(out, frames);
    }
}
