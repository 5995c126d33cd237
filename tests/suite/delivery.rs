//! Lesson 6 against Node: `check 6` judges the tutorial's own delivery server and its wrong
//! variants (`tests/node/delivery.js`), and every stage of lesson 6 that Node can play gives the
//! same trace on our Rust server and on Node's socket.io with SQLite (`tests/node/server.js 6.K`,
//! which runs the stage's own `stage-K.js`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use realtime_tutor::lesson::StepKind;
use realtime_tutor::runner::RunOptions;

use crate::check::check;
use crate::common::compare::{assert_steps_agree, ours_and_theirs, remote_options};
use crate::common::process::Server;
use crate::common::{COMMAND_LIMIT, lessons, run_bounded, runtime};

const INSTALL: &str =
    "run `npm ci` in tests/node (it builds sqlite3 from source); `bash scripts/test.sh` does it";

/// A Node process of the fixture with its own database file, killed when dropped.
struct Node {
    server: Server,
    _dir: tempfile::TempDir,
}

impl Node {
    fn start(script: &str, variant: &str) -> Self {
        let fixture: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
        assert!(
            fixture
                .join("node_modules/sqlite3/build/Release/node_sqlite3.node")
                .is_file(),
            "{INSTALL}"
        );
        let dir = tempfile::tempdir().expect("a temporary folder");
        let db = dir.path().join("chat.db");
        let server = Server::start(
            Command::new("node")
                .args([script, variant, "0"])
                .arg(&db)
                .current_dir(&fixture),
            INSTALL,
        );
        Node { server, _dir: dir }
    }
}

#[test]
fn check_6_passes_against_the_tutorials_server_and_its_own_stage_file() {
    for (script, variant) in [("delivery.js", "server-delivery"), ("server.js", "6.2")] {
        let node = Node::start(script, variant);
        let out = check(&["6", "--url", &node.server.url]);
        out.assert_passes();
        assert!(
            crate::common::unwrapped(&out.stdout).contains("every chat message carried its server offset"),
            "{out}"
        );
    }
}

#[test]
fn check_6_names_the_mistake_of_each_wrong_delivery_server() {
    let cases: [(&str, &[&str]); 3] = [
        (
            "forgets-offset",
            &[
                "your server's chat messages carry no server offset",
                "received 'chat message' \"hello\" without a server offset",
                "io.emit('chat message', msg, id)",
            ],
        ),
        (
            "replays-all",
            &[
                "replays messages a reconnecting client has already seen",
                "bob was given \"hello\" (offset 1) again, though they had read up to offset 1",
                "WHERE id > socket.handshake.auth.serverOffset",
            ],
        ),
        (
            "stores-nothing",
            &[
                "gives a reconnecting client nothing of what it missed",
                "bob came back and was given none of the messages said while they were away",
            ],
        ),
    ];
    for (variant, needles) in cases {
        let node = Node::start("delivery.js", variant);
        check(&["6", "--url", &node.server.url]).assert_fails(needles);
    }
}

/// The fields that say who received what, and what came back to each callback.
fn observed(step: &realtime_tutor::trace::StepRecord) -> impl PartialEq + std::fmt::Debug + use<> {
    (
        step.step,
        step.kind,
        step.sender.clone(),
        step.event.clone(),
        step.received_by.clone(),
        step.not_received_by.clone(),
        step.received.clone(),
        step.away.clone(),
        step.acks.clone(),
        step.trigger.clone(),
    )
}

#[test]
fn lesson_6_traces_match_node_socket_io_with_sqlite() {
    let lesson = lessons().iter().find(|l| l.number == 6).expect("lesson 6");
    let rt = runtime();
    let mut compared = Vec::new();
    for stage in &lesson.stages {
        // A restart is the tutor stopping its own server; Node's is a process this test owns.
        if stage
            .steps
            .iter()
            .any(|s| matches!(s.kind, StepKind::RestartServer))
        {
            continue;
        }
        let variant = format!("6.{}", stage.number);
        let node = Node::start("server.js", &variant);
        let (ours, theirs) = rt.block_on(ours_and_theirs(
            lesson,
            stage,
            &variant,
            &RunOptions::default(),
            (&node.server.url, Vec::new()),
            &remote_options(),
        ));
        assert_steps_agree(
            &ours,
            &theirs,
            &variant,
            observed,
            "our Rust server and Node's socket.io disagree",
        );
        compared.push(stage.number);
    }
    assert_eq!(
        compared,
        vec![1, 2, 4, 5],
        "every stage Node can play was compared"
    );
}

