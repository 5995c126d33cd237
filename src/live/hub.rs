//! The live trace's bookkeeping: turns the server's reports ([`ServerEvent`]) and the bots' reads
//! into [`Live`] records, in the order the server reported them.
//!
//! Most records are complete the moment the server reports them. An emit that reached bots waits
//! until each of those bots has said it read the packet, so that its "read by" line can be
//! printed with it; that wait is bounded by [`READ_BOUND`], and when it expires the record says
//! which bot did not report. Bots are in the same process and read within milliseconds, so on
//! the normal path no timer is involved. Later records queue behind a waiting one, which keeps
//! the printed order the server's order.
//!
//! The hub is plain bookkeeping: no sockets, no clock of its own. It learns who each socket is
//! from the server's [`ServerEvent::Handshake`] report (which comes before any emit can name that
//! socket), and every method that depends on time takes `now`, so its tests run without a
//! network and without waiting.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::server::ServerEvent;
use crate::trace::live::{ClientKind, Live, Sending, Unread};

/// How long a record waits for its bots to report reading it.
pub const READ_BOUND: Duration = Duration::from_secs(2);

/// Reads that arrived before the server's report of the emit, kept to be matched (bounded).
const EARLY_CAP: usize = 512;

/// Sockets remembered after they left, so a late report can still name them (bounded).
const PEOPLE_CAP: usize = 4096;

/// The most records waiting for their bots. Each waits at most [`READ_BOUND`], so this only
/// matters under a flood; past it the oldest stop waiting, so memory stays bounded.
pub const QUEUE_CAP: usize = 1024;

/// The most bytes of messages (as JSON) the waiting records may hold together: a flood of the
/// largest chat messages (16 KiB) reaches this long before [`QUEUE_CAP`].
pub const QUEUE_BYTES: usize = 2 << 20;

#[derive(Debug)]
struct Person {
    name: String,
    kind: ClientKind,
    connected: bool,
}

/// What the connection handler reported before its `Connected`: kept until then.
#[derive(Debug, Default)]
struct Stashed {
    sending: Option<(Sending, BTreeMap<String, String>)>,
    error: Option<String>,
}

#[derive(Debug)]
struct Pending {
    live: Live,
    /// The fingerprint of what the record sent, when it sent something.
    fingerprint: Option<u64>,
    /// The size of what it sent, as JSON (counted against [`QUEUE_BYTES`]).
    bytes: usize,
    /// Bots (sid → name) the record waits for.
    waiting: BTreeMap<String, String>,
    deadline: Instant,
}

/// See the module documentation.
#[derive(Debug)]
pub struct Hub {
    bot_token: String,
    people: HashMap<String, Person>,
    taken: HashSet<String>,
    /// For each name asked for, the suffix its last search for a free name stopped at (see
    /// `names.rs`).
    suffixes: HashMap<String, u32>,
    /// How many of `people` have left since they were last swept out.
    departed: usize,
    tabs: u32,
    others: u32,
    stash: HashMap<String, Stashed>,
    queue: VecDeque<Pending>,
    /// What the records in `queue` hold, in bytes (see [`QUEUE_BYTES`]).
    queued_bytes: usize,
    early: VecDeque<Read>,
    /// The sockets whose connection handler has run; bots wait to appear here before they emit.
    pub ready: watch::Sender<HashSet<String>>,
    /// Events whose handler emits nothing, with its JavaScript and whether it answers an ack:
    /// their `Handled` report is the only sign they ran (see [`Hub::quiet_handlers`]).
    quiet: HashMap<String, (&'static str, bool)>,
}

fn sending_of(live: &mut Live) -> Option<&mut Sending> {
    match live {
        Live::Connect { sending, .. } => sending.as_mut(),
        Live::Emit { sending, .. } => Some(sending),
        _ => None,
    }
}

impl Hub {
    pub fn new(bot_token: String) -> Self {
        Self {
            bot_token,
            people: HashMap::new(),
            taken: HashSet::new(),
            suffixes: HashMap::new(),
            departed: 0,
            tabs: 0,
            others: 0,
            stash: HashMap::new(),
            queue: VecDeque::new(),
            queued_bytes: 0,
            early: VecDeque::new(),
            ready: watch::Sender::new(HashSet::new()),
            quiet: HashMap::new(),
        }
    }

