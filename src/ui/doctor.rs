//! `doctor` as text: a checklist, one mark per check, and under each failing or warning line
//! its cause, its fix, and the lesson stages that show it live.
//!
//! Everything after a check's label may quote the server (a status body, an error message), so
//! it goes through [`terminal_safe_within`]; the layout keeps every line within the width.

use super::layout;
use super::style::{self, INDENT};
use crate::doctor::findings::shown_in;
use crate::doctor::{Line, Report, Status};
use crate::trace::safe::terminal_safe_within;

/// The most characters of one observation shown: enough for any sentence the doctor writes
/// around a quoted excerpt of the server's text.
const SAID_LIMIT: usize = 400;

/// The doctor's heading: what it probes.
pub fn doctor_intro(report: &Report, query_sent: bool) -> String {
    let width = layout::width();
    let mut out = String::new();
    let heading = terminal_safe_within(&format!("Doctor · {}", report.url), SAID_LIMIT);
    for line in layout::wrap(&heading, "", INDENT, width) {
        out.push_str(&style::banner(line));
        out.push('\n');
    }
    let mut what = format!(
        "Socket.IO at {}, namespace {}, as a page's io() connects",
        report.path, report.namespace
    );
    if let Some(origin) = &report.origin {
        what.push_str(&format!(" from {origin}"));
    }
    if query_sent {
        what.push_str(" (the URL's query is sent with every request, and not shown)");
    }
    out.push_str(&layout::wrapped(
        &terminal_safe_within(&what, SAID_LIMIT),
        INDENT,
        INDENT,
        width,
    ));
    out.push('\n');
    out
}

/// The checklist and its last word.
pub fn doctor_report(report: &Report) -> String {
    doctor_report_at(report, layout::width())
}

/// [`doctor_report`] at a given width.
pub fn doctor_report_at(report: &Report, width: usize) -> String {
    let mut out = String::new();
    for line in &report.lines {
        out.push_str(&checklist_line(line, width));
    }
    out.push('\n');
    let problems = report.lines.iter().filter(|l| l.status == Status::Fail).count();
    let warnings = report.lines.iter().filter(|l| l.status == Status::Warn).count();
    let took = format!("{:.0} ms", report.took.as_secs_f64() * 1000.0);
    let last = if problems == 0 {
        let warned = if warnings == 0 {
            String::new()
        } else {
            format!(", {}", style::counted(warnings as u32, "warning", "warnings"))
        };
        format!(
            "{}: nothing in the way of io(){warned} (took {took}).",
            style::good(style::strong("HEALTHY"))
        )
    } else {
        format!(
            "{}: {} (took {took}).",
            style::bad(style::strong("PROBLEMS")),
            style::counted(problems as u32, "problem", "problems")
        )
    };
    out.push_str(&layout::wrapped(&last, "", "  ", width));
    out
}

/// One check: `  ✓ label: what was observed`, and for a finding its cause, fix and stages.
fn checklist_line(line: &Line, width: usize) -> String {
    let mark = match line.status {
        Status::Pass => style::ok(),
        Status::Fail => style::no(),
        Status::Warn => style::unsure("!"),
        Status::Info => style::dot(),
        Status::Skip => style::note("-"),
    };
    let said = terminal_safe_within(&line.said, SAID_LIMIT);
    let text = format!("{}: {said}", style::strong(line.check.label()));
    let deeper = format!("{INDENT}    ");
    let mut out = layout::wrapped(&text, &format!("{INDENT}{mark} "), &deeper, width);
    if let Some(finding) = line.finding {
        let said = |label: &str, text: &str| {
            layout::wrapped(
                &format!("{} {text}", style::note(label)),
                &deeper,
                &format!("{deeper}  "),
                width,
            )
        };
        out.push_str(&said("cause:", finding.cause()));
        out.push_str(&said("fix:", finding.fix()));
        let stages = shown_in(finding);
        if !stages.is_empty() {
            let lessons: Vec<String> = stages
                .iter()
                .map(|s| format!("realtime-tutor lesson {s}"))
                .collect();
            out.push_str(&said("see it live:", &lessons.join(", ")));
        }
    }
    out
}
