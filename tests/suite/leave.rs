//! A simulated client that leaves says goodbye (`41`, then a WebSocket Close), so the server sees
//! a socket that left, not a connection that broke. Checked where it shows: the reason
//! socketioxide hands to `socket.on_disconnect`.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use realtime_tutor::client::{ConnectOptions, SimClient};
use realtime_tutor::server::handlers::broadcast::NO_ARGS;
use socketioxide::SocketIo;
use socketioxide::extract::SocketRef;
use socketioxide::socket::DisconnectReason;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::common::{COMMAND_LIMIT, run_bounded, runtime};

const WAIT: Duration = Duration::from_secs(5);

/// A socketioxide server that reports every disconnect reason on a channel and counts
/// connections. With `broadcast`, each connection runs `socket.broadcast.emit('hi')` (lesson 2);
/// otherwise it emits `ready` to the newcomer once its handlers are registered (socketioxide
/// answers CONNECT before its connection handler runs, see "How the tutor knows what the server did" in src/server/mod.rs).
async fn reporting_server(
    broadcast: bool,
) -> (
    String,
    mpsc::UnboundedReceiver<DisconnectReason>,
    Arc<AtomicUsize>,
) {
    let (reasons, reported) = mpsc::unbounded_channel();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    let (layer, io) = SocketIo::new_layer();
    io.ns("/", async move |socket: SocketRef| {
        counted.fetch_add(1, Ordering::SeqCst);
        let reasons = reasons.clone();
        socket.on_disconnect(async move |reason: DisconnectReason| {
            let _ = reasons.send(reason);
        });
        if broadcast {
            socket.broadcast().emit("hi", &NO_ARGS).await.ok();
        } else {
            socket.emit("ready", &NO_ARGS).ok();
        }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, Router::new().layer(layer)).await });
    (format!("http://{addr}"), reported, connections)
}

async fn connect_when_ready(base: &str) -> SimClient {
    let options = ConnectOptions {
        timeout: WAIT,
        ..ConnectOptions::default()
    };
    crate::common::connect_when_ready(base, &options).await
}

async fn next_reason(reported: &mut mpsc::UnboundedReceiver<DisconnectReason>) -> DisconnectReason {
    tokio::time::timeout(WAIT, reported.recv())
        .await
        .expect("the server reports the disconnect")
        .expect("the server is running")
}

#[test]
fn a_client_that_leaves_is_a_namespace_disconnect_for_the_server() {
    runtime().block_on(async {
        let (base, mut reported, _) = reporting_server(false).await;

        let polite = connect_when_ready(&base).await;
        polite.leave(WAIT).await.expect("the goodbye completes");
        assert_eq!(
            next_reason(&mut reported).await,
            DisconnectReason::ClientNSDisconnect
        );

        // The contrast: a client dropped without a goodbye looks like a broken connection.
        let abrupt = connect_when_ready(&base).await;
        drop(abrupt);
        let reason = next_reason(&mut reported).await;
        assert!(
            matches!(
                reason,
                DisconnectReason::TransportClose | DisconnectReason::TransportError
            ),
            "{reason:?}"
        );
    });
}

#[test]
fn check_leaves_the_learners_server_politely() {
    let rt = runtime();
    let (base, mut reported, connections) = rt.block_on(reporting_server(true));
    let out = run_bounded(
        Command::new(env!("CARGO_BIN_EXE_realtime-tutor"))
            .args(["check", "2", "--url", &base, "--color", "never"]),
        COMMAND_LIMIT,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let connected = connections.load(Ordering::SeqCst);
    assert!(connected >= 4, "{connected} connections:\n{stdout}");
    rt.block_on(async {
        for _ in 0..connected {
            assert_eq!(
                next_reason(&mut reported).await,
                DisconnectReason::ClientNSDisconnect
            );
        }
    });
}
