//! Mailboxes: hierarchy with `/` as the delimiter, UIDVALIDITY/UIDNEXT,
//! special use (RFC 6154) and subscriptions.
use rusqlite::{Connection, OptionalExtension, params};

use crate::{Result, Store, StoreError};

pub const DELIMITER: char = '/';

/// Mailboxes one account may have. LIST and its CHILDINFO work grow with
/// this, and no mail client needs more.
pub const MAX_MAILBOXES: usize = 10_000;

pub const DEFAULT_MAILBOXES: &[(&str, Option<&str>)] = &[
    ("INBOX", None),
    ("Drafts", Some("\\Drafts")),
    ("Sent", Some("\\Sent")),
    ("Junk", Some("\\Junk")),
    ("Trash", Some("\\Trash")),
    ("Archive", Some("\\Archive")),
];

pub const SPECIAL_USES: &[&str] = &[
    "\\All",
    "\\Archive",
    "\\Drafts",
    "\\Flagged",
    "\\Junk",
    "\\Sent",
    "\\Trash",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Mailbox {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub special_use: Option<String>,
    pub uidvalidity: u32,
    pub uidnext: u32,
    pub highest_modseq: u64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MailboxStatus {
    pub messages: u32,
    pub unseen: u32,
    pub recent: u32,
    pub deleted: u32,
    pub size: u64,
    pub uidnext: u32,
    pub uidvalidity: u32,
    pub highest_modseq: u64,
}

/// "inbox" in any case is INBOX (RFC 9051 §5.1); other names are checked.
pub fn normalize_name(name: &str) -> Result<String> {
    let bad = |why: &str| StoreError::Invalid(format!("mailbox name '{name}': {why}"));
    if name.is_empty() {
        return Err(bad("empty"));
    }
    if name.len() > 1024 {
        return Err(bad("too long"));
    }
    if name.starts_with(DELIMITER) || name.ends_with(DELIMITER) || name.contains("//") {
        return Err(bad("empty hierarchy level"));
    }
    if name.chars().any(|c| c.is_control() || c == '*' || c == '%') {
        return Err(bad("forbidden character"));
    }
    let mut parts = name.splitn(2, DELIMITER);
    let first = parts.next().unwrap_or_default();
    if first.eq_ignore_ascii_case("INBOX") {
        return Ok(match parts.next() {
            Some(rest) => format!("INBOX{DELIMITER}{rest}"),
            None => "INBOX".into(),
        });
    }
    Ok(name.to_string())
}

fn next_uidvalidity(c: &Connection) -> Result<u32> {
    let last: i64 = c
        .query_row("SELECT value FROM meta WHERE key = 'uidvalidity'", [], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let now = crate::now().clamp(1, u32::MAX as i64 - 1);
    let v = now.max(last + 1);
    c.execute(
        "INSERT INTO meta (key, value) VALUES ('uidvalidity', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [v],
    )?;
    Ok(v as u32)
}

pub(crate) fn insert_mailbox(c: &Connection, account: i64, name: &str, special: Option<&str>) -> Result<i64> {
    let v = next_uidvalidity(c)?;
    c.execute(
        "INSERT INTO mailboxes (account_id, name, special_use, uidvalidity) VALUES (?1, ?2, ?3, ?4)",
        params![account, name, special, v],
    )?;
    Ok(c.last_insert_rowid())
}

const MAILBOX_COLS: &str = "id, account_id, name, special_use, uidvalidity, uidnext, highest_modseq";

pub(crate) fn row_mailbox(r: &rusqlite::Row<'_>) -> rusqlite::Result<Mailbox> {
    Ok(Mailbox {
        id: r.get(0)?,
        account_id: r.get(1)?,
        name: r.get(2)?,
        special_use: r.get(3)?,
        uidvalidity: r.get::<_, i64>(4)? as u32,
        uidnext: r.get::<_, i64>(5)? as u32,
        highest_modseq: r.get::<_, i64>(6)? as u64,
    })
}

pub(crate) fn get_mailbox(c: &Connection, account: i64, name: &str) -> Result<Option<Mailbox>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {MAILBOX_COLS} FROM mailboxes WHERE account_id = ?1 AND name = ?2"
    ))?
    .query_row(params![account, name], row_mailbox)
    .optional()?)
}

