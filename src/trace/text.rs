//! The trace as text for a terminal: who sent what, then every client with a ✓ or a ✗.
//!
//! This is the only module that knows about colour. It always writes owo-colors styles; the
//! caller prints through `anstream`, which removes them when colour is off (`--color never`,
//! `NO_COLOR`, not a terminal), and tests strip them the same way.
//!
//! It is also where text from the other side of a socket is made safe to print. During `check`
//! the server under test is a program we do not control: its page title, its frames, its event
//! names and its error messages are kept as they came in the trace (the JSON output escapes
//! them itself), and pass through [`terminal_safe`] on their way to the terminal.

use std::fmt::Write;

use owo_colors::OwoColorize;

use super::{Audience, Delivery, Kind, ProbeOutcome, StageTrace, StepRecord, WireLine, format_args};
use crate::client::WireDirection;
use crate::lesson::{Lesson, ProbeKind, Stage};

const INDENT: &str = "  ";

/// The characters [`terminal_safe`] escapes, and the JSON output escapes too
/// ([`super::json`]), so a program that prints a JSON string it decoded is not fooled either:
///
/// * the control characters: C0 (`U+0000`–`U+001F`: escape sequences, backspace, carriage
///   return), `DEL`, and C1 (`U+0080`–`U+009F`, among them the one-character CSI `U+009B` that
///   some terminals obey like `ESC [`);
/// * every bidirectional formatting character: the marks `U+200E`, `U+200F` and the Arabic
///   letter mark `U+061C`, the embeddings and overrides `U+202A`–`U+202E`, and the isolates
///   `U+2066`–`U+2069`: each changes the order in which the text after it is displayed;
/// * the line and paragraph separators `U+2028` and `U+2029`, which some terminals and most
///   JavaScript consumers treat as a line break: one trace line could pass for two.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}'
        )
}

/// Text that came from someone else's program, made safe for a terminal. A terminal obeys the
/// control characters in what it prints: `ESC ] 0 ; … BEL` renames the window, `ESC [ 31 m`
/// turns the rest of the screen red, and others move the cursor or rewrite earlier lines.
/// Bidirectional overrides (`U+202E` and friends) make text display in a different order than
/// it is stored. Every such character is written out as a visible escape instead (`\u{1b}`), so
/// what it was stays readable and nothing reaches the terminal that could drive it.
pub fn terminal_safe(text: &str) -> String {
    terminal_safe_within(text, usize::MAX)
}

