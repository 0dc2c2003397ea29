//! SEARCH evaluation (RFC 9051 §6.4.4) over a snapshot of the view, with
//! message data read lazily: flags, sizes and dates come from the view;
//! address and subject keys from the structure parsed at delivery; HEADER,
//! BODY and TEXT read the stored message and decode it.
use std::collections::HashSet;

use mail_parser::{MessageParser, PartType};
use mailroom_store::parse::EnvAddress;
use mailroom_store::{ANSWERED, DELETED, DRAFT, FLAGGED, ParsedMessage, SEEN, Store, StoreError};

use super::reply::{Reply, store_error};
use super::{Session, blocking};
use crate::command::{Date, SearchCommand, SearchKey, SearchReturn};
use crate::sequence::SequenceSet;
use crate::session::view::Entry;

/// What a search needs from the view, detached so it can run on a
/// blocking thread.
pub struct Snapshot {
    pub entries: Vec<Entry>,
    pub saved: HashSet<u32>,
    pub now: i64,
}

/// Mailboxes up to this many messages are searched without a blocking
/// thread when everything the search reads is in memory (see `inline`).
const INLINE_MAX_MESSAGES: usize = 2000;

/// What evaluating a key reads beyond the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Needs {
    View,
    /// The structure parsed at delivery.
    Parse,
    /// The stored message itself.
    Blob,
}

fn needs(key: &SearchKey) -> Needs {
    use SearchKey as K;
    match key {
        K::And(keys) => keys.iter().map(needs).max().unwrap_or(Needs::View),
        K::Not(k) => needs(k),
        K::Or(a, b) => needs(a).max(needs(b)),
        K::Header(..) | K::Body(_) | K::Text(_) => Needs::Blob,
        K::From(_)
        | K::To(_)
        | K::Cc(_)
        | K::Bcc(_)
        | K::Subject(_)
        | K::SentBefore(_)
        | K::SentOn(_)
        | K::SentSince(_) => Needs::Parse,
        _ => Needs::View,
    }
}

/// Whether [`run`] would find all it reads in memory (the view and the
/// parse cache), so it can run on the session's task: a small mailbox and
/// no key that reads the stored messages.
fn inline(store: &Store, snap: &Snapshot, key: &SearchKey) -> bool {
    if snap.entries.len() > INLINE_MAX_MESSAGES {
        return false;
    }
    match needs(key) {
        Needs::View => true,
        Needs::Parse => snap
            .entries
            .iter()
            .all(|e| store.parsed_cached(e.meta.blob_id, &e.meta.blob_hash).is_some()),
        Needs::Blob => false,
    }
}

/// One match: sequence number and UID.
pub type Hit = (u32, u32);

/// Runs the search; returns the matches in sequence order. Messages
/// expunged meanwhile (their data gone) simply do not match.
pub fn run(store: &Store, snap: &Snapshot, key: &SearchKey) -> Result<Vec<Hit>, StoreError> {
    let max_seq = snap.entries.len() as u32;
    let max_uid = snap.entries.last().map(|e| e.meta.uid).unwrap_or(0);
    let mut hits = Vec::new();
    for (i, e) in snap.entries.iter().enumerate() {
        let mut m = Msg {
            store,
            entry: e,
            seq: i as u32 + 1,
            max_seq,
            max_uid,
            snap,
            parsed: None,
            header: None,
            texts: None,
        };
        match m.eval(key) {
            Ok(true) => hits.push((m.seq, e.meta.uid)),
            Ok(false) => {}
            Err(StoreError::NotFound(_)) => {}
            Err(StoreError::Io(err)) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
    }
    Ok(hits)
}

struct Msg<'a> {
    store: &'a Store,
    entry: &'a Entry,
    seq: u32,
    max_seq: u32,
    max_uid: u32,
    snap: &'a Snapshot,
    parsed: Option<std::sync::Arc<ParsedMessage>>,
    /// The raw header block.
    header: Option<Vec<u8>>,
    /// Lower-cased decoded (header text, body text).
    texts: Option<(String, String)>,
}

