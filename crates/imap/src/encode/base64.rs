//! Base64 (RFC 4648) for SASL exchanges and BINARY fetches.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn value(b: u8) -> Option<u32> {
    match b {
        b'A'..=b'Z' => Some(u32::from(b - b'A')),
        b'a'..=b'z' => Some(u32::from(b - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(b - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Strict decoding (SASL, RFC 4648 §4): padding required, no whitespace.
pub fn decode(input: &[u8]) -> Option<Vec<u8>> {
    if !input.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let chunks = input.len() / 4;
    for (i, q) in input.chunks(4).enumerate() {
        let pad = q.iter().rev().take_while(|&&b| b == b'=').count();
        if pad > 2 || (pad > 0 && i + 1 != chunks) {
            return None;
        }
        let mut n: u32 = 0;
        for &b in &q[..4 - pad] {
            n = (n << 6) | value(b)?;
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

pub fn encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Lenient, streaming decoding of a MIME body (RFC 2045 §6.8): characters
/// outside the alphabet (line breaks, stray junk) are skipped, decoding
/// stops at padding.
#[derive(Debug, Default)]
pub struct MimeDecoder {
    acc: u32,
    bits: u32,
    done: bool,
}

impl MimeDecoder {
    pub fn new() -> MimeDecoder {
        MimeDecoder::default()
    }

    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        for &b in input {
            if self.done {
                return;
            }
            if b == b'=' {
                self.done = true;
                return;
            }
            let Some(v) = value(b) else { continue };
            self.acc = (self.acc << 6) | v;
            self.bits += 6;
            if self.bits >= 8 {
                self.bits -= 8;
                out.push((self.acc >> self.bits) as u8);
                self.acc &= (1 << self.bits) - 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        for s in [
            &b""[..],
            b"f",
            b"fo",
            b"foo",
            b"foob",
            b"fooba",
            b"foobar",
            b"\0user\0pass",
        ] {
            assert_eq!(decode(encode(s).as_bytes()).as_deref(), Some(s));
        }
        assert_eq!(encode(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn strict_rejects() {
        assert_eq!(decode(b"Zm9"), None);
        assert_eq!(decode(b"Zm=v"), None);
        assert_eq!(decode(b"Zg==Zg=="), None);
        assert_eq!(decode(b"Zm9v\r\n"), None);
    }

    #[test]
    fn mime_lenient() {
        let mut d = MimeDecoder::new();
        let mut out = Vec::new();
        d.feed(b"Zm9v\r\nYm", &mut out);
        d.feed(b"Fy\r\n", &mut out);
        assert_eq!(out, b"foobar");
    }
}
