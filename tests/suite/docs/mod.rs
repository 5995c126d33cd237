//! Everything a reader learns about the course from the README and the book (which lessons
//! there are, what `check N` asks, what `serve N` runs, each lesson's chapter, and the examples
//! whose output lists the lessons) is generated from `lessons/`, and the committed files must
//! hold exactly what the generator writes now.
//!
//! Each output is a file and the generated regions in it (`regions`); what goes in them is
//! rendered from the lessons (`lessons`). Stale text fails with the command that rewrites it:
//! `REALTIME_TUTOR_UPDATE_DOCS=1 cargo test --test suite docs`, then review the diff, as with
//! the diagrams. Whole generated files, each lesson's book chapter (`chapters`), go through the
//! same loop: render the text, compare it with the committed file, write it when updating, and
//! remove a chapter whose lesson is gone.

mod chapters;
mod lessons;
mod regions;

use std::path::Path;

use regions::{Region, UPDATE_COMMAND, replace};

fn updating() -> bool {
    std::env::var("REALTIME_TUTOR_UPDATE_DOCS").is_ok_and(|v| v == "1")
}

/// Every generated region, by the file it lives in (relative to the repository root).
fn outputs() -> Vec<(&'static str, Vec<Region>)> {
    let course = crate::common::lessons();
    vec![
        (
            "README.md",
            vec![
                lessons::readme_list(course),
                lessons::check_table(course),
                lessons::serve_table(course),
            ],
        ),
        (
            "book/src/introduction.md",
            vec![lessons::introduction_list(course), lessons::list_example()],
        ),
        ("book/src/SUMMARY.md", vec![lessons::summary_entries(course)]),
        (
            "book/src/reference.md",
            vec![
                lessons::list_json_example(),
                lessons::missing_lesson_example(course),
            ],
        ),
    ]
}

#[test]
fn generated_docs_match_the_lessons() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let update = updating();
    let mut problems = Vec::new();
    for (file, regions) in outputs() {
        let path = root.join(file);
        let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut text = committed.clone();
        for region in &regions {
            match replace(&text, region) {
                Ok(new) => text = new,
                Err(e) => problems.push(format!("{file}, region `{}`: {e}", region.name)),
            }
        }
        if text == committed {
            continue;
        }
        if update {
            std::fs::write(&path, &text).unwrap_or_else(|e| panic!("{file}: {e}"));
        } else {
            let stale: Vec<&str> = regions
                .iter()
                .filter(|r| replace(&committed, r).is_ok_and(|one| one != committed))
                .map(|r| r.name)
                .collect();
            problems.push(format!("{file}: stale generated region(s) {}", stale.join(", ")));
        }
    }
    assert!(
        problems.is_empty(),
        "{}\nThe lists and tables are generated from lessons/*/lesson.toml: rewrite them with\n  \
         {UPDATE_COMMAND}\nand review the diff.",
        problems.join("\n")
    );
}

/// The folder of the lesson chapters, relative to the repository root.
const CHAPTERS: &str = "book/src/lessons";

/// Every lesson's chapter as the generator writes it, by path from the repository root.
fn rendered_chapters(root: &Path) -> Result<Vec<(String, String)>, Vec<String>> {
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for lesson in crate::common::lessons() {
        let text = chapters::Extras::read(root, &lesson.folder)
            .and_then(|extras| chapters::chapter(lesson, &extras));
        match text {
            Ok(text) => files.push((format!("book/src/{}", chapters::chapter_path(lesson)), text)),
            Err(e) => problems.push(e),
        }
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(problems)
    }
}

#[test]
fn chapters_match_their_lesson_folders() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let update = updating();
    let files = rendered_chapters(root).unwrap_or_else(|problems| panic!("{}", problems.join("\n")));
    let mut problems = Vec::new();
    for (file, text) in &files {
        let path = root.join(file);
        match std::fs::read_to_string(&path) {
            Ok(committed) if &committed == text => {}
            _ if update => std::fs::write(&path, text).unwrap_or_else(|e| panic!("{file}: {e}")),
            Ok(_) => problems.push(format!("{file} is stale")),
            Err(e) => problems.push(format!("{file} cannot be read: {e}")),
        }
    }
    for entry in std::fs::read_dir(root.join(CHAPTERS)).unwrap_or_else(|e| panic!("{CHAPTERS}: {e}")) {
        let name = entry
            .expect("a folder entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let file = format!("{CHAPTERS}/{name}");
        if name.ends_with(".md") && !files.iter().any(|(f, _)| *f == file) {
            if update {
                std::fs::remove_file(root.join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            } else {
                problems.push(format!("{file} belongs to no lesson"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{}\nEach lesson's chapter is generated from its folder in lessons/: rewrite them with\n  \
         {UPDATE_COMMAND}\nand review the diff.",
        problems.join("\n")
    );
}
