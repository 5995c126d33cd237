//! A connected client's two tasks: a reader that turns the server's frames into [`Incoming`]
//! items, and a writer that sends what the owner queues. One pair per transport.
//!
//! Over WebSocket the reader owns the receiving half of the socket and the writer the sending
//! half. Over long-polling the reader sends one GET after another (never two at once) and the
//! writer POSTs whatever has been queued meanwhile, several packets in one body. Either way the
//! reader answers pings by queueing a pong for the writer, so nobody holds a lock while waiting
//! for the network.
//!
//! Everything the reader can be made to hold is bounded (see [`super::limits`]): the queue of
//! delivered items in count and bytes, the frames it reads per step once its owner arms the
//! limits, and a binary packet's pending attachments in count, bytes and time.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::time::{Duration, Instant, timeout_at};
use tokio_tungstenite::tungstenite::Message;

use super::connection::Incoming;
use super::limits::{ATTACHMENTS_WITHIN, long_poll_bound};
use super::link::{WsStream, frame_text, payload_frames, poll, post};
use super::payload::Frame;
use super::polling::PollingLink;
use super::protocol::{EnginePacket, OpenInfo, SocketPacket};
use super::receiver::{Output, Receiver};
use super::usage::{Usage, decoded_size};
use super::wire::{WireDirection, WireLog};

/// What the owner (or the reader, for pongs) queues for the writer.
#[derive(Debug)]
pub enum Out {
    /// One Engine.IO packet as text.
    Text(String),
    /// End the transport: a WebSocket Close frame, or an Engine.IO close (`1`) over polling.
    Close,
}

/// One delivered item and the share of the byte budget it holds until the owner takes it.
pub type Item = (Incoming, Option<OwnedSemaphorePermit>);

/// Waiters for acknowledgements, by ack id.
pub type Acks = Arc<Mutex<HashMap<u64, oneshot::Sender<Vec<Value>>>>>;

/// Waiters for the answers to round trips (see [`super::SimClient::round_trip`]), by namespace.
/// Each is told how many events the reader had handed to the owner when the answer came.
pub type RoundTrips = Arc<Mutex<HashMap<String, oneshot::Sender<u64>>>>;

/// The reader's side of the bargain: one frame in, its meaning out to the owner.
#[derive(Debug)]
pub struct Inbound {
    pub receiver: Receiver,
    pub deliver: mpsc::Sender<Item>,
    pub room: Arc<Semaphore>,
    /// The permits `room` started with ([`super::ConnectOptions::incoming_bytes`]).
    pub room_bytes: usize,
    pub acks: Acks,
    pub out: mpsc::Sender<Out>,
    pub wire: WireLog,
    pub usage: Arc<Usage>,
    pub offset: Arc<Mutex<Option<String>>>,
    /// When the pending binary packet must be complete.
    pub attachments_due: Option<Instant>,
    /// What this client answers when the server asks for an acknowledgement, per event (see
    /// [`super::options::ConnectOptions::answers`]).
    pub answers: BTreeMap<String, Vec<Value>>,
    pub round_trips: RoundTrips,
    /// Events handed to the owner so far. Read when a round trip's answer arrives: every event
    /// the server sent before its answer is among them, because one session's packets arrive
    /// in order and the reader delivers each before it reads the next.
    pub delivered: Arc<AtomicU64>,
}

impl Inbound {
    /// Handles one frame. `Err` carries the reason the reader stops.
    pub async fn frame(&mut self, frame: Frame, logged: bool) -> Result<(), String> {
        // Counted before it is understood: heartbeats, other namespaces' packets and
        // attachments mean nothing to the owner, and a flood of them must still stop the reader.
        self.usage.count(frame.len())?;
        // Logged before it is decoded, so `--wire` also shows the frame that breaks the
        // protocol. (A polling payload's frames were logged as it was split.)
        if !logged {
            self.wire.push(WireDirection::Received, &frame_text(&frame));
        }
        let cost = frame.len();
        let outputs = self
            .receiver
            .receive(&frame)
            .map_err(|v| format!("the server broke the Socket.IO protocol: {v}"))?;
        for output in outputs {
            self.output(output, cost).await?;
        }
        // The deadline starts with the binary packet and no attachment moves it, so a server
        // that trickles attachments one by one cannot keep a partial packet alive for ever.
        self.attachments_due = match (self.receiver.awaiting_attachments(), self.attachments_due) {
            (None, _) => None,
            (Some(_), None) => Some(Instant::now() + ATTACHMENTS_WITHIN),
            (Some(_), due) => due,
        };
        Ok(())
    }

