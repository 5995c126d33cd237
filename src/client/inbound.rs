//! The reader's side of a connected client: what each frame the server sends does, once the
//! [`Receiver`] has said what it means. Pings are answered, events handed to the owner (and
//! answered when the server asks), acks and CONNECT replies given to whoever waits for them.
//! The loops that read the transport and call it are in [`super::engine::tasks`].
//!
//! One session carries the sockets of several namespaces ([`super::namespaces`]); this is where
//! an item learns which socket it belongs to ([`Received::nsp`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::time::Instant;

use super::connection::{Incoming, Received};
use super::engine::link::frame_text;
use super::engine::tasks::Out;
use super::limits::ATTACHMENTS_WITHIN;
use super::namespaces::{JoinAnswer, Namespaces};
use super::payload::Frame;
use super::protocol::{EnginePacket, SocketPacket};
use super::receiver::{Output, Receiver};
use super::usage::{Usage, decoded_size};
use super::wire::{WireDirection, WireLog};

/// One delivered item and the share of the byte budget it holds until the owner takes it.
pub type Item = (Received, Option<OwnedSemaphorePermit>);

/// Waiters for acknowledgements, by namespace and ack id: each socket numbers its own, as
/// socket.io-client's sockets do, so `/` and `/admin` may both wait for an ack `0`.
pub type Acks = Arc<Mutex<HashMap<(String, u64), oneshot::Sender<Vec<Value>>>>>;

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
    /// The namespaces the owner joined or is joining besides `/`, shared with the owner, who
    /// adds one before it sends the CONNECT: the receiver then knows the namespace before any
    /// answer can arrive (see [`super::namespaces`]).
    pub namespaces: Namespaces,
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
        self.sync_namespaces();
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
                let first = self.receiver.first_nsp().to_owned();
                self.event(&first, name, args, ack, cost).await?
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
                let first = self.receiver.first_nsp().to_owned();
                self.ack(&first, id, args)
            }
            Output::On { nsp, output } => self.on_namespace(nsp, *output, cost).await?,
            Output::Disconnected => return Err("the server disconnected the socket".into()),
            Output::Closed => return Err("the server closed the Engine.IO session".into()),
            Output::Refused { message, .. } => {
                return Err(format!(
                    "the server refused the socket after accepting it: {message}"
                ));
            }
            Output::Connected { .. } | Output::Open(_) | Output::Nothing => {}
        }
        Ok(())
    }

    /// Hands one event of the socket on `nsp` to the owner, after answering it if the server
    /// asked for an answer and this client gives one.
    async fn event(
        &mut self,
        nsp: &str,
        name: String,
        args: Vec<Value>,
        ack: Option<u64>,
        cost: usize,
    ) -> Result<(), String> {
        // The server asked for an answer (`421[…]`) and this client's listener gives one: the
        // ACK goes out with the same id (`431[…]`) straight away, as the listener's
        // `callback(…)` would send it. An event the client does not answer gets nothing back;
        // the server's own timeout is all that ends its wait. A full outgoing queue means the
        // server is not reading; the answer is then lost, as it would be on a broken
        // connection, and the server's timeout decides.
        if let Some(id) = ack
            && let Some(answer) = self.answers.get(&name)
        {
            let packet = SocketPacket::Ack {
                nsp: nsp.to_owned(),
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
        let received = Received {
            nsp: nsp.to_owned(),
            item: Incoming::Event { name, args },
        };
        self.deliver
            .send((received, Some(permit)))
            .await
            .map_err(|_| "nobody reads this client any more".to_owned())?;
        // Counted once it is in the owner's queue, never before: a round trip's answer
        // reads this count as "everything the server sent ahead of me".
        self.delivered.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Gives the answer to an acknowledged emit on `nsp` to whoever waits for it.
    fn ack(&self, nsp: &str, id: u64, args: Vec<Value>) {
        let key = (nsp.to_owned(), id);
        let waiter = self.acks.lock().ok().and_then(|mut m| m.remove(&key));
        if let Some(waiter) = waiter {
            let _ = waiter.send(args);
        }
    }

    /// Acts on what the socket of a namespace joined after `/` got. Unlike on `/`, a refusal
    /// or a DISCONNECT ends that socket only: the session and its other sockets go on.
    async fn on_namespace(&mut self, nsp: String, output: Output, cost: usize) -> Result<(), String> {
        let answer: Option<JoinAnswer> = match output {
            Output::Connected { sid, .. } => Some(Ok(sid)),
            Output::Refused { message, data } => Some(Err((message, data))),
            Output::Event { name, args, ack } => return self.event(&nsp, name, args, ack, cost).await,
            Output::Ack { id, args } => {
                self.ack(&nsp, id, args);
                return Ok(());
            }
            Output::Disconnected => {
                self.end_namespace(&nsp, "the server disconnected the socket")
                    .await?;
                return Ok(());
            }
            _ => None,
        };
        let Some(answer) = answer else { return Ok(()) };
        let accepted = answer.is_ok();
        let waiter = match self.namespaces.lock() {
            Ok(mut wanted) if accepted => wanted.get_mut(&nsp).and_then(Option::take),
            Ok(mut wanted) => wanted.remove(&nsp).flatten(),
            Err(_) => None,
        };
        if !accepted {
            self.receiver.forget(&nsp);
        }
        match waiter {
            Some(waiter) => {
                let _ = waiter.send(answer);
            }
            // A second CONNECT reply for a socket already connected: no conforming server
            // sends one, and nobody is waiting to hear it.
            None if accepted => {}
            None => {
                self.end_namespace(&nsp, "the server refused the socket after accepting it")
                    .await?
            }
        }
        Ok(())
    }

    /// The socket on `nsp` is gone: forget it, and tell the owner (a waiter for its CONNECT
    /// reply, or the event queue).
    async fn end_namespace(&mut self, nsp: &str, reason: &str) -> Result<(), String> {
        self.receiver.forget(nsp);
        let waiter = self
            .namespaces
            .lock()
            .ok()
            .and_then(|mut m| m.remove(nsp))
            .flatten();
        if let Some(waiter) = waiter {
            let _ = waiter.send(Err((format!("{reason} before its CONNECT reply"), None)));
            return Ok(());
        }
        let received = Received {
            nsp: nsp.to_owned(),
            item: Incoming::Closed {
                reason: reason.to_owned(),
            },
        };
        self.deliver
            .send((received, None))
            .await
            .map_err(|_| "nobody reads this client any more".to_owned())
    }

    /// Brings the receiver's sockets in line with the namespaces the owner wants: one joined
    /// since the last frame gets a socket, one it left loses its socket.
    fn sync_namespaces(&mut self) {
        let Ok(wanted) = self.namespaces.lock() else {
            return;
        };
        for nsp in wanted.keys() {
            self.receiver.join(nsp);
        }
        let left: Vec<String> = self
            .receiver
            .joined()
            .filter(|nsp| !wanted.contains_key(*nsp))
            .map(str::to_owned)
            .collect();
        drop(wanted);
        for nsp in left {
            self.receiver.forget(&nsp);
        }
    }

    /// The error once a binary packet's attachments are overdue.
    pub fn overdue(&self) -> String {
        let (got, want) = self.receiver.awaiting_attachments().unwrap_or_default();
        format!(
            "a binary packet announced {want} attachments and only {got} arrived within {ATTACHMENTS_WITHIN:?}"
        )
    }

    /// The reader's last word: why it stopped.
    pub async fn closed(self, reason: String) {
        // Whoever waits for a CONNECT reply on another namespace hears it will not come.
        if let Ok(mut wanted) = self.namespaces.lock() {
            wanted.values_mut().for_each(|waiter| drop(waiter.take()));
        }
        let received = Received {
            nsp: self.receiver.first_nsp().to_owned(),
            item: Incoming::Closed { reason },
        };
        let _ = self.deliver.send((received, None)).await;
    }
}
