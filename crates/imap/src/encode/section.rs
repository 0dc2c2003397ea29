//! Where a FETCH section lives in the message blob (RFC 9051 §6.4.5), from
//! the MIME tree parsed at delivery: byte ranges, so a partial FETCH reads
//! just the octets it returns and nothing is parsed again.
//!
//! Part numbering: a multipart's children are 1, 2, ...; a non-multipart
//! message has only part 1, its body; the parts of a message/rfc822 part
//! are those of the embedded message (so `2.1` is the first part of the
//! message attached as part 2). HEADER, TEXT and HEADER.FIELDS after a part
//! number apply to an embedded message; MIME to the part's own header.

use std::ops::Range;

use mailroom_store::parse::{ParsedMessage, Part};

use super::bodystructure::is_message;
use crate::command::{Partial, Section, SectionKind};

/// What to read for a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionLocation {
    /// These octets of the blob, as they are.
    Range(Range<u64>),
    /// The header at this range, filtered with [`filter_header`]: only
    /// (`not: false`) or all but (`not: true`) the named fields.
    HeaderFields {
        range: Range<u64>,
        fields: Vec<String>,
        not: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SectionError {
    /// The part number does not exist in this message. RFC 9051 §6.4.5
    /// leaves the reply open; answering with an empty string (or NIL) is
    /// what clients cope with best.
    #[error("no such body part")]
    NoSuchPart,
    /// HEADER/TEXT/HEADER.FIELDS on a part that is not a message/rfc822.
    #[error("section text applies only to message/rfc822 parts")]
    NotAMessage,
}

/// Finds the part a part path names. An empty path is the message itself
/// (its root part).
pub fn find_part<'a>(msg: &'a ParsedMessage, path: &[u32]) -> Result<&'a Part, SectionError> {
    let mut cur = &msg.root;
    // `cur` is a message root until we step into a part.
    let mut in_message = true;
    for &n in path {
        let idx = usize::try_from(n)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .ok_or(SectionError::NoSuchPart)?;
        if !in_message {
            // Stepping below a non-multipart part: only an embedded
            // message has parts.
            if is_message(cur) {
                cur = &cur.message.as_ref().ok_or(SectionError::NoSuchPart)?.root;
            } else if !cur.is_multipart() {
                return Err(SectionError::NoSuchPart);
            }
        }
        if cur.is_multipart() {
            cur = cur.parts.get(idx).ok_or(SectionError::NoSuchPart)?;
        } else if idx != 0 {
            // A non-multipart message has only part 1: its body.
            return Err(SectionError::NoSuchPart);
        }
        in_message = false;
    }
    Ok(cur)
}

/// Locates `section` in the blob of `msg`.
pub fn locate(section: &Section, msg: &ParsedMessage) -> Result<SectionLocation, SectionError> {
    let part = find_part(msg, &section.part)?;
    let whole_message = section.part.is_empty();
    // The message whose header/text HEADER, TEXT, HEADER.FIELDS refer to.
    let message_root = || -> Result<&Part, SectionError> {
        if whole_message {
            return Ok(&msg.root);
        }
        if !is_message(part) {
            return Err(SectionError::NotAMessage);
        }
        Ok(&part.message.as_ref().ok_or(SectionError::NotAMessage)?.root)
    };
    Ok(match &section.kind {
        SectionKind::Full if whole_message => SectionLocation::Range(msg.root.header_start..msg.root.body_end),
        SectionKind::Full => SectionLocation::Range(part.body_start..part.body_end),
        SectionKind::Mime => SectionLocation::Range(part.header_start..part.body_start),
        SectionKind::Header => {
            let m = message_root()?;
            SectionLocation::Range(m.header_start..m.body_start)
        }
        SectionKind::Text => {
            let m = message_root()?;
            SectionLocation::Range(m.body_start..m.body_end)
        }
        SectionKind::HeaderFields(f) | SectionKind::HeaderFieldsNot(f) => {
            let m = message_root()?;
            SectionLocation::HeaderFields {
                range: m.header_start..m.body_start,
                fields: f.clone(),
                not: matches!(section.kind, SectionKind::HeaderFieldsNot(_)),
            }
        }
    })
}

/// The header fields of `header` whose names are (or, with `not`, are
/// not) in `fields` (case-insensitive), each with its continuation lines,
/// followed by the blank line ending a header (RFC 9051 §6.4.5).
pub fn filter_header(header: &[u8], fields: &[String], not: bool) -> Vec<u8> {
    // Long field lists (a client may send thousands) are looked up by hash.
    let set: Option<std::collections::HashSet<Vec<u8>>> =
        (fields.len() > 16).then(|| fields.iter().map(|f| f.as_bytes().to_ascii_lowercase()).collect());
    let mut out = Vec::new();
    let mut keep = false;
    for line in header.split_inclusive(|&b| b == b'\n') {
        let bare = line.strip_suffix(b"\n").unwrap_or(line);
        let bare = bare.strip_suffix(b"\r").unwrap_or(bare);
        if bare.is_empty() {
            // The blank line ending the header.
            break;
        }
        if !matches!(line[0], b' ' | b'\t') {
            let name = match bare.iter().position(|&b| b == b':') {
                Some(i) => trim_end(&bare[..i]),
                None => bare,
            };
            let listed = match &set {
                Some(set) => set.contains(&name.to_ascii_lowercase()),
                None => fields.iter().any(|f| f.as_bytes().eq_ignore_ascii_case(name)),
            };
            keep = listed != not;
        }
        if keep {
            out.extend_from_slice(bare);
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn trim_end(s: &[u8]) -> &[u8] {
    let end = s.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |i| i + 1);
    &s[..end]
}

/// The sub-range a partial fetch returns from `len` octets (RFC 9051
/// §6.4.5: an origin past the end gives an empty string).
pub fn partial_range(len: u64, partial: Option<Partial>) -> Range<u64> {
    match partial {
        None => 0..len,
        Some(p) => {
            let start = p.offset.min(len);
            start..start.saturating_add(p.length).min(len)
        }
    }
}

/// Where the octets of `BINARY[part]` come from and how to decode them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryLocation {
    pub range: Range<u64>,
    /// Content-Transfer-Encoding to undo (lower case; "7bit", "8bit",
    /// "binary" mean none).
    pub encoding: String,
    /// The decoded size when known without decoding (identity encodings).
    pub size_hint: Option<u64>,
}

/// Locates `BINARY[part]` / `BINARY.SIZE[part]` (RFC 3516 §4.2). An empty
/// path is the whole message, which has no transfer encoding of its own.
pub fn locate_binary(msg: &ParsedMessage, part: &[u32]) -> Result<BinaryLocation, SectionError> {
    if part.is_empty() {
        let range = msg.root.header_start..msg.root.body_end;
        return Ok(BinaryLocation {
            size_hint: Some(range.end - range.start),
            range,
            encoding: "binary".into(),
        });
    }
    let p = find_part(msg, part)?;
    let identity = super::transfer::is_identity(&p.encoding) || p.is_multipart() || is_message(p);
    Ok(BinaryLocation {
        range: p.body_start..p.body_end,
        encoding: if identity {
            "binary".into()
        } else {
            p.encoding.to_ascii_lowercase()
        },
        size_hint: identity.then_some(p.body_end - p.body_start),
    })
}

#[cfg(test)]
#[path = "section_tests.rs"]
mod tests;
