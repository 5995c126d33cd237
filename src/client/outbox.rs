//! The client's queue of emits that wait for an acknowledgement: what socket.io-client does with
//! `io({ retries, ackTimeout })`.
//!
//! With the `retries` option set, socket.io-client does not put an emit on the wire at once. It
//! adds it to a queue (its private `_queue`) and sends one packet at a time, each with an
//! acknowledgement callback of its own, even when the application passed none:
//!
//! * The head of the queue is sent, and the client waits `ackTimeout` milliseconds for its ACK.
//! * An ACK takes the packet off the queue, and the next one goes.
//! * No ACK in time: the same packet is sent again (with a new ack id), up to `retries` more
//!   times; after that it is dropped and the callback gets a timeout error.
//! * While the socket is disconnected nothing is sent: emits wait in the queue (an emit without
//!   `retries` waits in the `sendBuffer`, the same idea). When the socket connects again, the
//!   head is sent at once, *even if it had been sent before and was waiting for its ACK*: an ACK
//!   that was on its way when the connection broke is lost with it.
//!
//! That last rule is why retries give **at least once**: the server may well have received and
//! stored the first try, and only its answer was lost; the second try is a duplicate. The server
//! makes it **exactly once** by recognising the duplicate: the tutorial's client offset under a
//! `UNIQUE` constraint (see `server::handlers::delivery`).
//!
//! [`Outbox`] keeps the queue across the connections of one client name (a page's single
//! `socket` object outlives its connections; each [`SimClient`] is one connection), and sends
//! through whichever connection is current.

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::Value;

use super::{ConnectError, SimClient};

/// The most emits one client's queue holds. socket.io-client's queue has no bound; a lesson
/// queues a handful, and a bound keeps a mistaken lesson from growing it without end.
pub const MAX_QUEUED: usize = 100;

/// One emit waiting in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub event: String,
    pub args: Vec<Value>,
    /// How many times it has been sent (socket.io-client's `tryCount`).
    pub tries: u32,
}

/// How one queued emit ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// The server acknowledged it, on this try, with these arguments.
    Acked { tries: u32, answer: Vec<Value> },
    /// No acknowledgement came in time on any try: dropped, and the callback got a timeout
    /// error (after `tries` times `ackTimeout`).
    GaveUp { tries: u32 },
}

/// socket.io-client's `retries` / `ackTimeout` queue. See the module documentation.
#[derive(Debug, Clone)]
pub struct Outbox {
    /// `retries`: how many times a packet is sent again after its first try.
    pub retries: u32,
    /// `ackTimeout`: how long each try waits for its acknowledgement.
    pub ack_timeout: Duration,
    queue: VecDeque<Waiting>,
}

impl Outbox {
    pub fn new(retries: u32, ack_timeout: Duration) -> Self {
        Self {
            retries,
            ack_timeout,
            queue: VecDeque::new(),
        }
    }

    /// `socket.emit(event, ...args)`: the emit joins the queue.
    pub fn push(&mut self, event: &str, args: Vec<Value>) -> Result<(), ConnectError> {
        if self.queue.len() >= MAX_QUEUED {
            return Err(ConnectError::Other(format!(
                "the client's queue already holds {MAX_QUEUED} emits"
            )));
        }
        self.queue.push_back(Waiting {
            event: event.to_owned(),
            args,
            tries: 0,
        });
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The emits waiting, the head first.
    pub fn waiting(&self) -> impl Iterator<Item = &Waiting> {
        self.queue.iter()
    }

    /// Sends the head once, and does not wait for its answer: the caller is about to lose the
    /// connection before the acknowledgement can be read (a step whose connection drops before
    /// the answer). The packet stays at the head, counted as tried, as socket.io-client keeps a
    /// packet whose ACK has not come.
    pub fn send_head_unanswered(&mut self, client: &mut SimClient) -> Result<(), ConnectError> {
        let Some(head) = self.queue.front_mut() else {
            return Ok(());
        };
        head.tries += 1;
        // The answer's receiver is dropped at once: whatever the server answers on this
        // connection, the client's code will never read it.
        let _unanswered = client.emit_with_ack(&head.event, head.args.clone())?;
        Ok(())
    }

    /// Sends every waiting emit in order through `client`, each until it is acknowledged or its
    /// tries are used up (socket.io-client's `_drainQueue`, on connect and after each emit).
    /// Returns how each ended, and the number of packets put on the wire.
    ///
    /// `answered_within` says, for an emit, whether its answer is known to be coming: `Some(bound)`
    /// when the server's own handler declares that it calls the callback (the tutor's server,
    /// whose code we run). Such a try waits for its answer up to `bound`, the limit on every
    /// wait, and an answer later than that is an error. Otherwise a slow machine would decide the
    /// outcome: an answer the server did send, arriving after `ackTimeout` because the machine
    /// was busy, would make the trace show a retry the lesson's server never caused. Only an emit
    /// the server does not answer waits for `ackTimeout` to run out, which is what its lesson
    /// teaches.
    pub async fn drain(
        &mut self,
        client: &mut SimClient,
        answered_within: impl Fn(&Waiting) -> Option<Duration>,
    ) -> Result<(Vec<Settled>, u32), ConnectError> {
        let mut settled = Vec::new();
        let mut sent = 0;
        while let Some(head) = self.queue.front_mut() {
            let known = answered_within(head);
            loop {
                head.tries += 1;
                sent += 1;
                let answer = client.emit_with_ack(&head.event, head.args.clone())?;
                let within = known.unwrap_or(self.ack_timeout);
                match tokio::time::timeout(within, answer).await {
                    Ok(Ok(answer)) => {
                        settled.push(Settled::Acked {
                            tries: head.tries,
                            answer,
                        });
                        break;
                    }
                    Ok(Err(_)) => {
                        return Err(ConnectError::Other(
                            "the connection closed while an emit waited for its acknowledgement".into(),
                        ));
                    }
                    Err(_) if known.is_some() => {
                        return Err(ConnectError::Other(format!(
                            "no acknowledgement of '{}' within {within:?}, though the server's \
                             handler calls its callback",
                            head.event
                        )));
                    }
                    // `tryCount > retries`: dropped, with a timeout error for the callback.
                    Err(_) if head.tries > self.retries => {
                        settled.push(Settled::GaveUp { tries: head.tries });
                        break;
                    }
                    Err(_) => continue,
                }
            }
            self.queue.pop_front();
        }
        Ok((settled, sent))
    }
}
