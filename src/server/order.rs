//! One order per server, as Node's socket.io has it: handlers run one at a time, in the order
//! their packets arrived.
//!
//! # Why this is needed
//!
//! Node runs JavaScript on one thread. When two `chat message` packets arrive, the first one's
//! handler runs to its `io.emit`, which queues the packet for every socket, before the second
//! one's handler starts. Every client therefore receives the messages in one order: the order in
//! which the server read them. One client's messages keep the order it sent them in.
//!
//! socketioxide runs every handler call as its own tokio task (`tokio::spawn` in its
//! `MessageHandler::call`), on a runtime with several threads. Two calls may run at the same
//! time, and whichever reaches its emit first queues its packet first: another client may then
//! receive a later message before an earlier one, and two clients may see two different orders.
//!
//! # How the order is kept, without any timer
//!
//! Reading socketioxide 0.18.9 gives two facts:
//!
//! * For each connection, packets are decoded one after another, and each event goes straight to
//!   its handler's `call()` (`Client::on_message` → `Socket::recv_event` → `call`), so `call()`
//!   happens in the order packets arrived.
//! * Inside `call()`, every *extractor* (an argument type implementing `FromMessageParts`) runs
//!   synchronously, before the body is spawned as a task (`src/handler/message.rs`). The
//!   connection handler works the same way (`FromConnectParts`, `src/handler/connect.rs`), called
//!   once the socket is in the namespace, and so does the disconnect handler.
//!
//! So an extractor can take a numbered ticket at the very moment the packet arrives: that is
//! [`Turn`]. The handler's task then hands its work, with its ticket, to the server's one
//! *worker* ([`Turnstile`]), which runs the work in ticket order, one piece after the other, as
//! Node's event loop does. The worker is shared by every handler of a server, so one server has
//! one order, across all its clients.
//!
//! Why a worker, and not each task waiting for its number to be called? Under a flood, tasks
//! that wait for their turn pile up in tokio's run queue, and every turn handed from one task to
//! the next then waits behind all of them: a test with four clients sending as fast as they can
//! saw the line move a few dozen times in ten seconds. One worker runs turn after turn without a
//! hand-over.
//!
//! # How long the line may grow
//!
//! A client that sends faster than the server handles makes the line grow: each event waits in
//! it with its arguments. Node stops reading a busy socket, so its kernel buffers hold the rest
//! and the client slows down. socketioxide cannot: it reads on and hands every packet to
//! `call()`, which cannot wait. So the line is bounded in bytes of waiting packets, counted at
//! their size on the wire: [`SOCKET_BYTES`] for one socket, [`LINE_BYTES`] for the whole
//! server. A packet that would go past either is refused as it arrives ([`Turn::refused`]), and
//! the handler reports it instead of running. Connections and disconnections always get their
//! turn: they carry no payload, and a socket's own bookkeeping depends on them.
//!
//! A lesson's burst is a few small messages, and the suite's order test sends 100 from one
//! client back to back: a few kilobytes. Only a flood of large packets reaches the bounds.
//!
//! A ticket whose work never comes (an extractor after it refused the packet, a task dropped at
//! shutdown) is given up when the ticket is dropped, and the worker skips it, so one lost ticket
//! cannot stop the line.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use socketioxide::adapter::Adapter;
use socketioxide::extract::State;
use socketioxide::handler::{FromConnectParts, FromDisconnectParts, FromMessageParts, Value};
use socketioxide::socket::{DisconnectReason, Sid, Socket};
use tokio::sync::mpsc;

/// One handler's work.
type Work = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The most bytes of one socket's packets that may wait in the line: 1 MiB, 64 chat messages of
/// the largest size (`realtime::MAX_PAYLOAD`, 16 KiB) and thousands of ordinary ones.
pub const SOCKET_BYTES: usize = 1 << 20;

