//! Messages: append, flags, copy, move, expunge, and the change log that
//! tells live sessions what happened (ordered by MODSEQ, RFC 7162).
use rusqlite::{Connection, OptionalExtension, params};

use crate::blob::PreparedBlob;
use crate::mailbox::mailbox_by_id;
use crate::parse::ParsedMessage;
use crate::writer::TxEffects;
use crate::{Result, Store, StoreError};

pub const SEEN: u8 = 1;
pub const ANSWERED: u8 = 2;
pub const FLAGGED: u8 = 4;
pub const DELETED: u8 = 8;
pub const DRAFT: u8 = 16;

const SYSTEM_FLAGS: &[(u8, &str)] = &[
    (SEEN, "\\Seen"),
    (ANSWERED, "\\Answered"),
    (FLAGGED, "\\Flagged"),
    (DELETED, "\\Deleted"),
    (DRAFT, "\\Draft"),
];

const KIND_APPEND: i64 = 1;
const KIND_FLAGS: i64 = 2;
const KIND_EXPUNGE: i64 = 3;
const KIND_MAILBOX: i64 = 4;

/// System flags as bits plus keywords (compared without case, RFC 9051 §2.3.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    pub system: u8,
    pub keywords: Vec<String>,
}

impl Flags {
    pub fn new(system: u8) -> Flags {
        Flags {
            system,
            keywords: Vec::new(),
        }
    }

    /// Builds flags from names such as `\Seen` or `$Forwarded`. `\Recent` is
    /// not stored and is ignored here.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Flags {
        let mut f = Flags::default();
        for n in names {
            f.insert(n.as_ref());
        }
        f
    }

    pub fn insert(&mut self, name: &str) {
        if let Some((bit, _)) = SYSTEM_FLAGS.iter().find(|(_, s)| s.eq_ignore_ascii_case(name)) {
            self.system |= bit;
        } else if !name.starts_with('\\') && self.keywords.len() <= MAX_KEYWORDS && !self.has_keyword(name) {
            // Past the limit one extra is enough to be refused; collecting
            // thousands more (quadratically) is not.
            self.keywords.push(name.to_string());
        }
    }

    pub fn has_keyword(&self, name: &str) -> bool {
        self.keywords.iter().any(|k| k.eq_ignore_ascii_case(name))
    }

    pub fn contains(&self, bit: u8) -> bool {
        self.system & bit != 0
    }

    pub fn names(&self) -> Vec<String> {
        let mut out: Vec<String> = SYSTEM_FLAGS
            .iter()
            .filter(|(b, _)| self.system & b != 0)
            .map(|(_, s)| s.to_string())
            .collect();
        out.extend(self.keywords.iter().cloned());
        out
    }

    fn apply(&self, op: FlagOp, change: &Flags) -> Flags {
        match op {
            FlagOp::Replace => change.clone(),
            FlagOp::Add => {
                let mut f = self.clone();
                f.system |= change.system;
                for k in &change.keywords {
                    if !f.has_keyword(k) {
                        f.keywords.push(k.clone());
                    }
                }
                f
            }
            FlagOp::Remove => Flags {
                system: self.system & !change.system,
                keywords: self
                    .keywords
                    .iter()
                    .filter(|k| !change.has_keyword(k))
                    .cloned()
                    .collect(),
            },
        }
    }

    fn same(&self, other: &Flags) -> bool {
        self.system == other.system
            && self.keywords.len() == other.keywords.len()
            && self.keywords.iter().all(|k| other.has_keyword(k))
    }

    fn keywords_text(&self) -> String {
        self.keywords.join(" ")
    }

    fn from_row(system: i64, keywords: &str) -> Flags {
        Flags {
            system: system as u8,
            keywords: keywords
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }
}

/// A stored message opened for reading: a file, or the bytes of a small
/// message kept in the database.
#[derive(Debug)]
pub enum BlobReader {
    File(std::fs::File),
    Memory(std::io::Cursor<Vec<u8>>),
}

impl std::io::Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            BlobReader::File(f) => f.read(buf),
            BlobReader::Memory(m) => m.read(buf),
        }
    }
}

