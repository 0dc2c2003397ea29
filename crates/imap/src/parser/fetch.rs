//! FETCH arguments (RFC 9051 §6.4.5, RFC 3516 BINARY, RFC 7162).

use super::lexer::{Cursor, PResult};
use crate::command::{FetchCommand, FetchItem, FetchModifiers, Partial, Section, SectionKind};

pub(super) fn fetch(c: &mut Cursor<'_>, uid: bool) -> PResult<FetchCommand> {
    c.sp("Expected SP and sequence set")?;
    let set = c.sequence_set()?;
    c.sp("Expected SP and fetch items")?;
    let mut items = Vec::new();
    if c.eat(b'(') {
        loop {
            fetch_att(c, &mut items)?;
            if c.eat(b')') {
                break;
            }
            c.sp("Expected SP or ')' in fetch items")?;
        }
    } else if c.eat_keyword("ALL") {
        items.extend([
            FetchItem::Flags,
            FetchItem::InternalDate,
            FetchItem::Rfc822Size,
            FetchItem::Envelope,
        ]);
    } else if c.eat_keyword("FAST") {
        items.extend([FetchItem::Flags, FetchItem::InternalDate, FetchItem::Rfc822Size]);
    } else if c.eat_keyword("FULL") {
        items.extend([
            FetchItem::Flags,
            FetchItem::InternalDate,
            FetchItem::Rfc822Size,
            FetchItem::Envelope,
            FetchItem::Body,
        ]);
    } else {
        fetch_att(c, &mut items)?;
    }
    let mut modifiers = FetchModifiers::default();
    if c.eat(b' ') {
        c.expect(b'(', "Expected '(' to start FETCH modifiers")?;
        loop {
            if c.eat_keyword("CHANGEDSINCE") {
                c.sp("Expected SP after CHANGEDSINCE")?;
                modifiers.changed_since = Some(c.number64()?);
            } else if c.eat_keyword("VANISHED") {
                modifiers.vanished = true;
            } else {
                return Err("Unknown FETCH modifier".into());
            }
            if c.eat(b')') {
                break;
            }
            c.sp("Expected SP or ')' in FETCH modifiers")?;
        }
    }
    Ok(FetchCommand {
        uid,
        set,
        items,
        modifiers,
    })
}

fn fetch_att(c: &mut Cursor<'_>, items: &mut Vec<FetchItem>) -> PResult<()> {
    let name = c.word("Expected fetch item")?.to_ascii_uppercase();
    let item = match name.as_str() {
        "FLAGS" => FetchItem::Flags,
        "INTERNALDATE" => FetchItem::InternalDate,
        "RFC822.SIZE" => FetchItem::Rfc822Size,
        "ENVELOPE" => FetchItem::Envelope,
        "BODYSTRUCTURE" => FetchItem::BodyStructure,
        "UID" => FetchItem::Uid,
        "MODSEQ" => FetchItem::ModSeq,
        "RFC822" => FetchItem::Rfc822,
        "RFC822.HEADER" => FetchItem::Rfc822Header,
        "RFC822.TEXT" => FetchItem::Rfc822Text,
        "BODY" if c.peek() != Some(b'[') => FetchItem::Body,
        "BODY" | "BODY.PEEK" => {
            let section = section(c)?;
            let partial = partial(c)?;
            FetchItem::BodySection {
                peek: name == "BODY.PEEK",
                section,
                partial,
            }
        }
        "BINARY" | "BINARY.PEEK" => {
            let peek = name == "BINARY.PEEK";
            match binary_or_section(c)? {
                Ok(part) => FetchItem::Binary {
                    peek,
                    part,
                    partial: partial(c)?,
                },
                Err(section) => FetchItem::BinarySection {
                    peek,
                    section,
                    partial: partial(c)?,
                },
            }
        }
        "BINARY.SIZE" => match binary_or_section(c)? {
            Ok(part) => FetchItem::BinarySize { part },
            Err(section) => FetchItem::BinarySectionSize { section },
        },
        _ => {
            let shown: String = name.chars().take(32).collect();
            return Err(format!("Unknown fetch item {shown}").into());
        }
    };
    items.push(item);
    Ok(())
}

