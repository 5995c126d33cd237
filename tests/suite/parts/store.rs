//! Lesson 6's message store on a real SQLite file: offsets, exactly-once, a restart, and the
//! files it must refuse (garbage, locked, unwritable) without losing what it holds.

use std::path::Path;
use std::time::{Duration, Instant};

use realtime_tutor::parts::store::{BUSY_LIMIT, FILE_NAME, Inserted, Store, StoreError};

fn contents(store: &Store, after: i64) -> Vec<(i64, String)> {
    store
        .after(after, 1000)
        .expect("replay")
        .into_iter()
        .map(|row| (row.id, row.content))
        .collect()
}

#[test]
fn rows_get_increasing_server_offsets_and_replay_in_order_after_an_offset() {
    let store = Store::temporary().expect("a temporary store");
    let ids: Vec<i64> = ["hello", "how are you?", "bye"]
        .iter()
        .map(|m| match store.insert(m, None).unwrap() {
            Inserted::New(id) => id,
            Inserted::Duplicate => panic!("no client offset, no duplicate"),
        })
        .collect();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(
        contents(&store, 0),
        [(1, "hello".into()), (2, "how are you?".into()), (3, "bye".into())]
    );
    assert_eq!(contents(&store, 2), [(3, "bye".to_string())]);
    assert!(contents(&store, 3).is_empty());
}

#[test]
fn a_client_offset_is_stored_once_however_often_it_is_sent() {
    let store = Store::temporary().unwrap();
    assert_eq!(store.insert("hi", Some("alice-1")).unwrap(), Inserted::New(1));
    assert_eq!(store.insert("hi", Some("alice-1")).unwrap(), Inserted::Duplicate);
    assert_eq!(
        store.insert("hi again", Some("alice-2")).unwrap(),
        Inserted::New(2)
    );
    let rows = store.after(0, 10).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].client_offset.as_deref(), Some("alice-1"));
}

#[test]
fn the_history_survives_a_restart_of_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    {
        let store = Store::open(&path).unwrap();
        store.insert("before the restart", Some("a-1")).unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(contents(&store, 0), [(1, "before the restart".to_string())]);
    assert_eq!(
        store.insert("before the restart", Some("a-1")).unwrap(),
        Inserted::Duplicate
    );
    assert_eq!(store.insert("after", None).unwrap(), Inserted::New(2));
}

#[test]
fn a_file_of_garbage_is_refused_by_name_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    let error = Store::open(&path).unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains(&path.display().to_string()) && message.contains("--db"),
        "{message}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), garbage, "the file is not touched");
}

#[test]
fn a_file_locked_by_another_program_fails_in_bounded_time_and_loses_nothing() {
    let store = Store::temporary().unwrap();
    store.insert("kept", Some("k-1")).unwrap();
    let other = rusqlite::Connection::open(store.path()).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let started = Instant::now();
    let error = store.insert("blocked", Some("k-2")).unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(error, StoreError::Locked { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&store.path().display().to_string()),
        "{error}"
    );
    assert!(
        waited >= BUSY_LIMIT / 2 && waited < BUSY_LIMIT * 6,
        "waited {waited:?} for a {BUSY_LIMIT:?} busy limit"
    );
    other.execute_batch("ROLLBACK").unwrap();
    assert_eq!(contents(&store, 0), [(1, "kept".to_string())]);
    assert_eq!(store.insert("blocked", Some("k-2")).unwrap(), Inserted::New(2));
}

/// Root ignores file permissions, so "cannot write" is made here in a way that holds for
/// everyone: SQLite must open `FILE-wal` next to the file to change it, and a folder of that
/// name is in the way. (SQLite then refuses to read as well: it cannot know whether that log
/// holds commits. Nothing is lost: once the obstacle is gone, every row is there.)
#[test]
fn a_file_that_cannot_be_written_fails_by_name_and_keeps_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    Store::open(&path).unwrap().insert("kept", None).unwrap();
    // Closing the last connection checkpoints the log into the file and deletes it.
    assert!(!wal(&path).exists());
    std::fs::create_dir(wal(&path)).unwrap();
    let error = Store::open(&path)
        .and_then(|store| store.insert("lost?", None))
        .unwrap_err();
    assert!(matches!(error, StoreError::Unwritable { .. }), "{error:?}");
    assert!(error.to_string().contains(&path.display().to_string()), "{error}");
    std::fs::remove_dir(wal(&path)).unwrap();
    let store = Store::open(&path).unwrap();
    assert_eq!(contents(&store, 0), [(1, "kept".to_string())]);
    assert_eq!(store.insert("now", None).unwrap(), Inserted::New(2));
}

/// The same with a read-only folder, for a user whom permissions bind (not root).
#[test]
fn a_read_only_folder_fails_by_name_unless_run_as_root() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    Store::open(&path).unwrap().insert("kept", None).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
    let bound = std::fs::write(dir.path().join("probe"), b"").is_err();
    let outcome = Store::open(&path).and_then(|store| store.insert("lost?", None).map(|_| store));
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    if bound {
        let error = outcome.unwrap_err();
        assert!(matches!(error, StoreError::Unwritable { .. }), "{error:?}");
        assert!(error.to_string().contains(&path.display().to_string()), "{error}");
    } else {
        eprintln!("running as root: the folder's permissions do not apply (see the -wal test)");
    }
    assert_eq!(
        contents(&Store::open(&path).unwrap(), 0)[0],
        (1, "kept".to_string())
    );
}

fn wal(path: &Path) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    name.into()
}

#[test]
fn inserting_and_replaying_takes_little_time() {
    let store = Store::temporary().unwrap();
    let started = Instant::now();
    for i in 0..200 {
        store
            .insert(&format!("message {i}"), Some(&format!("c-{i}")))
            .unwrap();
    }
    let insert = started.elapsed() / 200;
    let started = Instant::now();
    let rows = store.after(100, 1000).unwrap();
    let replay = started.elapsed();
    assert_eq!(rows.len(), 100);
    assert!(rows.windows(2).all(|w| w[0].id < w[1].id));
    eprintln!("SQLite: {insert:?} per insert (each its own transaction), {replay:?} to replay 100 rows");
    assert!(insert < Duration::from_millis(100));
}

#[test]
fn a_replay_reads_the_rows_a_page_at_a_time_in_id_order() {
    let store = Store::temporary().unwrap();
    for i in 1..=250 {
        store.insert(&format!("m{i}"), None).unwrap();
    }
    let mut offset = 0;
    let mut pages = Vec::new();
    loop {
        let page = store.after(offset, 100).unwrap();
        pages.push(page.len());
        let Some(last) = page.last() else { break };
        assert!(page.windows(2).all(|w| w[1].id == w[0].id + 1), "in id order");
        assert_eq!(page[0].id, offset + 1, "each page starts after the last id read");
        offset = last.id;
    }
    assert_eq!(pages, [100, 100, 50, 0]);
    assert_eq!(offset, 250);
}