pub(crate) fn mailbox_by_id(c: &Connection, id: i64) -> Result<Mailbox> {
    c.prepare_cached(&format!("SELECT {MAILBOX_COLS} FROM mailboxes WHERE id = ?1"))?
        .query_row([id], row_mailbox)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("mailbox {id}")))
}

/// Creates the missing superiors of `name` (RFC 9051 §6.3.4 SHOULD).
fn create_parents(c: &Connection, account: i64, name: &str) -> Result<()> {
    let mut prefix = String::new();
    let levels: Vec<&str> = name.split(DELIMITER).collect();
    for level in &levels[..levels.len().saturating_sub(1)] {
        if !prefix.is_empty() {
            prefix.push(DELIMITER);
        }
        prefix.push_str(level);
        if get_mailbox(c, account, &prefix)?.is_none() {
            insert_mailbox(c, account, &prefix, None)?;
        }
    }
    Ok(())
}

impl Store {
    pub fn mailbox_list(&self, account_id: i64) -> Result<Vec<Mailbox>> {
        self.read(move |c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {MAILBOX_COLS} FROM mailboxes WHERE account_id = ?1 ORDER BY name"
            ))?;
            let rows = st
                .query_map([account_id], row_mailbox)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    pub fn mailbox_get(&self, account_id: i64, name: &str) -> Result<Option<Mailbox>> {
        let Ok(name) = normalize_name(name) else {
            return Ok(None);
        };
        self.read(move |c| get_mailbox(c, account_id, &name))
    }

    pub fn mailbox_by_id(&self, id: i64) -> Result<Mailbox> {
        self.read(move |c| mailbox_by_id(c, id))
    }

    pub fn mailbox_create(&self, account_id: i64, name: &str, special_use: Option<&str>) -> Result<Mailbox> {
        let name = normalize_name(name)?;
        if let Some(s) = special_use
            && !SPECIAL_USES.iter().any(|u| u.eq_ignore_ascii_case(s))
        {
            return Err(StoreError::Invalid(format!("unknown special use {s}")));
        }
        let special = special_use.and_then(|s| SPECIAL_USES.iter().find(|u| u.eq_ignore_ascii_case(s)).copied());
        self.write(move |c, fx| {
            if get_mailbox(c, account_id, &name)?.is_some() {
                return Err(StoreError::Exists(format!("mailbox {name}")));
            }
            let count: i64 = c
                .prepare_cached("SELECT COUNT(*) FROM mailboxes WHERE account_id = ?1")?
                .query_row([account_id], |r| r.get(0))?;
            // The new mailbox and each missing parent count.
            let needed = 1 + name.matches(DELIMITER).count() as i64;
            if count + needed > MAX_MAILBOXES as i64 {
                return Err(StoreError::Invalid(format!(
                    "at most {MAX_MAILBOXES} mailboxes per account"
                )));
            }
            create_parents(c, account_id, &name)?;
            let id = insert_mailbox(c, account_id, &name, special)?;
            crate::message::log_mailbox_change(c, fx, account_id, id)?;
            mailbox_by_id(c, id)
        })
    }

