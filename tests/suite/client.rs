//! The simulated client against small socketioxide servers built here: acknowledgements, the
//! heartbeat, CONNECT_ERROR, disconnects, and servers that do not speak Socket.IO; each over the
//! three `transports` settings (`polling` then `websocket` as `io()` does, `websocket` only,
//! `polling` only), plus the upgrade itself, order across it, binary attachments, and the stage
//! server the lessons use.

use std::time::Duration;

use axum::Router;
use realtime_tutor::client::{ConnectError, ConnectOptions, Incoming, SimClient, Transport, WireDirection};
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::handler::ConnectHandler;
use tokio::net::TcpListener;

use crate::common::{connect_when_ready, runtime};

const WAIT: Duration = Duration::from_secs(5);

/// Serves `router` on a free loopback port and returns its base URL.
async fn serve(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

/// The three `transports` settings of socket.io-client that matter.
const SETTINGS: [&[Transport]; 3] = [
    &[Transport::Polling, Transport::WebSocket],
    &[Transport::WebSocket],
    &[Transport::Polling],
];

/// Options for one transport setting, with the frame log on (these tests read it).
fn options_for(transports: &[Transport]) -> ConnectOptions {
    ConnectOptions {
        timeout: WAIT,
        transports: transports.to_vec(),
        record_wire: true,
        ..ConnectOptions::default()
    }
}

/// The default setting, as `io()` connects.
fn options() -> ConnectOptions {
    options_for(SETTINGS[0])
}

#[test]
fn acknowledgements_come_back_with_their_id() {
    runtime().block_on(async {
        let (layer, io) = SocketIo::new_layer();
        io.ns("/", async |socket: SocketRef| {
            socket.on("echo", async |Data(value): Data<Value>, ack: AckSender| {
                ack.send(&("echoed", value)).ok();
            });
            socket.emit("ready", &()).ok();
        });
        let base = serve(Router::new().layer(layer)).await;
        for setting in SETTINGS {
            let mut client = connect_when_ready(&base, &options_for(setting)).await;
            for round in 0..3 {
                let answer = client
                    .emit_with_ack("echo", vec![json!({"round": round})])
                    .unwrap();
                let answer = tokio::time::timeout(WAIT, answer)
                    .await
                    .expect("the ack arrives")
                    .unwrap();
                assert_eq!(answer, vec![json!("echoed"), json!({"round": round})]);
            }
            let wire: Vec<String> = client.take_wire().into_iter().map(|f| f.text).collect();
            assert!(
                wire.contains(&r#"422["echo",{"round":2}]"#.to_owned()),
                "{wire:?}"
            );
            assert!(
                wire.contains(&r#"432["echoed",{"round":2}]"#.to_owned()),
                "{wire:?}"
            );
        }
    });
}

#[test]
fn the_client_answers_every_ping_and_stays_connected() {
    runtime().block_on(async {
        let (layer, io) = SocketIo::builder()
            .ping_interval(Duration::from_millis(20))
            .ping_timeout(Duration::from_millis(200))
            .build_layer();
        io.ns("/", async |socket: SocketRef| {
            socket.on("ping me", async |ack: AckSender| {
                ack.send("still here").ok();
            });
            socket.emit("ready", &()).ok();
        });
        let base = serve(Router::new().layer(layer)).await;
        for setting in SETTINGS {
            let mut client = connect_when_ready(&base, &options_for(setting)).await;
            assert_eq!(client.open.ping_interval, 20);
            // Wait (bounded) until the server has pinged three times and each ping got its pong.
            let mut frames = Vec::new();
            let deadline = tokio::time::Instant::now() + WAIT;
            while frames
                .iter()
                .filter(|f: &&realtime_tutor::client::WireFrame| f.text == "3")
                .count()
                < 3
            {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "three heartbeats within {WAIT:?}: {frames:?}"
                );
                if let Some(item) = client.next(Duration::from_millis(50)).await {
                    panic!("unexpected {item:?}");
                }
                frames.extend(client.take_wire());
            }
            let pings = frames
                .iter()
                .filter(|f| f.direction == WireDirection::Received && f.text == "2")
                .count();
            let pongs = frames
                .iter()
                .filter(|f| f.direction == WireDirection::Sent && f.text == "3")
                .count();
            assert!(pings >= 3 && pongs >= 3, "{frames:?}");
            // Many ping timeouts later, the session is alive: an acknowledged round trip proves it.
            let answer = client.emit_with_ack("ping me", vec![]).unwrap();
            let answer = tokio::time::timeout(WAIT, answer).await.unwrap().unwrap();
            assert_eq!(answer, vec![json!("still here")]);
        }
    });
}

#[derive(Debug)]
struct NotInvited;
impl std::fmt::Display for NotInvited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not invited")
    }
}
impl std::error::Error for NotInvited {}

