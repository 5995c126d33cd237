//! Printing the live trace without letting the terminal hold the server up.
//!
//! Writing to a terminal or a pipe can block: the learner pressed Ctrl-S, a pager is paused, the
//! reader of a pipe is busy. If the loop that takes the server's reports and Ctrl-C did the
//! writing, a frozen terminal would freeze the server's bookkeeping and make Ctrl-C wait for the
//! reader. So the loop only *queues* lines, and a thread of its own writes them.
//!
//! The queue is bounded in bytes ([`QUEUE_BYTES`]). When the terminal does not keep up, new lines
//! are dropped and counted, and the printer says how many once it can write again (on stderr,
//! so that `--format json` stays JSON Lines). A write to stdout that fails (a closed pipe, as
//! with `serve | head`; a full disk) is reported once to the serve loop ([`Printer::failed`]),
//! which then shuts the server down.
//!
//! A plain thread, not a tokio task: a blocked `write` would hold one of the runtime's few worker
//! threads, and the runtime waits for its blocking tasks when it shuts down. Nobody waits for
//! this thread: at exit it is left behind, blocked or not.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use tokio::sync::watch;

use crate::server::http::Log;
use crate::trace::live::{self as records, Live};
use crate::ui;

/// The most bytes of output waiting for the terminal. A chat message is at most 16 KiB
/// (`realtime::MAX_PAYLOAD`), so this holds dozens of the largest records and thousands of
/// ordinary ones.
pub const QUEUE_BYTES: usize = 1 << 20;

enum Line {
    Out(String),
    Err(String),
    /// Everything before this has been written: answer.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// Queues lines for the printing thread; see the module documentation. Cloning shares the queue.
#[derive(Clone)]
pub struct Printer {
    lines: mpsc::Sender<Line>,
    queued: Arc<AtomicUsize>,
    dropped: Arc<AtomicU64>,
    failed: watch::Receiver<Option<String>>,
}

impl std::fmt::Debug for Printer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Printer")
            .field("queued", &self.queued)
            .field("dropped", &self.dropped)
            .finish_non_exhaustive()
    }
}

impl Printer {
    /// Starts the printing thread. `plain`: the output never holds colour (JSON Lines), so it is
    /// written as it is, without the scan that strips colour codes when colour is off.
    pub fn start(plain: bool) -> std::io::Result<Self> {
        if plain {
            Self::start_with(std::io::stdout())
        } else {
            Self::start_with(anstream::stdout())
        }
    }

    /// Starts a printing thread that writes the trace to `out` (a test passes a sink).
    pub fn start_with(out: impl Write + Send + 'static) -> std::io::Result<Self> {
        let (lines, queue) = mpsc::channel::<Line>();
        let queued = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicU64::new(0));
        let (fail, failed) = watch::channel(None);
        let (q, d) = (queued.clone(), dropped.clone());
        std::thread::Builder::new()
            .name("live-trace printer".into())
            .spawn(move || write_lines(queue, out, &q, &d, &fail))?;
        Ok(Self {
            lines,
            queued,
            dropped,
            failed,
        })
    }

    fn queue(&self, line: Line, len: usize) {
        // Over budget: drop the line rather than wait (the printer says so later).
        let before = self.queued.fetch_add(len, Ordering::SeqCst);
        if before + len > QUEUE_BYTES || self.lines.send(line).is_err() {
            self.queued.fetch_sub(len, Ordering::SeqCst);
            self.dropped.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Whether a line of `len` bytes would be queued now. Lets a caller skip rendering a line
    /// that would only be dropped.
    pub fn has_room(&self, len: usize) -> bool {
        self.queued.load(Ordering::SeqCst) + len <= QUEUE_BYTES
    }

    /// Counts a line that was not even rendered, because there was no room for it.
    pub fn skip(&self) {
        self.dropped.fetch_add(1, Ordering::SeqCst);
    }

    /// Queues text for stdout. Never blocks.
    pub fn out(&self, text: String) {
        let len = text.len();
        self.queue(Line::Out(text), len);
    }

    /// Queues a line for stderr (a log line). Never blocks.
    pub fn err(&self, text: String) {
        let len = text.len();
        self.queue(Line::Err(text), len);
    }

    /// Log lines for the server, printed on stderr as `serve: …`.
    pub fn log(&self) -> Log {
        let printer = self.clone();
        Arc::new(move |text: String| printer.err(format!("serve: {text}")))
    }

    /// Lines dropped so far because the terminal did not keep up.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::SeqCst)
    }

    /// Completes once a write to stdout has failed, with what went wrong.
    pub async fn failed(&self) -> String {
        let mut failed = self.failed.clone();
        match failed.wait_for(Option::is_some).await {
            Ok(why) => why.clone().unwrap_or_default(),
            // The thread is gone without saying why: it can only have panicked.
            Err(_) => "the printer stopped".to_owned(),
        }
    }

    /// Waits at most `bound` for everything queued so far to be written. Returns false when the
    /// terminal did not take it in time (the lines are then left behind).
    pub async fn flush(&self, bound: Duration) -> bool {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.lines.send(Line::Flush(tx)).is_err() {
            return true;
        }
        matches!(tokio::time::timeout(bound, rx).await, Ok(Ok(())))
    }
}

