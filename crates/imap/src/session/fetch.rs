//! FETCH / UID FETCH (RFC 9051 §6.4.5, BINARY RFC 3516): message data from
//! the view, the structure parsed at delivery and byte ranges of the
//! stored blob. Bodies are never re-parsed; a partial fetch reads only its range.
//! ENVELOPE and BODY[STRUCTURE] also read the (small) header blocks, whose
//! address fields are re-read, and one octet per body part, to correct what
//! the stored parse gets wrong for IMAP (see `raw_fixups`).
use std::io::{Read as _, Seek, SeekFrom};
use std::ops::Range;
use std::sync::Arc;

use mailroom_store::parse::Part;
use mailroom_store::{FlagOp, Flags, ParsedMessage, SEEN, Store, StoreError};

use super::io::Io;
use super::reply::{Reply, store_error};
use super::view::Entry;
use super::{Session, blocking, fixup_cache};
use crate::command::{FetchCommand, FetchItem, Partial, Section, SectionKind};
use crate::encode::section::{self, SectionLocation};
use crate::encode::transfer;
use crate::encode::{address, params};
use crate::response::{FetchLine, binary_item_name, binary_section_item_name, section_item_name};

/// Output size after which a FETCH flushes what it has rendered so far, so
/// `FETCH 1:* BODY[]` does not build the whole mailbox in memory.
const FLUSH_AT: usize = 1024 * 1024;

/// Messages rendered per blocking batch.
const BATCH: usize = 64;
/// Distinct items one FETCH may ask for.
const MAX_ITEMS: usize = 100;

/// Items whose answer carries message bytes (beyond the parsed structure).
fn reads_message_bytes(item: &FetchItem) -> bool {
    matches!(
        item,
        FetchItem::BodySection { .. }
            | FetchItem::Binary { .. }
            | FetchItem::Rfc822
            | FetchItem::Rfc822Header
            | FetchItem::Rfc822Text
    )
}

/// Where a section's octets are: A's locator, except that the whole
/// message and its text run to the end of the blob, so `BODY[]` is always
/// exactly RFC822.SIZE octets.
fn locate(msg: &ParsedMessage, size: u64, section: &Section) -> Option<SectionLocation> {
    if section.part.is_empty() {
        match section.kind {
            SectionKind::Full => return Some(SectionLocation::Range(0..size)),
            SectionKind::Text => return Some(SectionLocation::Range(msg.root.body_start.min(size)..size)),
            _ => {}
        }
    }
    section::locate(section, msg).ok()
}

fn apply_partial(data: Vec<u8>, partial: Option<Partial>) -> Vec<u8> {
    let r = section::partial_range(data.len() as u64, partial);
    data[r.start as usize..r.end as usize].to_vec()
}

fn needs_parse(items: &[FetchItem]) -> bool {
    items.iter().any(|i| match i {
        FetchItem::Envelope | FetchItem::Body | FetchItem::BodyStructure => true,
        FetchItem::BodySection { section, .. } => !(section.part.is_empty() && section.kind == SectionKind::Full),
        FetchItem::Binary { part, .. } | FetchItem::BinarySize { part } => !part.is_empty(),
        FetchItem::BinarySection { .. } | FetchItem::BinarySectionSize { .. } => true,
        FetchItem::Rfc822Header | FetchItem::Rfc822Text => true,
        _ => false,
    })
}

/// What rendering one batch produced.
struct Rendered {
    out: Vec<u8>,
    /// Messages whose data was gone (expunged meanwhile).
    missing: bool,
    unknown_cte: bool,
}

struct Job {
    seq: u32,
    entry: Entry,
}

/// Header blocks longer than this keep the stored parse's values instead of
/// being re-read (see `raw_fixups`): real headers are a few KiB.
const MAX_RAW_HEADER: u64 = 256 * 1024;

