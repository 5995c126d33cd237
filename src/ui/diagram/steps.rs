//! How each kind of step is drawn: a connect or an emit with its deliveries, a burst of messages,
//! a probe. The shared pieces (lanes, arrows, marks, the action box) are in the parent module.

use std::collections::BTreeMap;

use super::{Lanes, NOTE_WIDTH, ROW, action_box, arrow, caller, caption, cross, describe, shorten, x_mark};
use crate::trace::{Ack, Delivery, Kind, ProbeOutcome, StepRecord, format_args};
use crate::ui::style::{DOT, NO, OK};
use crate::ui::svg::{Anchor, Scene, text_width};

pub(super) fn draw_step(
    scene: &mut Scene,
    lanes: &Lanes,
    step: &StepRecord,
    mut y: i32,
    joined: &mut BTreeMap<String, i32>,
) -> i32 {
    let server = lanes.server_of(step);
    if let Some(sender) = &step.sender {
        let x = lanes.at(sender);
        match step.kind {
            Kind::Connect => {
                joined.entry(sender.clone()).or_insert(y);
                arrow(scene, x, server, y, "send", x, &[(None, "connect")]);
            }
            // How it went away (`socket.disconnect()` or a dropped transport) is in the
            // caption above, from the trigger; the arrow only says that it went.
            Kind::Disconnect => {
                arrow(scene, x, server, y, "send", x, &[(None, "disconnect")]);
            }
            _ => {
                // What the client sent: the server's event unless the record keeps the
                // client's own apart (a `join`, a question answered through a callback).
                let sent = match &step.client_emit {
                    Some(d) => describe(&d.event, &d.args),
                    None => describe(step.event.as_deref().unwrap_or("?"), &step.args),
                };
                arrow(scene, x, server, y, "send", x, &[(None, "emit "), (None, &sent)]);
            }
        }
        y += ROW;
    }
    if let Some(action) = &step.action {
        y = action_box(scene, server, y, action, "");
    }
    // A CONNECT the server refused: what the client's `connect_error` listener got.
    if let Some(refusal) = &step.refused {
        let text = format!("connect_error on {}: '{}'", refusal.nsp, refusal.message);
        y = note(scene, server, y, &text, "rtd-no");
    }
    for name in &lanes.names[lanes.servers..] {
        let inbox = step.received.get(name).map(Vec::as_slice).unwrap_or_default();
        y = deliveries(scene, lanes, server, name, inbox.iter().map(|d| (None, d)), y);
        if let Some(set_aside) = step.ignored.get(name) {
            for d in set_aside {
                let x = lanes.at(name);
                let label = describe(&d.event, &d.args);
                arrow(
                    scene,
                    server,
                    x,
                    y,
                    "ignored",
                    x,
                    &[(None, &label), (Some("rtd-dim"), "  (not judged by this lesson)")],
                );
                y += ROW;
            }
        }
        if step.not_received_by.contains(name) {
            let what = format!("'{}'", step.event.as_deref().unwrap_or_default());
            cross(
                scene,
                lanes.at(name),
                y,
                &what,
                step.why_not.get(name).map(String::as_str),
            );
            y += ROW;
        }
        y = acks(scene, lanes.at(name), server, step, name, y);
    }
    y
}

/// The acknowledgements of client `name` as return arrows: the server's answer to its callback
/// (server → client), its answer to the server's `emitWithAck` (client → server), or a ✗ where
/// the asker's timer ran out instead.
fn acks(scene: &mut Scene, x: i32, server: i32, step: &StepRecord, name: &str, mut y: i32) -> i32 {
    let ways = [
        (step.acks.get(name), server, x, "its callback got no answer"),
        (
            step.server_acks.get(name),
            x,
            server,
            "no answer: the server's timer ran out",
        ),
    ];
    for (ack, from, to, silent) in ways {
        match ack {
            Some(Ack::Answered(args)) => {
                let answer = format_args(args);
                arrow(
                    scene,
                    from,
                    to,
                    y,
                    "reply",
                    x,
                    &[(Some("rtd-dim"), "↩ ack "), (None, &answer)],
                );
            }
            Some(Ack::TimedOut { after_ms }) => {
                x_mark(scene, x, y - 5);
                let text = format!("{silent} ({after_ms} ms)");
                let (shown, full) = shorten(&text);
                scene.text(
                    (x + 10, y - 1),
                    Anchor::Start,
                    "rtd-no rtd-label",
                    &[(None, &shown)],
                    full,
                );
            }
            None => continue,
        }
        y += ROW;
    }
    y
}

/// One arrow per delivery to `name`, each labelled (with `#n` when numbered).
fn deliveries<'a>(
    scene: &mut Scene,
    lanes: &Lanes,
    server: i32,
    name: &str,
    inbox: impl Iterator<Item = (Option<usize>, &'a Delivery)>,
    mut y: i32,
) -> i32 {
    let x = lanes.at(name);
    for (number, delivery) in inbox {
        let label = describe(&delivery.event, &delivery.args);
        let number = number.map(|n| format!("#{n} ")).unwrap_or_default();
        arrow(
            scene,
            server,
            x,
            y,
            "deliver",
            x,
            &[(Some("rtd-dim"), &number), (None, &label)],
        );
        y += ROW;
    }
    y
}

