//! The simulated clients: small Socket.IO clients that speak the real protocol over WebSocket.
//!
//! They are WebSocket-only clients, like a browser's `io({ transports: ['websocket'] })`. A plain
//! `io()` starts differently: the official client opens the session with HTTP long-polling
//! (`GET /socket.io/?EIO=4&transport=polling`, which answers with the OPEN packet and
//! `"upgrades":["websocket"]`), because plain HTTP requests get through proxies that would block
//! a WebSocket. It then tries a WebSocket for the same session and *upgrades*: it sends `2probe`
//! over the new WebSocket, the server answers `3probe`, the client sends `5` (upgrade), and from
//! then on every packet travels over the WebSocket. The Socket.IO packets are the same either
//! way; the WebSocket-only path just skips the polling phase, so the frames in a trace are the
//! ones that matter.
//!
//! A WebSocket-only client does three things before your first `socket.emit`:
//!
//! 1. It opens a WebSocket to `/socket.io/?EIO=4&transport=websocket`. That is an ordinary HTTP
//!    request with an `Upgrade: websocket` header; a server that understands it answers
//!    `101 Switching Protocols` and from then on both sides exchange frames instead of requests.
//! 2. The server sends an Engine.IO OPEN packet (`0{"sid":…,"pingInterval":…}`): the transport
//!    session exists.
//! 3. The client sends a Socket.IO CONNECT for the default namespace (`40`) and the server answers
//!    `40{"sid":…}`. Only now is there a *socket* the server's `io.on('connection')` handler sees.
//!
//! [`SimClient::connect`] performs exactly these steps (see [`connection`]), each bounded by a
//! timeout that names what it was waiting for. After that, a reader task keeps the connection
//! alive (answering the server's pings) and hands every event to the owner in arrival order,
//! which is the order the server sent them in: WebSocket runs over one TCP stream, so frames on
//! one connection cannot overtake each other. The trace relies on that fact.
//!
//! The wire format itself lives in [`protocol`], as pure functions.

pub mod connection;
pub mod http;
pub mod protocol;

pub use connection::{ConnectError, ConnectOptions, Incoming, SimClient, WireDirection, WireFrame};
