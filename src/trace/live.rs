//! serve's live trace as records (plain data), and each record as one JSON line.
//!
//! The wording separates what the server did ("sent to": it queued the packet for that socket)
//! from what a client reported ("read": a bot read it off its socket). The records are made by
//! [`crate::live`]'s hub and worded for a person by [`crate::ui::live`].

use serde::Serialize;
use serde_json::Value;

use crate::vocab::Audience;

/// Who is on the other end of a socket, as far as its handshake tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientKind {
    /// A browser (its User-Agent says so): the chat page, in a tab.
    Browser,
    /// One of the tutor's own simulated clients (`--bots`).
    Bot,
    /// Anything else, e.g. Node's `socket.io-client`.
    Client,
}

/// A client that was sent something but did not report reading it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unread {
    pub client: String,
    pub why: String,
}

/// One emit the server made, and what came of it.
#[derive(Debug, Clone, Serialize)]
pub struct Sending {
    /// The JavaScript the server ran, e.g. `io.emit('chat message', msg)`.
    pub action: &'static str,
    pub event: String,
    pub args: Vec<Value>,
    pub audience: Option<Audience>,
    /// The sockets the server queued the packet for (names, sorted).
    pub sent_to: Vec<String>,
    /// Selected, but not queued: their outgoing buffer was full, so the packet was lost for
    /// them. Absent from the JSON when empty, which it is today: see
    /// [`crate::server::observe::live::Recipients::dropped`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<String>,
    /// Connected sockets the emit did not select.
    pub not_sent_to: Vec<String>,
    /// Why each of them was not selected, read from the server's tables at emit time (the
    /// sender, not in the room, in an excepted room). Absent from the JSON when empty.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub why_not: std::collections::BTreeMap<String, String>,
    /// Sockets that joined or left while the emit ran.
    pub unsure: Vec<String>,
    /// Bots that reported reading it off their socket.
    pub read_by: Vec<String>,
    /// Bots it was sent to that did not report reading it, and why.
    pub unread: Vec<Unread>,
    /// The emit failed (for some sockets), as the server reported it.
    pub error: Option<String>,
    /// With several servers joined by an adapter (lesson 7): the sockets of each *other* server
    /// that the broadcast selects there, read from that server's own tables when the tutor took
    /// the report. `sent_to` is then the emitting server's own sockets. Absent when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub relayed: Vec<Relayed>,
}

/// The part of a broadcast that another server delivers, through the adapter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Relayed {
    /// The server that holds these sockets (`B`).
    pub node: String,
    /// Its sockets the broadcast selects (names, sorted).
    pub sent_to: Vec<String>,
}

/// One line of the live trace.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Live {
    /// The server is listening.
    Listening {
        url: String,
        lesson: u32,
        stage: u32,
        title: String,
        on_connection: Option<&'static str>,
        on_chat: Option<&'static str>,
        bots: Vec<String>,
        /// The server that listening at `url`, when serve runs several (lesson 7). Absent otherwise.
        #[serde(skip_serializing_if = "Option::is_none")]
        node: Option<String>,
    },
    /// A socket connected and its `io.on('connection')` handler ran.
    Connect {
        client: String,
        client_kind: ClientKind,
        /// The first characters of the socket's id, never the whole (see
        /// `crate::live::hub` names.rs, `shown_id`: here it is also the Engine.IO session's id).
        socket: String,
        /// The socket was gone by the time the tutor looked at its handshake: it connected and
        /// dropped its connection at once (its `leaves` line may never come).
        already_left: bool,
        /// The server that reported it, when serve runs several (lesson 7). Absent otherwise.
        #[serde(skip_serializing_if = "Option::is_none")]
        node: Option<String>,
        #[serde(flatten)]
        sending: Option<Sending>,
    },
    /// A socket's event was handled with an emit.
    Emit {
        client: String,
        client_kind: ClientKind,
        /// The event the socket sent, whose handler made the emit.
        trigger: String,
        /// The server that reported it, when serve runs several (lesson 7). Absent otherwise.
        #[serde(skip_serializing_if = "Option::is_none")]
        node: Option<String>,
        #[serde(flatten)]
        sending: Sending,
    },
    /// A socket's event was handled by a handler that emits nothing (`socket.join(room)`, an
    /// acknowledgement's `callback(…)`), and the handler ran to the end.
    Handled {
        client: String,
        client_kind: ClientKind,
        event: String,
        /// The JavaScript the server ran.
        action: &'static str,
        /// The handler declares that it answers the client's acknowledgement callback (only
        /// the sender hears that answer).
        answers: bool,
        /// The server that reported it, when serve runs several (lesson 7). Absent otherwise.
        #[serde(skip_serializing_if = "Option::is_none")]
        node: Option<String>,
    },
    /// A handler refused a socket's input; the server carried on.
    Rejected {
        client: String,
        event: String,
        reason: String,
        /// The server that reported it, when serve runs several (lesson 7). Absent otherwise.
        #[serde(skip_serializing_if = "Option::is_none")]
        node: Option<String>,
    },
    /// A socket left.
    Disconnect {
        client: String,
        client_kind: ClientKind,
        /// The server that reported it, when serve runs several (lesson 7). Absent otherwise.
        #[serde(skip_serializing_if = "Option::is_none")]
        node: Option<String>,
    },
    /// Something a bot wants to say about itself (e.g. it could not connect).
    Note { client: String, text: String },
    /// Ctrl-C: the server is shutting down.
    Stopping,
    /// The server has stopped; `clean` is false when the shutdown hit its time bound.
    Stopped { clean: bool },
}

/// A [`Live`] record with the time since the server started.
#[derive(Debug, Serialize)]
pub struct Line<'a> {
    pub t_ms: u64,
    #[serde(flatten)]
    pub live: &'a Live,
}

/// The record as one JSON line.
pub fn json(t_ms: u64, live: &Live) -> String {
    serde_json::to_string(&Line { t_ms, live })
        .unwrap_or_else(|e| format!("{{\"kind\":\"error\",\"error\":{:?}}}", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_carry_the_kind_and_time() {
        let line = json(
            12,
            &Live::Disconnect {
                client: "tab-1".into(),
                client_kind: ClientKind::Browser,
                node: None,
            },
        );
        assert_eq!(
            line,
            r#"{"t_ms":12,"kind":"disconnect","client":"tab-1","client_kind":"browser"}"#
        );
    }
}
