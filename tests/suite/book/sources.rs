//! The book's sources: every include resolves, every lesson and stage has its place, and the
//! table of contents matches the chapters on disk.

use std::path::{Path, PathBuf};

use super::{
    Directive, Selector, book_src, chapter_files, directives, expand, is_include, resolve, root, select,
    shown,
};
use crate::common::lessons;

#[test]
fn every_include_names_an_existing_file_and_anchor() {
    let mut problems = Vec::new();
    let mut count = 0;
    for file in chapter_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        count += directives(&text).len();
        problems.extend(expand(&file).1);
    }
    assert!(
        count >= 30,
        "the chapters include their material ({count} includes found)"
    );
    assert!(problems.is_empty(), "broken includes:\n{}", problems.join("\n"));
}

#[test]
fn the_include_check_catches_what_mdbook_lets_through() {
    let dir = book_src().join("lessons");
    let check = |text: &str| {
        let directive = directives(text).pop().expect("one directive");
        resolve(&dir, &directive).map(|_| ())
    };
    assert!(check("{{#include ../../../src/server/app.rs:app}}").is_ok());
    assert!(check("{{#include ../../../snapshots/lesson-1-stage-1.snap:4:}}").is_ok());
    // A missing file, a missing anchor, and a range past the end of the file.
    let missing = check("{{#include ../../../lessons/01-one-port/stage-9.md}}").unwrap_err();
    assert!(missing.contains("cannot read"), "{missing}");
    let anchor = check("{{#include ../../../src/server/app.rs:no_such_region}}").unwrap_err();
    assert!(anchor.contains("no `ANCHOR: no_such_region`"), "{anchor}");
    let range = check("{{#include ../../../snapshots/lesson-1-stage-1.snap:400:}}").unwrap_err();
    assert!(range.contains("not inside"), "{range}");
    // An anchor opened but never closed, or closed under another name.
    let open = select(
        "// ANCHOR: a\nx\n// ANCHOR_END: b\n",
        &Selector::Anchor("a".into()),
    )
    .unwrap_err();
    assert!(open.contains("no `ANCHOR_END: a`"), "{open}");
    // Escaped directives are text, not includes.
    assert!(directives(r"\{{#include nothing.md}}").is_empty());
}

#[test]
fn anchors_are_cut_like_the_command_line_cuts_them() {
    // The terminal shows the same Rust as the book: both cut the same regions.
    for lesson in lessons() {
        for stage in &lesson.stages {
            for rust in &stage.rust {
                let source = std::fs::read_to_string(root().join(&rust.path)).unwrap();
                let book = select(&source, &Selector::Anchor(rust.anchor.clone())).unwrap();
                assert_eq!(book, rust.code().unwrap(), "{}:{}", rust.path, rust.anchor);
            }
        }
    }
}

/// Where an include of the chapter points, relative to the repository root, with its selector.
fn targets(chapter: &Path, text: &str) -> Vec<(String, Selector)> {
    let dir = chapter.parent().unwrap();
    directives(text)
        .into_iter()
        .filter(is_include)
        .map(|d: Directive| {
            let path = normalise(&dir.join(&d.path));
            (shown(&path), d.selector)
        })
        .collect()
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// A chapter split at its `## ` headings: (heading, text under it).
fn sections(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = vec![(String::new(), String::new())];
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            out.push((heading.trim().to_owned(), String::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.push_str(line);
            last.1.push('\n');
        }
    }
    out
}

#[test]
fn every_lesson_and_stage_has_its_place_in_the_book() {
    let summary = std::fs::read_to_string(book_src().join("SUMMARY.md")).unwrap();
    let whole = |path: &str| (path.to_owned(), Selector::All);
    let body = |path: String| {
        (
            path,
            Selector::Lines {
                start: Some(4),
                end: None,
            },
        )
    };
    let mut problems = Vec::new();
    for lesson in lessons() {
        let n = lesson.number;
        let folder = format!("lessons/{}", lesson.folder);
        let relative = format!("lessons/{}.md", lesson.folder);
        let chapter = book_src().join(&relative);
        let heading = format!("Lesson {n}: {}", lesson.title);
        if !summary.contains(&format!("[{heading}]({relative})")) {
            problems.push(format!("SUMMARY.md has no entry `[{heading}]({relative})`"));
        }
        let Ok(text) = std::fs::read_to_string(&chapter) else {
            problems.push(format!("lesson {n} has no chapter {}", shown(&chapter)));
            continue;
        };
        if text.lines().next() != Some(&format!("# {heading}")) {
            problems.push(format!("{} should start with `# {heading}`", shown(&chapter)));
        }
        let all = targets(&chapter, &text);
        for wanted in [
            whole(&format!("{folder}/intro.md")),
            whole(&format!("{folder}/exercise.md")),
            body(format!("snapshots/lesson-{n}-summary.snap")),
        ] {
            if !all.contains(&wanted) {
                problems.push(format!("{} does not include {wanted:?}", shown(&chapter)));
            }
        }
        let stage_sections: Vec<(String, String)> = sections(&text)
            .into_iter()
            .filter(|(h, _)| h.starts_with("Stage "))
            .collect();
        let expected: Vec<String> = lesson
            .stages
            .iter()
            .map(|s| format!("Stage {n}.{}: {}", s.number, s.title))
            .collect();
        let found: Vec<String> = stage_sections.iter().map(|(h, _)| h.clone()).collect();
        if found != expected {
            problems.push(format!(
                "{}: the stage sections should be {expected:#?}, found {found:#?}",
                shown(&chapter)
            ));
            continue;
        }
        for (stage, (heading, section)) in lesson.stages.iter().zip(&stage_sections) {
            let k = stage.number;
            let included = targets(&chapter, section);
            let mut wanted = vec![
                whole(&format!("{folder}/stage-{k}.md")),
                whole(&format!("{folder}/stage-{k}.js")),
                body(format!("snapshots/lesson-{n}-stage-{k}.snap")),
                // The same run as a diagram, drawn and checked by tests/suite/diagrams.rs.
                whole(&format!("book/src/diagrams/lesson-{n}-stage-{k}.svg")),
            ];
            wanted.extend(
                stage
                    .rust
                    .iter()
                    .map(|r| (r.path.clone(), Selector::Anchor(r.anchor.clone()))),
            );
            for want in wanted {
                if !included.contains(&want) {
                    problems.push(format!("section `{heading}` does not include {want:?}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_summary_lists_every_chapter_and_missing_chapters_are_errors() {
    let summary = std::fs::read_to_string(book_src().join("SUMMARY.md")).unwrap();
    let mut linked = Vec::new();
    for piece in summary.split("](").skip(1) {
        let target = piece.split(')').next().unwrap_or_default();
        linked.push(book_src().join(target));
    }
    let chapters = chapter_files();
    for file in &linked {
        assert!(
            file.is_file(),
            "SUMMARY.md links {} which does not exist",
            shown(file)
        );
    }
    for file in &chapters {
        assert!(
            linked.contains(file),
            "{} is not listed in SUMMARY.md",
            shown(file)
        );
    }
    let config: toml::Table = std::fs::read_to_string(root().join("book/book.toml"))
        .unwrap()
        .parse()
        .expect("book.toml is TOML");
    assert_eq!(
        config
            .get("build")
            .and_then(|b| b.get("create-missing"))
            .and_then(toml::Value::as_bool),
        Some(false),
        "book.toml must set [build] create-missing = false"
    );
}