/// Like [`terminal_safe`], and cut after `max_chars` characters (marked with `…`).
pub fn terminal_safe_within(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        if i == max_chars {
            out.push('…');
            break;
        }
        if is_unsafe(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// Arguments as JavaScript source shows them, safe for a terminal.
fn shown_args(args: &[serde_json::Value]) -> String {
    terminal_safe(&format_args(args))
}

/// The stage heading, its explanation, and the two pieces of code.
pub fn stage_intro(lesson: &Lesson, stage: &Stage) -> String {
    let mut out = String::new();
    let heading = format!(
        "Stage {}.{} · {} ({} of {})",
        lesson.number,
        stage.number,
        stage.title,
        stage.number,
        lesson.stages.len(),
    );
    let _ = writeln!(out, "{}", heading.bold());
    let _ = writeln!(out);
    out.push_str(&super::prose::render(&stage.text, INDENT, super::prose::width()));
    let _ = writeln!(out);
    let _ = writeln!(out, "{INDENT}{}", "Node.js, the code being taught".underline());
    for line in stage.node.trim_end().lines() {
        let _ = writeln!(out, "{INDENT}{INDENT}{}", line.yellow());
    }
    for rust in &stage.rust {
        let _ = writeln!(out);
        let label = format!("Rust, the code running now ({})", rust.path);
        let _ = writeln!(out, "{INDENT}{}", label.underline());
        let code = rust.code().unwrap_or_else(|e| format!("<{e}>"));
        for line in code.lines() {
            let _ = writeln!(out, "{INDENT}{INDENT}{}", line.cyan());
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{INDENT}{}", "Live trace".underline());
    out
}

/// The lesson heading and its introduction.
pub fn lesson_intro(lesson: &Lesson) -> String {
    let mut out = String::new();
    let rule = "━".repeat(3);
    let heading = format!("{rule} Lesson {} · {} {rule}", lesson.number, lesson.title);
    let _ = writeln!(out, "{}", heading.bold().magenta());
    let _ = writeln!(out);
    out.push_str(&super::prose::render(
        &lesson.intro,
        INDENT,
        super::prose::width(),
    ));
    out
}

/// What to do after the lesson.
pub fn exercise(lesson: &Lesson) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", "What next".bold());
    out.push_str(&super::prose::render(
        &lesson.exercise,
        INDENT,
        super::prose::width(),
    ));
    out
}

/// The trace lines of one stage. This is exactly what the snapshots and the book keep.
pub fn stage_trace(trace: &StageTrace) -> String {
    let mut out = String::new();
    let width = trace.clients.iter().map(String::len).max().unwrap_or(0);
    let mut i = 0;
    while i < trace.steps.len() {
        let step = &trace.steps[i];
        if let Some(burst) = step.burst {
            let end = trace.steps[i..]
                .iter()
                .take_while(|s| s.burst == Some(burst))
                .count()
                + i;
            render_burst(&mut out, &trace.steps[i..end], width);
            i = end;
            continue;
        }
        match step.kind {
            Kind::Probe => render_probe(&mut out, step),
            Kind::Connect | Kind::Emit | Kind::Disconnect => render_delivery(&mut out, step, width),
        }
        if let Some(wire) = &step.wire {
            render_wire(&mut out, wire);
        }
        i += 1;
    }
    out
}

fn arrow() -> String {
    "▸".bold().to_string()
}

fn render_probe(out: &mut String, step: &StepRecord) {
    let Some(probe) = &step.probe else { return };
    let url = terminal_safe(&probe.url);
    let what = match probe.method {
        ProbeKind::InProcess => format!("{url} (in-process, no network)"),
        ProbeKind::HttpGet => format!("GET {url}"),
        ProbeKind::Polling => format!("GET {url} (long-polling first)"),
        ProbeKind::Websocket => format!("WebSocket {url}"),
        ProbeKind::CrossPoll => format!("HTTP long-polling, {url}"),
    };
    let trigger = match step.sender.as_deref() {
        Some(who) => step.trigger.replacen(who, &who.cyan().to_string(), 1),
        None => step.trigger.clone(),
    };
    let _ = writeln!(out, "{INDENT}{} {trigger}: {what}", arrow());
    let ok = probe.succeeded();
    for line in &probe.observed {
        let mark = if ok {
            "✓".green().to_string()
        } else {
            "✗".red().to_string()
        };
        let _ = writeln!(out, "{INDENT}{INDENT}{mark} {}", terminal_safe(line));
    }
}

/// `'hi'` or `'chat message' "hello"`. The event name and its arguments are what a client read
/// off its socket, so they go through [`terminal_safe`].
fn describe(delivery: &Delivery) -> String {
    let event = terminal_safe(&delivery.event);
    if delivery.args.is_empty() {
        format!("'{event}'")
    } else {
        format!("'{event}' {}", shown_args(&delivery.args))
    }
}

fn header(step: &StepRecord) -> String {
    let cause = match step.kind {
        Kind::Emit => {
            // What the client sent: the same as what the server emits, unless the record says
            // otherwise (a `join`, or a room message whose first argument is the room).
            let sent = step.client_emit.clone().unwrap_or_else(|| Delivery {
                event: step.event.clone().unwrap_or_default(),
                args: step.args.clone(),
            });
            // Whatever the trigger says beyond "bob emits 'ev'" (lesson 6: "while
            // disconnected…", "(sent 2 times)").
            let sender = step.sender.as_deref().unwrap_or("?");
            let plain = format!("{sender} emits '{}'", sent.event);
            let extra = step.trigger.strip_prefix(&plain).unwrap_or_default();
            format!(
                "{} emits {}{}",
                sender.cyan(),
                describe(&sent),
                terminal_safe(extra)
            )
        }
        _ => step.trigger.replace(
            step.sender.as_deref().unwrap_or("\u{0}"),
            &step.sender.as_deref().unwrap_or_default().cyan().to_string(),
        ),
    };
    match &step.action {
        Some(action) => {
            // On a stage with several servers, the one that ran the handler is named.
            let server = step
                .node
                .as_deref()
                .map_or("server".to_owned(), |n| format!("server {n}"));
            format!("{INDENT}{} {cause} → {server} runs {}", arrow(), action.yellow())
        }
        None => format!("{INDENT}{} {cause}", arrow()),
    }
}

fn render_delivery(out: &mut String, step: &StepRecord, width: usize) {
    let _ = writeln!(out, "{}", header(step));
    if step.event.is_none() {
        // Nothing was emitted: say so, but still show anything that arrived regardless.
        let strays: Vec<_> = step.received.iter().filter(|(_, v)| !v.is_empty()).collect();
        if strays.is_empty() && step.ignored.is_empty() && !step.acks.is_empty() {
            let _ = writeln!(
                out,
                "{INDENT}{INDENT}{}",
                "(no event: an answer to a callback is an acknowledgement, not an emit)".dimmed()
            );
        } else if strays.is_empty() && step.ignored.is_empty() {
            let _ = writeln!(
                out,
                "{INDENT}{INDENT}{}",
                "(no event: nothing arrived at any client)".dimmed()
            );
        }
        for (name, inbox) in strays {
            let items: Vec<_> = inbox.iter().map(describe).collect();
            let _ = writeln!(out, "{INDENT}{INDENT}{name:<width$}  ! {}", items.join(", "));
        }
        for (name, ack) in &step.acks {
            let _ = writeln!(
                out,
                "{INDENT}{INDENT}{}  {}",
                pad(name, width).cyan(),
                ack_line(ack)
            );
        }
        for (name, inbox) in &step.ignored {
            let _ = writeln!(
                out,
                "{INDENT}{INDENT}{}  · {}",
                pad(name, width).cyan(),
                not_judged(inbox)
            );
        }
        return;
    }
    let event = step.event.as_deref().unwrap_or_default();
    for (name, inbox) in &step.received {
        let is_sender = step.sender.as_deref() == Some(name.as_str());
        let matching: Vec<_> = inbox.iter().filter(|d| d.event == event).map(describe).collect();
        let others: Vec<_> = inbox.iter().filter(|d| d.event != event).map(describe).collect();
        let set_aside = step.ignored.get(name).is_some_and(|v| !v.is_empty());
        let mut line = if matching.is_empty() && (inbox.is_empty() && !set_aside) {
            format!("{} nothing", "✗".red())
        } else if matching.is_empty() {
            // Something else arrived (shown next): say precisely what did not.
            format!("{} no '{}'", "✗".red(), terminal_safe(event))
        } else {
            format!("{} {}", "✓".green(), matching.join(", "))
        };
        if !others.is_empty() {
            let _ = write!(line, "  (also: {})", others.join(", "));
        }
        if let Some(set_aside) = step.ignored.get(name) {
            let _ = write!(line, "  {}", not_judged(set_aside));
        }
        // The why-not column: the server's own reason, read at emit time.
        let why_not = step.why_not.get(name).filter(|_| matching.is_empty());
        if is_sender {
            let who = if step.kind == Kind::Connect {
                "the newcomer"
            } else {
                "the sender"
            };
            let note = match (&step.audience, matching.is_empty()) {
                (Some(Audience::EveryoneButSender), true) => format!("{who}: a broadcast skips it"),
                (Some(Audience::RoomsButSender(_)), true) => format!("{who}: socket.to skips it"),
                (Some(Audience::Everyone), false) => format!("{who}, included by io.emit"),
                _ => match why_not {
                    Some(why) if why != "the sender" => format!("{who}: {}", terminal_safe(why)),
                    _ => who.to_owned(),
                },
            };
            let _ = write!(line, "   {}", format!("← {note}").dimmed());
        } else if let Some(why) = why_not {
            // A connection handler's socket is the newcomer, whom `socket.emit` alone reaches.
            let why = match why.as_str() {
                "not the sender" if step.kind == Kind::Connect => "not the newcomer",
                why => why,
            };
            let _ = write!(line, "   {}", format!("← {}", terminal_safe(why)).dimmed());
        }
        if let Some(ack) = step.acks.get(name) {
            let _ = write!(line, "   {}", ack_line(ack));
        }
        if let Some(ack) = step.server_acks.get(name) {
            let _ = write!(line, "   {}", server_ack_line(ack));
        }
        let _ = writeln!(out, "{INDENT}{INDENT}{}  {line}", pad(name, width).cyan());
    }
    // Clients that are disconnected: nothing reaches them, and the server keeps nothing for them.
    for name in &step.away {
        let _ = writeln!(
            out,
            "{INDENT}{INDENT}{}  {} nothing   {}",
            pad(name, width).cyan(),
            "✗".red(),
            "← disconnected: no socket on the server to send to".dimmed()
        );
    }
}

/// What came back to a client's acknowledgement callback.
fn ack_line(ack: &super::Ack) -> String {
    match ack {
        super::Ack::Answered(args) if args.is_empty() => {
            format!(
                "{} acknowledged: its callback was called (no arguments)",
                "↩".green()
            )
        }
        super::Ack::Answered(args) => format!("{} its callback got {}", "↩".green(), shown_args(args)),
        super::Ack::TimedOut { after_ms } => {
            format!(
                "{} no answer: its callback got a timeout error after {after_ms} ms",
                "↩".red()
            )
        }
    }
}

/// What came back to the server from a client it asked (`emitWithAck`), as the server saw it.
fn server_ack_line(ack: &super::Ack) -> String {
    match ack {
        super::Ack::Answered(args) => format!("{} answered the server: {}", "↪".green(), shown_args(args)),
        super::Ack::TimedOut { after_ms } => {
            format!(
                "{} no answer: the server's timer ran out after {after_ms} ms",
                "↪".red()
            )
        }
    }
}

/// Events a `check` received that the lesson does not judge (another lesson's events, say):
/// shown, because they were observed, and marked, because they do not count.
fn not_judged(inbox: &[Delivery]) -> String {
    let items: Vec<_> = inbox.iter().map(describe).collect();
    format!("(not judged by this lesson: {})", items.join(", "))
        .dimmed()
        .to_string()
}

fn render_burst(out: &mut String, steps: &[StepRecord], width: usize) {
    match &steps[0].action {
        Some(action) => {
            let _ = writeln!(
                out,
                "{INDENT}{} {} messages, one after another → server runs {} for each",
                arrow(),
                steps.len(),
                action.yellow()
            );
        }
        // Someone else's server (`check`): what it runs is not known, only what arrived.
        None => {
            let _ = writeln!(
                out,
                "{INDENT}{} {} messages, one after another",
                arrow(),
                steps.len()
            );
        }
    }
    for (i, step) in steps.iter().enumerate() {
        let sent = Delivery {
            event: step.event.clone().unwrap_or_default(),
            args: step.args.clone(),
        };
        let sender = step.sender.as_deref().unwrap_or("?");
        let _ = writeln!(
            out,
            "{INDENT}{INDENT}{}. {} emits {}",
            i + 1,
            pad(sender, width).cyan(),
            describe(&sent)
        );
    }
    let _ = writeln!(
        out,
        "{INDENT}{INDENT}{}",
        "what each client received, in arrival order:".dimmed()
    );
    let names: Vec<&String> = steps[0].received.keys().collect();
    for name in names {
        let mut arrivals: Vec<(usize, usize)> = steps
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.arrival.get(name).map(|p| (*p, i + 1)))
            .collect();
        arrivals.sort();
        let order: Vec<String> = arrivals
            .iter()
            .map(|(_, message)| shown_args(&steps[message - 1].args))
            .collect();
        let missing: Vec<String> = steps
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.arrival.contains_key(name))
            .map(|(i, _)| format!("#{}", i + 1))
            .collect();
        let mut line = if order.is_empty() {
            format!("{} nothing", "✗".red())
        } else {
            format!("{} {}", "✓".green(), order.join(" → "))
        };
        if !missing.is_empty() && !order.is_empty() {
            let _ = write!(line, "   {} {}", "✗ not".red(), missing.join(" "));
        }
        if let Some(set_aside) = steps.iter().find_map(|s| s.ignored.get(name.as_str())) {
            let _ = write!(line, "  {}", not_judged(set_aside));
        }
        let _ = writeln!(out, "{INDENT}{INDENT}{}  {line}", pad(name, width).cyan());
    }
    if let Some(wire) = steps.last().and_then(|s| s.wire.as_ref()) {
        render_wire(out, wire);
    }
}

fn render_wire(out: &mut String, wire: &[WireLine]) {
    if wire.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{INDENT}{INDENT}{}",
        "wire (raw WebSocket frames, client's view):".dimmed()
    );
    let width = wire.iter().map(|w| w.client.len()).max().unwrap_or(0);
    for line in wire {
        let arrow = match line.direction {
            WireDirection::Sent => "→ server",
            WireDirection::Received => "← server",
        };
        // The heartbeat comes on the server's schedule (the first ping right after OPEN), so
        // where these frames appear varies from run to run: they are named to be recognised.
        let label = if line.plumbing {
            "  (tutor plumbing: fence, not part of the lesson)"
        } else if line.direction == WireDirection::Received && line.frame == "2" {
            "  (Engine.IO heartbeat: the server's ping)"
        } else if line.direction == WireDirection::Sent && line.frame == "3" {
            "  (Engine.IO heartbeat: the client's pong)"
        } else {
            ""
        };
        let text = format!(
            "{INDENT}{INDENT}  {} {arrow}  {}{label}",
            pad(&line.client, width),
            terminal_safe(&line.frame)
        );
        let _ = writeln!(
            out,
            "{}",
            if line.plumbing {
                text.dimmed().to_string()
            } else {
                text
            }
        );
    }
}

