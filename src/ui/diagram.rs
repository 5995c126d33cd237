//! A stage's trace as a sequence diagram (SVG): a lane for the server, one per client, and one
//! arrow for every event that crossed the wire, in the order the trace holds them.
//!
//! Everything drawn comes from the observed trace and nothing else: the arrows are the events a
//! client read off its socket, the code in the box is the `action` the record names, and a
//! "not delivered" mark stands where a connected client received nothing of the step's event,
//! with the reason only when the record holds one (`why_not`, read from the server's state).
//! The lesson's expectations are never consulted.
//!
//! How a step is drawn, top to bottom:
//! * a caption (`4 · alice emits 'chat message'`) and a thin rule across the lanes;
//! * what the client side did: `connect` or the emitted event, an arrow into the server lane; a
//!   client's lane is dotted until it connects and solid from then on;
//! * the call the server ran, as JavaScript, in a box on the server lane where the arrows fan
//!   out;
//! * per client in lane order: an arrow for each event it received, or a red ✗ "not delivered";
//! * a burst (messages sent one after another) draws all its emits first, then each client's
//!   arrivals in the order that client saw them, numbered like the text trace (`#2`);
//! * a probe (lesson 1) draws the request and what came back, or a ✗ where it ended.
//!
//! Every label sits just right of the client lane it belongs to; labels are halo-outlined so they
//! stay readable where they cross another lane.

use std::collections::BTreeMap;

use serde_json::Value;

mod steps;

use super::svg::{Anchor, Scene, text_width};
use crate::trace::{Kind, StageTrace, StepRecord, format_args};
use steps::{draw_burst, draw_probe, draw_step};

const MARGIN: i32 = 16;
/// Height of a lane's name box.
const HEAD_H: i32 = 24;
/// Vertical distance between two arrows.
const ROW: i32 = 24;
/// The narrowest distance between two lanes.
const MIN_GAP: i32 = 128;
/// Labels longer than this are shortened (`…`), with the whole text as a tooltip.
const MAX_LABEL: usize = 60;
/// Notes (a probe's observations) are wrapped at this width, in characters.
const NOTE_WIDTH: usize = 64;

/// The diagram of one stage, as a complete SVG document.
pub fn stage_svg(trace: &StageTrace) -> String {
    stages_svg(std::slice::from_ref(trace))
}

/// The diagrams of several stages (a whole lesson), one under the other, in one SVG document.
pub fn stages_svg(traces: &[StageTrace]) -> String {
    let mut scene = Scene::default();
    let mut y = MARGIN;
    for trace in traces {
        y = draw_stage(&mut scene, trace, y) + ROW;
    }
    let title = match traces {
        [one] => format!("Lesson {} stage {}: {}", one.lesson, one.stage, one.title),
        [first, ..] => format!("Lesson {}: who received what", first.lesson),
        [] => "No stage ran".to_owned(),
    };
    scene.finish(&title, MARGIN)
}

/// The lanes of a stage: servers first, then clients in the order they first appear.
struct Lanes {
    names: Vec<String>,
    servers: usize,
    x: Vec<i32>,
}

impl Lanes {
    fn of(trace: &StageTrace) -> Self {
        // One lane per server the records name (`server A`, `server B`, in the order of their
        // names, whichever handled a step first), or the one `server` of a stage with a single
        // server.
        let mut names: Vec<String> = Vec::new();
        for node in trace.steps.iter().filter_map(|s| s.node.as_deref()) {
            let lane = server_lane(Some(node));
            if !names.contains(&lane) {
                names.push(lane);
            }
        }
        names.sort();
        if names.is_empty() {
            names.push(server_lane(None));
        }
        let servers = names.len();
        let mut add = |name: &str| {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        };
        for step in &trace.steps {
            add(&caller(step));
            for name in step.received.keys().chain(step.not_received_by.iter()) {
                add(name);
            }
        }
        for name in &trace.clients {
            add(name);
        }
        let widths: Vec<i32> = names.iter().map(|n| head_width(n)).collect();
        let gap = widths.iter().map(|w| w + 24).max().unwrap_or(0).max(MIN_GAP);
        let first = MARGIN + widths[0] / 2;
        let x = (0..names.len() as i32).map(|i| first + i * gap).collect();
        Lanes { names, servers, x }
    }

    fn at(&self, name: &str) -> i32 {
        let i = self.names.iter().position(|n| n == name).unwrap_or(0);
        self.x[i]
    }

    /// The lane of the server that handled `step`.
    fn server_of(&self, step: &StepRecord) -> i32 {
        let lane = server_lane(step.node.as_deref());
        let i = self.names[..self.servers]
            .iter()
            .position(|n| *n == lane)
            .unwrap_or(0);
        self.x[i]
    }
}

/// The name on a server's lane: `server`, or `server A` on a stage with several.
fn server_lane(node: Option<&str>) -> String {
    node.map_or("server".to_owned(), |n| format!("server {n}"))
}

fn head_width(name: &str) -> i32 {
    text_width(name) + 20
}

