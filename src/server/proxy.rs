//! A small reverse proxy in front of a server, the way nginx sits in front of Node (lesson 9).
//!
//! HTTP/1.1 calls `Connection` and `Upgrade` *hop-by-hop* headers: they speak about one TCP
//! connection, between two neighbours, so a proxy does not pass them on unless told to. That is
//! exactly what turns a WebSocket away behind nginx's defaults: the browser asks nginx for
//! `Upgrade: websocket`, nginx forwards a plain GET, and Node's Socket.IO server answers it with
//! `400 {"code":3,"message":"Bad request"}` (a WebSocket request that is not one). socketioxide
//! answers `101` all the same, which a proxy that did not ask for the switch cannot carry on:
//! this one answers the page `502 Bad Gateway`. Either way the WebSocket fails, and the client
//! keeps its long-polling session, which works through any proxy, and says nothing. nginx needs
//! three lines to pass the upgrade on:
//!
//! ```nginx
//! proxy_http_version 1.1;
//! proxy_set_header Upgrade $http_upgrade;
//! proxy_set_header Connection "upgrade";
//! ```
//!
//! [`Proxy::start`] runs either kind: [`Upgrades::Dropped`] (nginx's default) or
//! [`Upgrades::Forwarded`] (with those lines). Each request goes to the server over a fresh
//! connection, as nginx's HTTP/1.0 default does; a forwarded upgrade then joins the two
//! connections byte for byte.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONNECTION, UPGRADE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// What the proxy does with a request's `Upgrade` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Upgrades {
    /// Dropped, as every hop-by-hop header is by default (nginx without the three lines).
    Dropped,
    /// Passed on, and a `101 Switching Protocols` joins the two connections.
    Forwarded,
}

/// How long the proxy waits for the server to accept a connection and answer a request's head.
const UPSTREAM_WITHIN: Duration = Duration::from_secs(3);

type ProxyBody = BoxBody<Bytes, hyper::Error>;

/// A running proxy.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Listens on 127.0.0.1 (a free port) and forwards every request to `upstream`.
    pub async fn start(upstream: SocketAddr, upgrades: Upgrades) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        connections.spawn(serve_connection(stream, upstream, upgrades));
                    }
                }
            }
            connections.abort_all();
        });
        Ok(Self {
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Where clients reach it.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and cuts every connection it carries.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), task).await;
        }
    }
}

/// One client connection: HTTP/1.1 with keep-alive, each request forwarded in turn.
async fn serve_connection(stream: TcpStream, upstream: SocketAddr, upgrades: Upgrades) {
    let service = hyper::service::service_fn(move |req| forward(req, upstream, upgrades));
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await;
}

// ANCHOR: forward
/// Forwards one request. With [`Upgrades::Dropped`], the hop-by-hop `Connection` and `Upgrade`
/// headers stay here, and a WebSocket request reaches the server as a plain GET.
async fn forward(
    mut req: Request<Incoming>,
    upstream: SocketAddr,
    upgrades: Upgrades,
) -> Result<Response<ProxyBody>, Infallible> {
    let client_side = match upgrades {
        Upgrades::Dropped => {
            req.headers_mut().remove(CONNECTION);
            req.headers_mut().remove(UPGRADE);
            None
        }
        Upgrades::Forwarded if req.headers().contains_key(UPGRADE) => Some(hyper::upgrade::on(&mut req)),
        Upgrades::Forwarded => None,
    };
    let mut response = match send_upstream(req, upstream).await {
        Ok(response) => response,
        Err(why) => return Ok(bad_gateway(why)),
    };
    if response.status() == StatusCode::SWITCHING_PROTOCOLS && upgrades == Upgrades::Dropped {
        // The server switched protocols on a request that no longer asked to: a proxy that
        // does not do upgrades cannot carry that on. (socketioxide answers 101 to a WebSocket
        // request whatever its headers; Node's server answers it 400, code 3, "Bad request".)
        return Ok(bad_gateway(
            "the server switched protocols; this proxy does not forward upgrades".into(),
        ));
    }
    if response.status() == StatusCode::SWITCHING_PROTOCOLS
        && let Some(client_side) = client_side
    {
        // Both sides switched: from now on the proxy copies bytes both ways.
        let server_side = hyper::upgrade::on(&mut response);
        tokio::spawn(async move {
            if let (Ok(client), Ok(server)) = tokio::join!(client_side, server_side) {
                let (mut client, mut server) = (TokioIo::new(client), TokioIo::new(server));
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            }
        });
    }
    Ok(response.map(BodyExt::boxed))
}
// ANCHOR_END: forward

/// Sends `req` to the server over a new connection and returns its answer's head; the body
/// streams on as the server writes it.
async fn send_upstream(req: Request<Incoming>, upstream: SocketAddr) -> Result<Response<Incoming>, String> {
    let work = async {
        let stream = TcpStream::connect(upstream).await.map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            let _ = connection.with_upgrades().await;
        });
        sender.send_request(req).await.map_err(|e| e.to_string())
    };
    match tokio::time::timeout(UPSTREAM_WITHIN, work).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer from {upstream} within {UPSTREAM_WITHIN:?}")),
    }
}

/// `502 Bad Gateway`, what a proxy answers when the server does not.
fn bad_gateway(why: String) -> Response<ProxyBody> {
    let body = Full::new(Bytes::from(why))
        .map_err(|never| match never {})
        .boxed();
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}
