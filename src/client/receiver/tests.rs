//! The receiver against literal frame sequences: what each one means, given what came before.

use super::*;
use crate::client::limits::{INCOMING_BYTES, MAX_BUFFERED_BEFORE_CONNECT};
use serde_json::json;

fn text(s: &str) -> Frame {
    Frame::Text(s.to_owned())
}

fn event(name: &str, args: Vec<Value>) -> Output {
    Output::Event {
        name: name.into(),
        args,
        ack: None,
    }
}

#[test]
fn events_before_the_connect_reply_come_right_after_it_in_order() {
    let mut r = Receiver::new("/");
    assert_eq!(
        r.receive(&text(r#"42["welcome","a"]"#)).unwrap(),
        vec![Output::Nothing]
    );
    assert_eq!(r.receive(&text("2")).unwrap(), vec![Output::Pong(String::new())]);
    assert_eq!(
        r.receive(&text(r#"42["welcome","b"]"#)).unwrap(),
        vec![Output::Nothing]
    );
    assert_eq!(
        r.receive(&text(r#"40{"sid":"s1"}"#)).unwrap(),
        vec![
            Output::Connected {
                sid: "s1".into(),
                pid: None
            },
            event("welcome", vec![json!("a")]),
            event("welcome", vec![json!("b")]),
        ]
    );
    assert_eq!(
        r.receive(&text(r#"42["later"]"#)).unwrap(),
        vec![event("later", vec![])]
    );
}

#[test]
fn an_event_that_asks_for_an_answer_keeps_its_ack_id() {
    let mut r = Receiver::new("/");
    // Asked before the CONNECT reply: the id travels with the buffered event.
    r.receive(&text(r#"420["early"]"#)).unwrap();
    let out = r.receive(&text(r#"40{"sid":"s"}"#)).unwrap();
    assert_eq!(
        out[1],
        Output::Event {
            name: "early".into(),
            args: vec![],
            ack: Some(0)
        }
    );
    assert_eq!(
        r.receive(&text(r#"4217["question","ready?"]"#)).unwrap(),
        vec![Output::Event {
            name: "question".into(),
            args: vec![json!("ready?")],
            ack: Some(17)
        }]
    );
    assert_eq!(
        r.receive(&text(r#"42["plain"]"#)).unwrap(),
        vec![event("plain", vec![])],
        "no id: nothing to answer"
    );
}

#[test]
fn too_many_events_before_connect_is_a_violation() {
    let mut r = Receiver::new("/");
    for _ in 0..MAX_BUFFERED_BEFORE_CONNECT {
        r.receive(&text(r#"42["x"]"#)).unwrap();
    }
    assert!(r.receive(&text(r#"42["x"]"#)).is_err());
    let mut r = Receiver::new("/");
    let big = format!(r#"42["x","{}"]"#, "y".repeat(INCOMING_BYTES / 2));
    r.receive(&text(&big)).unwrap();
    assert!(r.receive(&text(&big)).is_err(), "bounded in bytes too");
}

#[test]
fn the_recovery_offset_is_kept_apart_only_with_a_pid() {
    let mut plain = Receiver::new("/");
    plain.receive(&text(r#"40{"sid":"s"}"#)).unwrap();
    assert_eq!(
        plain.receive(&text(r#"42["hello","world","Q8mepPP"]"#)).unwrap(),
        vec![event("hello", vec![json!("world"), json!("Q8mepPP")])]
    );
    assert_eq!(plain.last_offset(), None);

    let mut recovering = Receiver::new("/");
    let out = recovering.receive(&text(r#"40{"sid":"s","pid":"p1"}"#)).unwrap();
    assert_eq!(
        out,
        vec![Output::Connected {
            sid: "s".into(),
            pid: Some("p1".into())
        }]
    );
    assert_eq!(
        recovering
            .receive(&text(r#"42["hello","world","Q8mepPP"]"#))
            .unwrap(),
        vec![event("hello", vec![json!("world")])]
    );
    assert_eq!(recovering.last_offset(), Some("Q8mepPP"));
    // A last argument that is not a string is no offset (socket.io-client checks the type).
    assert_eq!(
        recovering.receive(&text(r#"42["n",1]"#)).unwrap(),
        vec![event("n", vec![json!(1)])]
    );
    assert_eq!(recovering.last_offset(), Some("Q8mepPP"));
    assert_eq!(recovering.pid(), Some("p1"));
}

#[test]
fn a_binary_event_completes_with_its_last_attachment() {
    let mut r = Receiver::new("/");
    r.receive(&text(r#"40{"sid":"s"}"#)).unwrap();
    let header = r#"452-["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
    assert_eq!(r.receive(&text(header)).unwrap(), vec![Output::Nothing]);
    assert_eq!(r.awaiting_attachments(), Some((0, 2)));
    assert_eq!(
        r.receive(&text("2")).unwrap(),
        vec![Output::Pong(String::new())],
        "pings may interleave"
    );
    assert_eq!(
        r.receive(&Frame::Binary(b"hi".to_vec())).unwrap(),
        vec![Output::Nothing]
    );
    let out = r.receive(&Frame::Binary(vec![7])).unwrap();
    assert_eq!(
        out,
        vec![event(
            "file",
            vec![
                json!({"binary": {"length": 2, "hex": "6869", "utf8": "hi"}}),
                json!({"binary": {"length": 1, "hex": "07", "utf8": "\u{7}"}}),
            ]
        )]
    );
    assert_eq!(r.awaiting_attachments(), None);
}

#[test]
fn binary_frames_out_of_place_are_violations() {
    let mut r = Receiver::new("/");
    assert!(
        r.receive(&Frame::Binary(vec![1])).is_err(),
        "no packet announced it"
    );
    let mut r = Receiver::new("/");
    r.receive(&text(r#"451-["f",{"_placeholder":true,"num":0}]"#))
        .unwrap();
    assert!(
        r.receive(&text(r#"42["x"]"#)).is_err(),
        "a packet before the attachment"
    );
    let mut r = Receiver::new("/");
    let many = format!(r#"45{}-["f"]"#, MAX_ATTACHMENTS + 1);
    assert!(r.receive(&text(&many)).is_err());
    let mut r = Receiver::new("/");
    r.receive(&text(r#"452-["f"]"#)).unwrap();
    assert!(
        r.receive(&Frame::Binary(vec![0; MAX_ATTACHMENT_BYTES + 1]))
            .is_err()
    );
}

#[test]
fn other_namespaces_are_passed_over_even_binary_ones() {
    let mut r = Receiver::new("/");
    r.receive(&text(r#"40{"sid":"s"}"#)).unwrap();
    assert_eq!(
        r.receive(&text(r#"42/admin,["x"]"#)).unwrap(),
        vec![Output::Nothing]
    );
    assert_eq!(r.receive(&text(r#"41/admin,"#)).unwrap(), vec![Output::Nothing]);
    assert_eq!(
        r.receive(&text(r#"44/nope,{"message":"Invalid namespace"}"#))
            .unwrap(),
        vec![Output::Answered {
            nsp: "/nope".into(),
            accepted: false
        }]
    );
    r.receive(&text(r#"451-/admin,["f",{"_placeholder":true,"num":0}]"#))
        .unwrap();
    assert_eq!(r.receive(&Frame::Binary(vec![1])).unwrap(), vec![Output::Nothing]);
    assert_eq!(r.receive(&text("41")).unwrap(), vec![Output::Disconnected]);
}

#[test]
fn refusals_and_v2_replies_are_named() {
    let mut r = Receiver::new("/");
    assert_eq!(
        r.receive(&text(r#"44{"message":"not authorized"}"#)).unwrap(),
        vec![Output::Refused {
            message: "not authorized".into(),
            data: None
        }]
    );
    assert!(Receiver::new("/").receive(&text("40")).is_err());
    assert!(Receiver::new("/").receive(&text("hello")).is_err());
    assert_eq!(
        Receiver::new("/").receive(&text("1")).unwrap(),
        vec![Output::Closed]
    );
}

fn on(nsp: &str, output: Output) -> Output {
    Output::On {
        nsp: nsp.into(),
        output: Box::new(output),
    }
}

#[test]
fn a_joined_namespace_has_a_socket_of_its_own() {
    let mut r = Receiver::new("/");
    r.receive(&text(r#"40{"sid":"a"}"#)).unwrap();
    r.join("/admin");
    // Kept until its own CONNECT reply, as on `/`; `/` meanwhile is unaffected.
    assert_eq!(
        r.receive(&text(r#"42/admin,["early"]"#)).unwrap(),
        vec![Output::Nothing]
    );
    assert_eq!(r.receive(&text(r#"42["x"]"#)).unwrap(), vec![event("x", vec![])]);
    assert_eq!(
        r.receive(&text(r#"40/admin,{"sid":"b"}"#)).unwrap(),
        vec![
            on(
                "/admin",
                Output::Connected {
                    sid: "b".into(),
                    pid: None
                }
            ),
            on("/admin", event("early", vec![])),
        ]
    );
    assert_eq!(
        r.receive(&text(r#"43/admin,0["ok"]"#)).unwrap(),
        vec![on(
            "/admin",
            Output::Ack {
                id: 0,
                args: vec![json!("ok")]
            }
        )]
    );
    // Binary events reach their namespace complete.
    r.receive(&text(r#"451-/admin,["f",{"_placeholder":true,"num":0}]"#))
        .unwrap();
    assert!(matches!(
        &r.receive(&Frame::Binary(vec![1])).unwrap()[..],
        [Output::On { nsp, output }] if nsp == "/admin" && matches!(**output, Output::Event { .. })
    ));
    assert_eq!(
        r.receive(&text("41/admin,")).unwrap(),
        vec![on("/admin", Output::Disconnected)]
    );
    // Forgotten, /admin is a namespace like any other nobody joined.
    r.forget("/admin");
    assert_eq!(
        r.receive(&text(r#"42/admin,["late"]"#)).unwrap(),
        vec![Output::Nothing]
    );
}

#[test]
fn a_refusal_carries_the_middlewares_data() {
    let mut r = Receiver::new("/");
    r.receive(&text(r#"40{"sid":"a"}"#)).unwrap();
    r.join("/admin");
    assert_eq!(
        r.receive(&text(
            r#"44/admin,{"message":"not authorized","data":{"reason":"no token"}}"#
        ))
        .unwrap(),
        vec![on(
            "/admin",
            Output::Refused {
                message: "not authorized".into(),
                data: Some(json!({"reason": "no token"}))
            }
        )]
    );
}

#[test]
fn a_refusal_that_is_a_bare_string_is_its_message() {
    // python-socketio, for a namespace it does not serve.
    let mut r = Receiver::new("/");
    r.receive(&text(r#"40{"sid":"a"}"#)).unwrap();
    r.join("/nobody");
    assert_eq!(
        r.receive(&text(r#"44/nobody,"Unable to connect""#)).unwrap(),
        vec![on(
            "/nobody",
            Output::Refused {
                message: "Unable to connect".into(),
                data: None
            }
        )]
    );
}