/// Who stands on the client side of a step: its sender, or for a probe with none, what made
/// the request (the program itself, or a plain HTTP client).
fn caller(step: &StepRecord) -> String {
    if let Some(sender) = &step.sender {
        return sender.clone();
    }
    match step.probe.as_ref().map(|p| p.method) {
        Some(crate::lesson::ProbeKind::InProcess) => "the program".to_owned(),
        _ => "HTTP client".to_owned(),
    }
}

/// `'hi'` or `'chat message' "hello"`, as JavaScript shows an emit's arguments.
pub fn describe(event: &str, args: &[Value]) -> String {
    if args.is_empty() {
        format!("'{event}'")
    } else {
        format!("'{event}' {}", format_args(args))
    }
}

/// `text` cut to [`MAX_LABEL`] characters, and the whole text when it was cut.
fn shorten(text: &str) -> (String, Option<&str>) {
    if text.chars().count() <= MAX_LABEL {
        return (text.to_owned(), None);
    }
    let cut: String = text.chars().take(MAX_LABEL - 1).collect();
    (cut + "…", Some(text))
}

/// Draws one stage from `top`; returns the lowest y drawn.
fn draw_stage(scene: &mut Scene, trace: &StageTrace, top: i32) -> i32 {
    let lanes = Lanes::of(trace);
    let heading = format!(
        "Lesson {} · stage {} · {}",
        trace.lesson, trace.stage, trace.title
    );
    scene.text(
        (MARGIN, top + 12),
        Anchor::Start,
        "rtd-title",
        &[(None, &heading)],
        None,
    );
    let head_top = top + 24;
    for (name, x) in lanes.names.iter().zip(&lanes.x) {
        let w = head_width(name);
        scene.rect((x - w / 2, head_top), (w, HEAD_H), "rtd-head");
        scene.text(
            (*x, head_top + 16),
            Anchor::Middle,
            "rtd-name",
            &[(None, name)],
            None,
        );
    }
    // The rows are drawn into a scene of their own first, so the lifelines (drawn underneath
    // them) know how far down to go and where each client joined.
    let mut rows = Scene::default();
    let mut joined: BTreeMap<String, i32> = BTreeMap::new();
    let mut rules = Vec::new();
    let mut y = head_top + HEAD_H + 8;
    for group in trace.groups() {
        let step = &group[0];
        if step.burst.is_some() {
            rules.push(y);
            y = draw_burst(&mut rows, &lanes, group, y);
            continue;
        }
        rules.push(y);
        y = caption(&mut rows, &format!("{} · {}", step.step, step.trigger), y);
        y = match step.kind {
            Kind::Probe => draw_probe(&mut rows, &lanes, step, y, &mut joined),
            Kind::Connect | Kind::Emit | Kind::Disconnect => {
                draw_step(&mut rows, &lanes, step, y, &mut joined)
            }
        };
    }
    if trace.steps.is_empty() {
        // A run that stopped before its first step (`check` against a server that is not
        // there): say so rather than draw an empty frame. The text output says why.
        y = caption(&mut rows, "nothing was observed: no step completed", y);
    }
    let bottom = y;
    let right = rows.right().max(lanes.x.last().copied().unwrap_or(0));
    for y in rules {
        scene.line((MARGIN, y + 2), (right, y + 2), "rtd-rule");
    }
    for (i, (name, x)) in lanes.names.iter().zip(&lanes.x).enumerate() {
        let start = head_top + HEAD_H;
        let from = if i < lanes.servers {
            Some(start)
        } else {
            joined.get(name).copied()
        };
        match from {
            Some(from) => {
                if from > start {
                    scene.line((*x, start), (*x, from), "rtd-absent");
                    scene.dot((*x, from), 4, "rtd-joined");
                }
                scene.line((*x, from), (*x, bottom), "rtd-life");
            }
            None => scene.line((*x, start), (*x, bottom), "rtd-absent"),
        }
    }
    scene.append(rows);
    bottom
}

/// The caption of a step; returns the y of the first row under it. (The rule above it is drawn
/// later, across the whole width, once that is known.)
fn caption(scene: &mut Scene, text: &str, y: i32) -> i32 {
    let (shown, full) = shorten(text);
    scene.text(
        (MARGIN, y + 16),
        Anchor::Start,
        "rtd-caption rtd-label",
        &[(None, &shown)],
        full,
    );
    y + 16 + ROW
}

