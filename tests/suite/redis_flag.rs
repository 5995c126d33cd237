//! `--redis URL`: checked for its form before anything runs, refused where no stage would use
//! it, and every word about it names the same Redis version.

use std::process::{Command, Output};

use crate::common::{COMMAND_LIMIT, run_bounded};

fn tutor(args: &[&str]) -> Output {
    let home = tempfile::tempdir().expect("a temporary progress folder");
    run_bounded(
        Command::new(env!("CARGO_BIN_EXE_realtime-tutor"))
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE")
            .env("REALTIME_TUTOR_HOME", home.path()),
        COMMAND_LIMIT,
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The version the adapter needs: RESP3 (`HELLO 3`, and pub/sub messages as push frames on the
/// connection that also sends commands) came with Redis 6.0.
const VERSION: &str = "Redis 6 or later";

#[test]
fn a_malformed_url_is_refused_before_stage_1_runs() {
    for (url, why) in [
        ("http://127.0.0.1:6379", "it must start with redis://"),
        ("redis://127.0.0.1", "it names no port"),
        ("redis://127.0.0.1:99999", "redis://host:port"),
    ] {
        let out = tutor(&["lesson", "7", "--no-pause", "--redis", url]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{url}: {err}");
        assert!(
            out.stdout.is_empty(),
            "{url}: stage 7.1 ran:\n{}",
            text(&out.stdout)
        );
        assert!(
            err.contains(why) && err.contains("redis://127.0.0.1:6379"),
            "{url}: {err}"
        );
    }
}

#[test]
fn redis_is_refused_where_no_stage_uses_it() {
    let url = "redis://127.0.0.1:6379";
    for (args, needle) in [
        (
            &["lesson", "3", "--redis", url][..],
            "lesson 3 does not use Redis",
        ),
        (&["lesson", "7.1", "--redis", url], "stage 7.1 does not use Redis"),
        (
            &["lesson", "7", "--stage", "1", "--redis", url],
            "stage 7.1 does not use Redis",
        ),
        (
            &["check", "3", "--url", "http://127.0.0.1:9", "--redis", url],
            "check does not use --redis",
        ),
        (
            &["serve", "3", "--redis", url],
            "lesson 3's server does not use Redis",
        ),
    ] {
        let out = tutor(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?} ran something");
        assert!(
            crate::common::unwrapped(&err).contains(needle),
            "{args:?}: {needle:?} in {err}"
        );
        assert!(err.lines().all(|l| l.chars().count() <= 80), "{err}");
    }
    // The tour reaches lesson 7, so it takes --redis: here a Redis nobody runs, which the
    // tutor then reports as unreachable (exit 1), not as a usage error.
    let out = tutor(&["tour", "--from", "7.2", "--redis", "redis://127.0.0.1:1"]);
    let err = crate::common::unwrapped(&text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no Redis answered at redis://127.0.0.1:1"), "{err}");
    assert!(err.contains(VERSION), "{err}");
}

#[test]
fn the_help_and_the_messages_name_the_same_redis_version() {
    for args in [
        &["lesson", "--help"][..],
        &["tour", "--help"],
        &["serve", "--help"],
    ] {
        let help = text(&tutor(args).stdout);
        let words = help.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(words.contains(VERSION), "{args:?}: {help}");
        assert!(!words.contains("Redis 7"), "{args:?}: {help}");
    }
    let nothing = tempfile::tempdir().expect("a temporary folder");
    let out = run_bounded(
        Command::new(env!("CARGO_BIN_EXE_realtime-tutor"))
            .args(["lesson", "7.2", "--color", "never"])
            .env("PATH", nothing.path()),
        COMMAND_LIMIT,
    );
    let words = text(&out.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(&format!("a {VERSION} you run yourself")),
        "{words}"
    );
    assert!(!words.contains("Redis 7"), "{words}");
}
