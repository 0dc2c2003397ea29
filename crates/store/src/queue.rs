//! The durable SMTP outbound queue.
//!
//! A queued message holds one blob reference for as long as any of its
//! recipients is still to be delivered; each recipient has its own row with
//! its retry state. Enqueueing is one write transaction, so a message the
//! SMTP server acknowledged is on disk with every recipient or not at all.
use rusqlite::{Connection, OptionalExtension, params};

use crate::blob::PreparedBlob;
use crate::message::{blob_ref, blob_unref};
use crate::writer::TxEffects;
use crate::{Result, Store, now};

/// A recipient to queue, with its DSN parameters (RFC 3461 §4).
#[derive(Debug, Clone, Default)]
pub struct NewQueueRecipient {
    pub address: String,
    /// ORCPT as given (`rfc822;xtext`).
    pub orcpt: Option<String>,
    /// NOTIFY as given (e.g. `FAILURE,DELAY` or `NEVER`); `None`: default.
    pub notify: Option<String>,
}

/// A message to queue.
#[derive(Debug, Clone, Default)]
pub struct NewQueueMessage {
    /// The reverse-path; empty for the null sender (bounces).
    pub sender: String,
    pub env_id: Option<String>,
    /// `FULL` or `HDRS`.
    pub ret: Option<String>,
    pub smtputf8: bool,
    pub recipients: Vec<NewQueueRecipient>,
    /// Earliest first attempt (unix seconds); `None`: now.
    pub not_before: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedRecipient {
    pub id: i64,
    pub message_id: i64,
    pub address: String,
    pub orcpt: Option<String>,
    pub notify: Option<String>,
    /// `queued` (never tried) or `deferred` (a temporary failure so far).
    pub status: String,
    pub attempts: u32,
    pub next_attempt: i64,
    pub last_reply: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    pub id: i64,
    pub blob_hash: String,
    pub size: u64,
    pub sender: String,
    pub env_id: Option<String>,
    pub ret: Option<String>,
    pub smtputf8: bool,
    pub created: i64,
    pub recipients: Vec<QueuedRecipient>,
}

/// The outcome of one delivery attempt for one queued recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueUpdate {
    /// Delivered, or failed for good (its DSN already taken care of): forget it.
    Done(i64),
    /// Temporary failure: try again at `next_attempt`.
    Defer { id: i64, next_attempt: i64, reply: String },
}

const MSG_COLS: &str = "q.id, b.hash, b.size, q.sender, q.env_id, q.ret, q.smtputf8, q.created";
const RCPT_COLS: &str = "id, message_id, address, orcpt, notify, status, attempts, next_attempt, last_reply";

fn row_message(r: &rusqlite::Row<'_>) -> rusqlite::Result<QueuedMessage> {
    Ok(QueuedMessage {
        id: r.get(0)?,
        blob_hash: r.get(1)?,
        size: r.get::<_, i64>(2)? as u64,
        sender: r.get(3)?,
        env_id: r.get(4)?,
        ret: r.get(5)?,
        smtputf8: r.get::<_, i64>(6)? != 0,
        created: r.get(7)?,
        recipients: Vec::new(),
    })
}

fn row_recipient(r: &rusqlite::Row<'_>) -> rusqlite::Result<QueuedRecipient> {
    Ok(QueuedRecipient {
        id: r.get(0)?,
        message_id: r.get(1)?,
        address: r.get(2)?,
        orcpt: r.get(3)?,
        notify: r.get(4)?,
        status: r.get(5)?,
        attempts: r.get::<_, i64>(6)?.clamp(0, u32::MAX as i64) as u32,
        next_attempt: r.get(7)?,
        last_reply: r.get(8)?,
    })
}

fn load_message(c: &Connection, id: i64) -> Result<Option<QueuedMessage>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {MSG_COLS} FROM queue_messages q JOIN blobs b ON b.id = q.blob_id WHERE q.id = ?1"
    ))?
    .query_row([id], row_message)
    .optional()?)
}

fn recipients(c: &Connection, message_id: i64, due_by: Option<i64>) -> Result<Vec<QueuedRecipient>> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {RCPT_COLS} FROM queue_recipients WHERE message_id = ?1 AND (?2 IS NULL OR next_attempt <= ?2) ORDER BY id"
    ))?;
    let rows = st
        .query_map(params![message_id, due_by], row_recipient)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Deletes the message row and its blob reference once no recipient is left.
