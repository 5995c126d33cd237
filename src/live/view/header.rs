//! The heading `serve` prints once it listens: the code being served and how to try it.

use std::fmt::Write;

use owo_colors::OwoColorize;

use super::INDENT;
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
    let rule = "━".repeat(3);
    let heading = format!(
        "{rule} Serving lesson {} · {} {rule}",
        lesson.number, lesson.title
    );
    let _ = writeln!(out, "{}", heading.bold().magenta());
    let _ = writeln!(out);
    let _ = writeln!(out, "{INDENT}{}", "Node.js, the server running now".underline());
    match node {
        Some(code) => {
            for line in code.trim_end().lines() {
                let _ = writeln!(out, "{INDENT}{INDENT}{}", line.yellow());
            }
        }
        None => {
            let _ = writeln!(
                out,
                "{INDENT}{INDENT}{}",
                "io.on('connection', (socket) => {".yellow()
            );
            if let Some(js) = behaviour.on_connection().map(|e| e.js) {
                let _ = writeln!(out, "{INDENT}{INDENT}{INDENT}{}", format!("{js};").yellow());
            }
            if let Some(on_chat) = behaviour.answering("chat message") {
                let line = format!("socket.on('chat message', (msg) => {{ {}; }});", on_chat.js);
                let _ = writeln!(out, "{INDENT}{INDENT}{INDENT}{}", line.yellow());
            }
            let _ = writeln!(out, "{INDENT}{INDENT}{}", "});".yellow());
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{INDENT}Open {} in two browser tabs. The page and its Socket.IO connection",
        url.bold().cyan()
    );
    let _ = writeln!(out, "{INDENT}come from this one server, on this one port.");
    match behaviour.answering("chat message") {
        Some(on_chat) => {
            let _ = writeln!(
                out,
                "{INDENT}Type in one tab and watch both; the server answers with {}.",
                on_chat.js.yellow()
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
        "Reading the trace: \"sent to\" lists the sockets the server queued the event for. Bots".dimmed()
    );
    let _ = writeln!(
        out,
        "{INDENT}{}",
        "also report what they read off their socket; a browser tab shows what it got on its page.".dimmed()
    );
    let _ = writeln!(out);
    let _ = write!(out, "{INDENT}{}", "Live trace".underline());
    out
}
