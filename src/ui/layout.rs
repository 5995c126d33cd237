//! How wide a printed line may be, and how a long one is laid out to fit.
//!
//! This is the one place that knows the width: the terminal's own when standard output is one,
//! and 80 columns when it is not (a pipe, a file, the snapshots), so that such output does not
//! depend on the window the command happened to be started from. Every renderer takes the width
//! as an argument and lays its lines out with the helpers below, so a line never wraps in the
//! middle of a word, and a table can choose a narrower shape when its wide one would not fit.
//!
//! Widths are counted in columns as a terminal draws them, not in bytes: `✓`, `▸` and `→` take
//! one column each, and the colour codes of [`super::style`] take none (textwrap skips them).

use textwrap::{Options, WordSplitter};

/// The width of output that does not go to a terminal: the width the snapshots are written at.
pub const PIPED_WIDTH: usize = 80;

/// The narrowest width laid out for, even on a tinier window: below it, no layout reads well.
const NARROWEST: usize = 40;

/// The columns every printed line must fit in: the terminal's when standard output is one,
/// [`PIPED_WIDTH`] otherwise.
pub fn width() -> usize {
    match dialoguer::console::Term::stdout().size_checked() {
        Some((_rows, columns)) => usize::from(columns).max(NARROWEST),
        None => PIPED_WIDTH,
    }
}

/// [`width`] for standard error: its terminal's width, or [`PIPED_WIDTH`] when it goes to a
/// pipe or a file. Messages and errors are printed there.
pub fn stderr_width() -> usize {
    match dialoguer::console::Term::stderr().size_checked() {
        Some((_rows, columns)) => usize::from(columns).max(NARROWEST),
        None => PIPED_WIDTH,
    }
}

/// How many columns `text` takes on a terminal (colour codes take none).
pub fn columns(text: &str) -> usize {
    textwrap::core::display_width(text)
}

/// `n` spaces: a hanging indent as text.
pub fn spaces(n: usize) -> String {
    " ".repeat(n)
}

/// textwrap's options for our text: break only at spaces, never at a hyphen, and cut a word
/// only when it is longer than a whole line (a URL, a frame on the wire).
fn options<'a>(width: usize, first: &'a str, rest: &'a str) -> Options<'a> {
    Options::new(width)
        .initial_indent(first)
        .subsequent_indent(rest)
        .word_splitter(WordSplitter::NoHyphenation)
        .break_words(true)
}

/// Wraps `text` at word boundaries into lines of at most `width` columns: the first line starts
/// with `first`, the others with `rest` (a hanging indent). No line ends in a newline.
pub fn wrap(text: &str, first: &str, rest: &str, width: usize) -> Vec<String> {
    let lines = textwrap::wrap(text, options(width, first, rest));
    if lines.is_empty() {
        return vec![first.trim_end().to_owned()];
    }
    lines.into_iter().map(|l| l.trim_end().to_owned()).collect()
}

