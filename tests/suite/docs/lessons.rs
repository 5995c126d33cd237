//! What the README and the book say about the course, rendered from the lessons themselves:
//! the lesson lists, the book's table of contents, and the `check` and `serve` tables. Pure
//! functions of the lesson data, so a new lesson folder is a new line everywhere. The console
//! examples whose output lists the lessons (`list`, a missing lesson) are run for real instead.

use realtime_tutor::lesson::Lesson;

use super::regions::Region;

/// Where the sentences come from, as the markers say.
const SOURCE: &str = "lessons/*/lesson.toml";

fn region(name: &'static str, body: String) -> Region {
    Region {
        name,
        source: SOURCE,
        body,
    }
}

/// A lesson's chapter in the book, relative to `book/src`.
fn chapter(lesson: &Lesson) -> String {
    format!("lessons/{}.md", lesson.folder)
}

/// The README's opening list: one line per lesson, linked to its chapter.
pub fn readme_list(lessons: &[Lesson]) -> Region {
    let body = lessons
        .iter()
        .map(|l| {
            format!(
                "{}. **[{}](book/src/{})**: {}.\n",
                l.number,
                l.title,
                chapter(l),
                l.summary
            )
        })
        .collect();
    region("lessons", body)
}

/// The introduction's list, with links relative to the book.
pub fn introduction_list(lessons: &[Lesson]) -> Region {
    let body = lessons
        .iter()
        .map(|l| format!("{}. [{}]({}): {}.\n", l.number, l.title, chapter(l), l.summary))
        .collect();
    region("lessons", body)
}

/// `SUMMARY.md`'s lesson chapters, in the form the book's tests and mdBook expect.
pub fn summary_entries(lessons: &[Lesson]) -> Region {
    let body = lessons
        .iter()
        .map(|l| format!("- [Lesson {}: {}]({})\n", l.number, l.title, chapter(l)))
        .collect();
    region("lessons", body)
}

/// The README's `check` table: the stage each check plays, and what it asks of your server.
pub fn check_table(lessons: &[Lesson]) -> Region {
    let mut body = String::from("| lesson | plays stage | what your server must do |\n|---|---|---|\n");
    for l in lessons {
        body.push_str(&format!(
            "| {} | {}.{} | {} |\n",
            l.number, l.number, l.check_stage, l.check_asks
        ));
    }
    region("check-table", body)
}

/// The README's `serve` table: the stage `serve N` runs (the same one `check` plays), and what
/// that is.
pub fn serve_table(lessons: &[Lesson]) -> Region {
    let mut body = String::from("| lesson | runs stage | what `serve N` runs |\n|---|---|---|\n");
    for l in lessons {
        body.push_str(&format!(
            "| {} | {}.{} | {} |\n",
            l.number, l.number, l.check_stage, l.serve_runs
        ));
    }
    region("serve-table", body)
}

/// The introduction's first example: `realtime-tutor list` and what it prints for a reader with
/// no progress yet.
pub fn list_example() -> Region {
    region("list-example", console_example("realtime-tutor list"))
}

/// The reference's example of `realtime-tutor list --format json`.
pub fn list_json_example() -> Region {
    region(
        "list-json-example",
        console_example("realtime-tutor list --format json"),
    )
}

/// The reference's example of a lesson that does not exist: the first number after the last
/// lesson but one, so that it stays missing when a lesson is added.
pub fn missing_lesson_example(lessons: &[Lesson]) -> Region {
    let missing = lessons.len() + 2;
    region(
        "missing-lesson-example",
        console_example(&format!(
            "realtime-tutor tour --from {missing}; echo \"exit status $?\""
        )),
    )
}

