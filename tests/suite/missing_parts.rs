//! A part this machine lacks never stops a run. Without `redis-server`, lesson 7's Redis stages
//! (7.2 and 7.3) are shown as not run, with what to install, the rest goes on (lesson 7's
//! summary and exercise included), the end names every stage that did not run, and the exit
//! status is 3. The binary runs with a PATH that holds nothing, so no `redis-server` is found.

use std::process::{Command, Output};

use crate::common::{COMMAND_LIMIT, run_bounded};

/// The tutor with an empty folder as its whole PATH.
fn without_redis_server(args: &[&str]) -> Output {
    let nothing = tempfile::tempdir().expect("a temporary folder");
    let home = tempfile::tempdir().expect("a temporary progress folder");
    run_bounded(
        Command::new(env!("CARGO_BIN_EXE_realtime-tutor"))
            .args(args)
            .env("PATH", nothing.path())
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE")
            .env("REALTIME_TUTOR_HOME", home.path()),
        COMMAND_LIMIT,
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The closing words every run ends with when 7.2 and 7.3 did not run.
fn assert_names_what_did_not_run(closing: &str) {
    // The words, whatever the wrapping.
    let words = closing.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        "`sudo apt-get install redis-server`",
        "`--redis redis://127.0.0.1:6379`",
    ] {
        assert!(words.contains(needle), "{needle:?} in:\n{closing}");
    }
    for needle in [
        "Not run: 2 stages, because `redis-server` is not installed",
        "  7.2  The Redis adapter",
        "  7.3  Sticky sessions",
        "  realtime-tutor lesson 7.2\n",
        "  realtime-tutor lesson 7.3",
    ] {
        assert!(closing.contains(needle), "{needle:?} in:\n{closing}");
    }
    let wide: Vec<&str> = closing.lines().filter(|l| l.chars().count() > 80).collect();
    assert_eq!(wide, Vec::<&str>::new(), "lines past 80 columns in:\n{closing}");
}

/// What follows `heading` in `text`, up to the next line that starts with `until`.
fn section<'a>(text: &'a str, heading: &str, until: &str) -> &'a str {
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("{heading:?} in:\n{text}"));
    let rest = &text[start..];
    let end = rest[heading.len()..]
        .find(until)
        .map_or(rest.len(), |i| i + heading.len());
    &rest[..end]
}

#[test]
fn the_tour_goes_on_past_a_missing_redis_server_and_names_what_did_not_run() {
    let out = without_redis_server(&["tour", "--no-pause", "--color", "never"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(3), "{stderr}\n{stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // 7.2 is shown, its trace replaced by what to install.
    let stage_2 = section(&stdout, "\nStage 7.2 · ", "Stage 7.3");
    assert!(
        stage_2.contains("  ✗ Not run: this stage needs Redis"),
        "{stage_2}"
    );
    let words = stage_2.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("`sudo apt-get install redis-server`"), "{stage_2}");
    // 7.3 too, and then lesson 7's summary of what ran, and its exercise.
    let stage_3 = section(&stdout, "\nStage 7.3 · ", "What next");
    assert!(
        stage_3.contains("  ✗ Not run: this stage needs `redis-server` too"),
        "{stage_3}"
    );
    assert!(
        stage_3.contains("Who received what\n"),
        "lesson 7's summary: {stage_3}"
    );
    assert!(stage_3.contains("Stages 7.2 and 7.3 did not run: this summary leaves them out."));
    assert!(
        stdout.contains("$ realtime-tutor check 7 --url"),
        "lesson 7's exercise"
    );
    // 7.1 ran before them.
    assert!(
        stdout.contains("no adapter carries server A's emit there"),
        "{stdout}"
    );
    assert_names_what_did_not_run(section(&stdout, "\nNot run: ", "\u{0}"));
    for notice in [stage_2, stage_3] {
        let notice = section(notice, "  ✗ Not run", "\n\n");
        assert!(notice.lines().all(|l| l.chars().count() <= 80), "{notice}");
    }
}

#[test]
fn lesson_7_alone_runs_7_1_and_lists_7_2_and_7_3_as_not_run() {
    let out = without_redis_server(&["lesson", "7", "--no-pause", "--color", "never"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(3), "{stderr}\n{stdout}");
    assert!(
        stdout.contains("no adapter carries server A's emit there"),
        "7.1 ran: {stdout}"
    );
    assert!(stdout.ends_with("  realtime-tutor lesson 7.3\n"), "{stdout}");
    assert_names_what_did_not_run(section(&stdout, "\nNot run: ", "\u{0}"));

    // One stage alone: the same notice, the same status.
    let out = without_redis_server(&["lesson", "7.3", "--color", "never"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(stdout.contains("Not run: 1 stage, because `redis-server` is not installed"));
    assert!(stdout.contains("  realtime-tutor lesson 7.3"), "{stdout}");
}

#[test]
fn json_output_stays_json_and_the_stages_not_run_are_named_on_stderr() {
    let out = without_redis_server(&["lesson", "7", "--format", "json"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(!stdout.is_empty(), "7.1's steps");
    for line in stdout.lines() {
        let record: serde_json::Value = serde_json::from_str(line).expect("only JSON on stdout");
        assert_eq!(
            (record["lesson"].as_u64(), record["stage"].as_u64()),
            (Some(7), Some(1))
        );
    }
    assert_names_what_did_not_run(&stderr);
}
