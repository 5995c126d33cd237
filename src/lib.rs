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
//!
//! This is the project's one file map: the README and the book link here instead of repeating
//! it, and each module's own documentation describes its files.
//!
//! # Beyond `src/`
//!
//! * `lessons/NN-slug/`: one lesson per folder, embedded in the binary: `lesson.toml` (its
//!   stages, the server each runs, the steps and what each should deliver), the prose
//!   (`intro.md`, `stage-K.md`, `exercise.md`), each stage's Node.js code (`stage-K.js`), and
//!   an optional `book.toml`, what the lesson's book chapter says beyond those files (see
//!   [`lesson`]).
//! * `snapshots/`: every stage's text trace, every lesson's summary and JSON, as the tests
//!   expect them; the book shows these files.
//! * `book/`: the mdBook. Its lesson chapters, its table of contents and the lesson lists are
//!   generated from `lessons/`; `book/src/diagrams/` holds one sequence diagram per stage.
//! * `tests/suite/`: the integration tests, compiled as one binary; `tests/node/`: the lessons'
//!   servers written with the real Express and socket.io, to prove the traces match Node's;
//!   `tests/browser/`: the browser and `socket.io-client` tests of `serve`; `tests/python/`:
//!   python-socketio servers for `check`.
//!
//! # Where each idea lives
//!
//! * `express()`, the app: `src/server/app.rs`; `createServer(app)` and `listen`, the HTTP
//!   server: `src/server/http.rs`; `new Server(server)`, attaching Socket.IO:
//!   `src/server/realtime.rs`.
//! * The words lessons and the engine share (triggers, audiences, effects, why-not):
//!   `src/vocab.rs`.
//! * The named handlers (`io.emit`, `socket.broadcast.emit`, rooms, acks), one file per topic:
//!   `src/server/handlers/`; which handler a stage runs for each trigger:
//!   `src/server/behaviour.rs`; one order per server, as Node has it: `src/server/order.rs`.
//! * What the lessons do not teach, kept apart from what they do: how the tutor reads whom an
//!   emit reached from the server's own state, `src/server/observe/`; what keeps `serve` safe
//!   for real browsers (the Origin rule, the bound on unused sessions, body deadlines),
//!   `src/server/guard/`.
//! * Store before emit, server and client offsets (lesson 6): `src/server/handlers/delivery.rs`,
//!   `src/parts/store.rs`, `src/runner/delivery.rs`.
//! * socket.io-client's `retries` / `ackTimeout` queue, buffering while disconnected:
//!   `src/client/outbox.rs`, `src/runner/queue.rs`.
//! * Handler reports and fences: made in `src/server/realtime.rs` (types and the fence in
//!   `src/server/mod.rs`), read in `src/runner/`.
//! * The Engine.IO / Socket.IO packet format: `src/client/protocol.rs`; a Socket.IO client over
//!   long-polling or WebSocket, and the upgrade: `src/client/connection.rs`,
//!   `src/client/engine/handshake.rs`; one socket per namespace over that one session, as
//!   socket.io-client's Manager multiplexes them: `src/client/socket.rs`,
//!   `src/client/namespaces.rs`.
//! * Namespaces and connect middleware (lesson 8): the handlers and middlewares,
//!   `src/server/handlers/namespaces.rs`; registering each namespace, `src/server/spaces.rs`;
//!   which namespace an emit is made in and the why-not "no socket in '/admin'", `src/vocab.rs`
//!   and `src/server/observe/live.rs`; a client joining another namespace over its session, and
//!   a refused CONNECT, `src/runner/join.rs`.
//! * Acknowledgements both ways (a client's callback, the server's `emitWithAck` and how a
//!   simulated client answers it): `src/server/handlers/acks.rs`; `src/client/inbound.rs`
//!   (`ConnectOptions::answers`); `src/lesson/answers.rs`.
//! * The observed trace as plain data, and its JSON: `src/trace/`.
//! * Every byte printed for a person (styles, lessons, traces, summaries, verdicts, serve's live
//!   trace): `src/ui/` (`style.rs` is the only place that knows colours); sequence diagrams
//!   (SVG), and their browser-side twin: `src/ui/diagram.rs`, `src/ui/svg.rs`, and in the
//!   browser `src/ui/diagram.js`, `svg.js`, `follow.js`.
//! * Predict mode's questions and judging (no terminal needed): `src/quiz.rs`; the terminal
//!   side in `src/cli/predict/`, `src/cli/terminal.rs`.
//! * Judging a learner's server (`check`): `src/check/`, `src/cli/check.rs`.
//! * Diagnosing a real deployment (`doctor`): the raw probes, each check, and the one table from
//!   a finding to the lesson stages that show it: `src/doctor/` (`findings.rs` holds the table),
//!   `src/ui/doctor.rs`, `src/cli/doctor.rs`.
//! * Which sockets a full buffer lost a broadcast for: `src/server/observe/tally.rs`.
//! * Why a page does not connect (lesson 9): `new Server(httpServer, { … })`'s options and an
//!   access log, `src/server/stage_config.rs`; a reverse proxy that drops or forwards
//!   `Upgrade`, `src/server/proxy.rs`; a page's `io()` with its origin, the browser's CORS rule
//!   and what socket.io-client reports, `src/client/page.rs`; the steps, `src/runner/failures.rs`.
//! * The modules' order above (each uses only those below it): checked by
//!   `tests/suite/layers.rs`.

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
