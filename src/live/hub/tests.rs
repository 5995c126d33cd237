//! The hub's matching, driven by hand: server reports and bot reads in a chosen order, and
//! `now` passed in, so deadlines are tested without waiting and without a network.

use super::*;
use crate::server::observe::live::Recipients;
use crate::trace::live as records;
use crate::ui;
use serde_json::Value;

const TOKEN: &str = "bot-token";

fn chat_hub() -> Hub {
    Hub::new(TOKEN.to_owned())
}

fn handshake(sid: &str, name: &str, bot: bool) -> ServerEvent {
    let mut query = vec![("name".to_owned(), name.to_owned())];
    if bot {
        query.push(("bot".to_owned(), TOKEN.to_owned()));
    }
    ServerEvent::Handshake {
        sid: sid.to_owned(),
        query,
        user_agent: None,
    }
}

fn join(hub: &mut Hub, sid: &str, name: &str, bot: bool, now: Instant) {
    hub.server_event(handshake(sid, name, bot), now);
    hub.server_event(
        ServerEvent::Connected {
            sid: sid.to_owned(),
            nsp: "/".into(),
        },
        now,
    );
}

fn chat(from: &str, text: &str, to: &[&str], dropped: &[&str]) -> ServerEvent {
    let list = |sids: &[&str]| sids.iter().map(|s| s.to_string()).collect();
    ServerEvent::Sent {
        sid: from.to_owned(),
        trigger: "chat message".to_owned(),
        event: "chat message".to_owned(),
        args: vec![Value::from(text)],
        action: "io.emit('chat message', msg)",
        audience: crate::vocab::Audience::Everyone,
        recipients: Box::new(Recipients {
            to: list(to),
            dropped: list(dropped),
            ..Recipients::default()
        }),
    }
}

fn read(sid: &str, text: &str) -> Read {
    Read::new(sid.to_owned(), "chat message".to_owned(), &[Value::from(text)])
}

fn sending(live: &Live) -> &Sending {
    match live {
        Live::Emit { sending, .. } => sending,
        other => panic!("not an emit: {other:?}"),
    }
}

/// Two bots and a tab: joins are printed at once, in order.
fn room(now: Instant) -> Hub {
    let mut hub = chat_hub();
    join(&mut hub, "s1", "alice", true, now);
    join(&mut hub, "s2", "bob", true, now);
    join(&mut hub, "s3", "tab", false, now);
    let joined = hub.take_ready(now);
    assert_eq!(joined.len(), 3, "{joined:?}");
    hub
}

#[test]
fn an_emit_waits_for_its_bots_reads_then_prints_them() {
    let now = Instant::now();
    let mut hub = room(now);
    hub.server_event(chat("s3", "hi", &["s1", "s2", "s3"], &[]), now);
    assert!(hub.take_ready(now).is_empty(), "waits for alice and bob");
    assert_eq!(hub.next_deadline(), Some(now + READ_BOUND));
    hub.bot_read(read("s1", "hi"));
    assert!(hub.take_ready(now).is_empty(), "still waits for bob");
    hub.bot_read(read("s2", "hi"));
    let ready = hub.take_ready(now);
    let sent = sending(&ready[0]);
    assert_eq!(sent.sent_to, ["alice", "bob", "tab"]);
    assert_eq!(sent.read_by, ["alice", "bob"]);
    assert!(sent.unread.is_empty());
    assert_eq!(hub.next_deadline(), None);
}

#[test]
fn a_read_that_arrives_before_the_servers_report_is_matched() {
    let now = Instant::now();
    let mut hub = room(now);
    hub.bot_read(read("s1", "early"));
    hub.bot_read(read("s2", "early"));
    hub.bot_read(read("s2", "something else"));
    hub.server_event(chat("s3", "early", &["s1", "s2", "s3"], &[]), now);
    let ready = hub.take_ready(now);
    assert_eq!(sending(&ready[0]).read_by, ["alice", "bob"], "{ready:?}");
    // The unmatched read is kept for a later report.
    hub.server_event(chat("s3", "something else", &["s2"], &[]), now);
    assert_eq!(sending(&hub.take_ready(now)[0]).read_by, ["bob"]);
}

#[test]
fn early_reads_are_capped_oldest_first() {
    let now = Instant::now();
    let mut hub = room(now);
    hub.bot_read(read("s1", "oldest"));
    for n in 0..EARLY_CAP {
        hub.bot_read(read("s1", &n.to_string()));
    }
    assert_eq!(hub.early.len(), EARLY_CAP);
    hub.server_event(chat("s3", "oldest", &["s1"], &[]), now);
    assert!(hub.take_ready(now).is_empty(), "the oldest read was let go");
    hub.server_event(chat("s3", "0", &["s1"], &[]), now);
    let later = now + READ_BOUND;
    let ready = hub.take_ready(later);
    assert_eq!(ready.len(), 2);
    assert_eq!(sending(&ready[0]).unread[0].client, "alice");
    assert_eq!(sending(&ready[1]).read_by, ["alice"], "a kept one still matches");
}

