//! The raw frames of one chat message, kept as a snapshot for the book's "How the tutor works".
//!
//! This is `realtime-tutor lesson 3 --stage 1 --wire --transports websocket`, cut after the first
//! chat message (the burst that follows interleaves each client's sent and received frames by
//! timing). WebSocket-only clients, because the chapter reads one WebSocket session frame by
//! frame, and because over long-polling the first ping's pong is a POST whose place among the
//! handshake's requests is timing. Two kinds of text change from run to run and are handled by
//! filters, never by editing the trace:
//!
//! * session ids (`"sid":"…"`) are masked as `<sid>`;
//! * heartbeat frames (`2` ping, `3` pong) are taken out. socketioxide sends its first ping the
//!   moment a session opens, from a separate task, so where it lands among the other frames is
//!   a matter of timing. The book says so next to the capture.

use realtime_tutor::client::Transport;
use realtime_tutor::runner::{self, RunOptions, Target};
use realtime_tutor::trace::StageTrace;

use crate::common::{lessons, plain_trace, runtime, snapshot_settings};

/// The steps shown: three clients connect, then alice sends one message.
const STEPS_SHOWN: u32 = 4;

/// A heartbeat line as `--wire` prints it: client name, arrow, `2` or `3`, then its label.
const HEARTBEAT_LINE: &str = r"(?m)^ +[a-z]+ +[←→] server  [23]  \(Engine.IO heartbeat[^\n]*\n";

fn first_chat_message_with_wire() -> StageTrace {
    let lesson = &lessons()[2];
    let stage = &lesson.stages[0];
    let options = RunOptions {
        wire: true,
        transports: vec![Transport::WebSocket],
        ..RunOptions::default()
    };
    let mut trace = runtime()
        .block_on(runner::run_stage(lesson, stage, &Target::Local, &options))
        .expect("lesson 3 stage 1 runs");
    trace.steps.retain(|s| s.step <= STEPS_SHOWN);
    trace
}

#[test]
fn one_chat_message_on_the_wire_matches_its_snapshot() {
    let trace = first_chat_message_with_wire();
    let text = plain_trace(&trace);
    // The cut keeps what the chapter explains: the handshake and the one message.
    assert!(
        text.contains(r#"alice → server  42["chat message","hi everyone"]"#),
        "{text}"
    );
    assert!(
        !text.contains("hey alice"),
        "the burst is not part of this capture"
    );
    let mut settings = snapshot_settings();
    settings.add_filter(r#""sid":"[A-Za-z0-9_-]+""#, r#""sid":"<sid>""#);
    settings.add_filter(HEARTBEAT_LINE, "");
    settings.bind(|| insta::assert_snapshot!("lesson-3-stage-1-wire", text));
}
