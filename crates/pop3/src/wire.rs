//! Turning a stored message into a POP3 multi-line response body, in
//! chunks (sans-I/O): bare LF becomes CRLF, lines starting with "." get
//! another one (RFC 1939 §3 byte-stuffing), TOP stops after the header
//! and n body lines (RFC 1939 §7), and the response ends with ".CRLF".
//!
//! The same encoder, with the stuffing left out of the count, gives the
//! size reported by STAT and LIST (RFC 1939 §11), so the two always agree.

/// Streaming encoder; feed it the message in any chunking, then `finish`.
#[derive(Debug, Clone)]
pub struct Encoder {
    /// A CR ended the previous chunk: whether it starts a CRLF is not
    /// known yet.
    pending_cr: bool,
    /// Bytes of the current line have been emitted.
    line_has_content: bool,
    top: Option<Top>,
    done: bool,
    /// Octets emitted so far, not counting stuffed dots.
    octets: u64,
}

#[derive(Debug, Clone, Copy)]
enum Top {
    Header { body_lines: u64 },
    Body { remaining: u64 },
}

impl Encoder {
    /// Encodes the whole message (RETR).
    pub fn full() -> Self {
        Self::with_top(None)
    }

    /// Encodes the header, the blank line and `body_lines` body lines (TOP).
    pub fn top(body_lines: u64) -> Self {
        Self::with_top(Some(Top::Header { body_lines }))
    }

    fn with_top(top: Option<Top>) -> Self {
        Self {
            pending_cr: false,
            line_has_content: false,
            top,
            done: false,
            octets: 0,
        }
    }

    /// True once TOP has sent all it should: the rest need not be read.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The message size as the client counts it: what was emitted, minus
    /// stuffing and the terminating ".CRLF".
    pub fn octets(&self) -> u64 {
        self.octets
    }

    /// Appends the encoding of `input` to `out`.
    pub fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        if self.done || input.is_empty() {
            return;
        }
        if self.pending_cr {
            self.pending_cr = false;
            if input[0] == b'\n' {
                self.end_line(out);
                input = &input[1..];
            } else {
                // A bare CR is ordinary line content.
                self.content(b"\r", out);
            }
        }
        while !self.done && !input.is_empty() {
            match input.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    let line = &input[..i];
                    self.content(line.strip_suffix(b"\r").unwrap_or(line), out);
                    self.end_line(out);
                    input = &input[i + 1..];
                }
                None => {
                    let (rest, cr) = match input.strip_suffix(b"\r") {
                        Some(r) => (r, true),
                        None => (input, false),
                    };
                    self.content(rest, out);
                    self.pending_cr = cr;
                    input = &[];
                }
            }
        }
    }

    /// Completes the response: ends an unterminated last line with CRLF
    /// (the client receives it, so it is counted) and appends ".CRLF".
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.done {
            if self.pending_cr {
                self.pending_cr = false;
                self.content(b"\r", out);
            }
            if self.line_has_content {
                self.end_line(out);
            }
            self.done = true;
        }
        out.extend_from_slice(b".\r\n");
    }

    fn content(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        let Some(&first) = bytes.first() else {
            return;
        };
        if !self.line_has_content && first == b'.' {
            out.push(b'.');
        }
        out.extend_from_slice(bytes);
        self.octets += bytes.len() as u64;
        self.line_has_content = true;
    }

    fn end_line(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\r\n");
        self.octets += 2;
        let was_empty = !self.line_has_content;
        self.line_has_content = false;
        self.top = match self.top {
            Some(Top::Header { body_lines }) if was_empty => {
                self.done = body_lines == 0;
                Some(Top::Body { remaining: body_lines })
            }
            Some(Top::Body { remaining }) => {
                let remaining = remaining.saturating_sub(1);
                self.done = remaining == 0;
                Some(Top::Body { remaining })
            }
            other => other,
        };
    }
}

/// The size of a message as POP3 reports it, computed from its chunks.
#[derive(Debug)]
pub struct SizeCounter {
    encoder: Encoder,
    scratch: Vec<u8>,
}

impl Default for SizeCounter {
    fn default() -> Self {
        Self {
            encoder: Encoder::full(),
            scratch: Vec::new(),
        }
    }
}

impl SizeCounter {
    pub fn feed(&mut self, chunk: &[u8]) {
        self.scratch.clear();
        self.encoder.feed(chunk, &mut self.scratch);
    }

