//! The one parse of a message, done at delivery: everything IMAP FETCH,
//! SEARCH and POP3 need later, with absolute byte offsets into the blob, so
//! nothing re-parses a message to answer a FETCH.
use mail_parser::{Address, HeaderName, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ParsedMessage {
    pub envelope: Envelope,
    /// The MIME tree; for a non-MIME message, one text/plain part.
    pub root: Part,
    /// Decoded header values for SEARCH (FROM, TO, CC, BCC, SUBJECT).
    pub search: SearchFields,
    /// The Date: header as a Unix timestamp (SEARCH SENTBEFORE etc.).
    pub sent_date: Option<i64>,
    /// A short plain-text preview of the body.
    pub preview: String,
}

/// RFC 9051 §7.5.2 ENVELOPE, with string fields as they appear in the header
/// (unfolded, not decoded): IMAP returns them raw.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Envelope {
    pub date: Option<String>,
    pub subject: Option<String>,
    pub from: Vec<EnvAddress>,
    pub sender: Vec<EnvAddress>,
    pub reply_to: Vec<EnvAddress>,
    pub to: Vec<EnvAddress>,
    pub cc: Vec<EnvAddress>,
    pub bcc: Vec<EnvAddress>,
    pub in_reply_to: Option<String>,
    pub message_id: Option<String>,
}

/// One IMAP address structure. A group start has `host == None` and the group
/// name in `mailbox`; a group end has both `None` (RFC 9051 §7.5.2).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EnvAddress {
    pub name: Option<String>,
    pub adl: Option<String>,
    pub mailbox: Option<String>,
    pub host: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SearchFields {
    pub from: String,
    pub to: String,
    pub cc: String,
    pub bcc: String,
    pub subject: String,
}

/// One MIME part. Offsets are absolute positions in the blob.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Part {
    pub header_start: u64,
    /// Start of the body (just after the blank line ending the header).
    pub body_start: u64,
    pub body_end: u64,
    /// Lower-case media type and subtype ("text", "plain").
    pub media_type: String,
    pub subtype: String,
    pub params: Vec<(String, String)>,
    pub id: Option<String>,
    pub description: Option<String>,
    /// Content-Transfer-Encoding as given, default "7bit".
    pub encoding: String,
    /// Body size in octets as stored (encoded).
    pub size: u64,
    /// Body lines, for text/* and message/rfc822 parts.
    pub lines: u64,
    /// Size after decoding the transfer encoding (BINARY.SIZE).
    pub decoded_size: u64,
    pub md5: Option<String>,
    pub disposition: Option<(String, Vec<(String, String)>)>,
    pub language: Vec<String>,
    pub location: Option<String>,
    /// Children of a multipart.
    pub parts: Vec<Part>,
    /// The embedded message of a message/rfc822 (or message/global) part.
    pub message: Option<Box<ParsedMessage>>,
}

impl Part {
    pub fn is_multipart(&self) -> bool {
        self.media_type == "multipart"
    }
}

/// MIME nesting we describe; deeper structure (only ever seen in attacks)
/// is kept as one opaque part, so rendering and storing the tree stay
/// bounded (serde_json refuses to read more than 128 levels).
pub const MAX_DEPTH: usize = 32;

/// Boundary-like lines beyond which a message is not split into parts: a
/// few megabytes of `--x` lines would otherwise become millions of parts
/// to hold, store and render.
pub const MAX_BOUNDARY_LINES: usize = 20_000;

pub fn parse(raw: &[u8]) -> ParsedMessage {
    let boundary_lines = raw
        .windows(3)
        .filter(|w| *w == b"\n--")
        .take(MAX_BOUNDARY_LINES + 1)
        .count();
    if boundary_lines > MAX_BOUNDARY_LINES {
        return fallback(raw);
    }
    match MessageParser::default().parse(raw) {
        Some(msg) => from_message(&msg, raw, 0),
        None => fallback(raw),
    }
}

