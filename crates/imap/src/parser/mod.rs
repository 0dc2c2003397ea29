//! Command parser: one fully framed command (line segments with small
//! literals inlined, see `crate::framing`) → [`Command`].
//!
//! Every failure carries a reason fit for the text of a `BAD` reply and,
//! when one could be read, the tag to answer with.

mod append;
mod commands;
mod fetch;
pub(crate) mod lexer;
mod list;
mod search;

use std::borrow::Cow;

use crate::command::{Command, CommandBody};
use lexer::Cursor;

pub(crate) use append::{AppendPos, append_next, append_position};

/// How the session is currently speaking.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Mailbox names are UTF-8 (after `ENABLE IMAP4rev2` or `UTF8=ACCEPT`)
    /// instead of modified UTF-7.
    pub utf8: bool,
}

/// A command the parser rejects: answer `<tag> BAD <reason>` (or
/// `* BAD <reason>` when no tag could be read).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ParseError {
    pub tag: Option<String>,
    pub reason: String,
}

impl ParseError {
    pub(crate) fn new(tag: Option<String>, reason: impl Into<String>) -> ParseError {
        ParseError {
            tag,
            reason: reason.into(),
        }
    }
}

/// Nesting allowed in SEARCH keys (parentheses, NOT, OR) before the parser
/// refuses, so a hostile command cannot exhaust the stack.
pub const MAX_NESTING: usize = 64;

/// Parses one complete command (tests, tools; a connection uses
/// `crate::framing::Framer`). `input` is the command without its final
/// CRLF (one is tolerated), literals inlined as `{n}\r\n<octets>`.
pub fn parse_command(input: &[u8], opts: ParseOptions) -> Result<Command, ParseError> {
    // A CRLF right after `}` belongs to a literal ({0} at the very end).
    let input = match input.strip_suffix(b"\r\n") {
        Some(s) if !s.ends_with(b"}") => s,
        _ => input,
    };
    parse_framed(input, opts)
}

/// Parses a command exactly as the framer assembled it.
pub(crate) fn parse_framed(input: &[u8], opts: ParseOptions) -> Result<Command, ParseError> {
    let mut c = Cursor::new(input, opts.utf8);
    let tag = read_tag(&mut c).map_err(|e| ParseError::new(None, e))?;
    let body = (|| {
        if c.at_end() {
            return Err(Cow::from("Missing command"));
        }
        c.sp("Expected SP after tag")?;
        let body = parse_body(&mut c)?;
        if c.at_end() {
            Ok(body)
        } else {
            Err(Cow::from(format!(
                "Unexpected characters at end of {} command",
                body.name()
            )))
        }
    })();
    match body {
        Ok(body) => Ok(Command { tag, body }),
        Err(reason) => Err(ParseError::new(Some(tag), reason)),
    }
}

/// The tag at the start of `input`, if there is a syntactically valid one
/// (for answering a command that failed to frame).
pub fn peek_tag(input: &[u8]) -> Option<String> {
    let mut c = Cursor::new(input, true);
    read_tag(&mut c).ok()
}

/// RFC 9051 §9 `tag = 1*<any ASTRING-CHAR except "+">`, followed by SP
/// or the end of the line (anything else means there is no usable tag).
fn read_tag(c: &mut Cursor<'_>) -> Result<String, Cow<'static, str>> {
    let tag = c.take_while1(
        |b| crate::response::is_astring_char(b) && b != b'+',
        "Missing or invalid tag",
    )?;
    if !(c.at_end() || c.peek() == Some(b' ')) {
        return Err("Invalid character in tag".into());
    }
    // ASTRING-CHARs are ASCII.
    Ok(String::from_utf8_lossy(tag).into_owned())
}

fn parse_body(c: &mut Cursor<'_>) -> Result<CommandBody, Cow<'static, str>> {
    let name = c.word("Missing command name")?.to_ascii_uppercase();
    commands::dispatch(c, &name)
}

#[cfg(test)]
mod tests;
