//! `check`: play a lesson's scenario against someone else's server, and judge what was observed.
//!
//! The runner plays the lesson's check stage against the server at a URL (its remote mode: no
//! fences, a bounded wait for the expected deliveries, then a quiet window). This module turns the
//! records it produced into a [`Verdict`]: PASS, or FAIL with a diagnosis in the learner's terms.
//!
//! The diagnosis is computed, not looked up. For every delivery step the lesson data says who
//! should receive the event (`expect_received_by`), and the stage's behaviour says which call the
//! lesson teaches and whom it reaches (its [`Audience`]). Comparing that with who actually received
//! the event names the mistake: when the newcomer hears the `hi` their own connection triggered,
//! the server reaches everyone, which is what `io.emit` does, while the lesson asks for
//! `socket.broadcast.emit`. No lesson is named here.

mod nodes;

use std::collections::BTreeSet;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::client::{self, ConnectError, ConnectOptions, SimClient};
use crate::lesson::{Lesson, ProbeExpect, ProbeKind, Stage, StepKind};
use crate::runner::RunError;
use crate::trace::{Audience, Delivery, Kind, ProbeOutcome, StepRecord, format_args};
use crate::vocab::Trigger;

/// The bound on each step of connecting (TCP, WebSocket 101, Engine.IO OPEN, Socket.IO CONNECT)
/// and on each HTTP request. A server on 127.0.0.1 answers in milliseconds; a listener that
/// never answers is reported after this long instead of hanging the check.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long to wait for a delivery the lesson expects before calling it missing.
pub const EXPECT_WITHIN: Duration = Duration::from_secs(1);

/// How long to listen, after the expected deliveries, for deliveries the lesson does not expect.
/// One emit reaches all its sockets within a millisecond or two here, so this is a wide margin,
/// and it is paid once per step: a passing check of seven steps stays near one second.
pub const QUIET: Duration = Duration::from_millis(150);

/// What a check concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every step observed what the lesson teaches.
    Pass { summary: String },
    /// Something differed, or the scenario could not be played at all.
    Fail(Failure),
}

impl Verdict {
    pub fn passed(&self) -> bool {
        matches!(self, Verdict::Pass { .. })
    }
}

/// Why a check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// There is no Socket.IO server to play the scenario against at the target.
    #[error("{0}")]
    Target(Problem),
    /// The server answered, but not the way the lesson teaches.
    #[error("{headline}")]
    Behaviour {
        headline: String,
        findings: Vec<Finding>,
    },
}

/// What was found at the target instead of a Socket.IO server, in the learner's terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The TCP connection was refused.
    #[error(
        "nothing is listening on {addr} (the connection was refused). Start your server first, or check the port in --url."
    )]
    NothingListening { addr: String },
    /// The connection was accepted, then nothing came back within the bound.
    #[error(
        "something at {addr} accepted the connection but never answered ({detail}). Is the program stuck, or is it not an HTTP server?"
    )]
    NoAnswer { addr: String, detail: String },
    /// A server is there, but the Socket.IO handshake at `path` got no Socket.IO answer.
    #[error("{}", not_socket_io(.addr, .path, .answer, .found_at.as_deref()))]
    NotSocketIo {
        addr: String,
        path: String,
        answer: Answer,
        /// Where Socket.IO was found instead, if it was (see [`look_for_socket_io`]).
        found_at: Option<String>,
    },
    /// The Socket.IO handshake was answered with a redirect (see [`look_for_socket_io`]).
    #[error(
        "the server redirected {path} to {location} ({status}) instead of answering the Socket.IO \
         handshake, and Socket.IO clients do not follow redirects. Is something in front of Socket.IO \
         (a login check, a redirect to https or to another host) catching its requests? Let {path} \
         through to Socket.IO, or, if Socket.IO is mounted elsewhere, pass that path with --path."
    )]
    Redirected {
        path: String,
        status: String,
        /// The `Location` header, made safe to print.
        location: String,
    },
    /// A WebSocket opened, but the server did not speak Engine.IO over it.
    #[error(
        "{detail}: this is a WebSocket server, but not a Socket.IO server (Socket.IO speaks Engine.IO packets over the WebSocket)."
    )]
    PlainWebSocket { detail: String },
    /// The server refused the Socket.IO CONNECT for the default namespace.
    #[error(
        "the server refused the Socket.IO connection to the default namespace: {0}. Does a middleware (io.use) reject it?"
    )]
    ConnectRefused(String),
    /// Anything else that stopped the scenario, said as it was observed.
    #[error("{0}")]
    Other(String),
}

/// What the Socket.IO handshake got instead of a Socket.IO answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// An ordinary HTTP response, `HTTP 404 Not Found`.
    Status(String),
    /// The server closed the connection without any answer.
    Closed,
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Status(status) => f.write_str(status),
            Answer::Closed => f.write_str("no answer (the server closed the connection)"),
        }
    }
}

