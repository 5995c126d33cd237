//! What a step is checked against: its stage's servers, handlers and rooms, and the clients
//! connected so far.

use serde_json::Value;

use crate::server::{Behaviour, Mount};
use crate::vocab::{Effect, Trigger};

use super::model::ClientQueue;

/// What a step is validated against: its stage's server.
pub(super) struct Scope<'a> {
    pub(super) mount: Mount,
    pub(super) behaviour: &'a Behaviour,
    pub(super) rooms: &'a [String],
    pub(super) queue: Option<ClientQueue>,
    pub(super) nodes: &'a [String],
}

impl Scope<'_> {
    /// The index of node `name`; on a stage with several servers a step must name one, on a
    /// stage with one it must not.
    pub(super) fn node(&self, name: Option<&str>, what: &str) -> Result<usize, String> {
        match (name, self.nodes.is_empty()) {
            (None, true) => Ok(0),
            (Some(name), true) => Err(format!(
                "node = {name:?}, but this stage has one server (name several with nodes = [...])"
            )),
            (None, false) => Err(format!(
                "{what} on a stage with several servers needs node = one of {:?}",
                self.nodes
            )),
            (Some(name), false) => self.nodes.iter().position(|n| n == name).ok_or_else(|| {
                format!(
                    "node {name:?} is not one of this stage's servers {:?}",
                    self.nodes
                )
            }),
        }
    }

    /// What the stage's server declares for `event` sent with `args`, refused with a clear
    /// reason when no handler of the stage answers it, when the handler does not accept these
    /// arguments, or when it would use a room the stage does not declare.
    pub(super) fn effect_of(
        &self,
        event: &str,
        args: &[Value],
        connected: &[String],
    ) -> Result<Effect, String> {
        self.effect_in("/", event, args, connected)
    }

    /// [`Scope::effect_of`] for an emit on a socket of namespace `nsp`.
    pub(super) fn effect_in(
        &self,
        nsp: &str,
        event: &str,
        args: &[Value],
        connected: &[String],
    ) -> Result<Effect, String> {
        let trigger = Trigger::Event(event.to_owned());
        let behaviour = self
            .behaviour
            .in_namespace(nsp)
            .ok_or_else(|| format!("the stage's server has no namespace {nsp}"))?;
        let effect = match behaviour.effect(&trigger, args) {
            Ok(Some(effect)) => effect,
            Ok(None) => {
                let answered = behaviour.events();
                return Err(format!(
                    "no handler of this stage answers '{event}' (it answers: {})",
                    if answered.is_empty() {
                        "no event at all".to_owned()
                    } else {
                        answered
                            .iter()
                            .map(|e| format!("'{e}'"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ));
            }
            Err(why) => {
                return Err(format!(
                    "the handler for '{event}' refuses these arguments: {why}"
                ));
            }
        };
        let used = effect
            .joins
            .iter()
            .chain(effect.emit.iter().flat_map(|e| e.to.rooms()));
        for room in used {
            if !self.rooms.contains(room) && own_room(room, connected).is_none() {
                return Err(format!(
                    "room '{room}' is not declared (add it to the stage's rooms = [...]; \
                     a socket's own room is written <name.id>)"
                ));
            }
        }
        Ok(effect)
    }
}

/// `<bob.id>`: the id of connected client `bob`, which is also the name of the room only bob's
/// socket is in. Returns the client's name.
pub fn own_room<'a>(text: &'a str, connected: &[String]) -> Option<&'a str> {
    let name = text.strip_prefix('<')?.strip_suffix(".id>")?;
    connected.iter().any(|c| c == name).then_some(name)
}
