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
//! So an extractor can take a numbered ticket at the very moment the packet arrives, and the body
//! can wait until its number is called: a ticket lock, like the numbered tickets at a counter.
//! That is [`Turn`]. A handler that holds its turn emits, then gives the turn up; the next ticket
//! in arrival order goes next. The lock is shared by every handler of a server, so one server
//! has one order, across all its clients.
//!
//! A ticket whose handler never runs (an extractor after it refused the packet, or a task dropped
//! at shutdown) is skipped when its number comes up, so one lost ticket cannot stop the line.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use socketioxide::adapter::Adapter;
use socketioxide::extract::State;
use socketioxide::handler::{FromConnectParts, FromDisconnectParts, FromMessageParts, Value};
use socketioxide::socket::{DisconnectReason, Socket};
use tokio::sync::oneshot;

/// The ticket counter and the line, shared by all the handlers of one server.
#[derive(Debug, Default)]
pub struct Turnstile {
    /// The next ticket to hand out.
    next: AtomicU64,
    line: Mutex<Line>,
}

/// Who is served now, who waits, and who gave up.
#[derive(Debug, Default)]
struct Line {
    /// The ticket whose handler may run now.
    serving: u64,
    /// Handlers waiting for their number, each with the one bell that wakes it. Only the next
    /// number's bell is rung: waking every waiter at each turn (as a broadcast would) costs a
    /// wake-up per waiter per turn, and under a flood of messages the line never moves.
    bells: BTreeMap<u64, oneshot::Sender<()>>,
    /// Tickets given up before their turn came, to be skipped.
    abandoned: BTreeSet<u64>,
}

impl Turnstile {
    /// Takes the next ticket. Call it where the packet is received, not in a spawned task.
    pub fn ticket(self: &Arc<Self>) -> Turn {
        let number = self.next.fetch_add(1, Ordering::SeqCst);
        Turn {
            number,
            turnstile: self.clone(),
        }
    }

    fn line(&self) -> MutexGuard<'_, Line> {
        // No code panics while holding this lock, but a poisoned lock still holds a valid line.
        self.line.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ticket `number` is done, or will never run: if it was being served, call the next number
    /// that has not been given up; if not, remember to skip it. One lock makes "is it this
    /// ticket's turn?" and the change one step, so no turn is lost between them.
    fn leave(&self, number: u64) {
        let mut line = self.line();
        line.bells.remove(&number);
        if line.serving != number {
            line.abandoned.insert(number);
            return;
        }
        let mut next = number + 1;
        while line.abandoned.remove(&next) {
            next += 1;
        }
        line.serving = next;
        if let Some(bell) = line.bells.remove(&next) {
            let _ = bell.send(());
        }
    }
}

/// One handler call's place in its server's line. Taken by socketioxide while it reads the
/// packet (see the module documentation); the handler's body calls [`Turn::wait`] first.
/// Dropping it, served or not, lets the line move on.
#[derive(Debug)]
pub struct Turn {
    number: u64,
    turnstile: Arc<Turnstile>,
}

/// The handler's turn, held until dropped: the next handler in line waits until then.
#[derive(Debug)]
pub struct Serving {
    _turn: Turn,
}

impl Turn {
    /// Waits until every handler whose packet arrived earlier has finished.
    pub async fn wait(self) -> Serving {
        let bell = {
            let mut line = self.turnstile.line();
            if line.serving == self.number {
                None
            } else {
                let (ring, bell) = oneshot::channel();
                line.bells.insert(self.number, ring);
                Some(bell)
            }
        };
        if let Some(bell) = bell {
            // The sender lives in the line until it is rung; it is dropped unrung only when the
            // server itself goes away, and then there is nothing left to wait for.
            let _ = bell.await;
        }
        Serving { _turn: self }
    }

    /// This ticket's number, in arrival order from 0.
    pub fn number(&self) -> u64 {
        self.number
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.turnstile.leave(self.number);
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

/// The server's turnstile, or (for a server built without one) a line of its own that never
/// makes anyone wait.
fn turnstile(state: Option<State<Arc<Turnstile>>>) -> Turn {
    match state {
        Some(State(turnstile)) => turnstile.ticket(),
        None => Arc::new(Turnstile::default()).ticket(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Turns are served in ticket order, whatever order the waiters start in. One thread, so
    /// tasks interleave only at `.await`s and the order is the code's, not a timer's.
    #[tokio::test(flavor = "current_thread")]
    async fn turns_are_served_in_ticket_order() {
        let line = Arc::new(Turnstile::default());
        let tickets: Vec<Turn> = (0..5).map(|_| line.ticket()).collect();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for turn in tickets.into_iter().rev() {
            let log = log.clone();
            tasks.push(tokio::spawn(async move {
                let n = turn.number();
                let _serving = turn.wait().await;
                log.lock().unwrap().push(n);
                tokio::task::yield_now().await;
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*log.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_ticket_given_up_before_its_turn_is_skipped() {
        let line = Arc::new(Turnstile::default());
        let first = line.ticket();
        let lost = line.ticket();
        let third = line.ticket();
        drop(lost);
        drop(first.wait().await);
        let waited = tokio::time::timeout(std::time::Duration::from_secs(5), third.wait()).await;
        assert!(waited.is_ok(), "the third ticket was served after the lost one");
    }
}
