//! The live trace as records (plain data) and their two renderings: coloured text for a person,
//! JSON Lines for a program. The wording separates what the server did ("sent to": it queued the
//! packet for that socket) from what a client reported ("read": a bot read it off its socket).

use std::fmt::Write;

use owo_colors::OwoColorize;
use serde::Serialize;
use serde_json::Value;

use crate::vocab::Audience;

mod header;
pub use header::header;

const INDENT: &str = "  ";

/// The longest a chat message is shown in the terminal, in characters.
const SHOWN_CHARS: usize = 80;

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

impl ClientKind {
    fn describe(self) -> &'static str {
        match self {
            Self::Browser => "a browser tab",
            Self::Bot => "a bot",
            Self::Client => "a client",
        }
    }
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
    /// [`crate::server::live::Recipients::dropped`].
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
    },
    /// A socket connected and its `io.on('connection')` handler ran.
    Connect {
        client: String,
        client_kind: ClientKind,
        socket: String,
        /// The socket was gone by the time the tutor looked at its handshake: it connected and
        /// dropped its connection at once (its `leaves` line may never come).
        already_left: bool,
        #[serde(flatten)]
        sending: Option<Sending>,
    },
    /// A socket's event was handled with an emit.
    Emit {
        client: String,
        client_kind: ClientKind,
        /// The event the socket sent, whose handler made the emit.
        trigger: String,
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
    },
    /// A handler refused a socket's input; the server carried on.
    Rejected {
        client: String,
        event: String,
        reason: String,
    },
    /// A socket left.
    Disconnect { client: String, client_kind: ClientKind },
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

/// Text that came from a client, made safe for a terminal and cut to `SHOWN_CHARS` (see
/// [`crate::trace::safe::terminal_safe`]).
pub fn terminal_safe(text: &str) -> String {
    crate::trace::safe::terminal_safe_within(text, SHOWN_CHARS)
}

/// An argument as the lesson traces show it: as JSON, so a string shows in quotes.
fn shown(value: &Value) -> String {
    terminal_safe(&value.to_string())
}

fn arrow() -> String {
    "▸".bold().to_string()
}

