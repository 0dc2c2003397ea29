//! APPEND and MULTIAPPEND (RFC 9051 §6.3.12, RFC 3502, UIDPLUS RFC 4315):
//! message literals stream from the framer into blob writers; the store
//! commits all messages of one command in one transaction.
use std::io::Write;

use mailroom_store::{BlobWriter, Flags, INLINE_MAX, NewMessage, PreparedBlob, StoreError};

use super::reply::{Reply, store_error};
use super::{Session, blocking};
use crate::command::AppendMessage;
use crate::framing::AppendStart;
use crate::sequence::SequenceSet;

/// Most messages in one MULTIAPPEND (each holds a temporary file).
const MAX_MULTIAPPEND: usize = 1000;

/// Where a message literal goes while it arrives.
enum Sink {
    /// Small messages stay in memory: they are stored inside the database,
    /// so a temporary file would only be written, read back and deleted.
    Memory(Vec<u8>),
    File(Box<BlobWriter>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Memory(v) => v.write(buf),
            Sink::File(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Memory(_) => Ok(()),
            Sink::File(w) => w.flush(),
        }
    }
}

/// A received message: prepared as a blob, or small bytes prepared with
/// the commit (one blocking hop fewer).
enum Received {
    Prepared(PreparedBlob),
    Bytes(Vec<u8>),
}

/// An APPEND command being received.
pub(crate) struct Appending {
    mailbox_id: i64,
    current: Option<(Sink, Flags, (i64, i32))>,
    /// For a text literal: whether the last octet written was CR (see
    /// `write_crlf`); None for literal8, which is stored as sent.
    crlf: Option<bool>,
    done: Vec<(Received, Flags, (i64, i32))>,
    /// A write failed: the command ends with this once all data is in.
    failed: Option<StoreError>,
}

/// What to do with an announced APPEND literal.
pub(crate) enum LiteralDecision {
    Accept,
    /// Refuse it (synchronising literal, or one we can skip) with this reply.
    Reject(Reply),
    /// Refuse and close: a non-synchronising literal we will not read.
    RejectClose(Reply),
}

impl Session {
    pub(crate) async fn append_literal(&mut self, start: AppendStart, size: u64, sync: bool) -> LiteralDecision {
        let refuse = |reply: Reply| {
            if sync {
                LiteralDecision::Reject(reply)
            } else {
                LiteralDecision::RejectClose(reply)
            }
        };
        if self.user.is_none() {
            return refuse(Reply::bad("Not authenticated"));
        }
        if size > self.cfg.max_append_size {
            // RFC 7889: over APPENDLIMIT.
            return refuse(Reply::no("Message too large").code("TOOBIG"));
        }
        if size == 0 {
            return refuse(Reply::no("Empty message").code("CANNOT"));
        }
        if start.index >= MAX_MULTIAPPEND {
            return refuse(Reply::no("Too many messages in one APPEND").code("LIMIT"));
        }
        // A large message that cannot fit the quota is refused before its
        // bytes are sent (the commit would refuse it anyway, after the
        // client sent them all and we wrote them to disk).
        if size > mailroom_store::INLINE_MAX {
            let store = self.store();
            let account = self.account_id();
            if let Ok(Some(a)) = blocking(move || store.account_by_id(account)).await
                && a.quota_bytes.is_some_and(|q| a.used_bytes.saturating_add(size) > q)
            {
                return refuse(Reply::no("Quota exceeded").code("OVERQUOTA"));
            }
        }
        if start.index == 0 {
            self.appending = None;
            let store = self.store();
            let account = self.account_id();
            let name = start.mailbox.clone();
            match blocking(move || store.mailbox_get(account, &name)).await {
                Ok(Some(mb)) => {
                    self.appending = Some(Appending {
                        mailbox_id: mb.id,
                        current: None,
                        crlf: None,
                        done: Vec::new(),
                        failed: None,
                    })
                }
                // RFC 9051 §6.3.12: TRYCREATE when the mailbox is missing.
                Ok(None) => return refuse(Reply::no("Mailbox does not exist").code("TRYCREATE")),
                Err(e) => return refuse(store_error(&e)),
            }
        }
        if self.appending.is_none() {
            return refuse(Reply::bad("APPEND state lost"));
        }
        let sink = if size <= INLINE_MAX {
            // Bounded by INLINE_MAX, itself well under any literal limit.
            Ok(Sink::Memory(Vec::with_capacity(size as usize)))
        } else {
            let store = self.ctx.store.clone();
            blocking(move || store.blob_writer())
                .await
                .map(|w| Sink::File(Box::new(w)))
        };
        let Some(app) = self.appending.as_mut() else {
            return refuse(Reply::bad("APPEND state lost"));
        };
        match sink {
            Ok(w) => {
                let date = start
                    .date
                    .map(|d| (d.timestamp, d.offset_minutes))
                    .unwrap_or_else(|| (mailroom_net::time::now(), 0));
                app.current = Some((w, Flags::from_names(&start.flags), date));
                app.crlf = (!start.binary).then_some(false);
                LiteralDecision::Accept
            }
            Err(e) => {
                self.appending = None;
                refuse(store_error(&e))
            }
        }
    }