/// The most bytes of packets that may wait in the line, all sockets together: 4 MiB.
pub const LINE_BYTES: usize = 4 << 20;

/// The ticket counter and the way to the server's worker, shared by all its handlers.
#[derive(Debug)]
pub struct Turnstile {
    /// The next ticket to hand out.
    next: AtomicU64,
    /// To the worker: a ticket with its work, or with nothing when the ticket was given up.
    /// Unbounded as a channel, bounded by what [`Turnstile::waiting`] lets in.
    work: mpsc::UnboundedSender<(u64, Option<Work>)>,
    /// The bytes of packets in the line, per socket and in all.
    waiting: Mutex<Waiting>,
}

#[derive(Debug, Default)]
struct Waiting {
    per_socket: HashMap<Sid, usize>,
    total: usize,
}

impl Turnstile {
    /// A turnstile and its worker, spawned on the current tokio runtime. The worker ends when
    /// the turnstile and every ticket are gone.
    pub fn start() -> Arc<Self> {
        let (work, line) = mpsc::unbounded_channel();
        tokio::spawn(serve_in_order(line));
        Arc::new(Self {
            next: AtomicU64::new(0),
            work,
            waiting: Mutex::default(),
        })
    }

    /// Takes the next ticket. Call it where the packet is received, not in a spawned task.
    pub fn ticket(self: &Arc<Self>) -> Turn {
        let number = self.next.fetch_add(1, Ordering::SeqCst);
        Turn {
            number,
            turnstile: Some(self.clone()),
            place: None,
            refused: None,
        }
    }

    /// A ticket for a packet of `bytes` from socket `sid`, or a refusal when the packet would
    /// take the line past [`SOCKET_BYTES`] or [`LINE_BYTES`] (see the module documentation).
    pub fn ticket_for(self: &Arc<Self>, sid: Sid, bytes: usize) -> Turn {
        {
            let mut waiting = self.waiting();
            let mine = waiting.per_socket.get(&sid).copied().unwrap_or(0);
            let refused = if mine + bytes > SOCKET_BYTES {
                Some(format!(
                    "too busy: {} KiB of this socket's messages wait already (at most {} KiB)",
                    mine >> 10,
                    SOCKET_BYTES >> 10
                ))
            } else if waiting.total + bytes > LINE_BYTES {
                Some(format!(
                    "too busy: {} KiB of messages wait already (at most {} KiB)",
                    waiting.total >> 10,
                    LINE_BYTES >> 10
                ))
            } else {
                None
            };
            if refused.is_some() {
                return Turn {
                    number: 0,
                    turnstile: None,
                    place: None,
                    refused,
                };
            }
            *waiting.per_socket.entry(sid).or_default() += bytes;
            waiting.total += bytes;
        }
        let mut turn = self.ticket();
        turn.place = Some(Place {
            turnstile: self.clone(),
            sid,
            bytes,
        });
        turn
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, Waiting> {
        // The counts are updated in one step each; a poisoned lock still holds them whole.
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bytes of packets waiting in the line, all sockets together.
    pub fn waiting_bytes(&self) -> usize {
        self.waiting().total
    }
}

/// A packet's room in the line, given back when its work has run or will never run (dropped
/// with the work, or with the ticket that was given up).
#[derive(Debug)]
struct Place {
    turnstile: Arc<Turnstile>,
    sid: Sid,
    bytes: usize,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut waiting = self.turnstile.waiting();
        waiting.total = waiting.total.saturating_sub(self.bytes);
        if let Some(mine) = waiting.per_socket.get_mut(&self.sid) {
            *mine = mine.saturating_sub(self.bytes);
            if *mine == 0 {
                waiting.per_socket.remove(&self.sid);
            }
        }
    }
}

/// The worker: runs each ticket's work once every earlier ticket's work has finished (or was
/// given up). Work that arrives early waits in `early`; the map holds only what has arrived out
/// of order, never more than the work that has arrived and not yet run.
async fn serve_in_order(mut line: mpsc::UnboundedReceiver<(u64, Option<Work>)>) {
    let mut next = 0;
    let mut early: BTreeMap<u64, Option<Work>> = BTreeMap::new();
    while let Some((number, work)) = line.recv().await {
        early.insert(number, work);
        while let Some(work) = early.remove(&next) {
            if let Some(work) = work {
                // A handler that panics ends its own turn, not the server's line.
                let _ = AssertUnwindSafe(work).catch_unwind().await;
            }
            next += 1;
        }
    }
}

/// One handler call's place in its server's line, taken by socketioxide while it reads the
/// packet (see the module documentation). [`Turn::run`] hands the handler's work over; dropping
/// the ticket without it gives the turn up.
#[derive(Debug)]
pub struct Turn {
    number: u64,
    /// `None` once the work has been handed over, and for a refused packet.
    turnstile: Option<Arc<Turnstile>>,
    /// The packet's room in the line (events only), given back once its work is done.
    place: Option<Place>,
    /// Why the packet was refused a place in the line, if it was.
    refused: Option<String>,
}

impl Turn {
    /// Runs `work` in this ticket's turn: after the work of every packet that arrived earlier,
    /// before the work of every packet that arrived later. Returns at once. A refused packet's
    /// work never runs: check [`Turn::refused`] first.
    pub fn run(mut self, work: impl Future<Output = ()> + Send + 'static) {
        if let Some(turnstile) = self.turnstile.take() {
            // The room goes with the work, and is given back when the work ends (or panics).
            let place = self.place.take();
            let work = async move {
                let _place = place;
                work.await;
            };
            // Fails only when the worker is gone, that is when the server is: nothing to run.
            let _ = turnstile.work.send((self.number, Some(Box::pin(work))));
        }
    }

