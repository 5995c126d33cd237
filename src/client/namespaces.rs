//! More than one namespace over one session, the way socket.io-client's `Manager` multiplexes.
//!
//! In a page, `io('/')` and `io('/admin')` open *one* Engine.IO session (one `sid` in the OPEN
//! packet, one WebSocket) and two Socket.IO sockets on it. Every packet names its namespace
//! after the type digit, so the two never mix:
//!
//! ```text
//! → 40                                   CONNECT /                 (the handshake sends it)
//! ← 40{"sid":"a…"}                       the socket on / exists
//! → 40/admin,{"token":"s3cret"}          CONNECT /admin, with its own auth
//! ← 40/admin,{"sid":"b…"}                the socket on /admin exists, with an id of its own
//! ← 42/admin,["report",…]                io.of('/admin').emit(…): only that socket hears it
//! → 41/admin,                            socket.disconnect() on /admin; / stays connected
//! ```
//!
//! A namespace the server does not serve, or whose middleware says no, is answered with a
//! CONNECT_ERROR for that namespace alone (`44/admin,{"message":"not authorized","data":…}`); the
//! session and the other sockets carry on.
//!
//! [`SimClient::join_namespace`] sends the CONNECT and waits, bounded, for the answer; the
//! reader gives it over through [`Namespaces`]. The owner writes the namespace there *before*
//! it sends the CONNECT, so the reader knows the namespace before any answer can arrive, and
//! events the server sends on it ahead of its reply are kept until the reply (see
//! [`super::socket`]). Events on joined namespaces come out of the same queue as those on `/`,
//! in arrival order, each with its namespace ([`SimClient::next_received`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::oneshot;

use super::connection::{ROUND_TRIP_NAMESPACE, SimClient};
use super::error::{ConnectError, JoinError};
use super::protocol::SocketPacket;

/// The answer to a CONNECT on another namespace: the socket id, or the refusal's message and
/// data.
pub type JoinAnswer = Result<String, (String, Option<Value>)>;

/// The namespaces the owner joined, or is joining, besides `/`, shared by the owner and the
/// reader. A namespace is present from the moment its CONNECT is about to be sent until it is
/// left or refused; its waiter is there until the reply comes.
pub type Namespaces = Arc<Mutex<BTreeMap<String, Option<oneshot::Sender<JoinAnswer>>>>>;

/// A socket on one more namespace, as the server's CONNECT reply described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    /// The namespace joined (`/admin`).
    pub nsp: String,
    /// The socket id the server gave this socket (`40/admin,{"sid":…}`). Node gives each
    /// namespace's socket an id of its own; socketioxide reuses the session's id for every one.
    pub sid: String,
}

impl SimClient {
    /// `io('/admin', { auth })` on the same Manager: joins namespace `nsp` over this client's
    /// session and waits, at most the connect timeout, for the server's answer.
    ///
    /// `nsp` starts with `/`; `/` itself is joined already, and the round trips' namespaces
    /// ([`ROUND_TRIP_NAMESPACE`]) are the client's own.
    pub async fn join_namespace(&mut self, nsp: &str, auth: Option<Value>) -> Result<Joined, JoinError> {
        check_name(nsp, &self.first)?;
        let (tx, rx) = oneshot::channel();
        if let Ok(mut wanted) = self.namespaces.lock() {
            if wanted.contains_key(nsp) {
                return Err(ConnectError::Other(format!("{nsp} is joined already")).into());
            }
            wanted.insert(nsp.to_owned(), Some(tx));
        }
        let connect = SocketPacket::Connect {
            nsp: nsp.to_owned(),
            data: auth,
        };
        if let Err(e) = self.send_frame(connect.to_frame()) {
            self.forget(nsp);
            return Err(e.into());
        }
        match tokio::time::timeout(self.after, rx).await {
            Ok(Ok(Ok(sid))) => Ok(Joined {
                nsp: nsp.to_owned(),
                sid,
            }),
            Ok(Ok(Err((message, data)))) => Err(JoinError::Refused {
                nsp: nsp.to_owned(),
                message,
                data,
            }),
            Ok(Err(_)) => Err(ConnectError::Other(format!(
                "the connection closed before the CONNECT reply for {nsp}"
            ))
            .into()),
            Err(_) => {
                // Given up: should the reply still come, the server would keep a socket
                // nobody uses, so the client leaves it at once (a DISCONNECT for a socket the
                // server never made is ignored).
                self.forget(nsp);
                let _ = self.send_frame(SocketPacket::Disconnect { nsp: nsp.to_owned() }.to_frame());
                Err(ConnectError::Timeout {
                    what: format!("the CONNECT reply for {nsp} (40{nsp},{{\"sid\":…}})"),
                    after: self.after,
                }
                .into())
            }
        }
    }

