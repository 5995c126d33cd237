//! Predict mode and progress, driven as a learner would: the tutor runs in a pseudo-terminal,
//! the test waits for each prompt's text (bounded) and presses keys.
//!
//! Every run gets its own `REALTIME_TUTOR_HOME` in a temporary folder, so no test reads or
//! writes the real progress file. No test sleeps: each step waits for text the tutor prints.

mod layout;
mod tty;

use std::path::{Path, PathBuf};
use std::process::Output;

use self::tty::{Tty, command};
use crate::common::run_bounded;

use self::tty::WAIT;

/// A run without a terminal: output captured, stdin empty.
fn piped(home: &Path, args: &[&str]) -> Output {
    run_bounded(&mut command(home, args), WAIT)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn progress(home: &Path) -> serde_json::Value {
    let path = home.join("progress.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("the progress file is JSON")
}

/// Requires that the saved progress marks `stage` done, with each `(step, right)` prediction
/// saved as judged.
fn assert_saved(saved: &serde_json::Value, stage: &str, predictions: &[(&str, bool)]) {
    assert_eq!(saved["stages"][stage]["done"], true, "{stage}: {saved}");
    for (step, right) in predictions {
        assert_eq!(
            saved["stages"][stage]["predictions"][step]["right"], *right,
            "{stage}, step {step}: {saved}"
        );
    }
}

/// The entry of `list` that names `stage` (`"2.1  "` and so on): its line, and the line under
/// it that holds its status when both did not fit on one, joined.
fn listed_line(listed: &str, stage: &str) -> String {
    let lines: Vec<&str> = listed.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(stage))
        .unwrap_or_else(|| panic!("no line with {stage:?} in:\n{listed}"));
    let mut entry = lines[at].to_owned();
    // A status moved under its title starts deeper than the stage numbers do.
    if let Some(next) = lines.get(at + 1)
        && next.starts_with("            ")
    {
        entry = format!("{}  {}", entry.trim_end(), next.trim_start());
    }
    entry
}

fn home() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let home = dir.path().join("home");
    (dir, home)
}

#[test]
fn a_right_and_a_wrong_prediction_are_judged_against_the_trace_and_saved() {
    let (_dir, home) = home();
    let mut tty = Tty::spawn(&home, &["lesson", "2", "--predict"]);

    // Stage 2.1, io.emit: everyone hears it, the newcomer included.
    tty.wait_for("bob connects and the server runs io.emit('hello', 'world'). Who receives it?");
    tty.wait_for("> [ ] alice");
    tty.choose(&[("alice", true), ("bob (the newcomer)", true)]);
    let verdict = tty.wait_for("Why:");
    assert!(
        verdict.contains("Your prediction: 2 of 2 clients right"),
        "{verdict}"
    );
    tty.wait_for("Who receives it?");
    tty.wait_for("> [ ] alice");
    tty.choose(&[
        ("alice", true),
        ("bob", true),
        ("carol", true),
        ("dave (the newcomer)", true),
    ]);
    tty.wait_for("Stage 2.1 done · 2 of 2 questions right");
    tty.wait_for("Continue with stage 2.2");
    // Enter twice, as a hurried learner might: the second one must not answer the next
    // question before it is shown.
    tty.press("\r\r");

    // Step 2: bob joins; a broadcast from his socket reaches alice only. Predict exactly that.
    tty.wait_for("bob connects and the server runs socket.broadcast.emit('hi'). Who receives it?");
    tty.wait_for("> [ ] alice");
    tty.choose(&[("alice", true), ("bob (the newcomer)", false)]);
    let answered = tty.wait_for("You predicted: alice");
    assert!(
        !answered.contains("You predicted: nobody"),
        "a typed-ahead key answered: {answered}"
    );
    let verdict = tty.wait_for("Why:");
    assert!(
        verdict.contains("Your prediction: 2 of 2 clients right"),
        "{verdict}"
    );
    assert!(
        verdict.contains("alice  ✓ right  received it, as you predicted"),
        "{verdict}"
    );
    assert!(
        verdict.contains("bob    ✓ right  did not receive it, as you predicted"),
        "{verdict}"
    );
    // The trace line was printed before the verdict, as observed.
    assert!(
        verdict.contains("bob    ✗ nothing   ← the newcomer: a broadcast skips it"),
        "{verdict}"
    );

    // Step 4: dave joins. Predict the common mistake: that dave hears his own 'hi'.
    tty.wait_for("Does dave receive the 'hi' his own connection triggered?");
    tty.wait_for("> [ ] alice");
    tty.choose(&[
        ("alice", true),
        ("bob", true),
        ("carol", true),
        ("dave (the newcomer)", true),
    ]);
    tty.wait_for("You predicted: alice, bob, carol, dave");
    let verdict = tty.wait_for("Why: socket.broadcast starts from dave's socket");
    assert!(
        verdict.contains("Your prediction: 3 of 4 clients right"),
        "{verdict}"
    );
    assert!(
        verdict.contains("dave   ✗ wrong  did not receive it, but you predicted it would"),
        "{verdict}"
    );
    tty.wait_for("Stage 2.2 done · 1 of 2 questions right");
    // What next: the lesson's exercise and the command that checks it.
    tty.wait_for("What next");
    tty.wait_for("realtime-tutor check 2 --url http://127.0.0.1:3000");
    let (code, _) = tty.finish();
    assert_eq!(code, 0);

    let saved = progress(&home);
    assert_eq!(saved["format_version"], 1);
    assert_saved(&saved, "2.2", &[("2", true), ("4", false)]);
    assert_saved(&saved, "2.1", &[]);
    assert!(
        saved["stages"].get("1.1").is_none(),
        "only the lesson played: {saved}"
    );

    let list = piped(&home, &["list"]);
    let listed = text(&list.stdout);
    assert!(list.status.success(), "{}", text(&list.stderr));
    let line = listed_line(&listed, "2.2  socket.broadcast.emit: everyone but the newcomer");
    assert!(line.ends_with("✓ done · 1 of 2 questions right"), "{line}");
    let line = listed_line(&listed, "2.1  ");
    assert!(line.ends_with("✓ done · 2 of 2 questions right"), "{line}");
    let line = listed_line(&listed, "1.1  ");
    assert!(line.ends_with("· pending"), "{line}");
    assert!(
        listed.contains(&format!(
            "Done: 2 of {} stages · questions answered right: 3 of 4",
            stage_count()
        )),
        "{listed}"
    );
}

