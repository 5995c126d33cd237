//! The heading `serve` prints once it listens: the code being served and how to try it.

use std::fmt::Write;

use super::lesson::js_block;
use super::style::{self, INDENT};
use crate::lesson::Lesson;
use crate::server::Behaviour;
use crate::vocab::Audience;

/// Where the servers listen: one `(None, url)` for a one-server lesson, or one `(Some(name),
/// url)` per server of lesson 7, with the Redis that joins them.
#[derive(Debug, Clone)]
pub struct Servers<'a> {
    pub urls: Vec<(Option<&'a str>, String)>,
    /// The Redis the servers share, when there are several (`redis://…`), and whether it is a
    /// private redis-server the tutor started (and stops).
    pub redis: Option<(String, bool)>,
}

/// The heading printed once the server listens: the code being served and how to try it.
pub fn header(
    lesson: &Lesson,
    behaviour: &Behaviour,
    node: Option<&str>,
    servers: &Servers<'_>,
    chat_lessons: &[u32],
) -> String {
    let mut out = String::new();
    let heading = format!("Serving lesson {} · {}", lesson.number, lesson.title);
    let _ = writeln!(out, "{}", style::ruled(heading));
    let _ = writeln!(out);
    let what = if servers.urls.len() > 1 {
        "Node.js, the code every server runs now"
    } else {
        "Node.js, the server running now"
    };
    let _ = writeln!(out, "{INDENT}{}", style::title(what));
    match node {
        Some(code) => js_block(&mut out, code),
        None => {
            let _ = writeln!(
                out,
                "{INDENT}{INDENT}{}",
                style::js("io.on('connection', (socket) => {")
            );
            if let Some(js) = behaviour.on_connection().map(|e| e.js) {
                let _ = writeln!(out, "{INDENT}{INDENT}{INDENT}{}", style::js(format!("{js};")));
            }
            if let Some(on_chat) = behaviour.answering("chat message") {
                let line = format!("socket.on('chat message', (msg) => {{ {}; }});", on_chat.js);
                let _ = writeln!(out, "{INDENT}{INDENT}{INDENT}{}", style::js(line));
            }
            let _ = writeln!(out, "{INDENT}{INDENT}{}", style::js("});"));
        }
    }
    let _ = writeln!(out);
    let first = servers.urls.first().map_or("", |(_, url)| url.as_str());
    match &servers.urls[..] {
        [(_, url)] => {
            let _ = writeln!(
                out,
                "{INDENT}Open {} in two browser tabs. The page and its",
                style::name(style::strong(url))
            );
            let _ = writeln!(
                out,
                "{INDENT}Socket.IO connection come from this one server, on this one port."
            );
        }
        several => {
            for (name, url) in several {
                let _ = writeln!(
                    out,
                    "{INDENT}Server {:<2} {}",
                    name.unwrap_or("?"),
                    style::name(style::strong(url))
                );
            }
            if let Some((redis, private)) = &servers.redis {
                let on = if *private {
                    "a private redis-server"
                } else {
                    "the Redis you named"
                };
                let _ = writeln!(out, "{INDENT}joined by the Redis adapter, on {on}:");
                let _ = writeln!(out, "{INDENT}{INDENT}{redis}");
            }
            let _ = writeln!(
                out,
                "{INDENT}Open one tab on each server: a message sent on one reaches the"
            );
            let _ = writeln!(out, "{INDENT}other's tabs through Redis.");
        }
    }
    match behaviour.answering("chat message") {
        Some(on_chat) => {
            let _ = writeln!(
                out,
                "{INDENT}Type in one tab and watch both; the server answers with"
            );
            let _ = writeln!(out, "{INDENT}{}.", style::js(on_chat.js));
            if on_chat.emit.is_some_and(|e| e.to == Audience::Everyone) {
                let _ = writeln!(
                    out,
                    "{INDENT}Run with --broadcast to answer with socket.broadcast.emit instead."
                );
            }
        }
        None => {
            let with_chat: Vec<String> = chat_lessons.iter().map(u32::to_string).collect();
            let _ = writeln!(
                out,
                "{INDENT}This server has no 'chat message' handler: what you type goes"
            );
            let _ = writeln!(
                out,
                "{INDENT}nowhere (lessons with a chat: {}).",
                with_chat.join(", ")
            );
        }
    }
    let _ = writeln!(out);
    let tutor = format!("{}tutor/", first);
    let _ = writeln!(
        out,
        "{INDENT}Who received what, drawn live: {}",
        style::name(style::strong(&tutor))
    );
    if servers.urls.len() > 1 {
        let _ = writeln!(
            out,
            "{INDENT}(one lane per server; every server has the page, with the same feed)."
        );
    }
    let what = match &servers.redis {
        Some((_, true)) => "the servers and their redis-server",
        Some(_) => "the servers",
        None => "the server",
    };
    let _ = writeln!(out, "{INDENT}Ctrl-C stops {what}.");
    let _ = writeln!(out);
    for line in [
        "Reading the trace: \"sent to\" lists the sockets the server queued the",
        "event for. Bots also report what they read off their socket; a browser",
        "tab shows what it got on its page.",
    ] {
        let _ = writeln!(out, "{INDENT}{}", style::note(line));
    }
    let _ = writeln!(out);
    let _ = write!(out, "{INDENT}{}", style::title("Live trace"));
    super::live::fit(&out)
}