    /// `socket.emit(name, ...args)` on the socket of namespace `nsp` (`"/"` or one joined).
    pub fn emit_on(&self, nsp: &str, name: &str, args: Vec<Value>) -> Result<(), ConnectError> {
        self.check_joined(nsp)?;
        let packet = SocketPacket::Event {
            nsp: nsp.to_owned(),
            id: None,
            name: name.into(),
            args,
        };
        self.send_frame(packet.to_frame())
    }

    /// `socket.emit(name, ...args, callback)` on the socket of namespace `nsp`: the answer
    /// comes back as an ACK for the same namespace and id (`43/admin,0[…]`). Each socket
    /// numbers its acks from 0, as socket.io-client's do.
    pub fn emit_with_ack_on(
        &mut self,
        nsp: &str,
        name: &str,
        args: Vec<Value>,
    ) -> Result<oneshot::Receiver<Vec<Value>>, ConnectError> {
        self.check_joined(nsp)?;
        let next = self.next_ack.entry(nsp.to_owned()).or_default();
        let id = *next;
        *next += 1;
        let (tx, rx) = oneshot::channel();
        if let Ok(mut waiting) = self.acks.lock() {
            waiting.insert((nsp.to_owned(), id), tx);
        }
        let packet = SocketPacket::Event {
            nsp: nsp.to_owned(),
            id: Some(id),
            name: name.into(),
            args,
        };
        self.send_frame(packet.to_frame())?;
        Ok(rx)
    }

    /// `socket.disconnect()` on the socket of a joined namespace: sends its DISCONNECT
    /// (`41/admin,`) and forgets the socket. The session and its other sockets stay; what the
    /// server still sends on `nsp` is passed over. (To leave `/`, and with it the session, see
    /// [`SimClient::leave`].)
    pub fn leave_namespace(&mut self, nsp: &str) -> Result<(), ConnectError> {
        if nsp == self.first {
            return Err(ConnectError::Other(format!(
                "{nsp}, the first socket, is left with the whole session (SimClient::leave)"
            )));
        }
        self.check_joined(nsp)?;
        self.forget(nsp);
        self.send_frame(SocketPacket::Disconnect { nsp: nsp.to_owned() }.to_frame())
    }

    /// The namespaces joined besides `/`, connected or waiting for their reply.
    pub fn namespaces(&self) -> Vec<String> {
        self.namespaces
            .lock()
            .map(|wanted| wanted.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn forget(&self, nsp: &str) {
        if let Ok(mut wanted) = self.namespaces.lock() {
            wanted.remove(nsp);
        }
    }

    /// `"/"`, or a namespace whose CONNECT the server accepted.
    fn check_joined(&self, nsp: &str) -> Result<(), ConnectError> {
        let connected = nsp == self.first
            || self
                .namespaces
                .lock()
                .is_ok_and(|wanted| matches!(wanted.get(nsp), Some(None)));
        match connected {
            true => Ok(()),
            false => Err(ConnectError::Other(format!(
                "this client has no socket on {nsp} (join it first with join_namespace)"
            ))),
        }
    }
}

/// A namespace this client may join: written the way the wire can carry it.
fn check_name(nsp: &str, first: &str) -> Result<(), ConnectError> {
    let problem = if !nsp.starts_with('/') {
        "a namespace starts with /"
    } else if nsp == first {
        "the handshake joined it already: it is this client's first socket"
    } else if nsp.contains(',') {
        "a comma ends the namespace on the wire (40/admin,{…}), so a name cannot hold one"
    } else if nsp.starts_with(ROUND_TRIP_NAMESPACE) {
        "this client uses these namespaces for its round trips"
    } else {
        return Ok(());
    };
    Err(ConnectError::Other(format!("cannot join {nsp:?}: {problem}")))
}