fn not_socket_io(addr: &str, path: &str, answer: &Answer, found_at: Option<&str>) -> String {
    match (found_at, answer) {
        (Some(there), _) => format!(
            "the Socket.IO handshake at {path} got {answer}, but this server speaks Socket.IO at {there} \
             (its page loads the client from there). Run the check again with --path {there}"
        ),
        (None, Answer::Closed) => format!(
            "{addr} took the WebSocket request for {path} and closed the connection without answering. \
             A Node server does that when it handles WebSocket requests, but not at this path: most \
             likely Socket.IO is attached with another `path` option (`new Server(server, {{ path }})`). \
             Pass that path with --path."
        ),
        (None, Answer::Status(status)) => format!(
            "{addr} answers HTTP, but the Socket.IO handshake at {path} got {status}: the server that \
             listens on this port has no Socket.IO attached at that path. The usual causes: \
             `new Server(server)` is attached to `server`, but the program calls `app.listen(...)`, which \
             starts a second HTTP server without Socket.IO (call `server.listen(...)` instead); or the \
             program never creates the Socket.IO server; or it sets another `path` option \
             (`new Server(server, {{ path }})`), in which case pass that path with --path."
        ),
    }
}

/// One difference between what the lesson teaches and what was observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The step (from 1), as in the trace.
    pub step: u32,
    /// What happened in that step, as the trace says it (`dave connects`).
    pub trigger: String,
    /// The difference, as observed.
    pub message: String,
    /// The likely mistake, where the observations show it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// Who one emit reached, seen from the socket that triggered it. Each shape is what one of
/// Socket.IO's calls does, which is how an observation names a likely mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// `io.emit`: every connected socket, the one that triggered it included.
    Everyone,
    /// `socket.broadcast.emit`: every connected socket but that one.
    AllButSender,
    /// `socket.emit`: that one socket only.
    OnlySender,
    /// No emit at all.
    Nobody,
}

impl Reach {
    /// In order of preference when one observation fits several shapes (with one client,
    /// "everyone" and "only the sender" look the same).
    const ALL: [Reach; 4] = [
        Reach::Everyone,
        Reach::AllButSender,
        Reach::OnlySender,
        Reach::Nobody,
    ];

    /// The reach of an audience that does not depend on rooms; `None` for the ones that do.
    fn from_audience(audience: &Audience) -> Option<Self> {
        match audience {
            Audience::Everyone => Some(Reach::Everyone),
            Audience::EveryoneButSender => Some(Reach::AllButSender),
            Audience::OnlySender => Some(Reach::OnlySender),
            Audience::Nobody => Some(Reach::Nobody),
            Audience::Rooms(_)
            | Audience::RoomsButSender(_)
            | Audience::EveryoneExcept(_)
            | Audience::ThisServer => None,
        }
    }

    /// The Socket.IO call that reaches exactly these sockets.
    fn call(self) -> &'static str {
        match self {
            Reach::Everyone => "io.emit",
            Reach::AllButSender => "socket.broadcast.emit",
            Reach::OnlySender => "socket.emit",
            Reach::Nobody => "sending nothing",
        }
    }

    /// Who that is, with `role` naming the triggering socket (`newcomer`, `sender`).
    fn who(self, role: &str) -> String {
        match self {
            Reach::Everyone => format!("every client, the {role} included"),
            Reach::AllButSender => format!("every client except the {role}"),
            Reach::OnlySender => format!("only the {role}"),
            Reach::Nobody => "no client".to_owned(),
        }
    }

    /// Does an observation (who received, out of who was connected) have this shape?
    fn fits(self, sender: &str, connected: &BTreeSet<&str>, received: &BTreeSet<&str>) -> bool {
        match self {
            Reach::Everyone => received == connected,
            Reach::AllButSender => !received.contains(sender) && received.len() + 1 == connected.len(),
            Reach::OnlySender => received.len() == 1 && received.contains(sender),
            Reach::Nobody => received.is_empty(),
        }
    }
}

/// The socket that triggers a step, in words: the one that connects, or the one that emits.
fn role(kind: Kind) -> &'static str {
    if kind == Kind::Connect {
        "newcomer"
    } else {
        "sender"
    }
}

/// `'hi'` or `'chat message' "hi everyone"`.
fn describe(event: &str, args: &[Value]) -> String {
    if args.is_empty() {
        format!("'{event}'")
    } else {
        format!("'{event}' {}", format_args(args))
    }
}