impl std::io::Seek for BlobReader {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        match self {
            BlobReader::File(f) => f.seek(pos),
            BlobReader::Memory(m) => m.seek(pos),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagOp {
    Add,
    Remove,
    Replace,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MessageMeta {
    pub uid: u32,
    pub flags: Flags,
    /// Unix seconds.
    pub internal_date: i64,
    /// The zone the internal date was given in, minutes east of UTC.
    pub tz_offset: i32,
    pub size: u64,
    pub modseq: u64,
    pub blob_id: i64,
    pub blob_hash: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Appended {
    pub uidvalidity: u32,
    pub uids: Vec<u32>,
    pub modseq: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Copied {
    pub uidvalidity: u32,
    /// (source UID, destination UID) in source UID order.
    pub pairs: Vec<(u32, u32)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlagsUpdate {
    /// Messages whose flags changed, with their new flags and MODSEQ.
    pub updated: Vec<MessageMeta>,
    /// UIDs that failed an UNCHANGEDSINCE test (RFC 7162 §3.1.3).
    pub modified: Vec<u32>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// New messages and messages whose flags changed since the given MODSEQ.
    pub messages: Vec<MessageMeta>,
    /// UIDs expunged since the given MODSEQ.
    pub expunged: Vec<u32>,
    pub highest_modseq: u64,
    pub uidnext: u32,
}

/// One new message to append.
pub struct NewMessage<'a> {
    pub blob: &'a PreparedBlob,
    pub flags: Flags,
    /// Unix seconds, and the zone it was given in (minutes east of UTC).
    pub internal_date: i64,
    pub tz_offset: i32,
}

fn bump_modseq(c: &Connection, fx: &mut TxEffects, account: i64) -> Result<u64> {
    let m: i64 = c
        .prepare_cached(
            "UPDATE accounts SET highest_modseq = highest_modseq + 1 WHERE id = ?1 RETURNING highest_modseq",
        )?
        .query_row([account], |r| r.get(0))?;
    fx.notify.push((account, m as u64));
    Ok(m as u64)
}

fn log(c: &Connection, account: i64, modseq: u64, mailbox: i64, uid: Option<u32>, kind: i64) -> Result<()> {
    c.prepare_cached("INSERT INTO changes (account_id, modseq, mailbox_id, uid, kind) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![account, modseq as i64, mailbox, uid, kind])?;
    Ok(())
}

pub(crate) fn log_mailbox_change(c: &Connection, fx: &mut TxEffects, account: i64, mailbox: i64) -> Result<()> {
    let m = bump_modseq(c, fx, account)?;
    log(c, account, m, mailbox, None, KIND_MAILBOX)
}

pub(crate) fn blob_ref(c: &Connection, blob: &PreparedBlob) -> Result<i64> {
    let id: i64 = c
        .prepare_cached(
            "INSERT INTO blobs (hash, size, refcount, parsed) VALUES (?1, ?2, 1, ?3)
             ON CONFLICT (hash) DO UPDATE SET refcount = refcount + 1 RETURNING id",
        )?
        .query_row(params![blob.hash, blob.size as i64, blob.parsed_json], |r| r.get(0))?;
    if let Some(data) = &blob.inline {
        c.prepare_cached("INSERT INTO blob_data (blob_id, data) VALUES (?1, ?2) ON CONFLICT DO NOTHING")?
            .execute(params![id, data.as_slice()])?;
    }
    Ok(id)
}

pub(crate) fn blob_unref(c: &Connection, fx: &mut TxEffects, blob_id: i64) -> Result<()> {
    let (count, hash): (i64, String) = c
        .prepare_cached("UPDATE blobs SET refcount = refcount - 1 WHERE id = ?1 RETURNING refcount, hash")?
        .query_row([blob_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if count <= 0 {
        c.prepare_cached("DELETE FROM blobs WHERE id = ?1")?
            .execute([blob_id])?;
        fx.unlink.push(hash);
    }
    Ok(())
}

fn check_quota(c: &Connection, account: i64, extra: u64) -> Result<()> {
    let (quota, used): (Option<i64>, i64) = c
        .prepare_cached("SELECT quota_bytes, used_bytes FROM accounts WHERE id = ?1")?
        .query_row([account], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if let Some(q) = quota
        && used as u64 + extra > q as u64
    {
        return Err(StoreError::QuotaExceeded);
    }
    Ok(())
}

fn add_usage(c: &Connection, account: i64, delta: i64) -> Result<()> {
    c.prepare_cached("UPDATE accounts SET used_bytes = MAX(0, used_bytes + ?1) WHERE id = ?2")?
        .execute(params![delta, account])?;
    Ok(())
}

fn set_mailbox_modseq(c: &Connection, mailbox: i64, modseq: u64) -> Result<()> {
    c.prepare_cached("UPDATE mailboxes SET highest_modseq = ?1 WHERE id = ?2")?
        .execute(params![modseq as i64, mailbox])?;
    Ok(())
}

fn take_uid(c: &Connection, mailbox: i64) -> Result<u32> {
    let uid: i64 = c
        .prepare_cached("UPDATE mailboxes SET uidnext = uidnext + 1 WHERE id = ?1 RETURNING uidnext - 1")?
        .query_row([mailbox], |r| r.get(0))?;
    u32::try_from(uid).map_err(|_| StoreError::Invalid("mailbox UID space exhausted".into()))
}

#[allow(clippy::too_many_arguments)]
fn insert_message(
    c: &Connection,
    mailbox: i64,
    uid: u32,
    blob_id: i64,
    flags: &Flags,
    (date, tz): (i64, i32),
    size: u64,
    modseq: u64,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO messages (mailbox_id, uid, blob_id, flags, keywords, internal_date, size, modseq, tz_offset)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        mailbox,
        uid,
        blob_id,
        flags.system as i64,
        flags.keywords_text(),
        date,
        size as i64,
        modseq as i64,
        tz
    ])?;
    Ok(())
}

const META_COLS: &str = "m.uid, m.flags, m.keywords, m.internal_date, m.size, m.modseq, m.blob_id, b.hash, m.tz_offset";

fn row_meta(r: &rusqlite::Row<'_>) -> rusqlite::Result<MessageMeta> {
    Ok(MessageMeta {
        uid: r.get(0)?,
        flags: Flags::from_row(r.get(1)?, &r.get::<_, String>(2)?),
        internal_date: r.get(3)?,
        size: r.get::<_, i64>(4)? as u64,
        modseq: r.get::<_, i64>(5)? as u64,
        blob_id: r.get(6)?,
        blob_hash: r.get(7)?,
        tz_offset: r.get(8)?,
    })
}

fn metas_for(c: &Connection, mailbox: i64, uids: &[u32]) -> Result<Vec<MessageMeta>> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {META_COLS} FROM messages m JOIN blobs b ON b.id = m.blob_id WHERE m.mailbox_id = ?1 AND m.uid = ?2"
    ))?;
    let mut out = Vec::with_capacity(uids.len());
    for &uid in uids {
        if let Some(m) = st.query_row(params![mailbox, uid], row_meta).optional()? {
            out.push(m);
        }
    }
    Ok(out)
}

fn expunge_in_tx(c: &Connection, fx: &mut TxEffects, mailbox: i64, uids: &[u32]) -> Result<Vec<u32>> {
    let mb = mailbox_by_id(c, mailbox)?;
    let metas = metas_for(c, mailbox, uids)?;
    if metas.is_empty() {
        return Ok(Vec::new());
    }
    let modseq = bump_modseq(c, fx, mb.account_id)?;
    let mut freed = 0i64;
    let mut done = Vec::with_capacity(metas.len());
    for m in &metas {
        c.prepare_cached("DELETE FROM messages WHERE mailbox_id = ?1 AND uid = ?2")?
            .execute(params![mailbox, m.uid])?;
        blob_unref(c, fx, m.blob_id)?;
        log(c, mb.account_id, modseq, mailbox, Some(m.uid), KIND_EXPUNGE)?;
        freed += m.size as i64;
        done.push(m.uid);
    }
    add_usage(c, mb.account_id, -freed)?;
    set_mailbox_modseq(c, mailbox, modseq)?;
    Ok(done)
}

fn copy_in_tx(c: &Connection, fx: &mut TxEffects, src: i64, uids: &[u32], dst: i64, quota: bool) -> Result<Copied> {
    let dst_mb = mailbox_by_id(c, dst)?;
    let metas = metas_for(c, src, uids)?;
    if quota {
        check_quota(c, dst_mb.account_id, metas.iter().map(|m| m.size).sum())?;
    }
    let modseq = bump_modseq(c, fx, dst_mb.account_id)?;
    let mut pairs = Vec::with_capacity(metas.len());
    let mut added = 0i64;
    for m in &metas {
        let uid = take_uid(c, dst)?;
        c.prepare_cached("UPDATE blobs SET refcount = refcount + 1 WHERE id = ?1")?
            .execute([m.blob_id])?;
        insert_message(
            c,
            dst,
            uid,
            m.blob_id,
            &m.flags,
            (m.internal_date, m.tz_offset),
            m.size,
            modseq,
        )?;
        log(c, dst_mb.account_id, modseq, dst, Some(uid), KIND_APPEND)?;
        added += m.size as i64;
        pairs.push((m.uid, uid));
    }
    add_usage(c, dst_mb.account_id, added)?;
    set_mailbox_modseq(c, dst, modseq)?;
    Ok(Copied {
        uidvalidity: dst_mb.uidvalidity,
        pairs,
    })
}

pub(crate) fn move_in_tx(c: &Connection, fx: &mut TxEffects, src: i64, uids: &[u32], dst: i64) -> Result<Copied> {
    let copied = copy_in_tx(c, fx, src, uids, dst, false)?;
    let moved: Vec<u32> = copied.pairs.iter().map(|p| p.0).collect();
    expunge_in_tx(c, fx, src, &moved)?;
    Ok(copied)
}

pub(crate) fn delete_mailbox_messages(c: &Connection, fx: &mut TxEffects, mailbox: i64) -> Result<()> {
    let uids: Vec<u32> = {
        let mut st = c.prepare("SELECT uid FROM messages WHERE mailbox_id = ?1")?;
        st.query_map([mailbox], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    expunge_in_tx(c, fx, mailbox, &uids)?;
    Ok(())
}

/// Keywords one message may carry. Each costs space outside the quota and
/// work in every session's flag list, so a client cannot attach thousands.
pub const MAX_KEYWORDS: usize = 64;

fn check_keywords(flags: &Flags) -> Result<()> {
    if flags.keywords.len() > MAX_KEYWORDS {
        return Err(StoreError::Invalid(format!(
            "at most {MAX_KEYWORDS} keywords per message"
        )));
    }
    Ok(())
}

fn store_flags_job(
    mailbox_id: i64,
    uids: Vec<u32>,
    op: FlagOp,
    change: Flags,
    unchanged_since: Option<u64>,
) -> impl FnOnce(&Connection, &mut TxEffects) -> Result<FlagsUpdate> + Send + 'static {
    move |c, fx| {
        check_keywords(&change)?;
        let mb = mailbox_by_id(c, mailbox_id)?;
        let metas = metas_for(c, mailbox_id, &uids)?;
        let mut result = FlagsUpdate::default();
        let mut modseq = None;
        for mut m in metas {
            if unchanged_since.is_some_and(|u| m.modseq > u) {
                result.modified.push(m.uid);
                continue;
            }
            let new = m.flags.apply(op, &change);
            if new.same(&m.flags) {
                continue;
            }
            check_keywords(&new)?;
            let ms = match modseq {
                Some(ms) => ms,
                None => {
                    let ms = bump_modseq(c, fx, mb.account_id)?;
                    modseq = Some(ms);
                    ms
                }
            };
            c.prepare_cached(
                "UPDATE messages SET flags = ?1, keywords = ?2, modseq = ?3 WHERE mailbox_id = ?4 AND uid = ?5",
            )?
            .execute(params![
                new.system as i64,
                new.keywords_text(),
                ms as i64,
                mailbox_id,
                m.uid
            ])?;
            log(c, mb.account_id, ms, mailbox_id, Some(m.uid), KIND_FLAGS)?;
            m.flags = new;
            m.modseq = ms;
            result.updated.push(m);
        }
        if let Some(ms) = modseq {
            set_mailbox_modseq(c, mailbox_id, ms)?;
        }
        Ok(result)
    }
}

fn expunge_deleted_job(
    mailbox_id: i64,
    only: Option<Vec<u32>>,
) -> impl FnOnce(&Connection, &mut TxEffects) -> Result<Vec<u32>> + Send + 'static {
    move |c, fx| {
        let deleted: Vec<u32> = {
            let mut st =
                c.prepare_cached("SELECT uid FROM messages WHERE mailbox_id = ?1 AND (flags & 8) != 0 ORDER BY uid")?;
            st.query_map([mailbox_id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        let targets: Vec<u32> = match &only {
            Some(set) => {
                let set: std::collections::HashSet<u32> = set.iter().copied().collect();
                deleted.into_iter().filter(|u| set.contains(u)).collect()
            }
            None => deleted,
        };
        expunge_in_tx(c, fx, mailbox_id, &targets)
    }
}

impl Store {
    /// Appends messages to a mailbox atomically (MULTIAPPEND: all or none).
    pub fn append(&self, mailbox_id: i64, messages: Vec<NewMessage<'_>>) -> Result<Appended> {
        for m in &messages {
            check_keywords(&m.flags)?;
        }
        let rows: Vec<(PreparedBlob, Flags, (i64, i32))> = messages
            .into_iter()
            .map(|m| (m.blob.clone(), m.flags, (m.internal_date, m.tz_offset)))
            .collect();
        self.write(move |c, fx| {
            let mb = mailbox_by_id(c, mailbox_id)?;
            check_quota(c, mb.account_id, rows.iter().map(|r| r.0.size).sum())?;
            let modseq = bump_modseq(c, fx, mb.account_id)?;
            let mut uids = Vec::with_capacity(rows.len());
            let mut added = 0i64;
            for (blob, flags, date) in &rows {
                let blob_id = blob_ref(c, blob)?;
                let uid = take_uid(c, mailbox_id)?;
                insert_message(c, mailbox_id, uid, blob_id, flags, *date, blob.size, modseq)?;
                log(c, mb.account_id, modseq, mailbox_id, Some(uid), KIND_APPEND)?;
                added += blob.size as i64;
                uids.push(uid);
            }
            add_usage(c, mb.account_id, added)?;
            set_mailbox_modseq(c, mailbox_id, modseq)?;
            Ok(Appended {
                uidvalidity: mb.uidvalidity,
                uids,
                modseq,
            })
        })
    }

    /// Delivers one message into the INBOX of each account, storing the blob
    /// once. Each recipient succeeds or fails on its own (e.g. over quota);
    /// all successes are committed together before this returns.
    pub fn deliver(&self, blob: &PreparedBlob, accounts: &[i64], internal_date: i64) -> Result<Vec<Result<u32>>> {
        let blob = blob.clone();
        let accounts = accounts.to_vec();
        self.write(move |c, fx| {
            let mut out = Vec::with_capacity(accounts.len());
            for account in accounts {
                let one = (|| -> Result<u32> {
                    let inbox = match crate::mailbox::get_mailbox(c, account, "INBOX")? {
                        Some(mb) => mb.id,
                        None => crate::mailbox::insert_mailbox(c, account, "INBOX", None)?,
                    };
                    check_quota(c, account, blob.size)?;
                    let modseq = bump_modseq(c, fx, account)?;
                    let blob_id = blob_ref(c, &blob)?;
                    let uid = take_uid(c, inbox)?;
                    insert_message(
                        c,
                        inbox,
                        uid,
                        blob_id,
                        &Flags::default(),
                        (internal_date, 0),
                        blob.size,
                        modseq,
                    )?;
                    log(c, account, modseq, inbox, Some(uid), KIND_APPEND)?;
                    add_usage(c, account, blob.size as i64)?;
                    set_mailbox_modseq(c, inbox, modseq)?;
                    Ok(uid)
                })();
                out.push(one);
            }
            Ok(out)
        })
    }

    /// All messages of a mailbox in UID order.
    pub fn messages(&self, mailbox_id: i64) -> Result<Vec<MessageMeta>> {
        self.read(move |c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {META_COLS} FROM messages m JOIN blobs b ON b.id = m.blob_id WHERE m.mailbox_id = ?1 ORDER BY m.uid"
            ))?;
            let rows = st.query_map([mailbox_id], row_meta)?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    pub fn message(&self, mailbox_id: i64, uid: u32) -> Result<Option<MessageMeta>> {
        self.read(move |c| Ok(metas_for(c, mailbox_id, &[uid])?.pop()))
    }

    /// The structure parsed at delivery.
    pub fn parsed(&self, blob_id: i64) -> Result<ParsedMessage> {
        Ok(self.parsed_shared(blob_id)?.as_ref().clone())
    }

    /// The parsed structure if it is in memory: never touches the database,
    /// so callers may use it without a blocking thread.
    pub fn parsed_cached(&self, blob_id: i64, hash: &str) -> Option<std::sync::Arc<ParsedMessage>> {
        self.inner.parsed_cache.get(blob_id, hash)
    }

    /// [`Store::parsed_shared`] for a message whose blob hash is known (as
    /// in [`MessageMeta`]): a cache hit costs no database read at all.
    pub fn parsed_for(&self, blob_id: i64, hash: &str) -> Result<std::sync::Arc<ParsedMessage>> {
        match self.inner.parsed_cache.get(blob_id, hash) {
            Some(p) => Ok(p),
            None => self.parsed_shared(blob_id),
        }
    }

    /// The structure parsed at delivery, shared: served from a cache after
    /// the first read, so FETCH ENVELOPE/BODYSTRUCTURE and SEARCH do not
    /// decode it again.
    pub fn parsed_shared(&self, blob_id: i64) -> Result<std::sync::Arc<ParsedMessage>> {
        let cache = &self.inner.parsed_cache;
        let cached = self.read(|c| {
            let hash: String = c
                .prepare_cached("SELECT hash FROM blobs WHERE id = ?1")?
                .query_row([blob_id], |r| r.get(0))
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("blob {blob_id}")))?;
            if let Some(p) = cache.get(blob_id, &hash) {
                return Ok(Ok(p));
            }
            let json: String = c
                .prepare_cached("SELECT parsed FROM blobs WHERE id = ?1 AND hash = ?2")?
                .query_row(params![blob_id, hash], |r| r.get(0))
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("blob {blob_id}")))?;
            Ok(Err((hash, json)))
        })?;
        match cached {
            Ok(p) => Ok(p),
            Err((hash, json)) => {
                let p: ParsedMessage = serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let p = std::sync::Arc::new(p);
                cache.put(blob_id, hash, p.clone());
                Ok(p)
            }
        }
    }

    /// Sets, adds or removes flags. With `unchanged_since`, messages whose
    /// MODSEQ is higher are left alone and reported (RFC 7162 §3.1.3).
    pub fn store_flags(
        &self,
        mailbox_id: i64,
        uids: &[u32],
        op: FlagOp,
        flags: &Flags,
        unchanged_since: Option<u64>,
    ) -> Result<FlagsUpdate> {
        self.write(store_flags_job(
            mailbox_id,
            uids.to_vec(),
            op,
            flags.clone(),
            unchanged_since,
        ))
    }

    /// [`Store::store_flags`] for async code (see [`Store::write_async`]).
    pub fn store_flags_async(
        &self,
        mailbox_id: i64,
        uids: Vec<u32>,
        op: FlagOp,
        flags: Flags,
        unchanged_since: Option<u64>,
    ) -> impl std::future::Future<Output = Result<FlagsUpdate>> + Send + 'static {
        self.write_async(store_flags_job(mailbox_id, uids, op, flags, unchanged_since))
    }

    pub fn copy(&self, src: i64, uids: &[u32], dst: i64) -> Result<Copied> {
        let uids = uids.to_vec();
        self.write(move |c, fx| copy_in_tx(c, fx, src, &uids, dst, true))
    }

    /// RFC 6851 MOVE: copy and expunge in one transaction.
    pub fn move_messages(&self, src: i64, uids: &[u32], dst: i64) -> Result<Copied> {
        let uids = uids.to_vec();
        self.write(move |c, fx| move_in_tx(c, fx, src, &uids, dst))
    }

    /// Removes the given messages whatever their flags (POP3 DELE + QUIT).
    pub fn expunge(&self, mailbox_id: i64, uids: &[u32]) -> Result<Vec<u32>> {
        let uids = uids.to_vec();
        self.write(move |c, fx| expunge_in_tx(c, fx, mailbox_id, &uids))
    }

    /// Removes messages flagged \Deleted, optionally only among `only` (UID
    /// EXPUNGE, RFC 4315). Returns the expunged UIDs in ascending order.
    pub fn expunge_deleted(&self, mailbox_id: i64, only: Option<Vec<u32>>) -> Result<Vec<u32>> {
        self.write(expunge_deleted_job(mailbox_id, only))
    }

    /// [`Store::expunge_deleted`] for async code (see [`Store::write_async`]).
    pub fn expunge_deleted_async(
        &self,
        mailbox_id: i64,
        only: Option<Vec<u32>>,
    ) -> impl std::future::Future<Output = Result<Vec<u32>>> + Send + 'static {
        self.write_async(expunge_deleted_job(mailbox_id, only))
    }

