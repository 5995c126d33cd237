//! Lesson 10's server: a Socket.IO server with nothing but the main namespace, and the three
//! ways of sending one message to everyone that the lesson measures.
//!
//! It has no handlers and no reports: lesson 10's measurements run the emits themselves, from the
//! tutor's side of the server, so that the clock starts at the very call (`io.emit(…)`) and
//! nothing of the tutor's observation plumbing (fences, reports, the tally) is on the path being
//! measured. What the learner reads are the three regions below.
//!
//! What socketioxide 0.18 does with each (read in its source, `ns.rs`, `socket.rs`, and
//! socketioxide-core's `adapter/mod.rs`):
//!
//! * `io.emit`: the adapter picks the sockets, the packet is encoded **once** into a string
//!   (`parser.encode(packet)`), and each socket gets a clone of it, which is a reference count,
//!   not a copy of the bytes. Each socket's writer task then frames it for its own WebSocket.
//! * `io.volatile().emit`: the same single encoding, but each socket gets it through a second
//!   channel that holds **one** value (a `watch`): a message the writer has not picked up yet is
//!   replaced by the next. A socket whose writer is stuck on a slow reader keeps only the last.
//! * `socket.emit` in a loop over the sockets: one encoding per socket.

use std::net::SocketAddr;

use serde::Serialize;
use socketioxide::SocketIo;
use socketioxide::extract::SocketRef;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{app, http};

/// A running lesson 10 server; [`FanoutServer::stop`] ends it.
#[derive(Debug)]
pub struct FanoutServer {
    pub io: SocketIo,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl FanoutServer {
    /// Starts the server on `listener`: the lessons' app with Socket.IO attached, and a main
    /// namespace whose connection handler does nothing.
    pub fn start(listener: TcpListener) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let (layer, io) = SocketIo::new_layer();
        io.ns("/", async |_socket: SocketRef| {});
        let router = app::app().layer(layer);
        let (tx, rx) = oneshot::channel();
        let stop = async {
            let _ = rx.await;
        };
        let task = tokio::spawn(http::serve(listener, router, stop));
        Ok(Self {
            io,
            addr,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many sockets are connected to the main namespace now.
    pub fn connected(&self) -> usize {
        self.io.sockets().len()
    }

    /// Closes every connection (bounded: a client that stopped reading cannot hold it up) and
    /// waits for the server task to end.
    pub async fn stop(mut self) {
        let _ = tokio::time::timeout(std::time::Duration::from_millis(300), self.io.close()).await;
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), task).await;
        }
    }
}

// ANCHOR: io_emit
/// `io.emit('chat message', msg)`: encoded once, queued for every socket.
pub async fn io_emit<T: Serialize + ?Sized>(io: &SocketIo, event: &str, msg: &T) -> Result<(), String> {
    io.emit(event, msg).await.map_err(|e| e.to_string())
}
// ANCHOR_END: io_emit

// ANCHOR: volatile_emit
/// `io.volatile.emit('flash', n)`: a socket whose writer is busy keeps only the latest volatile
/// message; the ones before it are dropped.
pub async fn volatile_emit<T: Serialize + ?Sized>(io: &SocketIo, event: &str, msg: &T) -> Result<(), String> {
    io.volatile().emit(event, msg).await.map_err(|e| e.to_string())
}
// ANCHOR_END: volatile_emit

// ANCHOR: each_socket_emit
/// `for (const s of io.sockets.sockets.values()) s.emit('chat message', msg);`: the same
/// frames, but each `socket.emit` serialises `msg` and encodes the packet again.
pub fn each_socket_emit<T: Serialize + ?Sized>(io: &SocketIo, event: &str, msg: &T) -> Result<(), String> {
    for socket in io.sockets() {
        socket.emit(event, msg).map_err(|e| e.to_string())?;
    }
    Ok(())
}
// ANCHOR_END: each_socket_emit
