//! Every bound a server can push the simulated client against, in one place, with its reason.
//!
//! The lessons talk to our own server, but `check` talks to servers nobody on this project wrote,
//! and `serve --bots` keeps clients connected for as long as the learner likes. Each buffer below
//! is one a peer can fill by sending; each has a number, and the number has a reason. When a
//! bound is hit, the client (or the runner, for the per-step limits) says which one, in words a
//! learner can act on, instead of growing until the machine runs out of memory.
//!
//! The sum that matters is the worst case per client: one frame in flight
//! ([`MAX_MESSAGE_SIZE`]), the queue of delivered items ([`INCOMING_BYTES`]), a partial binary
//! packet ([`MAX_ATTACHMENT_BYTES`]) and, with `--wire`, the frame log ([`WIRE_BUDGET`]): about
//! 5 MiB. Against someone else's server the runner also holds each stage's events, bounded by
//! [`MAX_BYTES_PER_STEP`] and [`MAX_BYTES_PER_RUN`] at their decoded size. A lesson has at most
//! a handful of clients.

use std::time::Duration;

/// The largest single frame (a WebSocket message, or one HTTP long-polling body) the client
/// reads: 1 MiB.
///
/// A WebSocket message can announce itself as gigabytes long, and tungstenite would buffer up to
/// 64 MiB by default before handing it over (a frame over the limit ends the connection, with
/// tungstenite's "Message too long"). Socket.IO servers refuse anything over their own
/// `maxPayload` (1 MB in Node, 100 kB in socketioxide) from clients, and a lesson's messages are
/// a few dozen bytes, so a server that sends more is misbehaving.
pub const MAX_MESSAGE_SIZE: usize = 1 << 20;

/// How many items (events, and the final "closed") may wait in a client's queue before the
/// client stops reading its connection: 256.
///
/// When the queue is full the reader simply waits; the server's frames then wait in TCP's
/// buffers (and, past those, in the server), which is the backpressure TCP was made for. A
/// lesson step delivers one or two events per client; 256 is far more than any step needs.
pub const INCOMING_ITEMS: usize = 256;

/// How many bytes of events may wait in a client's queue: 2 MiB, each event counted at its wire
/// size plus its decoded size.
///
/// [`INCOMING_ITEMS`] alone would let 256 frames of 1 MiB wait (256 MiB). Decoded JSON takes
/// more room than its text: each value in `[0,0,0,…]` is 2 bytes on the wire and 32 in memory,
/// which is why the decoded size counts too. The same budget bounds, in wire bytes, the events a
/// server sends before its CONNECT reply.
pub const INCOMING_BYTES: usize = 2 << 20;

/// How many frames the client sends may wait to be written: 1024.
///
/// The owner emits (lesson steps, bots at human pace, a burst of at most a few hundred), and the
/// reader queues one pong per ping. A server that stops reading makes this queue fill; an emit
/// then fails with a message that says so, and a pong is dropped (the server is not listening).
pub const OUTGOING_FRAMES: usize = 1024;

/// The most frames one client reads from someone else's server in one step: 2000.
///
/// Every frame counts, not only the events the trace shows: heartbeats, packets for other
/// namespaces, binary attachments, no-ops. A step makes a server send a handful. This is twice
/// the runner's event limit (`runner::MAX_EVENTS_PER_STEP`, 1000), so a flood of events is
/// still named as a flood of events, and a flood of anything else is caught here.
pub const MAX_FRAMES_PER_STEP: u64 = 2000;

/// The most bytes one client reads from someone else's server in one step: 2 MiB.
///
/// A step's real traffic is a few hundred bytes, and one message can be at most a server's
/// `maxPayload` (1 MB in Node). Without a byte cap, 999 events of 256 KiB each stayed under the
/// event limit and still made a quarter of a gigabyte per client. Frames count at their wire
/// size and events once more at their decoded size, since decoded JSON can take 16 times its
/// text (see [`INCOMING_BYTES`]).
pub const MAX_BYTES_PER_STEP: u64 = 2 << 20;