fn names(list: &[String]) -> String {
    list.iter()
        .map(|n| n.cyan().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The lines that follow an emit: whom it was sent to, and what the bots reported.
fn render_sending(out: &mut String, sending: &Sending, sender: &str, who: &str) {
    let label = |text: &str| format!("{INDENT}{INDENT}{text:<9}");
    if sending.sent_to.is_empty() {
        let _ = writeln!(out, "{}{}", label("sent to"), "nobody".dimmed());
    } else {
        let mut line = names(&sending.sent_to);
        if sending.sent_to.iter().any(|n| n == sender) && sending.audience == Some(Audience::Everyone) {
            let _ = write!(
                line,
                "   {}",
                format!("← {who} too: io.emit includes it").dimmed()
            );
        }
        let _ = writeln!(out, "{}{line}", label("sent to"));
    }
    if !sending.dropped.is_empty() {
        let _ = writeln!(
            out,
            "{}{} {}   {}",
            label("lost"),
            "✗".red(),
            names(&sending.dropped),
            "(its buffer was full: the client is not reading, so the server dropped the packet)".dimmed()
        );
    }
    if !sending.not_sent_to.is_empty() {
        let mut line = format!("{} {}", "✗".red(), names(&sending.not_sent_to));
        if sending.not_sent_to.iter().any(|n| n == sender) {
            let _ = write!(line, "   {}", format!("← {who}: a broadcast skips it").dimmed());
        }
        let _ = writeln!(out, "{}{line}", label("not to"));
    }
    if !sending.unsure.is_empty() {
        let _ = writeln!(
            out,
            "{}{}   {}",
            label("maybe"),
            names(&sending.unsure),
            "(joined or left while the server was sending)".dimmed()
        );
    }
    if !sending.read_by.is_empty() {
        let marks: Vec<String> = sending
            .read_by
            .iter()
            .map(|n| format!("{} {}", n.cyan(), "✓".green()))
            .collect();
        let _ = writeln!(out, "{}{}", label("read by"), marks.join("  "));
    }
    for unread in &sending.unread {
        let _ = writeln!(
            out,
            "{}{} {}: {}",
            label("unread"),
            "?".yellow(),
            unread.client.cyan(),
            unread.why
        );
    }
    if let Some(error) = &sending.error {
        let _ = writeln!(out, "{}{} {}", label("error"), "!".red(), terminal_safe(error));
    }
}

/// The record as text lines for the terminal (ending with a newline).
pub fn text(live: &Live) -> String {
    let mut out = String::new();
    match live {
        Live::Listening { .. } => {}
        Live::Connect {
            client,
            client_kind,
            socket,
            already_left,
            sending,
        } => {
            // A browser tab shows its socket id on the page; this lets you tell the tabs apart.
            let mut about = match client_kind {
                ClientKind::Bot => client_kind.describe().to_owned(),
                _ => format!("{}, socket {socket}", client_kind.describe()),
            };
            if *already_left {
                about.push_str(", already gone again");
            }
            let about = format!("({about})");
            match sending {
                Some(sending) => {
                    let _ = writeln!(
                        out,
                        "{INDENT}{} {} connects → server runs {}   {}",
                        arrow(),
                        client.cyan(),
                        sending.action.yellow(),
                        about.dimmed()
                    );
                    render_sending(&mut out, sending, client, "the newcomer");
                }
                None => {
                    let _ = writeln!(
                        out,
                        "{INDENT}{} {} connects   {}",
                        arrow(),
                        client.cyan(),
                        about.dimmed()
                    );
                }
            }
        }
        Live::Emit { client, sending, .. } => {
            let args: Vec<String> = sending.args.iter().map(shown).collect();
            let _ = writeln!(
                out,
                "{INDENT}{} {} emits '{}' {} → server runs {}",
                arrow(),
                client.cyan(),
                sending.event,
                args.join(", "),
                sending.action.yellow()
            );
            render_sending(&mut out, sending, client, "the sender");
        }
        Live::Handled {
            client,
            event,
            action,
            answers,
            ..
        } => {
            let _ = writeln!(
                out,
                "{INDENT}{} {} emits '{}' → server runs {}{}",
                arrow(),
                client.cyan(),
                terminal_safe(event),
                action.yellow(),
                if *answers {
                    format!("   {}", format!("(the answer goes to {client} only)").dimmed())
                } else {
                    String::new()
                }
            );
        }
        Live::Rejected {
            client,
            event,
            reason,
        } => {
            let _ = writeln!(
                out,
                "{INDENT}{} the server ignored {}'s '{}': {}   {}",
                "!".red(),
                client.cyan(),
                terminal_safe(event),
                terminal_safe(reason),
                "(it carries on)".dimmed()
            );
        }
        Live::Disconnect { client, .. } => {
            let _ = writeln!(out, "{INDENT}{} {} leaves", arrow(), client.cyan());
        }
        Live::Note { client, text } => {
            let _ = writeln!(
                out,
                "{INDENT}{} {}: {}",
                "·".dimmed(),
                client.cyan(),
                text.dimmed()
            );
        }
        Live::Stopping => {
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "{INDENT}{}",
                "Ctrl-C: closing every connection and stopping the server…".bold()
            );
        }
        Live::Stopped { clean } => {
            let line = if *clean {
                "stopped.".to_owned()
            } else {
                "the shutdown did not finish within its time bound; exiting anyway.".to_owned()
            };
            let _ = writeln!(out, "{INDENT}{line}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_text_cannot_drive_the_terminal() {
        assert_eq!(terminal_safe("hi\u{1b}[31mred"), "hi\\u{1b}[31mred");
        assert_eq!(terminal_safe("a\u{202e}b\nc"), "a\\u{202e}b\\u{a}c");
        let long = "x".repeat(200);
        assert_eq!(terminal_safe(&long).chars().count(), SHOWN_CHARS + 1);
        assert_eq!(shown(&Value::from("<img src=x>")), "\"<img src=x>\"");
    }

    #[test]
    fn json_lines_carry_the_kind_and_time() {
        let line = json(
            12,
            &Live::Disconnect {
                client: "tab-1".into(),
                client_kind: ClientKind::Browser,
            },
        );
        assert_eq!(
            line,
            r#"{"t_ms":12,"kind":"disconnect","client":"tab-1","client_kind":"browser"}"#
        );
    }
}