#[test]
fn a_refused_connect_is_reported_with_the_servers_reason() {
    runtime().block_on(async {
        let (layer, io) = SocketIo::new_layer();
        async fn handler(_socket: SocketRef) {}
        async fn refuse(_socket: SocketRef) -> Result<(), NotInvited> {
            Err(NotInvited)
        }
        io.ns("/", handler.with(refuse));
        let base = serve(Router::new().layer(layer)).await;
        for setting in SETTINGS {
            match SimClient::connect(&base, &options_for(setting)).await {
                // socketioxide's middleware refusal carries a message only, no `data`.
                Err(ConnectError::Refused44 { message, data }) => {
                    assert_eq!(message, "not invited");
                    assert_eq!(data, None);
                }
                other => panic!("expected CONNECT_ERROR, got {other:?}"),
            }
        }
    });
}

#[test]
fn a_server_side_disconnect_reaches_the_client() {
    runtime().block_on(async {
        let (layer, io) = SocketIo::new_layer();
        io.ns("/", async |socket: SocketRef| {
            socket.on("bye", async |socket: SocketRef| {
                socket.disconnect().ok();
            });
            socket.emit("ready", &()).ok();
        });
        let base = serve(Router::new().layer(layer)).await;
        for setting in SETTINGS {
            let mut client = connect_when_ready(&base, &options_for(setting)).await;
            client.emit("bye", vec![]).unwrap();
            match client.next(WAIT).await {
                Some(Incoming::Closed { reason }) => assert!(reason.contains("disconnect"), "{reason}"),
                other => panic!("expected the disconnect, got {other:?}"),
            }
        }
    });
}

#[test]
fn servers_that_do_not_speak_socket_io_are_named_as_such() {
    runtime().block_on(async {
        // An HTTP server without Socket.IO: the upgrade gets an ordinary 404.
        let base = serve(Router::new()).await;
        for setting in SETTINGS {
            match SimClient::connect(&base, &options_for(setting)).await {
                Err(ConnectError::HttpStatus { status, .. }) => assert_eq!(status, "404 Not Found"),
                other => panic!("{other:?}"),
            }
        }
        // A plain WebSocket server that greets with something else than an Engine.IO OPEN.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            use futures_util::SinkExt;
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            ws.send(tokio_tungstenite::tungstenite::Message::text("hello there"))
                .await
                .unwrap();
            futures_util::future::pending::<()>().await;
        });
        let websocket = options_for(&[Transport::WebSocket]);
        match SimClient::connect(&format!("http://{addr}"), &websocket).await {
            Err(ConnectError::NotEngineIo(first)) => assert_eq!(first, "hello there"),
            other => panic!("{other:?}"),
        }
        // A listener that accepts and never answers: the wait is bounded and says what it awaited.
        let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = silent.local_addr().unwrap();
        tokio::spawn(async move {
            let _held = silent.accept().await;
            futures_util::future::pending::<()>().await;
        });
        let short = ConnectOptions {
            timeout: Duration::from_millis(300),
            ..ConnectOptions::websocket_only()
        };
        match SimClient::connect(&format!("http://{addr}"), &short).await {
            Err(e @ ConnectError::Timeout { .. }) => assert!(e.to_string().contains("HTTP 101"), "{e}"),
            other => panic!("{other:?}"),
        }
        let short = ConnectOptions {
            timeout: Duration::from_millis(300),
            ..ConnectOptions::default()
        };
        match SimClient::connect(&format!("http://{addr}"), &short).await {
            Err(e @ ConnectError::Timeout { .. }) => {
                assert!(
                    e.to_string()
                        .contains("polling handshake GET /socket.io/?EIO=4&transport=polling"),
                    "{e}"
                )
            }
            other => panic!("{other:?}"),
        }
        // An HTTP server whose answer to the polling GET is not an Engine.IO OPEN packet.
        let plain =
            serve(Router::new().route("/socket.io/", axum::routing::get(async || "hello there"))).await;
        match SimClient::connect(&plain, &options()).await {
            Err(ConnectError::NotEngineIo(first)) => assert_eq!(first, "hello there"),
            other => panic!("{other:?}"),
        }
    });
}