/// `alice`, `alice and bob`, `alice, bob and carol`.
fn names(list: &[&str]) -> String {
    match list {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Where the check was pointed, for messages.
#[derive(Debug, Clone)]
pub struct Where {
    /// `127.0.0.1:3000`.
    pub addr: String,
    /// `/socket.io/`.
    pub path: String,
}

/// Judges the records a check produced. `error` is how the run ended, if it did not complete.
pub fn judge(
    lesson: &Lesson,
    stage: &Stage,
    records: &[StepRecord],
    error: Option<&RunError>,
    target: &Where,
) -> Verdict {
    // 1. Could the scenario be played at all?
    for record in records {
        if let Some(problem) = probe_problem(record, target) {
            return Verdict::Fail(Failure::Target(problem));
        }
    }
    if let Some(error) = error {
        return Verdict::Fail(Failure::Target(run_problem(error, target)));
    }

    // 2. Every step, compared with what the lesson expects.
    let mut findings = Vec::new();
    let mut shapes: Vec<Reach> = Reach::ALL.to_vec();
    for record in records {
        let Some(step) = stage.steps.get(record.step as usize - 1) else {
            continue;
        };
        if let StepKind::Probe { expect, .. } = &step.kind {
            findings.extend(probe_finding(record, expect));
            continue;
        }
        let Some(event) = record.event.as_deref() else {
            // The lesson's server sends nothing at this step; anything it judges that arrived
            // anyway is a difference.
            for (who, inbox) in &record.received {
                if !inbox.is_empty() {
                    let items: Vec<_> = inbox.iter().map(|d| describe(&d.event, &d.args)).collect();
                    findings.push(finding(
                        record,
                        format!(
                            "{who} received {}, but the lesson's server sends nothing at this point",
                            items.join(", ")
                        ),
                    ));
                }
            }
            continue;
        };
        let Some(sender) = record.sender.as_deref() else {
            continue;
        };
        let connected: BTreeSet<&str> = record.received.keys().map(String::as_str).collect();
        let received: BTreeSet<&str> = record.received_by.iter().map(String::as_str).collect();
        shapes.retain(|shape| shape.fits(sender, &connected, &received));
        findings.extend(content_findings(record, event));
    }
    for record in records {
        if let Some(step) = stage.steps.get(record.step as usize - 1) {
            findings.extend(ack_findings(stage, step, record));
        }
    }

    // 3. Who should have received what, and who did.
    let likely = shapes.first().copied();
    let taught = taught(stage);
    for record in records {
        let Some(step) = stage.steps.get(record.step as usize - 1) else {
            continue;
        };
        let (Some(expected), Some(event), Some(sender)) = (
            step.expect_received_by.as_ref(),
            record.event.as_deref(),
            record.sender.as_deref(),
        ) else {
            continue;
        };
        let rooms = RoomTeaching::of(stage, step);
        findings.extend(delivery_findings(
            record,
            event,
            sender,
            expected,
            likely,
            taught.as_ref(),
            rooms.as_ref(),
        ));
    }
    findings.sort_by_key(|f| f.step);
    nodes::explain(stage, records, &mut findings);

    if findings.is_empty() {
        return Verdict::Pass {
            summary: pass_summary(lesson, stage, records, taught.as_ref()),
        };
    }
    Verdict::Fail(Failure::Behaviour {
        headline: headline(lesson, stage, records, likely, taught.as_ref()),
        findings,
    })
}

/// The call a stage's server teaches: its JavaScript, and whom it reaches.
#[derive(Debug, Clone)]
struct Taught {
    js: String,
    reach: Reach,
}

/// The first call of the stage whose reach does not depend on rooms: the connection handler's
/// emit, else the first emit step's.
fn taught(stage: &Stage) -> Option<Taught> {
    let mut effects = stage
        .behaviour
        .on_connection()
        .into_iter()
        .chain(stage.steps.iter().filter_map(|step| match &step.kind {
            StepKind::Emit { event, args, .. } => stage.effect(&Trigger::Event(event.clone()), args),
            _ => None,
        }));
    effects.find_map(|effect| {
        let emit = effect.emit?;
        Some(Taught {
            js: effect.js.to_owned(),
            reach: Reach::from_audience(&emit.to)?,
        })
    })
}

/// The JavaScript of the stage's first handler that emits: what the lesson asks for, when its
/// reach depends on rooms and so has no [`Reach`].
fn taught_js(stage: &Stage) -> Option<&'static str> {
    let from_steps = stage.steps.iter().filter_map(|step| match &step.kind {
        StepKind::Emit { event, args, .. } => stage.effect(&Trigger::Event(event.clone()), args),
        _ => None,
    });
    stage
        .behaviour
        .on_connection()
        .into_iter()
        .chain(from_steps)
        .find(|e| e.emit.is_some())
        .map(|e| e.js)
}

/// For a step whose emit goes to rooms: whom the lesson's handler selects, and the event that
/// makes the server join a socket to a room (both from the stage's declared effects).
#[derive(Debug)]
struct RoomTeaching {
    audience: Audience,
    join_event: Option<String>,
}

impl RoomTeaching {
    fn of(stage: &Stage, step: &crate::lesson::Step) -> Option<Self> {
        let StepKind::Emit { event, args, .. } = &step.kind else {
            return None;
        };
        let audience = stage.effect(&Trigger::Event(event.clone()), args)?.emit?.to;
        if audience.rooms().is_empty() {
            return None;
        }
        let join_event = stage.steps.iter().find_map(|s| match &s.kind {
            StepKind::Emit { event, args, .. } => stage
                .effect(&Trigger::Event(event.clone()), args)
                .filter(|e| !e.joins.is_empty())
                .map(|_| event.clone()),
            _ => None,
        });
        Some(Self { audience, join_event })
    }

    /// Why the sender's delivery differs, when the lesson's room emit explains it.
    fn sender_mistake(&self, sender_got_it: bool) -> Option<String> {
        match (&self.audience, sender_got_it) {
            (Audience::RoomsButSender(_), true) => Some(
                "that is what io.to(room) does: it starts from the whole server, so a member who \
                 sends gets it too; the lesson asks for socket.to(room), which leaves out the sender"
                    .to_owned(),
            ),
            (Audience::Rooms(_), false) => Some(
                "that is what socket.to(room) does; the lesson asks for io.to(room), which includes \
                 the sender when it is a member"
                    .to_owned(),
            ),
            _ => None,
        }
    }

    /// Why nobody received a room emit.
    fn nobody(&self) -> String {
        let rooms: Vec<String> = self.audience.rooms().iter().map(|r| format!("'{r}'")).collect();
        match &self.join_event {
            Some(join) => format!(
                "as if nobody were in room {}; does the server's '{join}' handler call socket.join(room)?",
                rooms.join(", ")
            ),
            None => format!("as if nobody were in room {}", rooms.join(", ")),
        }
    }
}

/// An acknowledgement that came back different from what the lesson's handler answers.
fn ack_findings(stage: &Stage, step: &crate::lesson::Step, record: &StepRecord) -> Vec<Finding> {
    let StepKind::Emit {
        client,
        event,
        args,
        ack: true,
        ..
    } = &step.kind
    else {
        return Vec::new();
    };
    let expected = stage
        .effect(&Trigger::Event(event.clone()), args)
        .and_then(|e| e.answers);
    let got = record.acks.get(client);
    let message = match (expected, got) {
        (Some(want), Some(crate::trace::Ack::Answered(have))) if *have == want => return Vec::new(),
        (None, Some(crate::trace::Ack::TimedOut { .. })) => return Vec::new(),
        (Some(want), Some(crate::trace::Ack::Answered(have))) => format!(
            "{client}'s callback got {}; the lesson's server answers {}",
            format_args(have),
            format_args(&want)
        ),
        (Some(want), _) => format!(
            "{client}'s callback got no answer; the lesson's server calls callback({})",
            format_args(&want)
        ),
        (None, Some(crate::trace::Ack::Answered(have))) => format!(
            "{client}'s callback got {}, but the lesson's server never calls it",
            format_args(have)
        ),
        (None, None) => return Vec::new(),
    };
    vec![finding(record, message)]
}

fn finding(record: &StepRecord, message: String) -> Finding {
    Finding {
        step: record.step,
        trigger: record.trigger.clone(),
        message,
        why: None,
    }
}

fn explained(record: &StepRecord, message: String, why: Option<String>) -> Finding {
    Finding {
        why,
        ..finding(record, message)
    }
}

/// The right clients, but the wrong thing or too many times.
fn content_findings(record: &StepRecord, event: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for (who, inbox) in &record.received {
        let copies: Vec<&Delivery> = inbox.iter().filter(|d| d.event == event).collect();
        if copies.len() > 1 {
            out.push(finding(
                record,
                format!(
                    "{who} received '{event}' {} times; the lesson's server sends it once",
                    copies.len()
                ),
            ));
        }
        if let Some(other) = copies.iter().find(|d| d.args != record.args) {
            let got = if other.args.is_empty() {
                "no arguments".to_owned()
            } else {
                format_args(&other.args)
            };
            let want = if record.args.is_empty() {
                "no arguments".to_owned()
            } else {
                format_args(&record.args)
            };
            out.push(finding(
                record,
                format!("{who} received '{event}' with {got}; the lesson's server sends it with {want}"),
            ));
        }
    }
    out
}

/// Who received what they should not have, and who missed what they should have received.
fn delivery_findings(
    record: &StepRecord,
    event: &str,
    sender: &str,
    expected: &[String],
    likely: Option<Reach>,
    taught: Option<&Taught>,
    rooms: Option<&RoomTeaching>,
) -> Vec<Finding> {
    let role = role(record.kind);
    let what = describe(event, &record.args);
    let got = |who: &str| record.received_by.iter().any(|r| r == who);
    let wanted = |who: &str| expected.iter().any(|e| e == who);
    // "that is what io.emit does; the lesson asks for socket.broadcast.emit"
    let mistake = |extra: &str| -> Option<String> {
        let observed = likely.filter(|l| Some(*l) != taught.map(|t| t.reach));
        let taught = taught?;
        Some(match observed {
            Some(observed) => format!(
                "that is what {} does; the lesson asks for {}, which {extra}",
                observed.call(),
                taught.reach.call()
            ),
            None => format!("the lesson asks for {}, which {extra}", taught.reach.call()),
        })
    };
    let cause = if record.kind == Kind::Connect {
        format!("{sender}'s connection triggered")
    } else {
        format!("{sender} sent")
    };
    if record.received_by.is_empty() && !expected.is_empty() {
        // Nothing arrived anywhere: one finding says it; naming each client would only repeat it.
        let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        let mut message = format!(
            "no client received the {what} {cause}; the lesson expects {} to",
            names(&expected)
        );
        if let Some(rooms) = rooms {
            message = format!("{message}: {}", rooms.nobody());
        }
        return vec![finding(record, message)];
    }
    let mut out = Vec::new();
    if got(sender) && !wanted(sender) {
        let message = if record.kind == Kind::Connect {
            format!("{sender} received the {what} their own connection triggered")
        } else {
            format!("{sender} got their own {what} back")
        };
        let why =
            mistake(&format!("leaves out the {role}")).or_else(|| rooms.and_then(|r| r.sender_mistake(true)));
        out.push(explained(record, message, why));
    }
    if !got(sender) && wanted(sender) {
        let message = if record.kind == Kind::Connect {
            format!("{sender} did not receive the {what} their own connection triggered")
        } else {
            format!("{sender} did not get their own {what} back")
        };
        let why =
            mistake(&format!("includes the {role}")).or_else(|| rooms.and_then(|r| r.sender_mistake(false)));
        out.push(explained(record, message, why));
    }
    let others = |pick: &dyn Fn(&str) -> bool| -> Vec<&str> {
        record
            .received
            .keys()
            .map(String::as_str)
            .filter(|who| *who != sender && pick(who))
            .collect()
    };
    let extra = others(&|who| got(who) && !wanted(who));
    if !extra.is_empty() {
        out.push(finding(
            record,
            format!(
                "{} received the {what} {cause}, which the lesson's server does not send them",
                names(&extra)
            ),
        ));
    }
    let missed = others(&|who| !got(who) && wanted(who));
    if !missed.is_empty() {
        let why = match likely {
            Some(Reach::OnlySender) => mistake(&format!("reaches more than the {role}")),
            _ => None,
        };
        out.push(explained(
            record,
            format!("{} did not receive the {what} {cause}", names(&missed)),
            why,
        ));
    }
    out
}

/// What a probe found when it expected something else (the target answered, differently).
fn probe_finding(record: &StepRecord, expect: &ProbeExpect) -> Option<Finding> {
    let probe = record.probe.as_ref()?;
    let wrong = match expect {
        ProbeExpect::Status(code) => (probe.outcome != ProbeOutcome::Http || probe.status != Some(*code))
            .then(|| format!("HTTP {code}")),
        ProbeExpect::SocketIo => {
            (probe.outcome != ProbeOutcome::SocketIo).then(|| "a Socket.IO connection".to_owned())
        }
        ProbeExpect::Refused => {
            (probe.outcome != ProbeOutcome::Refused).then(|| "a refused connection".to_owned())
        }
    }?;
    let what = match probe.method {
        ProbeKind::HttpGet => format!("GET {}", url_path(&probe.url)),
        ProbeKind::Websocket => format!("the Socket.IO handshake at {}", url_path(&probe.url)),
        ProbeKind::InProcess => probe.url.clone(),
        ProbeKind::CrossPoll => format!("a polling session polled on another server ({})", probe.url),
    };
    let observed = probe.outcome_line().unwrap_or_default().to_owned();
    Some(finding(
        record,
        format!("{what} got {observed}; the lesson's server answers it with {wrong}"),
    ))
}

/// `http://127.0.0.1:3000/x?y` → `/x`.
fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split('?').next().unwrap_or(path)
}