/// The most bytes one client reads from someone else's server over a whole stage: 4 MiB.
///
/// The runner keeps each step's events until the stage is judged and printed, so the per-step
/// cap alone would let a long stage add up. Events count here at their decoded size (about 32
/// bytes per JSON value), frames at their wire size, so this bounds what a stage holds per
/// client, whatever the shape of the JSON.
pub const MAX_BYTES_PER_RUN: u64 = 4 << 20;

/// The most data a server's ping may carry: 16 bytes.
///
/// A pong echoes its ping's data, so a ping's data is memory the client must queue to send back.
/// Engine.IO v4 servers ping with no data (`2`); the upgrade probe carries the word `probe`. A
/// ping carrying more is refused as what it is, instead of echoed.
pub const MAX_PING_DATA: usize = 16;

/// The most attachments one binary packet (`45x-` / `46x-`) may announce: 16.
///
/// Each attachment is one more frame the client must hold until the last arrives. A chat
/// message with a picture has one; a server that announces hundreds and sends fewer would make
/// the client hold all of them for nothing.
pub const MAX_ATTACHMENTS: usize = 16;

/// The most bytes the attachments of one binary packet may add up to: 1 MiB, the same as one
/// frame ([`MAX_MESSAGE_SIZE`]): the payload a Node server accepts by default.
pub const MAX_ATTACHMENT_BYTES: usize = 1 << 20;

/// How long a binary packet may wait for its attachments: 5 s.
///
/// A conforming server writes the attachments right after the packet, so they arrive within a
/// round trip; a packet still incomplete after this never will be.
pub const ATTACHMENTS_WITHIN: Duration = Duration::from_secs(5);

/// The most events a server may send before its CONNECT reply, kept until the reply comes: 64.
///
/// python-socketio runs the `connect` handler before it answers, so a greeting emitted there
/// arrives first; socket.io-client buffers such events and delivers them right after it
/// connects. A greeting is one or two events; a server that sends more before it has even
/// accepted the socket is not greeting anyone.
pub const MAX_BUFFERED_BEFORE_CONNECT: usize = 64;

/// The bytes of frames one client keeps for `--wire` between two reads of its log: 256 KiB.
///
/// Frames are kept only when `--wire` will show them (`ConnectOptions::record_wire`). A lesson
/// step's frames are a few hundred bytes; past the budget the log keeps one line that says how
/// many frames and bytes it did not keep, so a cut is never silent.
pub const WIRE_BUDGET: usize = 256 * 1024;

/// The longest text of one frame kept for `--wire`: 4 KiB. Longer frames keep their start and
/// say how many bytes were left out; nobody reads a megabyte of JSON in a terminal.
pub const WIRE_FRAME_TEXT: usize = 4 * 1024;

/// The most of a page's body `http::get` reads: 256 KiB. A page for these lessons is a few
/// kilobytes; the server being checked is someone else's program, and a body that never ends
/// must not fill memory. `http_body_util::Limited` counts the bytes as they arrive.
pub const BODY_LIMIT: usize = 256 * 1024;

/// The most of a page's body `http::HttpReply::body` keeps: 64 KiB, enough for any `<title>`
/// and excerpt.
pub const EXCERPT_LIMIT: usize = 64 * 1024;

/// The longest body of a polling answer that is not a payload (an error page) kept in an
/// error message: 200 characters, enough to show `{"code":0,"message":"Transport unknown"}`.
pub const ERROR_BODY_EXCERPT: usize = 200;

/// The longest an HTTP long-poll GET may stay open: the server's `pingInterval` plus its
/// `pingTimeout`, as socket.io-client allows.
///
/// A server answers a pending GET at the latest when it pings (every `pingInterval`); if no ping
/// has come within `pingTimeout` after that, the session is dead. The margin covers scheduling.
pub fn long_poll_bound(ping_interval_ms: u64, ping_timeout_ms: u64) -> Duration {
    Duration::from_millis(ping_interval_ms.saturating_add(ping_timeout_ms)) + Duration::from_secs(1)
}
