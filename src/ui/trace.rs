//! A stage's trace as text for a terminal: who sent what, then every client with a ✓ or a ✗.
//!
//! This is exactly what the snapshots and the book keep. A step of one kind is worded here
//! (probes, and the line that starts every step); a delivery's per-client lines are in
//! [`super::delivery`], a burst's in [`super::burst`], and `--wire`'s frames in [`super::wire`].
//!
//! Text from the other side of a socket (a page title, a frame, an event name) is kept as it
//! came in the trace, and passes through [`terminal_safe`] on its way to the terminal.

use super::style::{self, INDENT};
use super::{burst, delivery, layout, measure, wire};
use crate::lesson::ProbeKind;
use crate::trace::safe::terminal_safe;
use crate::trace::{Ack, Delivery, Kind, StageTrace, StepRecord, format_args};

/// The trace lines of one stage, for this terminal (see [`layout::width`]).
pub fn stage_trace(trace: &StageTrace) -> String {
    stage_trace_at(trace, layout::width())
}

/// The trace lines of one stage, every line at most `width` columns. At
/// [`layout::PIPED_WIDTH`], this is exactly what the snapshots and the book keep.
pub fn stage_trace_at(trace: &StageTrace, width: usize) -> String {
    let mut out = String::new();
    let columns = Columns {
        name: trace
            .clients
            .iter()
            .map(|c| layout::columns(c))
            .max()
            .unwrap_or(0),
        width,
    };
    for group in trace.groups() {
        let step = &group[0];
        if step.burst.is_some() {
            burst::render(&mut out, group, columns);
            continue;
        }
        match step.kind {
            Kind::Probe => render_probe(&mut out, step, width),
            Kind::Connect | Kind::Emit | Kind::Disconnect => delivery::render(&mut out, step, columns),
        }
        if let Some(frames) = &step.wire {
            wire::render(&mut out, frames, width);
        }
    }
    if let Some(measured) = &trace.measure {
        measure::render(&mut out, measured, width);
    }
    out
}

/// The shape of a trace's lines: how wide the client-name column is, and the whole line.
#[derive(Debug, Clone, Copy)]
pub(super) struct Columns {
    /// The longest client name, which every name is padded to.
    pub name: usize,
    /// The width every line fits in.
    pub width: usize,
}

impl Columns {
    /// Lays out a client's line: its name padded in the first column, then `pieces` (see
    /// [`layout::flow`]). Lines that continue it start under the text after its mark, so the
    /// names stay a clean column.
    pub(super) fn client_line<'a>(
        &self,
        name: &str,
        pieces: impl IntoIterator<Item = (&'a str, String)>,
    ) -> String {
        let lead = format!("{INDENT}{INDENT}{}  ", style::name(pad(name, self.name)));
        let hang = 2 * INDENT.len() + self.name + 2 + 2;
        layout::flow(&lead, pieces, hang, self.width)
    }
}

fn render_probe(out: &mut String, step: &StepRecord, width: usize) {
    let Some(probe) = &step.probe else { return };
    let url = terminal_safe(&probe.url);
    // What was asked, and how, as pieces: the how moves to the next line whole, and so does
    // a URL that follows words (a placeholder such as `<port A>` has a space in it).
    let (what, how) = match probe.method {
        ProbeKind::InProcess => (url, "(in-process, no network)"),
        ProbeKind::HttpGet => (format!("GET {url}"), ""),
        ProbeKind::Polling => (format!("GET {url}"), "(long-polling first)"),
        ProbeKind::Websocket => (format!("WebSocket {url}"), ""),
        ProbeKind::CrossPoll => ("HTTP long-polling,".to_owned(), url.as_str()),
    };
    let trigger = match step.sender.as_deref() {
        Some(who) => step.trigger.replacen(who, &style::name(who), 1),
        None => step.trigger.clone(),
    };
    let lead = format!("{INDENT}{} ", style::arrow());
    let mut pieces = vec![("", format!("{trigger}:")), (" ", what)];
    if !how.is_empty() {
        pieces.push((" ", how.to_owned()));
    }
    out.push_str(&layout::flow(&lead, pieces, 2 * INDENT.len(), width));
    let ok = probe.succeeded();
    for line in &probe.observed {
        let mark = if ok { style::ok() } else { style::no() };
        let first = format!("{INDENT}{INDENT}{mark} ");
        let rest = layout::spaces(2 * INDENT.len() + 2);
        out.push_str(&layout::wrapped(&terminal_safe(line), &first, &rest, width));
    }
}