#[test]
fn quitting_mid_lesson_keeps_the_answers_and_the_next_run_resumes_there() {
    let (_dir, home) = home();
    let mut tty = Tty::spawn(&home, &[]);
    tty.wait_for("Welcome.");
    let before = tty.wait_for("A Socket.IO client tries to connect to the app. Does it get in?");
    assert!(before.contains("Stage 1.1 · The app alone (1 of 3)"), "{before}");
    tty.wait_for("Your prediction");
    tty.press("n");
    let verdict = tty.wait_for("Why:");
    assert!(
        verdict.contains("✓ right  you said no, and it did not (connection refused"),
        "{verdict}"
    );
    tty.wait_for("Stage 1.1 done · 1 of 1 question right");
    tty.wait_for("Continue with stage 1.2");
    tty.press("\r");
    tty.wait_for("Stage 1.2 · The app inside an HTTP server (2 of 3)");
    tty.wait_for("Does it connect?");
    tty.wait_for("Your prediction");
    tty.press("q");
    tty.wait_for("Stopped. Your progress is saved. Run `realtime-tutor` to pick up at stage 1.2.");
    let (code, _) = tty.finish();
    assert_eq!(code, 0, "quitting is the learner's choice, not a failure");

    let saved = progress(&home);
    assert_saved(&saved, "1.1", &[("2", true)]);
    assert!(
        saved["stages"].get("1.2").is_none(),
        "1.2 was left mid-way: {saved}"
    );

    // The next run starts at the first unfinished stage, 1.2, not at the beginning.
    let mut tty = Tty::spawn(&home, &[]);
    let start = tty.wait_for("Welcome back: continuing at stage 1.2.");
    assert!(!start.contains("Stage 1.1"), "{start}");
    let before = tty.wait_for("Does it connect?");
    assert!(
        before.contains("Stage 1.2 · The app inside an HTTP server (2 of 3)"),
        "{before}"
    );
    assert!(!before.contains("Stage 1.1"), "{before}");
    tty.wait_for("Your prediction");
    tty.press("y");
    let verdict = tty.wait_for("Why:");
    assert!(
        verdict.contains("✗ wrong  you said yes, but it did not (404 Not Found"),
        "{verdict}"
    );
    tty.wait_for("Continue with stage 1.3");
    tty.press("n");
    tty.wait_for("pick up at stage 1.3");
    let (code, _) = tty.finish();
    assert_eq!(code, 0);
    let saved = progress(&home);
    assert_saved(&saved, "1.2", &[("2", false)]);
}

