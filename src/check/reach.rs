//! Who one emit reached, as the shape one of Socket.IO's calls gives it.

use std::collections::BTreeSet;

use crate::trace::{Audience, Kind};

/// Who one emit reached, seen from the socket that triggered it. Each shape is what one of
/// Socket.IO's calls does, which is how an observation names a likely mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reach {
    /// `io.emit`: every connected socket, the one that triggered it included.
    Everyone,
    /// `socket.broadcast.emit`: every connected socket but that one.
    AllButSender,
    /// `socket.emit`: that one socket only.
    OnlySender,
    /// No emit at all.
    Nobody,
}

impl Reach {
    /// In order of preference when one observation fits several shapes (with one client,
    /// "everyone" and "only the sender" look the same).
    pub(super) const ALL: [Reach; 4] = [
        Reach::Everyone,
        Reach::AllButSender,
        Reach::OnlySender,
        Reach::Nobody,
    ];

    /// The reach of an audience that does not depend on rooms; `None` for the ones that do.
    pub(super) fn from_audience(audience: &Audience) -> Option<Self> {
        match audience {
            Audience::Everyone => Some(Reach::Everyone),
            Audience::EveryoneButSender => Some(Reach::AllButSender),
            Audience::OnlySender => Some(Reach::OnlySender),
            Audience::Nobody => Some(Reach::Nobody),
            Audience::Rooms(_)
            | Audience::RoomsButSender(_)
            | Audience::EveryoneExcept(_)
            | Audience::ThisServer => None,
        }
    }

    /// The Socket.IO call that reaches exactly these sockets.
    pub(super) fn call(self) -> &'static str {
        match self {
            Reach::Everyone => "io.emit",
            Reach::AllButSender => "socket.broadcast.emit",
            Reach::OnlySender => "socket.emit",
            Reach::Nobody => "sending nothing",
        }
    }

    /// Who that is, with `role` naming the triggering socket (`newcomer`, `sender`).
    pub(super) fn who(self, role: &str) -> String {
        match self {
            Reach::Everyone => format!("every client, the {role} included"),
            Reach::AllButSender => format!("every client except the {role}"),
            Reach::OnlySender => format!("only the {role}"),
            Reach::Nobody => "no client".to_owned(),
        }
    }

    /// Does an observation (who received, out of who was connected) have this shape?
    pub(super) fn fits(self, sender: &str, connected: &BTreeSet<&str>, received: &BTreeSet<&str>) -> bool {
        match self {
            Reach::Everyone => received == connected,
            Reach::AllButSender => !received.contains(sender) && received.len() + 1 == connected.len(),
            Reach::OnlySender => received.len() == 1 && received.contains(sender),
            Reach::Nobody => received.is_empty(),
        }
    }
}

/// The socket that triggers a step, in words: the one that connects, or the one that emits.
pub(super) fn role(kind: Kind) -> &'static str {
    if kind == Kind::Connect {
        "newcomer"
    } else {
        "sender"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reach_shapes_match_socket_io_calls() {
        let connected: BTreeSet<&str> = ["alice", "bob", "dave"].into();
        let all = connected.clone();
        let others: BTreeSet<&str> = ["alice", "bob"].into();
        assert!(Reach::Everyone.fits("dave", &connected, &all));
        assert!(!Reach::AllButSender.fits("dave", &connected, &all));
        assert!(Reach::AllButSender.fits("dave", &connected, &others));
        assert!(Reach::OnlySender.fits("dave", &connected, &["dave"].into()));
        assert!(Reach::Nobody.fits("dave", &connected, &BTreeSet::new()));
    }
}
