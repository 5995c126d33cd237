//! Child processes of the tests, each bounded: commands run to their end within a limit, servers
//! that report their port and are killed with their test, signals sent and waited for.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The bound `run_bounded` gets when a test has no reason to pick another: far above what any
/// command here takes (milliseconds to a few seconds), low enough that a hang fails visibly.
pub const COMMAND_LIMIT: Duration = Duration::from_secs(60);

/// Runs `command` to the end like [`Command::output`] (stdin closed, stdout and stderr captured),
/// but waits at most `limit`: a command still running then is killed, and the test panics naming
/// the command, the limit and what it printed so far. A hang fails the test instead of stalling
/// the whole suite without a word.
pub fn run_bounded(command: &mut Command, limit: Duration) -> Output {
    try_run_bounded(command, limit).unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

/// [`run_bounded`] for a command that may not be installed: a program that cannot be started is
/// an `Err` the caller turns into its own message (what to install), not a panic.
pub fn try_run_bounded(command: &mut Command, limit: Duration) -> std::io::Result<Output> {
    let what = format!("{command:?}");
    let deadline = Instant::now() + limit;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Each pipe is read to its end on its own thread, so a child that fills one pipe while we
    // wait on the other cannot stall; the end of both pipes normally means the child has exited.
    let (tx, pipes) = mpsc::channel();
    drain(child.stdout.take().expect("piped stdout"), true, tx.clone());
    drain(child.stderr.take().expect("piped stderr"), false, tx);
    let (mut stdout, mut stderr) = (None, None);
    while stdout.is_none() || stderr.is_none() {
        match pipes.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok((true, bytes)) => stdout = Some(bytes),
            Ok((false, bytes)) => stderr = Some(bytes),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                // The pipes close with the child (unless a process it started holds them), so
                // what it printed is normally at hand; wait for it only briefly.
                let grace = Instant::now() + Duration::from_secs(2);
                while let Ok((is_stdout, bytes)) =
                    pipes.recv_timeout(grace.saturating_duration_since(Instant::now()))
                {
                    if is_stdout {
                        stdout = Some(bytes);
                    } else {
                        stderr = Some(bytes);
                    }
                }
                panic!(
                    "{what} did not finish within {limit:?}, so it was killed\n--- stdout\n{}\n--- stderr\n{}",
                    String::from_utf8_lossy(stdout.as_deref().unwrap_or_default()),
                    String::from_utf8_lossy(stderr.as_deref().unwrap_or_default()),
                );
            }
        }
    }
    let status = wait_bounded(
        &mut child,
        deadline.saturating_duration_since(Instant::now()),
        &what,
    );
    Ok(Output {
        status,
        stdout: stdout.unwrap_or_default(),
        stderr: stderr.unwrap_or_default(),
    })
}

/// Reads `pipe` to its end on a thread of its own, then sends the bytes, tagged `is_stdout`.
fn drain(mut pipe: impl Read + Send + 'static, is_stdout: bool, tx: mpsc::Sender<(bool, Vec<u8>)>) {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        let _ = tx.send((is_stdout, bytes));
    });
}

/// Waits at most `limit` for `child` to exit. A child still running then is killed, and the test
/// panics saying what it waited for (`what`).
pub fn wait_bounded(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let pid = child.id();
    reap_within(pid, limit, what, || child.wait()).unwrap_or_else(|e| panic!("cannot wait for {what}: {e}"))
}

/// Runs `wait`, a blocking wait for process `pid` (a [`Child`]'s, or a pseudo-terminal
/// session's), for at most `limit`: a process still running then is killed, and the test panics
/// saying what it waited for (`what`).
///
/// This thread blocks in `wait`; a watchdog thread waits on a channel for at most `limit` and,
/// only if the process has not been reaped by then, kills it by its process id. No polling: the
/// exit or the deadline decides.
pub fn reap_within<T>(pid: u32, limit: Duration, what: &str, wait: impl FnOnce() -> T) -> T {
    let pid = pid.to_string();
    let (exited, watched) = mpsc::channel::<()>();
    let fired = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watchdog = {
        let fired = fired.clone();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = watched.recv_timeout(limit) {
                fired.store(true, std::sync::atomic::Ordering::SeqCst);
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
            }
        })
    };
    let status = wait();
    let _ = exited.send(());
    let _ = watchdog.join();
    if fired.load(std::sync::atomic::Ordering::SeqCst) {
        panic!("{what} did not exit within {limit:?}, so it was killed");
    }
    status
}

/// Sends `signal` (`-INT`, `-KILL`, `-STOP`, …) to process `pid` with `kill`, bounded, and
/// requires that `kill` succeeded.
pub fn signal(signal: &str, pid: u32) {
    let sent = run_bounded(
        Command::new("kill").args([signal, &pid.to_string()]),
        COMMAND_LIMIT,
    );
    assert!(sent.status.success(), "kill {signal} {pid}: {sent:?}");
}

/// How long a server started by a test may take to print its first line: node with its modules,
/// or python with its virtual environment, starts in well under a second.
pub const STARTUP_LIMIT: Duration = Duration::from_secs(20);