    /// Why this packet was refused a place in the line, or `None` when it has its turn.
    pub fn refused(&self) -> Option<&str> {
        self.refused.as_deref()
    }

    /// This ticket's number, in arrival order from 0.
    pub fn number(&self) -> u64 {
        self.number
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some(turnstile) = self.turnstile.take() {
            let _ = turnstile.work.send((self.number, None));
        }
    }
}

impl<A: Adapter> FromMessageParts<A> for Turn {
    type Error = Infallible;
    fn from_message_parts(s: &Arc<Socket<A>>, v: &mut Value, ack: &Option<i64>) -> Result<Self, Infallible> {
        // An event's packet as it came off the wire, with its binary attachments.
        let attachments = match &*v {
            Value::Str(_, Some(bins)) => bins.iter().map(|b| b.len()).sum(),
            _ => 0,
        };
        let bytes = (v.len() + attachments).max(1);
        Ok(match State::<Arc<Turnstile>>::from_message_parts(s, v, ack) {
            Ok(State(turnstile)) => turnstile.ticket_for(s.id, bytes),
            Err(_) => Turnstile::start().ticket(),
        })
    }
}

impl<A: Adapter> FromConnectParts<A> for Turn {
    type Error = Infallible;
    fn from_connect_parts(s: &Arc<Socket<A>>, auth: &Option<Value>) -> Result<Self, Infallible> {
        Ok(turnstile(
            State::<Arc<Turnstile>>::from_connect_parts(s, auth).ok(),
        ))
    }
}

impl<A: Adapter> FromDisconnectParts<A> for Turn {
    type Error = Infallible;
    fn from_disconnect_parts(s: &Arc<Socket<A>>, reason: DisconnectReason) -> Result<Self, Infallible> {
        Ok(turnstile(
            State::<Arc<Turnstile>>::from_disconnect_parts(s, reason).ok(),
        ))
    }
}

/// The server's turnstile, or (for a server built without one) a line of its own.
fn turnstile(state: Option<State<Arc<Turnstile>>>) -> Turn {
    match state {
        Some(State(turnstile)) => turnstile.ticket(),
        None => Turnstile::start().ticket(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;

    /// Work runs in ticket order, whatever order it is handed over in, and one piece at a time.
    #[tokio::test(flavor = "current_thread")]
    async fn work_runs_in_ticket_order_one_at_a_time() {
        let line = Turnstile::start();
        let tickets: Vec<Turn> = (0..5).map(|_| line.ticket()).collect();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (done, mut finished) = mpsc::unbounded_channel();
        for turn in tickets.into_iter().rev() {
            let (log, done) = (log.clone(), done.clone());
            let n = turn.number();
            turn.run(async move {
                log.lock().unwrap().push(format!("start {n}"));
                tokio::task::yield_now().await;
                log.lock().unwrap().push(format!("end {n}"));
                let _ = done.send(());
            });
        }
        for _ in 0..5 {
            tokio::time::timeout(Duration::from_secs(5), finished.recv())
                .await
                .unwrap();
        }
        let expected: Vec<String> = (0..5)
            .flat_map(|n| [format!("start {n}"), format!("end {n}")])
            .collect();
        assert_eq!(*log.lock().unwrap(), expected);
    }

    /// A socket that floods is refused past its bound, another socket is not, and the room
    /// comes back once the waiting work has run.
    #[tokio::test(flavor = "current_thread")]
    async fn the_line_is_bounded_per_socket_and_gives_room_back() {
        let line = Turnstile::start();
        let (flooder, other) = (Sid::new(), Sid::new());
        let chunk = SOCKET_BYTES / 4;
        let held: Vec<Turn> = (0..4).map(|_| line.ticket_for(flooder, chunk)).collect();
        assert!(held.iter().all(|t| t.refused().is_none()));
        let refused = line.ticket_for(flooder, 1);
        let why = refused.refused().expect("past the socket's bound");
        assert!(why.contains("this socket's messages"), "{why}");
        drop(refused);
        assert!(
            line.ticket_for(other, chunk).refused().is_none(),
            "another socket still gets in"
        );
        let (done, mut finished) = mpsc::unbounded_channel();
        for turn in held {
            let done = done.clone();
            turn.run(async move {
                let _ = done.send(());
            });
        }
        for _ in 0..4 {
            tokio::time::timeout(Duration::from_secs(5), finished.recv())
                .await
                .unwrap();
        }
        tokio::task::yield_now().await;
        assert_eq!(line.waiting_bytes(), 0, "every place was given back");
        assert!(line.ticket_for(flooder, chunk).refused().is_none());
    }

    /// All sockets together are bounded too.
    #[tokio::test(flavor = "current_thread")]
    async fn the_line_is_bounded_for_the_whole_server() {
        let line = Turnstile::start();
        let held: Vec<Turn> = (0..LINE_BYTES / SOCKET_BYTES)
            .map(|_| line.ticket_for(Sid::new(), SOCKET_BYTES))
            .collect();
        assert!(held.iter().all(|t| t.refused().is_none()));
        let turn = line.ticket_for(Sid::new(), 1);
        let why = turn.refused().expect("past the server's bound");
        assert!(why.contains("KiB of messages wait"), "{why}");
        drop(held);
        assert_eq!(line.waiting_bytes(), 0, "tickets given up give their room back");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_ticket_given_up_is_skipped_and_a_panic_ends_only_its_turn() {
        let line = Turnstile::start();
        let (first, lost, third, fourth) = (line.ticket(), line.ticket(), line.ticket(), line.ticket());
        let (done, mut finished) = mpsc::unbounded_channel();
        fourth.run(async move {
            let _ = done.send("fourth");
        });
        third.run(async { panic!("a handler panics") });
        drop(lost);
        first.run(async {});
        let ran = tokio::time::timeout(Duration::from_secs(5), finished.recv()).await;
        assert_eq!(ran, Ok(Some("fourth")));
    }
}