/// A probe that found no server to talk to, or no Socket.IO where one was expected.
fn probe_problem(record: &StepRecord, target: &Where) -> Option<Problem> {
    let probe = record.probe.as_ref()?;
    let first = probe.observed.first().cloned().unwrap_or_default();
    let addr = target.addr.clone();
    match probe.outcome {
        ProbeOutcome::Refused => Some(Problem::NothingListening { addr }),
        ProbeOutcome::NoAnswer => Some(Problem::NoAnswer { addr, detail: first }),
        ProbeOutcome::Error => Some(Problem::Other(first)),
        ProbeOutcome::NotSocketIo => Some(Problem::PlainWebSocket { detail: first }),
        ProbeOutcome::Http if probe.method == ProbeKind::Websocket => Some(Problem::NotSocketIo {
            addr,
            path: target.path.clone(),
            answer: Answer::Status(status_text(probe.status)),
            found_at: None,
        }),
        ProbeOutcome::Closed => Some(Problem::NotSocketIo {
            addr,
            path: target.path.clone(),
            answer: Answer::Closed,
            found_at: None,
        }),
        _ => None,
    }
}

fn status_text(code: Option<u16>) -> String {
    let Some(code) = code else {
        return "an HTTP answer".to_owned();
    };
    let reason = axum::http::StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    format!("HTTP {code} {reason}").trim_end().to_owned()
}

