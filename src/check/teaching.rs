//! What the lesson's server teaches: its call and whom that reaches, read from the stage's data.

use super::reach::Reach;
use crate::lesson::{Stage, StepKind};
use crate::trace::Audience;
use crate::vocab::Trigger;

/// The call a stage's server teaches: its JavaScript, and whom it reaches.
#[derive(Debug, Clone)]
pub(super) struct Taught {
    pub(super) js: String,
    pub(super) reach: Reach,
}

/// The first call of the stage whose reach does not depend on rooms: the connection handler's
/// emit, else the first emit step's.
pub(super) fn taught(stage: &Stage) -> Option<Taught> {
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
pub(super) fn taught_js(stage: &Stage) -> Option<&'static str> {
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
pub(super) struct RoomTeaching {
    pub(super) audience: Audience,
    pub(super) join_event: Option<String>,
}

impl RoomTeaching {
    pub(super) fn of(stage: &Stage, step: &crate::lesson::Step) -> Option<Self> {
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
    pub(super) fn sender_mistake(&self, sender_got_it: bool) -> Option<String> {
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

    /// Why a client outside the room received a room emit, when every step fits one call that
    /// ignores rooms (`socket.broadcast.emit` where `socket.to(room).emit` was asked).
    pub(super) fn outsider_mistake(&self, likely: Option<Reach>, kind: crate::trace::Kind) -> Option<String> {
        let likely = likely.filter(|l| matches!(l, Reach::Everyone | Reach::AllButSender))?;
        let (asked, but) = match &self.audience {
            Audience::Rooms(_) => ("io.to(room).emit", ""),
            Audience::RoomsButSender(_) => ("socket.to(room).emit", ", the sender left out"),
            _ => return None,
        };
        let rooms: Vec<String> = self.audience.rooms().iter().map(|r| format!("'{r}'")).collect();
        Some(format!(
            "that is what {} does: it reaches {}, whatever the rooms; the lesson asks for {asked}, \
             which reaches only the members of room {}{but}",
            likely.call(),
            likely.who(super::reach::role(kind)),
            rooms.join(", ")
        ))
    }

    /// Why nobody received a room emit.
    pub(super) fn nobody(&self) -> String {
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
