//! The live trace for web pages: every record `serve` prints, also handed to the `/tutor/` pages
//! that watch it, without ever letting a slow page hold the server up.
//!
//! A page that watches holds an HTTP response open and reads one JSON line per record. Pages
//! read at their own pace, and a browser tab in the background may not read at all, so the
//! records go through a [`tokio::sync::broadcast`] channel: one bounded ring of [`RING`] records
//! shared by every page. Sending never waits. A page that falls more than a ring behind misses
//! the oldest records, and its next read says how many (`RecvError::Lagged`), which the page is
//! then told in a line of its own (`{"kind":"lagged","missed":N}`).
//!
//! A page opened after the server started still wants to see who is there, so the feed keeps the
//! last [`BACKLOG`] records (at most [`BACKLOG_BYTES`] of them) and the line that names the
//! stage, and a new page gets those first. Both are taken under one lock with the subscription,
//! so a page sees every record once, in order, from where its backlog ends.
//!
//! Memory: a record holds at most one message (16 KiB, at most six times that once escaped as
//! JSON) and its names, so the ring holds at most about 6 MiB under a flood of the largest
//! messages while a page watches and does not read (a record sent while no page watches is not
//! kept), and a few dozen KiB for ordinary chat; the backlog at most 256 KiB.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use tokio::sync::broadcast;

/// How many records the shared ring holds: a page more than this far behind misses records.
pub const RING: usize = 64;

/// How many of the latest records a newly opened page gets first.
pub const BACKLOG: usize = 200;

/// The most bytes of records the backlog keeps, whatever their number: 256 KiB, the last 200
/// records of an ordinary chat (a few hundred bytes each) and still a dozen of the largest.
pub const BACKLOG_BYTES: usize = 256 * 1024;

/// One JSON line, newline included. `Bytes` clones share the buffer: every page reads the same one.
pub type Record = Bytes;

#[derive(Debug, Default)]
struct Shared {
    /// The line that names what is served; every page gets it first.
    about: Option<Record>,
    backlog: VecDeque<Record>,
    backlog_bytes: usize,
    /// `None` once the feed is closed (the server is stopping).
    sender: Option<broadcast::Sender<Record>>,
}

/// See the module documentation. Cloning shares the feed.
#[derive(Debug, Clone)]
pub struct Feed {
    shared: Arc<Mutex<Shared>>,
}

/// What a page gets when it starts watching: the lines so far, then the live ones.
#[derive(Debug)]
pub struct Watching {
    pub so_far: Vec<Record>,
    pub live: broadcast::Receiver<Record>,
}

impl Default for Feed {
    fn default() -> Self {
        Self::new()
    }
}

impl Feed {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(RING);
        let shared = Shared {
            sender: Some(sender),
            ..Shared::default()
        };
        Self {
            shared: Arc::new(Mutex::new(shared)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        // Nothing under this lock can panic halfway through an update; a poisoned lock still
        // holds consistent data.
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the line every page gets first (what is served).
    pub fn about(&self, line: String) {
        self.lock().about = Some(record(line));
    }

    /// Hands one JSON line to every page watching, and keeps it for pages opened later. Never
    /// waits.
    pub fn publish(&self, line: String) {
        let record = record(line);
        let mut shared = self.lock();
        shared.backlog_bytes += record.len();
        shared.backlog.push_back(record.clone());
        while shared.backlog.len() > BACKLOG || shared.backlog_bytes > BACKLOG_BYTES {
            let Some(old) = shared.backlog.pop_front() else {
                break;
            };
            shared.backlog_bytes -= old.len();
        }
        if let Some(sender) = &shared.sender {
            // An error only means that no page is watching right now.
            let _ = sender.send(record);
        }
    }

    /// Starts watching: `None` once the feed is closed.
    pub fn watch(&self) -> Option<Watching> {
        let shared = self.lock();
        let live = shared.sender.as_ref()?.subscribe();
        let so_far = shared.about.iter().chain(&shared.backlog).cloned().collect();
        Some(Watching { so_far, live })
    }

    /// Ends every page's stream (after the last records were published): the server stops.
    pub fn close(&self) {
        self.lock().sender = None;
    }
}

/// One line as a record. A `String` built by serde grows by doubling, so it may hold twice its
/// length; `Bytes` keeps whatever it is given. The record is cut to its length, so that the
/// backlog's byte count is what it really holds.
fn record(mut line: String) -> Record {
    line.push('\n');
    line.shrink_to_fit();
    Record::from(line)
}

/// The line a page reads when it fell behind and missed records.
pub fn lagged(missed: u64) -> Record {
    Record::from(format!("{{\"kind\":\"lagged\",\"missed\":{missed}}}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::broadcast::error::TryRecvError;

    fn text(record: &Record) -> &str {
        std::str::from_utf8(record).unwrap().trim_end()
    }

    #[test]
    fn a_late_page_gets_the_stage_and_the_backlog_then_the_live_records() {
        let feed = Feed::new();
        feed.about("{\"kind\":\"serving\"}".into());
        feed.publish("1".into());
        let mut page = feed.watch().unwrap();
        feed.publish("2".into());
        let so_far: Vec<&str> = page.so_far.iter().map(text).collect();
        assert_eq!(so_far, ["{\"kind\":\"serving\"}", "1"]);
        assert_eq!(text(&page.live.try_recv().unwrap()), "2");
        assert!(matches!(page.live.try_recv(), Err(TryRecvError::Empty)));
    }

    #[test]
    fn a_page_that_does_not_read_is_told_how_many_it_missed_and_never_blocks_the_feed() {
        let feed = Feed::new();
        let mut page = feed.watch().unwrap();
        for i in 0..RING + 10 {
            feed.publish(i.to_string());
        }
        assert!(matches!(page.live.try_recv(), Err(TryRecvError::Lagged(10))));
        assert_eq!(text(&page.live.try_recv().unwrap()), "10");
        assert_eq!(text(&lagged(10)), r#"{"kind":"lagged","missed":10}"#);
    }

    #[test]
    fn the_backlog_is_bounded_in_records_and_bytes() {
        let feed = Feed::new();
        for i in 0..BACKLOG * 2 {
            feed.publish(i.to_string());
        }
        let page = feed.watch().unwrap();
        assert_eq!(page.so_far.len(), BACKLOG);
        assert_eq!(text(&page.so_far[0]), BACKLOG.to_string());
        let big = "x".repeat(BACKLOG_BYTES / 4);
        for _ in 0..8 {
            feed.publish(big.clone());
        }
        let page = feed.watch().unwrap();
        let bytes: usize = page.so_far.iter().map(Bytes::len).sum();
        assert!(bytes <= BACKLOG_BYTES, "{bytes}");
    }

    #[test]
    fn closing_ends_every_stream_and_refuses_new_pages() {
        let feed = Feed::new();
        let mut page = feed.watch().unwrap();
        feed.close();
        assert!(matches!(page.live.try_recv(), Err(TryRecvError::Closed)));
        assert!(feed.watch().is_none());
    }
}