    /// Learns which of `behaviour`'s events are answered without an emit, from their declared
    /// effect, so that their handling shows in the trace. Events whose handler emits are shown
    /// by what they sent, and never here (a report skipped under a flood cannot turn one into
    /// a record of this kind).
    pub fn quiet_handlers(&mut self, behaviour: &crate::server::Behaviour) {
        for event in behaviour.events() {
            if let Some(effect) = behaviour.answering(event)
                && effect.emit.is_none()
            {
                let answers = effect.answers.is_some();
                self.quiet.insert(event.to_owned(), (effect.js, answers));
            }
        }
    }

    fn still_connected(&self, sid: &str) -> bool {
        self.people.get(sid).is_some_and(|p| p.connected)
    }

    fn push(&mut self, mut live: Live, mut waiting: BTreeMap<String, String>, now: Instant) {
        let mut print = None;
        let mut bytes = 0;
        // Reads that came in before the server's report belong to this record if they match.
        if let Some(sending) = sending_of(&mut live) {
            let (print_of, size) = fingerprint_and_size(&sending.event, &sending.args);
            print = Some(print_of);
            bytes = size;
            self.early.retain(|read| {
                let matches = waiting.contains_key(&read.sid)
                    && read.event == sending.event
                    && read.fingerprint == print_of;
                if matches && let Some(name) = waiting.remove(&read.sid) {
                    sending.read_by.push(name);
                    return false;
                }
                true
            });
            sending.read_by.sort();
        }
        self.queue.push_back(Pending {
            live,
            fingerprint: print,
            bytes,
            waiting,
            deadline: now + READ_BOUND,
        });
        self.queued_bytes += bytes;
    }

    /// Takes one report from the server.
    pub fn server_event(&mut self, event: ServerEvent, now: Instant) {
        self.server_report(event, None, &[], now);
    }

    /// Takes one report from server `node` of several (lesson 7; `None`: the one server), with
    /// what the other servers deliver of it (`relays`, only for an emit).
    pub fn server_report(&mut self, event: ServerEvent, node: Option<&str>, relays: &[Relay], now: Instant) {
        let node = node.map(str::to_owned);
        match event {
            ServerEvent::Handshake {
                sid,
                query,
                user_agent,
            } => self.handshake(&sid, &query, user_agent.as_deref()),
            ServerEvent::Sent {
                sid,
                trigger,
                event,
                args,
                action,
                audience,
                recipients,
            } => {
                let audience = Some(audience);
                if trigger == "connection" {
                    let built = self.sending(action, event, args, audience, &recipients, relays);
                    self.stash.entry(sid).or_default().sending = Some(built);
                } else {
                    let (sending, waiting) = self.sending(action, event, args, audience, &recipients, relays);
                    let (client, client_kind) = self.who(&sid);
                    let live = Live::Emit {
                        client,
                        client_kind,
                        trigger,
                        node,
                        sending,
                    };
                    self.push(live, waiting, now);
                }
            }
            ServerEvent::Rejected { sid, event, reason } if event == "connection" => {
                self.stash.entry(sid).or_default().error = Some(reason);
            }
            ServerEvent::Rejected { sid, event, reason } => {
                let client = self.who(&sid).0;
                self.push(
                    Live::Rejected {
                        client,
                        event,
                        reason,
                        node,
                    },
                    BTreeMap::new(),
                    now,
                );
            }
            // A socket on another namespace is the same person's (socketioxide gives it the
            // session's id): said in a note, the person stays as they were.
            ServerEvent::Connected { sid, nsp } if nsp != "/" => {
                let client = self.who(&sid).0;
                let text = format!("joined namespace {nsp} on the same connection");
                self.note(Live::Note { client, text }, now);
            }
            ServerEvent::Disconnected { sid, nsp } if nsp != "/" => {
                let client = self.who(&sid).0;
                self.note(
                    Live::Note {
                        client,
                        text: format!("left namespace {nsp}"),
                    },
                    now,
                );
            }
            ServerEvent::Connected { sid, .. } => {
                let (client, client_kind) = self.who(&sid);
                let already_left = !self.still_connected(&sid);
                if !already_left {
                    self.ready.send_modify(|ready| {
                        ready.insert(sid.clone());
                    });
                }
                let stashed = self.stash.remove(&sid).unwrap_or_default();
                let (sending, waiting) = match stashed.sending {
                    Some((mut sending, waiting)) => {
                        sending.error = stashed.error;
                        (Some(sending), waiting)
                    }
                    None => (None, BTreeMap::new()),
                };
                let live = Live::Connect {
                    client,
                    client_kind,
                    socket: names::shown_id(&sid),
                    already_left,
                    node,
                    sending,
                };
                self.push(live, waiting, now);
            }
            // The live trace does not show what came back to a server's `emitWithAck` (yet).
            ServerEvent::Acked { .. } => {}
            ServerEvent::Refused { sid, nsp, message } => {
                let client = self.who(&sid).0;
                let (event, reason) = (format!("connect to {nsp}"), format!("refused: {message}"));
                self.push(
                    Live::Rejected {
                        client,
                        event,
                        reason,
                        node,
                    },
                    BTreeMap::new(),
                    now,
                );
            }
            ServerEvent::Handled { sid, event } => {
                if let Some(&(action, answers)) = self.quiet.get(&event) {
                    let (client, client_kind) = self.who(&sid);
                    let live = Live::Handled {
                        client,
                        client_kind,
                        event,
                        action,
                        answers,
                        node,
                    };
                    self.push(live, BTreeMap::new(), now);
                }
            }
            // Reported twice when the socket closed just as its connection handler ran: once is
            // enough. (A socket the hub never heard of is reported, under a fresh name.)
            ServerEvent::Disconnected { sid, .. } if self.people.get(&sid).is_some_and(|p| !p.connected) => {}
            ServerEvent::Disconnected { sid, .. } => {
                self.ready.send_modify(|ready| {
                    ready.remove(&sid);
                });
                self.stash.remove(&sid);
                let (client, client_kind) = self.who(&sid);
                for pending in &mut self.queue {
                    if let Some(name) = pending.waiting.remove(&sid)
                        && let Some(sending) = sending_of(&mut pending.live)
                    {
                        sending.unread.push(Unread {
                            client: name,
                            why: "left before reporting that it read it".into(),
                        });
                    }
                }
                if let Some(person) = self.people.get_mut(&sid) {
                    person.connected = false;
                    self.departed += 1;
                }
                self.taken.remove(&client);
                self.push(
                    Live::Disconnect {
                        client,
                        client_kind,
                        node,
                    },
                    BTreeMap::new(),
                    now,
                );
            }
        }
    }

