//! What predict mode prints: the question and the answer given, the verdict with its why, each
//! stage's score, and the closing words, in the styles of [`crate::ui::style`].

use crate::lesson::{Lesson, Stage};
use crate::progress::{Progress, Score, Store};
use crate::quiz::{Answer, Ask, Role, Verdict};
use crate::ui::style::{INDENT, NEWCOMER, NO, OK, SENDER, bad, good, name, note, ok, strong, unsure};

/// How a question names the part its subject plays.
pub(super) fn role_words(role: Role) -> &'static str {
    match role {
        Role::Newcomer => NEWCOMER,
        Role::Sender => SENDER,
    }
}

pub(super) fn render_question(question: &str, ask: &Ask) -> String {
    let keys = match ask {
        Ask::YesNo => "y: yes · n: no · q: quit",
        Ask::Who { .. } => "↑/↓: move · space: choose · Enter: confirm (none chosen = nobody) · q: quit",
    };
    format!(
        "{INDENT}{} {}\n{INDENT}  {}",
        strong(unsure("?")),
        strong(question),
        note(keys)
    )
}

pub(super) fn render_answer(answer: &Answer) -> String {
    let said = match answer {
        Answer::YesNo(true) => "yes".to_owned(),
        Answer::YesNo(false) => "no".to_owned(),
        Answer::Who { chosen, .. } if chosen.is_empty() => "nobody".to_owned(),
        Answer::Who { chosen, .. } => chosen.join(", "),
    };
    format!("{INDENT}  You predicted: {}", strong(said))
}

/// The verdict, then the lesson's one-line explanation.
pub(super) fn render_verdict(verdict: &Verdict, why: Option<&str>) -> String {
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
            out.push_str(&format!(
                "{INDENT}{}  you said {said}, {link} {did} ({detail})",
                mark(predicted == observed)
            ));
        }
        Verdict::Who(rows) => {
            let right = rows.iter().filter(|r| r.predicted == r.received).count();
            let heading = format!("Your prediction: {right} of {} clients right", rows.len());
            out.push_str(&format!("{INDENT}{}", strong(heading)));
            let width = rows.iter().map(|r| r.name.chars().count()).max().unwrap_or(0);
            for row in rows {
                let what = match (row.received, row.predicted) {
                    (true, true) => "received it, as you predicted",
                    (false, false) => "did not receive it, as you predicted",
                    (true, false) => "received it, but you predicted it would not",
                    (false, true) => "did not receive it, but you predicted it would",
                };
                out.push_str(&format!(
                    "\n{INDENT}{INDENT}{}  {}  {what}",
                    name(format!("{:width$}", row.name)),
                    mark(row.predicted == row.received)
                ));
            }
        }
    }
    if let Some(why) = why {
        out.push_str(&format!("\n{INDENT}{} {why}", strong("Why:")));
    }
    out
}

pub(super) fn stage_done(lesson: &Lesson, stage: &Stage, score: Score) -> String {
    let mut line = format!("{} Stage {}.{} done", ok(), lesson.number, stage.number);
    if score.answered > 0 {
        line.push_str(&format!(
            " · questions answered right: {} of {}",
            score.right, score.answered
        ));
    }
    strong(line)
}

/// What to say after a quit: everything answered is kept, and where to pick up.
pub(super) fn stopped(store: &Store, lessons: &[Lesson]) -> anyhow::Result<String> {
    let progress = store.load()?;
    let next = match progress.first_unfinished(lessons) {
        Some((l, s)) => format!(" Run `realtime-tutor` to pick up at stage {l}.{s}."),
        None => String::new(),
    };
    Ok(format!("Stopped. Your progress is saved.{next}"))
}

/// The closing words: the overall score, and what remains.
pub(super) fn closing(progress: &Progress, lessons: &[Lesson]) -> String {
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
    let score = format!("questions answered right: {} of {}", total.right, total.answered);
    match progress.first_unfinished(lessons) {
        Some((l, s)) => {
            format!("Next time: stage {l}.{s} ({score}). Run `realtime-tutor` to continue there.")
        }
        None => {
            let mut out = format!("Every stage is done · {score}.");
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
        let text = anstream::adapter::strip_str(&render_verdict(&wrong, Some("because"))).to_string();
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
        let text = anstream::adapter::strip_str(&render_verdict(&verdict, None)).to_string();
        assert!(
            text.contains("you said yes, but it did not (404 Not Found"),
            "{text}"
        );
    }
}