    /// Deletes a mailbox and its messages. INBOX cannot be deleted; a
    /// mailbox with children must lose them first (as Dovecot requires).
    pub fn mailbox_delete(&self, account_id: i64, name: &str) -> Result<()> {
        let name = normalize_name(name)?;
        self.write(move |c, fx| {
            if name == "INBOX" {
                return Err(StoreError::Invalid("INBOX cannot be deleted".into()));
            }
            let mb =
                get_mailbox(c, account_id, &name)?.ok_or_else(|| StoreError::NotFound(format!("mailbox {name}")))?;
            let children: i64 = c.query_row(
                "SELECT COUNT(*) FROM mailboxes WHERE account_id = ?1 AND substr(name, 1, ?2) = ?3",
                params![account_id, name.len() as i64 + 1, format!("{name}{DELIMITER}")],
                |r| r.get(0),
            )?;
            if children > 0 {
                return Err(StoreError::HasChildren(name.clone()));
            }
            crate::message::delete_mailbox_messages(c, fx, mb.id)?;
            c.execute("DELETE FROM changes WHERE mailbox_id = ?1", [mb.id])?;
            c.execute("DELETE FROM mailboxes WHERE id = ?1", [mb.id])?;
            crate::message::log_mailbox_change(c, fx, account_id, mb.id)?;
            Ok(())
        })
    }