/// Why a run stopped before its end, in the learner's terms.
fn run_problem(error: &RunError, target: &Where) -> Problem {
    let addr = target.addr.clone();
    match error {
        RunError::Connect { client, source } => match source {
            ConnectError::Refused { .. } => Problem::NothingListening { addr },
            ConnectError::HttpStatus { status, .. } => Problem::NotSocketIo {
                addr,
                path: target.path.clone(),
                answer: Answer::Status(if status.starts_with("HTTP") {
                    status.trim_end().to_owned()
                } else {
                    format!("HTTP {}", status.trim_end())
                }),
                found_at: None,
            },
            ConnectError::ClosedUnanswered => Problem::NotSocketIo {
                addr,
                path: target.path.clone(),
                answer: Answer::Closed,
                found_at: None,
            },
            ConnectError::NotEngineIo(first) => Problem::PlainWebSocket {
                detail: format!(
                    "the WebSocket opened, but the first frame was {} instead of an Engine.IO OPEN packet",
                    crate::runner::one_line(first, 60)
                ),
            },
            ConnectError::Refused44(message) => Problem::ConnectRefused(message.clone()),
            ConnectError::Timeout { .. } => Problem::NoAnswer {
                addr,
                detail: source.to_string(),
            },
            ConnectError::Other(message) => Problem::Other(format!("{client} could not connect: {message}")),
        },
        RunError::Other(message) => Problem::Other(format!("the scenario stopped: {message}")),
        other => Problem::Other(other.to_string()),
    }
}