/// A child process a test talks to (a Node or Python server, `serve`), killed and reaped when
/// dropped, also when the test panics, so none outlives its test or keeps its port. Its stdout
/// arrives line by line on a channel and its stderr is kept for failure messages; both pipes
/// are drained on threads of their own, so the child never blocks on a full pipe.
pub struct Server {
    child: Child,
    what: String,
    lines: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    /// `http://127.0.0.1:PORT` once [`Server::start`] has read the port.
    pub url: String,
}

impl Server {
    /// Starts `command`, whose first line of stdout must be the port it listens on (within
    /// [`STARTUP_LIMIT`]). `install` says what a missing program or a failed start needs.
    pub fn start(command: &mut Command, install: &str) -> Server {
        let mut server = Server::spawn(command, install);
        let line = server.line("its port", STARTUP_LIMIT);
        let Ok(port) = line.trim().parse::<u16>() else {
            server.fail(&format!("reported {line:?} instead of its port; {install}"));
        };
        server.url = format!("http://127.0.0.1:{port}");
        server
    }

    /// Starts `command` with stdin closed and both pipes drained; reads nothing yet.
    pub fn spawn(command: &mut Command, install: &str) -> Server {
        let what = format!("{command:?}");
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {what} ({e}); {install}"));
        let (lines_tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (stderr_tx, stderr) = mpsc::channel();
        let mut pipe = child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            let _ = stderr_tx.send(text);
        });
        Server {
            child,
            what,
            lines,
            stderr,
            url: String::new(),
        }
    }

    /// The next line of stdout, waited for at most `limit`; a child that exits or stays silent
    /// instead is killed, and the test panics saying what it waited for, with the child's stderr.
    pub fn line(&mut self, waiting_for: &str, limit: Duration) -> String {
        match self.lines.recv_timeout(limit) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                self.fail(&format!("printed no line with {waiting_for} within {limit:?}"))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                self.fail(&format!("closed its stdout before printing {waiting_for}"))
            }
        }
    }

    /// The process id, to send the child a signal.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits at most `limit` for the child to exit (after a signal, say); see [`wait_bounded`].
    pub fn wait(&mut self, limit: Duration, what: &str) -> ExitStatus {
        wait_bounded(&mut self.child, limit, what)
    }

    /// Kills the child, then panics with `problem` and what the child wrote to stderr.
    pub fn fail(&mut self, problem: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The pipe closed with the process, so its reader is finishing: wait for its text, but
        // briefly (a process the child started could still hold the pipe open).
        let errors = self
            .stderr
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_else(|_| "<still open 5 s after the process was killed>".to_owned());
        panic!("{} {problem}\nstderr:\n{errors}", self.what)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Harmless when the process has already exited and been waited for.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Kills and reaps a child when dropped, also when the test panics: for tests that read the
/// child's pipes themselves.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads one line of a child's stdout, waiting at most `limit`: the read runs on a thread, which
/// hands the reader back with the line, so the caller can read on or drop the pipe. Panics,
/// naming `what`, when nothing came in time (the caller's [`KillOnDrop`] then ends the child).
pub fn read_line_within(
    mut reader: BufReader<ChildStdout>,
    limit: Duration,
    what: &str,
) -> (String, BufReader<ChildStdout>) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = reader.read_line(&mut line).map(|_| line);
        let _ = tx.send((read, reader));
    });
    match rx.recv_timeout(limit) {
        Ok((Ok(line), reader)) => (line, reader),
        Ok((Err(e), _)) => panic!("cannot read {what}: {e}"),
        Err(_) => panic!("waited {limit:?} for {what}, and no line came"),
    }
}

#[test]
fn run_bounded_returns_what_output_would() {
    let out = run_bounded(
        Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
        COMMAND_LIMIT,
    );
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(out.stdout, b"out\n");
    assert_eq!(out.stderr, b"err\n");
}

#[test]
#[should_panic(expected = "did not finish within 200ms, so it was killed")]
fn run_bounded_kills_a_command_that_hangs_and_names_it() {
    // `exec`: the shell becomes `sleep`, so killing the child kills the sleep, pipes and all.
    run_bounded(
        Command::new("sh").args(["-c", "echo started; exec sleep 30"]),
        Duration::from_millis(200),
    );
}

#[test]
fn wait_bounded_kills_a_child_that_outlives_its_limit() {
    let mut child = Command::new("sh")
        .args(["-c", "exec tail -f /dev/null"])
        .spawn()
        .expect("sh runs");
    let started = Instant::now();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_bounded(&mut child, Duration::from_millis(200), "a child that never exits")
    }));
    let message = outcome.expect_err("the limit must fire");
    let message = message.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("did not exit within 200ms"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        child.try_wait().expect("try_wait").is_some(),
        "the child was killed and reaped"
    );
    let status = wait_bounded(
        Command::new("sh")
            .args(["-c", "exit 4"])
            .spawn()
            .as_mut()
            .expect("sh runs"),
        COMMAND_LIMIT,
        "sh",
    );
    assert_eq!(status.code(), Some(4));
}
