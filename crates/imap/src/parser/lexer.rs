//! The byte-level grammar pieces of RFC 9051 §9 shared by all commands:
//! atoms, strings, literals, numbers, dates, sequence sets, flags.

use std::borrow::Cow;

use crate::command::{Date, DateTime, Flag};
use crate::mutf7;
use crate::response::{is_astring_char, is_atom_char};
use crate::sequence::{SeqBound, SeqRange, SequenceSet};

/// An error reason; the parser adds the tag.
pub(crate) type PResult<T> = Result<T, Cow<'static, str>>;

pub(crate) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A cursor over one whole command: line segments with literals inlined
/// as `{n}\r\n<n octets>` (the framer always writes a canonical CRLF).
pub(crate) struct Cursor<'a> {
    pub buf: &'a [u8],
    pub pos: usize,
    /// Mailbox names are UTF-8 (IMAP4rev2 / UTF8=ACCEPT) rather than
    /// modified UTF-7.
    pub utf8: bool,
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8], utf8: bool) -> Cursor<'a> {
        Cursor { buf, pos: 0, utf8 }
    }

    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    pub fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn expect(&mut self, b: u8, reason: &'static str) -> PResult<()> {
        if self.eat(b) { Ok(()) } else { Err(reason.into()) }
    }

    pub fn sp(&mut self, reason: &'static str) -> PResult<()> {
        self.expect(b' ', reason)
    }

    /// Consumes `word` if the input continues with it, ignoring case, and
    /// the word is not merely a prefix of a longer token.
    pub fn eat_keyword(&mut self, word: &str) -> bool {
        let end = self.pos + word.len();
        match self.buf.get(self.pos..end) {
            Some(s) if s.eq_ignore_ascii_case(word.as_bytes()) => {
                let next = self.buf.get(end).copied();
                if next.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_') {
                    return false;
                }
                self.pos = end;
                true
            }
            _ => false,
        }
    }

    /// Consumes `s` exactly (ignoring ASCII case), no token boundary check.
    pub fn eat_str(&mut self, s: &str) -> bool {
        let end = self.pos + s.len();
        match self.buf.get(self.pos..end) {
            Some(x) if x.eq_ignore_ascii_case(s.as_bytes()) => {
                self.pos = end;
                true
            }
            _ => false,
        }
    }

    /// A run of bytes matching `pred`, at least one.
    pub fn take_while1(&mut self, pred: impl Fn(u8) -> bool, reason: &'static str) -> PResult<&'a [u8]> {
        let start = self.pos;
        while self.peek().is_some_and(&pred) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(reason.into());
        }
        Ok(&self.buf[start..self.pos])
    }

    /// A command keyword or similar token: letters, digits, `.`, `-`, `_`
    /// — stops before `[`, `(`, `<` which atoms would include.
    pub fn word(&mut self, reason: &'static str) -> PResult<&'a str> {
        let w = self.take_while1(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'), reason)?;
        // Only ASCII was accepted, so this cannot fail.
        std::str::from_utf8(w).map_err(|_| reason.into())
    }

    pub fn atom(&mut self, reason: &'static str) -> PResult<&'a [u8]> {
        self.take_while1(is_atom_char, reason)
    }

    pub fn atom_str(&mut self, reason: &'static str) -> PResult<&'a str> {
        let a = self.atom(reason)?;
        std::str::from_utf8(a).map_err(|_| reason.into())
    }

    pub fn number(&mut self) -> PResult<u32> {
        let digits = self.take_while1(|b| b.is_ascii_digit(), "Expected a number")?;
        parse_num(digits)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| "Number too large".into())
    }

    pub fn number64(&mut self) -> PResult<u64> {
        let digits = self.take_while1(|b| b.is_ascii_digit(), "Expected a number")?;
        // RFC 9051 number64 stops at 2^63-1.
        parse_num(digits)
            .filter(|&n| n <= i64::MAX as u64)
            .ok_or_else(|| "Number too large".into())
    }

    pub fn nz_number(&mut self) -> PResult<u32> {
        match self.number()? {
            0 => Err("Zero is not allowed here".into()),
            n => Ok(n),
        }
    }

    /// `"..."` with `\"` and `\\` escapes; 8-bit allowed (rev2 utf8-quoted),
    /// CR, LF and NUL never.
    pub fn quoted(&mut self) -> PResult<Cow<'a, [u8]>> {
        self.expect(b'"', "Expected quoted string")?;
        let start = self.pos;
        let mut owned: Option<Vec<u8>> = None;
        loop {
            let Some(b) = self.peek() else {
                return Err("Unterminated quoted string".into());
            };
            match b {
                b'"' => {
                    let s = &self.buf[start..self.pos];
                    self.pos += 1;
                    return Ok(match owned {
                        Some(v) => Cow::Owned(v),
                        None => Cow::Borrowed(s),
                    });
                }
                b'\\' => {
                    let v = owned.get_or_insert_with(|| self.buf[start..self.pos].to_vec());
                    match self.buf.get(self.pos + 1) {
                        Some(&c @ (b'"' | b'\\')) => v.push(c),
                        _ => return Err("Invalid escape in quoted string".into()),
                    }
                    self.pos += 2;
                }
                b'\r' | b'\n' | 0 => return Err("Invalid character in quoted string".into()),
                _ => {
                    if let Some(v) = owned.as_mut() {
                        v.push(b);
                    }
                    self.pos += 1;
                }
            }
        }
    }

    /// `{n}` / `{n+}` CRLF octets; with `binary`, also `~{n}` (literal8).
    /// Returns the octets and whether it was a literal8.
    pub fn literal(&mut self, binary_ok: bool) -> PResult<(&'a [u8], bool)> {
        let binary = self.eat(b'~');
        if binary && !binary_ok {
            return Err("literal8 is only allowed in APPEND".into());
        }
        self.expect(b'{', "Expected literal")?;
        let n = self.number64()?;
        self.eat(b'+');
        self.expect(b'}', "Expected '}' in literal")?;
        if !self.eat_str("\r\n") {
            return Err("Expected CRLF after literal size".into());
        }
        let len = usize::try_from(n).map_err(|_| Cow::from("Literal too large"))?;
        let end = self
            .pos
            .checked_add(len)
            .ok_or_else(|| Cow::from("Literal too large"))?;
        let data = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| Cow::from("Literal data missing"))?;
        if !binary && data.contains(&0) {
            return Err("NUL octet in literal".into());
        }
        self.pos = end;
        Ok((data, binary))
    }

    pub fn string(&mut self) -> PResult<Cow<'a, [u8]>> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(b'{') => Ok(Cow::Borrowed(self.literal(false)?.0)),
            _ => Err("Expected string".into()),
        }
    }

    pub fn astring(&mut self) -> PResult<Cow<'a, [u8]>> {
        match self.peek() {
            Some(b'"' | b'{') => self.string(),
            _ => Ok(Cow::Borrowed(self.take_while1(is_astring_char, "Expected astring")?)),
        }
    }

    /// `NIL` or a string.
    pub fn nstring(&mut self) -> PResult<Option<Cow<'a, [u8]>>> {
        if self.eat_keyword("NIL") {
            Ok(None)
        } else {
            self.string().map(Some)
        }
    }

    /// Decodes raw mailbox octets: UTF-8 in rev2/UTF8 mode, else modified
    /// UTF-7 (RFC 3501 §5.1.3).
    pub fn decode_mailbox(&self, raw: &[u8]) -> PResult<String> {
        if self.utf8 {
            String::from_utf8(raw.to_vec()).map_err(|_| "Mailbox name is not valid UTF-8".into())
        } else {
            mutf7::decode(raw).map_err(|_| "Mailbox name is not valid modified UTF-7".into())
        }
    }

    /// A mailbox name; `INBOX` in any case is INBOX (RFC 9051 §5.1).
    pub fn mailbox(&mut self) -> PResult<String> {
        let raw = self.astring()?;
        let name = self.decode_mailbox(&raw)?;
        Ok(if name.eq_ignore_ascii_case("INBOX") {
            "INBOX".to_string()
        } else {
            name
        })
    }

    /// LIST/LSUB reference name: a mailbox, decoded but not INBOX-folded.
    pub fn list_reference(&mut self) -> PResult<String> {
        let raw = self.astring()?;
        self.decode_mailbox(&raw)
    }

    /// LIST's `list-mailbox`: list-chars (atom chars, `%`, `*`, `]`) or a
    /// string. Not INBOX-folded: it is a pattern.
    pub fn list_mailbox(&mut self) -> PResult<String> {
        let raw = match self.peek() {
            Some(b'"' | b'{') => self.string()?,
            _ => Cow::Borrowed(self.take_while1(
                |b| is_astring_char(b) || b == b'%' || b == b'*',
                "Expected mailbox pattern",
            )?),
        };
        self.decode_mailbox(&raw)
    }

    /// sequence-set, or `$` (RFC 5182).
    pub fn sequence_set(&mut self) -> PResult<SequenceSet> {
        if self.eat(b'$') {
            return Ok(SequenceSet::Saved);
        }
        let mut ranges = Vec::new();
        loop {
            let start = self.seq_number()?;
            let end = if self.eat(b':') { self.seq_number()? } else { start };
            ranges.push(SeqRange { start, end });
            if !self.eat(b',') {
                break;
            }
        }
        Ok(SequenceSet::Ranges(ranges))
    }

    fn seq_number(&mut self) -> PResult<SeqBound> {
        if self.eat(b'*') {
            return Ok(SeqBound::Star);
        }
        match self.peek() {
            Some(b) if b.is_ascii_digit() => {}
            _ => return Err("Invalid sequence set".into()),
        }
        match self.number() {
            Ok(0) => Err("Invalid sequence set: 0 is not a valid message number".into()),
            Ok(n) => Ok(SeqBound::Num(n)),
            Err(e) => Err(e),
        }
    }

    /// A flag: `\Word` (system or extension) or a keyword atom.
    pub fn flag(&mut self) -> PResult<Flag> {
        if self.eat(b'\\') {
            let name = self.atom_str("Expected flag name after '\\'")?;
            return Ok(canonical_flag(name));
        }
        Ok(self.atom_str("Expected flag")?.to_string())
    }

    /// `(flag *(SP flag))`, possibly empty.
    pub fn flag_list(&mut self) -> PResult<Vec<Flag>> {
        self.expect(b'(', "Expected '(' to start flag list")?;
        let mut flags = Vec::new();
        if self.eat(b')') {
            return Ok(flags);
        }
        loop {
            flags.push(self.flag()?);
            if self.eat(b')') {
                return Ok(flags);
            }
            self.sp("Expected SP or ')' in flag list")?;
        }
    }

    /// SEARCH `date`: `1-Feb-1994`, optionally in double quotes.
    pub fn date(&mut self) -> PResult<Date> {
        let quoted = self.eat(b'"');
        let d = self.date_text()?;
        if quoted {
            self.expect(b'"', "Expected '\"' after date")?;
        }
        Ok(d)
    }

    fn date_text(&mut self) -> PResult<Date> {
        let day = self.take_while1(|b| b.is_ascii_digit(), "Expected date (d-Mon-yyyy)")?;
        if day.len() > 2 {
            return Err("Invalid day in date".into());
        }
        self.expect(b'-', "Expected '-' in date")?;
        let month = self.month()?;
        self.expect(b'-', "Expected '-' in date")?;
        let year = self.fixed_digits(4, "Expected 4-digit year in date")?;
        make_date(year as i32, month, parse_num(day).unwrap_or(0) as u8)
    }

    fn month(&mut self) -> PResult<u8> {
        let m = self
            .buf
            .get(self.pos..self.pos + 3)
            .ok_or_else(|| Cow::from("Expected month in date"))?;
        let idx = MONTHS
            .iter()
            .position(|name| name.as_bytes().eq_ignore_ascii_case(m))
            .ok_or_else(|| Cow::from("Invalid month in date"))?;
        self.pos += 3;
        Ok(idx as u8 + 1)
    }

    fn fixed_digits(&mut self, n: usize, reason: &'static str) -> PResult<u32> {
        let d = self.buf.get(self.pos..self.pos + n).ok_or_else(|| Cow::from(reason))?;
        if !d.iter().all(u8::is_ascii_digit) {
            return Err(reason.into());
        }
        self.pos += n;
        Ok(parse_num(d).unwrap_or(0) as u32)
    }

    /// APPEND `date-time`: `"17-Jul-1996 02:44:25 -0700"` (the day may be
    /// space-padded or, leniently, a single digit).
    pub fn date_time(&mut self) -> PResult<DateTime> {
        const BAD: &str = "Invalid date-time";
        self.expect(b'"', "Expected '\"' to start date-time")?;
        self.eat(b' ');
        let date = self.date_text().map_err(|_| Cow::from(BAD))?;
        self.sp(BAD)?;
        let h = self.fixed_digits(2, BAD)?;
        self.expect(b':', BAD)?;
        let m = self.fixed_digits(2, BAD)?;
        self.expect(b':', BAD)?;
        let s = self.fixed_digits(2, BAD)?;
        self.sp(BAD)?;
        let sign: i32 = match self.peek() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Err(BAD.into()),
        };
        self.pos += 1;
        let zh = self.fixed_digits(2, BAD)? as i32;
        let zm = self.fixed_digits(2, BAD)? as i32;
        self.expect(b'"', "Expected '\"' to end date-time")?;
        if h > 23 || m > 59 || s > 60 || zm > 59 {
            return Err(BAD.into());
        }
        let offset_minutes = sign * (zh * 60 + zm);
        let local = date.days_since_epoch() * 86_400 + i64::from(h * 3600 + m * 60 + s);
        Ok(DateTime {
            timestamp: local - i64::from(offset_minutes) * 60,
            offset_minutes,
        })
    }

    /// Skips one parenthesised group (balanced, strings respected): used to
    /// step over unknown extension parameters.
    pub fn skip_group(&mut self) -> PResult<()> {
        self.expect(b'(', "Expected '('")?;
        let mut depth = 1usize;
        while depth > 0 {
            match self.peek() {
                None => return Err("Unbalanced parentheses".into()),
                Some(b'(') => {
                    depth += 1;
                    self.pos += 1;
                }
                Some(b')') => {
                    depth -= 1;
                    self.pos += 1;
                }
                Some(b'"' | b'{') => {
                    self.string()?;
                }
                Some(_) => self.pos += 1,
            }
        }
        Ok(())
    }
}

pub(crate) fn parse_num(digits: &[u8]) -> Option<u64> {
    let mut n: u64 = 0;
    for &d in digits {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(n)
}

fn make_date(year: i32, month: u8, day: u8) -> PResult<Date> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day == 0 || day > days {
        return Err("Invalid day in date".into());
    }
    Ok(Date { year, month, day })
}

/// `\seen` → `\Seen`; unknown `\Ext` flags keep their spelling.
pub(crate) fn canonical_flag(name: &str) -> Flag {
    for sys in ["Answered", "Flagged", "Deleted", "Seen", "Draft", "Recent"] {
        if name.eq_ignore_ascii_case(sys) {
            return format!("\\{sys}");
        }
    }
    format!("\\{name}")
}

/// RFC 6154 special-use attributes in canonical case; others as given.
pub(crate) fn canonical_use(name: &str) -> String {
    for known in ["All", "Archive", "Drafts", "Flagged", "Junk", "Sent", "Trash"] {
        if name.eq_ignore_ascii_case(known) {
            return format!("\\{known}");
        }
    }
    format!("\\{name}")
}
