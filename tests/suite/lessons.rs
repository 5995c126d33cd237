//! The lesson data is valid, and everything it points to exists.

use std::path::Path;

use crate::common::lessons;

#[test]
fn lessons_load_and_are_numbered_in_order() {
    let lessons = lessons();
    let folders = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons"))
        .expect("the lessons folder")
        .count();
    assert_eq!(lessons.len(), folders, "every folder is a lesson");
    for (i, lesson) in lessons.iter().enumerate() {
        assert_eq!(lesson.number as usize, i + 1);
        assert!(!lesson.intro.trim().is_empty() && !lesson.exercise.trim().is_empty());
        // The command is made from the lesson's data, so a copied folder names itself.
        assert!(
            !lesson.exercise.contains("realtime-tutor check"),
            "{}: exercise.md names a check command; the tutor adds it",
            lesson.folder
        );
        let command = format!(
            "realtime-tutor check {} --url http://127.0.0.1:3000",
            lesson.number
        );
        assert!(lesson.exercise_with_command().contains(&command));
        for stage in &lesson.stages {
            assert!(!stage.text.trim().is_empty() && !stage.node.trim().is_empty());
            for rust in &stage.rust {
                rust.code()
                    .unwrap_or_else(|e| panic!("{}.{}: {e}", lesson.number, stage.number));
            }
        }
    }
}

#[test]
fn every_stage_has_its_snapshot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for lesson in lessons() {
        for stage in &lesson.stages {
            let snap = root.join(format!(
                "snapshots/lesson-{}-stage-{}.snap",
                lesson.number, stage.number
            ));
            assert!(snap.is_file(), "missing {}", snap.display());
        }
    }
}

#[test]
fn broken_lesson_data_is_refused_with_a_reason() {
    use realtime_tutor::lesson::{Lesson, LessonError};
    let read = |name: &str| -> Result<String, LessonError> { Ok(format!("text of {name}")) };
    let good = "format_version = 2\nnumber = 9\nslug = \"x\"\ntitle = \"t\"\nsummary = \"s\"\ncheck_asks = \"c\"\nserve_runs = \"r\"\ncheck_stage = 1\n\
                [[stage]]\ntitle = \"s\"\nmount = \"realtime\"\nrust = []\n\
                [[stage.step]]\nconnect = \"alice\"\n";
    assert!(Lesson::parse("09-x", good, &read).is_ok());
    let chat = good.replace(
        "mount = \"realtime\"",
        "mount = \"realtime\"\nhandlers = { \"chat message\" = \"io-emit-chat\" }",
    );
    let rooms = good.replace(
        "mount = \"realtime\"",
        "mount = \"realtime\"\nrooms = [\"a\"]\nhandlers = { join = \"join\" }",
    );
    let cases = [
        (
            good.replace("format_version = 2", "format_version = 1"),
            "format_version 1",
        ),
        (
            format!("{chat}[[stage.step]]\nemit = \"alice\"\nargs = [\"hi\"]\n"),
            "needs expect_received_by",
        ),
        (
            good.replace(
                "mount = \"realtime\"",
                "mount = \"realtime\"\nhandlers = { connection = \"broadcast-hi\" }",
            ),
            "needs expect_received_by",
        ),
        (
            good.replace(
                "connect = \"alice\"",
                "connect = \"alice\"\nexpect_received_by = [\"alice\"]",
            ),
            "whose server sends nothing",
        ),
        (
            good.replace("connect = \"alice\"", "connect = \"alice\"\npath = \"/\""),
            "`path` does not belong to a connect step",
        ),
        (
            format!(
                "{chat}[[stage.step]]\nemit = \"alice\"\nevent = \"disconnect\"\nexpect_received_by = []\n"
            ),
            "`disconnect` is reserved",
        ),
        (
            good.replace("connect = \"alice\"", "emit = \"bob\""),
            "bob is not connected",
        ),
        (
            good.replace("check_stage = 1", "check_stage = 4"),
            "check_stage 4",
        ),
        (
            good.replace("mount = \"realtime\"", "mount = \"warp\""),
            "unknown variant",
        ),
        (
            good.replace("rust = []", "rust = [\"src/server/app.rs:nope\"]"),
            "ANCHOR: nope",
        ),
        (
            good.replace("connect = \"alice\"", "conect = \"alice\""),
            "unknown field",
        ),
        // The handlers are checked against the registry, and every step against the handlers.
        (
            good.replace(
                "mount = \"realtime\"",
                "mount = \"realtime\"\nhandlers = { \"chat message\" = \"io-emitt-chat\" }",
            ),
            "stage 1: handlers: no handler is called \"io-emitt-chat\"",
        ),
        (
            good.replace(
                "mount = \"realtime\"",
                "mount = \"realtime\"\nhandlers = { connection = \"io-emit-chat\" }",
            ),
            "answers socket.on('chat message'), not io.on('connection')",
        ),
        (
            format!("{good}[[stage.step]]\nemit = \"alice\"\nargs = [\"hi\"]\nexpect_received_by = []\n"),
            "stage 1: step 2: no handler of this stage answers 'chat message' (it answers: no event at all)",
        ),
        (
            format!("{chat}[[stage.step]]\nemit = \"alice\"\nevent = \"join\"\nargs = [\"a\"]\n"),
            "no handler of this stage answers 'join' (it answers: 'chat message')",
        ),
        (
            format!("{rooms}[[stage.step]]\nemit = \"alice\"\nevent = \"join\"\nargs = [\"c\"]\n"),
            "step 2: room 'c' is not declared",
        ),
        (
            format!("{rooms}[[stage.step]]\nemit = \"alice\"\nevent = \"join\"\nargs = [7]\n"),
            "argument 1 should be a room name (a string), not 7",
        ),
        (
            format!(
                "{chat}[[stage.step]]\nemit = \"alice\"\nargs = [\"hi\"]\nack = true\nexpect_received_by = [\"alice\"]\n"
            ),
            "never calls the callback",
        ),
    ];
    for (toml, needle) in cases {
        let err = Lesson::parse("09-x", &toml, &read).expect_err(needle).to_string();
        assert!(err.contains(needle), "{err:?} should mention {needle:?}");
    }
    let err = Lesson::parse("07-y", good, &read).unwrap_err().to_string();
    assert!(err.contains("09-x"), "{err}");
}