/// A message mail-parser cannot read at all still gets a usable structure:
/// the whole thing as one text/plain body.
fn fallback(raw: &[u8]) -> ParsedMessage {
    let split = find_header_end(raw);
    ParsedMessage {
        root: Part {
            header_start: 0,
            body_start: split as u64,
            body_end: raw.len() as u64,
            media_type: "text".into(),
            subtype: "plain".into(),
            params: vec![("charset".into(), "us-ascii".into())],
            encoding: "7bit".into(),
            size: (raw.len() - split) as u64,
            lines: count_lines(&raw[split..]),
            decoded_size: (raw.len() - split) as u64,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn find_header_end(raw: &[u8]) -> usize {
    if raw.starts_with(b"\r\n") {
        return 2;
    }
    if raw.starts_with(b"\n") {
        return 1;
    }
    for i in 0..raw.len() {
        if raw[i..].starts_with(b"\n\r\n") {
            return i + 3;
        }
        if raw[i..].starts_with(b"\n\n") {
            return i + 2;
        }
    }
    raw.len()
}

fn count_lines(body: &[u8]) -> u64 {
    let mut n = body.iter().filter(|&&b| b == b'\n').count() as u64;
    if body.last().is_some_and(|&b| b != b'\n') {
        n += 1;
    }
    n
}

/// mail-parser gives offsets into the outermost buffer, also for parts of
/// embedded messages, so `raw` is always the whole blob.
fn from_message(msg: &Message<'_>, raw: &[u8], depth: usize) -> ParsedMessage {
    let root = build_part(msg, 0, raw, depth);
    let headers = msg.root_part().headers.as_slice();
    let raw_value = |name: HeaderName<'_>| -> Option<String> {
        headers
            .iter()
            .find(|h| h.name == name)
            .and_then(|h| raw.get(h.offset_start as usize..h.offset_end as usize))
            .map(unfold)
    };
    let addrs = |v: Option<&Address<'_>>| -> Vec<EnvAddress> { v.map(env_addresses).unwrap_or_default() };
    let from = addrs(msg.from());
    let mut sender = addrs(msg.sender());
    let mut reply_to = addrs(msg.reply_to());
    // RFC 9051 §7.5.2: sender and reply-to default to from.
    if sender.is_empty() {
        sender = from.clone();
    }
    if reply_to.is_empty() {
        reply_to = from.clone();
    }
    let envelope = Envelope {
        date: raw_value(HeaderName::Date),
        subject: raw_value(HeaderName::Subject),
        from,
        sender,
        reply_to,
        to: addrs(msg.to()),
        cc: addrs(msg.cc()),
        bcc: addrs(msg.bcc()),
        in_reply_to: raw_value(HeaderName::InReplyTo),
        message_id: raw_value(HeaderName::MessageId),
    };
    let search = SearchFields {
        from: search_text(msg.from()),
        to: search_text(msg.to()),
        cc: search_text(msg.cc()),
        bcc: search_text(msg.bcc()),
        subject: msg.subject().unwrap_or_default().to_string(),
    };
    let preview = msg
        .body_preview(256)
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    ParsedMessage {
        envelope,
        root,
        search,
        sent_date: msg.date().map(|d| d.to_timestamp()),
        preview,
    }
}

fn unfold(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c != '\r' && c != '\n' {
            out.push(c);
        }
    }
    out.trim().to_string()
}

fn split_addr(a: &mail_parser::Addr<'_>) -> EnvAddress {
    let (mailbox, host) = match a.address.as_deref() {
        Some(addr) => match addr.rsplit_once('@') {
            Some((l, h)) => (Some(l.to_string()), Some(h.to_string())),
            None => (Some(addr.to_string()), Some(String::new())),
        },
        None => (None, Some(String::new())),
    };
    EnvAddress {
        name: a.name.as_deref().map(str::to_string),
        adl: None,
        mailbox,
        host,
    }
}

fn env_addresses(a: &Address<'_>) -> Vec<EnvAddress> {
    match a {
        Address::List(list) => list.iter().map(split_addr).collect(),
        Address::Group(groups) => {
            let mut out = Vec::new();
            for g in groups {
                match &g.name {
                    Some(name) => {
                        out.push(EnvAddress {
                            mailbox: Some(name.to_string()),
                            ..Default::default()
                        });
                        out.extend(g.addresses.iter().map(split_addr));
                        out.push(EnvAddress::default());
                    }
                    None => out.extend(g.addresses.iter().map(split_addr)),
                }
            }
            out
        }
    }
}

fn search_text(a: Option<&Address<'_>>) -> String {
    let mut out = String::new();
    let mut push = |x: &mail_parser::Addr<'_>| {
        if !out.is_empty() {
            out.push_str(", ");
        }
        if let Some(n) = &x.name {
            out.push_str(n);
            out.push(' ');
        }
        if let Some(addr) = &x.address {
            out.push('<');
            out.push_str(addr);
            out.push('>');
        }
    };
    match a {
        Some(Address::List(l)) => l.iter().for_each(&mut push),
        Some(Address::Group(g)) => g.iter().flat_map(|g| g.addresses.iter()).for_each(&mut push),
        None => {}
    }
    out
}