/// An arrow from `from` to `to` at `y`, and its label just right of the client lane `beside`.
fn arrow(
    scene: &mut Scene,
    from: i32,
    to: i32,
    y: i32,
    kind: &str,
    beside: i32,
    label: &[(Option<&str>, &str)],
) {
    scene.line((from, y), (to, y), &format!("rtd-{kind}"));
    let dir = if to > from { -1 } else { 1 };
    scene.polygon(
        &[(to, y), (to + dir * 8, y - 4), (to + dir * 8, y + 4)],
        &format!("rtd-{kind}-head"),
    );
    // Shortened as a whole: the pieces keep their classes, the last one ends in `…`.
    let whole: String = label.iter().map(|(_, t)| *t).collect();
    let cut = whole.chars().count() > MAX_LABEL;
    let mut budget = if cut { MAX_LABEL - 1 } else { usize::MAX };
    let mut shown: Vec<(Option<&str>, String)> = Vec::new();
    for (class, text) in label {
        let piece: String = text.chars().take(budget).collect();
        budget -= piece.chars().count();
        shown.push((*class, piece));
    }
    if let (true, Some(last)) = (cut, shown.last_mut()) {
        last.1.push('…');
    }
    let full = cut.then_some(whole.as_str());
    let pieces: Vec<(Option<&str>, &str)> = shown.iter().map(|(c, t)| (*c, t.as_str())).collect();
    scene.text((beside + 10, y - 5), Anchor::Start, "rtd-label", &pieces, full);
}

/// A red ✗ on a client's lane, with what did not arrive and, when the trace says, why.
/// Drawn at the height of an arrow's label, so it reads as one row among the arrows.
fn cross(scene: &mut Scene, x: i32, y: i32, what: &str, why: Option<&str>) {
    x_mark(scene, x, y - 5);
    let text = match why {
        Some(why) => format!("not delivered: {what} ({why})"),
        None => format!("not delivered: {what}"),
    };
    let (shown, full) = shorten(&text);
    scene.text(
        (x + 10, y - 1),
        Anchor::Start,
        "rtd-no rtd-label",
        &[(None, &shown)],
        full,
    );
}

/// A red ✗ centred on `(x, y)`.
fn x_mark(scene: &mut Scene, x: i32, y: i32) {
    scene.line((x - 5, y - 5), (x + 5, y + 5), "rtd-cross");
    scene.line((x - 5, y + 5), (x + 5, y - 5), "rtd-cross");
}

/// The call the server ran, in a box on its lane.
fn action_box(scene: &mut Scene, server: i32, y: i32, action: &str, suffix: &str) -> i32 {
    let code = format!("{action}{suffix}");
    let w = text_width("runs ") + text_width(&code) + 16;
    scene.rect((server - 6, y - 4), (w, 22), "rtd-code-box");
    scene.text(
        (server + 2, y + 11),
        Anchor::Start,
        "rtd-label",
        &[(Some("rtd-dim"), "runs "), (Some("rtd-code"), &code)],
        None,
    );
    y + 22 + ROW
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Delivery;

    fn trace(steps: Vec<StepRecord>) -> StageTrace {
        StageTrace {
            lesson: 9,
            stage: 1,
            title: "t".into(),
            clients: vec!["zoe".into(), "amy".into()],
            steps,
            measure: None,
        }
    }

    fn connect(step: u32, who: &str, received: &[&str]) -> StepRecord {
        let mut record = StepRecord::new(9, 1, step, Kind::Connect, format!("{who} connects"));
        record.sender = Some(who.into());
        for name in received {
            record.received.insert((*name).into(), Vec::new());
        }
        record
    }

    #[test]
    fn the_server_lane_comes_first_then_clients_as_they_appear() {
        let lanes = Lanes::of(&trace(vec![
            connect(1, "zoe", &["zoe"]),
            connect(2, "amy", &["amy", "zoe"]),
        ]));
        assert_eq!(lanes.names, ["server", "zoe", "amy"]);
        assert_eq!(lanes.servers, 1);
        assert!(
            lanes.x.windows(2).all(|w| w[1] - w[0] >= MIN_GAP),
            "{:?}",
            lanes.x
        );
    }

    #[test]
    fn a_long_label_is_shortened_and_kept_whole_as_its_tooltip() {
        let mut step = connect(1, "zoe", &["zoe"]);
        let long = "x".repeat(100);
        step.received.insert(
            "zoe".into(),
            vec![Delivery {
                event: "chat message".into(),
                args: vec![long.clone().into()],
                nsp: None,
            }],
        );
        let svg = stage_svg(&trace(vec![step]));
        let full = format!("<title>&#39;chat message&#39; &quot;{long}&quot;</title>");
        assert!(svg.contains(&full), "{svg}");
        let shown = format!(
            "&#39;chat message&#39; &quot;{}…</text>",
            "x".repeat(MAX_LABEL - 17)
        );
        assert!(svg.contains(&shown), "{svg}");
    }

    #[test]
    fn a_reason_appears_only_when_the_record_holds_one() {
        let mut step = connect(1, "zoe", &["zoe"]);
        step.event = Some("hi".into());
        step.not_received_by = vec!["zoe".into()];
        let without = stage_svg(&trace(vec![step.clone()]));
        assert!(
            without.contains(">not delivered: &#39;hi&#39;</text>"),
            "{without}"
        );
        step.why_not.insert("zoe".into(), "the newcomer".into());
        let with = stage_svg(&trace(vec![step]));
        assert!(
            with.contains(">not delivered: &#39;hi&#39; (the newcomer)</text>"),
            "{with}"
        );
    }
}
