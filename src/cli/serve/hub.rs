//! The live trace's bookkeeping: turns the server's reports ([`ServerEvent`]) and the bots' reads
//! into [`Live`] records, in the order the server reported them.
//!
//! Most records are complete the moment the server reports them. An emit that reached bots waits
//! until each of those bots has said it read the packet, so that its "read by" line can be
//! printed with it; that wait is bounded by [`READ_BOUND`], and when it expires the record says
//! which bot did not report. Bots are in the same process and read within milliseconds, so on
//! the normal path no timer is involved. Later records queue behind a waiting one, which keeps
//! the printed order the server's order.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use axum::extract::Query;
use serde_json::Value;
use socketioxide::SocketIo;
use tokio::sync::watch;

use super::view::{ClientKind, Live, Sending, Unread};
use crate::server::{ServerEvent, live::Recipients};
use crate::vocab::Audience;

/// How long a record waits for its bots to report reading it.
pub const READ_BOUND: Duration = Duration::from_secs(2);

/// Reads that arrived before the server's report of the emit, kept to be matched (bounded).
const EARLY_CAP: usize = 512;

/// Sockets remembered after they left, so a late report can still name them (bounded).
const PEOPLE_CAP: usize = 4096;

/// A bot read an event off its socket.
#[derive(Debug, Clone)]
pub struct Read {
    pub sid: String,
    pub event: String,
    pub args: Vec<Value>,
}

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
    /// Bots (sid → name) the record waits for.
    waiting: BTreeMap<String, String>,
    deadline: Instant,
}

/// See the module documentation.
#[derive(Debug)]
pub struct Hub {
    io: Option<SocketIo>,
    bot_token: String,
    people: HashMap<String, Person>,
    taken: HashSet<String>,
    tabs: u32,
    others: u32,
    stash: HashMap<String, Stashed>,
    queue: VecDeque<Pending>,
    early: VecDeque<Read>,
    /// The sockets whose connection handler has run; bots wait to appear here before they emit.
    pub ready: watch::Sender<HashSet<String>>,
}

