//! The mdBook walkthrough in `book/`: its sources, its console examples, and the built HTML.
//!
//! mdBook builds a book with a broken include anyway (a missing file leaves the literal
//! directive on the page, a missing anchor includes nothing), so these tests resolve every
//! include themselves, the way mdBook does, and fail on anything that would not resolve.

mod console;
mod html;
mod sources;

use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `book/src`, where the chapters live.
pub fn book_src() -> PathBuf {
    root().join("book/src")
}

/// Every Markdown file under `book/src` except `SUMMARY.md`, sorted.
pub fn chapter_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") && !path.ends_with("SUMMARY.md") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&book_src(), &mut files);
    files.sort();
    files
}

/// A path shown relative to the repository root, for messages.
pub fn shown(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}

/// What part of a file an include takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// The whole file.
    All,
    /// Lines `start..=end`, counted from 1; either bound may be open.
    Lines {
        start: Option<usize>,
        end: Option<usize>,
    },
    /// The lines between `ANCHOR: name` and `ANCHOR_END: name`.
    Anchor(String),
}

/// One `{{#name target}}` directive found in a Markdown text.
#[derive(Debug, Clone)]
pub struct Directive {
    /// `include`, `rustdoc_include`, …
    pub name: String,
    /// The path as written, relative to the file that holds the directive.
    pub path: String,
    pub selector: Selector,
    /// The whole directive as written, for messages.
    pub text: String,
    /// Byte offsets of the directive in the text.
    pub start: usize,
    pub end: usize,
}

/// Finds the directives mdBook would expand, skipping escaped ones (`\{{#…}}`).
///
/// Mirrors mdBook's own pattern: `{{`, optional spaces, `#`, a name of letters, digits and `_`,
/// at least one space, then everything up to the first `}}` that contains no `}`.
pub fn directives(text: &str) -> Vec<Directive> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("{{").map(|i| i + from) {
        from = at + 2;
        if text[..at].ends_with('\\') {
            continue;
        }
        let rest = text[at + 2..].trim_start();
        let Some(rest) = rest.strip_prefix('#') else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let after_name = &rest[name.len()..];
        if name.is_empty() || !after_name.starts_with(char::is_whitespace) {
            continue;
        }
        let Some(close) = after_name.find('}') else {
            continue;
        };
        if !after_name[close..].starts_with("}}") {
            continue;
        }
        let target = after_name[..close].trim();
        let end = text.len() - (after_name.len() - close - 2);
        let file_arg = target.split_whitespace().next().unwrap_or_default();
        let (path, selector) = match file_arg.split_once(':') {
            None => (file_arg.to_owned(), Selector::All),
            Some((path, spec)) => (path.to_owned(), selector(spec)),
        };
        found.push(Directive {
            name,
            path,
            selector,
            text: text[at..end].to_owned(),
            start: at,
            end,
        });
        from = end;
    }
    found
}

/// mdBook's reading of what follows the first `:` of an include: `4:`, `8:11`, `:5`, `3`, or an
/// anchor name.
fn selector(spec: &str) -> Selector {
    let mut parts = spec.splitn(2, ':');
    let first = parts.next().unwrap_or_default();
    let second = parts.next();
    let start = match first.parse::<usize>() {
        Ok(n) => Some(n),
        Err(_) if first.is_empty() => None,
        Err(_) => return Selector::Anchor(first.to_owned()),
    };
    match (start, second.map(str::parse::<usize>)) {
        (Some(n), None) => Selector::Lines {
            start: Some(n),
            end: Some(n),
        },
        (start, Some(Ok(end))) => Selector::Lines {
            start,
            end: Some(end),
        },
        (start, _) => Selector::Lines { start, end: None },
    }
}

/// The name of an anchor marker on `line` (`ANCHOR: name` or `ANCHOR_END: name`), as mdBook
/// reads it: the word right after the marker, in any comment syntax.
fn marker<'a>(line: &'a str, kind: &str) -> Option<&'a str> {
    let at = line.find(kind)?;
    let rest = line[at + kind.len()..].trim_start();
    let len = rest
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '-'))
        .map_or(rest.len(), |(i, _)| i);
    (len > 0).then(|| &rest[..len])
}

