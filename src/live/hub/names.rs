//! How the hub names sockets: from what each one's handshake says.

use std::collections::BTreeMap;

use super::{ClientKind, Hub, PEOPLE_CAP, Person};
use crate::server::observe::live::Recipients;
use crate::trace::live::Relayed;

/// Another server's part of a broadcast (lesson 7), by socket id: the sockets that server holds
/// and the broadcast selects there, and those it leaves out, with why (see [`Relayed`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relay {
    pub node: String,
    pub to: Vec<String>,
    pub skipped: Vec<(String, String)>,
}

/// How a socket's id is shown in the live trace and on `/tutor/events`: its first four
/// characters and `…`, enough to tell the tabs apart (each page shows the same), never the whole.
///
/// In socketioxide a socket's id *is* its Engine.IO session id, and over long-polling whoever
/// knows that id can post packets into the session (`POST /socket.io/?…&sid=ID`). Node keeps the
/// two apart (`socket.id` is not the session's id). The feed is readable by every page this
/// server answers and by any local program, so it names a socket by a part too short to use.
pub fn shown_id(sid: &str) -> String {
    let part: String = sid.chars().take(4).collect();
    format!("{part}…")
}

fn plain_name(name: &str) -> bool {
    (1..=20).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl Hub {
    /// The name and kind of socket `sid`. Every socket an emit names has had its handshake
    /// reported first (see [`crate::server::observe::live::identify`]); one that was forgotten since
    /// (more than `PEOPLE_CAP` sockets ago) gets a fresh `client-N`.
    pub(super) fn who(&mut self, sid: &str) -> (String, ClientKind) {
        if let Some(person) = self.people.get(sid) {
            return (person.name.clone(), person.kind);
        }
        self.others += 1;
        let name = format!("client-{}", self.others);
        self.remember(sid, &name, ClientKind::Client, false);
        (name, ClientKind::Client)
    }

    /// A socket's handshake: its name is the `name` query parameter if it gave a plain one (bots
    /// and test clients do), else `tab-N` for a browser and `client-N` for anything else; a name
    /// in use gets `-2`, `-3`, …. A connected socket's id seen again is its session joining
    /// another namespace: nothing changes.
    pub(super) fn handshake(&mut self, sid: &str, query: &[(String, String)], user_agent: Option<&str>) {
        // The same session joining one more namespace (socketioxide gives its sockets the
        // session's id): the same person, already named.
        if self.people.get(sid).is_some_and(|p| p.connected) {
            return;
        }
        let param = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        let kind = if param("bot") == Some(self.bot_token.as_str()) {
            ClientKind::Bot
        } else if user_agent.is_some_and(|a| a.contains("Mozilla/")) {
            ClientKind::Browser
        } else {
            ClientKind::Client
        };
        let base = match param("name").filter(|n| plain_name(n)) {
            Some(name) => name.to_owned(),
            None if kind == ClientKind::Browser => {
                self.tabs += 1;
                format!("tab-{}", self.tabs)
            }
            None => {
                self.others += 1;
                format!("client-{}", self.others)
            }
        };
        // `base` itself when it is free (a bot that left and comes back gets its name back),
        // else the next free one of `base-2`, `base-3`, …, looked for from where the last
        // search for this base stopped. Starting from `-2` every time made sixteen thousand
        // sockets asking for one name cost over a hundred million look-ups. (A suffix freed
        // below that point is not handed out again: names stay unique, which is all the trace
        // needs.)
        let mut n = 1;
        let mut name = base.clone();
        if self.taken.contains(&name) {
            n = self.suffixes.get(&base).copied().unwrap_or(1);
        }
        while self.taken.contains(&name) {
            n += 1;
            name = format!("{base}-{n}");
        }
        if n > 1 {
            if self.suffixes.len() >= PEOPLE_CAP {
                // Bases are what clients ask for: forget them rather than grow without bound.
                self.suffixes.clear();
            }
            self.suffixes.insert(base, n);
        }
        self.taken.insert(name.clone());
        self.remember(sid, &name, kind, true);
    }

    fn remember(&mut self, sid: &str, name: &str, kind: ClientKind, connected: bool) {
        // Forget the people who left, once there are many of them: sweeping on every new
        // socket while thousands stay connected would cost the whole table each time.
        if self.people.len() >= PEOPLE_CAP && self.departed >= PEOPLE_CAP / 2 {
            self.people.retain(|_, p| p.connected);
            self.departed = 0;
        }
        self.people.insert(
            sid.to_owned(),
            Person {
                name: name.to_owned(),
                kind,
                connected,
            },
        );
    }

    /// The names an emit left out (those of the emitting server, then those of the other
    /// servers' parts, `relays`), why, and each other server's part by name.
    pub(super) fn left_out(
        &mut self,
        recipients: &Recipients,
        relays: &[Relay],
    ) -> (Vec<String>, BTreeMap<String, String>, Vec<Relayed>) {
        let mut not_sent_to = self.sorted_names(&recipients.skipped);
        let mut why_not: BTreeMap<String, String> = (recipients.why_not.iter())
            .map(|(sid, why)| (self.who(sid).0, why.to_string()))
            .collect();
        let mut relayed = Vec::new();
        for relay in relays {
            for (sid, why) in &relay.skipped {
                let name = self.who(sid).0;
                why_not.insert(name.clone(), why.clone());
                not_sent_to.push(name);
            }
            relayed.push(Relayed {
                node: relay.node.clone(),
                sent_to: self.sorted_names(&relay.to),
            });
        }
        not_sent_to.sort();
        (not_sent_to, why_not, relayed)
    }
}