/// The printing thread: writes each line, counts what was dropped, reports a failed stdout.
fn write_lines(
    queue: mpsc::Receiver<Line>,
    mut out: impl Write,
    queued: &AtomicUsize,
    dropped: &AtomicU64,
    fail: &watch::Sender<Option<String>>,
) {
    let mut said_dropped = 0;
    let mut said_at: Option<std::time::Instant> = None;
    let mut stdout_ok = true;
    for line in queue {
        // Said at most once a second, and once more before the last lines.
        let dropped_now = dropped.load(Ordering::SeqCst);
        let due =
            said_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) || matches!(line, Line::Flush(_));
        if dropped_now > said_dropped && due {
            let mut err = anstream::stderr();
            let lines = match dropped_now - said_dropped {
                1 => "1 line of the live trace was".to_owned(),
                n => format!("{n} lines of the live trace were"),
            };
            let _ = writeln!(err, "serve: {lines} not printed: the terminal did not keep up");
            said_dropped = dropped_now;
            said_at = Some(std::time::Instant::now());
        }
        let len = match &line {
            Line::Out(text) | Line::Err(text) => text.len(),
            Line::Flush(_) => 0,
        };
        match line {
            Line::Out(text) if stdout_ok => {
                if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                    stdout_ok = false;
                    let _ = fail.send(Some(format!("cannot write the live trace to stdout ({e})")));
                }
            }
            Line::Out(_) => {}
            Line::Err(text) => {
                let mut err = anstream::stderr();
                let _ = writeln!(err, "{text}");
            }
            Line::Flush(answer) => {
                let _ = answer.send(());
            }
        }
        queued.fetch_sub(len, Ordering::SeqCst);
    }
}

/// Renders live records in the chosen format and queues them.
#[derive(Debug, Clone)]
pub struct Records {
    pub printer: Printer,
    /// JSON Lines (`--format json`) rather than text.
    pub json: bool,
    pub started: tokio::time::Instant,
}

impl Records {
    /// The time since the server started, as the JSON records give it.
    pub fn t_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub fn print(&self, live: &Live) {
        self.print_at(self.t_ms(), live);
    }

    /// Prints a record stamped `t_ms` (so that another copy of it can carry the same time).
    pub fn print_at(&self, t_ms: u64, live: &Live) {
        // A record is at most one message and its names: 32 KiB is a generous guess of its size.
        if !self.printer.has_room(32 * 1024) && !matches!(live, Live::Stopping | Live::Stopped { .. }) {
            self.printer.skip();
            return;
        }
        if self.json {
            self.printer.out(format!("{}\n", records::json(t_ms, live)));
        } else {
            self.printer.out(ui::live::text(live));
        }
    }
}
