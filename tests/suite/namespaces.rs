//! One simulated client, one Engine.IO session, two Socket.IO sockets: `/` and `/admin`, joined
//! over the same session as socket.io-client's Manager does, against Node's socket.io 4.8.4
//! (`tests/node/namespaces.js`) and a socketioxide server built here that serves the same.
//!
//! What must hold on each transport setting: the CONNECT to `/admin` travels in the session
//! `/` opened (one OPEN packet on the wire); a middleware's refusal comes back with its message
//! (and, from Node, its data); a namespace nobody serves is "Invalid namespace"; an emit to
//! `/admin` reaches only sockets on `/admin`, one to `/` arrives on the `/` socket; leaving
//! `/admin` keeps `/` connected.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use axum::Router;
use realtime_tutor::client::{
    ConnectError, ConnectOptions, Incoming, JoinError, Received, SimClient, Transport, WireDirection,
};
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use tokio::net::TcpListener;

use crate::common::process::Server;
use crate::common::runtime;

const WAIT: Duration = Duration::from_secs(5);

const SETTINGS: [&[Transport]; 3] = [
    &[Transport::Polling, Transport::WebSocket],
    &[Transport::WebSocket],
    &[Transport::Polling],
];

fn options(transports: &[Transport]) -> ConnectOptions {
    ConnectOptions {
        timeout: WAIT,
        transports: transports.to_vec(),
        record_wire: true,
        ..ConnectOptions::default()
    }
}

/// What the two servers are known to differ in.
struct Expect {
    /// Node sends the middleware's `err.data` in its CONNECT_ERROR; socketioxide has no data.
    refusal_data: Option<Value>,
    /// Node gives the `/admin` socket an id of its own; socketioxide reuses the session's.
    distinct_ids: bool,
    /// What a namespace nobody serves is refused with.
    unserved: &'static str,
}

/// The next item and its namespace, or a panic that says what came instead.
async fn received(client: &mut SimClient, what: &str) -> Received {
    match client.next_received(WAIT).await {
        Some(received) => received,
        None => panic!("{what}: nothing arrived within {WAIT:?}"),
    }
}

fn event(nsp: &str, name: &str, args: Vec<Value>) -> Received {
    Received {
        nsp: nsp.into(),
        item: Incoming::Event {
            name: name.into(),
            args,
        },
    }
}

/// Proves that nothing else came to `client`: its round trip's answer comes after everything
/// the server sent it before.
async fn nothing_more(client: &mut SimClient, what: &str) {
    let fence = client.round_trip().unwrap();
    tokio::time::timeout(WAIT, fence)
        .await
        .expect("the round trip")
        .unwrap();
    assert_eq!(client.try_next_received(), None, "{what}");
}

