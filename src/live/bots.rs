//! `--bots K`: simulated clients that keep a browser tab company.
//!
//! A bot is a [`SimClient`] (the same client the lessons use) with a small loop around it: it
//! joins, waits until the server reports that its connection handler ran, then acts now and then
//! in a way the lesson's server answers: it chats if the server has a `'chat message'` handler,
//! leaves and rejoins if the server emits on connection, and otherwise just stays. Every event it
//! reads off its socket is reported to the live trace ("read by"). A timer paces what the bots
//! do, so the room feels alive; no timer decides what the trace says.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};

use super::hub::Read;
use crate::client::{ConnectOptions, Incoming, SimClient};
use crate::server::Behaviour;

/// The most bots `--bots` accepts: enough for a lively room, few enough to read the trace.
pub const MAX_BOTS: u8 = 8;

/// Bot names, in joining order: the lessons' own cast first.
pub const NAMES: [&str; MAX_BOTS as usize] =
    ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];

/// What bots say, picked at random.
const LINES: [&str; 10] = [
    "hi all",
    "anyone else here?",
    "this page came from the same port as the socket",
    "typing from a bot, don't mind me",
    "does everyone get this?",
    "who just joined?",
    "brb",
    "ok, back",
    "realtime, but in Rust",
    "what does io.emit do again?",
];

/// What a bot tells the live trace.
#[derive(Debug)]
pub enum BotMsg {
    /// It read an event off its socket.
    Read(Read),
    /// Something about itself worth a line (it could not connect, it was disconnected).
    Note { client: String, text: String },
}

/// How a bot keeps the room busy, chosen from what the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Send a chat message now and then.
    Chat,
    /// Leave and join again now and then (the server emits on connection).
    Rejoin,
    /// Join and stay.
    Stay,
}

impl Plan {
    pub fn for_server(behaviour: &Behaviour) -> Self {
        if behaviour.answering("chat message").is_some() {
            Self::Chat
        } else if behaviour.on_connection().is_some_and(|e| e.emit.is_some()) {
            Self::Rejoin
        } else {
            Self::Stay
        }
    }

    /// How long until the next action.
    fn pause(self, rng: &mut fastrand::Rng) -> Duration {
        let ms = match self {
            Self::Chat => rng.u64(3_000..9_000),
            Self::Rejoin => rng.u64(8_000..16_000),
            Self::Stay => 3_600_000,
        };
        Duration::from_millis(ms)
    }
}

/// Where the bots connect and whom they report to.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Where bot `i` connects: `bases[i % bases.len()]`, each an `http://127.0.0.1:PORT`. With
    /// several servers (lesson 7) the bots spread over them: alice on A, bob on B, ….
    pub bases: Vec<String>,
    /// Marks the bots' handshakes, so the trace can tell them from other clients.
    pub token: String,
    pub plan: Plan,
    /// Sockets whose connection handler has run (see `hub::Hub::ready`).
    pub ready: watch::Receiver<HashSet<String>>,
    /// Bounded ([`REPORTS`]). A bot never waits for room: waiting would not slow its socket
    /// down (the client keeps reading frames meanwhile), only make them pile up in the bot. A
    /// read that finds no room is not reported, the bot counts it and says how many in a note;
    /// the record then lists that bot as not having reported reading it.
    pub report: mpsc::Sender<BotMsg>,
}

/// A fresh secret for this serve: the bots send it in their handshake (`bot=TOKEN`), so the
/// hub tells them from a stranger's client that calls itself a bot.
pub fn token() -> String {
    let mut rng = fastrand::Rng::new();
    std::iter::repeat_with(|| rng.alphanumeric()).take(16).collect()
}

/// How many reports the bots may have waiting for the live trace, all together.
pub const REPORTS: usize = 256;

/// How many bytes of events may wait in one bot's client for the bot to read them: 256 KiB,
/// eight of the largest chat messages (16 KiB on the wire, about as much again decoded), and
/// hundreds of ordinary ones.
///
/// A bot reads each event as soon as it arrives and keeps only its report, so its queue only
/// fills when the machine is too busy to run the bot. The client's default (2 MiB, for a lesson
/// step that is judged later) would then let eight bots hold 16 MiB of a flood between them;
/// with this, what a busy bot has not read waits in TCP's buffers and, past those, in the
/// server's per-socket buffer, where a full buffer is reported as a loss for that bot.
pub const INCOMING_BYTES: usize = 256 * 1024;

