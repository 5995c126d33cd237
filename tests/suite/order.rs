//! One order per server, as Node has it (see src/server/order.rs): one client's messages reach
//! every other client in the order it sent them, and messages from several clients reach every
//! client in one and the same order.

use std::time::Duration;

use realtime_tutor::client::{ConnectOptions, Incoming, SimClient};
use realtime_tutor::server::{Behaviour, Mount, ServerEvent, StageServer, http};
use serde_json::{Value, json};

use crate::common::runtime;

const WAIT: Duration = Duration::from_secs(10);

/// A chat server (`io.emit('chat message', msg)`) and `n` clients connected to it.
async fn chat_with(n: usize) -> (StageServer, Vec<SimClient>) {
    let behaviour = Behaviour::default().with("chat message", "io-emit-chat").unwrap();
    let listener = http::bind("127.0.0.1", 0).await.expect("bind");
    let mut server = StageServer::start(Mount::Realtime, behaviour, Some(listener)).expect("start");
    let url = format!("http://{}", server.addr().expect("listening"));
    let mut clients = Vec::new();
    for _ in 0..n {
        let client = SimClient::connect(&url, &ConnectOptions::default())
            .await
            .expect("connects");
        // Its handlers exist once the connection handler has reported.
        loop {
            match tokio::time::timeout(WAIT, server.next_event()).await {
                Ok(Some(ServerEvent::Connected { sid, .. })) if sid == client.sid => break,
                Ok(Some(_)) => continue,
                other => panic!("waited {WAIT:?} for the connection handler: {other:?}"),
            }
        }
        clients.push(client);
    }
    (server, clients)
}

/// Reads `count` chat messages from `client`, in arrival order.
async fn read(client: &mut SimClient, count: usize) -> Vec<Value> {
    let mut got = Vec::new();
    while got.len() < count {
        match client.next(WAIT).await {
            Some(Incoming::Event { name, mut args }) if name == "chat message" => got.push(args.remove(0)),
            Some(Incoming::Event { .. }) => {}
            other => panic!("after {} of {count} messages: {other:?}", got.len()),
        }
    }
    got
}

#[test]
fn one_clients_hundred_messages_arrive_in_order_at_every_client() {
    let rt = runtime();
    for run in 1..=30 {
        rt.block_on(async {
            let (server, mut clients) = chat_with(3).await;
            for n in 0..100 {
                clients[0].emit("chat message", vec![json!(n)]).expect("queued");
            }
            let sent: Vec<Value> = (0..100).map(|n| json!(n)).collect();
            for (i, client) in clients.iter_mut().enumerate() {
                let got = read(client, 100).await;
                assert_eq!(got, sent, "run {run}: client {i} got the messages out of order");
            }
            server.stop().await;
        });
    }
}

#[test]
fn messages_from_several_clients_reach_everyone_in_one_order() {
    let rt = runtime();
    for run in 1..=30 {
        rt.block_on(async {
            let (server, mut clients) = chat_with(4).await;
            for n in 0..25 {
                for (i, client) in clients.iter().enumerate() {
                    client
                        .emit("chat message", vec![json!(format!("{i}:{n}"))])
                        .expect("queued");
                }
            }
            let mut orders = Vec::new();
            for client in clients.iter_mut() {
                orders.push(read(client, 100).await);
            }
            for (i, order) in orders.iter().enumerate() {
                assert_eq!(
                    *order, orders[0],
                    "run {run}: client {i} saw another order than client 0"
                );
            }
            // And each sender's own messages keep the order it sent them in.
            for i in 0..4 {
                let mine: Vec<&Value> = orders[0]
                    .iter()
                    .filter(|v| v.as_str().is_some_and(|s| s.starts_with(&format!("{i}:"))))
                    .collect();
                let sent: Vec<Value> = (0..25).map(|n| json!(format!("{i}:{n}"))).collect();
                assert_eq!(mine, sent.iter().collect::<Vec<_>>(), "run {run}: sender {i}");
            }
            server.stop().await;
        });
    }
}
