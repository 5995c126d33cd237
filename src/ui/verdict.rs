//! `check` as text: its heading (where it plays, and the lesson's server it compares with) and
//! its verdict, PASS or FAIL with what differed and the likely mistake.

use std::fmt::Write;

use super::lesson::js_block;
use super::style::{self, DOT, INDENT};
use crate::check::{Failure, Problem, Verdict};
use crate::lesson::{Lesson, Stage};
use crate::trace::safe::terminal_safe;

/// The heading of `check`: where it plays, and the lesson's server it compares with.
pub fn check_intro(lesson: &Lesson, stage: &Stage, url: &str, path: &str) -> String {
    let mut out = String::new();
    let heading = format!("Check · lesson {} · {}", lesson.number, lesson.title);
    let _ = writeln!(out, "{}", style::banner(heading));
    let _ = writeln!(out, "{INDENT}your server: {url} (Socket.IO at {path})");
    let _ = writeln!(out);
    let label = format!(
        "What the lesson's server does (stage {}.{}: {})",
        lesson.number, stage.number, stage.title
    );
    let _ = writeln!(out, "{INDENT}{}", style::title(label));
    js_block(&mut out, &stage.node);
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
    let mut out = String::new();
    match verdict {
        Verdict::Pass { summary } => {
            let _ = writeln!(
                out,
                "{}  {}",
                style::good(style::strong("PASS")),
                terminal_safe(summary)
            );
        }
        Verdict::Fail(Failure::Target(problem)) => {
            let said = terminal_safe(&problem.to_string());
            let _ = writeln!(out, "{}  {said}", style::bad(style::strong("FAIL")));
            if let Problem::Found { found, .. } = problem {
                let _ = writeln!(out, "{INDENT}what the tutor found:");
                for line in found {
                    let _ = writeln!(out, "{INDENT}{DOT} {}", terminal_safe(line));
                }
            }
        }
        Verdict::Fail(Failure::Behaviour { headline, findings }) => {
            let _ = writeln!(
                out,
                "{}  {}",
                style::bad(style::strong("FAIL")),
                terminal_safe(headline)
            );
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
                let _ = writeln!(out, "{INDENT}{line}");
            }
            if findings.len() > FINDINGS_SHOWN {
                let more = format!(
                    "… and {} more like these (the trace above shows them all)",
                    findings.len() - FINDINGS_SHOWN
                );
                let _ = writeln!(out, "{INDENT}{}", style::note(more));
            }
        }
    }
    out
}
