//! A broadcast is encoded once and written N times: `io.emit` beside `socket.emit` in a loop.
//!
//! The message counts its own encodings: it is a string that adds one to a counter each time
//! serde serialises it. So the figure is not read from socketioxide's source but observed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Serialize, Serializer};

use super::crowd::Crowd;
use crate::runner::RunError;
use crate::server::fanout::{each_socket_emit, io_emit};
use crate::trace::measure::{EncodeRow, Timing};

const EVENT: &str = "chat message";

/// A message that counts how many times it is serialised.
struct Counted<'a> {
    text: &'a str,
    encodings: &'a AtomicU64,
}

impl Serialize for Counted<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // socketioxide first hands the message to a probe serializer that only asks whether it
        // is a tuple (to be spread into several arguments) and stops at once; only the JSON
        // serializer's calls are encodings.
        if std::any::type_name::<S>().contains("serde_json") {
            self.encodings.fetch_add(1, Ordering::Relaxed);
        }
        serializer.serialize_str(self.text)
    }
}

/// Sends one message of `bytes` bytes to `clients` clients both ways.
pub async fn encode_once(clients: usize, bytes: usize, bound: Duration) -> Result<Vec<EncodeRow>, RunError> {
    let mut crowd = Crowd::start(bound).await?;
    let outcome = async {
        crowd.grow(clients).await?;
        let text = "a".repeat(bytes);
        let mut rows = Vec::new();
        for how in [How::IoEmit, How::Loop] {
            rows.push(one_way(&mut crowd, how, &text).await?);
        }
        Ok(rows)
    }
    .await;
    crowd.stop().await;
    outcome
}

#[derive(Debug, Clone, Copy)]
enum How {
    IoEmit,
    Loop,
}

async fn one_way(crowd: &mut Crowd, how: How, text: &str) -> Result<EncodeRow, RunError> {
    let encodings = AtomicU64::new(0);
    let msg = Counted {
        text,
        encodings: &encodings,
    };
    let start = tokio::time::Instant::now();
    let (js, sent) = match how {
        How::IoEmit => ("io.emit(…)", io_emit(&crowd.server.io, EVENT, &msg).await),
        How::Loop => (
            "sockets.forEach(s => s.emit(…))",
            each_socket_emit(&crowd.server.io, EVENT, &msg),
        ),
    };
    sent.map_err(|e| RunError::Other(format!("{js}: {e}")))?;
    let got = crowd.until_each(EVENT, crowd.size).await?;
    let mine: Vec<_> = got.iter().filter(|g| g.event() == EVENT).collect();
    let last = mine.iter().map(|g| g.at).max().unwrap_or(start);
    Ok(EncodeRow {
        how: js.to_owned(),
        clients: crowd.size,
        message_bytes: text.len(),
        encodings: encodings.load(Ordering::Relaxed),
        frames: mine.len() as u64,
        bytes: mine.iter().map(|g| g.wire).sum(),
        identical: mine.windows(2).all(|w| w[0].text == w[1].text),
        last_delivery: Timing::from(last - start),
    })
}
