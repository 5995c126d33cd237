//! Lesson 8 (namespaces and middleware) against the reference: what real socket.io-client 4.8.4
//! observes against Node's socket.io 4.8.4 running the same stage (`tests/node/lesson8.js`,
//! played by `tests/node/lesson8-client.js`, which prints what each person got on each
//! namespace), over long-polling and over WebSocket.
//!
//! For every stage, three views must tell one story, person by person and namespace by
//! namespace: which events arrived in which step with which arguments, which CONNECTs were
//! refused with which message and data, and which were let in.
//!
//! 1. Node's own client against Node's server: the reference.
//! 2. The tutor's lesson, on our socketioxide server: what the lesson shows.
//! 3. The tutor's runner against Node's server, as `check` plays it: the runner's namespace
//!    reads (one session, one socket per namespace, with Node's distinct socket ids) work
//!    against a server that is not ours.
//!
//! One difference is known and asserted as such, not hidden: Node's middleware refuses with
//! `err.data` (`{hint: 'send auth.token'}`), which socket.io-client reads as `err.data`;
//! socketioxide 0.18 sends the message only, so on our server the refusal has no data.

use std::path::PathBuf;
use std::process::Command;

use realtime_tutor::client::Transport;
use realtime_tutor::lesson::{Lesson, Stage, StepKind};
use realtime_tutor::runner::{self, RunOptions, Target};
use realtime_tutor::trace::StageTrace;
use serde_json::{Map, Value, json};

use crate::common::compare::{assert_steps_agree, observed, remote_options};
use crate::common::process::{COMMAND_LIMIT, Server, run_bounded};
use crate::common::{lessons, runtime};

const INSTALL: &str = "the Node fixture needs `npm ci` in tests/node (scripts/test.sh does it)";

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node")
}

fn lesson8() -> &'static Lesson {
    lessons().iter().find(|l| l.number == 8).expect("lesson 8")
}

/// Node's server for stage `k`, killed when dropped.
fn node(k: u32) -> Server {
    assert!(
        fixture()
            .join("node_modules/socket.io-client/package.json")
            .is_file(),
        "{INSTALL}"
    );
    Server::start(
        Command::new("node")
            .args(["lesson8.js", "--stage", &k.to_string()])
            .current_dir(fixture()),
        INSTALL,
    )
}

/// What socket.io-client 4.8.4 observed playing stage `k` against `url`.
fn reference(url: &str, k: u32, transport: &str, extra: &[&str]) -> Value {
    let out = run_bounded(
        Command::new("node")
            .arg("lesson8-client.js")
            .arg(url)
            .args(["--stage", &k.to_string(), "--transports", transport])
            .args(extra)
            .current_dir(fixture()),
        COMMAND_LIMIT,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "lesson8-client.js, stage {k} over {transport}: {out:?}"
    );
    let json: Value = serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(json["client"], "socket.io-client 4.8.4", "{json}");
    json
}

/// The reference client's words for the lesson's steps (`1. alice connects /admin with auth
/// {"token":"letmein"}`), made from the lesson's data: its script must be the lesson's.
fn script(stage: &Stage) -> Vec<String> {
    stage
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let said = match &step.kind {
                StepKind::Connect {
                    client,
                    namespace,
                    auth,
                    ..
                } => {
                    let auth = auth
                        .clone()
                        .or_else(|| stage.clients.get(client).and_then(|h| h.auth.clone()));
                    let auth = auth.map(|a| format!(" with auth {a}")).unwrap_or_default();
                    format!("{client} connects {namespace}{auth}")
                }
                StepKind::Emit {
                    client,
                    namespace,
                    event,
                    args,
                    ..
                } => format!(
                    "{client} emits '{event}' {} on {namespace}",
                    Value::from(args.clone())
                ),
                other => panic!("lesson 8 has no {other:?} steps"),
            };
            format!("{}. {said}", i + 1)
        })
        .collect()
}

/// The entry of person `who` on namespace `nsp`, made when first needed.
fn log<'a>(people: &'a mut Map<String, Value>, who: &str, nsp: &str) -> &'a mut Map<String, Value> {
    people
        .entry(who.to_owned())
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .unwrap()
        .entry(nsp.to_owned())
        .or_insert_with(|| json!({ "events": [] }))
        .as_object_mut()
        .unwrap()
}

/// A trace in the reference client's shape: per person and namespace, the events in arrival
/// order as `[step, event, ...args]`, and `connected: true` or the `connect_error`.
fn people(stage: &Stage, trace: &StageTrace) -> Value {
    let mut people: Map<String, Value> = Map::new();
    for record in &trace.steps {
        if let StepKind::Connect {
            client, namespace, ..
        } = &stage.steps[record.step as usize - 1].kind
        {
            let entry = log(&mut people, client, namespace);
            match &record.refused {
                Some(refusal) => {
                    let data = refusal.data.clone().unwrap_or(Value::Null);
                    entry.insert(
                        "connect_error".into(),
                        json!({ "message": refusal.message, "data": data }),
                    );
                }
                None => {
                    entry.insert("connected".into(), Value::Bool(true));
                }
            }
        }
        for (who, inbox) in record.received.iter().chain(&record.ignored) {
            for delivery in inbox {
                let nsp = delivery.nsp.as_deref().unwrap_or("/");
                let mut event = vec![json!(record.step), json!(delivery.event)];
                event.extend(delivery.args.iter().cloned());
                log(&mut people, who, nsp)["events"]
                    .as_array_mut()
                    .unwrap()
                    .push(Value::Array(event));
            }
        }
    }
    Value::Object(people)
}

