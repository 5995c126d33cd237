//! The closing table of a lesson: what answered each probe, what came back to each callback,
//! and for every delivery step who received it.

use std::fmt::Write;

use super::layout;
use super::style::{self, DOT, INDENT, NO, OK, SENDER};
use super::trace::{ack_line, server_ack_line, shown_args};
use crate::lesson::ProbeKind;
use crate::trace::safe::terminal_safe;
use crate::trace::{Kind, ProbeOutcome, StageTrace, StepRecord};

/// The closing table of a lesson, for this terminal (see [`layout::width`]).
pub fn summary(traces: &[StageTrace]) -> String {
    summary_at(traces, layout::width())
}

/// The closing table of a lesson: what answered each probe, what came back to each callback,
/// and for every delivery step who received it; every line at most `width` columns.
pub fn summary_at(traces: &[StageTrace], width: usize) -> String {
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
            // The result continues under itself, so the column of results stays clean.
            let lead = format!("{INDENT}{}.{} {what:<22} ", step.lesson, step.stage);
            let hang = layout::columns(&lead);
            out.push_str(&layout::flow(&lead, [("", result)], hang, width));
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
                let lead = format!("{INDENT}{}.{} ", step.lesson, step.stage);
                let pieces = [("", format!("{who} asks {asked}")), ("  ", ack_line(ack))];
                let hang = layout::columns(&lead) + 2;
                out.push_str(&layout::flow(&lead, pieces, hang, width));
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
                let lead = format!("{INDENT}{}.{} ", step.lesson, step.stage);
                let pieces = [
                    ("", format!("{who} asked {question}")),
                    ("  ", server_ack_line(ack)),
                ];
                let hang = layout::columns(&lead) + 2;
                out.push_str(&layout::flow(&lead, pieces, hang, width));
            }
        }
    }
    if rows.is_empty() {
        return out;
    }
    let _ = writeln!(out, "{}", style::strong("Who received what"));
    let table = Table {
        clients: &clients,
        rows: &rows,
        width,
    };
    if table.fits() {
        table.wide(&mut out);
    } else {
        table.narrow(&mut out);
    }
    let legend = [
        format!("{OK} received"),
        format!("{NO} did not receive"),
        format!("{DOT} not connected yet"),
        format!("* {SENDER}"),
    ];
    let pieces = legend.into_iter().map(|l| ("  ", style::note(l)));
    out.push_str(&layout::flow(INDENT, pieces, INDENT.len(), width));
    out
}

/// The "who received what" table: one row per delivery step, one column per client.
struct Table<'a> {
    clients: &'a [String],
    /// Each row's label (`6.1 alice emits "hi" · io.emit(…)`) and its step.
    rows: &'a [(String, &'a StepRecord)],
    width: usize,
}

impl Table<'_> {
    /// The label's own width in the wide shape: the longest label.
    fn label_width(&self) -> usize {
        self.rows
            .iter()
            .map(|(l, _)| layout::columns(l))
            .max()
            .unwrap_or(0)
    }

    /// A client's column: as wide as its name, and never narrower than a mark and its `*`.
    fn cell(name: &str) -> usize {
        layout::columns(name).max(2)
    }

    /// The marks of one row, each padded to its column, columns two spaces apart.
    fn marks(&self, step: &StepRecord) -> String {
        let cells: Vec<String> = self
            .clients
            .iter()
            .map(|c| {
                let mark = if step.received_by.contains(c) {
                    style::ok()
                } else if step.not_received_by.contains(c) || step.away.contains(c) {
                    style::no()
                } else {
                    style::dot()
                };
                let star = if step.sender.as_deref() == Some(c.as_str()) {
                    "*"
                } else {
                    " "
                };
                format!("{mark}{star}{}", layout::spaces(Self::cell(c) - 2))
            })
            .collect();
        cells.join("  ")
    }

    /// Whether the wide shape (label first, then the marks) fits in the width.
    fn fits(&self) -> bool {
        let marks: usize = self.clients.iter().map(|c| 2 + Self::cell(c)).sum();
        INDENT.len() + self.label_width() + marks <= self.width
    }

    /// The wide shape: every row's label, then its marks under the clients' names.
    fn wide(&self, out: &mut String) {
        let label_width = self.label_width();
        let mut head = format!("{INDENT}{}", layout::spaces(label_width));
        for c in self.clients {
            let _ = write!(head, "  {c:<w$}", w = Self::cell(c));
        }
        let _ = writeln!(out, "{}", head.trim_end());
        for (label, step) in self.rows {
            let pad = layout::spaces(label_width - layout::columns(label));
            let line = format!("{INDENT}{label}{pad}  {}", self.marks(step));
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }

    /// The narrow shape, for labels too long to leave room for the marks: the marks come
    /// first, in columns under the clients' names, and the label after them, continued on
    /// further lines under itself when it is long (the server's call moves first).
    fn narrow(&self, out: &mut String) {
        let names: Vec<String> = self
            .clients
            .iter()
            .map(|c| format!("{c:<w$}", w = Self::cell(c)))
            .collect();
        let _ = writeln!(out, "{INDENT}{}", names.join("  ").trim_end());
        for (label, step) in self.rows {
            let lead = format!("{INDENT}{}  ", self.marks(step));
            // `6.1 alice emits "hi"` and `io.emit(…)`: the call is the part that moves, to a
            // line of its own under the cause, continued two columns deeper.
            let (cause, call) = label.split_once(" · ").unwrap_or((label, ""));
            let stage_number = cause.split(' ').next().unwrap_or_default();
            let hang = layout::columns(&lead) + layout::columns(stage_number) + 1;
            let mut lines = layout::flow(&lead, [("", cause.to_owned())], hang, self.width);
            if !call.is_empty() {
                let call = format!("· {call}");
                // After a cause of one line, if it fits; otherwise on lines of its own.
                let one_line = lines.trim_end().lines().count() == 1;
                if one_line && layout::columns(lines.trim_end()) + 1 + layout::columns(&call) <= self.width {
                    lines = format!("{} {call}\n", lines.trim_end());
                } else {
                    let (first, rest) = (layout::spaces(hang), layout::spaces(hang + 2));
                    lines.push_str(&layout::wrapped(&call, &first, &rest, self.width));
                }
            }
            out.push_str(&lines);
        }
    }
}
