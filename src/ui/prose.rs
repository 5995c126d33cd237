//! Lesson prose for the terminal: Markdown paragraphs reflowed to the terminal's width.
//!
//! The lesson files are wrapped for reading in an editor. A terminal may be narrower, so the
//! text is reflowed here: paragraphs are joined and wrapped again, code blocks are kept line for
//! line, `**bold**` becomes bold, and backticks stay (they read well as they are).

use super::{layout, style};

/// The widest a paragraph gets, even on a wide terminal: long lines are hard to read.
const MAX_WIDTH: usize = 100;

/// The width to wrap prose at, for output `width` columns wide (see [`super::layout::width`]).
pub fn width(width: usize) -> usize {
    width.min(MAX_WIDTH)
}

/// Renders Markdown prose, every line starting with `indent`, wrapped to `width` columns.
/// Code fences are dropped and their lines kept as they are; blank lines stay blank.
pub fn render(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut in_code = false;
    let flush = |paragraph: &mut Vec<&str>, out: &mut String| {
        if paragraph.is_empty() {
            return;
        }
        let joined = paragraph.join(" ");
        // A list item's later lines hang under its text, not under its dash.
        let hang = if joined.starts_with("- ") || joined.starts_with("* ") {
            format!("{indent}  ")
        } else {
            indent.to_owned()
        };
        for line in layout::wrap(&joined, indent, &hang, width) {
            out.push_str(&bold(&line));
            out.push('\n');
        }
        paragraph.clear();
    };
    for line in text.trim_end().lines() {
        if line.trim_start().starts_with("```") {
            flush(&mut paragraph, &mut out);
            in_code = !in_code;
            continue;
        }
        if in_code {
            for line in layout::code_line(line, &format!("{indent}{indent}"), width) {
                out.push_str(&line);
                out.push('\n');
            }
        } else if line.trim().is_empty() {
            flush(&mut paragraph, &mut out);
            out.push('\n');
        } else {
            if line.starts_with("- ") || line.starts_with("* ") {
                flush(&mut paragraph, &mut out);
            }
            paragraph.push(line.trim());
        }
    }
    flush(&mut paragraph, &mut out);
    out
}

/// `**bold**` → bold. Wrapping happens first, so a bold phrase split across two lines is left
/// as written on both.
fn bold(line: &str) -> String {
    if line.matches("**").count() < 2 {
        return line.to_owned();
    }
    let mut out = String::new();
    for (i, part) in line.split("**").enumerate() {
        if i % 2 == 1 {
            out.push_str(&style::strong(part));
        } else {
            out.push_str(part);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_are_reflowed_and_code_is_kept() {
        let text = "one two three\nfour five six seven\n\n```js\nconst  a = 1;\n```\nlast";
        let out = anstream::adapter::strip_str(&render(text, "  ", 24)).to_string();
        assert_eq!(
            out,
            "  one two three four\n  five six seven\n\n    const  a = 1;\n  last\n"
        );
    }

    #[test]
    fn blank_lines_carry_no_trailing_spaces() {
        let out = render("a\n\nb", "  ", 80);
        assert!(out.lines().all(|l| l == l.trim_end()), "{out:?}");
    }

    #[test]
    fn bold_markers_become_styles() {
        let out = render("**Your turn.** Write it.", "", 80);
        assert!(!anstream::adapter::strip_str(&out).to_string().contains("**"));
    }
}
