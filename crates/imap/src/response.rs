//! The response encoder: replies → bytes (RFC 9051 §7, §9).
//!
//! Everything writes into a `Vec<u8>`. Functions taking `utf8` follow the
//! session's mode: `true` after `ENABLE IMAP4rev2` / `UTF8=ACCEPT` (UTF-8
//! may appear in quoted strings, mailbox names are UTF-8), `false` for
//! IMAP4rev1 (8-bit text goes in literals, mailbox names in modified
//! UTF-7).

use std::fmt;

use crate::command::{Section, StatusItem};
use crate::mutf7;
use crate::sequence::SequenceSet;

/// RFC 9051 §9 ATOM-CHAR: any CHAR except atom-specials.
pub fn is_atom_char(b: u8) -> bool {
    b > 0x20 && b < 0x7f && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']')
}

/// ASTRING-CHAR: ATOM-CHAR or `]`.
pub fn is_astring_char(b: u8) -> bool {
    is_atom_char(b) || b == b']'
}

/// Longest string we send quoted; longer ones go as literals, which
/// clients handle better than very long lines.
const MAX_QUOTED: usize = 1024;

fn quotable(s: &[u8], utf8: bool) -> bool {
    s.len() <= MAX_QUOTED
        && s.iter()
            .all(|&b| b != b'\r' && b != b'\n' && b != 0 && (utf8 || b < 0x80))
        && (!utf8 || s.is_ascii() || std::str::from_utf8(s).is_ok())
}