/// The whole story, against the server at `base`, over one transport setting.
async fn exercise(base: &str, setting: &[Transport], expect: &Expect) {
    let what = format!("{base} over {setting:?}");
    let mut alice = SimClient::connect(base, &options(setting)).await.unwrap();
    let mut bob = SimClient::connect(base, &options(setting)).await.unwrap();

    // Refused by the middleware, then by the server itself: only that socket is refused.
    match alice.join_namespace("/admin", None).await {
        Err(JoinError::Refused { nsp, message, data }) => {
            assert_eq!(
                (nsp.as_str(), message.as_str()),
                ("/admin", "not authorized"),
                "{what}"
            );
            assert_eq!(data, expect.refusal_data, "{what}");
        }
        other => panic!("{what}: expected the middleware's refusal, got {other:?}"),
    }
    match alice.join_namespace("/nobody", None).await {
        Err(JoinError::Refused { message, data, .. }) => {
            assert_eq!((message.as_str(), data), (expect.unserved, None), "{what}");
        }
        other => panic!("{what}: expected {:?}, got {other:?}", expect.unserved),
    }
    let joined = alice
        .join_namespace("/admin", Some(json!({"token": "s3cret"})))
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(joined.nsp, "/admin");
    assert_eq!(
        joined.sid != alice.sid,
        expect.distinct_ids,
        "{what}: {joined:?} / {}",
        alice.sid
    );
    assert_eq!(
        received(&mut alice, &what).await,
        event("/admin", "welcome admin", vec![json!(joined.sid)]),
        "{what}"
    );
    let whoami = alice.emit_with_ack_on("/admin", "whoami", vec![]).unwrap();
    let whoami = tokio::time::timeout(WAIT, whoami).await.unwrap().unwrap();
    assert_eq!(whoami, vec![json!({"id": joined.sid, "nsp": "/admin"})], "{what}");

    // io.of('/admin').emit reaches alice's /admin socket, and no socket on `/`.
    alice.emit_on("/", "shout", vec![json!("hello admins")]).unwrap();
    assert_eq!(
        received(&mut alice, &what).await,
        event("/admin", "report", vec![json!("hello admins")]),
        "{what}"
    );
    nothing_more(&mut alice, &what).await;
    nothing_more(&mut bob, &what).await;

    // io.of('/').emit, asked for on /admin, arrives on the `/` sockets.
    alice.emit_on("/admin", "announce", vec![json!("news!")]).unwrap();
    assert_eq!(
        received(&mut alice, &what).await,
        event("/", "news", vec![json!("news!")]),
        "{what}"
    );
    assert_eq!(
        received(&mut bob, &what).await,
        event("/", "news", vec![json!("news!")])
    );

    // Leaving /admin keeps `/`: it still answers, and the server has no /admin socket left.
    alice.leave_namespace("/admin").unwrap();
    assert!(matches!(
        alice.emit_on("/admin", "whoami", vec![]),
        Err(ConnectError::Other(_))
    ));
    let admins = alice.emit_with_ack("admins", vec![]).unwrap();
    let admins = tokio::time::timeout(WAIT, admins).await.unwrap().unwrap();
    assert_eq!(admins, vec![json!(0)], "{what}");

    // One session: one OPEN packet, the CONNECTs all in it.
    let wire = alice.take_wire();
    let opens = wire
        .iter()
        .filter(|f| f.direction == WireDirection::Received && f.text.starts_with("0{"))
        .count();
    assert_eq!(opens, 1, "{what}: {wire:?}");
    let connects: Vec<&str> = wire
        .iter()
        .filter(|f| f.direction == WireDirection::Sent && f.text.starts_with("40"))
        .map(|f| f.text.as_str())
        .filter(|t| !t.starts_with("40/tutor-fence-"))
        .collect();
    assert_eq!(
        connects,
        ["40", "40/admin,", "40/nobody,", r#"40/admin,{"token":"s3cret"}"#],
        "{what}"
    );
    let sent = |text: &str| {
        wire.iter()
            .any(|f| f.direction == WireDirection::Sent && f.text == text)
    };
    assert!(sent("41/admin,"), "{what}: {wire:?}");
    if std::env::var_os("SHOW_NAMESPACE_FRAMES").is_some() {
        for frame in &wire {
            eprintln!("{what} {:?} {}", frame.direction, frame.text);
        }
    }
}

#[test]
fn node_multiplexes_namespaces_over_one_session() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    let install = "the Node fixture needs `npm ci` in tests/node (scripts/test.sh does it)";
    assert!(dir.join("node_modules/socket.io").is_dir(), "{install}");
    let node = Server::start(
        Command::new("node")
            .args(["namespaces.js", "0"])
            .current_dir(&dir),
        install,
    );
    let expect = Expect {
        refusal_data: Some(json!({"reason": "no token"})),
        distinct_ids: true,
        unserved: "Invalid namespace",
    };
    runtime().block_on(async {
        for setting in SETTINGS {
            exercise(&node.url, setting, &expect).await;
        }
    });
}

#[derive(Debug)]
struct NotAuthorized;
impl std::fmt::Display for NotAuthorized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not authorized")
    }
}
impl std::error::Error for NotAuthorized {}

/// socketioxide's `io.of('/admin').use(…)`: a connect middleware, which refuses with its error's
/// message.
async fn token(TryData(auth): TryData<Value>) -> Result<(), NotAuthorized> {
    match auth {
        Ok(auth) if auth["token"] == "s3cret" => Ok(()),
        _ => Err(NotAuthorized),
    }
}

/// The socketioxide twin of `tests/node/namespaces.js`. Event handlers are registered in a
/// connect middleware, before the CONNECT reply, so a client that emits the moment it is
/// connected finds them (see `leaving_says_goodbye_on_every_namespace`).
fn socketioxide_server() -> Router {
    let (layer, io) = SocketIo::new_layer();
    let main = io.clone();
    let on_main = move |socket: SocketRef| {
        let io = main.clone();
        async move {
            let shout = io.clone();
            socket.on("shout", move |Data(msg): Data<Value>| {
                let io = shout.clone();
                async move {
                    if let Some(admin) = io.of("/admin") {
                        admin.emit("report", &msg).await.ok();
                    }
                }
            });
            socket.on("admins", move |ack: AckSender| {
                let io = io.clone();
                async move {
                    let count = io.of("/admin").map_or(0, |admin| admin.sockets().len());
                    ack.send(&count).ok();
                }
            });
            Ok::<(), std::convert::Infallible>(())
        }
    };
    io.ns("/", (async |_socket: SocketRef| {}).with(on_main));
    let admin = io.clone();
    let on_admin = move |socket: SocketRef| {
        let io = admin.clone();
        async move {
            socket.on("whoami", async |socket: SocketRef, ack: AckSender| {
                ack.send(&json!({"id": socket.id.to_string(), "nsp": socket.ns()}))
                    .ok();
            });
            socket.on("announce", move |Data(msg): Data<Value>| {
                let io = io.clone();
                async move {
                    if let Some(main) = io.of("/") {
                        main.emit("news", &msg).await.ok();
                    }
                }
            });
            Ok::<(), std::convert::Infallible>(())
        }
    };
    let welcome = async |socket: SocketRef| {
        socket.emit("welcome admin", &socket.id.to_string()).ok();
    };
    io.ns("/admin", welcome.with(token).with(on_admin));
    Router::new().layer(layer)
}