/// [`wrap`], joined into one string with a newline after every line.
pub fn wrapped(text: &str, first: &str, rest: &str, width: usize) -> String {
    let mut out = String::new();
    for line in wrap(text, first, rest, width) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Lays out a line made of pieces, such as a client's mark, what it received, and a note on why.
///
/// The line starts with `lead`. Each piece follows the one before it, after its own gap (`"   "`
/// before a note, `", "` between items), when it fits on the same line; otherwise it starts a
/// new line at `hang` columns, the gap dropped. A piece too long for any line starts a new line
/// too, and is wrapped at its spaces with the same hanging indent. So a short line is printed exactly as it would be
/// without a width, and a long one breaks between its parts first, between words only if it
/// must. The result ends with a newline.
pub fn flow<'a>(
    lead: &str,
    pieces: impl IntoIterator<Item = (&'a str, String)>,
    hang: usize,
    width: usize,
) -> String {
    // A hang so deep that little room is left under it would make a tall narrow column.
    let hang = spaces(hang.min(width * 3 / 4));
    let mut done: Vec<String> = Vec::new();
    let mut line = lead.to_owned();
    // Whether `line` holds only an indent so far (nothing to put a gap after).
    let mut fresh = true;
    for (gap, piece) in pieces {
        let joined = if fresh {
            format!("{line}{piece}")
        } else {
            format!("{line}{gap}{piece}")
        };
        if columns(&joined) <= width {
            line = joined;
        } else if !fresh && columns(&hang) + columns(&piece) <= width {
            done.push(std::mem::replace(&mut line, format!("{hang}{piece}")));
        } else {
            // Too long for a line of its own: wrapped, from a new line unless the line holds
            // nothing yet.
            let start = if fresh {
                line.clone()
            } else {
                done.push(std::mem::take(&mut line));
                hang.clone()
            };
            let mut lines = wrap(&piece, &start, &hang, width);
            line = lines.pop().unwrap_or_default();
            done.extend(lines);
        }
        fresh = false;
    }
    done.push(line);
    let mut out = String::new();
    for l in done {
        out.push_str(l.trim_end());
        out.push('\n');
    }
    out
}

/// Fits a line of source code into `width` columns, `indent` before it.
///
/// Code is never reflowed: a line that fits is kept as it is. A longer one is broken at a space
/// (inside a string too, as an editor's soft wrap would be), and its continuation lines are
/// indented four columns deeper than the line itself, the way a formatter breaks a long call.
/// A comment's continuation starts with its own `//` (or `///`, `#`), so it still reads as a
/// comment.
pub fn code_line(line: &str, indent: &str, width: usize) -> Vec<String> {
    let first = format!("{indent}{line}");
    if columns(&first) <= width {
        return vec![first];
    }
    let body = line.trim_start();
    let own = &line[..line.len() - body.len()];
    let marker = ["///", "//!", "//", "#"]
        .into_iter()
        .find(|m| body.starts_with(&format!("{m} ")));
    let (first, rest, text) = match marker {
        Some(m) => {
            // A comment keeps its marker and its own indentation inside (code in a doc
            // comment is indented there); an indented line continues deeper, like code.
            let after = &body[m.len()..];
            let text = after.trim_start();
            let inner = &after[..after.len() - text.len()];
            let deeper = if inner.len() > 1 { "    " } else { "" };
            (
                format!("{indent}{own}{m}{inner}"),
                format!("{indent}{own}{m}{inner}{deeper}"),
                text,
            )
        }
        None => (format!("{indent}{own}"), format!("{indent}{own}    "), body),
    };
    // A shell command (`$ realtime-tutor …`) must still run when pasted: each line it breaks
    // onto ends with the shell's `\`, for which room is kept.
    let shell = marker.is_none() && body.starts_with("$ ");
    let room = if shell { width.saturating_sub(2) } else { width };
    let mut lines = wrap(text, &first, &rest, room);
    no_orphan(&mut lines, &rest, room);
    if shell {
        let last = lines.len().saturating_sub(1);
        for line in &mut lines[..last] {
            line.push_str(" \\");
        }
    }
    lines
}

/// Moves a word down when the last line would hold only a scrap (`{`, `});`), which reads as a
/// line of code of its own.
fn no_orphan(lines: &mut [String], rest: &str, width: usize) {
    let [.., before, last] = lines else { return };
    let scrap = last.trim_start();
    if columns(scrap) > 3 {
        return;
    }
    let Some((kept, moved)) = before.rsplit_once(' ') else {
        return;
    };
    if kept.trim().is_empty() || columns(rest) + columns(moved) + 1 + columns(scrap) > width {
        return;
    }
    let (kept, moved, scrap) = (kept.to_owned(), moved.to_owned(), scrap.to_owned());
    *last = format!("{rest}{moved} {scrap}");
    *before = kept;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_and_arrows_are_one_column_and_colours_none() {
        assert_eq!(columns("✓ ✗ ▸ → ━"), 9);
        assert_eq!(columns(&super::super::style::good("ok")), 2);
    }

    #[test]
    fn a_short_line_is_kept_and_a_long_one_breaks_between_its_pieces() {
        let pieces = || [("", "✓ 'hi'".to_owned()), ("   ", "← the sender".to_owned())];
        assert_eq!(
            flow("    bob  ", pieces(), 11, 80),
            "    bob  ✓ 'hi'   ← the sender\n"
        );
        assert_eq!(
            flow("    bob  ", pieces(), 11, 24),
            "    bob  ✓ 'hi'\n           ← the sender\n"
        );
    }

    #[test]
    fn a_piece_longer_than_a_line_wraps_between_words_under_its_hang() {
        let out = flow("  ", [("", "one two three four five six".to_owned())], 4, 14);
        assert_eq!(out, "  one two\n    three four\n    five six\n");
        assert!(out.lines().all(|l| columns(l) <= 14));
    }

    #[test]
    fn a_word_is_cut_only_when_no_line_could_hold_it() {
        let out = wrap("see http://127.0.0.1:3000/socket.io/", "", "  ", 20);
        assert_eq!(out[0], "see");
        assert!(out.iter().all(|l| columns(l) <= 20), "{out:?}");
        // No hyphen splitting: "long-polling" stays whole.
        assert_eq!(wrap("a long-polling b", "", "", 13), ["a", "long-polling", "b"]);
    }

    #[test]
    fn long_code_continues_deeper_and_comments_stay_comments() {
        assert_eq!(
            code_line("  let x = call(a, b);", "    ", 17),
            ["      let x =", "          call(a,", "          b);"]
        );
        assert_eq!(
            code_line("// one two three", "", 9),
            ["// one", "// two", "// three"]
        );
        assert_eq!(code_line("short", "  ", 80), ["  short"]);
        assert_eq!(
            code_line("$ tutor check 7 --url A --url B", "  ", 24),
            ["  $ tutor check 7 \\", "      --url A --url B"],
            "a shell command goes on with a backslash, and still runs when pasted"
        );
        // Code inside a doc comment keeps its indentation there, and continues deeper.
        assert_eq!(
            code_line("///     a b c", "", 11),
            ["///     a b", "///         c"]
        );
        // No scrap of code is left alone on the last line.
        assert_eq!(
            code_line("fn f(a: A) -> B {", "", 16),
            ["fn f(a: A) ->", "    B {"]
        );
    }
}
