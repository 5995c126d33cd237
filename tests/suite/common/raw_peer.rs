//! A WebSocket server written by hand (tokio-tungstenite, no Socket.IO library), so a test can
//! break the protocol in exactly the one way it is about.

use std::future::Future;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

/// One upgraded connection of a raw peer.
pub type Ws = WebSocketStream<TcpStream>;

/// The Engine.IO OPEN packet a raw peer greets with: no upgrades, and heartbeats far apart, so
/// no ping interferes with what the test sends.
pub const OPEN: &str = r#"0{"sid":"raw","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#;

/// The Socket.IO CONNECT reply for the default namespace.
pub const CONNECTED: &str = r#"40{"sid":"raw"}"#;

/// Binds a free loopback port and hands every connection, once upgraded to WebSocket, to
/// `peer` on a task of its own. Returns the base URL to give the client.
pub async fn serve<F, Fut>(peer: F) -> String
where
    F: Fn(Ws) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = Arc::new(peer);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let peer = peer.clone();
            // Each upgrade on a task of its own, so one slow client cannot hold up the next.
            tokio::spawn(async move {
                if let Ok(ws) = tokio_tungstenite::accept_async(tcp).await {
                    peer(ws).await;
                }
            });
        }
    });
    format!("http://{addr}")
}

/// Opens the Engine.IO session ([`OPEN`]) and reads the client's CONNECT (`40`); false when the
/// client has gone.
pub async fn open_session(ws: &mut Ws) -> bool {
    if ws.send(Message::text(OPEN)).await.is_err() {
        return false;
    }
    ws.next().await.is_some()
}
