//! What Socket.IO promises, checked against the observed traces independently of the snapshots.

use realtime_tutor::lesson::{AdapterKind, ProbeExpect, StepKind};
use realtime_tutor::trace::{Audience, Delivery, Kind, ProbeOutcome};

use crate::common::{lessons, run_all, runtime};

#[test]
fn broadcasts_skip_the_sender_and_io_emit_reaches_everyone() {
    let traces = runtime().block_on(run_all());
    let lessons = lessons();
    // A storing stage (lesson 6) adds the row id to what it emits, replays several messages at
    // once, and may deliver a retry twice: `delivery.rs` and `check 6` judge those.
    let stores = |lesson: u32, stage: u32| {
        lessons
            .iter()
            .find(|l| l.number == lesson)
            .and_then(|l| l.stages.get(stage as usize - 1))
            .is_some_and(|s| s.database)
    };
    let mut broadcasts = 0;
    let mut io_emits = 0;
    for step in traces
        .iter()
        .flat_map(|t| t.steps.iter())
        .filter(|s| s.is_delivery() && !stores(s.lesson, s.stage))
    {
        let sender = step.sender.clone().expect("a delivery step has a sender");
        let everyone: Vec<String> = step.received.keys().cloned().collect();
        // Every client that did not receive has the server's reason, read at emit time.
        let unexplained: Vec<&String> = step
            .not_received_by
            .iter()
            .filter(|who| !step.why_not.contains_key(*who))
            .collect();
        assert!(
            unexplained.is_empty(),
            "no why-not for {unexplained:?} in {step:?}"
        );
        let audience = step.audience.clone().expect("a delivery step has an audience");
        if audience.skips_sender() {
            assert!(!step.received_by.contains(&sender), "{step:?}");
            assert_eq!(
                step.why_not.get(&sender).map(String::as_str),
                Some("the sender"),
                "{step:?}"
            );
        }
        match audience {
            Audience::EveryoneButSender => {
                broadcasts += 1;
                assert_eq!(step.not_received_by, vec![sender.clone()], "{step:?}");
                let others: Vec<String> = everyone.iter().filter(|c| **c != sender).cloned().collect();
                assert_eq!(step.received_by, others, "{step:?}");
            }
            Audience::Everyone => {
                io_emits += 1;
                // Servers that share nothing: io.emit reaches the emitting server's clients,
                // and every other client is on another server, as that server's table says.
                let stage = &lessons
                    .iter()
                    .find(|l| l.number == step.lesson)
                    .expect("its lesson")
                    .stages[step.stage as usize - 1];
                let unjoined = !stage.nodes.is_empty() && stage.adapter == AdapterKind::None;
                let elsewhere: Vec<String> = step
                    .not_received_by
                    .iter()
                    .filter(|who| {
                        let why = &step.why_not[*who];
                        (unjoined && why.starts_with("on server ") && why.contains("no adapter"))
                            // An emit in another namespace (`io.of('/admin')`): a client with no
                            // socket there, as the server's list of namespaces says.
                            || why.starts_with("no socket in ")
                    })
                    .cloned()
                    .collect();
                assert_eq!(
                    step.not_received_by, elsewhere,
                    "io.emit missed someone: {step:?}"
                );
                let reached: Vec<String> = everyone
                    .iter()
                    .filter(|c| !elsewhere.contains(c))
                    .cloned()
                    .collect();
                assert_eq!(step.received_by, reached, "{step:?}");
            }
            // Rooms: checked by the reasons above and the lessons' own expectations.
            _ => {}
        }
        // What arrived is exactly the event the action emits, once per receiver, and on the
        // socket of one namespace, the emit's, for all of them.
        let nsp = step
            .received_by
            .first()
            .and_then(|who| step.received[who].first())
            .and_then(|d| d.nsp.clone());
        let sent = Delivery {
            event: step.event.clone().unwrap_or_default(),
            args: step.args.clone(),
            nsp,
        };
        for who in &step.received_by {
            assert_eq!(step.received[who], vec![sent.clone()], "{who} in {step:?}");
        }
        for who in &step.not_received_by {
            assert!(step.received[who].is_empty(), "{who} in {step:?}");
        }
    }
    assert!(
        broadcasts >= 5 && io_emits >= 8,
        "the lessons exercise both kinds ({broadcasts}, {io_emits})"
    );
}

