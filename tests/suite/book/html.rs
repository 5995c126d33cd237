//! Builds the book with mdBook and reads the HTML: nothing is left unexpanded, and every lesson
//! chapter shows every trace line the tutor prints for that lesson, exactly as printed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::root;
use crate::common::process::try_run_bounded;
use crate::common::{COMMAND_LIMIT, lessons, run_bounded};

/// The mdBook to run: `$MDBOOK` if set, else `mdbook` from the `PATH`.
fn mdbook() -> String {
    std::env::var("MDBOOK").unwrap_or_else(|_| "mdbook".to_owned())
}

/// Builds the book into a fresh temporary folder, so parallel runs do not share output.
fn build() -> (tempfile::TempDir, PathBuf) {
    let version = try_run_bounded(Command::new(mdbook()).arg("--version"), COMMAND_LIMIT);
    if !version.is_ok_and(|v| v.status.success()) {
        panic!(
            "mdbook is not installed (or `{}` does not run). Run `bash scripts/test.sh`, which installs \
             the version this book is built with, or point $MDBOOK at an mdbook binary.",
            mdbook()
        );
    }
    let out = tempfile::tempdir().expect("a temporary folder");
    let dest = out.path().join("html");
    let build = run_bounded(
        Command::new(mdbook())
            .arg("build")
            .arg(root().join("book"))
            .arg("--dest-dir")
            .arg(&dest),
        COMMAND_LIMIT,
    );
    let log = String::from_utf8_lossy(&build.stderr).into_owned() + &String::from_utf8_lossy(&build.stdout);
    assert!(build.status.success(), "mdbook build failed:\n{log}");
    assert!(
        !log.contains("ERROR") && !log.contains("WARN"),
        "mdbook build logged a problem:\n{log}"
    );
    (out, dest)
}

fn html_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            html_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
}

/// The text of every `<pre><code>` block of a page, entities decoded, as a set of lines.
fn code_lines(html: &str) -> HashSet<String> {
    let mut lines = HashSet::new();
    let mut rest = html;
    while let Some(at) = rest.find("<pre><code") {
        // Skip `<pre>`; the `<code …>` tag ends at the next `>`.
        let after = &rest[at + "<pre>".len()..];
        let Some(open_end) = after.find('>') else { break };
        let body = &after[open_end + 1..];
        let Some(close) = body.find("</code></pre>") else {
            break;
        };
        let text = html_escape::decode_html_entities(&body[..close]);
        lines.extend(text.lines().map(str::to_owned));
        rest = &body[close..];
    }
    lines
}

/// The trace lines the tutor prints for a whole lesson: each stage's "Live trace" block and the
/// summary table that follows the last stage.
fn printed_trace_lines(lesson: u32) -> (Vec<String>, usize) {
    let out = run_bounded(
        Command::new(env!("CARGO_BIN_EXE_realtime-tutor")).args([
            "lesson",
            &lesson.to_string(),
            "--no-pause",
            "--color",
            "never",
        ]),
        COMMAND_LIMIT,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("UTF-8 output");
    let all: Vec<&str> = text.lines().collect();
    let mut wanted = Vec::new();
    let mut traces = 0;
    let mut i = 0;
    let mut last_trace_end = None;
    while i < all.len() {
        if all[i] == "  Live trace" {
            traces += 1;
            i += 1;
            while i < all.len() && !all[i].is_empty() {
                wanted.push(all[i].to_owned());
                i += 1;
            }
            last_trace_end = Some(i);
        }
        i += 1;
    }
    // The summary: the block of lines right after the last trace.
    if let Some(end) = last_trace_end {
        let summary = all[end..]
            .iter()
            .skip_while(|l| l.is_empty())
            .take_while(|l| !l.is_empty());
        wanted.extend(summary.map(|l| (*l).to_owned()));
    }
    (wanted, traces)
}

#[test]
fn the_built_book_shows_every_trace_line_the_tutor_prints() {
    let (_keep, dest) = build();
    let mut pages = Vec::new();
    html_files(&dest, &mut pages);
    assert!(pages.len() >= 6, "the book has its pages: {pages:?}");
    for page in &pages {
        let html = std::fs::read_to_string(page).unwrap();
        assert!(
            !html.contains("{{#"),
            "{} still contains an unexpanded `{{{{#…}}}}`",
            page.display()
        );
    }
    for lesson in lessons() {
        let page = dest.join(format!("lessons/{}.html", lesson.folder));
        let html = std::fs::read_to_string(&page)
            .unwrap_or_else(|e| panic!("lesson {}: no page {}: {e}", lesson.number, page.display()));
        // Lesson 10's times and memory differ from run to run: both sides with those figures
        // set aside (`measured::mask_text`), every counted figure kept.
        // The chapter shows the snapshot, whose placeholders say which figure each was.
        let mask = |line: &str| {
            let line = ["<time>", "<rate>", "<memory>", "<ratio>×"]
                .iter()
                .fold(line.to_owned(), |l, p| l.replace(p, "<measured>"));
            crate::common::measured::mask_text(&line).trim_end().to_owned()
        };
        let shown: Vec<String> = code_lines(&html).iter().map(|l| mask(l)).collect();
        let (printed, traces) = printed_trace_lines(lesson.number);
        let printed: Vec<String> = printed.iter().map(|l| mask(l)).collect();
        assert_eq!(
            traces,
            lesson.stages.len(),
            "one trace per stage of lesson {}",
            lesson.number
        );
        assert!(
            printed.len() > traces,
            "lesson {} printed trace lines",
            lesson.number
        );
        let missing: Vec<&String> = printed.iter().filter(|l| !shown.contains(*l)).collect();
        assert!(
            missing.is_empty(),
            "the chapter of lesson {} lacks these lines that `realtime-tutor lesson {} --no-pause --color never` prints:\n{}",
            lesson.number,
            lesson.number,
            missing.iter().map(|l| l.as_str()).collect::<Vec<_>>().join("\n")
        );
    }
}

#[test]
fn code_blocks_are_read_back_as_the_text_they_show() {
    let html = "<p>x</p><pre><code class=\"language-text\">  ▸ a &lt;port&gt; &amp; &quot;b&quot;\n    c\n</code></pre>";
    let lines = code_lines(html);
    assert!(lines.contains("  ▸ a <port> & \"b\""), "{lines:?}");
    assert!(lines.contains("    c"), "{lines:?}");
    assert!(!lines.contains("x"), "{lines:?}");
}
