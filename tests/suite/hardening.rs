//! Hostile disks and terminals: output that cannot be written, progress files that are not
//! files, text meant to fool a terminal or a JSON consumer (issue 10's disk-and-output items).

use std::io::Read;
use std::process::{Command, Stdio};

use crate::common::{COMMAND_LIMIT, run_bounded, wait_bounded};

fn tutor() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_realtime-tutor"));
    command
        .env(
            "REALTIME_TUTOR_HOME",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/hardening-progress"),
        )
        .env("NO_COLOR", "1");
    command
}

/// Runs the tutor with `stdout` as its standard output; returns its exit code and stderr.
fn run_into(args: &[&str], stdout: Stdio) -> (Option<i32>, String) {
    let mut command = tutor();
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped());
    let what = format!("{command:?}");
    let mut child = command.spawn().expect("the tutor starts");
    let mut stderr_pipe = child.stderr.take().expect("piped stderr");
    // Read on a thread so that a chatty child cannot fill the pipe while we wait.
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr_pipe.read_to_string(&mut text);
        text
    });
    let status = wait_bounded(&mut child, COMMAND_LIMIT, &what);
    (status.code(), reader.join().expect("the stderr reader"))
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_an_error_message_and_status_1_not_a_panic() {
    for args in [
        &["lesson", "1"][..],
        &["lesson", "2", "--stage", "1", "--format", "json"],
        &["list"],
        &["list", "--format", "json"],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let (code, stderr) = run_into(args, Stdio::from(full));
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert_eq!(
            stderr.trim_end(),
            "error: cannot write to standard output: No space left on device (os error 28)",
            "{args:?}"
        );
    }
}

#[test]
fn a_closed_pipe_ends_quietly_with_status_141() {
    for args in [&["tour", "--no-pause"][..], &["list", "--format", "json"]] {
        // The reading end is closed before the tutor starts, so its very first write finds
        // nobody to read it: the same as `| head` after head exits, without a race.
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let (code, stderr) = run_into(args, Stdio::from(writer));
        assert_eq!(code, Some(141), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}: quiet");
    }
}

#[cfg(unix)]
#[test]
fn list_refuses_a_fifo_for_a_progress_file_instead_of_hanging() {
    let home = tempfile::tempdir().unwrap();
    let fifo = home.path().join("progress.json");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let out = run_bounded(
        tutor().env("REALTIME_TUTOR_HOME", home.path()).arg("list"),
        std::time::Duration::from_secs(20),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("is a FIFO (named pipe), not a regular file"),
        "{stderr}"
    );
}