/// The first line of a failing verdict.
fn headline(
    lesson: &Lesson,
    stage: &Stage,
    records: &[StepRecord],
    likely: Option<Reach>,
    taught: Option<&Taught>,
) -> String {
    let n = lesson.number;
    let Some(first) = records.iter().find(|r| r.event.is_some() && r.sender.is_some()) else {
        return format!("your server does not answer the way lesson {n} teaches");
    };
    let asks = match (taught, taught_js(stage)) {
        (Some(taught), _) => format!("lesson {n} asks for {}", taught.js),
        (None, Some(js)) => format!("lesson {n} asks for {js}"),
        (None, None) => format!("lesson {n} asks for something else"),
    };
    let event = first.event.as_deref().unwrap_or_default();
    let role = role(first.kind);
    match (likely, taught) {
        (Some(Reach::Nobody), _) => {
            let mut line = format!("your server sent no '{event}' to any client; {asks}");
            let others: BTreeSet<String> = records
                .iter()
                .flat_map(|r| r.ignored.values().flatten())
                .map(|d| format!("'{}'", d.event))
                .collect();
            if !others.is_empty() {
                let others: Vec<_> = others.into_iter().collect();
                line.push_str(&format!(
                    ". It did send {}, which this lesson does not judge: is the event name right?",
                    others.join(", ")
                ));
            }
            line
        }
        (Some(observed), Some(taught)) if observed != taught.reach => format!(
            "your server sends '{event}' to {}, which is what {} does; {asks}, which reaches {}",
            observed.who(role),
            observed.call(),
            taught.reach.who(role)
        ),
        _ => match taught.map(|t| t.js.as_str()).or(taught_js(stage)) {
            Some(js) => {
                format!("your server's '{event}' deliveries are not what {js} sends, as lesson {n} teaches")
            }
            None => format!("your server's '{event}' deliveries are not what lesson {n} teaches"),
        },
    }
}

fn pass_summary(lesson: &Lesson, stage: &Stage, records: &[StepRecord], taught: Option<&Taught>) -> String {
    let deliveries: Vec<&StepRecord> = records.iter().filter(|r| r.is_delivery()).collect();
    if let (Some(taught), Some(first)) = (taught, deliveries.first()) {
        return format!(
            "your server does what lesson {} teaches: {} reached {}, in each of {} steps",
            lesson.number,
            taught.js,
            taught.reach.who(role(first.kind)),
            deliveries.len()
        );
    }
    if let (Some(js), false) = (taught_js(stage), deliveries.is_empty()) {
        return format!(
            "your server does what lesson {} teaches: {js} reached exactly the clients it should, \
             in each of {} steps",
            lesson.number,
            deliveries.len()
        );
    }
    let answered = records.iter().filter(|r| !r.acks.is_empty()).count();
    if answered > 0 {
        return format!(
            "your server does what lesson {} teaches: each callback got its answer, back to the \
             one client that asked, in each of {answered} steps",
            lesson.number
        );
    }
    let probes: Vec<String> = records
        .iter()
        .filter_map(|r| r.probe.as_ref())
        .map(|p| match p.method {
            ProbeKind::Websocket => format!("a Socket.IO client connected at {}", url_path(&p.url)),
            _ => format!(
                "GET {} answered {}",
                url_path(&p.url),
                p.observed.first().cloned().unwrap_or_default()
            ),
        })
        .collect();
    format!(
        "your server does what lesson {} teaches: {}, on one port",
        lesson.number,
        probes.join("; ")
    )
}

/// A stopped check: the probe found nothing to talk to, so later steps would only wait for the
/// same silence.
pub fn unreachable(record: &StepRecord) -> bool {
    record.probe.as_ref().is_some_and(|p| {
        matches!(
            p.outcome,
            ProbeOutcome::Refused | ProbeOutcome::NoAnswer | ProbeOutcome::Error
        )
    })
}

/// When the Socket.IO handshake got an ordinary HTTP answer, looks for Socket.IO elsewhere on the
/// same server: a page for a Socket.IO server loads the client script from where Socket.IO is
/// mounted (`<script src="/chat/socket.io.js">`), so each such place the page names is tried
/// with a real handshake. Only a place where a handshake succeeds is reported.
///
/// A redirect (`HTTP 3xx`) is its own diagnosis: the WebSocket client does not keep the
/// answer's headers, so the handshake's URL is asked for again over HTTP (the polling
/// transport's first request) to read where the server points.
pub async fn look_for_socket_io(verdict: &mut Verdict, base: &str) {
    let Verdict::Fail(Failure::Target(Problem::NotSocketIo {
        addr,
        path,
        found_at,
        answer,
    })) = verdict
    else {
        return;
    };
    if matches!(answer, Answer::Status(status) if status.starts_with("HTTP 3")) {
        let handshake = format!("{path}?EIO=4&transport=polling");
        if let Ok(reply) = client::http::get(addr, &handshake, CONNECT_TIMEOUT).await
            && (300..400).contains(&reply.code)
            && let Some(location) = reply.location
        {
            *verdict = Verdict::Fail(Failure::Target(Problem::Redirected {
                path: path.clone(),
                status: status_text(Some(reply.code)),
                location: crate::trace::text::terminal_safe_within(&location, 200),
            }));
            return;
        }
    }
    let search = async {
        let page = client::http::get(addr, "/", CONNECT_TIMEOUT).await.ok()?;
        for candidate in client_script_dirs(&page.body) {
            if candidate == *path {
                continue;
            }
            let options = ConnectOptions {
                path: candidate.clone(),
                timeout: CONNECT_TIMEOUT,
                ..ConnectOptions::websocket_only()
            };
            if let Ok(client) = SimClient::connect(base, &options).await {
                return Some((candidate, client));
            }
        }
        None
    };
    // Bounded as a whole, so a bad target still fails fast.
    if let Ok(Some((candidate, client))) = tokio::time::timeout(CONNECT_TIMEOUT, search).await {
        *found_at = Some(candidate);
        // The client was only a test; it leaves the way a browser would (bounded), so the
        // learner's server logs a socket that left, not a broken connection.
        let _ = client.leave(crate::runner::LEAVE_WITHIN).await;
    }
}

