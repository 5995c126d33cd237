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
            "there is no lesson {text:?}; the lessons are {}",
            menu(lessons)
        ))
    })
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
                    .map(|s| format!("{} ({})", s.number, s.title))
                    .collect();
                UsageError(format!(
                    "lesson {number} has no stage {k}; its stages are {}",
                    menu.join(", ")
                ))
            })?;
            vec![found]
        }
    };
    Ok((lesson, stages))
}

/// A one-line list of the lessons, for error messages.
fn menu(lessons: &[Lesson]) -> String {
    lessons
        .iter()
        .map(|l| format!("{} ({})", l.number, l.title))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Stages are checked against their lesson later; here only the form is.
pub fn parse_stage(text: &str) -> Result<u32, String> {
    text.parse::<u32>()
        .map_err(|_| format!("a stage is a number, like 1 or 2 (see `realtime-tutor list`), not {text:?}"))
}

/// A lesson number on the command line: one of the lessons, or the look-up's message.
pub fn parse_lesson(text: &str) -> Result<u32, String> {
    let lessons = crate::lesson::all().map_err(|e| e.to_string())?;
    named(&lessons, text).map(|l| l.number).map_err(|e| e.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_number_is_told_with_the_lessons_there_are() {
        let lessons = load_lessons().unwrap();
        for asked in ["9", "0", "two", "-1", ""] {
            let error = parse_lesson(asked).unwrap_err();
            assert!(
                error.starts_with(&format!("there is no lesson {asked:?}; the lessons are 1 (")),
                "{error}"
            );
            assert!(error.contains(&format!("{} ({})", lessons[1].number, lessons[1].title)));
        }
        // The look-up by number says exactly what the command line says.
        assert_eq!(lesson(&lessons, 9).unwrap_err().0, parse_lesson("9").unwrap_err());
        assert_eq!(parse_lesson("02"), Ok(2));
        assert_eq!(lesson(&lessons, 2).unwrap().number, 2);
    }

    #[test]
    fn a_wrong_stage_is_told_with_the_stages_of_its_lesson() {
        let lessons = load_lessons().unwrap();
        let error = pick(&lessons, 2, Some(42)).unwrap_err().0;
        assert!(
            error.starts_with("lesson 2 has no stage 42; its stages are 1 ("),
            "{error}"
        );
        let (_, all) = pick(&lessons, 2, None).unwrap();
        assert_eq!(all.len(), lessons[1].stages.len());
        let (_, one) = pick(&lessons, 2, Some(2)).unwrap();
        assert_eq!(one.iter().map(|s| s.number).collect::<Vec<_>>(), [2]);
    }
}
