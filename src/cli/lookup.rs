//! Finding a lesson and its stages by number: the one look-up every command uses, with one
//! message that lists what there is when the number is wrong.
//!
//! clap checks a lesson number as it parses the command line ([`parse_lesson`]), so a command
//! that looks its lesson up again finds it; should it not, it says the same thing clap would.

use super::UsageError;
use crate::lesson::{Lesson, Stage};

/// Loads the embedded lessons. They are validated by the test suite, so a failure here means a
/// broken build, reported rather than panicked on.
pub fn load_lessons() -> anyhow::Result<Vec<Lesson>> {
    Ok(crate::lesson::all()?)
}

/// Finds lesson `number`, or says which lessons there are.
pub fn lesson(lessons: &[Lesson], number: u32) -> Result<&Lesson, UsageError> {
    named(lessons, &number.to_string())
}

/// Finds the lesson `text` names, as someone typed it: `2`, or `02`.
fn named<'a>(lessons: &'a [Lesson], text: &str) -> Result<&'a Lesson, UsageError> {
    let number = text.parse::<u32>().ok();
    lessons.iter().find(|l| Some(l.number) == number).ok_or_else(|| {
        UsageError(format!(
            "there is no lesson {text:?}\nThe lessons are:\n{}",
            menu(lessons)
        ))
    })
}

/// A place in the course as the command line names it: lesson `2`, or stage `2.2` (the way
/// `realtime-tutor list` numbers stages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub lesson: u32,
    pub stage: Option<u32>,
}

impl Place {
    /// Finds `2` or `2.2`: the lesson must exist, and so must the stage if one is named. Both
    /// are checked here, as clap parses, so a wrong number is a usage error before anything runs.
    pub fn find(lessons: &[Lesson], text: &str) -> Result<Place, UsageError> {
        let Some((lesson, stage)) = text.split_once('.') else {
            return named(lessons, text).map(|l| Place {
                lesson: l.number,
                stage: None,
            });
        };
        let well_formed = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !well_formed(lesson) || !well_formed(stage) {
            return Err(UsageError(format!(
                "{text:?} is neither a lesson nor a stage\n\
                 Write a lesson as N, a stage as N.K: 2 or 2.2 (see `realtime-tutor list`)"
            )));
        }
        let lesson = named(lessons, lesson)?;
        let stage = parse_stage(stage).map_err(UsageError)?;
        let (_, found) = pick(lessons, lesson.number, Some(stage))?;
        Ok(Place {
            lesson: lesson.number,
            stage: found.first().map(|s| s.number),
        })
    }
}

/// Finds lesson `number` and either all its stages or stage `stage`; a usage error otherwise.
pub fn pick(
    lessons: &[Lesson],
    number: u32,
    stage: Option<u32>,
) -> Result<(&Lesson, Vec<&Stage>), UsageError> {
    let lesson = lesson(lessons, number)?;
    let stages: Vec<&Stage> = match stage {
        None => lesson.stages.iter().collect(),
        Some(k) => {
            let found = lesson.stages.iter().find(|s| s.number == k).ok_or_else(|| {
                let menu: Vec<String> = lesson
                    .stages
                    .iter()
                    .map(|s| format!("  {number}.{}  {}", s.number, s.title))
                    .collect();
                UsageError(format!(
                    "lesson {number} has no stage {k}\nIts stages are:\n{}",
                    menu.join("\n")
                ))
            })?;
            vec![found]
        }
    };
    Ok((lesson, stages))
}

