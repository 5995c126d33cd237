//! realtime-tutor: run Socket.IO lessons live and show who received what.
//!
//! The crate map, from the command line down to the words everything shares. Each module uses
//! only the modules listed *below* it, never one above (the test suite's `layers` test reads this
//! list and checks every `crate::` path in `src/` against it):
//!
//! * [`cli`]: the command line: arguments, exit statuses, Ctrl-C, and which library call to make.
//! * [`live`]: `serve` as a library: a lesson's server for real browsers, bots and a live trace.
//! * [`ui`]: every byte printed for a person: styles, lessons, traces, summaries, `check`'s
//!   verdicts, serve's live trace, and the sequence diagram (SVG) of who received what.
//! * [`check`]: judges someone else's server from a lesson's scenario played against it.
//! * [`doctor`]: probes someone else's Socket.IO deployment the way a page's `io()` reaches it,
//!   and names what is wrong (CORS, path, protocol, upgrade, sticky sessions, namespace).
//! * [`runner`]: plays a stage: starts its server, connects clients, performs the steps, and
//!   records what each client observed.
//! * [`quiz`]: predict mode's questions, answers and verdicts, judged against the trace.
//! * [`trace`]: the observed traces (a lesson's, and serve's live one) as plain data, with their
//!   JSON, and the rule for printing text that came from someone else's program.
//! * [`progress`]: finished stages and prediction scores, kept in a small file between runs.
//! * [`lesson`]: the lessons, loaded from the `lessons/` folder embedded in the binary.
//! * [`server`]: the stage servers (axum + socketioxide), built like the Node.js code they mirror.
//! * [`parts`]: the real parts the delivery and scaling lessons need: where the tutor keeps its
//!   files, an SQLite message store, a private Redis, and servers joined by the Redis adapter.
//! * [`client`]: the simulated Socket.IO clients and their pure packet codec.
//! * [`vocab`]: the words of Socket.IO the rest shares (triggers, audiences, a handler's declared
//!   effect, why a socket did not receive), as plain data.

pub mod check;
pub mod cli;
pub mod client;
pub mod doctor;
pub mod lesson;
pub mod live;
pub mod parts;
pub mod progress;
pub mod quiz;
pub mod runner;
pub mod server;
pub mod trace;
pub mod ui;
pub mod vocab;
