//! Streaming a received message (DATA or BDAT) straight into a store blob,
//! so that a session never holds the message body in memory.
//!
//! What goes into the blob, in order: the trace prefix (`Return-Path:` when
//! some recipient is local, then `Received:`), for submission the
//! `Message-ID:`/`Date:` fields the message lacks (RFC 6409 §8), then the
//! message as received. Only the header section is buffered, and only on
//! submission (to learn whether those fields are present before anything
//! after them is written); it is bounded by `[smtp] max_header_size`, and a
//! longer header section is refused with `552 5.3.4` rather than guessed
//! about (adding a second Message-ID would make the message invalid).
//!
//! [`Shaper`] is the sans-I/O part (bytes in → bytes for the blob);
//! [`Spool`] drives a [`BlobWriter`] with it off the async runtime.
use std::io::{Read, Seek, SeekFrom, Write};

use mailroom_store::{BlobWriter, PreparedBlob, Store, StoreError};

use crate::headers;
use crate::inbound::blocking;

/// Blob writes are batched to this many octets (fewer thread hand-offs).
const FLUSH_AT: usize = 256 * 1024;

/// Why a spooled message cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Over `max_message_size` (552 5.3.4).
    TooBig,
    /// Header section over `max_header_size` on submission (552 5.3.4).
    HeaderTooBig,
    /// Writing the blob failed (451 4.3.0).
    Io(String),
}

/// Decides what goes into the blob; see the module docs.
#[derive(Debug)]
pub struct Shaper {
    /// The submission header section while it is being collected.
    header: Option<Vec<u8>>,
    /// Where the scan for the blank line continues (a line start).
    scanned: usize,
    hostname: String,
    size: u64,
    max_size: u64,
    max_header: usize,
    refused: Option<Refusal>,
}

impl Shaper {
    /// `prefix` is written first; with `fixups`, missing `Message-ID:` and
    /// `Date:` (naming `hostname`) are added after it.
    pub fn new(
        prefix: &[u8],
        out: &mut Vec<u8>,
        fixups: bool,
        hostname: &str,
        max_size: u64,
        max_header: usize,
    ) -> Shaper {
        out.extend_from_slice(prefix);
        Shaper {
            header: fixups.then(Vec::new),
            scanned: 0,
            hostname: hostname.to_string(),
            size: 0,
            max_size,
            max_header,
            refused: None,
        }
    }

    pub fn refused(&self) -> Option<&Refusal> {
        self.refused.as_ref()
    }

    /// Takes the next message bytes; appends what is ready for the blob to `out`.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        if self.refused.is_some() {
            return;
        }
        self.size += input.len() as u64;
        if self.size > self.max_size {
            self.refused = Some(Refusal::TooBig);
            self.header = None;
            return;
        }
        let Some(h) = &mut self.header else {
            out.extend_from_slice(input);
            return;
        };
        h.extend_from_slice(input);
        // Lines end in LF here (a bare LF in DATA is refused elsewhere; in
        // BDAT it is data): the same notion of "blank line" as has_header.
        let mut end = None;
        while let Some(p) = h[self.scanned..].iter().position(|&b| b == b'\n') {
            let line = &h[self.scanned..self.scanned + p + 1];
            if line == b"\r\n" || line == b"\n" {
                end = Some(self.scanned);
                break;
            }
            self.scanned += p + 1;
        }
        if end.unwrap_or(h.len()) > self.max_header {
            self.refused = Some(Refusal::HeaderTooBig);
            self.header = None;
        } else if end.is_some() {
            self.release(out);
        }
    }

    fn release(&mut self, out: &mut Vec<u8>) {
        if let Some(h) = self.header.take() {
            out.extend_from_slice(headers::submission_fixups(&h, &self.hostname).as_bytes());
            out.extend_from_slice(&h);
        }
    }

    /// The message is complete: flushes a header section still held (a
    /// message without a body is all header section).
    pub fn end(&mut self, out: &mut Vec<u8>) -> Result<(), Refusal> {
        if let Some(r) = &self.refused {
            return Err(r.clone());
        }
        self.release(out);
        Ok(())
    }
}