#[test]
fn a_silent_bot_is_named_when_the_deadline_passes_and_later_records_wait_behind() {
    let now = Instant::now();
    let mut hub = room(now);
    hub.server_event(chat("s3", "hi", &["s1", "s2"], &[]), now);
    hub.bot_read(read("s1", "hi"));
    hub.server_event(
        ServerEvent::Handled {
            sid: "s3".into(),
            event: "chat message".into(),
        },
        now,
    );
    hub.note(
        Live::Note {
            client: "carol".into(),
            text: "a note".into(),
        },
        now,
    );
    let almost = now + READ_BOUND - Duration::from_millis(1);
    assert!(
        hub.take_ready(almost).is_empty(),
        "the note queues behind the emit"
    );
    let ready = hub.take_ready(now + READ_BOUND);
    assert_eq!(ready.len(), 2, "the emit, then the note: {ready:?}");
    let sent = sending(&ready[0]);
    assert_eq!(sent.read_by, ["alice"]);
    assert_eq!(
        sent.unread,
        [Unread {
            client: "bob".into(),
            why: format!("did not report reading it within {READ_BOUND:?}"),
        }]
    );
    assert!(matches!(ready[1], Live::Note { .. }));
}

#[test]
fn a_bot_that_leaves_is_no_longer_waited_for() {
    let now = Instant::now();
    let mut hub = room(now);
    hub.server_event(chat("s3", "hi", &["s1", "s2"], &[]), now);
    hub.bot_read(read("s1", "hi"));
    hub.server_event(
        ServerEvent::Disconnected {
            sid: "s2".into(),
            nsp: "/".into(),
        },
        now,
    );
    let ready = hub.take_ready(now);
    assert_eq!(ready.len(), 2, "{ready:?}");
    assert_eq!(
        sending(&ready[0]).unread[0].why,
        "left before reporting that it read it"
    );
    assert!(matches!(&ready[1], Live::Disconnect { client, .. } if client == "bob"));
    // A second report of the same leaving is not a second line.
    hub.server_event(
        ServerEvent::Disconnected {
            sid: "s2".into(),
            nsp: "/".into(),
        },
        now,
    );
    assert!(hub.take_ready(now).is_empty());
}

