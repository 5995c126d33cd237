//! Text from someone else's program, made safe to print: which characters a terminal would obey.
//!
//! During `check` the server under test is a program we do not control, and under `serve` the
//! clients are strangers' programs: a page title, a frame, an event name or an error message in a
//! trace came from them. The trace keeps such text as it came; the JSON output escapes it itself
//! ([`super::json`]), and every renderer for a person passes it through [`terminal_safe`].
//!
//! These functions live here, beside the data, rather than in [`crate::ui`], because modules
//! below `ui` need them too: the JSON writer escapes the same characters, and `check` bounds and
//! escapes a redirect's `Location` before it becomes part of a verdict.

use std::fmt::Write;

/// The characters [`terminal_safe`] escapes, and the JSON output escapes too
/// ([`super::json`]), so a program that prints a JSON string it decoded is not fooled either:
///
/// * the control characters: C0 (`U+0000`–`U+001F`: escape sequences, backspace, carriage
///   return), `DEL`, and C1 (`U+0080`–`U+009F`, among them the one-character CSI `U+009B` that
///   some terminals obey like `ESC [`);
/// * every bidirectional formatting character: the marks `U+200E`, `U+200F` and the Arabic
///   letter mark `U+061C`, the embeddings and overrides `U+202A`–`U+202E`, and the isolates
///   `U+2066`–`U+2069`: each changes the order in which the text after it is displayed;
/// * the line and paragraph separators `U+2028` and `U+2029`, which some terminals and most
///   JavaScript consumers treat as a line break: one trace line could pass for two.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}'
        )
}

/// Text that came from someone else's program, made safe for a terminal. A terminal obeys the
/// control characters in what it prints: `ESC ] 0 ; … BEL` renames the window, `ESC [ 31 m`
/// turns the rest of the screen red, and others move the cursor or rewrite earlier lines.
/// Bidirectional overrides (`U+202E` and friends) make text display in a different order than
/// it is stored. Every such character is written out as a visible escape instead (`\u{1b}`), so
/// what it was stays readable and nothing reaches the terminal that could drive it.
pub fn terminal_safe(text: &str) -> String {
    terminal_safe_within(text, usize::MAX)
}

/// Like [`terminal_safe`], and cut after `max_chars` characters (marked with `…`).
pub fn terminal_safe_within(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        if i == max_chars {
            out.push('…');
            break;
        }
        if is_unsafe(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_text_cannot_drive_the_terminal() {
        assert_eq!(terminal_safe("hi\u{1b}[31mred"), "hi\\u{1b}[31mred");
        assert_eq!(
            terminal_safe("\u{1b}]0;pwned\u{7}title"),
            "\\u{1b}]0;pwned\\u{7}title"
        );
        // C1 controls (an 8-bit CSI) and bidirectional overrides too.
        assert_eq!(
            terminal_safe("a\u{9b}2Jb\u{202e}c\nd"),
            "a\\u{9b}2Jb\\u{202e}c\\u{a}d"
        );
        assert_eq!(terminal_safe("plain text, é ✓"), "plain text, é ✓");
        // Every bidirectional mark, embedding, override and isolate, and the line and
        // paragraph separators.
        for c in [
            '\u{061c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202d}', '\u{2066}', '\u{2069}', '\u{2028}',
            '\u{2029}',
        ] {
            let shown = terminal_safe(&format!("a{c}b"));
            assert_eq!(
                shown,
                format!("a\\u{{{:x}}}b", u32::from(c)),
                "{:x}",
                u32::from(c)
            );
        }
        assert_eq!(terminal_safe_within("abcdef", 3), "abc…");
        assert_eq!(terminal_safe_within("abc", 3), "abc");
    }
}