/// Whether `render` would find everything it needs for `jobs` in memory:
/// items from the view plus structures already parsed (and corrected) in
/// the caches. Then it runs without a blocking thread.
fn all_cached(store: &Store, jobs: &[Job], items: &[FetchItem], rev2: bool) -> bool {
    let structure_only = items.iter().all(|i| {
        matches!(
            i,
            FetchItem::Uid
                | FetchItem::Flags
                | FetchItem::InternalDate
                | FetchItem::Rfc822Size
                | FetchItem::ModSeq
                | FetchItem::Envelope
                | FetchItem::Body
                | FetchItem::BodyStructure
        )
    });
    if !structure_only {
        return false;
    }
    if view_only(items) {
        return true;
    }
    let fixups = needs_raw_fixups(items);
    let raw_params = !rev2 && needs_structure(items);
    jobs.iter().all(|j| {
        let m = &j.entry.meta;
        if fixups {
            fixup_cache::get(&m.blob_hash, raw_params).is_some()
        } else {
            store.parsed_cached(m.blob_id, &m.blob_hash).is_some()
        }
    })
}

/// Items rendered from the view alone, without the store.
fn view_only(items: &[FetchItem]) -> bool {
    items.iter().all(|i| {
        matches!(
            i,
            FetchItem::Uid | FetchItem::Flags | FetchItem::InternalDate | FetchItem::Rfc822Size | FetchItem::ModSeq
        )
    })
}

fn needs_structure(items: &[FetchItem]) -> bool {
    items
        .iter()
        .any(|i| matches!(i, FetchItem::Body | FetchItem::BodyStructure))
}

fn needs_raw_fixups(items: &[FetchItem]) -> bool {
    items
        .iter()
        .any(|i| matches!(i, FetchItem::Envelope | FetchItem::Body | FetchItem::BodyStructure))
}

/// The parse, corrected from the raw blob where the stored parse differs
/// from what IMAP clients (and Dovecot, Cyrus) expect:
/// - every envelope's addresses re-read from the raw header (see
///   `encode::address`): the message's own and those of embedded
///   message/rfc822 parts, which BODYSTRUCTURE shows;
/// - body line counts are the number of line ends: the stored count also
///   counts an unterminated last line, and the CRLF before a boundary
///   belongs to the boundary (RFC 2046 §5.1.1), so "one\r\n--b" has 0;
/// - with `raw_params` (rev1 BODY/BODYSTRUCTURE), Content-Type and
///   Content-Disposition parameters as written (see `encode::params`).
fn raw_fixups(
    store: &Store,
    hash: &str,
    parsed: &ParsedMessage,
    raw_params: bool,
) -> Result<ParsedMessage, StoreError> {
    let mut msg = parsed.clone();
    // One open per message however many parts it has.
    let mut file = store.open_blob(hash)?;
    let mut read = |offset: u64, len: u64| -> Result<Vec<u8>, StoreError> {
        let mut buf = Vec::new();
        file.seek(SeekFrom::Start(offset)).map_err(StoreError::Io)?;
        (&mut file).take(len).read_to_end(&mut buf).map_err(StoreError::Io)?;
        Ok(buf)
    };
    type Read<'a> = dyn FnMut(u64, u64) -> Result<Vec<u8>, StoreError> + 'a;
    fn fix(read: &mut Read<'_>, msg: &mut ParsedMessage, raw_params: bool) -> Result<(), StoreError> {
        let (start, end) = (msg.root.header_start, msg.root.body_start);
        let header = if end.saturating_sub(start) <= MAX_RAW_HEADER {
            let header = read(start, end.saturating_sub(start))?;
            msg.envelope = address::with_raw_addresses(&msg.envelope, &header);
            Some(header)
        } else {
            None
        };
        fix_part(read, &mut msg.root, raw_params, header)
    }
    fn fix_part(
        read: &mut Read<'_>,
        part: &mut Part,
        raw_params: bool,
        header: Option<Vec<u8>>,
    ) -> Result<(), StoreError> {
        if part.lines > 0 && part.body_end > part.body_start {
            let last = read(part.body_end - 1, 1)?;
            if last.first().is_some_and(|&b| b != b'\n') {
                part.lines -= 1;
            }
        }
        let header_len = part.body_start.saturating_sub(part.header_start);
        if raw_params && header_len <= MAX_RAW_HEADER {
            let header = match header {
                Some(h) => h,
                None => read(part.header_start, header_len)?,
            };
            if let Some(ct) = address::header_field(&header, "Content-Type") {
                let mut params = params::parse_params(&ct);
                // The default charset the store (and Dovecot) adds.
                if part.media_type == "text" && !params.iter().any(|(k, _)| k == "charset") {
                    params.insert(0, ("charset".into(), "us-ascii".into()));
                }
                part.params = params;
            }
            if let (Some((_, dparams)), Some(cd)) = (
                part.disposition.as_mut(),
                address::header_field(&header, "Content-Disposition"),
            ) {
                *dparams = params::parse_params(&cd);
            }
        }
        if let Some(m) = part.message.as_deref_mut() {
            fix(read, m, raw_params)?;
        }
        for child in &mut part.parts {
            fix_part(read, child, raw_params, None)?;
        }
        Ok(())
    }
    fix(&mut read, &mut msg, raw_params)?;
    Ok(msg)
}

