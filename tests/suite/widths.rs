//! Every line the tutor prints fits 80 columns when its output is not a terminal: the lessons
//! (with and without `--wire`), `list`, and `check`'s verdicts, run through the binary as a
//! learner would pipe them.
//!
//! Widths are counted as a terminal draws them, not in bytes: `✓`, `✗`, `▸` and `→` are one
//! column each, though each is three bytes of UTF-8.

use std::process::Command;

use realtime_tutor::server::StageServer;
use realtime_tutor::ui::PIPED_WIDTH;

use crate::common::{COMMAND_LIMIT, lessons, run_bounded, runtime};

/// Runs the tutor with its output piped, no colour, and a private progress folder; returns
/// its standard output, after checking that it succeeded (`expect_code`).
fn piped(args: &[&str], expect_code: i32) -> String {
    let home = tempfile::tempdir().expect("a temporary folder");
    let out = run_bounded(
        Command::new(env!("CARGO_BIN_EXE_realtime-tutor"))
            .args(args)
            .args(["--color", "never"])
            .env("REALTIME_TUTOR_HOME", home.path())
            .env_remove("CLICOLOR_FORCE")
            .env_remove("COLUMNS"),
        COMMAND_LIMIT,
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(expect_code),
        "{args:?}:\n{stdout}\n--- stderr\n{stderr}"
    );
    stdout
}

/// The lines of `text` wider than [`PIPED_WIDTH`] columns, each with its width, for a failure
/// message that shows them all.
fn too_wide(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| (textwrap::core::display_width(line), line))
        .filter(|(width, _)| *width > PIPED_WIDTH)
        .map(|(width, line)| format!("{width:>3} │{line}"))
        .collect()
}

fn assert_fits(what: &str, text: &str) {
    assert!(!text.trim().is_empty(), "{what} printed nothing");
    let wide = too_wide(text);
    assert!(
        wide.is_empty(),
        "{what}: {} lines are wider than {PIPED_WIDTH} columns:\n{}",
        wide.len(),
        wide.join("\n")
    );
}

#[test]
fn the_measure_counts_columns_not_bytes() {
    let marks = "✓ ✗ ▸ → ━ · ↩ ←";
    assert_eq!(textwrap::core::display_width(marks), 15);
    assert!(marks.len() > 15);
    let line = "x".repeat(PIPED_WIDTH - 1) + "✓";
    assert!(too_wide(&line).is_empty());
    assert_eq!(too_wide(&format!("{line}✓")).len(), 1);
}

#[test]
fn every_lesson_fits_80_columns_when_piped() {
    for lesson in lessons() {
        let n = lesson.number.to_string();
        let text = piped(&["lesson", &n, "--no-pause"], 0);
        assert_fits(&format!("lesson {n}"), &text);
        let wire = piped(&["lesson", &n, "--no-pause", "--wire"], 0);
        assert_fits(&format!("lesson {n} --wire"), &wire);
    }
}

#[test]
fn the_tour_and_the_list_fit_80_columns_when_piped() {
    let tour = piped(&["tour", "--no-pause"], 0);
    // The tour is every lesson, one after another: each one's banner is there.
    for lesson in lessons() {
        assert!(
            tour.contains(&format!("Lesson {}", lesson.number)),
            "lesson {} is missing from the tour",
            lesson.number
        );
    }
    assert_fits("tour", &tour);
    assert_fits("list", &piped(&["list"], 0));
}

/// `check` against each lesson's own server (where the lesson's check stage is one plain
/// server), against a server that does something else, and against nothing at all: PASS and
/// FAIL verdicts, with their findings and likely mistakes, all fit.
#[test]
fn check_verdicts_fit_80_columns_when_piped() {
    let rt = runtime();
    let start = |stage: &realtime_tutor::lesson::Stage| {
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            StageServer::start(stage.mount, stage.behaviour.clone(), Some(listener)).unwrap()
        })
    };
    // Lesson 3's second stage broadcasts (the sender is left out), which is wrong for every
    // lesson that checks a chat: a verdict with findings and a likely mistake.
    let lesson_3 = lessons().iter().find(|l| l.number == 3).expect("lesson 3");
    let wrong = start(&lesson_3.stages[1]);
    let wrong_url = format!("http://{}", wrong.addr().unwrap());
    let nothing_url = {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", free.local_addr().unwrap())
    };
    let mut passed = 0;
    for lesson in lessons() {
        let n = lesson.number.to_string();
        let stage = lesson.check();
        if stage.nodes.is_empty() && !stage.database {
            let server = start(stage);
            let url = format!("http://{}", server.addr().unwrap());
            let text = piped(&["check", &n, "--url", &url], 0);
            assert_fits(&format!("check {n} against its own server"), &text);
            rt.block_on(server.stop());
            passed += 1;
        }
        // A stage with several servers takes a --url for each.
        let mut args = vec!["check", n.as_str()];
        for _ in 0..stage.nodes.len().max(1) {
            args.extend(["--url", nothing_url.as_str()]);
        }
        let text = piped(&args, 1);
        assert_fits(&format!("check {n} against nothing"), &text);
        if lesson.number == 3 {
            let text = piped(&["check", &n, "--url", &wrong_url], 1);
            assert!(text.contains("FAIL"), "{text}");
            assert_fits(&format!("check {n} against a broadcasting server"), &text);
        }
    }
    assert!(
        passed >= 3,
        "only {passed} lessons could be checked against their own server"
    );
    rt.block_on(wrong.stop());
}