/// A `console` block: a shell command line and what it prints (stderr too) for a reader with
/// no progress yet, run for real the way the book's console test runs it (which checks it
/// again, as every example).
fn console_example(command: &str) -> String {
    use crate::common::{COMMAND_LIMIT, run_bounded};
    let home = tempfile::tempdir().expect("a temporary progress folder");
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_realtime-tutor"));
    let mut dirs = vec![binary.parent().expect("the binary is in a folder").to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let output = run_bounded(
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("exec 2>&1; {command}"))
            .env("PATH", std::env::join_paths(dirs).expect("a valid PATH"))
            .env("NO_COLOR", "1")
            .env("REALTIME_TUTOR_HOME", home.path())
            .env_remove("CLICOLOR_FORCE"),
        COMMAND_LIMIT,
    );
    // Shown under the Linux default folder, as the book says, not the test's own.
    let printed = String::from_utf8_lossy(&output.stdout)
        .replace(&*home.path().to_string_lossy(), "~/.local/state/realtime-tutor");
    format!("```console\n$ {command}\n{printed}```\n")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use realtime_tutor::lesson::{Lesson, LessonError};

    use super::*;
    use crate::common::lessons;
    use crate::docs::chapters::{Extras, chapter, chapter_path};

    /// A copy of lesson 3's folder as lesson `number` with `slug`, parsed as the tutor parses
    /// an embedded lesson: what someone adding a lesson starts from.
    fn copy_of_lesson_3(number: u32, slug: &str) -> Lesson {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons/03-chat");
        let read = |name: &str| -> Result<String, LessonError> {
            Ok(std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("03-chat/{name}: {e}")))
        };
        let toml = read("lesson.toml")
            .unwrap()
            .replace("number = 3", &format!("number = {number}"))
            .replace("slug = \"chat\"", &format!("slug = \"{slug}\""))
            .replace(
                "title = \"The chat broadcast\"",
                "title = \"The chat, once more\"",
            );
        Lesson::parse(&format!("{number:02}-{slug}"), &toml, &read).expect("the copy parses")
    }

    #[test]
    fn a_copied_lesson_appears_in_every_list_and_table() {
        let mut course = lessons().to_vec();
        let before: Vec<Region> = [
            readme_list,
            introduction_list,
            summary_entries,
            check_table,
            serve_table,
        ]
        .iter()
        .map(|render| render(&course))
        .collect();
        let copy = copy_of_lesson_3(8, "chat-again");
        let (summary, asks, runs) = (
            copy.summary.clone(),
            copy.check_asks.clone(),
            copy.serve_runs.clone(),
        );
        check_copied_chapter(&copy);
        course.push(copy);
        let after: Vec<Region> = [
            readme_list,
            introduction_list,
            summary_entries,
            check_table,
            serve_table,
        ]
        .iter()
        .map(|render| render(&course))
        .collect();
        let expected_new_lines = [
            format!("8. **[The chat, once more](book/src/lessons/08-chat-again.md)**: {summary}.\n"),
            format!("8. [The chat, once more](lessons/08-chat-again.md): {summary}.\n"),
            "- [Lesson 8: The chat, once more](lessons/08-chat-again.md)\n".to_owned(),
            format!("| 8 | 8.1 | {asks} |\n"),
            format!("| 8 | 8.1 | {runs} |\n"),
        ];
        for ((old, new), line) in before.iter().zip(&after).zip(expected_new_lines) {
            assert!(
                new.body.starts_with(&old.body),
                "{}: the old lines stay first",
                new.name
            );
            assert_eq!(&new.body[old.body.len()..], line, "{}: one new line", new.name);
        }
    }

    /// The copy's chapter, as the generator writes it from the copied folder (whose extras are
    /// lesson 3's), holds everything the book shows of a lesson, and names only the copy.
    fn check_copied_chapter(copy: &Lesson) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let extras = Extras::read(root, "03-chat").expect("lesson 3's book.toml reads");
        let text = chapter(copy, &extras).expect("the copy's chapter renders");
        assert_eq!(chapter_path(copy), "lessons/08-chat-again.md");
        assert!(text.starts_with("# Lesson 8: The chat, once more\n"), "{text}");
        let mut wanted = vec![
            "{{#include ../../../lessons/08-chat-again/intro.md}}".to_owned(),
            "realtime-tutor lesson 8\n".to_owned(),
            "{{#include ../../../snapshots/lesson-8-summary.snap:4:}}".to_owned(),
            "{{#include ../../../lessons/08-chat-again/exercise.md}}".to_owned(),
        ];
        for stage in &copy.stages {
            let k = stage.number;
            wanted.extend([
                format!("## Stage 8.{k}: {}\n", stage.title),
                format!("{{{{#include ../../../lessons/08-chat-again/stage-{k}.md}}}}"),
                format!("{{{{#include ../../../lessons/08-chat-again/stage-{k}.js}}}}"),
                format!("{{{{#include ../../../snapshots/lesson-8-stage-{k}.snap:4:}}}}"),
                format!("{{{{#include ../diagrams/lesson-8-stage-{k}.svg}}}}"),
                format!("(`realtime-tutor lesson 8 --stage {k} --svg FILE`)"),
            ]);
            wanted.extend(
                stage
                    .rust
                    .iter()
                    .map(|r| format!("{{{{#include ../../../{}:{}}}}}", r.path, r.anchor)),
            );
        }
        for want in wanted {
            assert!(text.contains(&want), "the copy's chapter lacks {want:?}:\n{text}");
        }
        for stale in ["03-chat", "lesson-3-", "Lesson 3", "lesson 3"] {
            assert!(
                !text.contains(stale),
                "the copy's chapter names {stale:?}:\n{text}"
            );
        }
    }

    #[test]
    fn every_lesson_has_one_line_in_each_list() {
        let course = lessons();
        for region in [
            readme_list(course),
            introduction_list(course),
            summary_entries(course),
        ] {
            assert_eq!(region.body.lines().count(), course.len(), "{}", region.body);
        }
        for region in [check_table(course), serve_table(course)] {
            assert_eq!(region.body.lines().count(), course.len() + 2, "{}", region.body);
        }
    }
}
