//! What predict mode prints: the question and the answer given, the verdict with its why, each
//! stage's score, and the closing words, in the styles of [`crate::ui::style`].

use crate::lesson::{Lesson, Stage};
use crate::progress::{Progress, Score, Store};
use crate::quiz::{Answer, Ask, Role, Verdict};
use crate::ui::layout::{self, flow, wrapped};
use crate::ui::style::{
    INDENT, NEWCOMER, NO, OK, SENDER, bad, good, name, note, ok, questions_right, strong, unsure,
};

/// How a question names the part its subject plays.
pub(super) fn role_words(role: Role) -> &'static str {
    match role {
        Role::Newcomer => NEWCOMER,
        Role::Sender => SENDER,
    }
}

/// Where the prompts and the options under a question start: under the question's text.
pub(super) const PROMPT_INDENT: &str = "    ";

/// The question, wrapped under its `?`, and the keys that answer it. Each key is a piece, so a
/// narrow terminal breaks the line between keys, never inside one.
pub(super) fn render_question(question: &str, ask: &Ask, width: usize) -> String {
    let keys: &[&str] = match ask {
        Ask::YesNo => &["y: yes", "n: no", "q: quit"],
        Ask::Who { .. } => &[
            "↑/↓: move",
            "space: choose",
            "Enter: confirm (none chosen = nobody)",
            "q: quit",
        ],
    };
    let mut out = String::new();
    // Wrapped plain, then styled line by line, so the bold never runs into an indent.
    let first = format!("{INDENT}? ");
    for (i, line) in layout::wrap(question, &first, PROMPT_INDENT, width)
        .iter()
        .enumerate()
    {
        if i == 0 {
            let text = line.strip_prefix(&first).unwrap_or(line);
            out.push_str(&format!("{INDENT}{} {}\n", strong(unsure("?")), strong(text)));
        } else {
            let text = line.strip_prefix(PROMPT_INDENT).unwrap_or(line);
            out.push_str(&format!("{PROMPT_INDENT}{}\n", strong(text)));
        }
    }
    let pieces = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (if i == 0 { "" } else { " · " }, note(k)));
    out.push_str(&flow(PROMPT_INDENT, pieces, PROMPT_INDENT.len(), width));
    out.trim_end().to_owned()
}

pub(super) fn render_answer(answer: &Answer, width: usize) -> String {
    let said = match answer {
        Answer::YesNo(true) => "yes".to_owned(),
        Answer::YesNo(false) => "no".to_owned(),
        Answer::Who { chosen, .. } if chosen.is_empty() => "nobody".to_owned(),
        Answer::Who { chosen, .. } => chosen.join(", "),
    };
    let lead = format!("{PROMPT_INDENT}You predicted: ");
    let hang = layout::columns(&lead);
    flow(&lead, [("", strong(said))], hang, width)
        .trim_end()
        .to_owned()
}

/// The verdict, then the lesson's explanation. Every sentence wraps at word boundaries under
/// its own start (a hanging indent), so the marks and names stay a clean column at any width.
pub(super) fn render_verdict(verdict: &Verdict, why: Option<&str>, width: usize) -> String {
    let mut out = String::new();
    let mark = |right: bool| {
        if right {
            good(format!("{OK} right"))
        } else {
            bad(format!("{NO} wrong"))
        }
    };
    match verdict {
        Verdict::YesNo {
            predicted,
            observed,
            detail,
        } => {
            let said = if *predicted { "yes" } else { "no" };
            let did = if *observed { "it did" } else { "it did not" };
            let link = if predicted == observed { "and" } else { "but" };
            let lead = format!("{INDENT}{}  ", mark(predicted == observed));
            let hang = layout::columns(&lead);
            let sentence = format!("you said {said}, {link} {did} ({detail})");
            out.push_str(&flow(&lead, [("", sentence)], hang, width));
        }
        Verdict::Who(rows) => {
            let right = rows.iter().filter(|r| r.predicted == r.received).count();
            let heading = format!("Your prediction: {right} of {} clients right", rows.len());
            out.push_str(&format!("{INDENT}{}\n", strong(heading)));
            let names = rows.iter().map(|r| layout::columns(&r.name)).max().unwrap_or(0);
            for row in rows {
                let what = match (row.received, row.predicted) {
                    (true, true) => "received it, as you predicted",
                    (false, false) => "did not receive it, as you predicted",
                    (true, false) => "received it, but you predicted it would not",
                    (false, true) => "did not receive it, but you predicted it would",
                };
                let lead = format!(
                    "{INDENT}{INDENT}{}  {}  ",
                    name(format!("{:names$}", row.name)),
                    mark(row.predicted == row.received)
                );
                let hang = layout::columns(&lead);
                out.push_str(&flow(&lead, [("", what.to_owned())], hang, width));
            }
        }
    }
    if let Some(why) = why {
        let first = format!("{INDENT}Why: ");
        let hang = layout::spaces(layout::columns(&first));
        for (i, line) in layout::wrap(why, &first, &hang, width).iter().enumerate() {
            match line.strip_prefix(&first) {
                Some(text) if i == 0 => out.push_str(&format!("{INDENT}{} {text}\n", strong("Why:"))),
                _ => out.push_str(&format!("{line}\n")),
            }
        }
    }
    out.trim_end().to_owned()
}

