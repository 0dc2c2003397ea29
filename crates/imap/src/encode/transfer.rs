//! Undoing Content-Transfer-Encoding for BINARY fetches (RFC 3516, RFC
//! 2045 §6). Decoding is incremental: feed the part's octets as they are
//! read from the blob.

use super::base64::MimeDecoder;

/// An encoding we do not know: answer `NO [UNKNOWN-CTE]` (RFC 3516 §4.3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown content-transfer-encoding {0}")]
pub struct UnknownCte(pub String);

pub fn is_identity(encoding: &str) -> bool {
    ["7bit", "8bit", "binary", ""]
        .iter()
        .any(|e| encoding.eq_ignore_ascii_case(e))
}

#[derive(Debug)]
pub enum Decoder {
    Identity,
    Base64(MimeDecoder),
    QuotedPrintable(QpDecoder),
}

impl Decoder {
    pub fn new(encoding: &str) -> Result<Decoder, UnknownCte> {
        let e = encoding.trim();
        if is_identity(e) {
            Ok(Decoder::Identity)
        } else if e.eq_ignore_ascii_case("base64") {
            Ok(Decoder::Base64(MimeDecoder::new()))
        } else if e.eq_ignore_ascii_case("quoted-printable") {
            Ok(Decoder::QuotedPrintable(QpDecoder::default()))
        } else {
            Err(UnknownCte(e.to_string()))
        }
    }

    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        match self {
            Decoder::Identity => out.extend_from_slice(input),
            Decoder::Base64(d) => d.feed(input, out),
            Decoder::QuotedPrintable(d) => d.feed(input, out),
        }
    }

    /// Flushes anything held back at the end of input.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if let Decoder::QuotedPrintable(d) = self {
            d.finish(out);
        }
    }
}

/// Decodes a whole body at once.
pub fn decode(encoding: &str, input: &[u8]) -> Result<Vec<u8>, UnknownCte> {
    let mut d = Decoder::new(encoding)?;
    let mut out = Vec::with_capacity(input.len());
    d.feed(input, &mut out);
    d.finish(&mut out);
    Ok(out)
}

/// Quoted-printable (RFC 2045 §6.7), lenient: a malformed `=XY` is kept
/// as is, trailing whitespace before a line break is dropped, `=` at the
/// end of a line joins lines.
#[derive(Debug, Default)]
pub struct QpDecoder {
    /// Undecided octets carried over between feeds (a partial `=X`, or
    /// whitespace that may turn out to end a line).
    pending: Vec<u8>,
}

impl QpDecoder {
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut buf = std::mem::take(&mut self.pending);
        buf.extend_from_slice(input);
        let mut i = 0;
        while i < buf.len() {
            let b = buf[i];
            match b {
                b'=' => {
                    let rest = &buf[i + 1..];
                    if rest.len() < 2 {
                        // Could be "=\r\n", "=\n" or "=XY": wait for more.
                        if rest == b"\n" {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    if rest.starts_with(b"\r\n") {
                        i += 3;
                    } else if rest[0] == b'\n' {
                        i += 2;
                    } else if let (Some(h), Some(l)) = (hex(rest[0]), hex(rest[1])) {
                        out.push(h << 4 | l);
                        i += 3;
                    } else if matches!(rest[0], b' ' | b'\t') {
                        // "=  \r\n": a soft break with trailing whitespace.
                        let ws = rest.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
                        match rest.get(ws) {
                            None => break,
                            Some(b'\r') | Some(b'\n') => {
                                let nl = if rest.get(ws) == Some(&b'\r') { 2 } else { 1 };
                                if rest.len() < ws + nl {
                                    break;
                                }
                                i += 1 + ws + nl;
                            }
                            Some(_) => {
                                out.push(b'=');
                                i += 1;
                            }
                        }
                    } else {
                        out.push(b'=');
                        i += 1;
                    }
                }
                b' ' | b'\t' => {
                    let ws = buf[i..].iter().take_while(|&&c| c == b' ' || c == b'\t').count();
                    match buf.get(i + ws) {
                        // Whitespace at the end of what we have: undecided.
                        None => break,
                        Some(b'\r') | Some(b'\n') => i += ws,
                        Some(_) => {
                            out.extend_from_slice(&buf[i..i + ws]);
                            i += ws;
                        }
                    }
                }
                _ => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        self.pending = buf[i..].to_vec();
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) {
        let rest = std::mem::take(&mut self.pending);
        // Trailing whitespace at the very end is dropped like at a line end;
        // a dangling "=" or "=X" is kept literally.
        if !rest.iter().all(|&b| b == b' ' || b == b'\t') {
            out.extend_from_slice(&rest);
        }
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qp_chunked(input: &[u8], chunk: usize) -> Vec<u8> {
        let mut d = QpDecoder::default();
        let mut out = Vec::new();
        for c in input.chunks(chunk) {
            d.feed(c, &mut out);
        }
        d.finish(&mut out);
        out
    }

    #[test]
    fn quoted_printable() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"caf=C3=A9", "caf\u{e9}".as_bytes()),
            (b"soft=\r\nbreak", b"softbreak"),
            (b"soft=\nbreak", b"softbreak"),
            (b"trail   \r\nx", b"trail\r\nx"),
            (b"a=3db", b"a=b"),
            (b"bad=ZZ", b"bad=ZZ"),
            (b"end=", b"end="),
            (b"ws=  \r\nnext", b"wsnext"),
            (b"tab\there", b"tab\there"),
            (b"x \t", b"x"),
        ];
        for (input, want) in cases {
            for chunk in [1, 2, 3, 100] {
                assert_eq!(
                    qp_chunked(input, chunk),
                    *want,
                    "{:?} chunk {chunk}",
                    String::from_utf8_lossy(input)
                );
            }
        }
    }

    #[test]
    fn decoders() {
        assert_eq!(decode("BASE64", b"aGVs\r\nbG8=\r\n").as_deref(), Ok(&b"hello"[..]));
        assert_eq!(decode("8bit", b"\xff\0").as_deref(), Ok(&b"\xff\0"[..]));
        assert_eq!(decode("x-uuencode", b""), Err(UnknownCte("x-uuencode".into())));
    }
}