/// `[` [section-spec] `]`.
fn section(c: &mut Cursor<'_>) -> PResult<Section> {
    c.expect(b'[', "Expected '[' to start section")?;
    let mut s = Section::default();
    if c.eat(b']') {
        return Ok(s);
    }
    if c.peek().is_some_and(|b| b.is_ascii_digit()) {
        s.part = part_path(c)?;
        if c.eat(b']') {
            return Ok(s);
        }
        c.expect(b'.', "Expected '.' or ']' after section part")?;
    }
    let text = c.word("Expected section text")?.to_ascii_uppercase();
    s.kind = match text.as_str() {
        "HEADER" => SectionKind::Header,
        "TEXT" => SectionKind::Text,
        "MIME" if !s.part.is_empty() => SectionKind::Mime,
        "MIME" => return Err("MIME needs a section part number".into()),
        "HEADER.FIELDS" | "HEADER.FIELDS.NOT" => {
            c.sp("Expected SP and header field list")?;
            let names = header_list(c)?;
            if text == "HEADER.FIELDS" {
                SectionKind::HeaderFields(names)
            } else {
                SectionKind::HeaderFieldsNot(names)
            }
        }
        _ => return Err("Invalid section text".into()),
    };
    c.expect(b']', "Expected ']' to end section")?;
    Ok(s)
}

fn part_path(c: &mut Cursor<'_>) -> PResult<Vec<u32>> {
    let mut part = vec![c.nz_number()?];
    // A '.' followed by a digit continues the path; otherwise it starts
    // the section text (HEADER, MIME, ...).
    while c.peek() == Some(b'.') && c.rest().get(1).is_some_and(u8::is_ascii_digit) {
        c.pos += 1;
        part.push(c.nz_number()?);
    }
    Ok(part)
}

fn header_list(c: &mut Cursor<'_>) -> PResult<Vec<String>> {
    c.expect(b'(', "Expected '(' to start header field list")?;
    let mut names = Vec::new();
    loop {
        let raw = c.astring()?;
        // RFC 5322 §3.6.8: field names are printable ASCII except ':'.
        if raw.is_empty() || !raw.iter().all(|&b| (33..=126).contains(&b) && b != b':') {
            return Err("Invalid header field name".into());
        }
        names.push(String::from_utf8_lossy(&raw).to_ascii_uppercase());
        if c.eat(b')') {
            return Ok(names);
        }
        c.sp("Expected SP or ')' in header field list")?;
    }
}

/// A section-binary (part numbers), or else a full BODY section (see
/// `FetchItem::BinarySection`).
fn binary_or_section(c: &mut Cursor<'_>) -> PResult<Result<Vec<u32>, Section>> {
    let start = c.pos;
    if let Ok(part) = binary_section(c) {
        return Ok(Ok(part));
    }
    c.pos = start;
    Ok(Err(section(c)?))
}

fn binary_section(c: &mut Cursor<'_>) -> PResult<Vec<u32>> {
    c.expect(b'[', "Expected '[' to start section")?;
    if c.eat(b']') {
        return Ok(Vec::new());
    }
    let part = part_path(c)?;
    c.expect(b']', "Expected ']' to end binary section")?;
    Ok(part)
}

/// `<origin.length>`; RFC 9051 requires the length (RFC 3501 did too).
fn partial(c: &mut Cursor<'_>) -> PResult<Option<Partial>> {
    if !c.eat(b'<') {
        return Ok(None);
    }
    let offset = c.number64()?;
    c.expect(b'.', "Expected '.' in partial range")?;
    let length = c.number64()?;
    if length == 0 {
        return Err("Partial length must not be zero".into());
    }
    c.expect(b'>', "Expected '>' to end partial range")?;
    Ok(Some(Partial { offset, length }))
}
