//! The codec's tests, against literal frames: the exact text each packet is on the wire, and the
//! malformed text it refuses.

use super::*;
use serde_json::json;

#[test]
fn decodes_the_open_packet() {
    let frame =
        r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":100000}"#;
    let EnginePacket::Open(info) = EnginePacket::decode(frame).unwrap() else {
        panic!()
    };
    assert_eq!(info.sid, "abc");
    assert_eq!(info.ping_interval, 25000);
    assert_eq!(info.ping_timeout, 20000);
    assert_eq!(info.max_payload, Some(100000));
}

#[test]
fn heartbeat_round_trips() {
    assert_eq!(
        EnginePacket::decode("2").unwrap(),
        EnginePacket::Ping(String::new())
    );
    assert_eq!(EnginePacket::Pong(String::new()).encode(), "3");
    assert_eq!(
        EnginePacket::decode("2probe").unwrap(),
        EnginePacket::Ping("probe".into())
    );
}

#[test]
fn rejects_what_is_not_engine_io() {
    assert_eq!(EnginePacket::decode(""), Err(DecodeError::Empty));
    assert_eq!(EnginePacket::decode("hello"), Err(DecodeError::UnknownType('h')));
    assert!(matches!(
        EnginePacket::decode("0not json"),
        Err(DecodeError::InvalidPayload(_))
    ));
}

#[test]
fn decodes_an_event_with_arguments() {
    let packet = SocketPacket::decode(r#"2["chat message","hi",{"n":1}]"#).unwrap();
    assert_eq!(
        packet,
        SocketPacket::Event {
            nsp: "/".into(),
            id: None,
            name: "chat message".into(),
            args: vec![json!("hi"), json!({"n": 1})],
        }
    );
}

#[test]
fn decodes_an_event_without_arguments() {
    assert_eq!(
        SocketPacket::decode(r#"2["hi"]"#).unwrap(),
        SocketPacket::event("hi", vec![])
    );
}

#[test]
fn decodes_namespace_and_ack_id() {
    let packet = SocketPacket::decode(r#"2/admin,12["echo","x"]"#).unwrap();
    assert_eq!(
        packet,
        SocketPacket::Event {
            nsp: "/admin".into(),
            id: Some(12),
            name: "echo".into(),
            args: vec![json!("x")]
        }
    );
    assert_eq!(
        SocketPacket::decode(r#"31["ok"]"#).unwrap(),
        SocketPacket::Ack {
            nsp: "/".into(),
            id: 1,
            args: vec![json!("ok")]
        }
    );
}

#[test]
fn decodes_connect_replies() {
    assert_eq!(
        SocketPacket::decode(r#"0{"sid":"s1"}"#).unwrap(),
        SocketPacket::Connect {
            nsp: "/".into(),
            data: Some(json!({"sid": "s1"}))
        }
    );
    assert_eq!(
        SocketPacket::decode(r#"4/nope,{"message":"Invalid namespace"}"#).unwrap(),
        SocketPacket::ConnectError {
            nsp: "/nope".into(),
            data: json!({"message": "Invalid namespace"})
        }
    );
    assert_eq!(
        SocketPacket::decode("1").unwrap(),
        SocketPacket::Disconnect { nsp: "/".into() }
    );
}

#[test]
fn encodes_literal_frames() {
    let connect = SocketPacket::Connect {
        nsp: "/".into(),
        data: None,
    };
    assert_eq!(connect.to_frame(), "40");
    let admin = SocketPacket::Connect {
        nsp: "/admin".into(),
        data: None,
    };
    assert_eq!(admin.to_frame(), "40/admin,");
    assert_eq!(
        SocketPacket::event("chat message", vec![json!("hi")]).to_frame(),
        r#"42["chat message","hi"]"#
    );
    let with_ack = SocketPacket::Event {
        nsp: "/".into(),
        id: Some(1),
        name: "echo".into(),
        args: vec![json!("x")],
    };
    assert_eq!(with_ack.to_frame(), r#"421["echo","x"]"#);
    let ack = SocketPacket::Ack {
        nsp: "/".into(),
        id: 1,
        args: vec![json!("ok")],
    };
    assert_eq!(ack.to_frame(), r#"431["ok"]"#);
    assert_eq!(SocketPacket::Disconnect { nsp: "/".into() }.to_frame(), "41");
}

#[test]
fn malformed_socket_packets_are_errors_not_panics() {
    for bad in [
        "",
        "2",
        "2{}",
        "2[]",
        "2[1]",
        "3[\"x\"]",
        "2[\"a\"",
        "9",
        "51-[\"up\"]",
        "2/admin",
    ] {
        assert!(SocketPacket::decode(bad).is_err(), "{bad:?} should not decode");
    }
}

#[test]
fn event_round_trips() {
    let packet = SocketPacket::Event {
        nsp: "/x".into(),
        id: Some(7),
        name: "a\"b".into(),
        args: vec![json!(null), json!([1, 2]), json!("é")],
    };
    assert_eq!(SocketPacket::decode(&packet.encode()).unwrap(), packet);
}
