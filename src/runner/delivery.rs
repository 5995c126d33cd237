//! What lesson 6 adds to a session: the stage's message database, the server restart, and the
//! client's side of the server offset.
//!
//! * **The database.** A stage with `database = true` gets a fresh SQLite file in a temporary
//!   folder for the run (`parts::store`). Each server the stage starts opens its *own*
//!   connection to that file, so a restarted server finds the history only because it is in the
//!   file: the replay it sends comes from a real `SELECT`.
//! * **The restart.** The server stops (every connection closes with it), and a new one starts
//!   on the same port and the same file. It serves the very listening socket the first one did,
//!   which the session kept open: a Node server restarted by hand binds the port again, but here
//!   another program could take the port in that moment, and a lesson must not depend on luck.
//! * **The server offset, on the client.** The tutorial's client connects with
//!   `io({ auth: { serverOffset: 0 } })` and runs `socket.auth.serverOffset = serverOffset` on
//!   every `'chat message'`. socket.io-client sends the `auth` object again with each
//!   reconnection (its `auth` option is read for every CONNECT packet), which is how the server
//!   learns where a returning client stopped. The session keeps that object per client name,
//!   across the client's connections, exactly as the one `socket` object of a page keeps it.

use std::sync::Arc;

use serde_json::{Value, json};

use super::nodes::Ours;
use super::{Inboxes, RunError, Session, start_local};
use crate::parts::store::Store;
use crate::server::handlers::delivery::Log;
use crate::trace::{Kind, StepRecord};

/// The event whose second argument is the server offset.
const CHAT: &str = "chat message";

/// The stage's database for this run, if it has one: a temporary file, removed with it.
pub(super) fn open_database(stage: &crate::lesson::Stage) -> Result<Option<Store>, RunError> {
    if !stage.database {
        return Ok(None);
    }
    Store::temporary()
        .map(Some)
        .map_err(|e| RunError::Other(e.to_string()))
}

impl Session<'_> {
    /// A new connection of its own to the stage's database file, for one server.
    pub(super) fn connect_database(&self) -> Result<Option<Log>, RunError> {
        let Some(store) = &self.database else {
            return Ok(None);
        };
        let own = Store::open(store.path()).map_err(|e| RunError::Other(e.to_string()))?;
        Ok(Some(Arc::new(own) as Log))
    }

    /// The `auth` a client sends in its CONNECT packet, when the stage's clients keep a server
    /// offset: what it last set, or the tutorial's `{ serverOffset: 0 }` the first time.
    pub(super) fn auth_for(&self, name: &str) -> Option<Value> {
        if !self.stage.server_offset {
            return None;
        }
        Some(
            self.auth
                .get(name)
                .cloned()
                .unwrap_or_else(|| json!({ "serverOffset": 0 })),
        )
    }

    /// `socket.on('chat message', (msg, serverOffset) => { socket.auth.serverOffset =
    /// serverOffset; })`, for every message each client read in this step. A message without a
    /// second argument sets it to `undefined`, which JSON leaves out: the next CONNECT then
    /// carries no offset at all, as the tutorial's client would send.
    pub(super) fn learn_offsets(&mut self, received: &Inboxes) {
        if !self.stage.server_offset {
            return;
        }
        for (name, inbox) in received {
            for delivery in inbox.iter().filter(|d| d.event == CHAT) {
                let mut auth = self.auth_for(name).unwrap_or_else(|| json!({}));
                if let Some(object) = auth.as_object_mut() {
                    match delivery.args.get(1) {
                        Some(offset) => {
                            object.insert("serverOffset".into(), offset.clone());
                        }
                        None => {
                            object.remove("serverOffset");
                        }
                    }
                }
                self.auth.insert(name.clone(), auth);
            }
        }
    }

    /// Why a client that reconnected with a server offset was replayed nothing, read from the
    /// server's own database: no row is stored after the offset it sent. (A replay that failed
    /// would leave rows there, and no reason.)
    pub(super) fn why_nothing_replayed(&self, step: &mut StepRecord, name: &str, auth: Option<&Value>) {
        let (Some(store), Some(auth)) = (&self.database, auth) else {
            return;
        };
        if !step.not_received_by.iter().any(|n| n == name) {
            return;
        }
        let offset = auth.get("serverOffset").and_then(Value::as_i64).unwrap_or(0);
        if store.after(offset, 1).is_ok_and(|rows| rows.is_empty()) {
            step.why_not.insert(
                name.to_owned(),
                format!("the database holds no message after its serverOffset {offset}"),
            );
        }
    }

    /// The server process restarts: the old one stops (closing every connection), and a new
    /// one starts on the same port, with a connection of its own to the same database file.
    pub(super) async fn restart_server(&mut self, number: u32) -> Result<StepRecord, RunError> {
        let Some(old) = self.take_server() else {
            return Err(RunError::Other(
                "a server restart needs the tutor's own server; against another server, restart it \
                 yourself"
                    .into(),
            ));
        };
        // Bounded, like every wait.
        let _ = tokio::time::timeout(self.options.timeout, old.stop()).await;
        // The clients' connections closed with the server; what each had read is read.
        self.clients.clear();
        let log = self.connect_database()?;
        // The same listening socket, through the session's second handle on it (see
        // `session::keep_for_restart`): the port was never free, so nothing can have taken it.
        let listener = match &self.listening {
            Some(kept) => {
                let fail = |e: std::io::Error| {
                    RunError::Other(format!("cannot listen again after the restart: {e}"))
                };
                let again = kept.try_clone().map_err(fail)?;
                Some(tokio::net::TcpListener::from_std(again).map_err(fail)?)
            }
            None => None,
        };
        self.ending = super::ending::Ending::Fenced(Some(Ours::One(start_local(self.stage, listener, log)?)));
        let step = self.blank(
            number,
            Kind::Disconnect,
            "the server restarts (every connection closes; the database file stays)".into(),
        );
        Ok(step)
    }
}