/// The address keys search the envelope field (RFC 9051 §6.4.4), which also
/// holds group names (`To: Friends: a@b;`, a start marker with no host);
/// the store's search text leaves those out.
fn in_group_name(list: &[EnvAddress], needle: &str) -> bool {
    list.iter()
        .any(|a| a.host.is_none() && a.mailbox.as_deref().is_some_and(|m| contains_ci(m, needle)))
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    needle.is_empty() || hay.to_lowercase().contains(&needle.to_lowercase())
}

impl Msg<'_> {
    fn parsed(&mut self) -> Result<&ParsedMessage, StoreError> {
        if self.parsed.is_none() {
            let m = &self.entry.meta;
            self.parsed = Some(self.store.parsed_for(m.blob_id, &m.blob_hash)?);
        }
        self.parsed
            .as_deref()
            .ok_or_else(|| StoreError::Corrupt("parsed".into()))
    }

    fn header(&mut self) -> Result<&[u8], StoreError> {
        if self.header.is_none() {
            let end = self.parsed()?.root.body_start;
            let bytes = self.store.read_blob(&self.entry.meta.blob_hash, 0, end)?;
            self.header = Some(bytes);
        }
        Ok(self.header.as_deref().unwrap_or_default())
    }

    fn texts(&mut self) -> Result<&(String, String), StoreError> {
        if self.texts.is_none() {
            let raw = self
                .store
                .read_blob(&self.entry.meta.blob_hash, 0, self.entry.meta.size)?;
            let split = self.parsed()?.root.body_start as usize;
            let header = decode_header_block(raw.get(..split).unwrap_or_default());
            let mut body = String::new();
            if let Some(msg) = MessageParser::default().parse(&raw[..]) {
                collect_body_text(&msg, &mut body);
            } else {
                body.push_str(&String::from_utf8_lossy(raw.get(split..).unwrap_or_default()));
            }
            self.texts = Some((header.to_lowercase(), body.to_lowercase()));
        }
        self.texts.as_ref().ok_or_else(|| StoreError::Corrupt("texts".into()))
    }

    fn flag(&self, bit: u8) -> bool {
        self.entry.meta.flags.contains(bit)
    }

    fn internal_date(&self) -> Date {
        // RFC 9051 §6.4.4: the date in the zone the internal date was given in.
        Date::from_timestamp(self.entry.meta.internal_date, self.entry.meta.tz_offset)
    }

    /// The Date: header's date in its own zone (RFC 9051 §6.4.4 disregards
    /// time and zone); messages without one use the internal date, as
    /// Dovecot does.
    fn sent_date(&mut self) -> Result<Date, StoreError> {
        let fallback = self.internal_date();
        let p = self.parsed()?;
        Ok(match p.sent_date {
            Some(ts) => Date::from_timestamp(ts, zone_offset(p.envelope.date.as_deref().unwrap_or(""))),
            None => fallback,
        })
    }

    fn in_set(&self, set: &SequenceSet, n: u32, max: u32) -> bool {
        if set.is_saved() {
            return self.snap.saved.contains(&self.entry.meta.uid);
        }
        set.contains(n, max)
    }

    fn eval(&mut self, key: &SearchKey) -> Result<bool, StoreError> {
        use SearchKey as K;
        Ok(match key {
            K::And(keys) => {
                for k in keys {
                    if !self.eval(k)? {
                        return Ok(false);
                    }
                }
                true
            }
            K::All => true,
            K::Answered => self.flag(ANSWERED),
            K::Deleted => self.flag(DELETED),
            K::Draft => self.flag(DRAFT),
            K::Flagged => self.flag(FLAGGED),
            K::Seen => self.flag(SEEN),
            K::Unanswered => !self.flag(ANSWERED),
            K::Undeleted => !self.flag(DELETED),
            K::Undraft => !self.flag(DRAFT),
            K::Unflagged => !self.flag(FLAGGED),
            K::Unseen => !self.flag(SEEN),
            K::Keyword(k) => self.entry.meta.flags.has_keyword(k),
            K::Unkeyword(k) => !self.entry.meta.flags.has_keyword(k),
            K::New => self.entry.recent && !self.flag(SEEN),
            K::Old => !self.entry.recent,
            K::Recent => self.entry.recent,
            K::Larger(n) => self.entry.meta.size > *n,
            K::Smaller(n) => self.entry.meta.size < *n,
            K::Before(d) => self.internal_date() < *d,
            K::On(d) => self.internal_date() == *d,
            K::Since(d) => self.internal_date() >= *d,
            K::SentBefore(d) => self.sent_date()? < *d,
            K::SentOn(d) => self.sent_date()? == *d,
            K::SentSince(d) => self.sent_date()? >= *d,
            K::Older(secs) => self.snap.now.saturating_sub(self.entry.meta.internal_date) >= *secs as i64,
            K::Younger(secs) => self.snap.now.saturating_sub(self.entry.meta.internal_date) <= *secs as i64,
            K::From(s) => {
                let p = self.parsed()?;
                contains_ci(&p.search.from, s) || in_group_name(&p.envelope.from, s)
            }
            K::To(s) => {
                let p = self.parsed()?;
                contains_ci(&p.search.to, s) || in_group_name(&p.envelope.to, s)
            }
            K::Cc(s) => {
                let p = self.parsed()?;
                contains_ci(&p.search.cc, s) || in_group_name(&p.envelope.cc, s)
            }
            K::Bcc(s) => {
                let p = self.parsed()?;
                contains_ci(&p.search.bcc, s) || in_group_name(&p.envelope.bcc, s)
            }
            K::Subject(s) => {
                // "" is in every subject, but a message without one has a
                // NIL envelope subject, which contains nothing (as Dovecot).
                let p = self.parsed()?;
                (!s.is_empty() || p.envelope.subject.is_some()) && contains_ci(&p.search.subject, s)
            }
            K::Header(name, value) => {
                let needle = value.to_lowercase();
                header_values(self.header()?, name)
                    .iter()
                    .any(|v| needle.is_empty() || decode_value(v).to_lowercase().contains(&needle))
            }
            K::Body(s) => self.texts()?.1.contains(&s.to_lowercase()),
            K::Text(s) => {
                let needle = s.to_lowercase();
                let (h, b) = self.texts()?;
                h.contains(&needle) || b.contains(&needle)
            }
            K::Not(k) => !self.eval(k)?,
            K::Or(a, b) => self.eval(a)? || self.eval(b)?,
            K::Uid(set) => self.in_set(set, self.entry.meta.uid, self.max_uid),
            K::SequenceSet(set) => self.in_set(set, self.seq, self.max_seq),
            K::ModSeq { modseq, .. } => self.entry.meta.modseq >= *modseq,
        })
    }
}