pub(super) fn draw_burst(scene: &mut Scene, lanes: &Lanes, steps: &[StepRecord], y: i32) -> i32 {
    let text = format!("{} · {} messages, one after another", steps[0].step, steps.len());
    let mut y = caption(scene, &text, y);
    let server = lanes.server_of(&steps[0]);
    for (i, step) in steps.iter().enumerate() {
        let Some(sender) = &step.sender else { continue };
        let x = lanes.at(sender);
        let sent = describe(step.event.as_deref().unwrap_or("?"), &step.args);
        let number = format!("#{} ", i + 1);
        arrow(
            scene,
            x,
            server,
            y,
            "send",
            x,
            &[(Some("rtd-dim"), &number), (None, "emit "), (None, &sent)],
        );
        y += ROW;
    }
    if let Some(action) = &steps[0].action {
        y = action_box(scene, server, y, action, " for each");
    }
    for name in &lanes.names[lanes.servers..] {
        // This client's arrivals, in the order it saw them (`arrival` is its position in the
        // burst), each tagged with the message's number.
        let mut seen: Vec<(usize, usize, &Delivery)> = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            let Some(position) = step.arrival.get(name) else {
                continue;
            };
            let event = step.event.as_deref().unwrap_or_default();
            if let Some(d) = step
                .received
                .get(name)
                .and_then(|inbox| inbox.iter().find(|d| d.event == event))
            {
                seen.push((*position, i + 1, d));
            }
        }
        seen.sort_by_key(|(position, number, _)| (*position, *number));
        y = deliveries(
            scene,
            lanes,
            server,
            name,
            seen.iter().map(|(_, n, d)| (Some(*n), *d)),
            y,
        );
        for (i, step) in steps.iter().enumerate() {
            if step.not_received_by.contains(name) {
                let what = format!("#{}", i + 1);
                cross(
                    scene,
                    lanes.at(name),
                    y,
                    &what,
                    step.why_not.get(name).map(String::as_str),
                );
                y += ROW;
            }
        }
    }
    y
}

pub(super) fn draw_probe(
    scene: &mut Scene,
    lanes: &Lanes,
    step: &StepRecord,
    mut y: i32,
    joined: &mut BTreeMap<String, i32>,
) -> i32 {
    let Some(probe) = &step.probe else { return y };
    let who = caller(step);
    let (x, server) = (lanes.at(&who), lanes.server_of(step));
    let request = match probe.method {
        crate::lesson::ProbeKind::InProcess => format!("{} (in-process)", probe.url),
        crate::lesson::ProbeKind::HttpGet => format!("GET {}", probe.url),
        crate::lesson::ProbeKind::Polling => format!("long-polling {}", probe.url),
        crate::lesson::ProbeKind::Websocket => format!("WebSocket {}", probe.url),
        crate::lesson::ProbeKind::CrossPoll => format!("polling GET {}", probe.url),
    };
    arrow(scene, x, server, y, "send", x, &[(None, &request)]);
    let (first, rest) = probe
        .observed
        .split_first()
        .map_or(("", &[][..]), |(f, r)| (f.as_str(), r));
    if probe.status.is_some() {
        y += ROW;
        let class = if probe.succeeded() { "rtd-ok" } else { "rtd-no" };
        let mark = format!("{} ", if probe.succeeded() { OK } else { NO });
        arrow(
            scene,
            server,
            x,
            y,
            "reply",
            x,
            &[(Some(class), &mark), (None, first)],
        );
    } else {
        // Nothing answered: the request ends in a ✗ where it was going.
        y += ROW;
        x_mark(scene, server, y);
        y = note(scene, server, y, first, "rtd-no") - ROW;
    }
    if probe.outcome == ProbeOutcome::SocketIo {
        joined.entry(who).or_insert(y);
    }
    y += ROW;
    for line in rest {
        y = note(scene, x, y, line, "rtd-dim");
    }
    y
}

/// A wrapped line of observation beside lane `x`; returns the y under it.
fn note(scene: &mut Scene, x: i32, y: i32, text: &str, class: &str) -> i32 {
    // The lines after the first are indented by position, which every renderer agrees on.
    let mut y = y;
    for (i, line) in textwrap::wrap(text, NOTE_WIDTH).iter().enumerate() {
        let (at, line) = if i == 0 {
            (x + 10, format!("{DOT} {line}"))
        } else {
            (x + 10 + text_width(&format!("{DOT} ")), line.to_string())
        };
        scene.text(
            (at, y + 4),
            Anchor::Start,
            &format!("{class} rtd-label"),
            &[(None, &line)],
            None,
        );
        y += 16;
    }
    y + 4
}