/// The folders a page loads the Socket.IO client script from, same-origin paths only:
/// `<script src="/chat/socket.io.js">` → `/chat/`.
pub fn client_script_dirs(page: &str) -> Vec<String> {
    let mut dirs = Vec::new();
    for name in ["socket.io.js", "socket.io.min.js"] {
        for (at, _) in page.match_indices(name) {
            let before = &page[..at];
            let Some(start) = before.rfind(['"', '\'']) else {
                continue;
            };
            let src = &before[start + 1..];
            let same_origin = src.starts_with('/') && !src.starts_with("//");
            if !same_origin || !src.ends_with('/') || src.contains(char::is_whitespace) {
                continue;
            }
            if !dirs.iter().any(|d| d == src) {
                dirs.push(src.to_owned());
            }
        }
    }
    dirs
}

/// The verdict as one JSON object, the last line of `check --format json`.
pub fn verdict_json(lesson: &Lesson, stage: &Stage, url: &str, path: &str, verdict: &Verdict) -> Value {
    let (word, summary, findings) = match verdict {
        Verdict::Pass { summary } => ("pass", summary.clone(), Vec::new()),
        Verdict::Fail(Failure::Target(problem)) => ("fail", problem.to_string(), Vec::new()),
        Verdict::Fail(Failure::Behaviour { headline, findings }) => {
            ("fail", headline.clone(), findings.clone())
        }
    };
    serde_json::json!({
        "verdict": word,
        "lesson": lesson.number,
        "stage": stage.number,
        "url": url,
        "path": path,
        "summary": summary,
        "findings": findings,
    })
}

/// Checks and normalises `--url`: `http://host[:port]`, nothing after the authority.
pub fn parse_url(text: &str) -> Result<(String, String), String> {
    let uri: axum::http::Uri = text
        .parse()
        .map_err(|e| format!("--url {text:?} is not a URL ({e}); write it like http://127.0.0.1:3000"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(format!(
                "--url {text:?}: https is not supported; the tutor speaks plain HTTP, so use http://"
            ));
        }
        Some(other) => {
            return Err(format!(
                "--url {text:?}: the scheme must be http, not {other:?} (Socket.IO's WebSocket starts as an HTTP request)"
            ));
        }
        None => {
            return Err(format!(
                "--url {text:?} needs a scheme and a host, like http://127.0.0.1:3000"
            ));
        }
    }
    let Some(authority) = uri.authority() else {
        return Err(format!(
            "--url {text:?} has no host; write it like http://127.0.0.1:3000"
        ));
    };
    if authority.as_str().contains('@') {
        return Err(format!(
            "--url {text:?}: user names and passwords are not supported"
        ));
    }
    if uri.path() != "/" || uri.query().is_some() {
        return Err(format!(
            "--url {text:?}: give only the server (http://host:port); the Socket.IO path goes in --path"
        ));
    }
    let host = authority.host();
    // The text after the host's last colon (outside an IPv6 [..]) is the port, when there is one.
    let explicit = authority
        .as_str()
        .rsplit_once(':')
        .map(|(_, port)| port)
        .filter(|port| !port.contains(']'));
    let port = match explicit {
        None => 80,
        Some(port) => match port.parse::<u16>() {
            Ok(port) if port != 0 => port,
            _ => return Err(format!("--url {text:?}: {port:?} is not a port (1 to 65535)")),
        },
    };
    let addr = if host.starts_with('[') {
        format!("{host}:{port}")
    } else if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    Ok((format!("http://{addr}"), addr))
}