/// The zone of an RFC 5322 date ("... +0200"), in minutes east of UTC.
fn zone_offset(date: &str) -> i32 {
    let Some(tok) = date.split_whitespace().rev().find(|t| {
        let b = t.as_bytes();
        b.len() == 5 && (b[0] == b'+' || b[0] == b'-') && b[1..].iter().all(u8::is_ascii_digit)
    }) else {
        return 0;
    };
    let n: i32 = tok[1..].parse().unwrap_or(0);
    let mins = (n / 100) * 60 + n % 100;
    if tok.starts_with('-') { -mins } else { mins }
}

/// Raw (unfolded) values of every header field called `name`.
pub fn header_values(header: &[u8], name: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(header);
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with([' ', '\t']) {
            if let Some(c) = current.as_mut() {
                c.push_str(line);
            }
            continue;
        }
        if let Some(c) = current.take() {
            out.push(c);
        }
        if let Some((field, value)) = line.split_once(':')
            && field.trim_end().eq_ignore_ascii_case(name)
        {
            current = Some(value.trim_start().to_string());
        }
    }
    out.extend(current);
    out
}

/// Decodes RFC 2047 encoded words in a header value, using mail-parser's
/// decoder on a one-field header.
fn decode_value(raw: &str) -> String {
    if !raw.contains("=?") {
        return raw.to_string();
    }
    let synthetic = format!("Subject: {raw}\r\n\r\n");
    MessageParser::default()
        .parse(synthetic.as_bytes())
        .and_then(|m| m.subject().map(str::to_string))
        .unwrap_or_else(|| raw.to_string())
}