/// The one known difference: where Node's refusal carries `data`, ours has none. Returns
/// `ours` with Node's data put in, after asserting that this is the only way they differ
/// there, so the rest can be compared whole.
fn refusal_data_named(mut ours: Value, node: &Value, what: &str) -> (Value, usize) {
    let mut named = 0;
    let Some(persons) = ours.as_object_mut() else {
        return (ours, named);
    };
    for (who, spaces) in persons.iter_mut() {
        for (nsp, entry) in spaces.as_object_mut().unwrap().iter_mut() {
            let theirs = &node[who][nsp]["connect_error"];
            let Some(error) = entry.get_mut("connect_error") else {
                continue;
            };
            assert_eq!(error["message"], theirs["message"], "{what}: {who} on {nsp}");
            if error["data"] != theirs["data"] {
                assert_eq!(
                    (&error["data"], &theirs["data"]),
                    (&Value::Null, &json!({ "hint": "send auth.token" })),
                    "{what}: {who} on {nsp}: the only known difference is Node's err.data"
                );
                error["data"] = theirs["data"].clone();
                named += 1;
            }
        }
    }
    (ours, named)
}

fn options(transport: Transport, base: RunOptions) -> RunOptions {
    RunOptions {
        transports: vec![transport],
        ..base
    }
}

/// Every stage of lesson 8, over each transport: the three views agree.
#[test]
fn lesson_8_matches_node_and_socket_io_client_4_8_4_over_both_transports() {
    let rt = runtime();
    let lesson = lesson8();
    let mut data_differences = 0;
    for stage in &lesson.stages {
        let k = stage.number;
        let server = node(k);
        for (name, transport) in [
            ("polling", Transport::Polling),
            ("websocket", Transport::WebSocket),
        ] {
            let what = format!("lesson 8.{k} over {name}");
            let node_view = reference(&server.url, k, name, &[]);
            assert_eq!(node_view["problems"], json!([]), "{what}: {node_view}");
            let steps: Vec<String> = serde_json::from_value(node_view["steps"].clone()).unwrap();
            assert_eq!(
                steps,
                script(stage),
                "{what}: the reference client plays the lesson's steps"
            );
            let node_people = &node_view["people"];

            // 2. The lesson on our own server.
            let ours = rt
                .block_on(runner::run_stage(
                    lesson,
                    stage,
                    &Target::Local,
                    &options(transport, RunOptions::default()),
                ))
                .unwrap_or_else(|e| panic!("{what} on our server: {e}"));
            let (ours_people, named) = refusal_data_named(people(stage, &ours), node_people, &what);
            data_differences += named;
            assert_eq!(
                &ours_people, node_people,
                "{what}: our server against Node's client"
            );

            // 3. The tutor's runner against Node's server, as `check` plays it.
            let remote = Target::Remote {
                url: server.url.clone(),
                more: Vec::new(),
                path: "/socket.io/".into(),
                expect_within: realtime_tutor::check::EXPECT_WITHIN,
                quiet: realtime_tutor::check::QUIET,
            };
            let theirs = rt
                .block_on(runner::run_stage(
                    lesson,
                    stage,
                    &remote,
                    &options(transport, remote_options()),
                ))
                .unwrap_or_else(|e| panic!("{what}, the runner against Node: {e}"));
            assert_eq!(
                &people(stage, &theirs),
                node_people,
                "{what}: the tutor's runner and socket.io-client see Node's server alike, data included"
            );
            // Stage 4's expectation, `alice: hi`, is the same against both: the runner works out
            // `socket.data.name` from alice's auth as the stage's middleware keeps it
            // (`Handle::read_auth`), so the records compare in full.
            assert_steps_agree(
                &ours,
                &theirs,
                &what,
                observed,
                "our server and Node's disagree on what the clients observed",
            );
            // Node gives each namespace's socket an id of its own, and never the session's.
            for (who, ids) in node_view["ids"].as_object().unwrap() {
                assert_eq!(ids["distinct"], true, "{what}: {who}");
                assert_eq!(ids["engine_id"], false, "{what}: {who}");
            }
        }
    }
    // mallory's refusal in stage 3, over each transport: the one named difference, seen.
    assert_eq!(
        data_differences, 2,
        "Node's err.data, absent from socketioxide's refusal"
    );
}

/// Node only: in stage 5 the parent namespace, `io.of(/^\/team-\w+$/)`, emits to every child
/// namespace it made. socketioxide's dynamic namespaces have no parent to emit through, so the
/// lesson cannot run it; this is what Node does, as the lesson's text says.
#[test]
fn node_s_parent_namespace_emit_reaches_every_team() {
    let server = node(5);
    let view = reference(&server.url, 5, "websocket", &["--parent-emit"]);
    let step = view["steps"].as_array().unwrap().len();
    assert_eq!(step, lesson8().stages[4].steps.len() + 1, "{view}");
    let all_hands = json!([step, "chat message", "all hands"]);
    for (who, nsp) in [
        ("alice", "/team-red"),
        ("bob", "/team-red"),
        ("carol", "/team-blue"),
    ] {
        let events = view["people"][who][nsp]["events"].as_array().unwrap();
        assert_eq!(events.last(), Some(&all_hands), "{who} on {nsp}: {view}");
    }
}