/// A message on disk, ready to be committed.
pub struct Spooled {
    pub blob: PreparedBlob,
    /// Length of the leading `Return-Path:` field, if the blob has one.
    pub return_path_len: Option<u64>,
}

/// A message being received into a blob.
pub struct Spool {
    shaper: Shaper,
    writer: Option<BlobWriter>,
    pending: Vec<u8>,
    return_path_len: Option<u64>,
    /// The id named in `Received:` and in the final reply.
    pub id: String,
}

/// How the trace prefix of a spool is made.
pub struct SpoolSpec {
    /// `Some(sender)`: start with `Return-Path: <sender>` (local delivery).
    pub return_path: Option<String>,
    pub received: String,
    pub id: String,
    /// Add missing Message-ID/Date (submission).
    pub fixups: bool,
    pub hostname: String,
    pub max_size: u64,
    pub max_header: usize,
}

impl Spool {
    pub async fn start(store: &Store, spec: SpoolSpec) -> Result<Spool, StoreError> {
        let store = store.clone();
        let writer = match blocking(move || store.blob_writer()).await {
            Ok(w) => w,
            Err(crate::inbound::CommitError::Store(e)) => return Err(e),
            Err(e) => return Err(StoreError::Corrupt(e.to_string())),
        };
        let mut prefix = Vec::new();
        let mut return_path_len = None;
        if let Some(sender) = &spec.return_path {
            let rp = headers::return_path(sender);
            return_path_len = Some(rp.len() as u64);
            prefix.extend_from_slice(rp.as_bytes());
        }
        prefix.extend_from_slice(spec.received.as_bytes());
        let mut pending = Vec::with_capacity(FLUSH_AT + 64 * 1024);
        let shaper = Shaper::new(
            &prefix,
            &mut pending,
            spec.fixups,
            &spec.hostname,
            spec.max_size,
            spec.max_header,
        );
        Ok(Spool {
            shaper,
            writer: Some(writer),
            pending,
            return_path_len,
            id: spec.id,
        })
    }

    pub fn refused(&self) -> Option<&Refusal> {
        self.shaper.refused()
    }

    /// Takes the next message bytes (dot-unstuffed already for DATA).
    pub async fn write(&mut self, bytes: &[u8]) {
        self.shaper.push(bytes, &mut self.pending);
        if self.shaper.refused.is_some() {
            self.discard();
        } else if self.pending.len() >= FLUSH_AT {
            self.flush().await;
        }
    }

    /// Stops writing for good: the partial blob is removed.
    pub fn discard(&mut self) {
        self.pending = Vec::new();
        if let Some(w) = self.writer.take() {
            // Dropping the writer unlinks its temporary file.
            tokio::task::spawn_blocking(move || drop(w));
        }
    }

    async fn flush(&mut self) {
        let Some(mut w) = self.writer.take() else {
            self.pending.clear();
            return;
        };
        let buf = std::mem::take(&mut self.pending);
        let r = tokio::task::spawn_blocking(move || {
            let r = w.write_all(&buf);
            (w, buf, r)
        })
        .await;
        match r {
            Ok((w, mut buf, Ok(()))) => {
                buf.clear();
                self.pending = buf;
                self.writer = Some(w);
            }
            Ok((_, _, Err(e))) => self.fail(e.to_string()),
            Err(e) => self.fail(e.to_string()),
        }
    }

    fn fail(&mut self, why: String) {
        if self.shaper.refused.is_none() {
            self.shaper.refused = Some(Refusal::Io(why));
        }
        self.discard();
    }