#[test]
fn observations_match_what_each_lesson_teaches() {
    let traces = runtime().block_on(run_all());
    for lesson in lessons() {
        for stage in &lesson.stages {
            let trace = traces
                .iter()
                .find(|t| t.lesson == lesson.number && t.stage == stage.number)
                .unwrap();
            for (index, step) in stage.steps.iter().enumerate() {
                let records: Vec<_> = trace
                    .steps
                    .iter()
                    .filter(|s| s.step == index as u32 + 1)
                    .collect();
                assert!(
                    !records.is_empty(),
                    "{}.{} step {} left no record",
                    lesson.number,
                    stage.number,
                    index + 1
                );
                for record in records {
                    if let Some(expected) = &step.expect_received_by {
                        let mut expected = expected.clone();
                        expected.sort();
                        assert_eq!(
                            record.received_by,
                            expected,
                            "lesson {} stage {} step {}: the lesson teaches one thing, the server did another",
                            lesson.number,
                            stage.number,
                            index + 1
                        );
                    }
                    if let StepKind::Probe { expect, .. } = &step.kind {
                        let probe = record.probe.as_ref().expect("a probe record");
                        match expect {
                            ProbeExpect::Refused => {
                                assert_eq!(probe.outcome, ProbeOutcome::Refused, "{probe:?}")
                            }
                            ProbeExpect::SocketIo => {
                                assert_eq!(probe.outcome, ProbeOutcome::SocketIo, "{probe:?}")
                            }
                            ProbeExpect::Status(code) => {
                                assert_eq!(probe.outcome, ProbeOutcome::Http, "{probe:?}");
                                assert_eq!(probe.status, Some(*code), "{probe:?}");
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn a_burst_arrives_in_one_order_at_every_client() {
    let traces = runtime().block_on(run_all());
    let mut bursts = 0;
    // Each stage's bursts are checked on their own, so a second lesson with a burst (a copied
    // lesson, say) is a second sequence, not the continuation of the first.
    for trace in &traces {
        let burst: Vec<_> = trace.steps.iter().filter(|s| s.burst.is_some()).collect();
        let Some(first) = burst.first() else {
            continue;
        };
        bursts += burst.len();
        for client in first.received.keys() {
            let order: Vec<usize> = burst.iter().map(|s| s.arrival[client]).collect();
            assert_eq!(
                order,
                (1..=burst.len()).collect::<Vec<_>>(),
                "{client} saw another order in {}.{}",
                trace.lesson,
                trace.stage
            );
        }
    }
    assert!(bursts >= 3, "lesson 3 has a burst of several messages");
}

#[test]
fn json_delivery_steps_carry_the_documented_fields() {
    let traces = runtime().block_on(run_all());
    for step in traces.iter().flat_map(|t| t.steps.iter()) {
        // The line `--format json` prints, read back.
        let line = realtime_tutor::trace::json::step_line(step);
        let value: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
        // `Value::get` finds a field that is there as `null` too, so each field's type is
        // checked: a field that is always there, but empty, would pass a presence check.
        let has = |field: &str, is: fn(&serde_json::Value) -> bool| {
            assert!(
                value.get(field).is_some_and(is),
                "{field} missing or of the wrong type in {value}"
            );
        };
        has("lesson", serde_json::Value::is_u64);
        has("stage", serde_json::Value::is_u64);
        for field in ["args", "received_by", "not_received_by"] {
            has(field, serde_json::Value::is_array);
        }
        // Fields that only some kinds fill are there all the same, as `null`.
        for field in ["action", "sender", "event"] {
            assert!(
                value.as_object().is_some_and(|o| o.contains_key(field)),
                "{field} missing in {value}"
            );
        }
        if step.kind == Kind::Emit {
            // A delivery step says who sent, which event the server delivered (or, when it
            // delivered none, which event the client sent), and, when anyone received it, the
            // server code that sent it.
            has("sender", serde_json::Value::is_string);
            if !step.received_by.is_empty() {
                has("action", serde_json::Value::is_string);
                has("event", serde_json::Value::is_string);
            }
            assert!(
                value["event"].is_string() || value["client_emit"]["event"].is_string(),
                "no event named in {value}"
            );
        }
        if step.kind == Kind::Probe {
            let probe = &value["probe"];
            for field in ["method", "url", "outcome"] {
                assert!(
                    probe.get(field).is_some_and(serde_json::Value::is_string),
                    "probe.{field} missing in {value}"
                );
            }
            assert!(
                probe
                    .get("observed")
                    .is_some_and(|o| o.as_array().is_some_and(|a| !a.is_empty())),
                "probe.observed missing or empty in {value}"
            );
        }
    }
}

/// A client that disconnects (politely or by a dropped transport) misses what is sent while it
/// is away, and gets what is sent after it reconnects; the server decides, through its
/// disconnect report, when it is gone, so no timer is involved.
#[test]
fn a_disconnected_client_misses_what_is_sent_until_it_reconnects() {
    use realtime_tutor::lesson::{Lesson, LessonError};
    use realtime_tutor::runner::{self, RunOptions, Target};
    let read = |name: &str| -> Result<String, LessonError> { Ok(format!("text of {name}")) };
    let toml = r#"
format_version = 2
number = 9
slug = "away"
title = "t"
summary = "s"
check_asks = "c"
serve_runs = "r"
check_stage = 1
[[stage]]
title = "s"
mount = "realtime"
handlers = { "chat message" = "io-emit-chat", disconnect = "broadcast-user-left" }
  [[stage.step]]
  connect = "alice"
  [[stage.step]]
  connect = "bob"
  [[stage.step]]
  connect = "carol"
  [[stage.step]]
  disconnect = "bob"
  expect_received_by = ["alice", "carol"]
  [[stage.step]]
  disconnect = "carol"
  drop_transport = true
  expect_received_by = ["alice"]
  [[stage.step]]
  emit = "alice"
  args = ["while they are away"]
  expect_received_by = ["alice"]
  [[stage.step]]
  connect = "bob"
  [[stage.step]]
  emit = "alice"
  args = ["welcome back"]
  expect_received_by = ["alice", "bob"]
"#;
    let lesson = Lesson::parse("09-away", toml, &read).expect("the lesson loads");
    let trace = runtime()
        .block_on(runner::run_stage(
            &lesson,
            &lesson.stages[0],
            &Target::Local,
            &RunOptions::default(),
        ))
        .expect("the stage plays");
    let step = |n: u32| trace.steps.iter().find(|s| s.step == n).unwrap();
    assert_eq!(step(4).trigger, "bob disconnects (socket.disconnect())");
    // The disconnect handler runs once the socket has left: everyone still there hears it.
    assert_eq!(
        step(4).action.as_deref(),
        Some("socket.broadcast.emit('user left')")
    );
    assert_eq!(step(4).received_by, vec!["alice", "carol"]);
    assert_eq!(step(5).received_by, vec!["alice"]);
    assert_eq!(step(5).trigger, "carol's connection drops");
    assert_eq!(step(6).received_by, vec!["alice"]);
    assert!(
        !step(6).received.contains_key("bob"),
        "bob is not connected: {:?}",
        step(6)
    );
    assert_eq!(step(7).trigger, "bob reconnects");
    assert_eq!(step(8).received_by, vec!["alice", "bob"]);
    assert_eq!(trace.clients, vec!["alice", "bob", "carol"]);

    for (broken, needle) in [
        (toml.replace("disconnect = \"carol\"", "disconnect = \"dave\""), "dave is not connected yet"),
        (
            toml.replace("  [[stage.step]]\n  connect = \"bob\"\n  [[stage.step]]\n  emit = \"alice\"\n  args = [\"welcome back\"]", "  [[stage.step]]\n  emit = \"bob\"\n  args = [\"welcome back\"]"),
            "bob is not connected yet",
        ),
    ] {
        let err = Lesson::parse("09-away", &broken, &read).expect_err(needle).to_string();
        assert!(err.contains(needle), "{err}");
    }
}

/// A client's handshake auth reaches the server in the CONNECT packet, and `socket.emit` in the
/// connection handler answers the newcomer alone; the others' why-not says so.
#[test]
fn the_handshake_auth_reaches_the_connection_handler_and_socket_emit_only_the_newcomer() {
    use realtime_tutor::lesson::{Lesson, LessonError};
    use realtime_tutor::runner::{self, RunOptions, Target};
    let read = |name: &str| -> Result<String, LessonError> { Ok(format!("text of {name}")) };
    let toml = r#"
format_version = 2
number = 9
slug = "auth"
title = "t"
summary = "s"
check_asks = "c"
serve_runs = "r"
check_stage = 1
[[stage]]
title = "s"
mount = "realtime"
handlers = { connection = "welcome-auth" }
clients = { bob = { auth = { token = "b0b" }, query = { name = "bob" } } }
  [[stage.step]]
  connect = "alice"
  expect_received_by = ["alice"]
  [[stage.step]]
  connect = "bob"
  expect_received_by = ["bob"]
"#;
    let lesson = Lesson::parse("09-auth", toml, &read).expect("the lesson loads");
    let options = RunOptions {
        wire: true,
        ..RunOptions::default()
    };
    let trace = runtime()
        .block_on(runner::run_stage(
            &lesson,
            &lesson.stages[0],
            &Target::Local,
            &options,
        ))
        .expect("the stage plays");
    let bob = &trace.steps[1];
    assert_eq!(bob.received_by, vec!["bob"]);
    assert_eq!(bob.args, vec![serde_json::json!({ "token": "b0b" })]);
    assert_eq!(
        bob.received["bob"][0].args, bob.args,
        "what the server read is what bob sent"
    );
    assert_eq!(
        bob.why_not.get("alice").map(String::as_str),
        Some("not the sender")
    );
    // alice sent no auth: the handler reads `{}`, as Node's `socket.handshake.auth` is then
    // (its `connect(name, auth = {})`), and the record says what the server really sent.
    let alice = &trace.steps[0];
    assert_eq!(alice.args, vec![serde_json::json!({})], "alice sent no auth");
    assert_eq!(alice.received["alice"][0].args, alice.args, "what alice got");
    let frames: Vec<&str> = bob.wire.iter().flatten().map(|w| w.frame.as_str()).collect();
    assert!(frames.contains(&r#"40{"token":"b0b"}"#), "{frames:?}");

    let stray = toml.replace("clients = { bob", "clients = { dave");
    let err = Lesson::parse("09-auth", &stray, &read).unwrap_err().to_string();
    assert!(err.contains("clients.dave: no step connects dave"), "{err}");
}
