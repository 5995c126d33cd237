//! The simulated client against small socketioxide servers built here: acknowledgements, the
//! heartbeat, CONNECT_ERROR, disconnects, and servers that do not speak Socket.IO.

use std::time::Duration;

use axum::Router;
use realtime_tutor::client::{ConnectError, ConnectOptions, Incoming, SimClient, WireDirection};
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::handler::ConnectHandler;
use tokio::net::TcpListener;

use crate::common::runtime;

const WAIT: Duration = Duration::from_secs(5);

/// Serves `router` on a free loopback port and returns its base URL.
async fn serve(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

fn options() -> ConnectOptions {
    ConnectOptions {
        timeout: WAIT,
        ..ConnectOptions::default()
    }
}

/// socketioxide answers CONNECT before its connection handler has registered `socket.on(…)`
/// (the connect race in PROTOCOL.md), so these servers emit `ready` at the end of the handler and
/// the client waits for it before emitting.
async fn connect_when_ready(base: &str) -> SimClient {
    let mut client = SimClient::connect(base, &options()).await.unwrap();
    match client.next(WAIT).await {
        Some(Incoming::Event { name, .. }) if name == "ready" => client,
        other => panic!("expected the ready event, got {other:?}"),
    }
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
        let mut client = connect_when_ready(&base).await;
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
        let mut client = connect_when_ready(&base).await;
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
        match SimClient::connect(&base, &options()).await {
            Err(ConnectError::Refused44(message)) => assert_eq!(message, "not invited"),
            other => panic!("expected CONNECT_ERROR, got {other:?}"),
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
        let mut client = connect_when_ready(&base).await;
        client.emit("bye", vec![]).unwrap();
        match client.next(WAIT).await {
            Some(Incoming::Closed { reason }) => assert!(reason.contains("disconnect"), "{reason}"),
            other => panic!("expected the disconnect, got {other:?}"),
        }
    });
}

#[test]
fn servers_that_do_not_speak_socket_io_are_named_as_such() {
    runtime().block_on(async {
        // An HTTP server without Socket.IO: the upgrade gets an ordinary 404.
        let base = serve(Router::new()).await;
        match SimClient::connect(&base, &options()).await {
            Err(ConnectError::HttpStatus { status, .. }) => assert_eq!(status, "404 Not Found"),
            other => panic!("{other:?}"),
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
        match SimClient::connect(&format!("http://{addr}"), &options()).await {
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
            ..ConnectOptions::default()
        };
        match SimClient::connect(&format!("http://{addr}"), &short).await {
            Err(e @ ConnectError::Timeout { .. }) => assert!(e.to_string().contains("HTTP 101"), "{e}"),
            other => panic!("{other:?}"),
        }
    });
}