    /// Acts on one output of the receiver.
    pub async fn output(&mut self, output: Output, cost: usize) -> Result<(), String> {
        match output {
            Output::Pong(data) => {
                // The reader answers, not the owner: the owner may not look at this client for
                // a long while (a step that drives other clients, an idle bot), and a server
                // drops a client whose pong comes later than its `pingTimeout`.
                //
                // A full queue means the server is not reading what we send; a pong it would
                // not read either is no loss.
                let _ = self.out.try_send(Out::Text(EnginePacket::Pong(data).encode()));
            }
            Output::Event { name, args, ack } => {
                // The server asked for an answer (`421[…]`) and this client's listener gives
                // one: the ACK goes out with the same id (`431[…]`) straight away, as the
                // listener's `callback(…)` would send it. An event the client does not answer
                // gets nothing back; the server's own timeout is all that ends its wait. A full
                // outgoing queue means the server is not reading; the answer is then lost, as
                // it would be on a broken connection, and the server's timeout decides.
                if let Some(id) = ack
                    && let Some(answer) = self.answers.get(&name)
                {
                    let packet = SocketPacket::Ack {
                        nsp: "/".to_owned(),
                        id,
                        args: answer.clone(),
                    };
                    let _ = self.out.try_send(Out::Text(packet.to_frame()));
                }
                // What the event will take once its owner holds it, decoded.
                let decoded: usize = args.iter().map(decoded_size).sum::<usize>() + name.len();
                self.usage.add(decoded)?;
                if let Ok(mut offset) = self.offset.lock() {
                    offset.clone_from(&self.receiver.last_offset().map(str::to_owned));
                }
                let share = (cost + decoded).clamp(1, self.room_bytes) as u32;
                let permit = self
                    .room
                    .clone()
                    .acquire_many_owned(share)
                    .await
                    .map_err(|_| "the client's queue closed".to_owned())?;
                self.deliver
                    .send((Incoming::Event { name, args }, Some(permit)))
                    .await
                    .map_err(|_| "nobody reads this client any more".to_owned())?;
                // Counted once it is in the owner's queue, never before: a round trip's answer
                // reads this count as "everything the server sent ahead of me".
                self.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Output::Answered { nsp, accepted } => {
                let waiter = self.round_trips.lock().ok().and_then(|mut m| m.remove(&nsp));
                if let Some(waiter) = waiter {
                    let _ = waiter.send(self.delivered.load(Ordering::Relaxed));
                    if accepted {
                        // A server that accepts any namespace let us in: leave it again.
                        let leave = super::protocol::SocketPacket::Disconnect { nsp }.to_frame();
                        let _ = self.out.try_send(Out::Text(leave));
                    }
                }
            }
            Output::Ack { id, args } => {
                let waiter = self.acks.lock().ok().and_then(|mut m| m.remove(&id));
                if let Some(waiter) = waiter {
                    let _ = waiter.send(args);
                }
            }
            Output::Disconnected => return Err("the server disconnected the socket".into()),
            Output::Closed => return Err("the server closed the Engine.IO session".into()),
            Output::Refused(message) => {
                return Err(format!(
                    "the server refused the socket after accepting it: {message}"
                ));
            }
            Output::Connected { .. } | Output::Open(_) | Output::Nothing => {}
        }
        Ok(())
    }

    /// The error once a binary packet's attachments are overdue.
    fn overdue(&self) -> String {
        let (got, want) = self.receiver.awaiting_attachments().unwrap_or_default();
        format!(
            "a binary packet announced {want} attachments and only {got} arrived within {ATTACHMENTS_WITHIN:?}"
        )
    }

    /// The reader's last word: why it stopped.
    pub async fn closed(self, reason: String) {
        let _ = self.deliver.send((Incoming::Closed { reason }, None)).await;
    }
}

/// The WebSocket reader: one frame per message.
pub async fn read_websocket(mut stream: SplitStream<WsStream>, mut inbound: Inbound) {
    let reason = loop {
        // Only a binary packet still waiting for attachments puts a deadline on the next frame.
        // Otherwise the reader waits as long as the connection lasts: a quiet server is no
        // fault (its pings keep the session alive), and the owner bounds each of its own waits
        // ([`super::SimClient::next`]).
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
