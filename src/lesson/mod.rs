//! The lessons: data in `lessons/`, embedded in the binary at build time and validated on load.
//!
//! Each lesson is a folder `lessons/NN-slug/` holding:
//!
//! * `lesson.toml`: the structure (format version, title, stages, each stage's server and
//!   scenario, and the expectations that tests and `check` compare against what was observed),
//!   and three one-line sentences about the lesson (`summary`, `check_asks`, `serve_runs`) from
//!   which the README's and the book's lesson lists are generated;
//! * `intro.md`, `stage-K.md`, `exercise.md`: the prose, in Markdown, shared with the book;
//! * `stage-K.js`: the Node.js code each stage mirrors;
//! * optionally `book.toml`: what the lesson's book chapter says beyond these files. The tutor
//!   never reads it; the test suite's generator writes the chapter from the folder.
//!
//! The Rust code shown beside the JavaScript is not stored here: a stage names ANCHOR regions
//! in `src/server/`, and the tutor cuts them out of the real source (also embedded), so what is
//! shown is what runs.

mod anchor;
mod answers;
mod attempt;
mod blurb;
mod measure;
mod model;
mod parse;
mod raw;
mod scope;
mod step;

pub use anchor::{AnchorError, anchor};
pub use attempt::Attempt;
pub use measure::MAX_LESSON_CLIENTS;
pub use model::*;
pub use raw::FORMAT_VERSION;
pub use scope::own_room;

use std::sync::OnceLock;

use include_dir::{Dir, include_dir};

/// The `lessons/` folder, as it was when the binary was built.
static LESSONS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/lessons");

/// The server sources the lessons show, so `cargo install` carries them along.
static SERVER_SOURCES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/src/server");

/// Every embedded lesson, validated, in number order.
///
/// The lessons are parsed once per process, on the first call, and kept (a failure too: the
/// embedded files cannot change while the program runs). Each call hands out its own copy, which
/// is cheap next to parsing the TOML again: the CLI asks several times per run (the argument
/// parser, error messages, the command itself).
pub fn all() -> Result<Vec<Lesson>, LessonError> {
    static PARSED: OnceLock<Result<Vec<Lesson>, LessonError>> = OnceLock::new();
    PARSED.get_or_init(parse_all).clone()
}

/// Parses and validates the embedded lessons.
fn parse_all() -> Result<Vec<Lesson>, LessonError> {
    let mut lessons = Vec::new();
    for dir in LESSONS.dirs() {
        let folder = dir.path().to_string_lossy().into_owned();
        let read = |name: &str| -> Result<String, LessonError> {
            dir.get_file(dir.path().join(name))
                .and_then(|f| f.contents_utf8())
                .map(str::to_owned)
                .ok_or_else(|| LessonError::new(&folder, format!("missing file {name}")))
        };
        lessons.push(Lesson::parse(&folder, &read("lesson.toml")?, &read)?);
    }
    lessons.sort_by_key(|l| l.number);
    for (i, lesson) in lessons.iter().enumerate() {
        if lesson.number as usize != i + 1 {
            return Err(LessonError::new(
                &lesson.folder,
                format!(
                    "lesson {} is missing: lessons must be numbered 1, 2, 3, … without gaps",
                    i + 1
                ),
            ));
        }
    }
    Ok(lessons)
}

/// The text of a server source file by its path from the crate root (`src/server/app.rs`).
pub fn server_source(path: &str) -> Option<&'static str> {
    let relative = path.strip_prefix("src/server/")?;
    SERVER_SOURCES.get_file(relative)?.contents_utf8()
}

#[cfg(test)]
mod tests {
    use socketioxide::adapter::LocalAdapter;

    use crate::server::handlers::all;

    /// Every handler the registry lists, used by a lesson or not yet, has a name of its own and
    /// a region of real code a lesson can show. (Here, not beside the registry: cutting code is
    /// the lessons' job, and the server does not depend on them.)
    #[test]
    fn every_handler_has_a_unique_name_and_its_code() {
        let all = all::<LocalAdapter>();
        for (i, h) in all.iter().enumerate() {
            assert!(
                all[..i].iter().all(|other| other.name != h.name),
                "two handlers are called {}",
                h.name
            );
            let source = super::server_source(h.file).unwrap_or_else(|| panic!("{}: no {}", h.name, h.file));
            super::anchor(source, h.anchor).unwrap_or_else(|e| panic!("{}: {e}", h.name));
        }
    }
}
