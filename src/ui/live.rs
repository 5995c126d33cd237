//! serve's live trace as text for a person: each record ([`crate::trace::live`]) as the lines
//! the terminal shows, separating what the server did ("sent to": it queued the packet for that
//! socket) from what a client reported ("read": a bot read it off its socket).

use std::fmt::Write;

use serde_json::Value;

use super::style::{self, INDENT, NEWCOMER, SENDER};
use crate::trace::live::{ClientKind, Live, Sending};
use crate::vocab::Audience;

/// The longest a chat message is shown in the terminal, in characters.
const SHOWN_CHARS: usize = 80;

/// Who a connection is, in words.
fn describe(kind: ClientKind) -> &'static str {
    match kind {
        ClientKind::Browser => "a browser tab",
        ClientKind::Bot => "a bot",
        ClientKind::Client => "a client",
    }
}

/// Text that came from a client, made safe for a terminal and cut to `SHOWN_CHARS` (see
/// [`crate::trace::safe::terminal_safe`]).
fn terminal_safe(text: &str) -> String {
    crate::trace::safe::terminal_safe_within(text, SHOWN_CHARS)
}

/// An argument as the lesson traces show it: as JSON, so a string shows in quotes.
fn shown(value: &Value) -> String {
    terminal_safe(&value.to_string())
}

fn names(list: &[String]) -> String {
    list.iter().map(style::name).collect::<Vec<_>>().join(", ")
}

/// The server a record happened on: "server", or "server A" when serve runs several.
fn server(node: Option<&String>) -> String {
    node.map_or_else(|| "server".to_owned(), |n| format!("server {n}"))
}

/// The lines that follow an emit: whom it was sent to, and what the bots reported. `node`: the
/// server that emitted, when serve runs several.
fn render_sending(out: &mut String, sending: &Sending, sender: &str, who: &str, node: Option<&String>) {
    let label = |text: &str| format!("{INDENT}{INDENT}{text:<9}");
    // With several servers, "sent to" is the emitting server's own sockets; say so.
    let own = match node {
        Some(node) if !sending.relayed.is_empty() => {
            format!("   {}", style::note(format!("(on server {node})")))
        }
        _ => String::new(),
    };
    if sending.sent_to.is_empty() {
        let _ = writeln!(out, "{}{}{own}", label("sent to"), style::note("nobody"));
    } else {
        let mut line = names(&sending.sent_to);
        if sending.sent_to.iter().any(|n| n == sender) && sending.audience == Some(Audience::Everyone) {
            let _ = write!(
                line,
                "   {}",
                style::note(format!("← {who} too: io.emit includes it"))
            );
        }
        let _ = writeln!(out, "{}{line}{own}", label("sent to"));
    }
    for relay in &sending.relayed {
        let names = if relay.sent_to.is_empty() {
            style::note("nobody")
        } else {
            names(&relay.sent_to)
        };
        let _ = writeln!(
            out,
            "{}{names}   {}",
            label(&format!("via {}", relay.node)),
            style::note(format!("(on server {}, through Redis)", relay.node))
        );
    }
    if !sending.dropped.is_empty() {
        let _ = writeln!(
            out,
            "{}{} {}   {}",
            label("lost"),
            style::no(),
            names(&sending.dropped),
            style::note("(its buffer was full: the client is not reading, so the server dropped the packet)")
        );
    }
    if !sending.not_sent_to.is_empty() {
        let mut line = format!("{} {}", style::no(), names(&sending.not_sent_to));
        if sending.not_sent_to.iter().any(|n| n == sender) {
            let _ = write!(
                line,
                "   {}",
                style::note(format!("← {who}: a broadcast skips it"))
            );
        }
        let _ = writeln!(out, "{}{line}", label("not to"));
    }
    if !sending.unsure.is_empty() {
        let _ = writeln!(
            out,
            "{}{}   {}",
            label("maybe"),
            names(&sending.unsure),
            style::note("(joined or left while the server was sending)")
        );
    }
    if !sending.read_by.is_empty() {
        let marks: Vec<String> = sending
            .read_by
            .iter()
            .map(|n| format!("{} {}", style::name(n), style::ok()))
            .collect();
        let _ = writeln!(out, "{}{}", label("read by"), marks.join("  "));
    }
    for unread in &sending.unread {
        let _ = writeln!(
            out,
            "{}{} {}: {}",
            label("unread"),
            style::unsure("?"),
            style::name(&unread.client),
            unread.why
        );
    }
    if let Some(error) = &sending.error {
        let _ = writeln!(
            out,
            "{}{} {}",
            label("error"),
            style::bad("!"),
            terminal_safe(error)
        );
    }
}

/// The widest line serve prints.
pub const COLUMNS: usize = 80;

/// `text` with every line wider than [`COLUMNS`] wrapped at spaces (colour codes take no
/// room), its next lines indented four more than its own: a chat message or a list of names can
/// be long, and a terminal of 80 columns would otherwise fold it anywhere.
pub fn fit(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if textwrap::core::display_width(line) <= COLUMNS {
            out.push_str(line);
            continue;
        }
        let indent = " ".repeat(line.len() - line.trim_start().len() + 4);
        let options = textwrap::Options::new(COLUMNS)
            .subsequent_indent(&indent)
            .break_words(true);
        out.push_str(&textwrap::wrap(line, options).join("\n"));
    }
    out
}