    /// Renames a mailbox and its children. Renaming INBOX moves its messages
    /// to the new mailbox and leaves INBOX empty (RFC 9051 §6.3.6).
    pub fn mailbox_rename(&self, account_id: i64, from: &str, to: &str) -> Result<()> {
        let from = normalize_name(from)?;
        let to = normalize_name(to)?;
        self.write(move |c, fx| {
            let mb = get_mailbox(c, account_id, &from)?.ok_or_else(|| StoreError::NotFound(format!("mailbox {from}")))?;
            if get_mailbox(c, account_id, &to)?.is_some() {
                return Err(StoreError::Exists(format!("mailbox {to}")));
            }
            if to.starts_with(&format!("{from}{DELIMITER}")) {
                return Err(StoreError::Invalid("cannot rename a mailbox into itself".into()));
            }
            create_parents(c, account_id, &to)?;
            if from == "INBOX" {
                let dst = insert_mailbox(c, account_id, &to, None)?;
                let uids: Vec<u32> = {
                    let mut st = c.prepare("SELECT uid FROM messages WHERE mailbox_id = ?1 ORDER BY uid")?;
                    st.query_map([mb.id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
                };
                crate::message::move_in_tx(c, fx, mb.id, &uids, dst)?;
                return Ok(());
            }
            let prefix = format!("{from}{DELIMITER}");
            c.execute(
                "UPDATE mailboxes SET name = ?1 || substr(name, ?2) WHERE account_id = ?3 AND (name = ?4 OR substr(name, 1, ?5) = ?6)",
                params![to, from.len() as i64 + 1, account_id, from, prefix.len() as i64, prefix],
            )?;
            c.execute(
                "UPDATE subscriptions SET name = ?1 || substr(name, ?2) WHERE account_id = ?3 AND (name = ?4 OR substr(name, 1, ?5) = ?6)",
                params![to, from.len() as i64 + 1, account_id, from, prefix.len() as i64, prefix],
            )?;
            crate::message::log_mailbox_change(c, fx, account_id, mb.id)?;
            Ok(())
        })
    }

    pub fn subscribe(&self, account_id: i64, name: &str, subscribed: bool) -> Result<()> {
        let name = normalize_name(name)?;
        self.write(move |c, _| {
            if subscribed {
                c.execute(
                    "INSERT INTO subscriptions (account_id, name) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    params![account_id, name],
                )?;
            } else {
                c.execute(
                    "DELETE FROM subscriptions WHERE account_id = ?1 AND name = ?2",
                    params![account_id, name],
                )?;
            }
            Ok(())
        })
    }

    pub fn subscriptions(&self, account_id: i64) -> Result<Vec<String>> {
        self.read(move |c| {
            let mut st = c.prepare_cached("SELECT name FROM subscriptions WHERE account_id = ?1 ORDER BY name")?;
            let rows = st
                .query_map([account_id], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(rows)
        })
    }

    pub fn mailbox_status(&self, mailbox_id: i64) -> Result<MailboxStatus> {
        self.read(move |c| {
            let tx = c.unchecked_transaction()?;
            let mb = mailbox_by_id(&tx, mailbox_id)?;
            let recent_uid: i64 =
                tx.query_row("SELECT recent_uid FROM mailboxes WHERE id = ?1", [mailbox_id], |r| {
                    r.get(0)
                })?;
            // Claims not committed yet count as claimed.
            let claimed = self
                .inner
                .recent_claims
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&(mailbox_id, mb.uidvalidity as i64))
                .copied()
                .unwrap_or(0);
            let recent_uid = recent_uid.max(claimed);
            let (messages, unseen, deleted, recent, size) = tx.query_row(
                "SELECT COUNT(*), COALESCE(SUM((flags & 1) = 0), 0), COALESCE(SUM((flags & 8) != 0), 0),
                        COALESCE(SUM(uid >= ?2), 0), COALESCE(SUM(size), 0)
                 FROM messages WHERE mailbox_id = ?1",
                params![mailbox_id, recent_uid],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                },
            )?;
            Ok(MailboxStatus {
                messages: messages as u32,
                unseen: unseen as u32,
                recent: recent as u32,
                deleted: deleted as u32,
                size: size as u64,
                uidnext: mb.uidnext,
                uidvalidity: mb.uidvalidity,
                highest_modseq: mb.highest_modseq,
            })
        })
    }

    /// Takes the \Recent messages of a mailbox for one session: UIDs in
    /// `from..to` are recent for the caller only (RFC 3501 §2.3.2). Claims
    /// are decided under one in-process lock, so two sessions never claim
    /// the same UID, and persisted by a write that is not waited for: the
    /// claim is session state, not something a client is told is durable,
    /// and waiting for a group commit here delayed every session's first
    /// command after new mail. Should the process die before that write
    /// commits, the messages are recent once more for the next session,
    /// which RFC 3501 §2.3.2 prefers to losing them.
    pub fn claim_recent_range(&self, mailbox_id: i64) -> Result<(u32, u32)> {
        let (recent, next, uidvalidity) = self.recent_row(mailbox_id)?;
        let mut claims = self.inner.recent_claims.lock().unwrap_or_else(|e| e.into_inner());
        let key = (mailbox_id, uidvalidity);
        let from = match claims.get(&key) {
            // Already persisted: the entry has no more to say.
            Some(&c) if c <= recent => {
                claims.remove(&key);
                recent
            }
            Some(&c) => c,
            None => recent,
        };
        if from >= next {
            return Ok((next as u32, next as u32));
        }
        claims.insert(key, next);
        drop(claims);
        self.inner.writer.submit(move |c, _| {
            c.prepare_cached("UPDATE mailboxes SET recent_uid = MAX(recent_uid, ?1) WHERE id = ?2")?
                .execute(params![next, mailbox_id])?;
            Ok(())
        })?;
        Ok((from as u32, next as u32))
    }

    /// (recent_uid, uidnext, uidvalidity) as committed.
    fn recent_row(&self, mailbox_id: i64) -> Result<(i64, i64, i64)> {
        self.read(move |c| {
            c.prepare_cached("SELECT recent_uid, uidnext, uidvalidity FROM mailboxes WHERE id = ?1")?
                .query_row([mailbox_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("mailbox {mailbox_id}")))
        })
    }

    /// The first UID not yet claimed as \Recent by any session (EXAMINE
    /// shows these as recent without claiming them).
    pub fn recent_uid(&self, mailbox_id: i64) -> Result<u32> {
        let (recent, _, uidvalidity) = self.recent_row(mailbox_id)?;
        let claims = self.inner.recent_claims.lock().unwrap_or_else(|e| e.into_inner());
        let claimed = claims.get(&(mailbox_id, uidvalidity)).copied().unwrap_or(0);
        Ok(recent.max(claimed) as u32)
    }
}
