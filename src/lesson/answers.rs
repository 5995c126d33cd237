//! How a lesson's clients answer when the server asks them for an acknowledgement, and the
//! checks that keep that data honest.
//!
//! A stage whose server runs `emitWithAck` says, per client, what its listener does:
//! `clients.bob = { answers = { question = ["yes"] } }` calls the callback with `"yes"`;
//! `clients.carol = { answers = { question = "never" } }` never calls it. Socket.IO has no default
//! worth guessing (a missing listener and a listener that ignores its callback look the same on
//! the wire), so a client the server asks must say which it is.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::model::{Handshake, Step, StepKind};
use crate::server::Behaviour;
use crate::vocab::Trigger;

/// How a client answers when the server asks it for an acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Value")]
pub enum Answer {
    /// It calls the callback with these arguments (a TOML array: `["yes"]`).
    With(Vec<Value>),
    /// It never calls the callback (the TOML string `"never"`).
    Never,
}

impl TryFrom<Value> for Answer {
    type Error = String;

    fn try_from(value: Value) -> Result<Self, String> {
        match value {
            Value::Array(args) => Ok(Self::With(args)),
            Value::String(word) if word == "never" => Ok(Self::Never),
            other => Err(format!(
                "an answer is the callback's arguments as an array ([\"yes\"]) or \"never\", not {other}"
            )),
        }
    }
}

/// The event a step's server emits asking for answers (`emitWithAck`), if it does.
fn asked_event(behaviour: &Behaviour, kind: &StepKind) -> Option<String> {
    let effect = match kind {
        StepKind::Connect { .. } => behaviour.on_connection(),
        StepKind::Emit { event, args, .. } => behaviour
            .effect(&Trigger::Event(event.clone()), args)
            .ok()
            .flatten(),
        _ => None,
    }?;
    effect.asks_within_ms?;
    effect.emit.map(|e| e.event)
}

/// A client that the server asks must say how it answers, and a client may only say how it
/// answers an event some step's server really asks with: either mistake would make the trace
/// show a behaviour nobody chose.
pub(super) fn check(
    behaviour: &Behaviour,
    clients: &BTreeMap<String, Handshake>,
    steps: &[Step],
) -> Result<(), String> {
    let mut asked: Vec<String> = Vec::new();
    for (j, step) in steps.iter().enumerate() {
        let Some(event) = asked_event(behaviour, &step.kind) else {
            continue;
        };
        for name in step.expect_received_by.iter().flatten() {
            if !clients.get(name).is_some_and(|c| c.answers.contains_key(&event)) {
                return Err(format!(
                    "step {}: the server asks {name} for an answer to '{event}'; say how {name} \
                     answers: clients.{name}.answers = {{ {event} = [\"…\"] }}, or \"never\"",
                    j + 1
                ));
            }
        }
        asked.push(event);
    }
    for (name, client) in clients {
        for event in client.answers.keys() {
            if !asked.contains(event) {
                return Err(format!(
                    "clients.{name}.answers.{event}: no step's server asks '{event}' with an acknowledgement"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::lesson::{Lesson, LessonError};

    fn parse(clients: &str) -> Result<Lesson, LessonError> {
        let toml = format!(
            r#"
format_version = 2
number = 9
slug = "x"
title = "t"
summary = "s"
check_asks = "c"
serve_runs = "r"
check_stage = 1

[[stage]]
title = "s"
mount = "realtime"
handlers = {{ connection = "ask-newcomer" }}
{clients}

  [[stage.step]]
  connect = "bob"
  expect_received_by = ["bob"]
"#
        );
        Lesson::parse("09-x", &toml, &|name: &str| Ok(format!("text of {name}")))
    }

    #[test]
    fn a_client_the_server_asks_says_how_it_answers() {
        assert!(parse(r#"clients.bob = { answers = { question = ["yes"] } }"#).is_ok());
        let never = parse(r#"clients.bob = { answers = { question = "never" } }"#).unwrap();
        assert!(
            never.stages[0].clients["bob"].answers().is_empty(),
            "never sends nothing"
        );
        let err = parse("").unwrap_err().to_string();
        assert!(
            err.contains("step 1: the server asks bob for an answer to 'question'; say how bob answers"),
            "{err}"
        );
    }

    #[test]
    fn answers_nobody_asks_for_and_malformed_answers_are_refused() {
        let err = parse(r#"clients.bob = { answers = { question = ["yes"], other = ["x"] } }"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("clients.bob.answers.other: no step's server asks 'other'"),
            "{err}"
        );
        let err = parse(r#"clients.bob = { answers = { question = "yes" } }"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(r#"an answer is the callback's arguments as an array"#),
            "{err}"
        );
    }
}