/// `head`, then `tail` on the same line when both fit in [`COLUMNS`], else on a line of its
/// own, indented under the head: the JavaScript the server ran stays whole.
fn head_and_tail(out: &mut String, head: &str, tail: &str) {
    use textwrap::core::display_width;
    if display_width(head) + 1 + display_width(tail) <= COLUMNS {
        let _ = writeln!(out, "{head} {tail}");
    } else {
        let _ = writeln!(out, "{head}\n{INDENT}{INDENT}{INDENT}{tail}");
    }
}

/// The record as text lines for the terminal (ending with a newline), within [`COLUMNS`].
pub fn text(live: &Live) -> String {
    fit(&unwrapped(live))
}

fn unwrapped(live: &Live) -> String {
    let mut out = String::new();
    match live {
        Live::Listening { .. } => {}
        Live::Connect {
            client,
            client_kind,
            socket,
            already_left,
            node,
            sending,
        } => {
            // A browser tab shows its socket id on the page; this lets you tell the tabs apart.
            let mut about = match client_kind {
                ClientKind::Bot => describe(*client_kind).to_owned(),
                _ => format!("{}, socket {socket}", describe(*client_kind)),
            };
            if *already_left {
                about.push_str(", already gone again");
            }
            let about = format!("({about})");
            match sending {
                Some(sending) => {
                    let head = format!("{INDENT}{} {} connects", style::arrow(), style::name(client));
                    let tail = format!(
                        "→ {} runs {}   {}",
                        server(node.as_ref()),
                        style::js(sending.action),
                        style::note(&about)
                    );
                    head_and_tail(&mut out, &head, &tail);
                    render_sending(&mut out, sending, client, NEWCOMER, node.as_ref());
                }
                None => {
                    let to = node
                        .as_ref()
                        .map_or_else(String::new, |n| format!(" to server {n}"));
                    let _ = writeln!(
                        out,
                        "{INDENT}{} {} connects{to}   {}",
                        style::arrow(),
                        style::name(client),
                        style::note(&about)
                    );
                }
            }
        }
        Live::Emit {
            client,
            sending,
            node,
            ..
        } => {
            let args: Vec<String> = sending.args.iter().map(shown).collect();
            let head = format!(
                "{INDENT}{} {} emits '{}' {}",
                style::arrow(),
                style::name(client),
                sending.event,
                args.join(", "),
            );
            let tail = format!("→ {} runs {}", server(node.as_ref()), style::js(sending.action));
            head_and_tail(&mut out, &head, &tail);
            render_sending(&mut out, sending, client, SENDER, node.as_ref());
        }
        Live::Handled {
            client,
            event,
            action,
            answers,
            node,
            ..
        } => {
            let head = format!(
                "{INDENT}{} {} emits '{}'",
                style::arrow(),
                style::name(client),
                terminal_safe(event)
            );
            let tail = format!(
                "→ {} runs {}{}",
                server(node.as_ref()),
                style::js(action),
                if *answers {
                    format!(
                        "   {}",
                        style::note(format!("(the answer goes to {client} only)"))
                    )
                } else {
                    String::new()
                }
            );
            head_and_tail(&mut out, &head, &tail);
        }
        Live::Rejected {
            client,
            event,
            reason,
            node,
        } => {
            let _ = writeln!(
                out,
                "{INDENT}{} the {} ignored {}'s '{}': {}   {}",
                style::bad("!"),
                server(node.as_ref()),
                style::name(client),
                terminal_safe(event),
                terminal_safe(reason),
                style::note("(it carries on)")
            );
        }
        Live::Disconnect { client, node, .. } => {
            let from = node.as_ref().map_or_else(String::new, |n| format!(" server {n}"));
            let _ = writeln!(
                out,
                "{INDENT}{} {} leaves{from}",
                style::arrow(),
                style::name(client)
            );
        }
        Live::Note { client, text } => {
            let _ = writeln!(
                out,
                "{INDENT}{} {}: {}",
                style::dot(),
                style::name(client),
                style::note(text)
            );
        }
        Live::Stopping => {
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "{INDENT}{}",
                style::strong("Ctrl-C: closing every connection and stopping the server…")
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
        let wrapped = fit(&format!(
            "  → bob emits 'chat message' \"{}\" → server A runs io.emit\nnext",
            "y ".repeat(60)
        ));
        assert!(
            wrapped
                .lines()
                .all(|l| textwrap::core::display_width(l) <= COLUMNS),
            "{wrapped}"
        );
        assert!(
            wrapped.starts_with("  → bob") && wrapped.ends_with("\nnext"),
            "{wrapped}"
        );
        assert!(wrapped.lines().nth(1).unwrap().starts_with("      "), "{wrapped}");
        assert_eq!(terminal_safe(&long).chars().count(), SHOWN_CHARS + 1);
        assert_eq!(shown(&Value::from("<img src=x>")), "\"<img src=x>\"");
    }
}