    pub(crate) fn append_data(&mut self, data: &[u8]) {
        let Some(app) = self.appending.as_mut() else {
            return;
        };
        if app.failed.is_some() {
            return;
        }
        if let Some((w, _, _)) = app.current.as_mut() {
            let written = match app.crlf.as_mut() {
                Some(prev_cr) => write_crlf(w, data, prev_cr),
                None => w.write_all(data),
            };
            if let Err(e) = written {
                app.failed = Some(StoreError::Io(e));
            }
        }
    }

    /// The literal is complete: make the blob durable and parse it once.
    pub(crate) async fn append_literal_end(&mut self) {
        let Some(app) = self.appending.as_mut() else {
            return;
        };
        let Some((w, flags, date)) = app.current.take() else {
            return;
        };
        if app.failed.is_some() {
            return;
        }
        let finished = match w {
            Sink::Memory(bytes) => Ok(Received::Bytes(bytes)),
            Sink::File(w) => blocking(move || (*w).finish()).await.map(Received::Prepared),
        };
        match finished {
            Ok(blob) => {
                if let Some(app) = self.appending.as_mut() {
                    app.done.push((blob, flags, date));
                }
            }
            Err(e) => {
                if let Some(app) = self.appending.as_mut() {
                    app.failed = Some(e);
                }
            }
        }
    }

    /// All messages are in: commit them together (RFC 3502: all or none).
    pub(crate) async fn append_commit(&mut self) -> Reply {
        let Some(app) = self.appending.take() else {
            return Reply::bad("No APPEND in progress");
        };
        if let Some(e) = app.failed {
            return store_error(&e);
        }
        let store = self.store();
        let mailbox = app.mailbox_id;
        let result = blocking(move || {
            let mut blobs = Vec::with_capacity(app.done.len());
            for (received, flags, date) in app.done {
                let blob = match received {
                    Received::Prepared(b) => b,
                    Received::Bytes(bytes) => store.prepare_blob(&bytes)?,
                };
                blobs.push((blob, flags, date));
            }
            let msgs: Vec<NewMessage<'_>> = blobs
                .iter()
                .map(|(blob, flags, (date, tz))| NewMessage {
                    blob,
                    flags: flags.clone(),
                    internal_date: *date,
                    tz_offset: *tz,
                })
                .collect();
            store.append(mailbox, msgs)
        })
        .await;
        match result {
            Ok(a) => Reply::ok("APPEND completed").code(format!(
                "APPENDUID {} {}",
                a.uidvalidity,
                SequenceSet::from_ordered(a.uids.iter().copied())
            )),
            Err(StoreError::QuotaExceeded) => Reply::no("Quota exceeded").code("OVERQUOTA"),
            Err(StoreError::NotFound(_)) => Reply::no("Mailbox does not exist").code("TRYCREATE"),
            Err(e) => store_error(&e),
        }
    }

    /// The framer gave up on the command mid-way: drop what was streamed.
    pub(crate) fn append_abort(&mut self) {
        self.appending = None;
    }

    /// APPEND parsed whole (only from `parser::parse_command` callers; the
    /// connection streams instead). Kept for completeness of the dispatch.
    pub(crate) async fn cmd_append_buffered(&mut self, mailbox: String, messages: Vec<AppendMessage>) -> Reply {
        for (i, m) in messages.into_iter().enumerate() {
            let start = AppendStart {
                mailbox: mailbox.clone(),
                flags: m.flags,
                date: m.date,
                binary: m.binary,
                index: i,
            };
            match self.append_literal(start, m.data.len() as u64, true).await {
                LiteralDecision::Accept => {}
                LiteralDecision::Reject(r) | LiteralDecision::RejectClose(r) => {
                    self.appending = None;
                    return r;
                }
            }
            self.append_data(&m.data);
            self.append_literal_end().await;
        }
        self.append_commit().await
    }
}

/// Writes `data` with every bare LF made CRLF. IMAP messages are CRLF
/// text (RFC 5322 §2.3 forbids bare LF); a client that sends bare LFs would
/// otherwise get them back from FETCH, and RFC 9051 §7.5.2 requires CRLF in
/// BINARY text. Dovecot serves such messages the same way. `prev_cr` carries
/// the last octet across chunks.
fn write_crlf(w: &mut impl Write, data: &[u8], prev_cr: &mut bool) -> std::io::Result<()> {
    let mut start = 0;
    for (i, &b) in data.iter().enumerate() {
        let cr_before = if i == 0 { *prev_cr } else { data[i - 1] == b'\r' };
        if b == b'\n' && !cr_before {
            w.write_all(&data[start..i])?;
            w.write_all(b"\r")?;
            // The LF itself goes out with the next segment.
            start = i;
        }
    }
    w.write_all(&data[start..])?;
    if let Some(&last) = data.last() {
        *prev_cr = last == b'\r';
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::write_crlf;

    fn crlf(chunks: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut prev_cr = false;
        for c in chunks {
            write_crlf(&mut out, c, &mut prev_cr).unwrap();
        }
        out
    }

    #[test]
    fn bare_lf_becomes_crlf_across_chunks() {
        assert_eq!(crlf(&[b"a\nb\r\nc\n"]), b"a\r\nb\r\nc\r\n");
        assert_eq!(crlf(&[b"a\r", b"\nb\n", b"\n"]), b"a\r\nb\r\n\r\n");
        assert_eq!(crlf(&[b"\n\n", b"x\r", b"y"]), b"\r\n\r\nx\ry");
        assert_eq!(crlf(&[b"", b"no newline"]), b"no newline");
    }
}
