//! The one-line sentences a lesson says about itself in `lesson.toml`: `summary` (what it
//! teaches), `check_asks` (what `check N` asks of your server) and `serve_runs` (what `serve N`
//! runs).
//!
//! They are not shown by the tutor itself: the test suite writes them into the README's and the
//! book's lesson lists and tables (`tests/suite/docs/`), so a new lesson appears there without
//! anyone editing prose. Each lands in a Markdown list item or a table cell, so it must be one
//! line, and it must not hold a `|`, which would end the cell.

/// Is `text` usable as one line of a generated list or table?
pub(super) fn check(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("must say something: one line about the lesson".into());
    }
    if text.trim() != text {
        return Err("must not start or end with spaces".into());
    }
    if text.contains(['\n', '\r']) {
        return Err("must be one line: it becomes a list item or a table cell".into());
    }
    if text.contains('|') {
        return Err("must not contain `|`: it ends a Markdown table cell".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn a_blurb_is_one_nonempty_line_without_a_cell_border() {
        assert_eq!(
            check("on `'chat message'`, `io.emit('chat message', msg)`"),
            Ok(())
        );
        for bad in ["", "  ", " leading", "two\nlines", "a | b", "trailing "] {
            assert!(check(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_lesson_without_its_sentences_or_with_a_broken_one_does_not_load() {
        use crate::lesson::Lesson;
        let good = "format_version = 2\nnumber = 9\nslug = \"x\"\ntitle = \"t\"\nsummary = \"s\"\n\
                    check_asks = \"c\"\nserve_runs = \"r\"\ncheck_stage = 1\n[[stage]]\ntitle = \"s\"\n\
                    mount = \"realtime\"\nrust = []\n[[stage.step]]\nconnect = \"alice\"\n";
        let read = |name: &str| Ok(format!("text of {name}"));
        assert!(Lesson::parse("09-x", good, &read).is_ok());
        for (toml, needle) in [
            (good.replace("summary = \"s\"\n", ""), "missing field `summary`"),
            (
                good.replace("check_asks = \"c\"", "check_asks = \"a | b\""),
                "check_asks: must not contain `|`",
            ),
            (
                good.replace("serve_runs = \"r\"", "serve_runs = \"\""),
                "serve_runs: must say something",
            ),
        ] {
            let err = Lesson::parse("09-x", &toml, &read).expect_err(needle).to_string();
            assert!(err.contains(needle), "{err}");
        }
    }
}