/// Checks and normalises `--path`: absolute, ending in `/`, no query or spaces.
pub fn parse_path(text: &str) -> Result<String, String> {
    let ok = text.starts_with('/')
        && !text.contains(['?', '#', '\\'])
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        && text.len() <= 200;
    if !ok {
        return Err(format!(
            "--path {text:?} is not a server path; write it like /socket.io/ (the default) or /chat/"
        ));
    }
    Ok(if text.ends_with('/') {
        text.to_owned()
    } else {
        format!("{text}/")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_normalised() {
        assert_eq!(
            parse_url("http://127.0.0.1:3000").unwrap(),
            ("http://127.0.0.1:3000".into(), "127.0.0.1:3000".into())
        );
        assert_eq!(parse_url("http://localhost/").unwrap().1, "localhost:80");
        assert_eq!(parse_url("http://[::1]:3000").unwrap().1, "[::1]:3000");
        for bad in [
            "127.0.0.1:3000",
            "localhost",
            "https://x:1",
            "ws://x:1",
            "http://x:1/socket.io/",
            "http://x:1?a=b",
            "http://u:p@x:1",
            "",
            "http://",
            "http://x:99999",
            "http://x:0",
        ] {
            assert!(parse_url(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn paths_are_checked_and_normalised() {
        assert_eq!(parse_path("/socket.io/").unwrap(), "/socket.io/");
        assert_eq!(parse_path("/chat").unwrap(), "/chat/");
        for bad in ["chat", "/a b", "/x?y", ""] {
            assert!(parse_path(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn finds_where_a_page_loads_the_client_from() {
        let page = r#"<script src="/chat/socket.io.js"></script><script src='/socket.io/socket.io.min.js'>
                      <script src="https://cdn.socket.io/4.8.1/socket.io.min.js"></script>
                      <script src="//cdn.example/socket.io.js"></script>"#;
        assert_eq!(client_script_dirs(page), vec!["/chat/", "/socket.io/"]);
        assert!(client_script_dirs("<p>no script</p>").is_empty());
    }

    #[test]
    fn names_read_as_a_sentence() {
        assert_eq!(names(&["alice"]), "alice");
        assert_eq!(names(&["alice", "bob"]), "alice and bob");
        assert_eq!(names(&["alice", "bob", "carol"]), "alice, bob and carol");
    }

    /// A step of lesson 3's check as a remote run records it, with what each client received.
    fn chat_step(received: &[(&str, Vec<Delivery>)]) -> StepRecord {
        let received: std::collections::BTreeMap<String, Vec<Delivery>> = received
            .iter()
            .map(|(who, inbox)| ((*who).to_owned(), inbox.clone()))
            .collect();
        let received_by = received
            .iter()
            .filter(|(_, inbox)| inbox.iter().any(|d| d.event == "chat message"))
            .map(|(who, _)| who.clone())
            .collect();
        let not_received_by = received
            .iter()
            .filter(|(_, inbox)| inbox.is_empty())
            .map(|(who, _)| who.clone())
            .collect();
        StepRecord {
            lesson: 3,
            stage: 1,
            step: 4,
            kind: Kind::Emit,
            action: None,
            trigger: "alice emits 'chat message'".into(),
            sender: Some("alice".into()),
            node: None,
            event: Some("chat message".into()),
            args: vec![Value::from("hi everyone")],
            audience: None,
            received_by,
            not_received_by,
            received,
            burst: None,
            arrival: Default::default(),
            probe: None,
            ignored: Default::default(),
            client_emit: None,
            why_not: Default::default(),
            acks: Default::default(),
            wire: None,
        }
    }

    fn chat(text: &str) -> Delivery {
        Delivery {
            event: "chat message".into(),
            args: vec![Value::from(text)],
        }
    }

    #[test]
    fn changed_or_repeated_messages_are_findings() {
        let lessons = crate::lesson::all().unwrap();
        let lesson = &lessons[2];
        let target = Where {
            addr: "127.0.0.1:3000".into(),
            path: "/socket.io/".into(),
        };
        let right = chat_step(&[
            ("alice", vec![chat("hi everyone")]),
            ("bob", vec![chat("hi everyone")]),
            ("carol", vec![chat("hi everyone")]),
        ]);
        let verdict = judge(lesson, lesson.check(), &[right], None, &target);
        assert!(verdict.passed(), "{verdict:?}");

        let wrong = chat_step(&[
            ("alice", vec![chat("hi everyone"), chat("hi everyone")]),
            ("bob", vec![chat("HI EVERYONE")]),
            ("carol", vec![chat("hi everyone")]),
        ]);
        let Verdict::Fail(Failure::Behaviour { headline, findings }) =
            judge(lesson, lesson.check(), &[wrong], None, &target)
        else {
            panic!("a changed message must fail");
        };
        let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "alice received 'chat message' 2 times; the lesson's server sends it once",
                "bob received 'chat message' with \"HI EVERYONE\"; the lesson's server sends it with \"hi everyone\"",
            ]
        );
        assert_eq!(
            headline,
            "your server's 'chat message' deliveries are not what io.emit('chat message', msg) sends, as lesson 3 teaches"
        );
    }

    #[test]
    fn a_run_that_could_not_connect_names_what_it_found() {
        let lessons = crate::lesson::all().unwrap();
        let lesson = &lessons[1];
        let target = Where {
            addr: "127.0.0.1:3000".into(),
            path: "/socket.io/".into(),
        };
        let cases = [
            (
                ConnectError::Refused { addr: "x".into() },
                "nothing is listening on 127.0.0.1:3000",
            ),
            (
                ConnectError::NotEngineIo("hello".into()),
                "this is a WebSocket server, but not a Socket.IO server",
            ),
            (ConnectError::ClosedUnanswered, "another `path` option"),
            (ConnectError::Refused44("not allowed".into()), "not allowed"),
        ];
        for (source, needle) in cases {
            let error = RunError::Connect {
                client: "alice".into(),
                source,
            };
            let verdict = judge(lesson, lesson.check(), &[], Some(&error), &target);
            let Verdict::Fail(Failure::Target(problem)) = verdict else {
                panic!("{verdict:?}");
            };
            assert!(problem.to_string().contains(needle), "{problem}");
        }
    }

    #[test]
    fn reach_shapes_match_socket_io_calls() {
        let connected: BTreeSet<&str> = ["alice", "bob", "dave"].into();
        let all = connected.clone();
        let others: BTreeSet<&str> = ["alice", "bob"].into();
        assert!(Reach::Everyone.fits("dave", &connected, &all));
        assert!(!Reach::AllButSender.fits("dave", &connected, &all));
        assert!(Reach::AllButSender.fits("dave", &connected, &others));
        assert!(Reach::OnlySender.fits("dave", &connected, &["dave"].into()));
        assert!(Reach::Nobody.fits("dave", &connected, &BTreeSet::new()));
    }
}
