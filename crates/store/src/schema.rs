//! Numbered migrations. The logical schema is plain SQL (integers, text,
//! no SQLite-only types) so a PostgreSQL backend can follow it.
use rusqlite::Connection;

use crate::Result;

/// Each entry is applied once, in order; `PRAGMA user_version` records the
/// last one applied. Never edit an entry that has shipped: append a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: accounts, mailboxes, messages, blobs, change log.
    r#"
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE domains (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created INTEGER NOT NULL
    );
    CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        address TEXT NOT NULL UNIQUE,
        domain_id INTEGER NOT NULL REFERENCES domains(id),
        password_hash TEXT NOT NULL,
        quota_bytes INTEGER,
        used_bytes INTEGER NOT NULL DEFAULT 0,
        highest_modseq INTEGER NOT NULL DEFAULT 1,
        created INTEGER NOT NULL
    );
    CREATE TABLE aliases (
        id INTEGER PRIMARY KEY,
        address TEXT NOT NULL UNIQUE,
        account_id INTEGER NOT NULL REFERENCES accounts(id)
    );
    CREATE INDEX aliases_account ON aliases(account_id);
    CREATE TABLE mailboxes (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        name TEXT NOT NULL,
        special_use TEXT,
        uidvalidity INTEGER NOT NULL,
        uidnext INTEGER NOT NULL DEFAULT 1,
        highest_modseq INTEGER NOT NULL DEFAULT 1,
        recent_uid INTEGER NOT NULL DEFAULT 1,
        UNIQUE (account_id, name)
    );
    CREATE TABLE subscriptions (
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        name TEXT NOT NULL,
        PRIMARY KEY (account_id, name)
    );
    CREATE TABLE blobs (
        id INTEGER PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        refcount INTEGER NOT NULL DEFAULT 0,
        parsed TEXT NOT NULL
    );
    CREATE TABLE messages (
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
        uid INTEGER NOT NULL,
        blob_id INTEGER NOT NULL REFERENCES blobs(id),
        flags INTEGER NOT NULL DEFAULT 0,
        keywords TEXT NOT NULL DEFAULT '',
        internal_date INTEGER NOT NULL,
        size INTEGER NOT NULL,
        modseq INTEGER NOT NULL,
        PRIMARY KEY (mailbox_id, uid)
    );
    CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);
    CREATE TABLE changes (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL,
        modseq INTEGER NOT NULL,
        mailbox_id INTEGER,
        uid INTEGER,
        kind INTEGER NOT NULL
    );
    CREATE INDEX changes_mailbox ON changes(mailbox_id, modseq);
    CREATE INDEX changes_account ON changes(account_id, modseq);
    "#,
    // 2: the SMTP outbound queue. One row per message (holding one blob
    // reference) and one row per recipient still to be delivered.
    r#"
    CREATE TABLE queue_messages (
        id INTEGER PRIMARY KEY,
        blob_id INTEGER NOT NULL REFERENCES blobs(id),
        sender TEXT NOT NULL,
        env_id TEXT,
        ret TEXT,
        smtputf8 INTEGER NOT NULL DEFAULT 0,
        created INTEGER NOT NULL
    );
    CREATE TABLE queue_recipients (
        id INTEGER PRIMARY KEY,
        message_id INTEGER NOT NULL REFERENCES queue_messages(id),
        address TEXT NOT NULL,
        orcpt TEXT,
        notify TEXT,
        status TEXT NOT NULL DEFAULT 'queued',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt INTEGER NOT NULL,
        last_reply TEXT
    );
    CREATE INDEX queue_recipients_due ON queue_recipients(next_attempt);
    CREATE INDEX queue_recipients_message ON queue_recipients(message_id);
    "#,
    // 3: POP3: each message's size as sent on the wire (bare LF counted as
    // CRLF, RFC 1939 §11), computed once per blob by the POP3 server and
    // dropped together with the blob.
    r#"
    CREATE TABLE pop3_sizes (
        blob_id INTEGER PRIMARY KEY REFERENCES blobs(id) ON DELETE CASCADE,
        octets INTEGER NOT NULL
    );
    "#,
    // 4: small message bodies kept in the database (see blob::INLINE_MAX).
    r#"
    CREATE TABLE blob_data (
        blob_id INTEGER PRIMARY KEY REFERENCES blobs(id) ON DELETE CASCADE,
        data BLOB NOT NULL
    );
    "#,
    // 5: SMTP: a "delayed" DSN (RFC 3461 §5.2.5) was sent for this queued
    // recipient; it is sent once, across restarts.
    r#"
    ALTER TABLE queue_recipients ADD COLUMN delay_warned INTEGER NOT NULL DEFAULT 0;
    "#,
    // 6: the zone an internal date was given in (APPEND date-time), minutes
    // east of UTC, so INTERNALDATE comes back as it went in (RFC 9051 §2.3.3).
    r#"
    ALTER TABLE messages ADD COLUMN tz_offset INTEGER NOT NULL DEFAULT 0;
    "#,
];

pub fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        if version <= current {
            continue;
        }
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the lock.
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now < version {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version)?;
        }
        tx.commit()?;
    }
    Ok(())
}
