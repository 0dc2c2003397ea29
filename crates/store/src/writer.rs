//! The single writer thread and its group commit.
//!
//! Every mutation is a job sent to one thread. The thread takes all jobs that
//! are waiting, runs each inside its own SAVEPOINT of one transaction, commits
//! once (one fsync for the whole group) and only then answers each caller. A
//! job that fails rolls back to its savepoint without touching the others.
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use rusqlite::Connection;

use crate::notify::Notifier;
use crate::{Result, StoreError};

/// Effects that may only happen after the transaction is durable.
#[derive(Default)]
pub struct TxEffects {
    /// (account id, new highest modseq) to announce to live sessions.
    pub notify: Vec<(i64, u64)>,
    /// Blob hashes whose last reference went away in this transaction.
    pub unlink: Vec<String>,
}

type Finish = Box<dyn FnOnce(std::result::Result<(), String>) + Send>;
/// A job gets the connection, or `None` when the transaction could not even
/// start: then it only reports the error to its caller.
pub type Job = Box<dyn FnOnce(Option<(&Connection, &mut TxEffects)>) -> (bool, Finish) + Send>;

const MAX_GROUP: usize = 256;

pub struct Writer {
    tx: Option<Sender<Job>>,
    handle: Option<JoinHandle<()>>,
}

impl Writer {
    pub fn start(conn: Connection, notifier: Notifier, blobs: crate::blob::BlobDir) -> Result<Writer> {
        let (tx, rx) = channel::<Job>();
        let handle = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || run(conn, rx, notifier, blobs))?;
        Ok(Writer {
            tx: Some(tx),
            handle: Some(handle),
        })
    }

    /// Runs `f` in the writer's transaction and returns once it is committed.
    pub fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut TxEffects) -> Result<T> + Send + 'static,
    {
        let (reply_tx, reply_rx) = std::sync::mpsc::sync_channel::<Result<T>>(1);
        self.send(job(f, move |r| {
            let _ = reply_tx.send(r);
        }))?;
        reply_rx.recv().map_err(|_| StoreError::WriterGone)?
    }

    /// [`Writer::write`] for async callers: the same job and durability,
    /// answered on a oneshot channel, so no thread blocks on the reply.
    pub fn write_async<T, F>(&self, f: F) -> impl std::future::Future<Output = Result<T>> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut TxEffects) -> Result<T> + Send + 'static,
    {
        let (reply_tx, reply_rx) = tokio::sync::oneshot::channel::<Result<T>>();
        let sent = self.send(job(f, move |r| {
            let _ = reply_tx.send(r);
        }));
        async move {
            sent?;
            reply_rx.await.map_err(|_| StoreError::WriterGone)?
        }
    }

    fn send(&self, job: Job) -> Result<()> {
        self.tx
            .as_ref()
            .ok_or(StoreError::WriterGone)?
            .send(job)
            .map_err(|_| StoreError::WriterGone)
    }

    /// Queues `f` for the writer's next transaction without waiting for
    /// it: for bookkeeping nobody is told is durable. A failure is logged.
    pub fn submit<F>(&self, f: F) -> Result<()>
    where
        F: FnOnce(&Connection, &mut TxEffects) -> Result<()> + Send + 'static,
    {
        let job: Job = Box::new(move |ctx| {
            let result = ctx.map(|(conn, effects)| f(conn, effects));
            let ok = matches!(result, Some(Ok(())));
            let finish: Finish = Box::new(move |commit| {
                if let Some(Err(e)) = result {
                    tracing::warn!(error = %e, "store: background write failed");
                } else if let Err(e) = commit {
                    tracing::warn!(error = %e, "store: background write not committed");
                }
            });
            (ok, finish)
        });
        self.send(job)
    }
}

/// Wraps `f` as a job whose outcome, once the group is committed (or not),
/// goes to `reply`.
fn job<T, F, R>(f: F, reply: R) -> Job
where
    T: Send + 'static,
    F: FnOnce(&Connection, &mut TxEffects) -> Result<T> + Send + 'static,
    R: FnOnce(Result<T>) + Send + 'static,
{
    Box::new(move |ctx| match ctx.map(|(conn, effects)| f(conn, effects)) {
        None => (
            false,
            Box::new(move |r: std::result::Result<(), String>| {
                reply(Err(StoreError::Commit(r.err().unwrap_or_default())));
            }),
        ),
        Some(Ok(v)) => (
            true,
            Box::new(move |commit| {
                reply(commit.map(|_| v).map_err(StoreError::Commit));
            }),
        ),
        Some(Err(e)) => (
            false,
            Box::new(move |_| {
                reply(Err(e));
            }),
        ),
    })
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn run(conn: Connection, rx: Receiver<Job>, notifier: Notifier, blobs: crate::blob::BlobDir) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        run_group(&conn, jobs, &notifier, &blobs);
    }
}

/// Runs one of the group's fixed statements from the statement cache:
/// `execute_batch` would parse it again for every job.
fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

fn run_group(conn: &Connection, jobs: Vec<Job>, notifier: &Notifier, blobs: &crate::blob::BlobDir) {
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        let msg = e.to_string();
        for job in jobs {
            // The job never ran; tell its caller why.
            let (_, finish) = (job)(None);
            finish(Err(msg.clone()));
        }
        let _ = conn.execute_batch("ROLLBACK");
        return;
    }
    let mut finishers = Vec::with_capacity(jobs.len());
    let mut effects = TxEffects::default();
    for job in jobs {
        let mut job_effects = TxEffects::default();
        if let Err(e) = exec(conn, "SAVEPOINT job") {
            let (_, finish) = (job)(None);
            finishers.push((false, finish, Some(e.to_string())));
            continue;
        }
        let (ok, finish) = (job)(Some((conn, &mut job_effects)));
        if ok {
            let _ = exec(conn, "RELEASE job");
            effects.notify.extend(job_effects.notify);
            effects.unlink.extend(job_effects.unlink);
        } else {
            let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
        }
        finishers.push((ok, finish, None));
    }
    let commit = exec(conn, "COMMIT").map_err(|e| e.to_string());
    if commit.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    if commit.is_ok() {
        for hash in effects.unlink {
            // Another job may have stored the same content again since.
            let still: bool = conn
                .prepare_cached("SELECT 1 FROM blobs WHERE hash = ?1")
                .and_then(|mut st| st.query_row([&hash], |_| Ok(())))
                .is_ok();
            if !still {
                blobs.remove(&hash);
            }
        }
        for (account, modseq) in effects.notify {
            notifier.publish(account, modseq);
        }
    }
    for (ok, finish, err) in finishers {
        match (&commit, err) {
            (_, Some(e)) => finish(Err(e)),
            (Ok(()), None) => finish(Ok(())),
            (Err(e), None) if ok => finish(Err(e.clone())),
            (Err(_), None) => finish(Ok(())),
        }
    }
}