/// The lines of `source` an include takes, or why it would take nothing (or less than asked).
///
/// Stricter than mdBook where mdBook is silent: an anchor must be opened *and* closed and hold
/// at least one line; a line range must lie inside the file.
pub fn select(source: &str, selector: &Selector) -> Result<String, String> {
    match selector {
        Selector::All => Ok(source.to_owned()),
        Selector::Lines { start, end } => {
            let count = source.lines().count();
            let first = start.unwrap_or(1);
            let last = end.unwrap_or(count);
            if first == 0 || first > count || last > count || last < first {
                return Err(format!(
                    "lines {first} to {last} are not inside a file of {count} lines"
                ));
            }
            Ok(source
                .lines()
                .skip(first - 1)
                .take(last + 1 - first)
                .collect::<Vec<_>>()
                .join("\n"))
        }
        Selector::Anchor(name) => {
            let mut lines = source.lines();
            lines
                .by_ref()
                .find(|l| marker(l, "ANCHOR:") == Some(name.as_str()))
                .ok_or_else(|| format!("no `ANCHOR: {name}` line"))?;
            let mut kept = Vec::new();
            let mut closed = false;
            for line in lines {
                match marker(line, "ANCHOR_END:") {
                    Some(end) if end == name => {
                        closed = true;
                        break;
                    }
                    Some(_) => {}
                    None if marker(line, "ANCHOR:").is_none() => kept.push(line),
                    None => {}
                }
            }
            if !closed {
                return Err(format!("`ANCHOR: {name}` has no `ANCHOR_END: {name}`"));
            }
            if kept.is_empty() {
                return Err(format!("`ANCHOR: {name}` holds no lines"));
            }
            Ok(kept.join("\n"))
        }
    }
}

/// The directives mdBook's include step expands.
pub fn is_include(directive: &Directive) -> bool {
    matches!(directive.name.as_str(), "include" | "rustdoc_include")
}

/// Resolves one include found in a file in `dir`: the file it names and the text it takes.
pub fn resolve(dir: &Path, directive: &Directive) -> Result<(PathBuf, String), String> {
    let file = dir.join(&directive.path);
    let source = std::fs::read_to_string(&file)
        .map_err(|e| format!("{}: cannot read {}: {e}", directive.text, shown(&file)))?;
    let taken = select(&source, &directive.selector).map_err(|e| format!("{}: {e}", directive.text))?;
    Ok((file, taken))
}

/// A Markdown file with its includes expanded the way mdBook expands them (an included file's
/// own includes are relative to that file, ten levels deep at most). Every problem is collected.
pub fn expand(file: &Path) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let mut problems = Vec::new();
    let dir = file.parent().expect("a file has a folder");
    let expanded = expand_text(&text, dir, 0, &mut problems);
    let problems = problems
        .into_iter()
        .map(|p| format!("{}: {p}", shown(file)))
        .collect();
    (expanded, problems)
}

fn expand_text(text: &str, dir: &Path, depth: usize, problems: &mut Vec<String>) -> String {
    let mut out = String::new();
    let mut from = 0;
    for directive in directives(text) {
        if !is_include(&directive) {
            problems.push(format!(
                "{}: only include and rustdoc_include are used in this book",
                directive.text
            ));
            continue;
        }
        out.push_str(&text[from..directive.start]);
        from = directive.end;
        match resolve(dir, &directive) {
            Ok((file, taken)) if depth < 10 => {
                let inner = file.parent().expect("a file has a folder");
                out.push_str(&expand_text(&taken, inner, depth + 1, problems));
            }
            Ok(_) => problems.push(format!("{}: includes nested too deeply", directive.text)),
            Err(problem) => problems.push(problem),
        }
    }
    out.push_str(&text[from..]);
    out
}

/// A fenced code block: its info string (`console`, `rust,ignore`, …) and its lines.
#[derive(Debug, Clone)]
pub struct CodeBlock {
    pub info: String,
    pub lines: Vec<String>,
}

/// The fenced code blocks (three or more backticks) of a Markdown text.
pub fn code_blocks(text: &str) -> Vec<CodeBlock> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, CodeBlock)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let ticks = trimmed.chars().take_while(|c| *c == '`').count();
        match &mut open {
            None if ticks >= 3 => {
                let info = trimmed[ticks..].trim().to_owned();
                open = Some((
                    ticks,
                    CodeBlock {
                        info,
                        lines: Vec::new(),
                    },
                ));
            }
            Some((fence, _)) if ticks >= *fence && trimmed[ticks..].trim().is_empty() => {
                if let Some((_, block)) = open.take() {
                    blocks.push(block);
                }
            }
            Some((_, block)) => block.lines.push(line.to_owned()),
            None => {}
        }
    }
    blocks
}
