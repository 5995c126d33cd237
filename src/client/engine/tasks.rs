//! A connected client's two tasks: a reader that turns the server's frames into
//! [`crate::client::Incoming`] items (with [`Inbound`]), and a writer that sends what the owner
//! queues. One pair per transport.
//!
//! Over WebSocket the reader owns the receiving half of the socket and the writer the sending
//! half. Over long-polling the reader sends one GET after another (never two at once) and the
//! writer POSTs whatever has been queued meanwhile, several packets in one body. Either way the
//! reader answers pings by queueing a pong for the writer, so nobody holds a lock while waiting
//! for the network.
//!
//! Everything the reader can be made to hold is bounded (see [`crate::client::limits`]): the queue
//! of delivered items in count and bytes, the frames it reads per step once its owner arms the
//! limits, and a binary packet's pending attachments in count, bytes and time.

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::{Duration, Instant, timeout_at};
use tokio_tungstenite::tungstenite::Message;

use super::link::{WsStream, payload_frames, poll, post};
use super::polling::PollingLink;
pub use crate::client::inbound::{Acks, Inbound, Item, RoundTrips};
use crate::client::limits::long_poll_bound;
use crate::client::payload::Frame;
use crate::client::protocol::{EnginePacket, OpenInfo};
use crate::client::wire::{WireDirection, WireLog};

/// What the owner (or the reader, for pongs) queues for the writer.
#[derive(Debug)]
pub enum Out {
    /// One Engine.IO packet as text.
    Text(String),
    /// End the transport: a WebSocket Close frame, or an Engine.IO close (`1`) over polling.
    Close,
}

/// The WebSocket reader: one frame per message.
pub async fn read_websocket(mut stream: SplitStream<WsStream>, mut inbound: Inbound) {
    let reason = loop {
        // Only a binary packet still waiting for attachments puts a deadline on the next frame.
        // Otherwise the reader waits as long as the connection lasts: a quiet server is no
        // fault (its pings keep the session alive), and the owner bounds each of its own waits
        // ([`crate::client::SimClient::next`]).
        let next = match inbound.attachments_due {
            Some(due) => match timeout_at(due, stream.next()).await {
                Ok(next) => next,
                Err(_) => break inbound.overdue(),
            },
            None => stream.next().await,
        };
        let frame = match next {
            None => break "the connection ended".to_owned(),
            Some(Err(e)) => break format!("transport error: {e}"),
            Some(Ok(Message::Text(text))) => Frame::Text(text.to_string()),
            Some(Ok(Message::Binary(bytes))) => Frame::Binary(bytes.to_vec()),
            Some(Ok(Message::Close(_))) => break "the server closed the WebSocket".to_owned(),
            // WebSocket-level pings and pongs: tungstenite answers them; they still count.
            Some(Ok(other)) => {
                if let Err(reason) = inbound.usage.count(other.len()) {
                    break reason;
                }
                continue;
            }
        };
        if let Err(reason) = inbound.frame(frame, false).await {
            break reason;
        }
    };
    inbound.closed(reason).await;
}

/// The WebSocket writer: one frame per packet; a Close frame ends it.
pub async fn write_websocket(
    mut sink: SplitSink<WsStream, Message>,
    mut queue: mpsc::Receiver<Out>,
    wire: WireLog,
) {
    while let Some(out) = queue.recv().await {
        let (message, closing) = match out {
            Out::Text(text) => {
                wire.push(WireDirection::Sent, &text);
                (Message::text(text), false)
            }
            Out::Close => (Message::Close(None), true),
        };
        if sink.send(message).await.is_err() || closing {
            break;
        }
    }
}

/// The long-polling reader: one GET after another, each answer a payload of packets.
pub async fn read_polling(mut link: PollingLink, open: OpenInfo, mut inbound: Inbound) {
    let bound = long_poll_bound(open.ping_interval, open.ping_timeout);
    let reason = loop {
        // A held GET is answered by the server's next ping at the latest, so a GET open for
        // longer than `bound` waits on a dead session; pending attachments shorten the wait.
        let limit = match inbound.attachments_due {
            Some(due) => due.saturating_duration_since(Instant::now()).min(bound),
            None => bound,
        };
        let answer = match poll(&mut link, limit.max(Duration::from_millis(1)), &inbound.wire).await {
            Ok(answer) => answer,
            // Checked first: a GET cut short by the attachments' deadline failed because the
            // attachments are late, and the error should name that cause, not the GET.
            Err(_) if inbound.attachments_due.is_some_and(|due| due <= Instant::now()) => {
                break inbound.overdue();
            }
            Err(e) => break format!("the long-polling GET failed: {e}"),
        };
        if answer.code != 200 {
            break format!(
                "the server answered {} to the long-polling GET: {}",
                answer.status,
                answer.excerpt()
            );
        }
        if answer.body.is_empty() {
            break "the server ended the long-polling session (an empty answer)".to_owned();
        }
        let frames = match payload_frames(&answer.body, &inbound.wire) {
            Ok(frames) => frames,
            Err(e) => break e.to_string(),
        };
        // The next GET goes out only once this payload is handled: two GETs at once end the
        // session (see `polling`), and a full queue to the owner then delays the next GET, which
        // is how backpressure reaches a polling server.
        let mut stop = None;
        for frame in frames {
            if let Err(reason) = inbound.frame(frame, true).await {
                stop = Some(reason);
                break;
            }
        }
        if let Some(reason) = stop {
            break reason;
        }
    };
    inbound.closed(reason).await;
}

/// The long-polling writer: what was queued meanwhile goes in one POST, up to the server's
/// `maxPayload` (as socket.io-client batches: a body over it is refused, and the session with it);
/// a close ends it.
pub async fn write_polling(
    mut link: PollingLink,
    mut queue: mpsc::Receiver<Out>,
    wire: WireLog,
    limit: Duration,
    max_payload: usize,
) {
    /// At most this many packets per POST, so one body stays small.
    const PER_POST: usize = 64;
    let mut carried: Option<Out> = None;
    loop {
        let first = match carried.take() {
            Some(out) => out,
            None => match queue.recv().await {
                Some(out) => out,
                None => break,
            },
        };
        let mut packets: Vec<String> = Vec::new();
        let mut bytes = 0;
        let mut closing = false;
        let mut next = Some(first);
        while let Some(out) = next.take() {
            let text = match out {
                Out::Text(text) => text,
                Out::Close => EnginePacket::Close.encode(),
            };
            // One separator byte between packets. The first packet always goes, even alone
            // over the limit: the server then refuses it, and says so.
            if !packets.is_empty() && bytes + 1 + text.len() > max_payload {
                carried = Some(match text.as_str() {
                    "1" => Out::Close,
                    _ => Out::Text(text),
                });
                break;
            }
            bytes += text.len() + usize::from(!packets.is_empty());
            closing = text == "1";
            packets.push(text);
            if closing {
                break;
            }
            if packets.len() < PER_POST {
                next = queue.try_recv().ok();
            }
        }
        if post(&mut link, &packets, limit, &wire).await.is_err() || closing {
            break;
        }
    }
}