fn plain_name(name: &str) -> bool {
    (1..=20).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn sending_of(live: &mut Live) -> Option<&mut Sending> {
    match live {
        Live::Connect { sending, .. } => sending.as_mut(),
        Live::Emit { sending, .. } => Some(sending),
        _ => None,
    }
}

impl Hub {
    pub fn new(io: Option<SocketIo>, bot_token: String) -> Self {
        Self {
            io,
            bot_token,
            people: HashMap::new(),
            taken: HashSet::new(),
            tabs: 0,
            others: 0,
            stash: HashMap::new(),
            queue: VecDeque::new(),
            early: VecDeque::new(),
            ready: watch::Sender::new(HashSet::new()),
        }
    }

    /// The name and kind of socket `sid`, from its handshake the first time it is seen: a
    /// `name` query parameter if it gave one (bots and test clients do), `tab-N` for a browser,
    /// `client-N` for anything else.
    fn who(&mut self, sid: &str) -> (String, ClientKind) {
        if let Some(person) = self.people.get(sid) {
            return (person.name.clone(), person.kind);
        }
        let socket = self
            .io
            .as_ref()
            .and_then(|io| io.of("/"))
            .and_then(|ns| ns.get_socket(sid.parse().ok()?));
        let (wanted, kind) = match &socket {
            Some(socket) => {
                let parts = socket.req_parts();
                let query: HashMap<String, String> =
                    Query::try_from_uri(&parts.uri).map(|q| q.0).unwrap_or_default();
                let agent = parts
                    .headers
                    .get(axum::http::header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let kind = if query.get("bot") == Some(&self.bot_token) {
                    ClientKind::Bot
                } else if agent.contains("Mozilla/") {
                    ClientKind::Browser
                } else {
                    ClientKind::Client
                };
                (query.get("name").filter(|n| plain_name(n)).cloned(), kind)
            }
            None => (None, ClientKind::Client),
        };
        let base = wanted.unwrap_or_else(|| match kind {
            ClientKind::Browser => {
                self.tabs += 1;
                format!("tab-{}", self.tabs)
            }
            _ => {
                self.others += 1;
                format!("client-{}", self.others)
            }
        });
        let mut name = base.clone();
        let mut n = 1;
        while self.taken.contains(&name) {
            n += 1;
            name = format!("{base}-{n}");
        }
        // A socket the server no longer knows has already left (a client that connected and
        // broke its connection at once): its name is free again straight away.
        let connected = socket.is_some();
        if connected {
            self.taken.insert(name.clone());
        }
        if self.people.len() >= PEOPLE_CAP {
            self.people.retain(|_, p| p.connected);
        }
        self.people.insert(
            sid.to_owned(),
            Person {
                name: name.clone(),
                kind,
                connected,
            },
        );
        (name, kind)
    }

    fn still_connected(&self, sid: &str) -> bool {
        self.people.get(sid).is_some_and(|p| p.connected)
    }

    fn sorted_names(&mut self, sids: &[String]) -> Vec<String> {
        let mut names: Vec<String> = sids.iter().map(|sid| self.who(sid).0).collect();
        names.sort();
        names
    }

    /// Builds the "sent to" part of a record, and the bots it should wait for.
    fn sending(
        &mut self,
        action: &'static str,
        event: String,
        args: Vec<Value>,
        audience: Option<Audience>,
        recipients: &Recipients,
    ) -> (Sending, BTreeMap<String, String>) {
        let mut waiting = BTreeMap::new();
        for sid in &recipients.to {
            let (name, kind) = self.who(sid);
            if kind == ClientKind::Bot {
                waiting.insert(sid.clone(), name);
            }
        }
        let sending = Sending {
            action,
            event,
            args,
            audience,
            sent_to: self.sorted_names(&recipients.to),
            not_sent_to: self.sorted_names(&recipients.skipped),
            unsure: self.sorted_names(&recipients.unsure),
            read_by: Vec::new(),
            unread: Vec::new(),
            error: None,
        };
        (sending, waiting)
    }

    fn push(&mut self, mut live: Live, mut waiting: BTreeMap<String, String>, now: Instant) {
        // Reads that came in before the server's report belong to this record if they match.
        if let Some(sending) = sending_of(&mut live) {
            self.early.retain(|read| {
                let matches = waiting.contains_key(&read.sid)
                    && read.event == sending.event
                    && read.args == sending.args;
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
            waiting,
            deadline: now + READ_BOUND,
        });
    }

    /// Takes one report from the server.
    pub fn server_event(&mut self, event: ServerEvent, now: Instant) {
        match event {
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
                    let built = self.sending(action, event, args, audience, &recipients);
                    self.stash.entry(sid).or_default().sending = Some(built);
                } else {
                    let (sending, waiting) = self.sending(action, event, args, audience, &recipients);
                    let (client, client_kind) = self.who(&sid);
                    let live = Live::Emit {
                        client,
                        client_kind,
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
                    },
                    BTreeMap::new(),
                    now,
                );
            }
            ServerEvent::Connected { sid } => {
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
                    socket: sid,
                    already_left,
                    sending,
                };
                self.push(live, waiting, now);
            }
            ServerEvent::Handled { .. } => {}
            ServerEvent::Disconnected { sid } => {
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
                }
                self.taken.remove(&client);
                self.push(Live::Disconnect { client, client_kind }, BTreeMap::new(), now);
            }
        }
    }

    /// Takes one read reported by a bot.
    pub fn bot_read(&mut self, read: Read) {
        for pending in &mut self.queue {
            if !pending.waiting.contains_key(&read.sid) {
                continue;
            }
            let Some(sending) = sending_of(&mut pending.live) else {
                continue;
            };
            if sending.event == read.event && sending.args == read.args {
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
        let why = format!("did not report reading it within {READ_BOUND:?}");
        self.release(|front| front.waiting.is_empty() || front.deadline <= now, &why)
    }

    /// Everything still queued, ready or not (at shutdown).
    pub fn take_all(&mut self) -> Vec<Live> {
        self.release(|_| true, "the server stopped before it reported reading it")
    }

    fn release(&mut self, done: impl Fn(&Pending) -> bool, why: &str) -> Vec<Live> {
        let mut ready = Vec::new();
        while self.queue.front().is_some_and(&done) {
            let Some(mut pending) = self.queue.pop_front() else {
                break;
            };
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