/// `io()`'s path, frame by frame: the polling handshake as plain HTTP requests, the CONNECT over
/// a POST and a GET, then the WebSocket for the same session, probed and upgraded.
#[test]
fn the_default_client_starts_with_polling_and_upgrades() {
    runtime().block_on(async {
        let (layer, io) = SocketIo::new_layer();
        io.ns("/", async |socket: SocketRef| {
            socket.on("echo", async |Data(value): Data<Value>, ack: AckSender| {
                ack.send(&value).ok();
            });
            socket.emit("ready", &()).ok();
        });
        let base = serve(Router::new().layer(layer)).await;
        let mut client = connect_when_ready(&base, &options()).await;
        assert_eq!(client.transport(), Transport::WebSocket, "upgraded");
        let sid = client.open.sid.clone();
        let wire: Vec<(WireDirection, String)> = client
            .take_wire()
            .into_iter()
            .map(|f| (f.direction, f.text.replace(&sid, "<sid>")))
            .filter(|(_, text)| text != "2" && text != "3")
            .collect();
        let text: Vec<&str> = wire.iter().map(|(_, t)| t.as_str()).collect();
        let at = |needle: &str| {
            text.iter()
                .position(|t| t.starts_with(needle))
                .unwrap_or_else(|| panic!("{needle:?} is not on the wire: {text:#?}"))
        };
        let order = [
            at("HTTP GET /socket.io/?EIO=4&transport=polling"),
            at("0{\"sid\":\"<sid>\",\"upgrades\":[\"websocket\"]"),
            at("HTTP POST /socket.io/?EIO=4&transport=polling&sid=<sid>"),
            at("40"),
            at("40{\"sid\":"),
            at("HTTP GET /socket.io/?EIO=4&transport=websocket&sid=<sid> (Upgrade: websocket)"),
            at("HTTP 101 Switching Protocols"),
            at("2probe"),
            at("3probe"),
            at("5"),
        ];
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?} in {text:#?}");
        assert!(text.contains(&"HTTP 200 OK"), "{text:#?}");
        // After the upgrade, an acknowledged round trip travels as WebSocket frames.
        let answer = client.emit_with_ack("echo", vec![json!("over ws")]).unwrap();
        let answer = tokio::time::timeout(WAIT, answer).await.unwrap().unwrap();
        assert_eq!(answer, vec![json!("over ws")]);
        let after: Vec<String> = client.take_wire().into_iter().map(|f| f.text).collect();
        assert!(after.iter().all(|t| !t.starts_with("HTTP")), "{after:?}");
        // Without record_wire (the default), the client keeps no frames at all.
        let unrecorded = ConnectOptions {
            record_wire: false,
            ..options()
        };
        let mut quiet = connect_when_ready(&base, &unrecorded).await;
        let answer = quiet.emit_with_ack("echo", vec![json!(1)]).unwrap();
        tokio::time::timeout(WAIT, answer).await.unwrap().unwrap();
        assert!(quiet.take_wire().is_empty());
    });
}