/// `serve 6 --db PATH` on a file, as a process (killed when dropped): its URL, from the first
/// JSON line.
fn serve_6(db: &Path) -> Server {
    let mut serve = Server::spawn(
        Command::new(env!("CARGO_BIN_EXE_realtime-tutor"))
            .args(["serve", "6", "--port", "0", "--format", "json", "--db"])
            .arg(db),
        "the tutor runs",
    );
    let line = serve.line("the listening line", Duration::from_secs(10));
    let listening: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| serve.fail(&format!("printed {line:?}: {e}")));
    serve.url = listening["url"]
        .as_str()
        .expect("a url")
        .trim_end_matches('/')
        .to_owned();
    serve
}

/// What a client connecting with `auth` is replayed, read until `count` chat messages came.
async fn replayed(url: &str, auth: serde_json::Value, count: usize) -> Vec<Vec<serde_json::Value>> {
    use realtime_tutor::client::{ConnectOptions, Incoming, SimClient};
    let options = ConnectOptions {
        auth: Some(auth),
        ..ConnectOptions::websocket_only()
    };
    let mut client = SimClient::connect(url, &options).await.expect("connects");
    let mut got = Vec::new();
    while got.len() < count {
        match client.next(Duration::from_secs(5)).await {
            Some(Incoming::Event { name, args }) if name == "chat message" => got.push(args),
            Some(Incoming::Event { .. }) => {}
            other => panic!(
                "waited 5 s for replayed message {} of {count}: {other:?}",
                got.len() + 1
            ),
        }
    }
    got
}

#[test]
fn serve_6_replays_from_its_file_across_a_restart() {
    use realtime_tutor::parts::store::Store;
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.sqlite3");
    {
        let store = Store::open(&db).unwrap();
        store.insert("one", None).unwrap();
        store.insert("two", None).unwrap();
    }
    let rt = runtime();
    for round in 1..=2 {
        let serve = serve_6(&db);
        let (after_one, all) = rt.block_on(async {
            (
                replayed(&serve.url, json!({ "serverOffset": 1 }), 1).await,
                replayed(&serve.url, json!({ "serverOffset": 0 }), 2).await,
            )
        });
        // Killed (by the drop), not stopped: only what is in the file can survive.
        drop(serve);
        assert_eq!(after_one, vec![vec![json!("two"), json!(2)]], "round {round}");
        assert_eq!(
            all,
            vec![vec![json!("one"), json!(1)], vec![json!("two"), json!(2)]],
            "round {round}"
        );
    }
}

