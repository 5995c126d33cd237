//! The closing table of a lesson: what answered each probe, what came back to each callback,
//! and for every delivery step who received it.

use std::fmt::Write;

use super::style::{self, DOT, INDENT, NO, OK, SENDER};
use super::trace::{ack_line, server_ack_line, shown_args};
use crate::lesson::ProbeKind;
use crate::trace::safe::terminal_safe;
use crate::trace::{Kind, ProbeOutcome, StageTrace, StepRecord};

/// The closing table of a lesson: for every delivery step, who received it.
pub fn summary(traces: &[StageTrace]) -> String {
    let mut out = String::new();
    let mut clients: Vec<String> = Vec::new();
    for trace in traces {
        for c in &trace.clients {
            if !clients.contains(c) {
                clients.push(c.clone());
            }
        }
    }
    let rows: Vec<(String, &StepRecord)> = traces
        .iter()
        .flat_map(|t| t.steps.iter())
        .filter(|s| s.is_delivery())
        .map(|s| {
            let cause = match s.kind {
                Kind::Emit => format!(
                    "{} emits {}",
                    s.sender.as_deref().unwrap_or("?"),
                    shown_args(&s.args)
                ),
                _ => s.trigger.clone(),
            };
            (
                format!(
                    "{}.{} {cause} · {}",
                    s.lesson,
                    s.stage,
                    s.action.as_deref().unwrap_or("")
                ),
                s,
            )
        })
        .collect();
    let probes: Vec<&StepRecord> = traces
        .iter()
        .flat_map(|t| t.steps.iter())
        .filter(|s| s.kind == Kind::Probe)
        .collect();
    if !probes.is_empty() {
        let _ = writeln!(out, "{}", style::strong("What answered, stage by stage"));
        for step in probes {
            let Some(probe) = &step.probe else { continue };
            let what = match probe.method {
                ProbeKind::InProcess => "app called in-process",
                ProbeKind::HttpGet => "GET /",
                ProbeKind::Polling => "io(), polling first",
                ProbeKind::Websocket => "io(), WebSocket only",
                ProbeKind::CrossPoll => "polling on two servers",
            };
            let result = match probe.outcome {
                ProbeOutcome::SocketIo if probe.method == ProbeKind::Polling => {
                    "connected (GET → OPEN, CONNECT, then 101)".to_owned()
                }
                ProbeOutcome::SocketIo => "connected (101, OPEN, CONNECT)".to_owned(),
                ProbeOutcome::Refused => "connection refused".to_owned(),
                _ => terminal_safe(probe.outcome_line().unwrap_or("")),
            };
            let _ = writeln!(out, "{INDENT}{}.{} {what:<22} {result}", step.lesson, step.stage);
        }
    }
    let answered: Vec<&StepRecord> = traces
        .iter()
        .flat_map(|t| t.steps.iter())
        .filter(|s| !s.acks.is_empty())
        .collect();
    if !answered.is_empty() {
        let _ = writeln!(out, "{}", style::strong("What came back to each callback"));
        for step in answered {
            let asked = step
                .client_emit
                .as_ref()
                .map_or_else(String::new, |d| shown_args(&d.args));
            for (who, ack) in &step.acks {
                let _ = writeln!(
                    out,
                    "{INDENT}{}.{} {who} asks {asked}  {}",
                    step.lesson,
                    step.stage,
                    ack_line(ack)
                );
            }
        }
    }
    let asked: Vec<&StepRecord> = traces
        .iter()
        .flat_map(|t| t.steps.iter())
        .filter(|s| !s.server_acks.is_empty())
        .collect();
    if !asked.is_empty() {
        let _ = writeln!(out, "{}", style::strong("What came back to the server"));
        for step in asked {
            let question = shown_args(&step.args);
            for (who, ack) in &step.server_acks {
                let _ = writeln!(
                    out,
                    "{INDENT}{}.{} {who} asked {question}  {}",
                    step.lesson,
                    step.stage,
                    server_ack_line(ack)
                );
            }
        }
    }
    if rows.is_empty() {
        return out;
    }
    let _ = writeln!(out, "{}", style::strong("Who received what"));
    let label_width = rows.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0);
    let mut head = format!("{INDENT}{:label_width$}", "");
    for c in &clients {
        let _ = write!(head, "  {c}");
    }
    let _ = writeln!(out, "{head}");
    for (label, step) in &rows {
        let mut line = format!("{INDENT}{label:<label_width$}");
        for c in &clients {
            let mark = if step.received_by.contains(c) {
                style::ok()
            } else if step.not_received_by.contains(c) || step.away.contains(c) {
                style::no()
            } else {
                style::dot()
            };
            let star = if step.sender.as_deref() == Some(c) {
                "*"
            } else {
                " "
            };
            let cell_width = c.chars().count();
            let _ = write!(line, "  {mark}{star}{}", " ".repeat(cell_width.saturating_sub(2)));
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let _ = writeln!(
        out,
        "{INDENT}{}",
        style::note(format!(
            "{OK} received  {NO} did not receive  {DOT} not connected yet  * {SENDER}"
        ))
    );
    out
}