fn decode_header_block(header: &[u8]) -> String {
    let text = String::from_utf8_lossy(header);
    if !text.contains("=?") {
        return text.into_owned();
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split('\n') {
        match line.split_once(':') {
            Some((field, value)) if !line.starts_with([' ', '\t']) => {
                out.push_str(field);
                out.push_str(": ");
                out.push_str(&decode_value(value.trim()));
            }
            _ => out.push_str(&decode_value(line.trim())),
        }
        out.push('\n');
    }
    out
}

fn collect_body_text(msg: &mail_parser::Message<'_>, out: &mut String) {
    for part in &msg.parts {
        match &part.body {
            PartType::Text(t) | PartType::Html(t) => {
                out.push_str(t);
                out.push('\n');
            }
            PartType::Message(inner) => {
                out.push_str(&String::from_utf8_lossy(inner.raw_message()));
                out.push('\n');
            }
            _ => {}
        }
    }
}

/// What the client asked to get back (RFC 4731, RFC 5182).
#[derive(Debug, Clone, Default)]
pub struct Returns {
    pub min: bool,
    pub max: bool,
    pub count: bool,
    pub all: bool,
    pub save: bool,
}

impl Returns {
    pub fn from_opts(opts: &[SearchReturn]) -> Returns {
        let mut r = Returns::default();
        for o in opts {
            match o {
                SearchReturn::Min => r.min = true,
                SearchReturn::Max => r.max = true,
                SearchReturn::Count => r.count = true,
                SearchReturn::All => r.all = true,
                SearchReturn::Save => r.save = true,
            }
        }
        // RFC 4731 §3.1: RETURN () means ALL.
        if !(r.min || r.max || r.count || r.all || r.save) {
            r.all = true;
        }
        r
    }

    /// RFC 5182 §2.4: with only MIN and/or MAX, SAVE keeps just those.
    pub fn saved_uids(&self, hits: &[Hit]) -> Vec<u32> {
        if self.all || self.count || !(self.min || self.max) {
            return hits.iter().map(|h| h.1).collect();
        }
        let mut out = Vec::new();
        if self.min
            && let Some(h) = hits.first()
        {
            out.push(h.1);
        }
        if self.max
            && let Some(h) = hits.last()
            && !out.contains(&h.1)
        {
            out.push(h.1);
        }
        out
    }

    /// The ESEARCH data after the correlator: `UID MIN 1 COUNT 3 ...`.
    /// `None` when only SAVE was asked (no ESEARCH response, RFC 5182 §2.4).
    pub fn esearch_data(&self, hits: &[Hit], uid: bool) -> Option<String> {
        if self.save && !(self.min || self.max || self.count || self.all) {
            return None;
        }
        let pick = |h: &Hit| if uid { h.1 } else { h.0 };
        let mut s = String::new();
        if uid {
            s.push_str(" UID");
        }
        if self.min
            && let Some(h) = hits.first()
        {
            s.push_str(&format!(" MIN {}", pick(h)));
        }
        if self.max
            && let Some(h) = hits.last()
        {
            s.push_str(&format!(" MAX {}", pick(h)));
        }
        if self.count {
            s.push_str(&format!(" COUNT {}", hits.len()));
        }
        if self.all && !hits.is_empty() {
            s.push_str(&format!(" ALL {}", SequenceSet::from_numbers(hits.iter().map(pick))));
        }
        Some(s)
    }
}

impl Session {
    /// SEARCH / UID SEARCH with ESEARCH and SEARCHRES (RFC 9051 §6.4.4,
    /// RFC 4731, RFC 5182).
    pub(crate) async fn cmd_search(&mut self, tag: &str, cmd: SearchCommand) -> Reply {
        if let Some(cs) = &cmd.charset
            && !cs.eq_ignore_ascii_case("UTF-8")
            && !cs.eq_ignore_ascii_case("US-ASCII")
        {
            return Reply::no("Unsupported charset").code("BADCHARSET (UTF-8 US-ASCII)");
        }
        let Some(view) = self.selected.as_ref() else {
            return Reply::bad("No mailbox selected");
        };
        let snap = Snapshot {
            entries: view.entries.clone(),
            saved: view.saved.iter().copied().collect(),
            now: mailroom_net::time::now(),
        };
        let store = self.store();
        let key = cmd.criteria.clone();
        let result = if inline(&store, &snap, &key) {
            run(&store, &snap, &key)
        } else {
            blocking(move || run(&store, &snap, &key)).await
        };
        let returns = cmd.return_opts.as_ref().map(|o| Returns::from_opts(o));
        let hits = match result {
            Ok(h) => h,
            Err(e) => {
                if returns.as_ref().is_some_and(|r| r.save)
                    && let Some(v) = self.selected.as_mut()
                {
                    // RFC 5182 §2.1: a failed SEARCH empties `$`.
                    v.saved.clear();
                }
                return store_error(&e);
            }
        };
        match returns {
            None if !self.rev2 => {
                let mut line = String::from("SEARCH");
                for h in &hits {
                    line.push_str(&format!(" {}", if cmd.uid { h.1 } else { h.0 }));
                }
                self.untagged(&line);
            }
            returns => {
                let returns = returns.unwrap_or_else(|| Returns::from_opts(&[]));
                if returns.save
                    && let Some(v) = self.selected.as_mut()
                {
                    v.saved = returns.saved_uids(&hits);
                }
                if let Some(data) = returns.esearch_data(&hits, cmd.uid) {
                    let mut line = b"* ESEARCH (TAG ".to_vec();
                    super::out::string(&mut line, tag.as_bytes(), false);
                    line.push(b')');
                    line.extend_from_slice(data.as_bytes());
                    line.extend_from_slice(b"\r\n");
                    self.out.extend_from_slice(&line);
                }
            }
        }
        Reply::ok("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_unfold_and_match_case() {
        let h = b"Subject: hello\r\n  world\r\nX-Test: a\r\nx-test: b\r\n\r\n";
        assert_eq!(header_values(h, "subject"), vec!["hello  world"]);
        assert_eq!(header_values(h, "X-TEST"), vec!["a", "b"]);
        assert!(header_values(h, "Missing").is_empty());
    }

    #[test]
    fn encoded_words_decode() {
        assert_eq!(decode_value("=?UTF-8?B?w6l0w6k=?="), "été");
    }

    #[test]
    fn zone_offsets() {
        assert_eq!(zone_offset("Mon, 7 Feb 1994 21:52:25 -0800"), -480);
        assert_eq!(zone_offset("Mon, 7 Feb 1994 21:52:25 +0130 (X)"), 90);
        assert_eq!(zone_offset("garbage"), 0);
    }

    #[test]
    fn esearch_rendering() {
        let hits = vec![(1, 10), (2, 11), (5, 20)];
        let r = Returns::from_opts(&[]);
        assert_eq!(r.esearch_data(&hits, true).as_deref(), Some(" UID ALL 10:11,20"));
        let r = Returns::from_opts(&[SearchReturn::Min, SearchReturn::Max, SearchReturn::Count]);
        assert_eq!(r.esearch_data(&hits, false).as_deref(), Some(" MIN 1 MAX 5 COUNT 3"));
        assert_eq!(r.esearch_data(&[], false).as_deref(), Some(" COUNT 0"));
        let r = Returns::from_opts(&[SearchReturn::Save]);
        assert_eq!(r.esearch_data(&hits, false), None);
        let r = Returns::from_opts(&[SearchReturn::Save, SearchReturn::Min]);
        assert_eq!(r.saved_uids(&hits), vec![10]);
    }
}
