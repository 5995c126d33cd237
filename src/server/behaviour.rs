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

use super::handlers::namespaces::{Middleware, find_guard, guards};
use super::handlers::{self, Handler};
use crate::vocab::{Effect, Trigger};

/// The handlers a stage's server registers, one per trigger, in the order the lesson lists them:
/// those of the main namespace `/`, its connect middleware if it has one (`io.use`), and the
/// stage's other namespaces, each with handlers and a middleware of its own.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Behaviour {
    chosen: Vec<(Trigger, &'static str)>,
    /// Its connect middleware's name, if it has one (see [`Behaviour::guard`]).
    guard: Option<&'static str>,
    namespaces: Vec<Space>,
}

/// One namespace besides `/`: `io.of('/admin')`, or `io.of(/^\/team-\w+$/)`, a pattern whose
/// namespaces the server makes when a client first asks for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Space {
    pub path: SpacePath,
    pub behaviour: Behaviour,
}

/// A namespace's name, or the pattern of a family of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpacePath {
    /// `/admin`.
    Fixed(String),
    /// `/team-{id}`: socketioxide's pattern (a `{name}` matches up to the next `/`), the one Node
    /// writes as the regular expression `^/team-\w+$`.
    Dynamic(String),
}

impl SpacePath {
    /// Is `nsp` this namespace, or one of this family?
    pub fn matches(&self, nsp: &str) -> bool {
        match self {
            Self::Fixed(path) => path == nsp,
            Self::Dynamic(pattern) => {
                let (prefix, rest) = pattern.split_once('{').unwrap_or((pattern, ""));
                let suffix = rest.split_once('}').map_or("", |(_, s)| s);
                nsp.strip_prefix(prefix)
                    .and_then(|tail| tail.strip_suffix(suffix))
                    .is_some_and(|id| !id.is_empty() && !id.contains('/'))
            }
        }
    }

    /// How a lesson and the trace write it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Fixed(path) | Self::Dynamic(path) => path,
        }
    }
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

    /// Runs middleware `name` before every CONNECT to this namespace (`io.use(fn)`).
    pub fn guarded_by(mut self, name: &str) -> Result<Self, String> {
        let Some(guard) = find_guard::<LocalAdapter>(name) else {
            let names: Vec<&str> = guards::<LocalAdapter>().iter().map(|g| g.name).collect();
            return Err(format!(
                "no middleware is called {name:?} (the middlewares are: {})",
                names.join(", ")
            ));
        };
        self.guard = Some(guard.name);
        Ok(self)
    }

    /// Adds namespace `path` with its own handlers (`io.of(path).on('connection', …)`).
    pub fn with_namespace(mut self, path: SpacePath, behaviour: Behaviour) -> Result<Self, String> {
        let name = path.as_str();
        if !name.starts_with('/') || name == "/" || name.contains(',') {
            return Err(format!(
                "namespace {name:?}: a namespace besides / starts with / and has no comma"
            ));
        }
        if self.namespaces.iter().any(|s| s.path.as_str() == name) {
            return Err(format!("namespace {name} is declared twice"));
        }
        if !behaviour.namespaces.is_empty() {
            return Err(format!("namespace {name} cannot hold namespaces of its own"));
        }
        self.namespaces.push(Space { path, behaviour });
        Ok(self)
    }

    /// The middleware of this namespace, if it has one.
    pub fn guard(&self) -> Option<Middleware> {
        self.guard_for()
    }

    /// [`Behaviour::guard`], for adapter `A`: what the server runs.
    pub fn guard_for<A: Adapter>(&self) -> Option<Middleware<A>> {
        find_guard(self.guard?)
    }

    /// The namespaces besides `/`, in the lesson's order.
    pub fn namespaces(&self) -> &[Space] {
        &self.namespaces
    }

    /// What namespace `nsp` runs: this behaviour for `/`, a declared one's, or `None` for a
    /// namespace the server refuses ("Invalid namespace").
    pub fn in_namespace(&self, nsp: &str) -> Option<&Behaviour> {
        if nsp == "/" {
            return Some(self);
        }
        self.namespaces
            .iter()
            .find(|s| s.path.matches(nsp))
            .map(|s| &s.behaviour)
    }

    /// Does the stage have any handler at all?
    pub fn is_empty(&self) -> bool {
        self.chosen.is_empty() && self.namespaces.iter().all(|s| s.behaviour.is_empty())
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

    /// The events some handler of this stage answers, in any namespace.
    pub fn events(&self) -> Vec<&str> {
        let mut events: Vec<&str> = self
            .chosen
            .iter()
            .filter_map(|(t, _)| match t {
                Trigger::Event(name) => Some(name.as_str()),
                _ => None,
            })
            .collect();
        for space in &self.namespaces {
            for event in space.behaviour.events() {
                if !events.contains(&event) {
                    events.push(event);
                }
            }
        }
        events
    }

    /// What the stage's handler for `trigger` declares it does with `args`: `Ok(None)` when no
    /// handler answers the trigger, `Err` when the handler refuses these arguments.
    pub fn effect(&self, trigger: &Trigger, args: &[Value]) -> Result<Option<Effect>, String> {
        match self.handler::<LocalAdapter>(trigger) {
            None => Ok(None),
            Some(h) => (h.declare)(args).map(Some),
        }
    }

    /// [`Behaviour::effect`] for a client that connected with `auth` (see
    /// [`handlers::Handle::read_auth`]).
    pub fn effect_as(
        &self,
        trigger: &Trigger,
        args: &[Value],
        auth: &Value,
    ) -> Result<Option<Effect>, String> {
        match self.handler::<LocalAdapter>(trigger) {
            None => Ok(None),
            Some(h) => (h.declare_as)(args, auth).map(Some),
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

    /// The handler names, for the ANCHORs a stage shows by default: `(file, anchor)` pairs,
    /// each middleware before the handlers of its namespace.
    pub fn code(&self) -> Vec<(&'static str, &'static str)> {
        let mut code: Vec<(&'static str, &'static str)> =
            self.guard().iter().map(|g| (g.file, g.anchor)).collect();
        code.extend(
            self.handlers::<LocalAdapter>()
                .iter()
                .map(|(_, h)| (h.file, h.anchor)),
        );
        for space in &self.namespaces {
            for pair in space.behaviour.code() {
                if !code.contains(&pair) {
                    code.push(pair);
                }
            }
        }
        code
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
    fn a_pattern_matches_the_namespaces_of_its_family_only() {
        let teams = SpacePath::Dynamic("/team-{id}".into());
        assert!(teams.matches("/team-red"));
        assert!(!teams.matches("/team-"));
        assert!(!teams.matches("/team-red/x"));
        assert!(!teams.matches("/other"));
        let b = Behaviour::default()
            .with_namespace(
                teams,
                Behaviour::default()
                    .with("chat message", "nsp-emit-chat")
                    .unwrap(),
            )
            .unwrap();
        assert!(b.in_namespace("/team-blue").is_some());
        assert!(b.in_namespace("/other").is_none());
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
