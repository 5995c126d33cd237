//! Reading one `lesson.toml` into a validated [`Lesson`]: the file, then each stage (its
//! handlers, code, nodes and clients), handing each step to `step` to check.

use super::model::{AdapterKind, Lesson, LessonError, RustRef, Stage, Step, StepKind};
use super::raw::{FORMAT_VERSION, RawLesson, RawNamespace};
use super::scope::Scope;
use super::step::MAX_ACK_TIMEOUT_MS;
use crate::server::behaviour::SpacePath;
use crate::server::{Behaviour, Mount};

impl Lesson {
    /// Parses `lesson.toml` and reads its companion files through `read`.
    pub fn parse(
        folder: &str,
        toml_text: &str,
        read: &dyn Fn(&str) -> Result<String, LessonError>,
    ) -> Result<Self, LessonError> {
        let err = |m: String| LessonError::new(folder, m);
        let raw: RawLesson = toml::from_str(toml_text).map_err(|e| err(format!("lesson.toml: {e}")))?;
        if raw.format_version != FORMAT_VERSION {
            return Err(err(format!(
                "format_version {} is not supported (this build reads version {FORMAT_VERSION})",
                raw.format_version
            )));
        }
        for (field, text) in [
            ("summary", &raw.summary),
            ("check_asks", &raw.check_asks),
            ("serve_runs", &raw.serve_runs),
        ] {
            super::blurb::check(text).map_err(|m| err(format!("{field}: {m}")))?;
        }
        let expected_folder = format!("{:02}-{}", raw.number, raw.slug);
        if folder != expected_folder {
            return Err(err(format!("the folder should be named {expected_folder}")));
        }
        let mut stages = Vec::new();
        for (i, raw_stage) in raw.stages.into_iter().enumerate() {
            let number = i as u32 + 1;
            let stage_err = |m: String| err(format!("stage {number}: {m}"));
            if raw_stage.mount != Mount::Realtime && !raw_stage.handlers.is_empty() {
                return Err(stage_err("only a realtime stage can have handlers".into()));
            }
            check_nodes(&raw_stage.nodes, raw_stage.adapter).map_err(&stage_err)?;
            let mut behaviour = Behaviour::default();
            // The lesson's order is the TOML table's order, which `BTreeMap` sorts by trigger;
            // the connection handler goes first either way, as in Node.
            let mut chosen: Vec<(&String, &String)> = raw_stage.handlers.iter().collect();
            chosen.sort_by_key(|(t, _)| *t != "connection");
            for (trigger, name) in chosen {
                behaviour = behaviour
                    .with(trigger, name)
                    .map_err(|m| stage_err(format!("handlers: {m}")))?;
            }
            if let Some(name) = &raw_stage.middleware {
                behaviour = behaviour
                    .guarded_by(name)
                    .map_err(|m| stage_err(format!("middleware: {m}")))?;
            }
            for space in &raw_stage.namespaces {
                if raw_stage.mount != Mount::Realtime || !raw_stage.nodes.is_empty() {
                    return Err(stage_err(
                        "namespaces need a realtime stage with one server".into(),
                    ));
                }
                let (path, inside) = space.read().map_err(&stage_err)?;
                behaviour = behaviour.with_namespace(path, inside).map_err(&stage_err)?;
            }
            let rust_names: Vec<String> = match raw_stage.rust {
                Some(rust) => rust,
                None => behaviour.code().iter().map(|(f, a)| format!("{f}:{a}")).collect(),
            };
            let rust = rust_names
                .iter()
                .map(|r| {
                    let (path, anchor) = r
                        .split_once(':')
                        .ok_or_else(|| stage_err(format!("rust entry {r:?} is not path:anchor")))?;
                    let rust = RustRef {
                        path: path.to_owned(),
                        anchor: anchor.to_owned(),
                    };
                    rust.code().map_err(&stage_err)?;
                    Ok(rust)
                })
                .collect::<Result<Vec<_>, LessonError>>()?;
            let mut steps = Vec::new();
            let mut connected: Vec<String> = Vec::new();
            // Each connected client's sockets, by namespace.
            let mut sockets: Vec<(String, String)> = Vec::new();
            if let Some(queue) = raw_stage.client_queue
                && !(1..=MAX_ACK_TIMEOUT_MS).contains(&queue.ack_timeout_ms)
            {
                return Err(stage_err(format!(
                    "client_queue.ack_timeout_ms = {}: a lesson waits between 1 and {MAX_ACK_TIMEOUT_MS} ms",
                    queue.ack_timeout_ms
                )));
            }
            let scope = Scope {
                mount: raw_stage.mount,
                behaviour: &behaviour,
                rooms: &raw_stage.rooms,
                queue: raw_stage.client_queue,
                nodes: &raw_stage.nodes,
            };
            for (j, raw_step) in raw_stage.steps.into_iter().enumerate() {
                let step = raw_step
                    .into_step(&scope, &mut connected, &mut sockets)
                    .map_err(|m| stage_err(format!("step {}: {m}", j + 1)))?;
                steps.push(step);
            }
            if let Some(measure) = &raw_stage.measure {
                measure.check().map_err(&stage_err)?;
            }
            if steps.is_empty() {
                return Err(stage_err("has no steps".into()));
            }
            for name in raw_stage.clients.keys() {
                if !steps
                    .iter()
                    .any(|s| matches!(&s.kind, StepKind::Connect { client, .. } if client == name))
                {
                    return Err(stage_err(format!("clients.{name}: no step connects {name}")));
                }
            }
            for (j, step) in steps.iter().enumerate() {
                step.check_question(&behaviour)
                    .map_err(|m| stage_err(format!("step {}: {m}", j + 1)))?;
            }
            super::answers::check(&behaviour, &raw_stage.clients, &steps).map_err(&stage_err)?;
            stages.push(Stage {
                number,
                title: raw_stage.title,
                text: read(&format!("stage-{number}.md"))?,
                node: read(&format!("stage-{number}.js"))?,
                rust,
                mount: raw_stage.mount,
                behaviour,
                rooms: raw_stage.rooms,
                clients: raw_stage.clients,
                database: raw_stage.database,
                server_offset: raw_stage.server_offset,
                client_queue: raw_stage.client_queue,
                nodes: raw_stage.nodes,
                adapter: raw_stage.adapter,
                steps,
                measure: raw_stage.measure,
            });
        }
        if stages.is_empty() {
            return Err(err("has no stages".into()));
        }
        if raw.check_stage == 0 || raw.check_stage as usize > stages.len() {
            return Err(err(format!("check_stage {} does not exist", raw.check_stage)));
        }
        Ok(Self {
            number: raw.number,
            slug: raw.slug,
            title: raw.title,
            folder: folder.to_owned(),
            intro: read("intro.md")?,
            exercise: read("exercise.md")?,
            check_stage: raw.check_stage,
            summary: raw.summary,
            check_asks: raw.check_asks,
            serve_runs: raw.serve_runs,
            stages,
        })
    }
}