pub(super) fn stage_done(lesson: &Lesson, stage: &Stage, score: Score) -> String {
    let mut line = format!("{} Stage {}.{} done", ok(), lesson.number, stage.number);
    if let Some(right) = questions_right(score.right, score.answered) {
        line.push_str(&format!(" · {right}"));
    }
    strong(line)
}

/// What to say after a quit: everything answered is kept, and where to pick up.
pub(super) fn stopped(store: &Store, lessons: &[Lesson], width: usize) -> anyhow::Result<String> {
    let progress = store.load()?;
    let next = match progress.first_unfinished(lessons) {
        Some((l, s)) => format!(" Run `realtime-tutor` to pick up at stage {l}.{s}."),
        None => String::new(),
    };
    let said = format!("Stopped. Your progress is saved.{next}");
    Ok(wrapped(&said, "", "", width).trim_end().to_owned())
}

/// The closing words: the overall score, and what remains.
pub(super) fn closing(progress: &Progress, lessons: &[Lesson], width: usize) -> String {
    let said = closing_words(progress, lessons);
    let lines: Vec<String> = said.lines().map(|l| wrapped(l, "", "", width)).collect();
    lines.concat().trim_end().to_owned()
}

/// The closing words, one sentence a line (before they are wrapped).
fn closing_words(progress: &Progress, lessons: &[Lesson]) -> String {
    let mut total = Score::default();
    let mut unanswered: Option<u32> = None;
    for lesson in lessons {
        for stage in &lesson.stages {
            let score = progress.score(lesson.number, stage.number);
            total += score;
            let questions = stage.steps.iter().filter(|s| s.question.is_some()).count() as u32;
            if score.answered < questions && unanswered.is_none() {
                unanswered = Some(lesson.number);
            }
        }
    }
    // No score at all when nothing was answered (a tour watched with `--no-pause`).
    let score = (total.answered > 0)
        .then(|| format!("questions answered right: {} of {}", total.right, total.answered));
    match progress.first_unfinished(lessons) {
        Some((l, s)) => {
            let score = score.map(|s| format!(" ({s})")).unwrap_or_default();
            format!("Next time: stage {l}.{s}{score}. Run `realtime-tutor` to continue there.")
        }
        None => {
            let score = score.map(|s| format!(" · {s}")).unwrap_or_default();
            let mut out = format!("Every stage is done{score}.");
            if let Some(n) = unanswered {
                out.push_str(&format!(
                    "\nSome questions are still unanswered: try `realtime-tutor lesson {n} --predict`."
                ));
            }
            out.push_str("\nReplay any lesson with `realtime-tutor lesson N --predict`, or start over with `realtime-tutor reset`.");
            out
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::quiz::judge;
    use crate::quiz::tests::{record, refused_probe, who};

    #[test]
    fn a_verdict_shows_each_client_and_the_why() {
        let observed = [record(&["alice", "bob"], &["dave"])];
        let wrong = judge(&who(&["alice", "bob", "dave"]), &observed);
        let text = anstream::adapter::strip_str(&render_verdict(&wrong, Some("because"), 80)).to_string();
        assert!(text.contains("2 of 3 clients right"), "{text}");
        assert!(
            text.contains("dave   ✗ wrong  did not receive it, but you predicted it would"),
            "{text}"
        );
        assert!(text.contains("Why: because"), "{text}");
    }

    #[test]
    fn a_probe_verdict_says_what_the_probe_saw() {
        let verdict = judge(&Answer::YesNo(true), &[refused_probe()]);
        let text = anstream::adapter::strip_str(&render_verdict(&verdict, None, 80)).to_string();
        assert!(
            text.contains("you said yes, but it did not (404 Not Found"),
            "{text}"
        );
    }
}