#[test]
fn serve_6_refuses_a_damaged_or_unwritable_database_by_name_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let damaged = dir.path().join("damaged.sqlite3");
    let garbage = "this is not a database, and it must stay exactly as it is\n".repeat(20);
    std::fs::write(&damaged, &garbage).unwrap();
    let nowhere = dir.path().join("no-such-folder").join("history.sqlite3");
    for (db, needle) in [
        (&damaged, "is not an SQLite database, or it is damaged"),
        (&nowhere, "cannot write to the message database"),
    ] {
        let out = run_bounded(
            Command::new(env!("CARGO_BIN_EXE_realtime-tutor"))
                .args(["serve", "6", "--port", "0", "--db"])
                .arg(db),
            COMMAND_LIMIT,
        );
        // Messages wrap at 80 columns: read as one line.
        let stderr = crate::common::unwrapped(&String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
        assert!(
            stderr.contains(&db.display().to_string()),
            "names the file: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert_eq!(
        std::fs::read_to_string(&damaged).unwrap(),
        garbage,
        "the file is untouched"
    );
}

/// `serve 6 --db PATH`, expected to refuse: the exit status and what stderr said.
fn serve_6_refusing(db: &Path) -> String {
    let out = run_bounded(
        Command::new(env!("CARGO_BIN_EXE_realtime-tutor"))
            .args(["serve", "6", "--port", "0", "--db"])
            .arg(db),
        COMMAND_LIMIT,
    );
    // Messages wrap at 80 columns: read as one line.
    let stderr = crate::common::unwrapped(&String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&db.display().to_string()),
        "names the file: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// The names in a folder, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn serve_6_refuses_a_fifo_or_a_device_as_its_database_and_leaves_nothing_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let made = run_bounded(Command::new("mkfifo").arg(&fifo), COMMAND_LIMIT);
    assert!(made.status.success(), "mkfifo: {made:?}");
    let stderr = serve_6_refusing(&fifo);
    assert!(
        stderr.contains("is a FIFO (named pipe), not a regular file"),
        "{stderr}"
    );
    assert_eq!(
        listing(dir.path()),
        ["pipe"],
        "no -journal or -wal beside the FIFO"
    );

    let stderr = serve_6_refusing(Path::new("/dev/null"));
    assert!(stderr.contains("is a device, not a regular file"), "{stderr}");
    for beside in ["/dev/null-journal", "/dev/null-wal", "/dev/null-shm"] {
        assert!(!Path::new(beside).exists(), "{beside} was created");
    }
}

#[test]
fn serve_6_refuses_another_programs_sqlite_file_without_changing_it() {
    use rusqlite::Connection;
    let dir = tempfile::tempdir().unwrap();
    // Another program's table, and a `messages` table that is not the tutorial's.
    let schemas = [
        (
            "users.db",
            "CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('ada');",
        ),
        (
            "mail.db",
            "CREATE TABLE messages (id INTEGER PRIMARY KEY, sender TEXT, body BLOB); \
             INSERT INTO messages (sender, body) VALUES ('ada', x'00ff');",
        ),
    ];
    for (name, sql) in schemas {
        let db = dir.path().join(name);
        let dump = |conn: &Connection| -> (String, Vec<String>) {
            let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
            let mut rows = Vec::new();
            let mut tables = conn
                .prepare("SELECT name, sql FROM sqlite_master ORDER BY name")
                .unwrap();
            for row in tables
                .query_map([], |r| {
                    Ok(format!("{}: {}", r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .unwrap()
            {
                rows.push(row.unwrap());
            }
            let table = if name == "users.db" { "users" } else { "messages" };
            let mut all = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
            let width = all.column_count();
            for row in all
                .query_map([], |r| {
                    Ok((0..width)
                        .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                        .collect::<Vec<_>>()
                        .join("|"))
                })
                .unwrap()
            {
                rows.push(row.unwrap());
            }
            (mode, rows)
        };
        let before = {
            let conn = Connection::open(&db).unwrap();
            conn.execute_batch("PRAGMA journal_mode = DELETE;").unwrap();
            conn.execute_batch(sql).unwrap();
            dump(&conn)
        };
        assert_eq!(before.0, "delete");
        let bytes = std::fs::read(&db).unwrap();
        let stderr = serve_6_refusing(&db);
        assert!(
            stderr.contains("is an SQLite database of another program"),
            "{stderr}"
        );
        assert_eq!(std::fs::read(&db).unwrap(), bytes, "{name}: not a byte changed");
        assert_eq!(
            listing(dir.path()).iter().filter(|n| n.starts_with(name)).count(),
            1,
            "{name}: nothing beside it"
        );
        let after = dump(&Connection::open(&db).unwrap());
        assert_eq!(after, before, "{name}: same journal mode, same tables and rows");
    }
}

/// A symbolic link is followed, as the progress file's is: the history is the file it names.
#[test]
fn serve_6_follows_a_symbolic_link_to_its_database() {
    use realtime_tutor::parts::store::Store;
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("history.sqlite3");
    Store::open(&target)
        .unwrap()
        .insert("through the link", None)
        .unwrap();
    let link = dir.path().join("link.sqlite3");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let serve = serve_6(&link);
    let got = runtime().block_on(replayed(&serve.url, json!({ "serverOffset": 0 }), 1));
    drop(serve);
    assert_eq!(got, vec![vec![json!("through the link"), json!(1)]]);
    assert!(
        std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(),
        "the link stays a link"
    );
}