impl Step {
    /// Predict mode asks `question` before the step and shows `why` after it, so a question
    /// needs its explanation, and a step that can be predicted: a probe (will it connect?), or
    /// a single delivery (who receives it?). A burst is several deliveries at once; ask about
    /// one of its messages on a plain `emit` step instead.
    fn check_question(&self, behaviour: &Behaviour) -> Result<(), String> {
        if self.question.is_none() {
            return Ok(());
        }
        if self.why.as_deref().is_none_or(|w| w.trim().is_empty()) {
            return Err("a question needs a why, the explanation shown after the answer".into());
        }
        match &self.kind {
            StepKind::Burst { .. } => {
                Err("a burst cannot carry a question; ask on a single emit step".into())
            }
            StepKind::Emit { ack: false, .. } if self.expect_received_by.is_none() => {
                Err("a question on an emit step needs a handler that emits something, or an ack".into())
            }
            StepKind::Connect { .. } if behaviour.on_connection().and_then(|e| e.emit).is_none() => {
                Err("a question on a connect step needs a connection handler that emits something".into())
            }
            _ => Ok(()),
        }
    }
}

/// A stage's servers: none named (one server), or at least two distinct names; an adapter
/// joins several servers, so it needs them.
fn check_nodes(nodes: &[String], adapter: AdapterKind) -> Result<(), String> {
    if nodes.len() == 1 {
        return Err("nodes: name at least two servers, or none for a stage with one".into());
    }
    for (i, node) in nodes.iter().enumerate() {
        if node.is_empty() || nodes[..i].contains(node) {
            return Err(format!("nodes: {node:?} must be a name, used once"));
        }
    }
    if adapter != AdapterKind::None && nodes.is_empty() {
        return Err("an adapter joins several servers: name them with nodes = [\"A\", \"B\"]".into());
    }
    Ok(())
}

impl RawNamespace {
    /// The namespace's name or pattern, and what it runs.
    fn read(&self) -> Result<(SpacePath, Behaviour), String> {
        let path = match (&self.path, &self.dynamic) {
            (Some(path), None) => SpacePath::Fixed(path.clone()),
            (None, Some(pattern)) => {
                let ok = pattern.matches('{').count() == 1
                    && pattern.matches('}').count() == 1
                    && pattern.find('{') < pattern.find('}');
                if !ok {
                    return Err(format!(
                        "namespace dynamic = {pattern:?}: write one {{name}}, e.g. \"/team-{{id}}\""
                    ));
                }
                SpacePath::Dynamic(pattern.clone())
            }
            _ => return Err("a [[stage.namespace]] has either path or dynamic".into()),
        };
        let name = path.as_str().to_owned();
        let mut behaviour = Behaviour::default();
        let mut chosen: Vec<(&String, &String)> = self.handlers.iter().collect();
        chosen.sort_by_key(|(t, _)| *t != "connection");
        for (trigger, handler) in chosen {
            behaviour = behaviour
                .with(trigger, handler)
                .map_err(|m| format!("namespace {name}: handlers: {m}"))?;
        }
        if let Some(guard) = &self.middleware {
            behaviour = behaviour
                .guarded_by(guard)
                .map_err(|m| format!("namespace {name}: middleware: {m}"))?;
        }
        Ok((path, behaviour))
    }
}
