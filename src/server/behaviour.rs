//! What a stage's realtime server does: which named handler answers each trigger.
//!
//! A lesson's `lesson.toml` says it in one line per stage, for example
//! `handlers = { connection = "io-emit-hello" }` or `handlers = { join = "join", "room message" =
//! "socket-to-room" }`. The names come from the registry in [`super::handlers`]; this type holds
//! the choice, answers what a trigger would do ([`Behaviour::effect`]), and hands the server the
//! handlers to register.
//!
//! One handler per trigger: socketioxide keeps a single handler per event name (a second
//! `socket.on` for the same event replaces the first), unlike Node, where listeners add up.

use serde_json::Value;
use socketioxide::adapter::{Adapter, LocalAdapter};

use super::handlers::{self, Handler};
use crate::vocab::{Effect, Trigger};

/// The handlers a stage's server registers, one per trigger, in the order the lesson lists them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Behaviour {
    chosen: Vec<(Trigger, &'static str)>,
}

impl Behaviour {
    /// Chooses the handler called `name` for `trigger`. Errors name what is wrong: an unknown
    /// handler, one made for another trigger, or a second handler for the same trigger.
    pub fn with(mut self, trigger: &str, name: &str) -> Result<Self, String> {
        let trigger = Trigger::from_key(trigger);
        let Some(handler) = handlers::find::<LocalAdapter>(name) else {
            return Err(format!(
                "no handler is called {name:?} (the handlers are: {})",
                handlers::names().join(", ")
            ));
        };
        if handler.trigger() != trigger {
            return Err(format!(
                "handler {name:?} answers {}, not {trigger}",
                handler.trigger()
            ));
        }
        if self.chosen.iter().any(|(t, _)| *t == trigger) {
            return Err(format!(
                "two handlers for {trigger}: socketioxide keeps one handler per trigger"
            ));
        }
        self.chosen.push((trigger, handler.name));
        Ok(self)
    }

    /// The same stage with `name` answering `trigger` instead of whatever did (serve's
    /// `--broadcast`).
    pub fn replacing(mut self, trigger: &str, name: &str) -> Result<Self, String> {
        let key = Trigger::from_key(trigger);
        self.chosen.retain(|(t, _)| *t != key);
        self.with(trigger, name)
    }

    /// Does the stage have any handler at all?
    pub fn is_empty(&self) -> bool {
        self.chosen.is_empty()
    }

    /// The handler for `trigger`, for adapter `A`.
    pub fn handler<A: Adapter>(&self, trigger: &Trigger) -> Option<Handler<A>> {
        let (_, name) = self.chosen.iter().find(|(t, _)| t == trigger)?;
        handlers::find(name)
    }

    /// Every chosen handler with its trigger, in the lesson's order, for adapter `A`.
    pub fn handlers<A: Adapter>(&self) -> Vec<(Trigger, Handler<A>)> {
        self.chosen
            .iter()
            .filter_map(|(t, name)| handlers::find(name).map(|h| (t.clone(), h)))
            .collect()
    }

    /// The events some handler of this stage answers.
    pub fn events(&self) -> Vec<&str> {
        self.chosen
            .iter()
            .filter_map(|(t, _)| match t {
                Trigger::Event(name) => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }

    /// What the stage's handler for `trigger` declares it does with `args`: `Ok(None)` when no
    /// handler answers the trigger, `Err` when the handler refuses these arguments.
    pub fn effect(&self, trigger: &Trigger, args: &[Value]) -> Result<Option<Effect>, String> {
        match self.handler::<LocalAdapter>(trigger) {
            None => Ok(None),
            Some(h) => (h.declare)(args).map(Some),
        }
    }

    /// What the stage's handler for `event` does with one argument, if the stage answers
    /// `event` at all: how `serve` learns what its chat does.
    pub fn answering(&self, event: &str) -> Option<Effect> {
        let msg = [Value::from("msg")];
        self.effect(&Trigger::Event(event.to_owned()), &msg)
            .ok()
            .flatten()
    }

    /// What a new connection makes the server do, if anything.
    pub fn on_connection(&self) -> Option<Effect> {
        self.effect(&Trigger::Connection, &[]).ok().flatten()
    }

    /// The handler names, for the ANCHORs a stage shows by default: `(file, anchor)` pairs.
    pub fn code(&self) -> Vec<(&'static str, &'static str)> {
        self.handlers::<LocalAdapter>()
            .iter()
            .map(|(_, h)| (h.file, h.anchor))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Audience;

    #[test]
    fn a_stage_chooses_handlers_by_name_and_reads_their_effect() {
        let b = Behaviour::default()
            .with("chat message", "broadcast-chat")
            .unwrap();
        let effect = b
            .effect(&Trigger::Event("chat message".into()), &[Value::from("hi")])
            .unwrap()
            .unwrap();
        assert_eq!(effect.emit.unwrap().to, Audience::EveryoneButSender);
        assert_eq!(b.on_connection(), None);
        assert_eq!(b.events(), vec!["chat message"]);
    }

    #[test]
    fn wrong_choices_are_named() {
        let err = Behaviour::default().with("chat message", "no-such").unwrap_err();
        assert!(err.contains("no handler is called \"no-such\""), "{err}");
        let err = Behaviour::default()
            .with("connection", "io-emit-chat")
            .unwrap_err();
        assert!(
            err.contains("answers socket.on('chat message'), not io.on('connection')"),
            "{err}"
        );
        let twice = Behaviour::default().with("news", "io-except-a").unwrap();
        let err = twice.with("news", "io-to-a-and-b").unwrap_err();
        assert!(err.contains("two handlers"), "{err}");
    }
}
