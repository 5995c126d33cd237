//! The message store of the delivery lessons: every chat message is written to SQLite before it
//! is sent, so a client that missed it can be given it again.
//!
//! The table is the official tutorial's, and so are the two ideas it carries:
//!
//! ```js
//! await db.exec(`
//!   CREATE TABLE IF NOT EXISTS messages (
//!       id INTEGER PRIMARY KEY AUTOINCREMENT,
//!       client_offset TEXT UNIQUE,
//!       content TEXT
//!   );
//! `);
//! ```
//!
//! * `id` is the **server offset**: rows are numbered in the order they were stored, so "send me
//!   what I missed" is "every row after the last id I saw" ([`Store::after`], read a page at a
//!   time).
//! * `client_offset` is chosen by the *client* for each message and is `UNIQUE`: a client that
//!   resends a message because it never saw the acknowledgement sends the same offset, and the
//!   second insert is refused ([`Inserted::Duplicate`]). At-least-once sending plus a unique key
//!   is exactly-once storing.
//!
//! # Why rusqlite behind a `std::sync::Mutex`
//!
//! The handlers are `async`, and sqlx would give an async SQLite API. But SQLite is a C library
//! that runs in the calling thread, and sqlx runs it on a worker thread behind a channel; for a
//! store that sees a few rows per stage, that machinery hides more than it helps. rusqlite calls
//! SQLite directly (its `bundled` feature compiles SQLite into the tutor, so there is nothing to
//! install), and one connection behind a `std::sync::Mutex` is enough: a statement here takes
//! microseconds, and the lock is never held across an `.await` (mini-redis makes the same
//! choice for its `Db`). The one slow case, another program holding the file locked, is bounded
//! by [`BUSY_LIMIT`].

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, params};

/// How long a statement waits for another connection's lock before it fails.
pub const BUSY_LIMIT: Duration = Duration::from_millis(500);

/// The file name in the tutor's state folder.
pub const FILE_NAME: &str = "messages.sqlite3";

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_offset TEXT UNIQUE,
    content TEXT
);";

/// One stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The server offset.
    pub id: i64,
    pub client_offset: Option<String>,
    pub content: String,
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// Stored under this server offset.
    New(i64),
    /// A row with this client offset exists already; nothing was stored.
    Duplicate,
}

/// Why the store cannot do what was asked. Each message names the file; none of these
/// changes what is already stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the message database {} is not an SQLite database, or it is damaged ({detail}); it was left as it is: \
             move it away, or choose another file with --db PATH", path.display())]
    Corrupt { path: PathBuf, detail: String },
    #[error("the message database {} is locked by another program, and stayed locked for {BUSY_LIMIT:?}; \
             close that program, or choose another file with --db PATH", path.display())]
    Locked { path: PathBuf },
    #[error("cannot write to the message database {} ({detail}); check the permissions of that file and its \
             folder, or choose another file with --db PATH", path.display())]
    Unwritable { path: PathBuf, detail: String },
    #[error("there is no folder to keep the message database in ({0}); choose a file with --db PATH")]
    NoHome(String),
    #[error("the message database {} is {kind}, not a regular file; it was left as it is: --db PATH \
             takes a regular file, or a path where one can be created", path.display())]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error("the message database {} is an SQLite database of another program ({detail}); it was left as \
             it is: choose another file with --db PATH", path.display())]
    Foreign { path: PathBuf, detail: String },
    #[error("the message database {}: {detail}", path.display())]
    Other { path: PathBuf, detail: String },
}

impl StoreError {
    fn from_sqlite(path: &Path, error: rusqlite::Error) -> Self {
        let path = path.to_path_buf();
        let detail = error.to_string();
        match error.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
                StoreError::Corrupt { path, detail }
            }
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked { path },
            Some(
                ErrorCode::ReadOnly
                | ErrorCode::CannotOpen
                | ErrorCode::PermissionDenied
                | ErrorCode::DiskFull
                | ErrorCode::SystemIoFailure,
            ) => StoreError::Unwritable { path, detail },
            _ => StoreError::Other { path, detail },
        }
    }
}

/// The message store: one SQLite connection to one file.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
    /// For a lesson run: the temporary folder holding the file, removed with the store.
    _temporary: Option<tempfile::TempDir>,
}

