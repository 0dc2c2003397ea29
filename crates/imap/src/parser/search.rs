//! SEARCH (RFC 9051 §6.4.4, RFC 3501 §6.4.4, ESEARCH RFC 4731,
//! SEARCHRES RFC 5182, WITHIN RFC 5032, CONDSTORE RFC 7162 MODSEQ).

use super::MAX_NESTING;
use super::lexer::{Cursor, PResult};
use crate::command::{SearchCommand, SearchKey, SearchReturn};

pub(super) fn search(c: &mut Cursor<'_>, uid: bool) -> PResult<SearchCommand> {
    let mut return_opts = None;
    let mut charset = None;
    c.sp("Expected SP and search criteria")?;
    if c.eat_keyword("RETURN") {
        c.sp("Expected SP after RETURN")?;
        return_opts = Some(returns(c)?);
        c.sp("Expected SP and search criteria")?;
    }
    if c.eat_keyword("CHARSET") {
        c.sp("Expected SP and charset name")?;
        let name = match c.peek() {
            Some(b'"') => c.quoted()?.into_owned(),
            _ => c.atom("Expected charset name")?.to_vec(),
        };
        charset = Some(String::from_utf8_lossy(&name).to_ascii_uppercase());
        c.sp("Expected SP and search criteria")?;
    }
    let mut keys = vec![key(c, 0)?];
    while c.eat(b' ') {
        keys.push(key(c, 0)?);
    }
    let criteria = if keys.len() == 1 {
        keys.remove(0)
    } else {
        SearchKey::And(keys)
    };
    Ok(SearchCommand {
        uid,
        charset,
        criteria,
        return_opts,
    })
}

fn returns(c: &mut Cursor<'_>) -> PResult<Vec<SearchReturn>> {
    c.expect(b'(', "Expected '(' after RETURN")?;
    let mut opts = Vec::new();
    if c.eat(b')') {
        return Ok(opts);
    }
    loop {
        let w = c.word("Expected search return option")?.to_ascii_uppercase();
        let opt = match w.as_str() {
            "MIN" => SearchReturn::Min,
            "MAX" => SearchReturn::Max,
            "COUNT" => SearchReturn::Count,
            "ALL" => SearchReturn::All,
            "SAVE" => SearchReturn::Save,
            _ => return Err("Unknown search return option".into()),
        };
        if !opts.contains(&opt) {
            opts.push(opt);
        }
        if c.eat(b')') {
            return Ok(opts);
        }
        c.sp("Expected SP or ')' in search return options")?;
    }
}

fn text(c: &mut Cursor<'_>) -> PResult<String> {
    c.sp("Expected SP and search string")?;
    let s = c.astring()?;
    Ok(String::from_utf8_lossy(&s).into_owned())
}

fn key(c: &mut Cursor<'_>, depth: usize) -> PResult<SearchKey> {
    if depth > MAX_NESTING {
        return Err("Search criteria nested too deeply".into());
    }
    match c.peek() {
        Some(b'(') => {
            c.pos += 1;
            let mut keys = vec![key(c, depth + 1)?];
            loop {
                if c.eat(b')') {
                    break;
                }
                c.sp("Expected SP or ')' in search criteria")?;
                keys.push(key(c, depth + 1)?);
            }
            return Ok(SearchKey::And(keys));
        }
        Some(b) if b.is_ascii_digit() || b == b'*' || b == b'$' => {
            return Ok(SearchKey::SequenceSet(c.sequence_set()?));
        }
        _ => {}
    }
    let name = c.word("Expected search key")?.to_ascii_uppercase();
    Ok(match name.as_str() {
        "ALL" => SearchKey::All,
        "ANSWERED" => SearchKey::Answered,
        "DELETED" => SearchKey::Deleted,
        "DRAFT" => SearchKey::Draft,
        "FLAGGED" => SearchKey::Flagged,
        "NEW" => SearchKey::New,
        "OLD" => SearchKey::Old,
        "RECENT" => SearchKey::Recent,
        "SEEN" => SearchKey::Seen,
        "UNANSWERED" => SearchKey::Unanswered,
        "UNDELETED" => SearchKey::Undeleted,
        "UNDRAFT" => SearchKey::Undraft,
        "UNFLAGGED" => SearchKey::Unflagged,
        "UNSEEN" => SearchKey::Unseen,
        "BCC" => SearchKey::Bcc(text(c)?),
        "BODY" => SearchKey::Body(text(c)?),
        "CC" => SearchKey::Cc(text(c)?),
        "FROM" => SearchKey::From(text(c)?),
        "SUBJECT" => SearchKey::Subject(text(c)?),
        "TEXT" => SearchKey::Text(text(c)?),
        "TO" => SearchKey::To(text(c)?),
        "HEADER" => {
            let field = text(c)?;
            let value = text(c)?;
            SearchKey::Header(field, value)
        }
        "KEYWORD" | "UNKEYWORD" => {
            c.sp("Expected SP and keyword")?;
            let flag = c.atom_str("Expected keyword")?.to_string();
            if name == "KEYWORD" {
                SearchKey::Keyword(flag)
            } else {
                SearchKey::Unkeyword(flag)
            }
        }
        "BEFORE" | "ON" | "SINCE" | "SENTBEFORE" | "SENTON" | "SENTSINCE" => {
            c.sp("Expected SP and date")?;
            let d = c.date()?;
            match name.as_str() {
                "BEFORE" => SearchKey::Before(d),
                "ON" => SearchKey::On(d),
                "SINCE" => SearchKey::Since(d),
                "SENTBEFORE" => SearchKey::SentBefore(d),
                "SENTON" => SearchKey::SentOn(d),
                _ => SearchKey::SentSince(d),
            }
        }
        "LARGER" | "SMALLER" => {
            c.sp("Expected SP and size")?;
            let n = c.number64()?;
            if name == "LARGER" {
                SearchKey::Larger(n)
            } else {
                SearchKey::Smaller(n)
            }
        }
        "OLDER" | "YOUNGER" => {
            c.sp("Expected SP and interval")?;
            let n = u64::from(c.nz_number()?);
            if name == "OLDER" {
                SearchKey::Older(n)
            } else {
                SearchKey::Younger(n)
            }
        }
        "UID" => {
            c.sp("Expected SP and UID set")?;
            SearchKey::Uid(c.sequence_set()?)
        }
        "NOT" => {
            c.sp("Expected SP after NOT")?;
            SearchKey::Not(Box::new(key(c, depth + 1)?))
        }
        "OR" => {
            c.sp("Expected SP after OR")?;
            let a = key(c, depth + 1)?;
            c.sp("Expected SP and second OR criterion")?;
            let b = key(c, depth + 1)?;
            SearchKey::Or(Box::new(a), Box::new(b))
        }
        "MODSEQ" => {
            c.sp("Expected SP after MODSEQ")?;
            let mut entry = None;
            if c.peek() == Some(b'"') {
                let e = String::from_utf8_lossy(&c.quoted()?).into_owned();
                c.sp("Expected SP and entry type")?;
                let t = c.word("Expected entry type (priv, shared, all)")?.to_ascii_lowercase();
                if !matches!(t.as_str(), "priv" | "shared" | "all") {
                    return Err("Expected entry type (priv, shared, all)".into());
                }
                c.sp("Expected SP and mod-sequence")?;
                entry = Some((e, t));
            }
            SearchKey::ModSeq {
                entry,
                modseq: c.number64()?,
            }
        }
        _ => {
            let shown: String = name.chars().take(32).collect();
            return Err(format!("Unknown search key {shown}").into());
        }
    })
}