fn drop_if_empty(c: &Connection, fx: &mut TxEffects, message_id: i64) -> Result<()> {
    let left: i64 = c
        .prepare_cached("SELECT COUNT(*) FROM queue_recipients WHERE message_id = ?1")?
        .query_row([message_id], |r| r.get(0))?;
    if left > 0 {
        return Ok(());
    }
    let blob: Option<i64> = c
        .prepare_cached("DELETE FROM queue_messages WHERE id = ?1 RETURNING blob_id")?
        .query_row([message_id], |r| r.get(0))
        .optional()?;
    if let Some(blob_id) = blob {
        blob_unref(c, fx, blob_id)?;
    }
    Ok(())
}

impl Store {
    /// Queues a message for its recipients in one transaction; returns the
    /// queue id once it is durable.
    pub fn enqueue(&self, blob: &PreparedBlob, msg: NewQueueMessage) -> Result<i64> {
        let blob = blob.clone();
        self.write(move |c, _fx| {
            let blob_id = blob_ref(c, &blob)?;
            let created = now();
            let id: i64 = c
                .prepare_cached(
                    "INSERT INTO queue_messages (blob_id, sender, env_id, ret, smtputf8, created)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                )?
                .query_row(
                    params![blob_id, msg.sender, msg.env_id, msg.ret, msg.smtputf8 as i64, created],
                    |r| r.get(0),
                )?;
            let first = msg.not_before.unwrap_or(created);
            for r in &msg.recipients {
                c.prepare_cached(
                    "INSERT INTO queue_recipients (message_id, address, orcpt, notify, next_attempt)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![id, r.address, r.orcpt, r.notify, first])?;
            }
            Ok(id)
        })
    }

    /// Every queued message with all its recipients, oldest first.
    pub fn queue_list(&self) -> Result<Vec<QueuedMessage>> {
        self.read(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {MSG_COLS} FROM queue_messages q JOIN blobs b ON b.id = q.blob_id ORDER BY q.id"
            ))?;
            let mut msgs = st.query_map([], row_message)?.collect::<rusqlite::Result<Vec<_>>>()?;
            for m in &mut msgs {
                m.recipients = recipients(c, m.id, None)?;
            }
            Ok(msgs)
        })
    }

    /// One queued message with all its recipients.
    pub fn queue_get(&self, id: i64) -> Result<Option<QueuedMessage>> {
        self.read(move |c| {
            let Some(mut m) = load_message(c, id)? else {
                return Ok(None);
            };
            m.recipients = recipients(c, id, None)?;
            Ok(Some(m))
        })
    }

    /// Messages with recipients due at `at`, each carrying only its due
    /// recipients; at most `limit` messages, most overdue first.
    pub fn queue_due(&self, at: i64, limit: usize) -> Result<Vec<QueuedMessage>> {
        self.read(move |c| {
            let mut st = c.prepare_cached(
                "SELECT message_id FROM queue_recipients WHERE next_attempt <= ?1
                 GROUP BY message_id ORDER BY MIN(next_attempt), message_id LIMIT ?2",
            )?;
            let ids = st
                .query_map(params![at, limit as i64], |r| r.get::<_, i64>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(mut m) = load_message(c, id)? {
                    m.recipients = recipients(c, id, Some(at))?;
                    out.push(m);
                }
            }
            Ok(out)
        })
    }

    /// When the next recipient falls due (unix seconds), if any is queued.
    pub fn queue_next_due(&self) -> Result<Option<i64>> {
        self.read(|c| Ok(c.query_row("SELECT MIN(next_attempt) FROM queue_recipients", [], |r| r.get(0))?))
    }

    /// Records the outcome of delivery attempts, all in one transaction.
    pub fn queue_update(&self, updates: Vec<QueueUpdate>) -> Result<()> {
        self.write(move |c, fx| {
            let mut touched = Vec::new();
            for u in &updates {
                match u {
                    QueueUpdate::Done(id) => {
                        let msg: Option<i64> = c
                            .prepare_cached("DELETE FROM queue_recipients WHERE id = ?1 RETURNING message_id")?
                            .query_row([id], |r| r.get(0))
                            .optional()?;
                        touched.extend(msg);
                    }
                    QueueUpdate::Defer {
                        id,
                        next_attempt,
                        reply,
                    } => {
                        c.prepare_cached(
                            "UPDATE queue_recipients SET status = 'deferred', attempts = attempts + 1,
                             next_attempt = ?2, last_reply = ?3 WHERE id = ?1",
                        )?
                        .execute(params![id, next_attempt, reply])?;
                    }
                }
            }
            touched.sort_unstable();
            touched.dedup();
            for m in touched {
                drop_if_empty(c, fx, m)?;
            }
            Ok(())
        })
    }

    /// Makes one message (or all) due now; returns how many recipients moved.
    pub fn queue_retry(&self, message_id: Option<i64>) -> Result<usize> {
        self.write(move |c, _| {
            let n = c.execute(
                "UPDATE queue_recipients SET next_attempt = ?1 WHERE ?2 IS NULL OR message_id = ?2",
                params![now(), message_id],
            )?;
            Ok(n)
        })
    }

    /// Removes a message and all its recipients without delivering or
    /// bouncing it; `false` if there was no such message.
    pub fn queue_delete(&self, message_id: i64) -> Result<bool> {
        self.write(move |c, fx| {
            if load_message(c, message_id)?.is_none() {
                return Ok(false);
            }
            c.execute("DELETE FROM queue_recipients WHERE message_id = ?1", [message_id])?;
            drop_if_empty(c, fx, message_id)?;
            Ok(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rcpt(a: &str) -> NewQueueRecipient {
        NewQueueRecipient {
            address: a.into(),
            ..Default::default()
        }
    }

    #[test]
    fn enqueue_defer_done_and_blob_lifetime() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let blob = store.prepare_blob(b"Subject: q\r\n\r\nbody\r\n").unwrap();
        let hash = blob.hash.clone();
        let id = store
            .enqueue(
                &blob,
                NewQueueMessage {
                    sender: "a@x.test".into(),
                    recipients: vec![rcpt("b@y.test"), rcpt("c@y.test")],
                    ..Default::default()
                },
            )
            .unwrap();
        drop(blob);
        let due = store.queue_due(now(), 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].id, id);
        assert_eq!(due[0].recipients.len(), 2);
        let (r1, r2) = (due[0].recipients[0].id, due[0].recipients[1].id);
        store
            .queue_update(vec![
                QueueUpdate::Done(r1),
                QueueUpdate::Defer {
                    id: r2,
                    next_attempt: now() + 1000,
                    reply: "451 later".into(),
                },
            ])
            .unwrap();
        assert!(store.queue_due(now(), 10).unwrap().is_empty());
        let list = store.queue_list().unwrap();
        assert_eq!(list[0].recipients.len(), 1);
        assert_eq!(list[0].recipients[0].attempts, 1);
        assert_eq!(list[0].recipients[0].status, "deferred");
        assert!(store.queue_next_due().unwrap().unwrap() > now());
        assert_eq!(store.queue_retry(Some(id)).unwrap(), 1);
        assert_eq!(store.queue_due(now(), 10).unwrap().len(), 1);
        assert!(store.check().unwrap().is_empty());
        store.queue_update(vec![QueueUpdate::Done(r2)]).unwrap();
        assert!(store.queue_list().unwrap().is_empty());
        // The last reference is gone, so is the file.
        assert!(store.read_blob(&hash, 0, 10).is_err());
    }

    #[test]
    fn delete_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let id = {
            let store = Store::open(dir.path()).unwrap();
            let blob = store.prepare_blob(b"Subject: q\r\n\r\nbody\r\n").unwrap();
            store
                .enqueue(
                    &blob,
                    NewQueueMessage {
                        sender: String::new(),
                        recipients: vec![rcpt("b@y.test")],
                        ..Default::default()
                    },
                )
                .unwrap()
        };
        let store = Store::open(dir.path()).unwrap();
        let m = store.queue_get(id).unwrap().unwrap();
        assert_eq!(m.sender, "");
        assert!(store.queue_delete(id).unwrap());
        assert!(!store.queue_delete(id).unwrap());
        assert!(store.queue_list().unwrap().is_empty());
    }
}