impl Store {
    /// Opens (creating it if needed) the database file at `path` and its table.
    ///
    /// Nothing is changed in a file that is not the tutor's. Before SQLite opens anything, the
    /// path must be a regular file or nothing at all: SQLite would read a FIFO or a device as a
    /// database and create its `-journal` beside it. A symbolic link is followed, as it is for
    /// the progress file: the file it points to is the database. Then, before the journal mode
    /// is set or the table created, the file's tables are read: an SQLite file that holds any
    /// other table, or a `messages` table with other columns, is another program's, and is
    /// refused as it is.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        refuse_what_is_not_a_file(path)?;
        let fail = |e| StoreError::from_sqlite(path, e);
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(fail)?;
        conn.busy_timeout(BUSY_LIMIT).map_err(fail)?;
        // The first statement reads the file's header: a file of garbage fails here, untouched.
        check_schema(&conn, path)?;
        // Write-ahead logging: a commit appends to `FILE-wal` and, with `synchronous=NORMAL`,
        // does not wait for the disk (measured here: about 20 ms per insert with SQLite's
        // default rollback journal and full sync, tens of microseconds like this). A committed
        // row survives the tutor being killed or restarted, which is what the lesson shows; only
        // a power cut may lose the last commits, which a chat tutor can afford.
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .map_err(fail)?;
        conn.execute_batch(SCHEMA).map_err(fail)?;
        Ok(Store {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
            _temporary: None,
        })
    }

    /// A fresh, empty store in a temporary folder, removed when the store is dropped: what a
    /// lesson run uses. (A file, not `:memory:`, so a stage can restart the server on it.)
    pub fn temporary() -> Result<Store, StoreError> {
        let dir = tempfile::Builder::new()
            .prefix("realtime-tutor-db-")
            // Chat text: only this user may read it (tempfile's default follows the umask).
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir()
            .map_err(|e| StoreError::Unwritable {
                path: std::env::temp_dir(),
                detail: e.to_string(),
            })?;
        let mut store = Store::open(&dir.path().join(FILE_NAME))?;
        store._temporary = Some(dir);
        Ok(store)
    }

    /// Where `serve` keeps its history: next to the progress file, in the tutor's state folder.
    pub fn default_path() -> Result<PathBuf, StoreError> {
        let state = super::state::dir().map_err(|e| StoreError::NoHome(e.to_string()))?;
        // The folder as `Path::parent` spells it (`home/` and `home/.` both become `home`), the
        // way the progress file's folder is spelt, so the path printed is the same either way.
        let dir = state
            .join(FILE_NAME)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::Unwritable {
            path: dir.clone(),
            detail: e.to_string(),
        })?;
        Ok(dir.join(FILE_NAME))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stores `content`; the row id is the server offset. A `client_offset` already stored
    /// makes it [`Inserted::Duplicate`], the tutorial's `SQLITE_CONSTRAINT` (errno 19) branch.
    pub fn insert(&self, content: &str, client_offset: Option<&str>) -> Result<Inserted, StoreError> {
        let conn = self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match conn.execute(
            "INSERT INTO messages (content, client_offset) VALUES (?1, ?2)",
            params![content, client_offset],
        ) {
            Ok(_) => Ok(Inserted::New(conn.last_insert_rowid())),
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                Ok(Inserted::Duplicate)
            }
            Err(e) => Err(StoreError::from_sqlite(&self.path, e)),
        }
    }

    /// The first `limit` rows after server offset `offset`, in the order stored:
    /// `SELECT id, client_offset, content FROM messages WHERE id > ? ORDER BY id LIMIT ?`.
    ///
    /// A page, not the whole history: a client can fill the table in `serve`, and a replay
    /// reads it a page at a time, from the last id it sent, so it never holds more than one
    /// page. `ORDER BY id` is what makes the pages follow one another (without it, SQLite may
    /// return rows in any order).
    pub fn after(&self, offset: i64, limit: usize) -> Result<Vec<Stored>, StoreError> {
        let conn = self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let fail = |e| StoreError::from_sqlite(&self.path, e);
        let mut statement = conn
            .prepare_cached(
                "SELECT id, client_offset, content FROM messages WHERE id > ?1 ORDER BY id LIMIT ?2",
            )
            .map_err(fail)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = statement
            .query_map(params![offset, limit], |row| {
                Ok(Stored {
                    id: row.get(0)?,
                    client_offset: row.get(1)?,
                    content: row.get(2)?,
                })
            })
            .map_err(fail)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(fail)
    }
}

/// Refuses a path that exists and is not a regular file (after following symbolic links), before
/// anything opens it. A missing path is fine: the database is created there.
fn refuse_what_is_not_a_file(path: &Path) -> Result<(), StoreError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(meta) => Err(StoreError::NotAFile {
            path: path.to_path_buf(),
            kind: kind_of(&meta.file_type()),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::Unwritable {
            path: path.to_path_buf(),
            detail: e.to_string(),
        }),
    }
}

/// What a file that is not a regular one is, in words.
fn kind_of(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_dir() {
        "a folder"
    } else {
        "a special file"
    }
}

/// The columns of the tutorial's table, by name and declared type, in order.
const COLUMNS: [(&str, &str); 3] = [("id", "INTEGER"), ("client_offset", "TEXT"), ("content", "TEXT")];

/// Reads the file's tables, changing nothing, and refuses another program's database: any table
/// but `messages` (and `sqlite_sequence`, which SQLite keeps for `AUTOINCREMENT`), or a
/// `messages` table whose columns are not the tutorial's. An empty database, a new file, and a
/// file written by the tutorial's own Node server (the same table) are all accepted.
fn check_schema(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let fail = |e| StoreError::from_sqlite(path, e);
    let foreign = |detail: String| StoreError::Foreign {
        path: path.to_path_buf(),
        detail,
    };
    let mut tables = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .map_err(fail)?;
    let names = tables
        .query_map([], |row| row.get::<_, String>(0))
        .map_err(fail)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    let others: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| *n != "messages" && *n != "sqlite_sequence")
        .collect();
    if !others.is_empty() {
        let shown: Vec<String> = others.iter().take(3).map(|n| format!("{n:?}")).collect();
        return Err(foreign(format!(
            "it holds the table{} {}{}, and the tutor keeps only \"messages\"",
            if others.len() == 1 { "" } else { "s" },
            shown.join(", "),
            if others.len() > 3 { ", …" } else { "" }
        )));
    }
    if !names.iter().any(|n| n == "messages") {
        return Ok(());
    }
    let mut info = conn.prepare("PRAGMA table_info(messages)").map_err(fail)?;
    let columns = info
        .query_map([], |row| Ok((row.get::<_, String>(1)?, row.get::<_, String>(2)?)))
        .map_err(fail)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    let fits = columns.len() == COLUMNS.len()
        && columns
            .iter()
            .zip(COLUMNS)
            .all(|((name, kind), (want, want_kind))| name == want && kind.eq_ignore_ascii_case(want_kind));
    if fits {
        Ok(())
    } else {
        let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).take(6).collect();
        Err(foreign(format!(
            "its \"messages\" table has the columns ({}), not (id, client_offset, content)",
            names.join(", ")
        )))
    }
}