#[test]
fn socketioxide_multiplexes_namespaces_over_one_session() {
    let expect = Expect {
        refusal_data: None,
        distinct_ids: false,
        unserved: "Invalid namespace",
    };
    runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, socketioxide_server()).await });
        for setting in SETTINGS {
            exercise(&base, setting, &expect).await;
        }
    });
}

/// python-socketio greets on /admin from its `connect` handler, before the CONNECT reply: the
/// greeting is kept until the reply and then delivered on /admin, as on `/`.
#[test]
fn python_socketio_multiplexes_namespaces_over_one_session() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python");
    let python = dir.join(".venv/bin/python");
    let install = "python-socketio needs `python3 -m venv tests/python/.venv && \
                   tests/python/.venv/bin/pip install -r tests/python/requirements.txt` \
                   (scripts/test.sh does it)";
    assert!(python.is_file(), "{install}");
    let server = Server::start(
        Command::new(&python)
            .args(["namespaces.py", "0"])
            .current_dir(&dir),
        install,
    );
    let expect = Expect {
        refusal_data: Some(json!({"reason": "no token"})),
        distinct_ids: true,
        unserved: "Unable to connect",
    };
    runtime().block_on(async {
        for setting in SETTINGS {
            exercise(&server.url, setting, &expect).await;
        }
    });
}

/// `leave` says goodbye on every socket: the server hears `/admin` leave on its own
/// (`41/admin,`, "client namespace disconnect"), not a session that broke under it.
#[test]
fn leaving_says_goodbye_on_every_namespace() {
    use socketioxide::socket::DisconnectReason;
    runtime().block_on(async {
        for setting in SETTINGS {
            let (layer, io) = SocketIo::new_layer();
            let (told, mut reasons) = tokio::sync::mpsc::unbounded_channel::<DisconnectReason>();
            io.ns("/", async |_socket: SocketRef| {});
            // Registered in a connect middleware, before the CONNECT reply leaves: socketioxide
            // runs the connection handler as a task after the reply, so a client that leaves
            // at once could otherwise beat the registration (see `register_events` in
            // src/server/realtime.rs).
            let before_reply = move |socket: SocketRef| {
                let told = told.clone();
                async move {
                    socket.on_disconnect(move |reason: DisconnectReason| {
                        let told = told.clone();
                        async move {
                            told.send(reason).ok();
                        }
                    });
                    Ok::<(), std::convert::Infallible>(())
                }
            };
            io.ns("/admin", (async |_socket: SocketRef| {}).with(before_reply));
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, Router::new().layer(layer)).await });
            let mut client = SimClient::connect(&base, &options(setting)).await.unwrap();
            client.join_namespace("/admin", None).await.unwrap();
            client.leave(WAIT).await.unwrap();
            let reason = tokio::time::timeout(WAIT, reasons.recv()).await.unwrap();
            assert_eq!(reason, Some(DisconnectReason::ClientNSDisconnect), "{setting:?}");
        }
    });
}

/// The server disconnects the `/admin` socket (`41/admin,`): that socket ends, with its
/// namespace on the item, and `/` goes on.
#[test]
fn a_server_side_disconnect_ends_only_that_namespace() {
    runtime().block_on(async {
        let (layer, io) = SocketIo::new_layer();
        // Each handler is registered in a connect middleware, before the CONNECT reply (see
        // `leaving_says_goodbye_on_every_namespace`): the client emits the moment it joins.
        let main = async |socket: SocketRef| {
            socket.on("still there?", async |ack: AckSender| {
                ack.send("yes").ok();
            });
            Ok::<(), std::convert::Infallible>(())
        };
        io.ns("/", (async |_socket: SocketRef| {}).with(main));
        let admin = async |socket: SocketRef| {
            socket.on("kick me", async |socket: SocketRef| {
                socket.disconnect().ok();
            });
            Ok::<(), std::convert::Infallible>(())
        };
        io.ns("/admin", (async |_socket: SocketRef| {}).with(admin));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, Router::new().layer(layer)).await });
        for setting in SETTINGS {
            let mut client = SimClient::connect(&base, &options(setting)).await.unwrap();
            client.join_namespace("/admin", None).await.unwrap();
            client.emit_on("/admin", "kick me", vec![]).unwrap();
            match received(&mut client, "the kick").await {
                Received {
                    nsp,
                    item: Incoming::Closed { reason },
                } => {
                    assert_eq!(nsp, "/admin");
                    assert!(reason.contains("disconnected the socket"), "{reason}");
                }
                other => panic!("{setting:?}: expected /admin to close, got {other:?}"),
            }
            assert!(client.namespaces().is_empty(), "{setting:?}");
            assert!(client.emit_on("/admin", "kick me", vec![]).is_err());
            let answer = client.emit_with_ack("still there?", vec![]).unwrap();
            let answer = tokio::time::timeout(WAIT, answer).await.unwrap().unwrap();
            assert_eq!(answer, vec![json!("yes")], "{setting:?}");
        }
    });
}
