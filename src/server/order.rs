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
//! What this does not bound: a client that sends faster than the server handles makes the line
//! grow, one small task and one piece of work per packet (each packet is at most
//! `realtime::MAX_PAYLOAD` bytes). socketioxide spawned a task per packet before this line
//! existed too; Node instead stops reading the socket while it is busy. A bound on the line per
//! client would belong here.
//!
//! A ticket whose work never comes (an extractor after it refused the packet, a task dropped at
//! shutdown) is given up when the ticket is dropped, and the worker skips it, so one lost ticket
//! cannot stop the line.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::FutureExt;
use socketioxide::adapter::Adapter;
use socketioxide::extract::State;
use socketioxide::handler::{FromConnectParts, FromDisconnectParts, FromMessageParts, Value};
use socketioxide::socket::{DisconnectReason, Socket};
use tokio::sync::mpsc;

/// One handler's work.
type Work = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The ticket counter and the way to the server's worker, shared by all its handlers.
#[derive(Debug)]
pub struct Turnstile {
    /// The next ticket to hand out.
    next: AtomicU64,
    /// To the worker: a ticket with its work, or with nothing when the ticket was given up.
    work: mpsc::UnboundedSender<(u64, Option<Work>)>,
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
        })
    }

    /// Takes the next ticket. Call it where the packet is received, not in a spawned task.
    pub fn ticket(self: &Arc<Self>) -> Turn {
        let number = self.next.fetch_add(1, Ordering::SeqCst);
        Turn {
            number,
            turnstile: Some(self.clone()),
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
    /// `None` once the work has been handed over.
    turnstile: Option<Arc<Turnstile>>,
}

impl Turn {
    /// Runs `work` in this ticket's turn: after the work of every packet that arrived earlier,
    /// before the work of every packet that arrived later. Returns at once.
    pub fn run(mut self, work: impl Future<Output = ()> + Send + 'static) {
        if let Some(turnstile) = self.turnstile.take() {
            // Fails only when the worker is gone, that is when the server is: nothing to run.
            let _ = turnstile.work.send((self.number, Some(Box::pin(work))));
        }
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
        Ok(turnstile(
            State::<Arc<Turnstile>>::from_message_parts(s, v, ack).ok(),
        ))
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