    /// Completes the blob: durable and parsed once (the store reads the
    /// file back for that), not yet referenced by anything.
    pub async fn finish(mut self) -> Result<Spooled, Refusal> {
        if let Err(r) = self.shaper.end(&mut self.pending) {
            self.discard();
            return Err(r);
        }
        self.flush().await;
        if let Some(r) = self.shaper.refused() {
            return Err(r.clone());
        }
        let Some(w) = self.writer.take() else {
            return Err(Refusal::Io("blob writer gone".into()));
        };
        match blocking(move || w.finish()).await {
            Ok(blob) => Ok(Spooled {
                blob,
                return_path_len: self.return_path_len,
            }),
            Err(e) => Err(Refusal::Io(e.to_string())),
        }
    }
}

/// A new blob made of `prefix` and `src` from offset `skip`, copied
/// without holding it in memory (blocking): the queue's copy of a message
/// stored with a `Return-Path:`, or a queued message given one for local
/// delivery.
pub fn derive_blob(
    store: &Store,
    mut src: impl Read + Seek,
    skip: u64,
    prefix: &[u8],
) -> Result<PreparedBlob, StoreError> {
    src.seek(SeekFrom::Start(skip))?;
    let mut w = store.blob_writer()?;
    w.write_all(prefix)?;
    std::io::copy(&mut src, &mut w)?;
    w.finish()
}

/// The header section of `src` from offset `skip`, read up to `limit`
/// octets (for delivery reports, which return headers only).
pub fn read_headers(mut src: impl Read + Seek, skip: u64, limit: u64) -> Result<Vec<u8>, StoreError> {
    src.seek(SeekFrom::Start(skip))?;
    let mut bytes = Vec::new();
    src.take(limit).read_to_end(&mut bytes)?;
    if let Some(p) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
        bytes.truncate(p + 4);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(fixups: bool, chunks: &[&[u8]], max_size: u64, max_header: usize) -> Result<Vec<u8>, Refusal> {
        let mut out = Vec::new();
        let mut s = Shaper::new(b"P: 1\r\n", &mut out, fixups, "h.test", max_size, max_header);
        for c in chunks {
            s.push(c, &mut out);
        }
        s.end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn mx_passes_through() {
        let out = shape(false, &[b"Subject: x\r\n", b"\r\nbody\r\n"], 100, 10).unwrap();
        assert_eq!(out, b"P: 1\r\nSubject: x\r\n\r\nbody\r\n");
    }

    #[test]
    fn submission_adds_missing_fields_after_the_prefix() {
        // The blank line split across chunks, and after the header limit
        // would be reached by the body.
        let out = shape(
            true,
            &[b"Subject: x\r\nDate: y\r", b"\n\r", b"\nbody body body\r\n"],
            100,
            30,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("P: 1\r\nMessage-ID: <"), "{text}");
        assert!(
            text.ends_with("@h.test>\r\nSubject: x\r\nDate: y\r\n\r\nbody body body\r\n"),
            "{text}"
        );
        let out = shape(true, &[b"Message-ID: <a@b>\r\nDate: y\r\n\r\n"], 100, 100).unwrap();
        assert_eq!(out, b"P: 1\r\nMessage-ID: <a@b>\r\nDate: y\r\n\r\n");
        // No blank line at all: everything is header section.
        let out = String::from_utf8(shape(true, &[b"Message-ID: <a@b>\r\n"], 100, 100).unwrap()).unwrap();
        assert!(
            out.starts_with("P: 1\r\nDate: ") && out.ends_with("\r\nMessage-ID: <a@b>\r\n"),
            "{out}"
        );
    }

    #[test]
    fn limits() {
        assert_eq!(shape(false, &[b"12345", b"6"], 5, 10), Err(Refusal::TooBig));
        assert!(shape(false, &[b"12345"], 5, 10).is_ok());
        assert_eq!(
            shape(true, &[b"Subject: 0123456789\r\n\r\n"], 100, 10),
            Err(Refusal::HeaderTooBig)
        );
        assert_eq!(
            shape(true, &[b"Subject: 0123456789"], 100, 10),
            Err(Refusal::HeaderTooBig)
        );
        assert!(shape(true, &[b"S: 1\r\n\r\n", &[b'x'; 50]], 100, 10).is_ok());
    }
}