#[test]
fn a_socket_whose_buffer_was_full_is_reported_lost_not_sent_to() {
    let now = Instant::now();
    let mut hub = room(now);
    hub.server_event(chat("s3", "hi", &["s1", "s2", "s3"], &["s2"]), now);
    hub.bot_read(read("s1", "hi"));
    let ready = hub.take_ready(now);
    assert_eq!(ready.len(), 1, "bob is not waited for: {ready:?}");
    let sent = sending(&ready[0]);
    assert_eq!(sent.sent_to, ["alice", "tab"]);
    assert_eq!(sent.dropped, ["bob"]);
    assert!(sent.unread.is_empty());
    let text = ui::live::text(&ready[0]);
    assert!(text.contains("lost") && text.contains("bob"), "{text}");
    assert!(records::json(0, &ready[0]).contains(r#""dropped":["bob"]"#));
}

#[test]
fn names_come_from_the_handshake() {
    let now = Instant::now();
    let mut hub = chat_hub();
    let browser = |sid: &str| ServerEvent::Handshake {
        sid: sid.into(),
        query: vec![("EIO".into(), "4".into())],
        user_agent: Some("Mozilla/5.0 (X11)".into()),
    };
    hub.server_event(browser("t1"), now);
    hub.server_event(browser("t2"), now);
    hub.server_event(handshake("b1", "alice", true), now);
    hub.server_event(handshake("c1", "alice", false), now);
    hub.server_event(handshake("c2", "no spaces please", false), now);
    assert_eq!(hub.who("t1"), ("tab-1".into(), ClientKind::Browser));
    assert_eq!(hub.who("t2"), ("tab-2".into(), ClientKind::Browser));
    assert_eq!(hub.who("b1"), ("alice".into(), ClientKind::Bot));
    assert_eq!(
        hub.who("c1"),
        ("alice-2".into(), ClientKind::Client),
        "a name in use gets -2"
    );
    assert_eq!(hub.who("c2"), ("client-1".into(), ClientKind::Client));
    // Once alice has left, her name is free again.
    hub.server_event(
        ServerEvent::Disconnected {
            sid: "b1".into(),
            nsp: "/".into(),
        },
        now,
    );
    hub.server_event(handshake("b2", "alice", true), now);
    assert_eq!(hub.who("b2").0, "alice");
}

#[test]
fn a_socket_that_left_before_its_handler_finished_is_marked_so() {
    let now = Instant::now();
    let mut hub = chat_hub();
    hub.server_event(handshake("s1", "quick", false), now);
    hub.server_event(
        ServerEvent::Disconnected {
            sid: "s1".into(),
            nsp: "/".into(),
        },
        now,
    );
    hub.server_event(
        ServerEvent::Connected {
            sid: "s1".into(),
            nsp: "/".into(),
        },
        now,
    );
    let ready = hub.take_ready(now);
    assert!(
        matches!(
            &ready[1],
            Live::Connect {
                already_left: true,
                ..
            }
        ),
        "{ready:?}"
    );
    assert!(!hub.ready.borrow().contains("s1"), "bots never wait for it");
}

#[test]
fn a_flood_of_waiting_records_stays_within_the_queue_cap() {
    let now = Instant::now();
    let mut hub = room(now);
    let mut printed = 0;
    for n in 0..QUEUE_CAP + 10 {
        hub.server_event(chat("s3", &n.to_string(), &["s1"], &[]), now);
        printed += hub.take_ready(now).len();
    }
    assert_eq!(hub.queue.len(), QUEUE_CAP);
    assert_eq!(printed, 10);
}

#[test]
fn a_handler_that_emits_nothing_shows_as_handled_and_one_that_emits_never_does() {
    let now = Instant::now();
    let behaviour = crate::server::Behaviour::default()
        .with("join", "join")
        .and_then(|b| b.with("question", "answer-question"))
        .and_then(|b| b.with("chat message", "io-emit-chat"))
        .expect("known handlers");
    let mut hub = chat_hub();
    hub.quiet_handlers(&behaviour);
    join(&mut hub, "s1", "ann", false, now);
    hub.take_ready(now);
    for event in ["join", "question", "chat message"] {
        let event = event.to_owned();
        hub.server_event(
            ServerEvent::Handled {
                sid: "s1".into(),
                event,
            },
            now,
        );
    }
    let ready = hub.take_ready(now);
    let shown: Vec<(&str, &str, bool)> = ready
        .iter()
        .map(|live| match live {
            Live::Handled {
                event,
                action,
                answers,
                ..
            } => (event.as_str(), *action, *answers),
            other => panic!("only handled records: {other:?}"),
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("join", "socket.join(room)", false),
            ("question", "callback({ got: q })", true)
        ],
        "the chat's Handled report is not a record: its Sent report is"
    );
}

/// Lesson 7: tab on A sends; A queues it for its own sockets, and server B's part of the
/// broadcast reaches bob (a bot, who reads it) but not carol (in an excepted room, say). The
/// record waits for bob, names the emitting server, and lists B's part apart.
#[test]
fn another_servers_part_of_a_broadcast_is_listed_apart_and_its_bots_are_waited_for() {
    let now = Instant::now();
    let mut hub = room(now);
    join(&mut hub, "s4", "carol", false, now);
    let _ = hub.take_ready(now);
    let relays = [Relay {
        node: "B".to_owned(),
        to: vec!["s2".to_owned()],
        skipped: vec![(
            "s4".to_owned(),
            "in room 'quiet', which io.except skips".to_owned(),
        )],
    }];
    hub.server_report(chat("s3", "across", &["s1", "s3"], &[]), Some("A"), &relays, now);
    hub.bot_read(read("s1", "across"));
    assert!(hub.take_ready(now).is_empty(), "waits for bob, on B");
    hub.bot_read(read("s2", "across"));
    let ready = hub.take_ready(now);
    let Live::Emit { node, sending, .. } = &ready[0] else {
        panic!("not an emit: {ready:?}")
    };
    assert_eq!(node.as_deref(), Some("A"));
    assert_eq!(sending.sent_to, ["alice", "tab"]);
    assert_eq!(
        sending.relayed,
        [records::Relayed {
            node: "B".to_owned(),
            sent_to: vec!["bob".to_owned()]
        }]
    );
    assert_eq!(sending.read_by, ["alice", "bob"]);
    assert_eq!(sending.not_sent_to, ["carol"]);
    assert!(sending.why_not["carol"].contains("quiet"));
    let text = anstream::adapter::strip_str(&ui::live::text(&ready[0])).to_string();
    assert!(text.contains("→ server A runs io.emit"), "{text}");
    assert!(text.contains("via B    bob"), "{text}");
}

/// Thousands of sockets asking for one name get `name`, `name-2`, … in linear time: the search
/// for a free name no longer starts from `-2` each time (which took 51 s of CPU for 16,000).
#[test]
fn many_sockets_asking_for_one_name_are_named_in_linear_time() {
    let mut hub = chat_hub();
    let now = Instant::now();
    let started = std::time::Instant::now();
    for n in 0..20_000 {
        join(&mut hub, &format!("sid-{n}"), "alice", false, now);
    }
    let took = started.elapsed();
    assert_eq!(hub.who("sid-0").0, "alice");
    assert_eq!(hub.who("sid-1").0, "alice-2");
    assert_eq!(hub.who("sid-19999").0, "alice-20000");
    // Quadratic naming took tens of seconds here; linear takes milliseconds.
    assert!(
        took < std::time::Duration::from_secs(3),
        "naming 20,000 sockets took {took:?}"
    );
}