/// The lessons, one a line (`  2  io.emit versus socket.broadcast.emit`), for error messages:
/// one line for all of them would run far past 80 columns.
fn menu(lessons: &[Lesson]) -> String {
    lessons
        .iter()
        .map(|l| format!("  {}  {}", l.number, l.title))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Stages are checked against their lesson later; here only the form is.
pub fn parse_stage(text: &str) -> Result<u32, String> {
    text.parse::<u32>()
        .map_err(|_| format!("a stage is a number, like 1 or 2, not {text:?}"))
}

/// A lesson number on the command line: one of the lessons, or the look-up's message. A stage
/// (`2.2`) is told apart, for the commands that take a whole lesson (`check`, `serve`).
pub fn parse_lesson(text: &str) -> Result<u32, String> {
    let lessons = crate::lesson::all().map_err(|e| e.to_string())?;
    match Place::find(&lessons, text).map_err(|e| e.0)? {
        Place { lesson, stage: None } => Ok(lesson),
        Place {
            lesson,
            stage: Some(_),
        } => Err(format!(
            "{text:?} is a stage\nThis command takes a whole lesson: {lesson}"
        )),
    }
}

/// A lesson or a stage on the command line (`2`, `2.2`), as `lesson` and `tour --from` take it.
pub fn parse_place(text: &str) -> Result<Place, String> {
    let lessons = crate::lesson::all().map_err(|e| e.to_string())?;
    Place::find(&lessons, text).map_err(|e| e.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_number_is_told_with_the_lessons_there_are() {
        let lessons = load_lessons().unwrap();
        for asked in ["99", "0", "two", "-1", ""] {
            let error = parse_lesson(asked).unwrap_err();
            assert!(
                error.starts_with(&format!("there is no lesson {asked:?}\nThe lessons are:\n  1  ")),
                "{error}"
            );
            assert!(error.contains(&format!("\n  {}  {}", lessons[1].number, lessons[1].title)));
            assert!(error.lines().all(|l| l.chars().count() <= 80), "{error}");
        }
        // The look-up by number says exactly what the command line says.
        assert_eq!(
            lesson(&lessons, 99).unwrap_err().0,
            parse_lesson("99").unwrap_err()
        );
        assert_eq!(parse_lesson("02"), Ok(2));
        assert_eq!(lesson(&lessons, 2).unwrap().number, 2);
    }

    #[test]
    fn a_wrong_stage_is_told_with_the_stages_of_its_lesson() {
        let lessons = load_lessons().unwrap();
        let error = pick(&lessons, 2, Some(42)).unwrap_err().0;
        assert!(
            error.starts_with("lesson 2 has no stage 42\nIts stages are:\n  2.1  "),
            "{error}"
        );
        let (_, all) = pick(&lessons, 2, None).unwrap();
        assert_eq!(all.len(), lessons[1].stages.len());
        let (_, one) = pick(&lessons, 2, Some(2)).unwrap();
        assert_eq!(one.iter().map(|s| s.number).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn a_place_is_a_lesson_or_one_of_its_stages() {
        let place = |lesson, stage| Ok(Place { lesson, stage });
        assert_eq!(parse_place("2"), place(2, None));
        assert_eq!(parse_place("2.2"), place(2, Some(2)));
        assert_eq!(parse_place("07.01"), place(7, Some(1)));
        let lessons = load_lessons().unwrap();
        // A stage that does not exist is told as `--stage` tells it.
        assert_eq!(
            parse_place("2.42").unwrap_err(),
            pick(&lessons, 2, Some(42)).unwrap_err().0
        );
        assert!(
            parse_place("99.1")
                .unwrap_err()
                .starts_with("there is no lesson \"99\"")
        );
        for malformed in ["2.", ".2", "2.2.2", "2.x", "2,2", "2.-1"] {
            let error = parse_place(malformed).unwrap_err();
            assert!(
                error.starts_with(&format!("{malformed:?} is neither a lesson nor a stage"))
                    || error.starts_with(&format!("there is no lesson {malformed:?}")),
                "{malformed}: {error}"
            );
        }
        // A command that takes a whole lesson says so when given a stage.
        assert_eq!(
            parse_lesson("2.2").unwrap_err(),
            "\"2.2\" is a stage\nThis command takes a whole lesson: 2"
        );
    }
}
