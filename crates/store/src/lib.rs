#![forbid(unsafe_code)]
//! The mail store: the one place the protocols meet.
//!
//! Embedded backend: SQLite in WAL mode with `synchronous = FULL` (a commit
//! is on disk when it returns), one writer thread that batches concurrent
//! writes into one transaction and one fsync (group commit), and any number
//! of readers in parallel. Message bodies live once each in a
//! content-addressed blob directory; their MIME structure is parsed once at
//! delivery and kept beside them.
mod accounts;
mod blob;
mod error;
mod mailbox;
mod message;
mod notify;
pub mod parse;
mod parsed_cache;
mod pop3_ext;
mod queue;
mod schema;
mod smtp_ext;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use accounts::{Account, Alias, normalize_address, normalize_domain};
pub use blob::{BlobWriter, INLINE_MAX, PreparedBlob};
pub use error::{Result, StoreError};
pub use mailbox::{DELIMITER, MAX_MAILBOXES, Mailbox, MailboxStatus, SPECIAL_USES, normalize_name};
pub use message::{
    ANSWERED, Appended, BlobReader, Changes, Copied, DELETED, DRAFT, FLAGGED, FlagOp, Flags, FlagsUpdate, MAX_KEYWORDS,
    MessageMeta, NewMessage, SEEN,
};
pub use parse::ParsedMessage;
pub use queue::{NewQueueMessage, NewQueueRecipient, QueueUpdate, QueuedMessage, QueuedRecipient};
pub use writer::TxEffects;

/// A handle on the store; cheap to clone, safe to share between threads.
/// Calls block: async code runs them with `tokio::task::spawn_blocking`.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    writer: writer::Writer,
    blobs: blob::BlobDir,
    notifier: notify::Notifier,
    parsed_cache: parsed_cache::ParsedCache,
    /// \Recent claims not yet known to be committed, per (mailbox id,
    /// UIDVALIDITY): the first UID left unclaimed (see
    /// `Store::claim_recent_range`).
    recent_claims: Mutex<std::collections::HashMap<(i64, i64), i64>>,
}

const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// Idle read connections kept open. Each keeps its parsed schema and
/// prepared statements; opening one per read cost more than the reads.
const MAX_IDLE_READERS: usize = 64;
const STATEMENT_CACHE: usize = 64;

fn open_conn(path: &Path, flags: OpenFlags) -> Result<Connection> {
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // FULL: the WAL is fsynced at every commit, so an acknowledged write
    // survives power loss, not just a process crash.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Plans must not depend on bound values, or cached statements are
    // re-prepared whenever a value changes.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir` and migrates it.
    pub fn open(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join("mailroom.sqlite3");
        let mut conn = open_conn(&path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        schema::migrate(&mut conn)?;
        let blobs = blob::BlobDir::open(data_dir)?;
        let notifier = notify::Notifier::default();
        let writer = writer::Writer::start(conn, notifier.clone(), blobs.clone())?;
        Ok(Store {
            inner: Arc::new(Inner {
                path,
                readers: Mutex::new(Vec::new()),
                writer,
                blobs,
                notifier,
                parsed_cache: Default::default(),
                recent_claims: Default::default(),
            }),
        })
    }

    /// Runs a mutation on the writer thread; returns once it is durable.
    pub fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut TxEffects) -> Result<T> + Send + 'static,
    {
        self.inner.writer.write(f)
    }

    /// [`Store::write`] for async code: returns once the mutation is
    /// durable, without holding a thread while it waits.
    pub fn write_async<T, F>(&self, f: F) -> impl std::future::Future<Output = Result<T>> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut TxEffects) -> Result<T> + Send + 'static,
    {
        self.inner.writer.write_async(f)
    }

    /// Runs a read on a pooled read-only connection.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = {
            let mut pool = self.inner.readers.lock().unwrap_or_else(|e| e.into_inner());
            pool.pop()
        };
        let conn = match conn {
            Some(c) => c,
            None => open_conn(
                &self.inner.path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?,
        };
        let out = f(&conn);
        let mut pool = self.inner.readers.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < MAX_IDLE_READERS {
            pool.push(conn);
        }
        out
    }

    /// Writes, hashes and parses a message held in memory.
    pub fn prepare_blob(&self, bytes: &[u8]) -> Result<PreparedBlob> {
        self.inner.blobs.prepare(bytes)
    }

    /// Starts streaming a message to disk; `finish` it to get a blob.
    pub fn blob_writer(&self) -> Result<BlobWriter> {
        self.inner.blobs.writer()
    }

    /// Wakes when the account's highest MODSEQ moves (changes committed by
    /// this process). The value is the new highest MODSEQ.
    pub fn watch_changes(&self, account_id: i64) -> tokio::sync::watch::Receiver<u64> {
        self.inner.notifier.subscribe(account_id)
    }

    /// The account's highest MODSEQ as committed (also sees other processes).
    pub fn account_modseq(&self, account_id: i64) -> Result<u64> {
        self.read(move |c| {
            Ok(c.prepare_cached("SELECT highest_modseq FROM accounts WHERE id = ?1")?
                .query_row([account_id], |r| r.get::<_, i64>(0))? as u64)
        })
    }

    /// `PRAGMA integrity_check` plus a check that every blob row has a file.
    pub fn check(&self) -> Result<Vec<String>> {
        let (mut problems, hashes) = self.read(|c| {
            let mut st = c.prepare("PRAGMA integrity_check")?;
            let rows: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            let mut st = c.prepare("SELECT hash FROM blobs WHERE id NOT IN (SELECT blob_id FROM blob_data)")?;
            let hashes: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            Ok((rows.into_iter().filter(|r| r != "ok").collect::<Vec<_>>(), hashes))
        })?;
        for h in hashes {
            if !self.inner.blobs.exists(&h) {
                problems.push(format!("missing blob file {h}"));
            }
        }
        Ok(problems)
    }

    /// Deletes leftovers of crashes older than `min_age` (see `BlobDir::sweep`).
    /// Returns how many files went.
    pub fn sweep_orphans(&self, min_age: Duration) -> Result<usize> {
        self.inner.blobs.sweep(min_age, &|hash| {
            self.read(|c| {
                Ok(c.query_row("SELECT 1 FROM blobs WHERE hash = ?1", [hash], |_| Ok(()))
                    .is_ok())
            })
            .unwrap_or(true)
        })
    }

    pub fn db_path(&self) -> &Path {
        &self.inner.path
    }
}
