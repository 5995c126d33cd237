//! Interrupting the tutor: no `redis-server` it started survives it, whether it is killed
//! outright or stopped with Ctrl-C; and a missing or failing `redis-server` is reported.
//!
//! The "tutor" here is a child process: this same test binary, running only
//! [`redis_child_process`], which starts a private Redis the way the tutor does.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use realtime_tutor::parts::redis;
use realtime_tutor::parts::redis_server::RedisServer;

use super::process_alive;
use crate::common::{runtime, wait_bounded};

const CHILD_ENV: &str = "REALTIME_TUTOR_TEST_REDIS_CHILD";

/// Not a test on its own: the child process of the tests below (this same test binary, run with
/// `CHILD_ENV` set). It starts a private Redis, prints its pid and socket, and then waits to be
/// killed; or, without `redis-server` on PATH, prints the error and its exit status.
#[test]
#[ignore = "run as a child process by the interrupt tests"]
fn redis_child_process() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    runtime().block_on(async {
        match RedisServer::start().await {
            Ok(server) => {
                println!("PID {}", server.pid());
                println!("SOCKET {}", server.socket_path().display());
                std::future::pending::<()>().await;
            }
            Err(e) => {
                println!("STATUS {}", e.exit_status());
                println!("ERROR {e}");
            }
        }
    });
}

fn child_command() -> Command {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command
        .args([
            "parts::interrupt::redis_child_process",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

fn interrupt_and_check(signal: &str) {
    let mut child = child_command().spawn().expect("the child starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // The test harness prints its own text first ("running 1 test", "test … ... ").
        let mut wanted = lines.by_ref().map_while(Result::ok);
        let pid = wanted.find_map(|l| l.split_once("PID ").map(|(_, n)| n.to_string()));
        let socket = wanted.find_map(|l| l.strip_prefix("SOCKET ").map(str::to_string));
        let _ = tx.send((pid, socket));
        for _ in lines {}
    });
    let reported = rx.recv_timeout(Duration::from_secs(20));
    let Ok((Some(pid), Some(socket))) = reported else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the child did not report its Redis within 20 s: {reported:?}");
    };
    let pid: u32 = pid.parse().expect("a pid");
    // A connection to that Redis: its end (EOF) is the event that says Redis died.
    let mut watch = std::os::unix::net::UnixStream::connect(&socket).expect("the child's Redis accepts");
    assert!(process_alive(pid));
    crate::common::process::signal(signal, child.id());
    let status = wait_bounded(&mut child, Duration::from_secs(10), "the interrupted child");
    assert!(!status.success(), "the child was interrupted: {status:?}");
    watch.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut byte = [0u8; 1];
    let read = std::io::Read::read(&mut watch, &mut byte);
    assert!(
        matches!(read, Ok(0))
            || read
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "Redis closed the connection (it died) within 5 s of {signal} to its tutor: {read:?}"
    );
    // Its pid disappears once the watchdog reaps it, and the watchdog then removes the socket's
    // folder; bounded check.
    let folder = std::path::Path::new(&socket).parent().unwrap().to_path_buf();
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_alive(pid) || folder.exists() {
        assert!(
            Instant::now() < deadline,
            "redis-server {pid} (alive: {}) or its folder {} (exists: {}) outlived its tutor ({signal})",
            process_alive(pid),
            folder.display(),
            folder.exists()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_sigkilled_tutor_leaves_no_redis_server_behind() {
    interrupt_and_check("-KILL");
}

#[test]
fn a_tutor_interrupted_by_ctrl_c_leaves_no_redis_server_behind() {
    interrupt_and_check("-INT");
}

/// A `redis-server` that fails at once (here a stand-in script on PATH): the error says it did
/// not start, with the exit status and what it printed.
#[test]
fn a_redis_server_that_cannot_start_is_reported_with_its_own_words() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("redis-server");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'FATAL CONFIG FILE ERROR: a stand-in that refuses'\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut command = child_command();
    command.env("PATH", format!("{}:/usr/bin:/bin", dir.path().display()));
    let out = crate::common::run_bounded(&mut command, Duration::from_secs(20));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("STATUS 1"), "{stdout}");
    assert!(stdout.contains("did not start: exited with status 1"), "{stdout}");
    assert!(stdout.contains("a stand-in that refuses"), "{stdout}");
}

#[test]
fn without_redis_server_the_error_says_what_to_install_and_has_its_own_status() {
    let mut command = child_command();
    command.env("PATH", "");
    let out = crate::common::run_bounded(&mut command, Duration::from_secs(20));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("STATUS {}", redis::EXIT_NO_REDIS)),
        "{stdout}"
    );
    assert!(
        stdout.contains("apt-get install redis-server") && stdout.contains("--redis"),
        "{stdout}"
    );
}