#[test]
fn ctrl_c_at_a_prompt_restores_the_cursor_and_exits_130() {
    let (_dir, home) = home();
    let mut tty = Tty::spawn(&home, &["lesson", "3", "--predict"]);
    tty.wait_for("Does alice receive her own message?");
    tty.wait_for("> [ ] alice");
    tty.press("\x03");
    let end = tty.wait_for("Stopped. Everything answered so far is saved");
    assert!(end.contains("\x1b[?25h"), "the cursor is shown again: {end:?}");
    let (code, _) = tty.finish();
    assert_eq!(code, 130);
}

#[test]
fn no_pause_never_prompts_and_counts_what_a_terminal_showed() {
    let (_dir, home) = home();
    // Nothing is typed: the run has to end on its own.
    let mut tty = Tty::spawn(&home, &["lesson", "3", "--no-pause"]);
    tty.wait_for("What next");
    let (code, rest) = tty.finish();
    assert_eq!(code, 0);
    assert!(!rest.contains("Your prediction"), "{rest}");
    let saved = progress(&home);
    for stage in ["3.1", "3.2"] {
        assert_saved(&saved, stage, &[]);
        assert!(saved["stages"][stage].get("predictions").is_none(), "{saved}");
    }

    // Output that goes to a pipe, or JSON, is not a person watching: no progress is written.
    let (_dir, home) = self::home();
    for args in [&["lesson", "2", "--no-pause"][..], &["tour", "--format", "json"]] {
        let out = piped(&home, args);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    assert!(!home.join("progress.json").exists());
}

#[test]
fn without_a_terminal_predict_mode_refuses_with_a_way_forward() {
    let (_dir, home) = home();
    let cases: [(&[&str], &[&str]); 4] = [
        (
            &["lesson", "2", "--predict"],
            &["needs a terminal", "stdin", "realtime-tutor lesson 2 --no-pause"],
        ),
        (
            &[],
            &[
                "predict mode",
                "needs a terminal",
                "realtime-tutor tour --no-pause",
                "--help",
            ],
        ),
        (
            &["lesson", "2", "--predict", "--format", "json"],
            &["cannot be combined with --format json"],
        ),
        (
            &["lesson", "2", "--predict", "--no-pause"],
            &["cannot be used with"],
        ),
    ];
    for (args, needles) in cases {
        let out = piped(&home, args);
        let err = crate::common::unwrapped(&text(&out.stderr));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?} printed: {}", text(&out.stdout));
        assert!(!err.contains("panicked"), "{err}");
        for needle in needles {
            assert!(
                err.contains(needle),
                "{args:?}: {err:?} should mention {needle:?}"
            );
        }
    }
    assert!(!home.exists(), "refusing writes nothing");
}

