//! The binary as a user runs it.

use std::process::{Command, Output};

use crate::common::{COMMAND_LIMIT, run_bounded};

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
        &["lesson", "9"][..],
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
                err.contains("1 (One port, two protocols)") && err.contains("3 (The chat broadcast)"),
                "{err}"
            );
        } else {
            assert!(
                err.contains("lesson 2 has no stage 42") && err.contains("2 (socket.broadcast.emit"),
                "{err}"
            );
        }
    }
}

#[test]
fn the_tour_is_identical_from_run_to_run_in_text_and_json() {
    for format in ["text", "json"] {
        let args = ["tour", "--no-pause", "--color", "never", "--format", format];
        let first = tutor(&args);
        assert!(first.status.success(), "{}", text(&first.stderr));
        let second = tutor(&args);
        assert_eq!(text(&first.stdout), text(&second.stdout), "{format}");
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
    for line in [
        "  list    List the lessons and their stages",
        "  lesson  Run one lesson, stage by stage",
        "  tour    Run all lessons in order",
        "  check   Check your own server: play lesson N's scenario against it and judge what arrives",
        "  serve   Run a lesson's server for your own browser, with a live trace, until Ctrl-C",
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