/// A string: quoted when possible, else a literal. NUL octets, which no
/// string may hold (RFC 9051 §4.3), are dropped.
pub fn write_string(out: &mut Vec<u8>, s: &[u8], utf8: bool) {
    if s.contains(&0) {
        let clean: Vec<u8> = s.iter().copied().filter(|&b| b != 0).collect();
        return write_string(out, &clean, utf8);
    }
    if quotable(s, utf8) {
        out.push(b'"');
        for &b in s {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        write_literal(out, s);
    }
}

/// `NIL` or a string.
pub fn write_nstring(out: &mut Vec<u8>, s: Option<&[u8]>, utf8: bool) {
    match s {
        Some(s) => write_string(out, s, utf8),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// An atom when the text allows (and is not `NIL`), else a string.
pub fn write_astring(out: &mut Vec<u8>, s: &[u8], utf8: bool) {
    if !s.is_empty() && s.iter().all(|&b| is_astring_char(b)) && !s.eq_ignore_ascii_case(b"NIL") {
        out.extend_from_slice(s);
    } else {
        write_string(out, s, utf8);
    }
}

/// `{n}\r\n` + octets.
pub fn write_literal(out: &mut Vec<u8>, data: &[u8]) {
    write_literal_header(out, data.len() as u64, false);
    out.extend_from_slice(data);
}

/// `{n}\r\n`, or `~{n}\r\n` (literal8, RFC 3516) for binary data: use
/// it to stream large section data after the header.
pub fn write_literal_header(out: &mut Vec<u8>, len: u64, binary: bool) {
    if binary {
        out.push(b'~');
    }
    out.extend_from_slice(format!("{{{len}}}\r\n").as_bytes());
}

/// A mailbox name: UTF-8 in rev2/UTF-8 mode, else modified UTF-7. INBOX
/// is always sent as `INBOX`.
pub fn write_mailbox(out: &mut Vec<u8>, name: &str, utf8: bool) {
    if name.eq_ignore_ascii_case("INBOX") {
        out.extend_from_slice(b"INBOX");
    } else if utf8 {
        write_astring(out, name.as_bytes(), true);
    } else {
        write_astring(out, mutf7::encode(name).as_bytes(), false);
    }
}

/// Writes `s` as an astring into a formatter (for `Display` impls).
pub fn write_astring_fmt(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    let mut v = Vec::new();
    write_astring(&mut v, s.as_bytes(), true);
    f.write_str(&String::from_utf8_lossy(&v))
}

/// `(a b c)` of atoms/flags written as they are.
pub fn write_atom_list<S: AsRef<str>>(out: &mut Vec<u8>, items: &[S]) {
    out.push(b'(');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(s.as_ref().as_bytes());
    }
    out.push(b')');
}

/// Text of a status response: one line, whatever it quotes.
fn write_text(out: &mut Vec<u8>, text: &str) {
    let text = if text.is_empty() { "done" } else { text };
    for &b in text.as_bytes() {
        out.push(if b == b'\r' || b == b'\n' || b == 0 { b' ' } else { b });
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    Bad,
    PreAuth,
    Bye,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::No => "NO",
            Status::Bad => "BAD",
            Status::PreAuth => "PREAUTH",
            Status::Bye => "BYE",
        }
    }
}

/// Response codes (RFC 9051 §7.1, RFC 5530, RFC 4315, RFC 7162, RFC 3516,
/// RFC 5465/6154 USEATTR, RFC 7889 LIMIT...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    Alert,
    AlreadyExists,
    /// RFC 4315 `APPENDUID uidvalidity uid-set`.
    AppendUid {
        uidvalidity: u32,
        uids: SequenceSet,
    },
    AuthenticationFailed,
    AuthorizationFailed,
    /// `BADCHARSET (UTF-8 US-ASCII)`; an empty list writes `BADCHARSET`.
    BadCharset(Vec<String>),
    Cannot,
    Capability(Vec<String>),
    ClientBug,
    Closed,
    ContactAdmin,
    /// RFC 4315 `COPYUID uidvalidity source-uids dest-uids`.
    CopyUid {
        uidvalidity: u32,
        source: SequenceSet,
        dest: SequenceSet,
    },
    Corruption,
    Expired,
    ExpungeIssued,
    HasChildren,
    HighestModSeq(u64),
    InUse,
    Limit,
    NoModSeq,
    NonExistent,
    NoPerm,
    OverQuota,
    Parse,
    /// `PERMANENTFLAGS (\Seen ... \*)`.
    PermanentFlags(Vec<String>),
    PrivacyRequired,
    ReadOnly,
    ReadWrite,
    ServerBug,
    TooBig,
    TryCreate,
    UidNext(u32),
    UidValidity(u32),
    Unavailable,
    UnknownCte,
    /// rev1: the first unseen message's sequence number.
    Unseen(u32),
    UseAttr,
    /// Anything else, written as is inside the brackets.
    Other(String),
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, name: &str, items: &[String], paren: bool| -> fmt::Result {
            f.write_str(name)?;
            if paren {
                f.write_str(" (")?;
            }
            for (i, s) in items.iter().enumerate() {
                if i > 0 || !paren {
                    f.write_str(" ")?;
                }
                f.write_str(s)?;
            }
            if paren {
                f.write_str(")")?;
            }
            Ok(())
        };
        match self {
            Code::Alert => f.write_str("ALERT"),
            Code::AlreadyExists => f.write_str("ALREADYEXISTS"),
            Code::AppendUid { uidvalidity, uids } => write!(f, "APPENDUID {uidvalidity} {uids}"),
            Code::AuthenticationFailed => f.write_str("AUTHENTICATIONFAILED"),
            Code::AuthorizationFailed => f.write_str("AUTHORIZATIONFAILED"),
            Code::BadCharset(cs) if cs.is_empty() => f.write_str("BADCHARSET"),
            Code::BadCharset(cs) => {
                f.write_str("BADCHARSET (")?;
                for (i, c) in cs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write_astring_fmt(f, c)?;
                }
                f.write_str(")")
            }
            Code::Cannot => f.write_str("CANNOT"),
            Code::Capability(caps) => list(f, "CAPABILITY", caps, false),
            Code::ClientBug => f.write_str("CLIENTBUG"),
            Code::Closed => f.write_str("CLOSED"),
            Code::ContactAdmin => f.write_str("CONTACTADMIN"),
            Code::CopyUid {
                uidvalidity,
                source,
                dest,
            } => write!(f, "COPYUID {uidvalidity} {source} {dest}"),
            Code::Corruption => f.write_str("CORRUPTION"),
            Code::Expired => f.write_str("EXPIRED"),
            Code::ExpungeIssued => f.write_str("EXPUNGEISSUED"),
            Code::HasChildren => f.write_str("HASCHILDREN"),
            Code::HighestModSeq(n) => write!(f, "HIGHESTMODSEQ {n}"),
            Code::InUse => f.write_str("INUSE"),
            Code::Limit => f.write_str("LIMIT"),
            Code::NoModSeq => f.write_str("NOMODSEQ"),
            Code::NonExistent => f.write_str("NONEXISTENT"),
            Code::NoPerm => f.write_str("NOPERM"),
            Code::OverQuota => f.write_str("OVERQUOTA"),
            Code::Parse => f.write_str("PARSE"),
            Code::PermanentFlags(flags) => list(f, "PERMANENTFLAGS", flags, true),
            Code::PrivacyRequired => f.write_str("PRIVACYREQUIRED"),
            Code::ReadOnly => f.write_str("READ-ONLY"),
            Code::ReadWrite => f.write_str("READ-WRITE"),
            Code::ServerBug => f.write_str("SERVERBUG"),
            Code::TooBig => f.write_str("TOOBIG"),
            Code::TryCreate => f.write_str("TRYCREATE"),
            Code::UidNext(n) => write!(f, "UIDNEXT {n}"),
            Code::UidValidity(n) => write!(f, "UIDVALIDITY {n}"),
            Code::Unavailable => f.write_str("UNAVAILABLE"),
            Code::UnknownCte => f.write_str("UNKNOWN-CTE"),
            Code::Unseen(n) => write!(f, "UNSEEN {n}"),
            Code::UseAttr => f.write_str("USEATTR"),
            Code::Other(s) => f.write_str(s),
        }
    }
}

