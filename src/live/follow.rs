//! The loop every `serve` runs, with one server or several: it takes the servers' reports and
//! the bots' reads, turns them into records through the [`Hub`], and hands each record to be
//! printed and fed to the `/tutor/` pages, until it is asked to stop.
//!
//! Where the reports come from is the one thing that differs: one stage server
//! ([`StageServer`]), or lesson 7's servers joined by Redis ([`super::nodes`]), which also say
//! which server made each report and what the other servers deliver of a broadcast. Both are a
//! [`Reports`].

use std::future::Future;
use std::pin::Pin;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::Stop;
use super::bots::BotMsg;
use super::hub::{Hub, Relay};
use crate::server::{ServerEvent, StageServer};
use crate::trace::live::Live;

/// One report from a server, as the hub takes it.
#[derive(Debug)]
pub struct Report {
    pub event: ServerEvent,
    /// The server that made it, when serve runs several (lesson 7).
    pub node: Option<String>,
    /// For an emit: what each other server delivers of it through the adapter.
    pub relays: Vec<Relay>,
}

impl Report {
    /// A report from the one server.
    pub fn one(event: ServerEvent) -> Self {
        Self {
            event,
            node: None,
            relays: Vec::new(),
        }
    }
}

/// Where the servers' reports come from.
pub trait Reports {
    /// The next report, in the order its server made it; `None` once the servers are gone.
    /// Cancel-safe: a report is never lost when the future is dropped before it completes.
    fn next(&mut self) -> impl Future<Output = Option<Report>>;
    /// How many reports are waiting to be taken.
    fn pending(&self) -> usize;
}

impl Reports for StageServer {
    async fn next(&mut self) -> Option<Report> {
        self.next_event().await.map(Report::one)
    }

    fn pending(&self) -> usize {
        self.pending_events()
    }
}

/// How many server reports may wait before the loop starts skipping emits. Each holds at most
/// one message (16 KiB), so this bounds what a flood makes the tutor hold to about 2 MiB.
const BEHIND: usize = 128;

/// Reports that the loop may leave out when it is behind: those about one message (what it
/// sent, that it was handled). Who joined and who left are always taken: the names, and which
/// sockets bots may talk to, depend on them.
fn skippable(event: &ServerEvent) -> bool {
    match event {
        ServerEvent::Sent { trigger, .. } => trigger != "connection",
        // What came back to a server's `emitWithAck`: the live trace does not show it yet.
        ServerEvent::Handled { .. } | ServerEvent::Acked { .. } => true,
        ServerEvent::Rejected { event, .. } => event != "connection",
        ServerEvent::Handshake { .. }
        | ServerEvent::Connected { .. }
        | ServerEvent::Disconnected { .. }
        | ServerEvent::Refused { .. } => false,
    }
}

fn take_bot_msg(hub: &mut Hub, msg: BotMsg) {
    match msg {
        BotMsg::Read(read) => hub.bot_read(read),
        BotMsg::Note { client, text } => hub.note(Live::Note { client, text }, std::time::Instant::now()),
    }
}

/// Follows `source` and the bots' `reads` into `print` until `shutdown` completes (or the
/// servers are gone), and says why it stopped. What is still waiting in the hub is left there
/// for the caller's shutdown ([`Hub::take_all`]).
pub async fn follow(
    source: &mut impl Reports,
    hub: &mut Hub,
    reads: &mut mpsc::Receiver<BotMsg>,
    print: &impl Fn(&Live),
    mut shutdown: Pin<&mut impl Future<Output = Stop>>,
) -> Stop {
    let mut skipped = 0u64;
    loop {
        let deadline = hub.next_deadline();
        tokio::select! {
            // `biased` polls the branches in the order written: the shutdown first, then the
            // bots' reports, so that a bot's read is counted before the server's later reports.
            biased;
            why = &mut shutdown => return why,
            Some(msg) = reads.recv() => take_bot_msg(hub, msg),
            report = source.next() => {
                let Some(report) = report else { return Stop::Asked };
                // Under a flood, handlers report faster than a trace line can be written.
                // Reports wait in the server's channel, and each holds its message: far behind,
                // the loop skips what it cannot show, and says how much.
                if source.pending() > BEHIND && skippable(&report.event) {
                    skipped += 1;
                    continue;
                }
                if skipped > 0 {
                    print(&Live::Note {
                        client: "serve".to_owned(),
                        text: format!(
                            "the live trace fell behind a flood of messages: {skipped} handler {} \
                             not shown",
                            if skipped == 1 { "report was" } else { "reports were" }
                        ),
                    });
                    skipped = 0;
                }
                // A bot reports a read before it does anything that makes the server report
                // (leaving, say); take every such read before the server's report.
                while let Ok(msg) = reads.try_recv() {
                    take_bot_msg(hub, msg);
                }
                let now = std::time::Instant::now();
                hub.server_report(report.event, report.node.as_deref(), &report.relays, now);
            }
            // Wakes the loop when the oldest trace line's wait for its bots' read reports runs
            // out (hub::READ_BOUND). Live browsers give no fences, so this is the bounded
            // fallback: the line is printed then, a silent bot listed as "did not report reading
            // it within 2s", never as "did not receive".
            _ = tokio::time::sleep_until(deadline.map(Instant::from_std).unwrap_or_else(Instant::now)),
                if deadline.is_some() => {}
        }
        for live in hub.take_ready(std::time::Instant::now()) {
            print(&live);
        }
    }
}