/// Events the server sends while the client is switching transports arrive once each, in the
/// order they were sent: the polling transport is drained before the upgrade, the server sends
/// what it queued meanwhile over the WebSocket.
#[test]
fn nothing_is_lost_or_reordered_across_the_upgrade() {
    runtime().block_on(async {
        let (layer, io) = SocketIo::new_layer();
        io.ns("/", async |socket: SocketRef| {
            // Emitted from a task while the handshake and upgrade are under way. Fewer than
            // socketioxide's per-socket buffer (128 packets): while the client is not reading,
            // the buffer fills and a further emit fails on the server (its own limit, not a loss
            // of the client's).
            tokio::spawn(async move {
                for n in 0..100 {
                    socket.emit("n", &n).ok();
                    if n % 20 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            });
        });
        let base = serve(Router::new().layer(layer)).await;
        for setting in SETTINGS {
            let mut client = SimClient::connect(&base, &options_for(setting)).await.unwrap();
            for expected in 0..100 {
                match client.next(WAIT).await {
                    Some(Incoming::Event { name, args }) if name == "n" => {
                        assert_eq!(args, vec![json!(expected)], "{setting:?}")
                    }
                    other => panic!("{setting:?}: expected n={expected}, got {other:?}"),
                }
            }
        }
    });
}

/// Bytes a socketioxide handler emits as binary (serde's `serialize_bytes`).
struct Binary(&'static [u8]);
impl serde::Serialize for Binary {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// A binary emit (`451-` and one attachment: a binary WebSocket message, or a `b<base64>`
/// record in a polling body) arrives as a visible description of its bytes.
#[test]
fn binary_attachments_arrive_as_a_description_of_the_bytes() {
    runtime().block_on(async {
        let (layer, io) = SocketIo::new_layer();
        io.ns("/", async |socket: SocketRef| {
            socket.on("send file", async |socket: SocketRef| {
                socket.emit("file", &("caption", Binary(b"hi"))).ok();
            });
            socket.emit("ready", &()).ok();
        });
        let base = serve(Router::new().layer(layer)).await;
        for setting in SETTINGS {
            let mut client = connect_when_ready(&base, &options_for(setting)).await;
            client.emit("send file", vec![]).unwrap();
            match client.next(WAIT).await {
                Some(Incoming::Event { name, args }) => {
                    assert_eq!(name, "file");
                    assert_eq!(
                        args,
                        vec![
                            json!("caption"),
                            json!({"binary": {"length": 2, "hex": "6869", "utf8": "hi"}})
                        ],
                        "{setting:?}"
                    );
                }
                other => panic!("{setting:?}: {other:?}"),
            }
            let wire: Vec<String> = client.take_wire().into_iter().map(|f| f.text).collect();
            assert!(
                wire.iter()
                    .any(|t| t.starts_with("451-[\"file\",\"caption\",{\"_placeholder\":true")),
                "{wire:?}"
            );
            assert!(wire.contains(&"<2 binary bytes>".to_owned()), "{wire:?}");
        }
    });
}

/// The stage server the lessons run (a chat with `io.emit`), over each transport setting: two
/// clients, one message, both receive it, then a fence proves nothing else is on its way.
#[test]
fn the_stage_server_serves_every_transport_setting() {
    use realtime_tutor::server::{Behaviour, FENCE_EVENT, Mount, ServerEvent, StageServer, http};
    runtime().block_on(async {
        for setting in SETTINGS {
            let behaviour = Behaviour::default().with("chat message", "io-emit-chat").unwrap();
            let listener = http::bind("127.0.0.1", 0).await.unwrap();
            let mut stage = StageServer::start(Mount::Realtime, behaviour, Some(listener)).unwrap();
            let base = format!("http://{}", stage.addr().unwrap());
            let mut clients = Vec::new();
            for _ in 0..2 {
                let client = SimClient::connect(&base, &options_for(setting)).await.unwrap();
                loop {
                    match tokio::time::timeout(WAIT, stage.next_event()).await {
                        Ok(Some(ServerEvent::Connected { sid, .. })) if sid == client.sid => break,
                        Ok(Some(_)) => {}
                        other => panic!("{setting:?}: the connection handler did not report: {other:?}"),
                    }
                }
                clients.push(client);
            }
            clients[0].emit("chat message", vec![json!("hi")]).unwrap();
            loop {
                match tokio::time::timeout(WAIT, stage.next_event()).await {
                    Ok(Some(ServerEvent::Handled { .. })) => break,
                    Ok(Some(_)) => {}
                    other => panic!("{setting:?}: the chat handler did not report: {other:?}"),
                }
            }
            stage.fence(1).await.unwrap();
            for client in &mut clients {
                let mut got = Vec::new();
                loop {
                    match client.next(WAIT).await {
                        Some(Incoming::Event { name, .. }) if name == FENCE_EVENT => break,
                        Some(Incoming::Event { name, args }) => got.push((name, args)),
                        other => panic!("{setting:?}: {other:?}"),
                    }
                }
                assert_eq!(
                    got,
                    vec![("chat message".to_owned(), vec![json!("hi")])],
                    "{setting:?}"
                );
            }
            for client in clients {
                client.leave(WAIT).await.unwrap();
            }
            stage.stop().await;
        }
    });
}

/// A server that offers the upgrade and then refuses the WebSocket keeps the session on polling,
/// as socket.io-client does, and `--wire` says that the upgrade failed.
#[test]
fn a_refused_upgrade_leaves_the_session_on_polling() {
    use axum::extract::RawQuery;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    runtime().block_on(async {
        let connected = Arc::new(AtomicBool::new(false));
        let answer = move |RawQuery(query): RawQuery| {
            let connected = connected.clone();
            async move {
                let query = query.unwrap_or_default();
                if query.contains("transport=websocket") {
                    return (
                        axum::http::StatusCode::BAD_REQUEST,
                        r#"{"code":0,"message":"Transport unknown"}"#.to_owned(),
                    );
                }
                let body = if !query.contains("sid=") {
                    r#"0{"sid":"p","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#
                } else if !connected.swap(true, Ordering::SeqCst) {
                    "40{\"sid\":\"s\"}\x1e42[\"after\",1]"
                } else {
                    std::future::pending::<()>().await;
                    unreachable!()
                };
                (axum::http::StatusCode::OK, body.to_owned())
            }
        };
        let app = Router::new().route("/socket.io/", axum::routing::get(answer).post(async || "ok"));
        let base = serve(app).await;
        let mut client = SimClient::connect(&base, &options()).await.unwrap();
        assert_eq!(client.transport(), Transport::Polling);
        let wire: Vec<String> = client.take_wire().into_iter().map(|f| f.text).collect();
        assert!(
            wire.iter().any(|t| t.starts_with(
                "[upgrade to WebSocket failed, staying on polling: the server answered 400 Bad Request"
            )),
            "{wire:?}"
        );
        // The event that came in the same body as the CONNECT reply is delivered, after it.
        match client.next(WAIT).await {
            Some(Incoming::Event { name, args }) => {
                assert_eq!((name.as_str(), args), ("after", vec![json!(1)]))
            }
            other => panic!("{other:?}"),
        }
    });
}

/// A DISCONNECT in the same polling body as the CONNECT reply is the client's first item.
#[test]
fn a_disconnect_right_behind_the_connect_reply_is_delivered() {
    runtime().block_on(async {
        let answer = async |axum::extract::RawQuery(query): axum::extract::RawQuery| {
            if query.unwrap_or_default().contains("sid=") {
                "40{\"sid\":\"s\"}\x1e42[\"bye\"]\x1e41"
            } else {
                r#"0{"sid":"p","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#
            }
        };
        let app = Router::new().route("/socket.io/", axum::routing::get(answer).post(async || "ok"));
        let base = serve(app).await;
        let mut client = SimClient::connect(&base, &options()).await.unwrap();
        assert_eq!(
            client.next(WAIT).await,
            Some(Incoming::Event {
                name: "bye".into(),
                args: vec![]
            })
        );
        match client.next(WAIT).await {
            Some(Incoming::Closed { reason }) => {
                assert!(reason.contains("disconnected the socket"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    });
}

/// Over polling, what is queued meanwhile goes in one POST, but never more than the server's
/// `maxPayload` (socketioxide refuses a longer body and closes the session): messages sent back
/// to back all arrive.
#[test]
fn polling_posts_stay_within_the_servers_max_payload() {
    runtime().block_on(async {
        let (layer, io) = SocketIo::builder().max_payload(300).build_layer();
        io.ns("/", async |socket: SocketRef| {
            socket.on("say", async |socket: SocketRef, Data(value): Data<Value>| {
                socket.emit("said", &value).ok();
            });
            socket.emit("ready", &()).ok();
        });
        let base = serve(Router::new().layer(layer)).await;
        let mut client = connect_when_ready(&base, &options_for(&[Transport::Polling])).await;
        assert_eq!(client.open.max_payload, Some(300));
        let line = "x".repeat(100);
        for n in 0..20 {
            client.emit("say", vec![json!(format!("{n} {line}"))]).unwrap();
        }
        // All of them, once each. (Not checked: their order. socketioxide runs each handler as
        // a task of its own, so its answers may interleave; that is the server's doing.)
        let mut said = Vec::new();
        for n in 0..20 {
            match client.next(WAIT).await {
                Some(Incoming::Event { name, args }) if name == "said" => said.push(args),
                other => panic!("message {n}: {other:?}"),
            }
        }
        let mut sent: Vec<Vec<Value>> = (0..20).map(|n| vec![json!(format!("{n} {line}"))]).collect();
        sent.sort_by_key(|a| a[0].to_string());
        said.sort_by_key(|a| a[0].to_string());
        assert_eq!(said, sent);
        let posts = client
            .take_wire()
            .iter()
            .filter(|f| f.text.starts_with("HTTP POST"))
            .count();
        assert!(
            posts >= 10,
            "20 messages of ~120 bytes need at least 10 POSTs of 300: {posts}"
        );
    });
}
