//! Generated regions inside hand-written Markdown files.
//!
//! A region is everything between a start marker and its end marker, each an HTML comment on a
//! line of its own (invisible on GitHub and in the built book, and skipped by mdBook in
//! `SUMMARY.md`):
//!
//! ```text
//! <!-- generated: lessons; edit lessons/*/lesson.toml, then run REALTIME_TUTOR_UPDATE_DOCS=1 cargo test --test suite docs -->
//! …generated lines…
//! <!-- end generated: lessons -->
//! ```
//!
//! The start marker says where the text comes from and how to regenerate it, so a reader who
//! is about to edit the region by hand is told not to. The text around the markers stays
//! hand-written and is never touched.

/// The command that rewrites every generated region, as the markers and failures print it.
pub const UPDATE_COMMAND: &str = "REALTIME_TUTOR_UPDATE_DOCS=1 cargo test --test suite docs";

/// One region's name, where its content comes from (for the marker), and the content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub name: &'static str,
    pub source: &'static str,
    pub body: String,
}

impl Region {
    fn start(&self) -> String {
        format!(
            "<!-- generated: {}; edit {}, then run {UPDATE_COMMAND} -->",
            self.name, self.source
        )
    }

    fn end(&self) -> String {
        format!("<!-- end generated: {} -->", self.name)
    }
}

/// `text` with `region` written between its markers (the markers rewritten too), or why not:
/// a missing or repeated marker is an error, never a silent skip.
pub fn replace(text: &str, region: &Region) -> Result<String, String> {
    let start_prefix = format!("<!-- generated: {};", region.name);
    let end = region.end();
    let line_starts = |needle: &str| -> Vec<usize> {
        let mut at = Vec::new();
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            if line.trim_end().starts_with(needle) {
                at.push(offset);
            }
            offset += line.len();
        }
        at
    };
    let (starts, ends) = (line_starts(&start_prefix), line_starts(&end));
    let (&[start], &[end_at]) = (starts.as_slice(), ends.as_slice()) else {
        return Err(format!(
            "needs exactly one line starting `{start_prefix}` and one `{end}` ({} and {} found)",
            starts.len(),
            ends.len()
        ));
    };
    if end_at < start {
        return Err(format!("`{end}` comes before its start marker"));
    }
    let after = end_at + text[end_at..].find('\n').map_or(text.len() - end_at, |n| n + 1);
    let mut body = region.body.clone();
    if !body.is_empty() && !body.ends_with('\n') {
        body.push('\n');
    }
    Ok(format!(
        "{}{}\n{body}{end}\n{}",
        &text[..start],
        region.start(),
        &text[after..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(body: &str) -> Region {
        Region {
            name: "list",
            source: "the data",
            body: body.to_owned(),
        }
    }

    #[test]
    fn only_the_text_between_the_markers_changes() {
        let text = "before\n<!-- generated: list; old words -->\nstale\nlines\n<!-- end generated: list -->\nafter\n";
        let new = replace(text, &region("1. one\n2. two")).unwrap();
        assert_eq!(
            new,
            format!(
                "before\n<!-- generated: list; edit the data, then run {UPDATE_COMMAND} -->\n1. one\n2. two\n\
                 <!-- end generated: list -->\nafter\n"
            )
        );
        assert_eq!(replace(&new, &region("1. one\n2. two")).unwrap(), new, "stable");
    }

    #[test]
    fn missing_repeated_or_reversed_markers_are_errors() {
        let start = "<!-- generated: list; x -->\n";
        let end = "<!-- end generated: list -->\n";
        for text in [
            String::from("no markers\n"),
            start.to_owned(),
            format!("{start}{start}{end}"),
            format!("{end}{start}"),
        ] {
            assert!(replace(&text, &region("x")).is_err(), "{text:?}");
        }
    }
}
