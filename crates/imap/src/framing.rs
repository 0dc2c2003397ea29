//! The sans-I/O framer: bytes in, events out.
//!
//! The session feeds whatever it read from the socket with
//! [`Framer::feed`] and then drains [`Framer::next_event`] until it
//! returns `None` (more input needed). A command is assembled line segment
//! by line segment; small literals are buffered into it (capped), APPEND
//! message literals are handed out in chunks as they arrive so they can
//! flow to the blob writer without ever being held whole.
//!
//! Event protocol for the session:
//! - [`Event::Command`]: a complete, parsed command.
//! - [`Event::Bad`]: a malformed or over-long command; answer
//!   `<tag> BAD <reason>` (`* BAD` without a tag) and carry on. The framer
//!   has already arranged to skip whatever the client still sends of it.
//! - [`Event::Fatal`]: answer `* BAD`/`<tag> BAD` and close: the stream
//!   cannot be resynchronised (a non-synchronising literal we will not
//!   read).
//! - [`Event::LiteralRequest`]: a literal was announced that needs a
//!   decision. Call [`Framer::accept_literal`] (and write the bytes it
//!   returns, the `+` continuation for a synchronising literal) or
//!   [`Framer::reject_literal`] (and write your tagged NO/BAD, e.g.
//!   `NO [TOOBIG]`, `NO [TRYCREATE]`). Until one is called the same
//!   request is returned again. Non-synchronising inline literals do not
//!   ask; synchronising inline ones do (accept unless you have a reason).
//! - For APPEND (`LiteralKind::Append`), after acceptance:
//!   [`Event::LiteralData`] chunks, then [`Event::LiteralEnd`], then either
//!   another `LiteralRequest` (MULTIAPPEND, `index` 1, 2, ...),
//!   [`Event::AppendEnd`] (command complete: commit and reply) or
//!   [`Event::Bad`] (the rest of the command was malformed: discard what
//!   was streamed, RFC 3502 makes MULTIAPPEND all or nothing).
//!
//! AUTHENTICATE continuation lines and IDLE's `DONE` are read with
//! [`Framer::raw_line`], between commands only.

use crate::command::{Command, DateTime, Flag};
use crate::parser::{self, AppendPos, ParseError, ParseOptions};

/// What the server sends to invite a synchronising literal.
pub const CONTINUE_LITERAL: &[u8] = b"+ Ready for literal data\r\n";

/// Framing limits. Every one is enforced and tested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FramerConfig {
    /// Longest line segment (command text between literals), and longest
    /// raw line (AUTHENTICATE responses, DONE).
    pub max_line: usize,
    /// Most octets buffered for one command: all its line segments plus
    /// its inline (non-APPEND-data) literals.
    pub max_command: usize,
    /// Largest literal buffered inside a command (LOGIN, SEARCH, ...).
    pub max_inline_literal: u64,
    /// RFC 7888 LITERAL-: non-synchronising literals over 4096 octets are
    /// refused (BAD and close). With `false` (LITERAL+), any size the other
    /// limits allow is accepted.
    pub literal_minus: bool,
}

impl Default for FramerConfig {
    fn default() -> FramerConfig {
        FramerConfig {
            max_line: 64 * 1024,
            max_command: 256 * 1024,
            max_inline_literal: 64 * 1024,
            literal_minus: false,
        }
    }
}

/// RFC 7888 §5: the LITERAL- ceiling for non-synchronising literals.
pub const LITERAL_MINUS_MAX: u64 = 4096;

#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    Command(Command),
    Bad(ParseError),
    Fatal(ParseError),
    LiteralRequest(LiteralRequest),
    LiteralData(&'a [u8]),
    LiteralEnd,
    AppendEnd { tag: String },
}

