//! Every command the book shows is checked against the real program.
//!
//! * A `console` block is an example: `$ realtime-tutor …` lines, each followed by the output it
//!   prints. The test runs each command (through `sh`, with the freshly built binary first on the
//!   `PATH`, stderr merged into stdout, colour off) and compares the output line for line.
//!   Includes are expanded first, so an example may take its output from a snapshot.
//! * A command with no output under it, and every `realtime-tutor` line of an `sh` block, is an
//!   instruction to the reader; the test checks that the command line parses.

use std::path::Path;
use std::process::Command;

use clap::Parser;
use realtime_tutor::cli::Cli;

use super::{chapter_files, code_blocks, expand, shown};
use crate::common::{COMMAND_LIMIT, run_bounded};

/// Commands the lesson exercises already point to that this build does not have yet. The test
/// fails once such a command exists, so that its examples get checked from then on.
const NOT_BUILT_YET: &[&str] = &[];

fn binary_dir() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_realtime-tutor"))
        .parent()
        .expect("the binary is in a folder")
}

/// Where the book says progress is kept (the Linux default); the test's own, fresh folder is
/// shown under that name, as a reader with no progress yet would see it.
const SHOWN_STATE_DIR: &str = "~/.local/state/realtime-tutor";

/// Runs one example command the way a reader would type it, with no progress saved yet.
fn run(command: &str) -> (String, Option<i32>) {
    let home = tempfile::tempdir().expect("a temporary progress folder");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![binary_dir().to_path_buf()];
    dirs.extend(std::env::split_paths(&path));
    let output = run_bounded(
        Command::new("sh")
            .arg("-c")
            .arg(format!("exec 2>&1; {command}"))
            .env("PATH", std::env::join_paths(dirs).expect("a valid PATH"))
            .env("NO_COLOR", "1")
            .env("REALTIME_TUTOR_HOME", home.path())
            .env_remove("CLICOLOR_FORCE"),
        COMMAND_LIMIT,
    );
    let printed =
        String::from_utf8_lossy(&output.stdout).replace(&*home.path().to_string_lossy(), SHOWN_STATE_DIR);
    (printed, output.status.code())
}

/// Checks that a command line parses as the tutor's own, without running it.
fn parses(command: &str) -> Result<(), String> {
    let words = shlex::split(command).ok_or_else(|| format!("`{command}` is not valid shell"))?;
    let Some(sub) = words.get(1) else {
        return Err(format!("`{command}` names no command"));
    };
    let known = <Cli as clap::CommandFactory>::command()
        .get_subcommands()
        .any(|c| c.get_name() == sub);
    if NOT_BUILT_YET.contains(&sub.as_str()) {
        return if known {
            Err(format!("`{sub}` exists now: remove it from NOT_BUILT_YET"))
        } else {
            Ok(())
        };
    }
    Cli::try_parse_from(&words)
        .map(|_| ())
        .map_err(|e| format!("`{command}` does not parse: {e}"))
}

/// One `$` command of a console block and the output shown under it.
struct Example {
    command: String,
    shown: Vec<String>,
}

fn examples(lines: &[String]) -> Result<Vec<Example>, String> {
    let mut out: Vec<Example> = Vec::new();
    for line in lines {
        if let Some(command) = line.strip_prefix("$ ") {
            out.push(Example {
                command: command.trim().to_owned(),
                shown: Vec::new(),
            });
        } else if let Some(last) = out.last_mut() {
            last.shown.push(line.clone());
        } else {
            return Err(format!("output before any `$` command: {line:?}"));
        }
    }
    Ok(out)
}

#[test]
fn every_console_example_prints_what_the_book_shows() {
    let mut problems = Vec::new();
    let mut ran = 0;
    let mut parsed = 0;
    for file in chapter_files() {
        let (text, _) = expand(&file);
        let place = shown(&file);
        for block in code_blocks(&text) {
            let language = block.info.split(',').next().unwrap_or_default();
            match language {
                "console" => {}
                "sh" | "bash" | "shell" => {
                    for line in &block.lines {
                        let line = line.trim();
                        let command = line
                            .strip_prefix("cargo run --release -- ")
                            .map(|rest| format!("realtime-tutor {rest}"))
                            .unwrap_or_else(|| line.to_owned());
                        if command.starts_with("realtime-tutor") {
                            parsed += 1;
                            if let Err(e) = parses(&command) {
                                problems.push(format!("{place}: {e}"));
                            }
                        }
                    }
                    continue;
                }
                _ => continue,
            }
            let examples = match examples(&block.lines) {
                Ok(examples) => examples,
                Err(e) => {
                    problems.push(format!("{place}: {e}"));
                    continue;
                }
            };
            for example in examples {
                if !example.command.starts_with("realtime-tutor ") {
                    problems.push(format!(
                        "{place}: console examples run the tutor, not `{}`",
                        example.command
                    ));
                    continue;
                }
                if example.shown.iter().all(|l| l.trim().is_empty()) {
                    parsed += 1;
                    if let Err(e) = parses(&example.command) {
                        problems.push(format!("{place}: {e}"));
                    }
                    continue;
                }
                ran += 1;
                let (printed, _) = run(&example.command);
                let printed: Vec<&str> = printed.trim_end_matches('\n').lines().collect();
                let expected_text = example.shown.join("\n");
                let expected: Vec<&str> = expected_text.trim_end_matches('\n').lines().collect();
                if printed != expected {
                    problems.push(format!(
                        "{place}: `$ {}` prints something else than the book shows.\n--- the book\n{}\n--- the program\n{}\n---",
                        example.command,
                        expected.join("\n"),
                        printed.join("\n")
                    ));
                }
            }
        }
    }
    assert!(ran >= 5, "the book has console examples ({ran} run)");
    assert!(parsed >= 4, "the book has commands to type ({parsed} checked)");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn commands_run_and_parse_the_way_the_check_assumes() {
    let (printed, status) = run("realtime-tutor lesson 2 --stage 7; echo \"exit status $?\"");
    assert!(printed.ends_with("exit status 2\n"), "{printed}");
    assert_eq!(status, Some(0));
    assert!(parses("realtime-tutor lesson 1 --no-pause").is_ok());
    assert!(parses("realtime-tutor lesson 1 --no-such-flag").is_err());
    assert!(parses("realtime-tutor frobnicate").is_err());
}