fn pad(name: &str, width: usize) -> String {
    format!("{name:<width$}")
}

/// The closing table of a lesson: for every delivery step, who received it.
pub fn summary(traces: &[StageTrace]) -> String {
    let mut out = String::new();
    let mut clients: Vec<String> = Vec::new();
    for trace in traces {
        for c in &trace.clients {
            if !clients.contains(c) {
                clients.push(c.clone());
            }
        }
    }
    let rows: Vec<(String, &StepRecord)> = traces
        .iter()
        .flat_map(|t| t.steps.iter())
        .filter(|s| s.is_delivery())
        .map(|s| {
            let cause = match s.kind {
                Kind::Emit => format!(
                    "{} emits {}",
                    s.sender.as_deref().unwrap_or("?"),
                    shown_args(&s.args)
                ),
                _ => s.trigger.clone(),
            };
            (
                format!(
                    "{}.{} {cause} · {}",
                    s.lesson,
                    s.stage,
                    s.action.as_deref().unwrap_or("")
                ),
                s,
            )
        })
        .collect();
    let probes: Vec<&StepRecord> = traces
        .iter()
        .flat_map(|t| t.steps.iter())
        .filter(|s| s.kind == Kind::Probe)
        .collect();
    if !probes.is_empty() {
        let _ = writeln!(out, "{}", "What answered, stage by stage".bold());
        for step in probes {
            let Some(probe) = &step.probe else { continue };
            let what = match probe.method {
                ProbeKind::InProcess => "app called in-process",
                ProbeKind::HttpGet => "GET /",
                ProbeKind::Polling => "io(), polling first",
                ProbeKind::Websocket => "io(), WebSocket only",
                ProbeKind::CrossPoll => "polling on two servers",
            };
            let result = match probe.outcome {
                ProbeOutcome::SocketIo if probe.method == ProbeKind::Polling => {
                    "connected (GET → OPEN, CONNECT, then 101)".to_owned()
                }
                ProbeOutcome::SocketIo => "connected (101, OPEN, CONNECT)".to_owned(),
                ProbeOutcome::Refused => "connection refused".to_owned(),
                _ => terminal_safe(probe.outcome_line().unwrap_or("")),
            };
            let _ = writeln!(out, "{INDENT}{}.{} {what:<22} {result}", step.lesson, step.stage);
        }
    }
    let answered: Vec<&StepRecord> = traces
        .iter()
        .flat_map(|t| t.steps.iter())
        .filter(|s| !s.acks.is_empty())
        .collect();
    if !answered.is_empty() {
        let _ = writeln!(out, "{}", "What came back to each callback".bold());
        for step in answered {
            let asked = step
                .client_emit
                .as_ref()
                .map_or_else(String::new, |d| shown_args(&d.args));
            for (who, ack) in &step.acks {
                let _ = writeln!(
                    out,
                    "{INDENT}{}.{} {who} asks {asked}  {}",
                    step.lesson,
                    step.stage,
                    ack_line(ack)
                );
            }
        }
    }
    let asked: Vec<&StepRecord> = traces
        .iter()
        .flat_map(|t| t.steps.iter())
        .filter(|s| !s.server_acks.is_empty())
        .collect();
    if !asked.is_empty() {
        let _ = writeln!(out, "{}", "What came back to the server".bold());
        for step in asked {
            let question = shown_args(&step.args);
            for (who, ack) in &step.server_acks {
                let _ = writeln!(
                    out,
                    "{INDENT}{}.{} {who} asked {question}  {}",
                    step.lesson,
                    step.stage,
                    server_ack_line(ack)
                );
            }
        }
    }
    if rows.is_empty() {
        return out;
    }
    let _ = writeln!(out, "{}", "Who received what".bold());
    let label_width = rows.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0);
    let mut head = format!("{INDENT}{:label_width$}", "");
    for c in &clients {
        let _ = write!(head, "  {c}");
    }
    let _ = writeln!(out, "{head}");
    for (label, step) in &rows {
        let mut line = format!("{INDENT}{label:<label_width$}");
        for c in &clients {
            let mark = if step.received_by.contains(c) {
                "✓".green().to_string()
            } else if step.not_received_by.contains(c) || step.away.contains(c) {
                "✗".red().to_string()
            } else {
                "·".dimmed().to_string()
            };
            let star = if step.sender.as_deref() == Some(c) {
                "*"
            } else {
                " "
            };
            let cell_width = c.chars().count();
            let _ = write!(line, "  {mark}{star}{}", " ".repeat(cell_width.saturating_sub(2)));
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let _ = writeln!(
        out,
        "{INDENT}{}",
        "✓ received  ✗ did not receive  · not connected yet  * the sender".dimmed()
    );
    out
}

/// The heading of `check`: where it plays, and the lesson's server it compares with.
pub fn check_intro(lesson: &Lesson, stage: &Stage, url: &str, path: &str) -> String {
    let mut out = String::new();
    let heading = format!("Check · lesson {} · {}", lesson.number, lesson.title);
    let _ = writeln!(out, "{}", heading.bold().magenta());
    let _ = writeln!(out, "{INDENT}your server: {url} (Socket.IO at {path})");
    let _ = writeln!(out);
    let label = format!(
        "What the lesson's server does (stage {}.{}: {})",
        lesson.number, stage.number, stage.title
    );
    let _ = writeln!(out, "{INDENT}{}", label.underline());
    for line in stage.node.trim_end().lines() {
        let _ = writeln!(out, "{INDENT}{INDENT}{}", line.yellow());
    }
    out
}

/// The heading over `check`'s trace, printed only when there is a trace to show.
pub fn check_trace_heading() -> String {
    format!(
        "\n{INDENT}{}\n",
        "Live trace (your server, as the simulated clients saw it)".underline()
    )
}

/// How many findings a verdict lists before it sums up the rest.
const FINDINGS_SHOWN: usize = 8;

/// The verdict of `check`: PASS, or FAIL with what differed and the likely mistake.
///
/// Its sentences quote the server under test (an event name, a first frame, a refusal
/// message), so each goes through [`terminal_safe`].
pub fn verdict(verdict: &crate::check::Verdict) -> String {
    use crate::check::{Failure, Verdict};
    let mut out = String::new();
    match verdict {
        Verdict::Pass { summary } => {
            let _ = writeln!(out, "{}  {}", "PASS".bold().green(), terminal_safe(summary));
        }
        Verdict::Fail(Failure::Target(problem)) => {
            let said = terminal_safe(&problem.to_string());
            let _ = writeln!(out, "{}  {said}", "FAIL".bold().red());
            if let crate::check::Problem::Found { found, .. } = problem {
                let _ = writeln!(out, "{INDENT}what the tutor found:");
                for line in found {
                    let _ = writeln!(out, "{INDENT}· {}", terminal_safe(line));
                }
            }
        }
        Verdict::Fail(Failure::Behaviour { headline, findings }) => {
            let _ = writeln!(out, "{}  {}", "FAIL".bold().red(), terminal_safe(headline));
            // The likely mistake is said once, at the first finding it explains.
            let mut explained: Vec<&str> = Vec::new();
            for finding in findings.iter().take(FINDINGS_SHOWN) {
                let mut line = format!(
                    "{} step {} ({}): {}",
                    "✗".red(),
                    finding.step,
                    terminal_safe(&finding.trigger),
                    terminal_safe(&finding.message)
                );
                if let Some(why) = finding.why.as_deref()
                    && !explained.contains(&why)
                {
                    explained.push(why);
                    let _ = write!(line, ": {}", terminal_safe(why));
                }
                let _ = writeln!(out, "{INDENT}{line}");
            }
            if findings.len() > FINDINGS_SHOWN {
                let more = format!(
                    "… and {} more like these (the trace above shows them all)",
                    findings.len() - FINDINGS_SHOWN
                );
                let _ = writeln!(out, "{INDENT}{}", more.dimmed());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{ProbeOutcome, ProbeRecord};

    /// True when every ESC in `text` starts a colour code (`ESC [ digits ; … m`), which is
    /// all owo-colors writes.
    fn only_colour_codes(text: &str) -> bool {
        text.split('\u{1b}').skip(1).all(|rest| {
            rest.strip_prefix('[')
                .and_then(|r| r.find('m').map(|end| &r[..end]))
                .is_some_and(|codes| codes.chars().all(|c| c.is_ascii_digit() || c == ';'))
        })
    }

    #[test]
    fn remote_text_cannot_drive_the_terminal() {
        assert_eq!(terminal_safe("hi\u{1b}[31mred"), "hi\\u{1b}[31mred");
        assert_eq!(
            terminal_safe("\u{1b}]0;pwned\u{7}title"),
            "\\u{1b}]0;pwned\\u{7}title"
        );
        // C1 controls (an 8-bit CSI) and bidirectional overrides too.
        assert_eq!(
            terminal_safe("a\u{9b}2Jb\u{202e}c\nd"),
            "a\\u{9b}2Jb\\u{202e}c\\u{a}d"
        );
        assert_eq!(terminal_safe("plain text, é ✓"), "plain text, é ✓");
        // Every bidirectional mark, embedding, override and isolate, and the line and
        // paragraph separators.
        for c in [
            '\u{061c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202d}', '\u{2066}', '\u{2069}', '\u{2028}',
            '\u{2029}',
        ] {
            let shown = terminal_safe(&format!("a{c}b"));
            assert_eq!(
                shown,
                format!("a\\u{{{:x}}}b", u32::from(c)),
                "{:x}",
                u32::from(c)
            );
        }
        assert_eq!(terminal_safe_within("abcdef", 3), "abc…");
        assert_eq!(terminal_safe_within("abc", 3), "abc");
    }

    #[test]
    fn a_trace_escapes_what_the_server_sent() {
        let evil = "\u{1b}]0;pwned\u{7}\u{1b}[31m";
        let probe = ProbeRecord {
            method: ProbeKind::HttpGet,
            url: "http://127.0.0.1:1/".into(),
            outcome: ProbeOutcome::Http,
            status: Some(200),
            observed: vec![format!("the page: <title>{evil}</title>")],
        };
        let mut step = StepRecord {
            probe: Some(probe),
            wire: Some(vec![WireLine {
                client: "alice".into(),
                direction: WireDirection::Received,
                frame: format!("42[\"hi\",\"{evil}\"]"),
                plumbing: false,
            }]),
            ..StepRecord::new(1, 1, 1, Kind::Probe, "a browser asks for the page".into())
        };
        let mut emit = step.clone();
        emit.kind = Kind::Connect;
        emit.probe = None;
        emit.sender = Some("alice".into());
        emit.event = Some("hi".into());
        emit.received.insert(
            "alice".into(),
            vec![Delivery {
                event: format!("hi{evil}"),
                args: vec![serde_json::Value::from("\u{9b}31m")],
            }],
        );
        step.wire = None;
        let trace = StageTrace {
            lesson: 1,
            stage: 1,
            title: String::new(),
            clients: vec!["alice".into()],
            steps: vec![step, emit],
        };
        let coloured = stage_trace(&trace);
        assert!(only_colour_codes(&coloured), "{coloured:?}");
        assert!(!coloured.contains(['\u{7}', '\u{9b}']), "{coloured:?}");
        let shown = anstream::adapter::strip_str(&coloured).to_string();
        assert!(
            shown.contains("<title>\\u{1b}]0;pwned\\u{7}\\u{1b}[31m</title>"),
            "{shown}"
        );
        assert!(shown.contains("'hi\\u{1b}]0;pwned"), "{shown}");
    }
}
