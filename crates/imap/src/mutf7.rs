//! Modified UTF-7 (RFC 3501 §5.1.3): how IMAP4rev1 clients spell
//! non-ASCII mailbox names. IMAP4rev2 and UTF8=ACCEPT sessions use UTF-8.
//!
//! Printable US-ASCII stands for itself except `&`, which is `&-`; any
//! other run of characters is UTF-16BE in base64 with `,` for `/`, no
//! padding, between `&` and `-`.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid modified UTF-7 mailbox name")]
pub struct Mutf7Error;

fn is_direct(c: char) -> bool {
    (' '..='~').contains(&c) && c != '&'
}

/// Encodes a UTF-8 name as modified UTF-7.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    for c in name.chars() {
        if is_direct(c) || c == '&' {
            flush(&mut out, &mut pending);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut units = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush(&mut out, &mut pending);
    out
}

fn flush(out: &mut String, units: &mut Vec<u16>) {
    if units.is_empty() {
        return;
    }
    out.push('&');
    let bytes: Vec<u8> = units.iter().flat_map(|u| u.to_be_bytes()).collect();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize]));
        }
    }
    out.push('-');
    units.clear();
}

fn sextet(b: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == b).map(|p| p as u32)
}

/// Decodes a modified UTF-7 name. Rejects what RFC 3501 §5.1.3 forbids:
/// raw 8-bit or control octets, printable ASCII inside a base64 run,
/// bad base64, unpaired surrogates and non-zero padding bits.
pub fn decode(input: &[u8]) -> Result<String, Mutf7Error> {
    let mut out = String::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'&' {
            let end = input[i + 1..]
                .iter()
                .position(|&c| c == b'-')
                .map(|p| i + 1 + p)
                .ok_or(Mutf7Error)?;
            let run = &input[i + 1..end];
            if run.is_empty() {
                out.push('&');
            } else {
                decode_run(run, &mut out)?;
            }
            i = end + 1;
        } else if (0x20..=0x7e).contains(&b) {
            out.push(char::from(b));
            i += 1;
        } else {
            return Err(Mutf7Error);
        }
    }
    Ok(out)
}

fn decode_run(run: &[u8], out: &mut String) -> Result<(), Mutf7Error> {
    let mut bytes = Vec::with_capacity(run.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &c in run {
        acc = (acc << 6) | sextet(c).ok_or(Mutf7Error)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be zero padding, and fewer than one sextet's worth.
    if acc != 0 || bits >= 6 || bytes.len() % 2 != 0 {
        return Err(Mutf7Error);
    }
    let units: Vec<u16> = bytes.chunks(2).map(|p| u16::from_be_bytes([p[0], p[1]])).collect();
    let start = out.len();
    for c in char::decode_utf16(units) {
        let c = c.map_err(|_| Mutf7Error)?;
        out.push(c);
    }
    // A base64 run may not hold what could have been written directly.
    if out[start..].chars().any(|c| is_direct(c) || c == '&') {
        return Err(Mutf7Error);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3501_example() {
        // RFC 3501 §5.1.3: "~peter/mail/台北/日本語".
        let name = "~peter/mail/\u{53f0}\u{5317}/\u{65e5}\u{672c}\u{8a9e}";
        assert_eq!(encode(name), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
        assert_eq!(decode(b"~peter/mail/&U,BTFw-/&ZeVnLIqe-").as_deref(), Ok(name));
    }

    #[test]
    fn ampersand_and_ascii() {
        assert_eq!(encode("Tom & Jerry"), "Tom &- Jerry");
        assert_eq!(decode(b"Tom &- Jerry").as_deref(), Ok("Tom & Jerry"));
        assert_eq!(encode("INBOX"), "INBOX");
    }

    #[test]
    fn roundtrip_astral_and_mixed() {
        for s in [
            "Entw\u{fc}rfe",
            "\u{1F600} smile",
            "a\u{e9}b\u{e8}c",
            "Gesendete Objekte",
            "\u{e9}&\u{e9}",
        ] {
            assert_eq!(decode(encode(s).as_bytes()).as_deref(), Ok(s), "{s}");
        }
    }

    #[test]
    fn rejects_invalid() {
        for bad in [
            &b"&Jjo!"[..], // unterminated
            b"&U,BTF2-",   // leftover non-zero bits
            b"\xc3\xa9",   // raw 8-bit
            b"&AGE-",      // 'a' encoded
            b"&2D0-",      // lone surrogate
            b"&*-",        // not base64
            b"a\tb",       // control
        ] {
            assert!(decode(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