    pub fn finish(mut self) -> u64 {
        self.scratch.clear();
        self.encoder.finish(&mut self.scratch);
        self.encoder.octets()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(enc: Encoder, input: &[u8]) -> (Vec<u8>, u64) {
        let mut e = enc;
        let mut out = Vec::new();
        e.feed(input, &mut out);
        e.finish(&mut out);
        (out, e.octets())
    }

    /// Every way of cutting the input in two gives the same output.
    fn check_split_invariance(enc: &Encoder, input: &[u8]) {
        let (whole, octets) = encode(enc.clone(), input);
        for cut in 0..=input.len() {
            for cut2 in cut..=input.len() {
                let mut e = enc.clone();
                let mut out = Vec::new();
                e.feed(&input[..cut], &mut out);
                e.feed(&input[cut..cut2], &mut out);
                e.feed(&input[cut2..], &mut out);
                e.finish(&mut out);
                assert_eq!(out, whole, "cuts {cut},{cut2} of {input:?}");
                assert_eq!(e.octets(), octets);
            }
        }
    }

    /// What a POP3 client does with a multi-line body: strip the final
    /// ".CRLF" and one leading dot from every line starting with one.
    fn unstuff(wire: &[u8]) -> Vec<u8> {
        let body = wire.strip_suffix(b".\r\n").unwrap();
        let mut out = Vec::new();
        for line in body.split_inclusive(|&b| b == b'\n') {
            out.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
        }
        out
    }

    #[test]
    fn crlf_message_passes_through() {
        let msg = b"Subject: hi\r\n\r\nline 1\r\nline 2\r\n";
        let (out, octets) = encode(Encoder::full(), msg);
        assert_eq!(out, [&msg[..], b".\r\n"].concat());
        assert_eq!(octets, msg.len() as u64);
    }

    #[test]
    fn bare_lf_becomes_crlf_and_is_counted() {
        let (out, octets) = encode(Encoder::full(), b"A: b\n\nx\ny\n");
        assert_eq!(out, b"A: b\r\n\r\nx\r\ny\r\n.\r\n");
        assert_eq!(octets, 14);
    }

    #[test]
    fn dots_are_stuffed_but_not_counted() {
        let msg = b"A: b\r\n\r\n.\r\n..x\r\nmid.dle\r\n.";
        let (out, octets) = encode(Encoder::full(), msg);
        assert_eq!(out, b"A: b\r\n\r\n..\r\n...x\r\nmid.dle\r\n..\r\n.\r\n");
        // The unterminated last line gains a CRLF, which the client does see.
        assert_eq!(octets, msg.len() as u64 + 2);
        assert_eq!(unstuff(&out).len() as u64, octets);
    }

    #[test]
    fn bare_cr_is_content() {
        let (out, _) = encode(Encoder::full(), b"a\rb\r\n\r");
        assert_eq!(out, b"a\rb\r\n\r\r\n.\r\n");
        let (out, _) = encode(Encoder::full(), b"\r.x\n");
        assert_eq!(out, b"\r.x\r\n.\r\n");
    }

    #[test]
    fn empty_message() {
        let (out, octets) = encode(Encoder::full(), b"");
        assert_eq!(out, b".\r\n");
        assert_eq!(octets, 0);
    }

    #[test]
    fn top_sends_header_blank_line_and_n_lines() {
        let msg = b"A: 1\r\nB: 2\r\n\r\nl1\r\n.l2\r\nl3\r\n";
        assert_eq!(encode(Encoder::top(0), msg).0, b"A: 1\r\nB: 2\r\n\r\n.\r\n");
        assert_eq!(
            encode(Encoder::top(2), msg).0,
            b"A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\n.\r\n"
        );
        assert_eq!(
            encode(Encoder::top(99), msg).0,
            b"A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n"
        );
        // No body at all: everything is header.
        assert_eq!(encode(Encoder::top(0), b"A: 1\nB: 2").0, b"A: 1\r\nB: 2\r\n.\r\n");
        // A blank line made of a bare LF also ends the header.
        assert_eq!(encode(Encoder::top(1), b"A: 1\n\nx\ny\n").0, b"A: 1\r\n\r\nx\r\n.\r\n");
        let mut e = Encoder::top(0);
        let mut out = Vec::new();
        e.feed(msg, &mut out);
        assert!(e.is_done());
    }

    #[test]
    fn chunking_never_matters() {
        let samples: &[&[u8]] = &[
            b"A: b\r\n\r\n.\r\n..x\r\nmid.dle\r\n.",
            b"A\n\n.\n\r\r\n.\r\r",
            b"H: v\r\n\r\n\r\n.\r\nz",
            b"\r\n\r\n",
            b"..\r\r\n\n.",
        ];
        for s in samples {
            check_split_invariance(&Encoder::full(), s);
            for n in 0..4 {
                check_split_invariance(&Encoder::top(n), s);
            }
        }
    }

    #[test]
    fn size_counter_matches_what_the_client_receives() {
        let samples: &[&[u8]] = &[
            b"A: b\r\n\r\n.\r\n..x\r\nmid.dle\r\n.",
            b"A\n\n.\n\r\r\n.\r\r",
            b"",
            b"x",
        ];
        for s in samples {
            let mut c = SizeCounter::default();
            for chunk in s.chunks(3) {
                c.feed(chunk);
            }
            let (wire, _) = encode(Encoder::full(), s);
            assert_eq!(c.finish(), unstuff(&wire).len() as u64, "{s:?}");
        }
    }
}