/// Arguments as JavaScript source shows them, safe for a terminal.
pub(super) fn shown_args(args: &[serde_json::Value]) -> String {
    terminal_safe(&format_args(args))
}

/// `'hi'` or `'chat message' "hello"`. The event name and its arguments are what a client read
/// off its socket, so they go through [`terminal_safe`].
pub(super) fn describe(delivery: &Delivery) -> String {
    let event = terminal_safe(&delivery.event);
    let what = if delivery.args.is_empty() {
        format!("'{event}'")
    } else {
        format!("'{event}' {}", shown_args(&delivery.args))
    };
    // On which socket, for a client with sockets on several namespaces.
    match &delivery.nsp {
        Some(nsp) => format!("{what} on {}", terminal_safe(nsp)),
        None => what,
    }
}

/// The line that starts a step: what the client side did, and the call the server ran, with
/// the call moved to a line of its own when both do not fit in `width`.
pub(super) fn header(step: &StepRecord, width: usize) -> String {
    let cause = match step.kind {
        Kind::Emit => {
            // What the client sent: the same as what the server emits, unless the record says
            // otherwise (a `join`, or a room message whose first argument is the room).
            let sent = step.client_emit.clone().unwrap_or_else(|| Delivery {
                event: step.event.clone().unwrap_or_default(),
                args: step.args.clone(),
                nsp: None,
            });
            // Whatever the trigger says beyond "bob emits 'ev'" (lesson 6: "while
            // disconnected…", "(sent 2 times)").
            let sender = step.sender.as_deref().unwrap_or("?");
            let plain = format!("{sender} emits '{}'", sent.event);
            let extra = step.trigger.strip_prefix(&plain).unwrap_or_default();
            format!(
                "{} emits {}{}",
                style::name(sender),
                describe(&sent),
                terminal_safe(extra)
            )
        }
        _ => step.trigger.replace(
            step.sender.as_deref().unwrap_or("\u{0}"),
            &style::name(step.sender.as_deref().unwrap_or_default()),
        ),
    };
    let lead = format!("{INDENT}{} ", style::arrow());
    let hang = 2 * INDENT.len();
    match &step.action {
        Some(action) => {
            // On a stage with several servers, the one that ran the handler is named.
            let server = step
                .node
                .as_deref()
                .map_or("server".to_owned(), |n| format!("server {n}"));
            let ran = format!("→ {server} runs {}", style::js(action));
            layout::flow(&lead, [("", cause), (" ", ran)], hang, width)
        }
        None => layout::flow(&lead, [("", cause)], hang, width),
    }
}

/// What came back to a client's acknowledgement callback.
pub(super) fn ack_line(ack: &Ack) -> String {
    match ack {
        Ack::Answered(args) if args.is_empty() => {
            format!(
                "{} acknowledged: its callback was called (no arguments)",
                style::good("↩")
            )
        }
        Ack::Answered(args) => format!("{} its callback got {}", style::good("↩"), shown_args(args)),
        Ack::TimedOut { after_ms } => {
            format!(
                "{} no answer: its callback got a timeout error after {after_ms} ms",
                style::bad("↩")
            )
        }
    }
}

/// What came back to the server from a client it asked (`emitWithAck`), as the server saw it.
pub(super) fn server_ack_line(ack: &Ack) -> String {
    match ack {
        Ack::Answered(args) => format!("{} answered the server: {}", style::good("↪"), shown_args(args)),
        Ack::TimedOut { after_ms } => {
            format!(
                "{} no answer: the server's timer ran out after {after_ms} ms",
                style::bad("↪")
            )
        }
    }
}

/// Events a `check` received that the lesson does not judge (another lesson's events, say):
/// shown, because they were observed, and marked, because they do not count.
pub(super) fn not_judged(inbox: &[Delivery]) -> String {
    let items: Vec<_> = inbox.iter().map(describe).collect();
    style::note(format!("(not judged by this lesson: {})", items.join(", ")))
}

/// A client's name, padded to the width of the longest (before colour, which has no width).
pub(super) fn pad(name: &str, width: usize) -> String {
    format!("{name:<width$}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::WireDirection;
    use crate::trace::{ProbeOutcome, ProbeRecord, WireLine};

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
                nsp: None,
            }],
        );
        step.wire = None;
        let trace = StageTrace {
            lesson: 1,
            stage: 1,
            title: String::new(),
            clients: vec!["alice".into()],
            steps: vec![step, emit],
            measure: None,
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
