//! `check` as text: its heading (where it plays, and the lesson's server it compares with) and
//! its verdict, PASS or FAIL with what differed and the likely mistake.

use std::fmt::Write;

use super::layout;
use super::lesson::{js_block_at, styled_lines};
use super::style::{self, DOT, INDENT};
use crate::check::{Failure, Problem, Verdict};
use crate::lesson::{Lesson, Stage};
use crate::trace::safe::terminal_safe;

/// The heading of `check`: where it plays, and the lesson's server it compares with.
pub fn check_intro(lesson: &Lesson, stage: &Stage, url: &str, path: &str) -> String {
    let width = layout::width();
    let mut out = String::new();
    let heading = format!("Check · lesson {} · {}", lesson.number, lesson.title);
    styled_lines(&mut out, &heading, "", INDENT, width, |s| style::banner(s));
    let server = format!("your server: {url} (Socket.IO at {path})");
    out.push_str(&layout::wrapped(&server, INDENT, &format!("{INDENT}  "), width));
    let _ = writeln!(out);
    let label = format!(
        "What the lesson's server does (stage {}.{}: {})",
        lesson.number, stage.number, stage.title
    );
    styled_lines(&mut out, &label, INDENT, INDENT, width, |s| style::title(s));
    js_block_at(&mut out, &stage.node, width);
    out
}

/// The heading over `check`'s trace, printed only when there is a trace to show.
pub fn check_trace_heading() -> String {
    format!(
        "\n{INDENT}{}\n",
        style::title("Live trace (your server, as the simulated clients saw it)")
    )
}

/// How many findings a verdict lists before it sums up the rest.
const FINDINGS_SHOWN: usize = 8;

/// The verdict of `check`: PASS, or FAIL with what differed and the likely mistake.
///
/// Its sentences quote the server under test (an event name, a first frame, a refusal
/// message), so each goes through [`terminal_safe`].
pub fn verdict(verdict: &Verdict) -> String {
    let width = layout::width();
    // `PASS  ` and `FAIL  ` are six columns: a long sentence continues under its own start.
    let said = |mark: String, text: &str| layout::wrapped(text, &format!("{mark}  "), "      ", width);
    let mut out = String::new();
    match verdict {
        Verdict::Pass { summary } => {
            out.push_str(&said(style::good(style::strong("PASS")), &terminal_safe(summary)));
        }
        Verdict::Fail(Failure::Target(problem)) => {
            let text = terminal_safe(&problem.to_string());
            // The problem may have lines of its own: each is wrapped, under the first.
            for (i, line) in text.lines().enumerate() {
                if i == 0 {
                    out.push_str(&said(style::bad(style::strong("FAIL")), line));
                } else {
                    out.push_str(&layout::wrapped(line, "      ", "      ", width));
                }
            }
            if let Problem::Found { found, .. } = problem {
                let _ = writeln!(out, "{INDENT}what the tutor found:");
                for line in found {
                    let first = format!("{INDENT}{DOT} ");
                    let rest = format!("{INDENT}  ");
                    out.push_str(&layout::wrapped(&terminal_safe(line), &first, &rest, width));
                }
            }
        }
        Verdict::Fail(Failure::Behaviour { headline, findings }) => {
            out.push_str(&said(style::bad(style::strong("FAIL")), &terminal_safe(headline)));
            // The likely mistake is said once, at the first finding it explains.
            let mut explained: Vec<&str> = Vec::new();
            for finding in findings.iter().take(FINDINGS_SHOWN) {
                let mut line = format!(
                    "{} step {} ({}): {}",
                    style::no(),
                    finding.step,
                    terminal_safe(&finding.trigger),
                    terminal_safe(&finding.message)
                );
                if let Some(why) = finding.why.as_deref()
                    && !explained.contains(&why)
                {
                    explained.push(why);
                    let _ = write!(line, ": {}", terminal_safe(why));
                }
                out.push_str(&layout::wrapped(&line, INDENT, &format!("{INDENT}  "), width));
            }
            if findings.len() > FINDINGS_SHOWN {
                let more = format!(
                    "… and {} more like these (the trace above shows them all)",
                    findings.len() - FINDINGS_SHOWN
                );
                out.push_str(&layout::wrapped(&style::note(more), INDENT, INDENT, width));
            }
        }
    }
    out
}