fn attrs(list: Option<&[mail_parser::Attribute<'_>]>) -> Vec<(String, String)> {
    list.unwrap_or_default()
        .iter()
        .map(|a| (a.name.to_ascii_lowercase(), a.value.to_string()))
        .collect()
}

fn build_part(msg: &Message<'_>, id: u32, raw: &[u8], depth: usize) -> Part {
    let Some(part) = msg.part(id) else {
        return Part::default();
    };
    let start = (part.offset_body as usize).min(raw.len());
    let end = (part.offset_end as usize).clamp(start, raw.len());
    let body = &raw[start..end];
    let (media_type, subtype, params) = match part.content_type() {
        Some(ct) => (
            ct.ctype().to_ascii_lowercase(),
            ct.subtype().unwrap_or("").to_ascii_lowercase(),
            attrs(ct.attributes()),
        ),
        None => default_type(msg, id),
    };
    let (media_type, subtype) = if subtype.is_empty() {
        if media_type == "text" {
            (media_type, "plain".to_string())
        } else {
            ("application".to_string(), "octet-stream".to_string())
        }
    } else {
        (media_type, subtype)
    };
    let params = if params.is_empty() && media_type == "text" {
        vec![("charset".to_string(), "us-ascii".to_string())]
    } else {
        params
    };
    let mut out = Part {
        header_start: part.offset_header as u64,
        body_start: start as u64,
        body_end: end as u64,
        params,
        id: part.content_id().map(|s| format!("<{s}>")),
        description: part.content_description().map(str::to_string),
        encoding: part
            .content_transfer_encoding()
            .map(|e| e.to_ascii_lowercase())
            .unwrap_or_else(|| "7bit".into()),
        size: body.len() as u64,
        lines: 0,
        decoded_size: part.len() as u64,
        md5: header_text(part, HeaderName::ContentMd5),
        disposition: part
            .content_disposition()
            .map(|d| (d.ctype().to_ascii_lowercase(), attrs(d.attributes()))),
        language: language(part),
        location: part.content_location().map(str::to_string),
        parts: Vec::new(),
        message: None,
        media_type,
        subtype,
    };
    match &part.body {
        PartType::Multipart(children) => {
            if depth >= MAX_DEPTH {
                // Too deep to describe: the rest is one opaque part.
                out.media_type = "application".into();
                out.subtype = "octet-stream".into();
                out.params.clear();
            } else {
                out.parts = children.iter().map(|&c| build_part(msg, c, raw, depth + 1)).collect();
            }
        }
        PartType::Message(inner) => {
            out.lines = count_lines(body);
            // The embedded message's offsets point into the blob only when
            // it was stored as is; a transfer-encoded one (RFC 2046 §5.2.1
            // forbids that, but it happens) is described as opaque text.
            let inner_raw = inner.raw_message();
            let pos = (inner_raw.as_ptr() as usize).wrapping_sub(raw.as_ptr() as usize);
            if depth >= MAX_DEPTH {
                out.media_type = "application".into();
                out.subtype = "octet-stream".into();
                out.params.clear();
            } else if pos <= raw.len() && pos + inner_raw.len() <= raw.len() {
                out.message = Some(Box::new(from_message(inner, raw, depth + 1)));
            } else {
                let mut opaque = fallback(inner_raw);
                opaque.root.body_start = start as u64;
                opaque.root.header_start = start as u64;
                opaque.root.body_end = end as u64;
                opaque.root.size = (end - start) as u64;
                out.message = Some(Box::new(opaque));
            }
        }
        _ => {
            if out.media_type == "text" {
                out.lines = count_lines(body);
            }
        }
    }
    out
}

/// RFC 2046 §5.1.5: parts of multipart/digest default to message/rfc822.
fn default_type(msg: &Message<'_>, id: u32) -> (String, String, Vec<(String, String)>) {
    let parent_is_digest = msg.parts.iter().any(|p| {
        p.sub_parts().is_some_and(|s| s.contains(&id))
            && p.content_type()
                .is_some_and(|ct| ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("digest")))
    });
    if parent_is_digest {
        ("message".into(), "rfc822".into(), Vec::new())
    } else {
        ("text".into(), "plain".into(), Vec::new())
    }
}

fn header_text(part: &MessagePart<'_>, name: HeaderName<'_>) -> Option<String> {
    match &part.headers.iter().find(|h| h.name == name)?.value {
        HeaderValue::Text(t) => Some(t.to_string()),
        _ => None,
    }
}

fn language(part: &MessagePart<'_>) -> Vec<String> {
    match part.content_language() {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|s| s.to_string()).collect(),
        _ => Vec::new(),
    }
}