fn write_cond(out: &mut Vec<u8>, status: Status, code: Option<&Code>, text: &str) {
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    if let Some(code) = code {
        out.extend_from_slice(format!("[{code}] ").as_bytes());
    }
    write_text(out, text);
    out.extend_from_slice(b"\r\n");
}

/// `tag OK [CODE] text`.
pub fn tagged(out: &mut Vec<u8>, tag: &str, status: Status, code: Option<&Code>, text: &str) {
    out.extend_from_slice(tag.as_bytes());
    out.push(b' ');
    write_cond(out, status, code, text);
}

/// `* OK [CODE] text` (also `* BYE`, `* PREAUTH`, `* BAD`).
pub fn untagged(out: &mut Vec<u8>, status: Status, code: Option<&Code>, text: &str) {
    out.extend_from_slice(b"* ");
    write_cond(out, status, code, text);
}

/// `+ text`.
pub fn continuation(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(b"+ ");
    write_text(out, text);
    out.extend_from_slice(b"\r\n");
}

/// `+ base64` (an AUTHENTICATE challenge; empty gives `+ `).
pub fn continuation_base64(out: &mut Vec<u8>, challenge: &[u8]) {
    out.extend_from_slice(b"+ ");
    out.extend_from_slice(crate::encode::base64::encode(challenge).as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// `* CAPABILITY IMAP4rev2 IMAP4rev1 ...`.
pub fn capability<S: AsRef<str>>(out: &mut Vec<u8>, caps: &[S]) {
    out.extend_from_slice(b"* CAPABILITY");
    for c in caps {
        out.push(b' ');
        out.extend_from_slice(c.as_ref().as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

/// `* ENABLED a b` (RFC 5161).
pub fn enabled<S: AsRef<str>>(out: &mut Vec<u8>, caps: &[S]) {
    out.extend_from_slice(b"* ENABLED");
    for c in caps {
        out.push(b' ');
        out.extend_from_slice(c.as_ref().as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

/// `* n EXISTS`.
pub fn exists(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(format!("* {n} EXISTS\r\n").as_bytes());
}

/// `* n RECENT` (rev1 only).
pub fn recent(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(format!("* {n} RECENT\r\n").as_bytes());
}

/// `* n EXPUNGE`.
pub fn expunge(out: &mut Vec<u8>, seq: u32) {
    out.extend_from_slice(format!("* {seq} EXPUNGE\r\n").as_bytes());
}

/// `* FLAGS (...)`.
pub fn flags<S: AsRef<str>>(out: &mut Vec<u8>, flags: &[S]) {
    out.extend_from_slice(b"* FLAGS ");
    write_atom_list(out, flags);
    out.extend_from_slice(b"\r\n");
}

/// Extended LIST data (RFC 5258 §4 mbox-list-extended).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListExtra {
    /// `("CHILDINFO" ("SUBSCRIBED"))` with RECURSIVEMATCH.
    pub childinfo_subscribed: bool,
    /// RFC 9051 `("OLDNAME" (name))`.
    pub oldname: Option<String>,
}

/// `* LIST (\attrs) "/" name [extended]` (or `LSUB`). `delimiter: None`
/// writes NIL (a flat namespace).
pub fn list(
    out: &mut Vec<u8>,
    lsub: bool,
    attrs: &[&str],
    delimiter: Option<char>,
    name: &str,
    extra: &ListExtra,
    utf8: bool,
) {
    out.extend_from_slice(if lsub { b"* LSUB " } else { b"* LIST " });
    write_atom_list(out, attrs);
    out.push(b' ');
    match delimiter {
        Some(d) => {
            let mut buf = [0u8; 4];
            write_string(out, d.encode_utf8(&mut buf).as_bytes(), utf8);
        }
        None => out.extend_from_slice(b"NIL"),
    }
    out.push(b' ');
    write_mailbox(out, name, utf8);
    let mut ext: Vec<Vec<u8>> = Vec::new();
    if extra.childinfo_subscribed {
        ext.push(b"\"CHILDINFO\" (\"SUBSCRIBED\")".to_vec());
    }
    if let Some(old) = &extra.oldname {
        let mut v = b"\"OLDNAME\" (".to_vec();
        write_mailbox(&mut v, old, utf8);
        v.push(b')');
        ext.push(v);
    }
    if !ext.is_empty() {
        out.extend_from_slice(b" (");
        out.extend_from_slice(&ext.join(&b' '));
        out.push(b')');
    }
    out.extend_from_slice(b"\r\n");
}

/// `* STATUS name (MESSAGES 2 UIDNEXT 5)`.
pub fn status(out: &mut Vec<u8>, mailbox: &str, items: &[(StatusItem, u64)], utf8: bool) {
    out.extend_from_slice(b"* STATUS ");
    write_mailbox(out, mailbox, utf8);
    out.extend_from_slice(b" (");
    for (i, (item, value)) in items.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(format!("{} {value}", item.name()).as_bytes());
    }
    out.extend_from_slice(b")\r\n");
}

/// rev1 `* SEARCH 2 3 6` (numbers as given).
pub fn search(out: &mut Vec<u8>, ids: &[u32]) {
    out.extend_from_slice(b"* SEARCH");
    for id in ids {
        out.extend_from_slice(format!(" {id}").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

/// ESEARCH result (RFC 4731 / RFC 9051 §7.3.4). `None` fields are left
/// out; `all` is left out when empty (RFC 4731 §3.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Esearch {
    pub min: Option<u32>,
    pub max: Option<u32>,
    pub count: Option<u32>,
    pub all: Option<SequenceSet>,
}

/// `* ESEARCH (TAG "a1") UID MIN 2 COUNT 3`.
pub fn esearch(out: &mut Vec<u8>, tag: Option<&str>, uid: bool, r: &Esearch) {
    out.extend_from_slice(b"* ESEARCH");
    if let Some(tag) = tag {
        out.extend_from_slice(b" (TAG ");
        write_string(out, tag.as_bytes(), false);
        out.push(b')');
    }
    if uid {
        out.extend_from_slice(b" UID");
    }
    if let Some(n) = r.min {
        out.extend_from_slice(format!(" MIN {n}").as_bytes());
    }
    if let Some(n) = r.max {
        out.extend_from_slice(format!(" MAX {n}").as_bytes());
    }
    if let Some(n) = r.all.as_ref().filter(|s| !s.is_empty()) {
        out.extend_from_slice(format!(" ALL {n}").as_bytes());
    }
    if let Some(n) = r.count {
        out.extend_from_slice(format!(" COUNT {n}").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

/// One namespace: prefix and delimiter.
pub type Namespace<'a> = (&'a str, Option<char>);

/// `* NAMESPACE (("" "/")) NIL NIL`: personal, other users', shared.
pub fn namespace(
    out: &mut Vec<u8>,
    personal: &[Namespace<'_>],
    other: &[Namespace<'_>],
    shared: &[Namespace<'_>],
    utf8: bool,
) {
    out.extend_from_slice(b"* NAMESPACE");
    for group in [personal, other, shared] {
        out.push(b' ');
        if group.is_empty() {
            out.extend_from_slice(b"NIL");
            continue;
        }
        out.push(b'(');
        for (prefix, delim) in group {
            out.push(b'(');
            let p = if utf8 {
                prefix.to_string()
            } else {
                mutf7::encode(prefix)
            };
            write_string(out, p.as_bytes(), utf8);
            out.push(b' ');
            match delim {
                Some(d) => {
                    let mut buf = [0u8; 4];
                    write_string(out, d.encode_utf8(&mut buf).as_bytes(), utf8);
                }
                None => out.extend_from_slice(b"NIL"),
            }
            out.push(b')');
        }
        out.push(b')');
    }
    out.extend_from_slice(b"\r\n");
}

/// `* ID ("name" "Mailroom")` or `* ID NIL` (RFC 2971).
pub fn id(out: &mut Vec<u8>, fields: Option<&[(&str, &str)]>) {
    out.extend_from_slice(b"* ID ");
    match fields {
        None => out.extend_from_slice(b"NIL"),
        Some(fields) => {
            out.push(b'(');
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_string(out, k.as_bytes(), false);
                out.push(b' ');
                write_string(out, v.as_bytes(), false);
            }
            out.push(b')');
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// INTERNALDATE text: `"17-Jul-1996 02:44:25 -0700"` (with the quotes).
/// The day is written with two digits: `date-day-fixed` also allows a
/// leading space, but every major server writes `08-` and some client
/// parsers (fixed-width layouts) accept only that.
pub fn date_time(timestamp: i64, offset_minutes: i32) -> String {
    let local = timestamp.saturating_add(i64::from(offset_minutes) * 60);
    let d = crate::command::Date::from_timestamp(local, 0);
    let secs = local.rem_euclid(86_400);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    format!(
        "\"{:02}-{}-{:04} {:02}:{:02}:{:02} {sign}{:02}{:02}\"",
        d.day,
        crate::parser::lexer::MONTHS[usize::from(d.month.saturating_sub(1)).min(11)],
        d.year,
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        off / 60,
        off % 60
    )
}

/// Builds one `* n FETCH (...)` line item by item.
///
/// ```
/// # use mailroom_imap::response::FetchLine;
/// let mut out = Vec::new();
/// let mut f = FetchLine::start(&mut out, 12);
/// f.uid(37);
/// f.flags(&["\\Seen"]);
/// f.finish();
/// assert_eq!(out, b"* 12 FETCH (UID 37 FLAGS (\\Seen))\r\n");
/// ```
pub struct FetchLine<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> FetchLine<'a> {
    pub fn start(out: &'a mut Vec<u8>, seq: u32) -> FetchLine<'a> {
        out.extend_from_slice(format!("* {seq} FETCH (").as_bytes());
        FetchLine { out, first: true }
    }

    /// Writes the separator and `name ` and returns the buffer for the
    /// value (for callers rendering their own items).
    pub fn item(&mut self, name: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b' ');
        }
        self.first = false;
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b' ');
        self.out
    }

    pub fn uid(&mut self, uid: u32) {
        let s = uid.to_string();
        self.item("UID").extend_from_slice(s.as_bytes());
    }

    pub fn flags<S: AsRef<str>>(&mut self, flags: &[S]) {
        let out = self.item("FLAGS");
        write_atom_list(out, flags);
    }

    pub fn internal_date(&mut self, timestamp: i64, offset_minutes: i32) {
        let s = date_time(timestamp, offset_minutes);
        self.item("INTERNALDATE").extend_from_slice(s.as_bytes());
    }

    pub fn rfc822_size(&mut self, size: u64) {
        let s = size.to_string();
        self.item("RFC822.SIZE").extend_from_slice(s.as_bytes());
    }

    pub fn modseq(&mut self, modseq: u64) {
        let s = format!("({modseq})");
        self.item("MODSEQ").extend_from_slice(s.as_bytes());
    }

    pub fn envelope(&mut self, env: &mailroom_store::parse::Envelope, utf8: bool) {
        let out = self.item("ENVELOPE");
        crate::encode::envelope::write_envelope(out, env, utf8);
    }

    /// `BODY` (`extended: false`) or `BODYSTRUCTURE` (`true`).
    pub fn body_structure(&mut self, root: &mailroom_store::parse::Part, extended: bool, utf8: bool) {
        let out = self.item(if extended { "BODYSTRUCTURE" } else { "BODY" });
        crate::encode::bodystructure::write_body(out, root, extended, utf8);
    }

    /// `BINARY.SIZE[part] n`.
    pub fn binary_size(&mut self, part: &[u32], size: u64) {
        let name = format!("BINARY.SIZE[{}]", join_part(part));
        let s = size.to_string();
        self.item(&name).extend_from_slice(s.as_bytes());
    }

    /// A section item with its data as a literal: `BODY[1.TEXT]<0> {n}`.
    /// `binary` selects literal8 (BINARY[] data holding NUL).
    pub fn section_data(&mut self, name: &str, data: &[u8], binary: bool) {
        let out = self.item(name);
        write_literal_header(out, data.len() as u64, binary);
        if binary || !data.contains(&0) {
            out.extend_from_slice(data);
        } else {
            // RFC 9051 §4.3: NUL only in a literal8 (BINARY). A stored NUL
            // (from a binary APPEND) goes out as 0x80 elsewhere, size
            // unchanged, as Dovecot does.
            out.extend(data.iter().map(|&b| if b == 0 { 0x80 } else { b }));
        }
    }

    /// Starts a section item whose `len` octets the caller appends (or
    /// streams) itself, right after this call and before the next item.
    pub fn section_header(&mut self, name: &str, len: u64, binary: bool) {
        let out = self.item(name);
        write_literal_header(out, len, binary);
    }

    /// A section item with no data: `BODY[4] NIL`.
    pub fn section_nil(&mut self, name: &str) {
        self.item(name).extend_from_slice(b"NIL");
    }

    pub fn finish(self) {
        self.out.extend_from_slice(b")\r\n");
    }
}

fn join_part(part: &[u32]) -> String {
    part.iter().map(u32::to_string).collect::<Vec<_>>().join(".")
}

/// The item name of a section in a FETCH reply: `BODY[1.HEADER]`,
/// `BODY[]<0>` (partial: origin only, RFC 9051 §7.5.2), `RFC822`,
/// `BINARY[1]`.
pub fn section_item_name(section: &Section, partial_origin: Option<u64>) -> String {
    let mut s = format!("BODY[{section}]");
    if let Some(o) = partial_origin {
        s.push_str(&format!("<{o}>"));
    }
    s
}

/// `BINARY[1.HEADER]<origin>` (see `FetchItem::BinarySection`).
pub fn binary_section_item_name(section: &Section, partial_origin: Option<u64>) -> String {
    let mut s = format!("BINARY[{section}]");
    if let Some(o) = partial_origin {
        s.push_str(&format!("<{o}>"));
    }
    s
}

/// `BINARY[1.2]<origin>`.
pub fn binary_item_name(part: &[u32], partial_origin: Option<u64>) -> String {
    let mut s = format!("BINARY[{}]", join_part(part));
    if let Some(o) = partial_origin {
        s.push_str(&format!("<{o}>"));
    }
    s
}

#[cfg(test)]
#[path = "response/tests.rs"]
mod tests;