#[test]
fn a_damaged_progress_file_is_named_with_the_way_out_and_reset_clears_it() {
    let (_dir, home) = home();
    std::fs::create_dir_all(&home).unwrap();
    let file = home.join("progress.json");
    std::fs::write(&file, "{\"format_version\": 1, \"stages\": {\"1.1\": tru").unwrap();
    let shown = file.display().to_string();

    let out = piped(&home, &["list"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&shown) && err.contains("is damaged"), "{err}");
    assert!(
        err.contains("realtime-tutor reset") && err.contains("delete that file"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    // Predict mode reports it before asking anything, and leaves the file alone.
    let mut tty = Tty::spawn(&home, &[]);
    tty.wait_for("is damaged");
    let (code, rest) = tty.finish();
    assert_eq!(code, 1);
    assert!(!rest.contains("Your prediction"), "{rest}");
    assert!(file.exists());

    // reset cannot ask without a terminal, and says how to go ahead anyway.
    let out = piped(&home, &["reset"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("realtime-tutor reset --yes"));
    assert!(file.exists());

    let out = piped(&home, &["reset", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!file.exists());
    let out = piped(&home, &["list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&format!("Done: 0 of {} stages", stage_count())));
}

#[test]
fn reset_asks_before_forgetting() {
    let (_dir, home) = home();
    std::fs::create_dir_all(&home).unwrap();
    let file = home.join("progress.json");
    std::fs::write(
        &file,
        r#"{"format_version": 1, "stages": {"1.1": {"done": true}}}"#,
    )
    .unwrap();

    let mut tty = Tty::spawn(&home, &["reset"]);
    tty.wait_for("This forgets every finished stage and prediction score");
    tty.wait_for("Forget your progress?");
    tty.press("n");
    tty.wait_for("Kept your progress.");
    assert_eq!(tty.finish().0, 0);
    assert!(file.exists());

    let mut tty = Tty::spawn(&home, &["reset"]);
    tty.wait_for("This forgets every finished stage and prediction score");
    tty.wait_for("Forget your progress?");
    tty.press("y");
    tty.wait_for("Progress reset");
    assert_eq!(tty.finish().0, 0);
    assert!(!file.exists());
}

#[test]
fn every_lesson_asks_about_a_misconception_and_explains_the_answer() {
    use realtime_tutor::lesson::StepKind;
    for lesson in crate::common::lessons() {
        let asked: Vec<_> = lesson
            .stages
            .iter()
            .flat_map(|s| s.steps.iter())
            .filter(|s| s.question.is_some())
            .collect();
        assert!(!asked.is_empty(), "lesson {} asks nothing", lesson.number);
        for step in asked {
            assert!(step.why.as_deref().is_some_and(|w| !w.trim().is_empty()));
            assert!(!matches!(step.kind, StepKind::Burst { .. }));
        }
    }
    // The three misconceptions the lessons exist for each have their question.
    let questions: Vec<String> = crate::common::lessons()
        .iter()
        .flat_map(|l| l.stages.iter().flat_map(|s| s.steps.iter()))
        .filter_map(|s| s.question.clone())
        .collect();
    for topic in [
        "io.emit('hello', 'world'). Who receives it?",
        "Does dave receive the 'hi' his own connection triggered?",
        "Does alice see her own message come back?",
    ] {
        assert!(
            questions.iter().any(|q| q.contains(topic)),
            "no question on {topic:?}"
        );
    }
}

#[test]
fn questions_the_tutor_cannot_ask_are_refused_when_lessons_load() {
    use realtime_tutor::lesson::{Lesson, LessonError};
    let read = |name: &str| -> Result<String, LessonError> { Ok(format!("text of {name}")) };
    let lesson = |on_connection: &str, step: &str| {
        // A server that emits on connection makes every connect step a delivery step, and those
        // must say who should receive it.
        let (first, second) = if on_connection.is_empty() {
            ("", "")
        } else {
            (
                "expect_received_by = [\"alice\"]\n",
                "expect_received_by = [\"alice\", \"bob\"]\n",
            )
        };
        format!(
            "format_version = 2\nnumber = 9\nslug = \"x\"\ntitle = \"t\"\nsummary = \"s\"\ncheck_asks = \"c\"\nserve_runs = \"r\"\ncheck_stage = 1\n\
             [[stage]]\ntitle = \"s\"\nmount = \"realtime\"\n{on_connection}rust = []\n\
             [[stage.step]]\nconnect = \"alice\"\n{first}[[stage.step]]\nconnect = \"bob\"\n{second}{step}"
        )
    };
    let good = lesson(
        "handlers = { connection = \"io-emit-hello\" }\n",
        "question = \"who?\"\nwhy = \"all\"\n",
    );
    assert!(Lesson::parse("09-x", &good, &read).is_ok());
    let cases = [
        (
            lesson(
                "handlers = { connection = \"io-emit-hello\" }\n",
                "question = \"who?\"\n",
            ),
            "a question needs a why",
        ),
        (
            lesson("", "question = \"who?\"\nwhy = \"nobody\"\n"),
            "needs a connection handler that emits",
        ),
        (
            lesson(
                "",
                "[[stage.step]]\nburst = [{ from = \"alice\", args = [1] }, { from = \"bob\", args = [2] }]\n\
                 expect_received_by = []\nquestion = \"order?\"\nwhy = \"one at a time\"\n",
            ),
            "a burst cannot carry a question",
        ),
    ];
    for (toml, needle) in cases {
        let err = Lesson::parse("09-x", &toml, &read).expect_err(needle).to_string();
        assert!(err.contains(needle), "{err:?} should mention {needle:?}");
    }
}

/// How many stages the lessons have, all together (it grows with every lesson).
fn stage_count() -> usize {
    crate::common::lessons().iter().map(|l| l.stages.len()).sum()
}