/// `raw_fixups`, served from the cache of corrected parses.
fn fixed(
    store: &Store,
    hash: &str,
    parsed: &ParsedMessage,
    raw_params: bool,
) -> Result<Arc<ParsedMessage>, StoreError> {
    if let Some(p) = fixup_cache::get(hash, raw_params) {
        return Ok(p);
    }
    let p = Arc::new(raw_fixups(store, hash, parsed, raw_params)?);
    fixup_cache::put(hash, raw_params, p.clone());
    Ok(p)
}

#[allow(clippy::too_many_arguments)]
fn render(
    store: &Store,
    jobs: &[Job],
    items: &[FetchItem],
    add_uid: bool,
    rev2: bool,
    seen_set: &[u32],
) -> Result<Rendered, StoreError> {
    let mut r = Rendered {
        out: Vec::new(),
        missing: false,
        unknown_cte: false,
    };
    let parse = needs_parse(items);
    for job in jobs {
        let m = &job.entry.meta;
        let parsed = if parse {
            let got = if needs_raw_fixups(items) {
                // The corrected parse first: a hit needs no store at all.
                let raw_params = !rev2 && needs_structure(items);
                match fixup_cache::get(&m.blob_hash, raw_params) {
                    Some(p) => Ok(p),
                    None => store
                        .parsed_for(m.blob_id, &m.blob_hash)
                        .and_then(|p| fixed(store, &m.blob_hash, &p, raw_params)),
                }
            } else {
                store.parsed_for(m.blob_id, &m.blob_hash)
            };
            match got {
                Ok(p) => Some(p),
                // Expunged and swept meanwhile: reported like other gone data.
                Err(StoreError::NotFound(_)) => {
                    r.missing = true;
                    continue;
                }
                Err(StoreError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                    r.missing = true;
                    continue;
                }
                Err(e) => return Err(e),
            }
        } else {
            None
        };
        let mut line = Vec::new();
        let mut f = FetchLine::start(&mut line, job.seq);
        let read = |range: Range<u64>| -> Result<Vec<u8>, StoreError> {
            store.read_blob(&m.blob_hash, range.start, range.end.saturating_sub(range.start))
        };
        let mut flags_done = false;
        if add_uid {
            f.uid(m.uid);
        }
        let mut ok = true;
        for item in items {
            let res: Result<(), StoreError> = (|| {
                match item {
                    FetchItem::Uid => {
                        if !add_uid {
                            f.uid(m.uid)
                        }
                    }
                    FetchItem::Flags => {
                        flags_done = true;
                        write_flags(&mut f, &job.entry, rev2);
                    }
                    FetchItem::InternalDate => f.internal_date(m.internal_date, m.tz_offset),
                    FetchItem::Rfc822Size => f.rfc822_size(m.size),
                    FetchItem::ModSeq => f.modseq(m.modseq),
                    FetchItem::Envelope => {
                        if let Some(p) = &parsed {
                            f.envelope(&p.envelope, rev2)
                        }
                    }
                    FetchItem::Body => {
                        if let Some(p) = &parsed {
                            f.body_structure(&p.root, false, rev2)
                        }
                    }
                    FetchItem::BodyStructure => {
                        if let Some(p) = &parsed {
                            f.body_structure(&p.root, true, rev2)
                        }
                    }
                    FetchItem::BodySection { section, partial, .. } => {
                        let name = section_item_name(section, partial.map(|p| p.offset));
                        let data = section_bytes(store, m.size, &m.blob_hash, parsed.as_deref(), section, *partial)?;
                        match data {
                            Some(d) => f.section_data(&name, &d, false),
                            None => f.section_nil(&name),
                        }
                    }
                    FetchItem::Rfc822 => {
                        let d = read(0..m.size)?;
                        f.section_data("RFC822", &d, false);
                    }
                    FetchItem::Rfc822Header | FetchItem::Rfc822Text => {
                        let kind = if matches!(item, FetchItem::Rfc822Header) {
                            SectionKind::Header
                        } else {
                            SectionKind::Text
                        };
                        let section = Section { part: Vec::new(), kind };
                        let d = section_bytes(store, m.size, &m.blob_hash, parsed.as_deref(), &section, None)?
                            .unwrap_or_default();
                        let name = if matches!(item, FetchItem::Rfc822Header) {
                            "RFC822.HEADER"
                        } else {
                            "RFC822.TEXT"
                        };
                        f.section_data(name, &d, false);
                    }
                    FetchItem::Binary { part, partial, .. } => {
                        let name = binary_item_name(part, partial.map(|p| p.offset));
                        match binary_bytes(store, m.size, &m.blob_hash, parsed.as_deref(), part)? {
                            BinaryData::Data(d) => {
                                let d = apply_partial(d, *partial);
                                let has_nul = d.contains(&0);
                                f.section_data(&name, &d, has_nul);
                            }
                            BinaryData::Missing => f.section_nil(&name),
                            BinaryData::UnknownCte => r.unknown_cte = true,
                        }
                    }
                    FetchItem::BinarySection { section, partial, .. } => {
                        let name = binary_section_item_name(section, partial.map(|p| p.offset));
                        let data = section_bytes(store, m.size, &m.blob_hash, parsed.as_deref(), section, *partial)?;
                        match data {
                            Some(d) => {
                                let has_nul = d.contains(&0);
                                f.section_data(&name, &d, has_nul)
                            }
                            None => f.section_nil(&name),
                        }
                    }
                    FetchItem::BinarySectionSize { section } => {
                        let d = section_bytes(store, m.size, &m.blob_hash, parsed.as_deref(), section, None)?;
                        let size = d.map_or(0, |d| d.len() as u64);
                        f.item(&format!("BINARY.SIZE[{section}]"))
                            .extend_from_slice(size.to_string().as_bytes());
                    }
                    FetchItem::BinarySize { part } => {
                        match binary_bytes(store, m.size, &m.blob_hash, parsed.as_deref(), part)? {
                            BinaryData::Data(d) => f.binary_size(part, d.len() as u64),
                            BinaryData::Missing => f.binary_size(part, 0),
                            BinaryData::UnknownCte => r.unknown_cte = true,
                        }
                    }
                }
                Ok(())
            })();
            match res {
                Ok(()) => {}
                Err(StoreError::NotFound(_)) => ok = false,
                Err(StoreError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => ok = false,
                Err(e) => return Err(e),
            }
        }
        // RFC 9051 §6.4.5: \Seen set by this FETCH is reported.
        if !flags_done && seen_set.contains(&m.uid) {
            write_flags(&mut f, &job.entry, rev2);
        }
        f.finish();
        if ok {
            r.out.extend_from_slice(&line);
        } else {
            r.missing = true;
        }
    }
    Ok(r)
}

fn write_flags(f: &mut FetchLine<'_>, e: &Entry, rev2: bool) {
    let mut names = e.meta.flags.names();
    if e.recent && !rev2 {
        names.push("\\Recent".into());
    }
    f.flags(&names);
}

fn section_bytes(
    store: &Store,
    size: u64,
    hash: &str,
    parsed: Option<&ParsedMessage>,
    section: &Section,
    partial: Option<Partial>,
) -> Result<Option<Vec<u8>>, StoreError> {
    let located = match parsed {
        Some(p) => locate(p, size, section),
        // Only BODY[] is fetched without the structure.
        None => Some(SectionLocation::Range(0..size)),
    };
    match located {
        // RFC 9051 §6.4.5 leaves a missing part open; NIL is what
        // clients cope with.
        None => Ok(None),
        Some(SectionLocation::Range(r)) => {
            // Partial fetch reads only its range (RFC 9051 §6.4.5).
            let (start, len) = match partial {
                None => (r.start, r.end.saturating_sub(r.start)),
                Some(p) => {
                    let total = r.end.saturating_sub(r.start);
                    let off = p.offset.min(total);
                    (r.start + off, p.length.min(total - off))
                }
            };
            Ok(Some(store.read_blob(hash, start, len)?))
        }
        Some(SectionLocation::HeaderFields { range, fields, not }) => {
            let raw = store.read_blob(hash, range.start, range.end.saturating_sub(range.start))?;
            Ok(Some(apply_partial(section::filter_header(&raw, &fields, not), partial)))
        }
    }
}

enum BinaryData {
    Data(Vec<u8>),
    Missing,
    UnknownCte,
}

fn binary_bytes(
    store: &Store,
    size: u64,
    hash: &str,
    parsed: Option<&ParsedMessage>,
    part: &[u32],
) -> Result<BinaryData, StoreError> {
    if part.is_empty() {
        return Ok(BinaryData::Data(store.read_blob(hash, 0, size)?));
    }
    let Some(loc) = parsed.and_then(|m| section::locate_binary(m, part).ok()) else {
        return Ok(BinaryData::Missing);
    };
    let raw = store.read_blob(hash, loc.range.start, loc.range.end.saturating_sub(loc.range.start))?;
    Ok(match transfer::decode(&loc.encoding, &raw) {
        Ok(d) => BinaryData::Data(d),
        Err(_) => BinaryData::UnknownCte,
    })
}

impl Session {
    pub(crate) async fn cmd_fetch(&mut self, cmd: FetchCommand, io: &mut Io) -> Reply {
        if cmd.modifiers.changed_since.is_some() || cmd.modifiers.vanished {
            return Reply::bad("CHANGEDSINCE/VANISHED require CONDSTORE/QRESYNC, which are not supported");
        }
        let Some(view) = self.selected.as_ref() else {
            return Reply::bad("No mailbox selected");
        };
        let Ok(indices) = view.select(&cmd.set, cmd.uid) else {
            return Reply::bad("Invalid message sequence number");
        };
        // Asking twice for the same item gets it once (a client repeating
        // BODY[] thousands of times must not make us build it thousands of
        // times), and a FETCH names a bounded number of items.
        let mut items: Vec<FetchItem> = Vec::with_capacity(cmd.items.len().min(MAX_ITEMS));
        for item in cmd.items {
            if !items.contains(&item) {
                if items.len() == MAX_ITEMS {
                    return Reply::bad(format!("Too many FETCH items (at most {MAX_ITEMS})"));
                }
                items.push(item);
            }
        }
        // \Seen is set implicitly by a non-PEEK body fetch in a read-write
        // mailbox (RFC 9051 §6.4.5), before the data is sent.
        let mut seen_set: Vec<u32> = Vec::new();
        if !view.read_only && items.iter().any(FetchItem::sets_seen) {
            let unseen: Vec<u32> = indices
                .iter()
                .map(|&i| &view.entries[i])
                .filter(|e| !e.expunged && !e.meta.flags.contains(SEEN))
                .map(|e| e.meta.uid)
                .collect();
            if !unseen.is_empty() {
                let store = self.store();
                let mailbox = view.mailbox.id;
                match store
                    .store_flags_async(mailbox, unseen.clone(), FlagOp::Add, Flags::new(SEEN), None)
                    .await
                {
                    Ok(u) => {
                        if let Some(v) = self.selected.as_mut() {
                            v.apply_own_flags(&u.updated);
                        }
                        if let Some(m) = u.updated.first() {
                            self.own_change(m.modseq);
                        }
                        seen_set = unseen;
                    }
                    Err(e) => return store_error(&e),
                }
            }
        }
        let Some(view) = self.selected.as_ref() else {
            return Reply::bad("No mailbox selected");
        };
        let jobs: Vec<Job> = indices
            .iter()
            .map(|&i| Job {
                seq: i as u32 + 1,
                entry: view.entries[i].clone(),
            })
            .collect();
        let add_uid = cmd.uid;
        let rev2 = self.rev2;
        let mut missing = false;
        let mut unknown_cte = false;
        let items = std::sync::Arc::new(items);
        let seen_set = std::sync::Arc::new(seen_set);
        // Flags, UIDs, sizes and dates are all in the view: rendered here,
        // without a store round trip or a blocking thread.
        let inline = all_cached(&self.store(), &jobs, &items, rev2);
        let mut jobs = jobs.into_iter().peekable();
        let mut first = true;
        // Message bytes are rendered in batches of about FLUSH_AT, so a FETCH
        // of many large messages holds one batch in memory, not all of them.
        let reads_bodies = items.iter().any(reads_message_bytes);
        while jobs.peek().is_some() {
            let mut batch: Vec<Job> = Vec::new();
            let mut bytes = 0u64;
            while batch.len() < BATCH && (!reads_bodies || bytes < FLUSH_AT as u64) {
                let Some(job) = jobs.next() else { break };
                bytes += job.entry.meta.size;
                batch.push(job);
            }
            let store = self.store();
            let items = items.clone();
            let seen = seen_set.clone();
            let rendered = if inline {
                // Let other sessions run between batches of a big FETCH.
                if !first {
                    tokio::task::yield_now().await;
                }
                first = false;
                render(&store, &batch, &items, add_uid, rev2, &seen)
            } else {
                blocking(move || render(&store, &batch, &items, add_uid, rev2, &seen)).await
            };
            match rendered {
                Ok(r) => {
                    self.out.extend_from_slice(&r.out);
                    missing |= r.missing;
                    unknown_cte |= r.unknown_cte;
                }
                Err(e) => return store_error(&e),
            }
            if self.out.len() >= FLUSH_AT && io.write(&std::mem::take(&mut self.out)).await.is_err() {
                return Reply::no("Connection lost");
            }
        }
        if unknown_cte {
            return Reply::no("Unknown content-transfer-encoding").code("UNKNOWN-CTE");
        }
        if missing {
            return Reply::no("Some messages were expunged").code("EXPUNGEISSUED");
        }
        Reply::ok("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_message_is_the_whole_blob() {
        let raw = b"Subject: x\r\n\r\nbody\r\n";
        let p = mailroom_store::parse::parse(raw);
        let size = raw.len() as u64;
        let whole = Section::default();
        assert_eq!(locate(&p, size, &whole), Some(SectionLocation::Range(0..size)));
        let text = Section {
            part: Vec::new(),
            kind: SectionKind::Text,
        };
        assert_eq!(locate(&p, size, &text), Some(SectionLocation::Range(14..size)));
        let missing = Section {
            part: vec![3],
            kind: SectionKind::Full,
        };
        assert_eq!(locate(&p, size, &missing), None);
    }
}
