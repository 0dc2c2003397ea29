//! Small wire-format helpers for the session's own responses: strings,
//! mailbox names and flag lists (RFC 9051 §4.3, §9).
use mailroom_store::Flags;

/// Appends `s` as a quoted string when it can be one, else as a literal.
/// Non-ASCII is allowed in a quoted string only when `utf8` (IMAP4rev2,
/// RFC 9051 §4.3); otherwise it goes in a literal.
pub fn string(out: &mut Vec<u8>, s: &[u8], utf8: bool) {
    let quotable = s.len() < 1024
        && s.iter()
            .all(|&b| b != b'\r' && b != b'\n' && b != 0 && (utf8 || b < 0x80));
    if quotable {
        out.push(b'"');
        for &b in s {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(format!("{{{}}}\r\n", s.len()).as_bytes());
        out.extend_from_slice(s);
    }
}

/// `NIL` or a string.
pub fn nstring(out: &mut Vec<u8>, s: Option<&[u8]>, utf8: bool) {
    match s {
        Some(s) => string(out, s, utf8),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// A mailbox name as the client expects it: UTF-8 for IMAP4rev2 sessions,
/// modified UTF-7 otherwise (RFC 3501 §5.1.3).
pub fn mailbox(out: &mut Vec<u8>, name: &str, utf8: bool) {
    if utf8 {
        string(out, name.as_bytes(), true);
    } else {
        string(out, crate::mutf7::encode(name).as_bytes(), false);
    }
}

/// `(\Seen \Flagged $Label)`, with `\Recent` for rev1 sessions.
pub fn flag_list(out: &mut Vec<u8>, flags: &Flags, recent: bool) {
    out.push(b'(');
    let mut first = true;
    for name in flags.names() {
        if !first {
            out.push(b' ');
        }
        out.extend_from_slice(name.as_bytes());
        first = false;
    }
    if recent {
        if !first {
            out.push(b' ');
        }
        out.extend_from_slice(b"\\Recent");
    }
    out.push(b')');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings() {
        let mut o = Vec::new();
        string(&mut o, b"a \"b\" \\", false);
        assert_eq!(o, b"\"a \\\"b\\\" \\\\\"");
        let mut o = Vec::new();
        string(&mut o, b"a\r\nb", false);
        assert_eq!(o, b"{4}\r\na\r\nb");
        let mut o = Vec::new();
        mailbox(&mut o, "Entw\u{fc}rfe", false);
        assert_eq!(o, b"\"Entw&APw-rfe\"");
        let mut o = Vec::new();
        mailbox(&mut o, "Entw\u{fc}rfe", true);
        assert_eq!(o, "\"Entw\u{fc}rfe\"".as_bytes());
    }

    #[test]
    fn flags() {
        let mut o = Vec::new();
        flag_list(&mut o, &Flags::from_names(&["\\Seen", "$Work"]), true);
        assert_eq!(o, b"(\\Seen $Work \\Recent)");
    }
}