/// How long a leaving bot waits for the server to close its connection. Leaving is sending `41`
/// and a WebSocket close; the wait only lets the server's answer arrive before the connection is
/// dropped, and a server under load that answers later has lost nothing.
const LEAVE_WAIT: Duration = Duration::from_millis(300);

/// The running bots.
#[derive(Debug)]
pub struct Bots {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Bots {
    /// Starts `count` bots (at most [`MAX_BOTS`]).
    pub fn start(count: u8, setup: &Setup) -> Self {
        let (stop, stopped) = watch::channel(false);
        let tasks = NAMES
            .iter()
            .take(count.min(MAX_BOTS) as usize)
            .enumerate()
            .map(|(i, name)| tokio::spawn(run(i as u64, name, setup.clone(), stopped.clone())))
            .collect();
        Self { stop, tasks }
    }

    /// Asks every bot to leave, and waits at most `bound` for all of them together; the bots
    /// still there then are aborted (their connections simply drop). Returns true when every bot
    /// left in time.
    ///
    /// One deadline for the lot, not one per bot: the bots leave at the same time, so waiting for
    /// them in turn, each with its own bound, could add up to eight bounds.
    pub async fn stop(self, bound: Duration) -> bool {
        let _ = self.stop.send(true);
        let aborts: Vec<_> = self.tasks.iter().map(JoinHandle::abort_handle).collect();
        let left = timeout(bound, join_all(self.tasks)).await.is_ok();
        if !left {
            for abort in aborts {
                abort.abort();
            }
        }
        left
    }
}

/// How a bot's stay on the server ended.
enum End {
    Stop,
    Rejoin,
    Closed(String),
}

/// Waits `pause`, or less if the bots are asked to stop. Returns true when they are.
async fn pause_or_stop(stop: &mut watch::Receiver<bool>, pause: Duration) -> bool {
    if *stop.borrow() {
        return true;
    }
    timeout(pause, stop.changed()).await.is_ok()
}

async fn run(index: u64, name: &'static str, setup: Setup, mut stop: watch::Receiver<bool>) {
    let mut rng = fastrand::Rng::new();
    let note = |text: String| {
        let _ = setup.report.try_send(BotMsg::Note {
            client: name.to_owned(),
            text,
        });
    };
    // Arrive one after another, so the trace shows each join on its own.
    if pause_or_stop(&mut stop, Duration::from_millis(250 * index + rng.u64(0..250))).await {
        return;
    }
    let Some(base) = setup.bases.get(index as usize % setup.bases.len().max(1)) else {
        return;
    };
    let options = ConnectOptions {
        incoming_bytes: INCOMING_BYTES,
        ..ConnectOptions::default()
    };
    loop {
        let query = [("name", name), ("bot", setup.token.as_str())];
        let mut client = match SimClient::connect_with_query(base, &options, &query).await {
            Ok(client) => client,
            Err(e) => {
                note(format!("could not connect ({e}); this bot stops"));
                return;
            }
        };
        // socketioxide answers the CONNECT before it runs the connection handler, which is what
        // registers socket.on('chat message'). An event sent in between is dropped, so a bot
        // waits until the server reports that the handler ran.
        let sid = client.sid.clone();
        let mut ready = setup.ready.clone();
        let talk = matches!(
            timeout(options.timeout, ready.wait_for(|set| set.contains(&sid))).await,
            Ok(Ok(_))
        );
        if !talk {
            note(format!(
                "the server did not report this bot's connection handler within {:?}; it stays quiet",
                options.timeout
            ));
        }
        let end = stay(name, &mut client, &setup, talk, &mut rng, &mut stop).await;
        match end {
            End::Stop => {
                leave(&mut client, &setup).await;
                return;
            }
            End::Rejoin => {
                leave(&mut client, &setup).await;
                if pause_or_stop(&mut stop, Duration::from_millis(rng.u64(1_000..2_500))).await {
                    return;
                }
            }
            End::Closed(reason) => {
                note(format!(
                    "was disconnected ({reason}); it joins again in a few seconds"
                ));
                if pause_or_stop(&mut stop, Duration::from_secs(3)).await {
                    return;
                }
            }
        }
    }
}

/// Reads and reports everything the server sends, and acts when the pause is over.
async fn stay(
    name: &str,
    client: &mut SimClient,
    setup: &Setup,
    talk: bool,
    rng: &mut fastrand::Rng,
    stop: &mut watch::Receiver<bool>,
) -> End {
    // A chatting bot greets the room as soon as it may; after that, a timer paces it.
    let mut next = match setup.plan {
        Plan::Chat => Instant::now(),
        _ => Instant::now() + setup.plan.pause(rng),
    };
    let mut greeted = false;
    let name_of_bot = name;
    let mut unreported = 0u64;
    loop {
        if *stop.borrow() {
            return End::Stop;
        }
        let left = next.saturating_duration_since(Instant::now());
        tokio::select! {
            _ = stop.changed() => return End::Stop,
            item = client.next(left) => {
                // The client logs every frame for `--wire`; a bot never shows them, so it lets
                // them go at once and keeps nothing it read beyond the report below.
                drop(client.take_wire());
                match item {
                Some(Incoming::Event { name, args }) => {
                    let read = Read::new(client.sid.clone(), name, &args);
                    match setup.report.try_send(BotMsg::Read(read)) {
                        Ok(()) if unreported > 0 => {
                            let _ = setup.report.try_send(BotMsg::Note {
                                client: name_of_bot.to_owned(),
                                text: format!(
                                    "{unreported} of its reads were not reported: the live trace was busy"
                                ),
                            });
                            unreported = 0;
                        }
                        Ok(()) => {}
                        Err(mpsc::error::TrySendError::Full(_)) => unreported += 1,
                        Err(mpsc::error::TrySendError::Closed(_)) => return End::Stop,
                    }
                }
                Some(Incoming::Closed { reason }) => return End::Closed(reason),
                None => {
                    match setup.plan {
                        Plan::Chat if talk => {
                            let line = if greeted {
                                LINES[rng.usize(0..LINES.len())].to_owned()
                            } else {
                                format!("hello, {name} here (a bot)")
                            };
                            greeted = true;
                            if client.emit("chat message", vec![Value::from(line)]).is_err() {
                                return End::Closed("its connection is closed".into());
                            }
                        }
                        Plan::Rejoin => return End::Rejoin,
                        _ => {}
                    }
                    next = Instant::now() + setup.plan.pause(rng);
                }
            }},
        }
    }
}

/// Leaves politely (`41`, then a WebSocket close) and waits, briefly ([`LEAVE_WAIT`]), for the
/// server to close the connection, so the frames are not cut off when the client is dropped. Whatever arrives
/// meanwhile was still read, and is reported.
async fn leave(client: &mut SimClient, setup: &Setup) {
    client.disconnect();
    let until = Instant::now() + LEAVE_WAIT;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let item = client.next(left).await;
        drop(client.take_wire());
        match item {
            Some(Incoming::Event { name, args }) => {
                // Never waits: at shutdown nobody takes reports any more.
                let read = Read::new(client.sid.clone(), name, &args);
                let _ = setup.report.try_send(BotMsg::Read(read));
            }
            Some(Incoming::Closed { .. }) | None => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bots that never leave: the shutdown still ends after one bound, not one bound per bot.
    #[tokio::test]
    async fn stuck_bots_share_one_deadline() {
        let (stop, _) = watch::channel(false);
        let tasks = (0..MAX_BOTS)
            .map(|_| tokio::spawn(std::future::pending::<()>()))
            .collect();
        let bound = Duration::from_millis(300);
        let started = std::time::Instant::now();
        assert!(
            !Bots { stop, tasks }.stop(bound).await,
            "the stuck bots did not leave"
        );
        let took = started.elapsed();
        // Waiting for the eight in turn would take 8 × 300 ms; the margin allows for a busy machine.
        assert!(
            took < bound * 3,
            "stopping took {took:?} for a bound of {bound:?}"
        );
    }

    /// Bots that leave as soon as they are asked are waited for, and the shutdown is clean.
    #[tokio::test]
    async fn bots_that_leave_are_waited_for() {
        let (stop, stopped) = watch::channel(false);
        let tasks = (0..MAX_BOTS)
            .map(|_| {
                let mut stopped = stopped.clone();
                tokio::spawn(async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                })
            })
            .collect();
        assert!(Bots { stop, tasks }.stop(Duration::from_secs(10)).await);
    }
}