/// A literal waiting for the session's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiteralRequest {
    pub tag: String,
    pub size: u64,
    /// Synchronising (`{n}`): the client waits for our `+`. Otherwise
    /// (`{n+}`) the data is already on its way.
    pub sync: bool,
    pub kind: LiteralKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiteralKind {
    /// A small literal inside a command (buffered by the framer).
    Inline,
    /// An APPEND message, to be streamed to storage.
    Append(AppendStart),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendStart {
    /// Decoded and INBOX-folded.
    pub mailbox: String,
    pub flags: Vec<Flag>,
    pub date: Option<DateTime>,
    /// Sent as literal8 `~{n}` (RFC 3516): may contain NUL.
    pub binary: bool,
    /// 0 for the first message, 1.. for further MULTIAPPEND messages.
    pub index: usize,
}

/// A raw line (AUTHENTICATE, IDLE) longer than `max_line`; the rest of it
/// is skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line too long")]
pub struct LineTooLong;

#[derive(Debug)]
enum State {
    /// Reading a line segment into `cmd`.
    Line,
    Decide(LiteralRequest),
    /// Copying an accepted inline literal into `cmd`.
    Inline {
        remaining: u64,
    },
    /// Handing out an APPEND message literal.
    Stream {
        remaining: u64,
    },
    /// Skipping the literal of a rejected command, then the rest of it.
    Discard {
        remaining: u64,
    },
    /// Skipping to the end of the line; `tail` keeps the last octets to
    /// spot a trailing non-synchronising literal announcement.
    SkipLine {
        tail: Vec<u8>,
    },
    Closed,
}

#[derive(Debug)]
struct AppendCtx {
    tag: String,
    mailbox: String,
    /// Messages seen so far.
    count: usize,
}

#[derive(Debug)]
pub struct Framer {
    cfg: FramerConfig,
    opts: ParseOptions,
    input: Vec<u8>,
    ipos: usize,
    cmd: Vec<u8>,
    /// Start of the current line segment in `cmd`.
    seg_start: usize,
    state: State,
    /// Set between APPEND message literals.
    append: Option<AppendCtx>,
}

/// A literal announcement at the end of a line segment.
struct Announce {
    /// Offset of `{` or `~` in the segment.
    start: usize,
    size: u64,
    sync: bool,
    binary: bool,
}

const TAIL_KEEP: usize = 32;
/// Enough of a line to find its tag in.
const TAG_PEEK: usize = 128;

impl Framer {
    pub fn new(cfg: FramerConfig) -> Framer {
        Framer {
            cfg,
            opts: ParseOptions::default(),
            input: Vec::new(),
            ipos: 0,
            cmd: Vec::new(),
            seg_start: 0,
            state: State::Line,
            append: None,
        }
    }

    /// Switches mailbox-name decoding to UTF-8 (after ENABLE IMAP4rev2 or
    /// UTF8=ACCEPT). Takes effect from the next command parsed.
    pub fn set_utf8(&mut self, utf8: bool) {
        self.opts.utf8 = utf8;
    }

    pub fn options(&self) -> ParseOptions {
        self.opts
    }

    pub fn config(&self) -> &FramerConfig {
        &self.cfg
    }

    /// Adds input. Call when `next_event` returned `None`; the framer
    /// never holds more than one read's worth beyond its limits.
    pub fn feed(&mut self, data: &[u8]) {
        if self.ipos > 0 {
            self.input.drain(..self.ipos);
            self.ipos = 0;
        }
        self.input.extend_from_slice(data);
    }

    /// Octets received but not yet consumed.
    pub fn buffered(&self) -> usize {
        self.input.len() - self.ipos
    }

    /// True when no command is partly read (a safe point for STARTTLS,
    /// raw lines, and deciding whether the client pipelined data).
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Line) && self.cmd.is_empty() && self.append.is_none()
    }

    /// Takes any buffered but unconsumed input (e.g. to detect and refuse
    /// plaintext pipelined after STARTTLS, RFC 9051 §6.2.1).
    pub fn take_buffered(&mut self) -> Vec<u8> {
        let rest = self.input.split_off(self.ipos);
        self.input.clear();
        self.ipos = 0;
        rest
    }

    /// Accepts the pending literal. Returns the continuation to send for a
    /// synchronising literal, `None` for a non-synchronising one.
    pub fn accept_literal(&mut self) -> Option<&'static [u8]> {
        let State::Decide(req) = std::mem::replace(&mut self.state, State::Line) else {
            return None;
        };
        match req.kind {
            LiteralKind::Inline => {
                self.cmd.extend_from_slice(b"\r\n");
                self.state = State::Inline { remaining: req.size };
            }
            LiteralKind::Append(_) => {
                self.cmd.clear();
                self.seg_start = 0;
                self.state = State::Stream { remaining: req.size };
            }
        }
        req.sync.then_some(CONTINUE_LITERAL)
    }

    /// Refuses the pending literal; the session sends its tagged reply.
    /// A synchronising literal will not be sent by the client; a
    /// non-synchronising one is read and thrown away with the rest of the
    /// command.
    pub fn reject_literal(&mut self) {
        let State::Decide(req) = std::mem::replace(&mut self.state, State::Line) else {
            return;
        };
        self.reset_command();
        if !req.sync {
            self.state = State::Discard { remaining: req.size };
        }
    }

    /// Reads one raw line (without its CRLF) when no command is in
    /// progress: AUTHENTICATE responses, IDLE's DONE. `None`: more input
    /// needed (or a command is in progress).
    pub fn raw_line(&mut self) -> Option<Result<Vec<u8>, LineTooLong>> {
        if matches!(self.state, State::SkipLine { .. }) && self.cmd.is_empty() && self.append.is_none() {
            // Still skipping an over-long raw line (raw lines carry no
            // literals, so the end of the line is the end of it).
            let avail = &self.input[self.ipos..];
            match avail.iter().position(|&b| b == b'\n') {
                None => {
                    self.ipos = self.input.len();
                    return None;
                }
                Some(i) => {
                    self.ipos += i + 1;
                    self.state = State::Line;
                }
            }
        }
        if !self.is_idle() {
            return None;
        }
        let avail = &self.input[self.ipos..];
        match avail.iter().position(|&b| b == b'\n') {
            Some(i) if i <= self.cfg.max_line + 1 => {
                let mut line = avail[..i].to_vec();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.ipos += i + 1;
                Some(Ok(line))
            }
            Some(i) => {
                self.ipos += i + 1;
                Some(Err(LineTooLong))
            }
            None if avail.len() > self.cfg.max_line + 1 => {
                self.ipos = self.input.len();
                self.state = State::SkipLine { tail: Vec::new() };
                Some(Err(LineTooLong))
            }
            None => None,
        }
    }

    pub fn next_event(&mut self) -> Option<Event<'_>> {
        loop {
            match &mut self.state {
                State::Closed => return None,
                State::Decide(req) => return Some(Event::LiteralRequest(req.clone())),
                State::Inline { remaining } => {
                    let avail = self.input.len() - self.ipos;
                    let n = (*remaining).min(avail as u64) as usize;
                    self.cmd.extend_from_slice(&self.input[self.ipos..self.ipos + n]);
                    self.ipos += n;
                    *remaining -= n as u64;
                    if *remaining > 0 {
                        return None;
                    }
                    self.seg_start = self.cmd.len();
                    self.state = State::Line;
                }
                State::Stream { remaining } => {
                    if *remaining == 0 {
                        self.state = State::Line;
                        return Some(Event::LiteralEnd);
                    }
                    let avail = self.input.len() - self.ipos;
                    if avail == 0 {
                        return None;
                    }
                    let n = (*remaining).min(avail as u64) as usize;
                    *remaining -= n as u64;
                    let start = self.ipos;
                    self.ipos += n;
                    return Some(Event::LiteralData(&self.input[start..start + n]));
                }
                State::Discard { remaining } => {
                    let avail = self.input.len() - self.ipos;
                    let n = (*remaining).min(avail as u64) as usize;
                    self.ipos += n;
                    *remaining -= n as u64;
                    if *remaining > 0 {
                        return None;
                    }
                    self.state = State::SkipLine { tail: Vec::new() };
                }
                State::SkipLine { tail } => {
                    let avail = &self.input[self.ipos..];
                    match avail.iter().position(|&b| b == b'\n') {
                        None => {
                            tail.extend_from_slice(avail);
                            let cut = tail.len().saturating_sub(TAIL_KEEP);
                            tail.drain(..cut);
                            self.ipos = self.input.len();
                            return None;
                        }
                        Some(i) => {
                            tail.extend_from_slice(&avail[..i]);
                            self.ipos += i + 1;
                            if tail.last() == Some(&b'\r') {
                                tail.pop();
                            }
                            self.state = match find_announce(tail) {
                                Some(a) if !a.sync => State::Discard { remaining: a.size },
                                _ => State::Line,
                            };
                        }
                    }
                }
                State::Line => {
                    if let Some(ev) = self.read_line() {
                        return Some(ev);
                    }
                    if matches!(self.state, State::Line) {
                        return None;
                    }
                }
            }
        }
    }

    fn reset_command(&mut self) {
        self.cmd.clear();
        self.seg_start = 0;
        self.append = None;
    }

    /// Reads (the rest of) a line segment. Returns an event, or `None` with
    /// the state changed (continue) or unchanged (need input).
    fn read_line(&mut self) -> Option<Event<'static>> {
        let avail = &self.input[self.ipos..];
        let nl = avail.iter().position(|&b| b == b'\n');
        let take = nl.unwrap_or(avail.len());
        let seg_len = self.cmd.len() - self.seg_start + take;
        if seg_len > self.cfg.max_line + 1 || self.cmd.len() + take > self.cfg.max_command + 1 {
            // Over-long: answer now, skip the rest without buffering it.
            let tag = match &self.append {
                Some(a) => Some(a.tag.clone()),
                None => {
                    let mut head = self.cmd[..self.cmd.len().min(TAG_PEEK)].to_vec();
                    head.extend_from_slice(&avail[..take.min(TAG_PEEK)]);
                    parser::peek_tag(&head)
                }
            };
            let mut tail = self.cmd[self.cmd.len().saturating_sub(TAIL_KEEP)..].to_vec();
            tail.extend_from_slice(&avail[take.saturating_sub(TAIL_KEEP)..take]);
            self.reset_command();
            match nl {
                Some(i) => {
                    self.ipos += i + 1;
                    if tail.last() == Some(&b'\r') {
                        tail.pop();
                    }
                    self.state = match find_announce(&tail) {
                        Some(a) if !a.sync => State::Discard { remaining: a.size },
                        _ => State::Line,
                    };
                }
                None => {
                    self.ipos = self.input.len();
                    self.state = State::SkipLine { tail };
                }
            }
            return Some(Event::Bad(ParseError::new(tag, "Command line too long")));
        }
        self.cmd.extend_from_slice(&avail[..take]);
        let Some(i) = nl else {
            self.ipos = self.input.len();
            return None;
        };
        self.ipos += i + 1;
        // Only the segment's own CR: the octet before may end a literal.
        if self.cmd.len() > self.seg_start && self.cmd.last() == Some(&b'\r') {
            self.cmd.pop();
        }
        let seg_start = self.seg_start;
        let announce = find_announce(&self.cmd[seg_start..]);
        if let Some(ctx) = &self.append {
            return Some(self.after_append_message(ctx.tag.clone(), announce));
        }
        let Some(a) = announce else {
            // A complete command.
            let result = parser::parse_framed(&self.cmd, self.opts);
            self.reset_command();
            return Some(match result {
                Ok(cmd) => Event::Command(cmd),
                Err(e) => Event::Bad(e),
            });
        };
        let header_at = seg_start + a.start;
        let pos = parser::append_position(&self.cmd[..header_at], self.opts);
        match pos {
            Ok(AppendPos::Message(head)) => {
                self.append = Some(AppendCtx {
                    tag: head.tag.clone(),
                    mailbox: head.mailbox.clone(),
                    count: 1,
                });
                if let Some(ev) = self.minus_check(&a, Some(head.tag.clone())) {
                    return Some(ev);
                }
                self.state = State::Decide(LiteralRequest {
                    tag: head.tag,
                    size: a.size,
                    sync: a.sync,
                    kind: LiteralKind::Append(AppendStart {
                        mailbox: head.mailbox,
                        flags: head.flags,
                        date: head.date,
                        binary: a.binary,
                        index: 0,
                    }),
                });
                None
            }
            Ok(AppendPos::Inline | AppendPos::NotAppend) => {
                let tag = parser::peek_tag(&self.cmd);
                if a.binary {
                    return Some(self.refuse(&a, tag, "literal8 is only allowed for APPEND data"));
                }
                if let Some(ev) = self.minus_check(&a, tag.clone()) {
                    return Some(ev);
                }
                let total = (self.cmd.len() as u64).saturating_add(a.size);
                if a.size > self.cfg.max_inline_literal || total > self.cfg.max_command as u64 {
                    return Some(self.refuse(&a, tag, "Literal too large"));
                }
                if a.sync {
                    self.state = State::Decide(LiteralRequest {
                        tag: tag.unwrap_or_default(),
                        size: a.size,
                        sync: true,
                        kind: LiteralKind::Inline,
                    });
                } else {
                    self.cmd.extend_from_slice(b"\r\n");
                    self.state = State::Inline { remaining: a.size };
                }
                None
            }
            Err(e) => Some(self.refuse_err(&a, e)),
        }
    }

    /// The segment after an APPEND message literal: end, next message, or
    /// garbage.
    fn after_append_message(&mut self, tag: String, announce: Option<Announce>) -> Event<'static> {
        let seg = &self.cmd[self.seg_start..];
        let (text, follows) = match &announce {
            Some(a) => (&seg[..a.start], true),
            None => (seg, false),
        };
        match parser::append_next(text, follows) {
            Ok(None) => {
                self.reset_command();
                Event::AppendEnd { tag }
            }
            Ok(Some((flags, date))) => {
                let Some(a) = announce else {
                    // append_next only returns a message when a literal follows.
                    self.reset_command();
                    return Event::Bad(ParseError::new(Some(tag), "Expected literal"));
                };
                if let Some(ev) = self.minus_check(&a, Some(tag.clone())) {
                    return ev;
                }
                let (mailbox, index) = match self.append.as_mut() {
                    Some(ctx) => {
                        ctx.count += 1;
                        (ctx.mailbox.clone(), ctx.count - 1)
                    }
                    None => (String::new(), 0),
                };
                self.state = State::Decide(LiteralRequest {
                    tag,
                    size: a.size,
                    sync: a.sync,
                    kind: LiteralKind::Append(AppendStart {
                        mailbox,
                        flags,
                        date,
                        binary: a.binary,
                        index,
                    }),
                });
                // Not a real event: the caller loops and returns the request.
                self.next_pending()
            }
            Err(reason) => match announce {
                Some(a) => self.refuse(&a, Some(tag), reason),
                None => {
                    self.reset_command();
                    Event::Bad(ParseError::new(Some(tag), reason))
                }
            },
        }
    }

    fn next_pending(&self) -> Event<'static> {
        match &self.state {
            State::Decide(req) => Event::LiteralRequest(req.clone()),
            _ => Event::LiteralEnd,
        }
    }

    /// RFC 7888 §5: with LITERAL-, a non-synchronising literal over 4096
    /// octets is a BAD, and we cannot tell where the command ends.
    fn minus_check(&mut self, a: &Announce, tag: Option<String>) -> Option<Event<'static>> {
        if !a.sync && self.cfg.literal_minus && a.size > LITERAL_MINUS_MAX {
            self.reset_command();
            self.state = State::Closed;
            return Some(Event::Fatal(ParseError::new(
                tag,
                "Non-synchronizing literal larger than 4096 octets (LITERAL-)",
            )));
        }
        None
    }

    /// Refuses a literal we will not buffer. A synchronising one simply is
    /// not invited; a non-synchronising one over the limits ends the
    /// connection (reading it would be the memory blow-up the limit is
    /// for, and skipping it blind is guesswork).
    fn refuse(&mut self, a: &Announce, tag: Option<String>, reason: impl Into<String>) -> Event<'static> {
        self.reset_command();
        if a.sync {
            self.state = State::Line;
            Event::Bad(ParseError::new(tag, reason))
        } else {
            self.state = State::Closed;
            Event::Fatal(ParseError::new(tag, reason))
        }
    }

    /// A malformed command ending in a literal announcement: BAD; a
    /// non-synchronising literal is skipped with the rest of the command.
    fn refuse_err(&mut self, a: &Announce, e: ParseError) -> Event<'static> {
        self.reset_command();
        self.state = if a.sync {
            State::Line
        } else {
            State::Discard { remaining: a.size }
        };
        Event::Bad(e)
    }
}

/// Finds `{n}`, `{n+}` or `~{n}` ending `seg`, outside a quoted string.
fn find_announce(seg: &[u8]) -> Option<Announce> {
    if seg.last() != Some(&b'}') {
        return None;
    }
    let open = seg.iter().rposition(|&b| b == b'{')?;
    let inner = &seg[open + 1..seg.len() - 1];
    let (digits, sync) = match inner.strip_suffix(b"+") {
        Some(d) => (d, false),
        None => (inner, true),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Inside an unterminated quoted string, `{5}` is just text.
    let mut in_quote = false;
    let mut i = 0;
    while i < open {
        match seg[i] {
            b'\\' if in_quote => i += 1,
            b'"' => in_quote = !in_quote,
            _ => {}
        }
        i += 1;
    }
    if in_quote {
        return None;
    }
    let binary = open > 0 && seg[open - 1] == b'~';
    // An unrepresentable size is simply "too large".
    let size = parser::lexer::parse_num(digits).unwrap_or(u64::MAX);
    Some(Announce {
        start: if binary { open - 1 } else { open },
        size,
        sync,
        binary,
    })
}

#[cfg(test)]
#[path = "framing/tests.rs"]
mod tests;
