//! APPEND (RFC 9051 §6.3.12, MULTIAPPEND RFC 3502, BINARY RFC 3516).
//!
//! On a connection APPEND is not parsed as one piece: the framer asks,
//! each time a literal is announced, whether it is a message (to be
//! streamed) and with which options, via [`append_position`] and
//! [`append_next`].

use std::borrow::Cow;

use super::lexer::{Cursor, PResult};
use super::{ParseError, ParseOptions, read_tag};
use crate::command::{AppendMessage, CommandBody, DateTime, Flag};

/// What a literal announced at the end of a command prefix is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AppendPos {
    /// Not an APPEND command: an ordinary, buffered literal.
    NotAppend,
    /// Inside APPEND but not message data (the mailbox name).
    Inline,
    /// The first message's data.
    Message(AppendHead),
}

/// What precedes one message literal of an APPEND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppendHead {
    pub tag: String,
    pub mailbox: String,
    pub flags: Vec<Flag>,
    pub date: Option<DateTime>,
}

/// Classifies a literal announced right after `prefix` (the command so
/// far, up to but excluding the `{n}` / `~{n}` header).
pub(crate) fn append_position(prefix: &[u8], opts: ParseOptions) -> Result<AppendPos, ParseError> {
    let mut c = Cursor::new(prefix, opts.utf8);
    let Ok(tag) = read_tag(&mut c) else {
        return Ok(AppendPos::NotAppend);
    };
    if !(c.eat(b' ') && c.eat_keyword("APPEND")) {
        return Ok(AppendPos::NotAppend);
    }
    let err = |r: Cow<'static, str>| ParseError::new(Some(tag.clone()), r);
    c.sp("Expected SP and mailbox name").map_err(err)?;
    if c.at_end() {
        return Ok(AppendPos::Inline);
    }
    let mailbox = c.mailbox().map_err(err)?;
    c.sp("Expected SP after mailbox name").map_err(err)?;
    let (flags, date) = message_opts(&mut c).map_err(err)?;
    if !c.at_end() {
        return Err(err("Expected flags, date-time or literal in APPEND".into()));
    }
    Ok(AppendPos::Message(AppendHead {
        tag,
        mailbox,
        flags,
        date,
    }))
}

/// Flags and date-time preceding one message literal.
pub(crate) type MessageOpts = (Vec<Flag>, Option<DateTime>);

/// After a message literal: `segment` is what followed it, up to the
/// next literal header (`literal_follows`) or the end of the line.
/// `Ok(None)`: the command is complete. `Ok(Some(..))`: another message
/// (MULTIAPPEND) with these flags and date.
pub(crate) fn append_next(segment: &[u8], literal_follows: bool) -> Result<Option<MessageOpts>, Cow<'static, str>> {
    if segment.is_empty() && !literal_follows {
        return Ok(None);
    }
    let mut c = Cursor::new(segment, true);
    c.sp("Expected SP or CRLF after message literal")?;
    let opts = message_opts(&mut c)?;
    if !c.at_end() || !literal_follows {
        return Err("Expected flags, date-time or literal in APPEND".into());
    }
    Ok(Some(opts))
}

/// `[flag-list SP] [date-time SP]`, each followed by its SP.
fn message_opts(c: &mut Cursor<'_>) -> PResult<MessageOpts> {
    let mut flags = Vec::new();
    let mut date = None;
    if c.peek() == Some(b'(') {
        flags = c.flag_list()?;
        c.sp("Expected SP after APPEND flags")?;
    }
    if c.peek() == Some(b'"') {
        date = Some(c.date_time()?);
        c.sp("Expected SP after APPEND date-time")?;
    }
    Ok((flags, date))
}

/// APPEND in a fully buffered command (tests and tools).
pub(super) fn append_full(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    c.sp("Expected SP and mailbox name")?;
    let mailbox = c.mailbox()?;
    let mut messages = Vec::new();
    while c.eat(b' ') {
        let (flags, date) = message_opts(c)?;
        if !matches!(c.peek(), Some(b'{' | b'~')) {
            return Err("Expected literal with message data".into());
        }
        let (data, binary) = c.literal(true)?;
        messages.push(AppendMessage {
            flags,
            date,
            binary,
            data: data.to_vec(),
        });
    }
    if messages.is_empty() {
        return Err("Expected SP and message literal".into());
    }
    Ok(CommandBody::Append { mailbox, messages })
}