    /// What changed in a mailbox after `modseq`: the basis of live updates
    /// for selected sessions and, later, of CONDSTORE/QRESYNC.
    pub fn changes_since(&self, mailbox_id: i64, modseq: u64) -> Result<Changes> {
        self.read(move |c| {
            let tx = c.unchecked_transaction()?;
            let mb = mailbox_by_id(&tx, mailbox_id)?;
            let messages = {
                let mut st = tx.prepare_cached(&format!(
                    "SELECT {META_COLS} FROM messages m JOIN blobs b ON b.id = m.blob_id
                     WHERE m.mailbox_id = ?1 AND m.modseq > ?2 ORDER BY m.uid"
                ))?;
                st.query_map(params![mailbox_id, modseq as i64], row_meta)?
                    .collect::<rusqlite::Result<Vec<_>>>()?
            };
            let expunged = {
                let mut st = tx.prepare_cached(
                    "SELECT uid FROM changes WHERE mailbox_id = ?1 AND modseq > ?2 AND kind = ?3 ORDER BY uid",
                )?;
                st.query_map(params![mailbox_id, modseq as i64, KIND_EXPUNGE], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<u32>>>()?
            };
            Ok(Changes {
                messages,
                expunged,
                highest_modseq: mb.highest_modseq,
                uidnext: mb.uidnext,
            })
        })
    }

    /// Reads part of a message body by byte range (partial FETCH, POP3 TOP).
    pub fn read_blob(&self, hash: &str, offset: u64, len: u64) -> Result<Vec<u8>> {
        match self.inline_blob(hash, offset, len)? {
            Some(bytes) => Ok(bytes),
            None => Ok(self.inner.blobs.read_range(hash, offset, len)?),
        }
    }

    /// Opens a message for streaming (RETR, FETCH BODY[] of large messages).
    pub fn open_blob(&self, hash: &str) -> Result<BlobReader> {
        match self.inline_blob(hash, 0, u64::MAX)? {
            Some(bytes) => Ok(BlobReader::Memory(std::io::Cursor::new(bytes))),
            None => Ok(BlobReader::File(self.inner.blobs.open_blob(hash)?)),
        }
    }

    /// Bytes of a blob kept in the database, `None` for blobs kept as files.
    fn inline_blob(&self, hash: &str, offset: u64, len: u64) -> Result<Option<Vec<u8>>> {
        let offset = offset.min(i64::MAX as u64 - 1) as i64;
        let len = len.min(i64::MAX as u64 / 2) as i64;
        self.read(move |c| {
            // substr() on a BLOB counts bytes from 1.
            Ok(c.prepare_cached(
                "SELECT substr(d.data, ?2 + 1, ?3) FROM blobs b JOIN blob_data d ON d.blob_id = b.id WHERE b.hash = ?1",
            )?
            .query_row(params![hash, offset, len], |r| r.get::<_, Vec<u8>>(0))
            .optional()?)
        })
    }
}