    /// Takes one read reported by a bot.
    pub fn bot_read(&mut self, read: Read) {
        for pending in &mut self.queue {
            if !pending.waiting.contains_key(&read.sid) {
                continue;
            }
            if pending.fingerprint != Some(read.fingerprint) {
                continue;
            }
            let Some(sending) = sending_of(&mut pending.live) else {
                continue;
            };
            if sending.event == read.event {
                if let Some(name) = pending.waiting.remove(&read.sid) {
                    sending.read_by.push(name);
                    sending.read_by.sort();
                }
                return;
            }
        }
        if self.early.len() == EARLY_CAP {
            self.early.pop_front();
        }
        self.early.push_back(read);
    }

    /// Adds a record that needs nothing else (a bot's note).
    pub fn note(&mut self, live: Live, now: Instant) {
        self.push(live, BTreeMap::new(), now);
    }

    /// When the oldest record stops waiting, if it waits at all.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.queue
            .front()
            .filter(|p| !p.waiting.is_empty())
            .map(|p| p.deadline)
    }

    /// The records that are ready to print, oldest first: complete, or done waiting.
    pub fn take_ready(&mut self, now: Instant) -> Vec<Live> {
        let mut ready = Vec::new();
        while self.queue.len() > QUEUE_CAP || self.queued_bytes > QUEUE_BYTES {
            let why = "the live trace fell too far behind a flood, so it stopped waiting for this one";
            let mut first = true;
            ready.extend(self.release(|_| std::mem::take(&mut first), why));
        }
        let why = format!("did not report reading it within {READ_BOUND:?}");
        ready.extend(self.release(|front| front.waiting.is_empty() || front.deadline <= now, &why));
        ready
    }

    /// Everything still queued, ready or not (at shutdown).
    pub fn take_all(&mut self) -> Vec<Live> {
        self.release(|_| true, "the server stopped before it reported reading it")
    }

    fn release(&mut self, mut done: impl FnMut(&Pending) -> bool, why: &str) -> Vec<Live> {
        let mut ready = Vec::new();
        while self.queue.front().is_some_and(&mut done) {
            let Some(mut pending) = self.queue.pop_front() else {
                break;
            };
            self.queued_bytes -= pending.bytes;
            if let Some(sending) = sending_of(&mut pending.live) {
                for (_, name) in std::mem::take(&mut pending.waiting) {
                    sending.unread.push(Unread {
                        client: name,
                        why: why.to_owned(),
                    });
                }
            }
            ready.push(pending.live);
        }
        ready
    }
}

mod names;
mod sending;
pub use names::Relay;
mod read;
use read::fingerprint_and_size;
pub use read::{Read, fingerprint};
#[cfg(test)]
mod tests;
