//! Sans-I/O decoder for the DATA phase (RFC 5321 §4.1.1.4, §4.5.2).
//!
//! Only `<CRLF>.<CRLF>` ends the data (the first line counts as following a
//! CRLF, since the DATA command line ended with one). A bare CR or bare LF
//! is never a line end (§2.3.8): it can therefore never end the message —
//! the SMTP smuggling class (`\n.\n`, `\n.\r\n`, `\r.\r`) — and the message
//! that contains one is refused with a 5xx once its real end is reached.
//! We refuse rather than normalise so that no two parsers can disagree
//! about what the message was.

/// What went wrong with the message; the data is still read to its end so
/// the session stays in step with the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DataFlaws {
    pub bare_cr_or_lf: bool,
    pub line_too_long: bool,
    pub too_big: bool,
}

impl DataFlaws {
    pub fn any(&self) -> bool {
        self.bare_cr_or_lf || self.line_too_long || self.too_big
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a line (after CRLF).
    LineStart,
    /// Saw "." at the start of a line.
    Dot,
    /// Saw ".\r" at the start of a line.
    DotCr,
    /// Inside a line.
    Text,
    /// Saw "\r" inside a line.
    Cr,
}

/// Turns the raw DATA stream into the message (dot-unstuffed), stopping at
/// the end-of-data marker.
#[derive(Debug)]
pub struct DataDecoder {
    state: State,
    line_len: usize,
    max_line: usize,
    max_size: u64,
    /// Octets of message produced so far.
    size: u64,
    pub flaws: DataFlaws,
}

impl DataDecoder {
    /// `max_line` counts the CRLF; `max_size` is the largest message kept.
    pub fn new(max_line: usize, max_size: u64) -> DataDecoder {
        DataDecoder {
            state: State::LineStart,
            line_len: 0,
            max_line,
            max_size,
            size: 0,
            flaws: DataFlaws::default(),
        }
    }

    fn emit(&mut self, out: &mut Vec<u8>, bytes: &[u8]) {
        self.line_len += bytes.len();
        if self.line_len > self.max_line {
            self.flaws.line_too_long = true;
        }
        // Counted over the whole message: `out` may be drained between feeds.
        self.size += bytes.len() as u64;
        if self.size > self.max_size {
            self.flaws.too_big = true;
        }
        if !self.flaws.too_big {
            out.extend_from_slice(bytes);
        }
    }

    fn text_byte(&mut self, out: &mut Vec<u8>, b: u8) {
        match b {
            b'\r' => self.state = State::Cr,
            b'\n' => {
                self.flaws.bare_cr_or_lf = true;
                self.emit(out, b"\n");
                self.state = State::Text;
            }
            _ => {
                self.emit(out, &[b]);
                self.state = State::Text;
            }
        }
    }

    /// Consumes input, appending the message octets to `out` (which the
    /// caller may drain between calls); returns how many bytes were used and whether the
    /// end-of-data marker was reached (bytes after it are left unconsumed:
    /// they are the next pipelined command).
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> (usize, bool) {
        for (i, &b) in input.iter().enumerate() {
            match self.state {
                State::LineStart => {
                    if b == b'.' {
                        self.state = State::Dot;
                    } else {
                        self.text_byte(out, b);
                    }
                }
                State::Dot => {
                    if b == b'\r' {
                        self.state = State::DotCr;
                    } else {
                        // §4.5.2: a leading dot is removed; the rest of the line stays.
                        self.line_len += 1;
                        self.text_byte(out, b);
                    }
                }
                State::DotCr => {
                    if b == b'\n' {
                        self.state = State::LineStart;
                        return (i + 1, true);
                    }
                    // ".\r" then something else: a bare CR.
                    self.flaws.bare_cr_or_lf = true;
                    self.line_len += 1;
                    self.emit(out, b"\r");
                    self.text_byte(out, b);
                }
                State::Text => self.text_byte(out, b),
                State::Cr => {
                    if b == b'\n' {
                        self.emit(out, b"\r\n");
                        self.line_len = 0;
                        self.state = State::LineStart;
                    } else {
                        self.flaws.bare_cr_or_lf = true;
                        self.emit(out, b"\r");
                        self.text_byte(out, b);
                    }
                }
            }
        }
        (input.len(), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(input: &[u8]) -> (Vec<u8>, usize, bool, DataFlaws) {
        let mut d = DataDecoder::new(1000, 1 << 20);
        let mut out = Vec::new();
        let (n, end) = d.feed(input, &mut out);
        (out, n, end, d.flaws)
    }

    #[test]
    fn simple_and_dot_unstuffing() {
        let (out, n, end, flaws) = decode(b"a\r\n..b\r\n.\r\nQUIT\r\n");
        assert_eq!(out, b"a\r\n.b\r\n");
        assert!(end);
        assert_eq!(n, 11);
        assert!(!flaws.any());
    }

    #[test]
    fn empty_message() {
        let (out, n, end, _) = decode(b".\r\n");
        assert!(out.is_empty() && end && n == 3);
    }

    #[test]
    fn byte_at_a_time() {
        let input = b"x\r\n..\r\n.\r\n";
        let mut d = DataDecoder::new(1000, 100);
        let mut out = Vec::new();
        for (i, b) in input.iter().enumerate() {
            let (n, end) = d.feed(std::slice::from_ref(b), &mut out);
            assert_eq!(n, 1);
            assert_eq!(end, i == input.len() - 1);
        }
        assert_eq!(out, b"x\r\n.\r\n");
    }

    #[test]
    fn smuggling_variants_do_not_end_data() {
        for v in [
            &b"a\n.\nMAIL FROM:<x@y>\r\n"[..],
            b"a\n.\r\nMAIL",
            b"a\r.\rMAIL",
            b"a\r\n.\nMAIL",
            b"a\r\n.\rMAIL",
        ] {
            let (_, n, end, flaws) = decode(v);
            assert!(!end, "{v:?}");
            assert_eq!(n, v.len());
            assert!(flaws.bare_cr_or_lf, "{v:?}");
        }
    }

    #[test]
    fn limits() {
        let mut long = vec![b'x'; 999];
        long.extend_from_slice(b"\r\n.\r\n");
        let (_, _, end, flaws) = decode(&long);
        assert!(end && flaws.line_too_long);
        let mut ok = vec![b'x'; 998];
        ok.extend_from_slice(b"\r\n.\r\n");
        assert!(!decode(&ok).3.any());
        let mut d = DataDecoder::new(1000, 4);
        let mut out = Vec::new();
        assert!(d.feed(b"12345\r\n.\r\n", &mut out).1);
        assert!(d.flaws.too_big);
    }
}
