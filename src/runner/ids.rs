//! The placeholders that keep traces the same from run to run: a real port is written
//! `<port>`, a socket id `<name.id>`, and a lesson's `"<bob.id>"` becomes bob's real id on the
//! wire.

use serde_json::Value;

use super::Session;
use crate::client;

impl Session<'_> {
    /// Replaces the real port by `<port>`, so traces are identical from run to run.
    pub(super) fn mask(&self, text: &str) -> String {
        if self.bases.len() > 1 {
            // Several servers: each port becomes its server's name, `<port A>`.
            return self
                .bases
                .iter()
                .enumerate()
                .fold(
                    text.to_owned(),
                    |text, (i, base)| match client::connection::authority(base).rsplit_once(':') {
                        Some((host, port)) if self.is_ours() => text.replace(
                            &format!("{host}:{port}"),
                            &format!("{host}:<port {}>", self.node_name(i)),
                        ),
                        _ => text,
                    },
                );
        }
        match client::connection::authority(&self.base).rsplit_once(':') {
            Some((host, port)) if self.is_ours() => {
                text.replace(&format!("{host}:{port}"), &format!("{host}:<port>"))
            }
            _ => text.to_owned(),
        }
    }

    /// The arguments as sent on the wire: `"<bob.id>"` becomes bob's socket id (see
    /// [`crate::lesson::own_room`]).
    pub(super) fn with_ids(&self, args: &[Value]) -> Vec<Value> {
        let names: Vec<String> = self.clients.iter().map(|c| c.name.clone()).collect();
        args.iter()
            .map(|arg| match arg {
                Value::String(text) => match crate::lesson::own_room(text, &names) {
                    Some(name) => {
                        let sid = self
                            .clients
                            .iter()
                            .find(|c| c.name == name)
                            .map(|c| c.client.sid.clone());
                        Value::String(sid.unwrap_or_else(|| text.clone()))
                    }
                    None => arg.clone(),
                },
                _ => arg.clone(),
            })
            .collect()
    }

    /// Writes every client's socket id as `<name.id>`, so traces do not depend on the random
    /// ids a run gets.
    pub(super) fn mask_ids(&self, text: &str) -> String {
        self.clients.iter().fold(text.to_owned(), |text, c| {
            text.replace(&c.client.sid, &format!("<{}.id>", c.name))
        })
    }
}
