//! Predict mode's layout on a real terminal size: pauses, wrapping and indentation.

use super::home;
use super::tty::{Tty, tail};

/// The words of predict mode's pause (see `cli::predict::screen`).
const PAUSE: &str = "Enter: continue · q: quit";

/// The rows a terminal shows for what the tutor wrote: split at newlines, each row as it ends
/// up after a carriage return (a pause is written, then cleared with `\r` and an erase), with
/// escape sequences (cursor, erase) removed.
fn rows_shown(raw: &str) -> Vec<String> {
    raw.split('\n')
        .map(|row| {
            let row = row.trim_end_matches('\r');
            let last = row.rsplit('\r').next().unwrap_or_default();
            let plain = anstream::adapter::strip_str(last).to_string();
            // `ESC [ 2 K` (erase the line) is not a colour, so remove what strip_str keeps.
            plain.replace("\u{1b}[2K", "")
        })
        .collect()
}

/// Finds the sentence of `count` words that starts with `first` in `rows` and continues on rows
/// that start with `hang`; checks that every one of its rows fits 80 columns and returns its
/// words.
fn wrapped_sentence(rows: &[String], first: &str, hang: &str, count: usize) -> Vec<String> {
    let start = rows
        .iter()
        .position(|r| r.starts_with(first))
        .unwrap_or_else(|| panic!("no row starts with {first:?}:\n{}", rows.join("\n")));
    let mut words = Vec::new();
    for (i, row) in rows[start..].iter().enumerate() {
        // A continuation row starts with the hang exactly (not deeper, not shallower).
        let continues = row.starts_with(hang) && !row[hang.len()..].starts_with(' ');
        if words.len() >= count || (i > 0 && !continues) {
            break;
        }
        let width = textwrap::core::display_width(row);
        assert!(width <= 80, "{width} columns: {row:?}");
        let text = if i == 0 {
            &row[first.len()..]
        } else {
            &row[hang.len()..]
        };
        words.extend(text.split_whitespace().map(str::to_owned));
    }
    words
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

/// Predict mode on the terminal a newcomer might have, 80 columns by 40 rows, in the lesson
/// with the longest questions: what comes before the first question pauses rather than
/// scrolling away, the question and the "Why:" wrap between words under their own start, and
/// the choices sit under the question instead of at column 0.
#[test]
fn predict_mode_fits_an_80_by_40_terminal() {
    let lesson = crate::common::lessons()
        .iter()
        .find(|l| l.number == 6)
        .expect("lesson 6");
    let step = lesson.stages[0]
        .steps
        .iter()
        .find(|s| s.question.is_some())
        .expect("stage 6.1 asks");
    let (question, why) = (step.question.as_deref().unwrap(), step.why.as_deref().unwrap());
    assert!(question.len() > 80 && why.len() > 80, "long enough to wrap");

    let (_dir, home) = home();
    let mut tty = Tty::spawn_sized(&home, &["lesson", "6", "--predict", "--stage", "1"], 80, 40);
    // Enter at each pause until the first question's choices are drawn.
    let mut screens = Vec::new();
    loop {
        let (chunk, which) = tty.wait_for_any(&[PAUSE, "> [ ] alice"]);
        screens.push(chunk);
        if which == 1 {
            break;
        }
        tty.press("\r");
    }
    assert!(
        screens.len() > 1,
        "more than a screen came before the question, without a pause"
    );
    for screen in &screens[..screens.len() - 1] {
        // Everything between two pauses fits on the screen with the pause's own row.
        let rows = rows_shown(screen).len();
        assert!(rows <= 40, "{rows} rows between pauses:\n{screen}");
    }
    let first = rows_shown(&screens[0]);
    assert!(
        first.iter().any(|r| r.starts_with("━━━ Lesson 6")),
        "the first screen starts with the lesson: {first:?}"
    );
    let all: Vec<String> = screens.iter().flat_map(|s| rows_shown(s)).collect();
    for row in &all {
        let width = textwrap::core::display_width(row);
        assert!(width <= 80, "{width} columns: {row:?}");
    }
    let question_words = words(question);
    let shown = wrapped_sentence(&all, "  ? ", "    ", question_words.len());
    assert_eq!(shown, question_words);
    // The choices are drawn under the question, four columns in.
    let last = screens.last().unwrap();
    assert!(last.ends_with("    > [ ] alice"), "{:?}", tail(last));

    tty.choose(&[("alice", true), ("carol", false)]);
    let (verdict, _) = tty.wait_for_any(&["> [ ] alice", PAUSE]);
    let rows = rows_shown(&verdict);
    let why_words = words(why);
    assert_eq!(
        wrapped_sentence(&rows, "  Why: ", "       ", why_words.len()),
        why_words
    );
    assert!(
        rows.iter()
            .any(|r| r == "    carol  ✗ wrong  received it, but you predicted it would not"),
        "{rows:?}"
    );
    for row in &rows {
        let width = textwrap::core::display_width(row);
        assert!(width <= 80, "{width} columns: {row:?}");
    }
    tty.press("q");
    tty.wait_for("Stopped. Your progress is saved.");
    let (code, _) = tty.finish();
    assert_eq!(code, 0);
}
