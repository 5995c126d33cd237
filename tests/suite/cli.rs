//! The binary as a user runs it.

use std::process::{Command, Output};

use crate::common::measured::{mask_json, mask_text};
use crate::common::{COMMAND_LIMIT, lessons, run_bounded};

fn tutor(args: &[&str]) -> Output {
    run_bounded(
        Command::new(env!("CARGO_BIN_EXE_realtime-tutor"))
            .args(args)
            .env_remove("CLICOLOR_FORCE")
            .env("NO_COLOR", "1")
            .env(
                "REALTIME_TUTOR_HOME",
                concat!(env!("CARGO_TARGET_TMPDIR"), "/cli-progress"),
            ),
        COMMAND_LIMIT,
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn unknown_lessons_and_stages_are_usage_errors() {
    for args in [
        &["lesson", "99"][..],
        &["lesson", "abc"],
        &["lesson", "0"],
        &["lesson", "2", "--stage", "42"],
    ] {
        let out = tutor(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?} printed a trace");
        if args.len() == 2 {
            assert!(
                err.contains("\n  1  One port, two protocols\n")
                    && err.contains("\n  3  The chat broadcast\n"),
                "{err}"
            );
        } else {
            assert!(
                err.contains("lesson 2 has no stage 42") && err.contains("\n  2.2  socket.broadcast.emit"),
                "{err}"
            );
        }
        assert!(err.lines().all(|l| l.chars().count() <= 80), "{args:?}: {err}");
    }
}

#[test]
fn the_tour_is_identical_from_run_to_run_in_text_and_json() {
    for format in ["text", "json"] {
        let args = ["tour", "--no-pause", "--color", "never", "--format", format];
        let first = tutor(&args);
        assert!(first.status.success(), "{}", text(&first.stderr));
        let second = tutor(&args);
        // Lesson 10's times and memory vary from run to run; everything else must not.
        let mask = if format == "json" { mask_json } else { mask_text };
        assert_eq!(
            mask(&text(&first.stdout)),
            mask(&text(&second.stdout)),
            "{format}"
        );
        assert!(
            !text(&first.stdout).contains('\u{1b}'),
            "no colour codes with --color never"
        );
    }
}

#[test]
fn json_output_is_one_object_per_line() {
    let out = tutor(&["lesson", "2", "--format", "json"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 8, "four joins in each of two stages");
    for line in lines {
        let value: serde_json::Value = serde_json::from_str(line).expect("valid JSON");
        assert_eq!(value["lesson"], 2);
    }
}

#[test]
fn color_follows_the_flag() {
    let out = tutor(&["lesson", "2", "--stage", "2", "--color", "always"]);
    assert!(
        text(&out.stdout).contains('\u{1b}'),
        "--color always overrides NO_COLOR"
    );
    let out = run_bounded(
        Command::new(env!("CARGO_BIN_EXE_realtime-tutor"))
            .args(["lesson", "2", "--stage", "2"])
            .env("CLICOLOR_FORCE", "1")
            .env("NO_COLOR", "1"),
        COMMAND_LIMIT,
    );
    assert!(
        !text(&out.stdout).contains('\u{1b}'),
        "NO_COLOR wins over CLICOLOR_FORCE in auto mode"
    );
}

#[test]
fn wire_shows_handshake_and_labels_the_plumbing() {
    let out = tutor(&["lesson", "3", "--stage", "1", "--wire", "--color", "never"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains(r#"alice ← server  0{"sid":"#),
        "the Engine.IO OPEN packet:\n{stdout}"
    );
    assert!(stdout.contains("alice → server  40"), "the Socket.IO CONNECT");
    assert!(stdout.contains(r#"alice → server  42["chat message","hi everyone"]"#));
    assert!(stdout.contains(r#"bob   ← server  42["chat message","hi everyone"]"#));
    // The label follows its frame, on the frame's line or, when both do not fit 80 columns,
    // on the next one.
    let fence = r#"42["tutor:fence",4]"#;
    let after = stdout
        .split_once(fence)
        .map(|(_, rest)| rest.trim_start())
        .unwrap_or_default();
    assert!(
        after.starts_with("(tutor plumbing: fence, not part of the lesson)"),
        "{stdout}"
    );
}

#[test]
fn help_and_list_explain_themselves() {
    let out = tutor(&["--help"]);
    let help = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Each command is listed on a line of its own, with what it does (the word alone is also in
    // the usage and the closing paragraph, so finding it anywhere would prove nothing).
    // The help is wrapped at 80 columns: a long description goes on under its first line.
    for line in [
        "  list    List the lessons and their stages",
        "  lesson  Run one lesson, stage by stage",
        "  tour    Run all lessons in order",
        "  check   Check your own server: play lesson N's scenario against it and judge",
        "  serve   Run a lesson's server for your own browser, with a live trace, until",
    ] {
        assert!(help.lines().any(|l| l == line), "{line:?} missing in:\n{help}");
    }
    let out = tutor(&["list"]);
    let list = text(&out.stdout);
    assert!(
        list.contains("2.2  socket.broadcast.emit: everyone but the newcomer"),
        "{list}"
    );
}

/// Every line wider than 80 columns, with its number, for an assertion message.
fn too_wide(text: &str) -> Vec<(usize, &str)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.chars().count() > 80)
        .map(|(i, l)| (i + 1, l))
        .collect()
}

#[test]
fn a_stage_is_named_the_way_list_numbers_it() {
    let dotted = tutor(&["lesson", "2.2", "--color", "never"]);
    assert_eq!(dotted.status.code(), Some(0), "{}", text(&dotted.stderr));
    let flagged = tutor(&["lesson", "2", "--stage", "2", "--color", "never"]);
    assert_eq!(flagged.status.code(), Some(0), "{}", text(&flagged.stderr));
    assert_eq!(text(&dotted.stdout), text(&flagged.stdout));
    assert!(text(&dotted.stdout).contains("Stage 2.2 · socket.broadcast.emit"));
    assert!(!text(&dotted.stdout).contains("Stage 2.1"));

    // The stage given twice is a usage error that says how to give it once; nothing runs.
    let twice = tutor(&["lesson", "2.2", "--stage", "3"]);
    let err = text(&twice.stderr);
    assert_eq!(twice.status.code(), Some(2), "{err}");
    assert!(twice.stdout.is_empty(), "{}", text(&twice.stdout));
    for needle in [
        "the stage is given twice, as 2.2 and as --stage 3",
        "`realtime-tutor lesson 2.2`",
        "`realtime-tutor lesson 2 --stage 3`",
        "Usage: realtime-tutor lesson",
    ] {
        assert!(err.contains(needle), "{needle:?} in {err}");
    }
    assert_eq!(too_wide(&err), [], "{err}");

    // A stage that does not exist, or a malformed one, is told with what exists.
    for (arg, needle) in [
        ("2.9", "lesson 2 has no stage 9\nIts stages are:\n  2.1  io.emit"),
        (
            "99.1",
            "there is no lesson \"99\"\nThe lessons are:\n  1  One port",
        ),
        ("2.x", "\"2.x\" is neither a lesson nor a stage"),
    ] {
        let out = tutor(&["lesson", arg]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{arg}: {err}");
        assert!(err.contains(needle), "{arg}: {needle:?} in {err}");
        assert_eq!(too_wide(&err), [], "{err}");
    }
    // check takes a whole lesson, and says so.
    let out = tutor(&["check", "2.2", "--url", "http://127.0.0.1:9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("\"2.2\" is a stage"),
        "{}",
        text(&out.stderr)
    );
}

/// The (lesson, stage) of each JSON Lines record, in order.
fn places(stdout: &[u8]) -> Vec<(u64, u64)> {
    text(stdout)
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            (v["lesson"].as_u64().unwrap(), v["stage"].as_u64().unwrap())
        })
        .collect()
}

#[test]
fn the_tour_starts_where_from_says() {
    let last = lessons().last().expect("lessons");
    let n = last.number.to_string();
    // From a lesson: that lesson's stages, and nothing before them.
    let out = tutor(&["tour", "--from", "6", "--format", "json"]);
    let seen = places(&out.stdout);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}", text(&out.stderr));
    assert_eq!(seen.first(), Some(&(6, 1)), "{seen:?}");
    assert!(seen.iter().all(|&(l, _)| l >= 6), "{seen:?}");
    assert!(seen.iter().any(|&(l, _)| l == 7), "the tour goes on: {seen:?}");

    // From a stage: the text starts with its lesson's introduction, then that stage.
    let out = tutor(&["tour", "--from", "6.4", "--color", "never"]);
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("━━━ Lesson 6 "), "{stdout}");
    let stages: Vec<&str> = stdout.lines().filter(|l| l.starts_with("Stage ")).collect();
    assert!(stages[0].starts_with("Stage 6.4 ·"), "{stages:?}");
    assert!(stages[1].starts_with("Stage 6.5 ·"), "{stages:?}");
    assert!(
        stages.iter().any(|s| s.starts_with(&format!("Stage {n}.1 ·"))),
        "{stages:?}"
    );

    // An unknown lesson or stage is a usage error that lists what exists.
    for (from, needle) in [
        (
            "99",
            "there is no lesson \"99\"\nThe lessons are:\n  1  One port, two protocols\n",
        ),
        ("7.9", "lesson 7 has no stage 9\nIts stages are:\n  7.1  "),
    ] {
        let out = tutor(&["tour", "--from", from]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{from}: {err}");
        assert!(out.stdout.is_empty(), "{from}: nothing runs");
        assert!(
            err.contains("'--from <N[.K]>'") && err.contains(needle),
            "{from}: {err}"
        );
        assert!(
            err.contains(&format!("\n  {n}  {}\n", last.title)) || from != "99",
            "{err}"
        );
        assert_eq!(too_wide(&err), [], "{err}");
    }
}

#[test]
fn every_help_fits_80_columns_and_is_laid_out_alike() {
    for command in [
        "",
        "list",
        "lesson",
        "tour",
        "reset",
        "check",
        "serve",
        "completions",
        "man",
    ] {
        let args: Vec<&str> = command.split_whitespace().chain(["--help"]).collect();
        let long = tutor(&args);
        let help = text(&long.stdout);
        assert!(long.status.success(), "{args:?}: {}", text(&long.stderr));
        assert_eq!(too_wide(&help), [], "{args:?}:\n{help}");
        // `--help` is the same page as `-h`: no command switches to the long layout, with its
        // blank lines between options, as `check` used to.
        let short: Vec<&str> = command.split_whitespace().chain(["-h"]).collect();
        assert_eq!(help, text(&tutor(&short).stdout), "{args:?}");
        if ["lesson", "tour", "check"].contains(&command) {
            let options = help.find("\nOptions:").expect("an Options section");
            let status = help.find("\nExit status: 0 ").unwrap_or_else(|| panic!("{help}"));
            assert!(status > options, "the exit statuses follow the options:\n{help}");
        }
    }
    let help = text(&tutor(&["lesson", "--help"]).stdout);
    assert!(
        help.contains("3 some stages could not run because a part is missing"),
        "{help}"
    );
}
