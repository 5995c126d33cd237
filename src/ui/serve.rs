//! The heading `serve` prints once it listens: the code being served and how to try it.

use std::fmt::Write;

use super::lesson::js_block;
use super::style::{self, INDENT};
use crate::lesson::Lesson;
use crate::server::Behaviour;
use crate::vocab::Audience;

/// The heading printed once the server listens: the code being served and how to try it.
pub fn header(
    lesson: &Lesson,
    behaviour: &Behaviour,
    node: Option<&str>,
    url: &str,
    chat_lessons: &[u32],
) -> String {
    let mut out = String::new();
    let heading = format!("Serving lesson {} · {}", lesson.number, lesson.title);
    let _ = writeln!(out, "{}", style::ruled(heading));
    let _ = writeln!(out);
    let _ = writeln!(out, "{INDENT}{}", style::title("Node.js, the server running now"));
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
    let _ = writeln!(
        out,
        "{INDENT}Open {} in two browser tabs. The page and its Socket.IO connection",
        style::name(style::strong(url))
    );
    let _ = writeln!(out, "{INDENT}come from this one server, on this one port.");
    match behaviour.answering("chat message") {
        Some(on_chat) => {
            let _ = writeln!(
                out,
                "{INDENT}Type in one tab and watch both; the server answers with {}.",
                style::js(on_chat.js)
            );
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
                "{INDENT}This server has no 'chat message' handler: what you type goes nowhere (lessons with a chat: {}).",
                with_chat.join(", ")
            );
        }
    }
    let _ = writeln!(out, "{INDENT}Ctrl-C stops the server.");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{INDENT}{}",
        style::note("Reading the trace: \"sent to\" lists the sockets the server queued the event for. Bots")
    );
    let _ = writeln!(
        out,
        "{INDENT}{}",
        style::note(
            "also report what they read off their socket; a browser tab shows what it got on its page."
        )
    );
    let _ = writeln!(out);
    let _ = write!(out, "{INDENT}{}", style::title("Live trace"));
    out
}
