//! Cutting `ANCHOR: name` … `ANCHOR_END: name` regions out of source text, the way mdBook's
//! `{{#include file:name}}` does, so the terminal and the book show the same lines.

/// Why an anchor could not be cut.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnchorError {
    #[error("no `ANCHOR: {0}` line")]
    Missing(String),
    #[error("`ANCHOR: {0}` has no matching `ANCHOR_END: {0}`")]
    Unterminated(String),
}

/// Returns the lines between the anchor markers, without the markers, and with any other
/// anchor marker lines dropped (as mdBook does). Common indentation is removed.
pub fn anchor(source: &str, name: &str) -> Result<String, AnchorError> {
    let is_marker = |line: &str, kind: &str| {
        line.find(kind).is_some_and(|at| {
            line[at + kind.len()..]
                .trim()
                .trim_end_matches("-->")
                .trim_end_matches("*/")
                .trim()
                == name
        })
    };
    let mut lines = source.lines();
    lines
        .by_ref()
        .find(|line| is_marker(line, "ANCHOR:"))
        .ok_or_else(|| AnchorError::Missing(name.to_owned()))?;
    let mut body = Vec::new();
    let mut closed = false;
    for line in lines {
        if is_marker(line, "ANCHOR_END:") {
            closed = true;
            break;
        }
        if !line.contains("ANCHOR:") && !line.contains("ANCHOR_END:") {
            body.push(line);
        }
    }
    if !closed {
        return Err(AnchorError::Unterminated(name.to_owned()));
    }
    let indent = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    Ok(body
        .iter()
        .map(|l| {
            if l.len() >= indent {
                &l[indent..]
            } else {
                l.trim_start()
            }
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_a_region() {
        let src = "a\n    // ANCHOR: x\n    fn x() {}\n    // ANCHOR: y\n    let y;\n    // ANCHOR_END: y\n    // ANCHOR_END: x\nb";
        assert_eq!(anchor(src, "x").unwrap(), "fn x() {}\nlet y;");
        assert_eq!(anchor(src, "y").unwrap(), "let y;");
    }

    #[test]
    fn names_must_match_exactly() {
        let src = "// ANCHOR: chat_io\n1\n// ANCHOR_END: chat_io\n// ANCHOR: chat\n2\n// ANCHOR_END: chat";
        assert_eq!(anchor(src, "chat").unwrap(), "2");
        assert_eq!(anchor(src, "nope"), Err(AnchorError::Missing("nope".into())));
        assert_eq!(
            anchor("// ANCHOR: z\nq", "z"),
            Err(AnchorError::Unterminated("z".into()))
        );
    }
}
