//! `completions SHELL` and `man`: the files a shell and `man` read, tried in a real bash and a
//! real `man` (man-db; `bash scripts/test.sh` installs it).

use std::process::{Command, Output};

use crate::common::{COMMAND_LIMIT, run_bounded};

/// `man -l -` reading the file named by `$1`, or a message saying what to install.
const MAN_FROM_STDIN: &str = "command -v man >/dev/null || \
    { echo 'man is not installed: apt-get install man-db (bash scripts/test.sh does)' >&2; exit 97; }
    exec man -l - < \"$1\"";

fn tutor(args: &[&str]) -> Output {
    run_bounded(
        Command::new(env!("CARGO_BIN_EXE_realtime-tutor")).args(args),
        COMMAND_LIMIT,
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What bash offers for `line` (the cursor at its end), with the script loaded as a user's
/// `~/.bashrc` would: the function it registers for `realtime-tutor` is called as bash calls it,
/// with COMP_WORDS and COMP_CWORD set.
fn bash_offers(script: &std::path::Path, line: &str) -> Vec<String> {
    let driver = format!(
        r#"source {script:?} || exit 9
spec=$(complete -p realtime-tutor) || exit 8
fn=${{spec##*-F }}; fn=${{fn%% *}}
COMP_LINE={line:?}; COMP_POINT=${{#COMP_LINE}}
read -ra COMP_WORDS <<< "$COMP_LINE"
[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
"$fn" realtime-tutor "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#
    );
    let out = run_bounded(
        Command::new("bash").args(["--norc", "-c", &driver]),
        COMMAND_LIMIT,
    );
    assert!(out.status.success(), "bash: {}", text(&out.stderr));
    text(&out.stdout).lines().map(str::to_owned).collect()
}

#[test]
fn the_bash_script_loads_and_completes_commands_and_flags() {
    let out = tutor(&["completions", "bash"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dir = tempfile::tempdir().expect("a temporary folder");
    let script = dir.path().join("realtime-tutor.bash");
    std::fs::write(&script, &out.stdout).expect("write the script");

    let mut offered = bash_offers(&script, "realtime-tutor l");
    offered.sort();
    assert_eq!(offered, ["lesson", "list"]);
    let offered = bash_offers(&script, "realtime-tutor tour --f");
    assert!(offered.contains(&"--from".to_owned()), "{offered:?}");
    assert!(offered.contains(&"--format".to_owned()), "{offered:?}");
    let offered = bash_offers(&script, "realtime-tutor completions ");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        assert!(offered.contains(&shell.to_owned()), "{shell} in {offered:?}");
    }
}

#[test]
fn every_shell_gets_a_script_and_an_unknown_one_is_a_usage_error() {
    for (shell, mark) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef realtime-tutor"),
        ("fish", "complete -c realtime-tutor"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[realtime-tutor]"),
    ] {
        let out = tutor(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains(mark), "{shell}: {mark:?}");
    }
    let out = tutor(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("[possible values: bash, elvish, fish, powershell, zsh]"));
}

#[test]
fn the_man_page_renders_with_its_name_commands_and_exit_statuses() {
    let page = tutor(&["man"]);
    assert!(page.status.success(), "{}", text(&page.stderr));
    let roff = text(&page.stdout);
    assert!(roff.contains(".TH realtime-tutor 1"), "{roff}");

    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("realtime-tutor.1");
    std::fs::write(&file, &page.stdout).expect("write the page");
    // The page goes to `man -l -` on its standard input, as `realtime-tutor man | man -l -`.
    let shown = run_bounded(
        Command::new("sh")
            .args(["-c", MAN_FROM_STDIN, "sh"])
            .arg(&file)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .env("LANG", "C.UTF-8"),
        COMMAND_LIMIT,
    );
    let (rendered, warnings) = (text(&shown.stdout), text(&shown.stderr));
    assert!(shown.status.success(), "{warnings}");
    assert_eq!(warnings, "", "man had warnings about the roff");
    let words = rendered.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        "NAME realtime-tutor - See how real-time web servers deliver messages",
        "SYNOPSIS realtime-tutor",
        "EXIT STATUS",
        "3 Some stages could not run because a part is missing",
        "ENVIRONMENT REALTIME_TUTOR_HOME",
    ] {
        assert!(words.contains(needle), "{needle:?} in:\n{rendered}");
    }
    for command in [
        "list",
        "lesson",
        "tour",
        "reset",
        "check",
        "serve",
        "completions",
        "man",
    ] {
        let heading = format!("\n   realtime-tutor {command}\n");
        assert!(rendered.contains(&heading), "{heading:?} in:\n{rendered}");
    }
    assert!(rendered.lines().all(|l| l.chars().count() <= 80), "{rendered}");
}
