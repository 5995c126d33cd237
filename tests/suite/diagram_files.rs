//! Where `--svg PATH` puts the diagram, and what it leaves of PATH: a regular file or nothing is
//! replaced whole, in one rename; anything else (a FIFO, a device) is written into and stays
//! what it was; a symbolic link stays a link and what it points at gets the SVG. No temporary
//! file is left beside the target, not even by a run that is killed, and none is ever named in a
//! message. A file written is reported on standard error in one line.

use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::{COMMAND_LIMIT, run_bounded, wait_bounded};
use crate::diagrams::diagrams_dir;

/// Runs the tutor; returns its exit status, standard output and standard error.
fn tutor(args: &[&str]) -> (Option<i32>, String, String) {
    let out = run_bounded(
        Command::new(env!("CARGO_BIN_EXE_realtime-tutor"))
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE"),
        COMMAND_LIMIT,
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The diagram `lesson 2 --stage 2` draws, as the book has it.
fn lesson_2_2() -> String {
    std::fs::read_to_string(diagrams_dir().join("lesson-2-stage-2.svg")).unwrap()
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The temporary files of the tutor in `dir` (`.realtime-tutor-…`).
fn strays(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.starts_with(".realtime-tutor-"))
        .collect()
}

#[test]
fn a_file_is_reported_in_one_line_on_stderr_and_stdout_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chat.svg");
    let (code, stdout, stderr) = tutor(&["lesson", "2", "--stage", "2", "--svg", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    let size = lesson_2_2().len().div_ceil(1024);
    let line = format!("wrote the diagram of 1 stage to {} ({size} KiB)", file.display());
    if line.chars().count() <= 80 {
        assert_eq!(stderr, format!("{line}\n"));
    } else {
        assert!(stderr.ends_with(&format!("/chat.svg ({size} KiB)\n")), "{stderr}");
    }
    assert!(stderr.lines().all(|l| l.chars().count() <= 80), "{stderr}");
    assert!(!stdout.contains("wrote the diagram"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), lesson_2_2());
    // A deep path is shortened from the front, the file name kept whole.
    let deep = dir.path().join("a-rather-long-folder-name/".repeat(4));
    std::fs::create_dir_all(&deep).unwrap();
    let file = deep.join("lesson-3.svg");
    let (code, _, stderr) = tutor(&["lesson", "3", "--no-pause", "--svg", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    let line = stderr.lines().last().unwrap_or_default();
    assert!(line.chars().count() <= 80, "{line}");
    assert!(
        line.starts_with("wrote the diagram of 2 stages to …/") && line.contains("/lesson-3.svg ("),
        "{line}"
    );
    // `-`: the SVG alone on standard output, and nothing said about it.
    let (code, stdout, stderr) = tutor(&["lesson", "2", "--stage", "2", "--svg", "-"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, lesson_2_2());
    assert_eq!(stderr, "");
}

#[test]
fn a_fifo_is_written_into_and_stays_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("diagram.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    // The reader: a child that reads the FIFO to its end. Its output is collected on a thread,
    // so that the test waits for it a bounded time.
    let mut cat = Command::new("cat")
        .arg(&fifo)
        .stdout(Stdio::piped())
        .spawn()
        .expect("cat");
    let mut pipe = cat.stdout.take().unwrap();
    let (tx, read) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        let _ = tx.send(bytes);
    });
    let (code, _, stderr) = tutor(&["lesson", "2", "--stage", "2", "--svg", fifo.to_str().unwrap()]);
    let got = read.recv_timeout(Duration::from_secs(20));
    if got.is_err() {
        let _ = cat.kill();
    }
    wait_bounded(&mut cat, COMMAND_LIMIT, "cat of the FIFO");
    assert_eq!(code, Some(0), "{stderr}");
    let got = got.expect("the reader of the FIFO got nothing: it was replaced, not written into");
    assert_eq!(String::from_utf8_lossy(&got), lesson_2_2());
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(names(dir.path()), ["diagram.fifo"]);
    assert!(stderr.contains("wrote the diagram of 1 stage to"), "{stderr}");
}

#[test]
fn a_symlink_stays_a_link_and_what_it_points_at_gets_the_svg() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.svg");
    std::fs::write(&target, "old").unwrap();
    let link = dir.path().join("link.svg");
    std::os::unix::fs::symlink("target.svg", &link).unwrap();
    // And one to a file that is not there yet: it is made.
    let dangling = dir.path().join("dangling.svg");
    std::os::unix::fs::symlink("new.svg", &dangling).unwrap();
    for path in [&link, &dangling] {
        let (code, _, stderr) = tutor(&["lesson", "2", "--stage", "2", "--svg", path.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(std::fs::symlink_metadata(path).unwrap().file_type().is_symlink());
    }
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("target.svg"));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), lesson_2_2());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("new.svg")).unwrap(),
        lesson_2_2()
    );
    assert_eq!(
        names(dir.path()),
        ["dangling.svg", "link.svg", "new.svg", "target.svg"]
    );
}

#[test]
fn devices_are_written_into_and_stay_devices() {
    // /dev/null takes the diagram and stays the null device; /dev/full refuses it, which is a
    // clear error, and nothing is left in /dev.
    let (code, _, stderr) = tutor(&["lesson", "2", "--stage", "2", "--svg", "/dev/null"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("to /dev/null ("), "{stderr}");
    let null = std::fs::symlink_metadata("/dev/null").unwrap().file_type();
    assert!(null.is_char_device(), "/dev/null is no longer a device");
    let (code, _, stderr) = tutor(&["lesson", "2", "--stage", "2", "--svg", "/dev/full"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("error: cannot write the diagram to /dev/full: No space left on device"),
        "{stderr}"
    );
    assert!(
        std::fs::symlink_metadata("/dev/full")
            .unwrap()
            .file_type()
            .is_char_device()
    );
    assert_eq!(strays(Path::new("/dev")), Vec::<String>::new());
    // /dev/stdout: into standard output, after the trace.
    let (code, stdout, stderr) = tutor(&["lesson", "2", "--stage", "2", "--svg", "/dev/stdout"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("Live trace") && stdout.ends_with(&lesson_2_2()),
        "{stdout}"
    );
}

#[test]
fn a_missing_folder_fails_before_anything_runs_and_names_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-folder/x.svg");
    let (code, stdout, stderr) = tutor(&["lesson", "2", "--svg", missing.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stdout, "", "nothing ran");
    assert_eq!(
        crate::common::unwrapped(&stderr),
        format!(
            "error: cannot write the diagram to {}: its folder does not exist",
            missing.display()
        )
    );
    assert_eq!(names(dir.path()), Vec::<String>::new());
}

#[test]
fn a_run_that_is_killed_or_fails_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lesson-3.svg");
    // Killed once it has started printing, as Ctrl-C would stop it.
    let mut child = Command::new(env!("CARGO_BIN_EXE_realtime-tutor"))
        .args(["lesson", "3", "--no-pause", "--svg", file.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = [0u8; 1];
    let started = child.stdout.as_mut().unwrap().read(&mut first).unwrap();
    assert_eq!(started, 1, "the lesson printed nothing");
    child.kill().unwrap();
    wait_bounded(&mut child, COMMAND_LIMIT, "the killed lesson");
    assert_eq!(strays(dir.path()), Vec::<String>::new());
    // A check that fails (nothing listens) still draws what it saw, in one piece.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let (code, _, stderr) = tutor(&["check", "3", "--url", &url, "--svg", file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(names(dir.path()), ["lesson-3.svg"]);
}
