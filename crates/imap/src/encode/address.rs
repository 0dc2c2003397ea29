//! RFC 5322 address lists read straight from the raw header, for ENVELOPE.
//!
//! The store's parse decodes display names (RFC 2047), but ENVELOPE carries
//! header strings as they are in the message: the client decodes them
//! (RFC 9051 §7.5.2; Dovecot, Cyrus and the RFC examples all send
//! `=?...?=` words untouched). So the address fields are re-read from the
//! header bytes here. The parser is lenient the way mail readers are:
//! whatever it cannot place still yields an address rather than an error.

use mailroom_store::parse::{EnvAddress, Envelope};

/// The unfolded value of the first `name:` field in a raw header block,
/// or None when the header has no such field.
pub fn header_field(header: &[u8], name: &str) -> Option<Vec<u8>> {
    let mut lines = header.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let field = trim(&line[..colon]);
        if line[0] == b' ' || line[0] == b'\t' || !field.eq_ignore_ascii_case(name.as_bytes()) {
            continue;
        }
        let mut value = line[colon + 1..].to_vec();
        while let Some(next) = lines.peek() {
            if next.first().is_some_and(|&b| b == b' ' || b == b'\t') {
                let next = next.strip_suffix(b"\r").unwrap_or(next);
                value.extend_from_slice(next);
                lines.next();
            } else {
                break;
            }
        }
        return Some(trim(&value).to_vec());
    }
    None
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &s[start..end]
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// An atom (dots included) or a quoted string, already unquoted.
    Word(Vec<u8>),
    Special(u8),
    Comment(Vec<u8>),
}

fn tokenize(v: &[u8]) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let c = v[i];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'"' => {
                let mut w = Vec::new();
                i += 1;
                while i < v.len() && v[i] != b'"' {
                    if v[i] == b'\\' && i + 1 < v.len() {
                        i += 1;
                    }
                    w.push(v[i]);
                    i += 1;
                }
                i += 1;
                out.push(Tok::Word(w));
            }
            b'(' => {
                let mut depth = 0usize;
                let mut w = Vec::new();
                while i < v.len() {
                    match v[i] {
                        b'\\' if i + 1 < v.len() => {
                            i += 1;
                            w.push(v[i]);
                        }
                        b'(' => {
                            if depth > 0 {
                                w.push(b'(');
                            }
                            depth += 1;
                        }
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                            w.push(b')');
                        }
                        b => w.push(b),
                    }
                    i += 1;
                }
                out.push(Tok::Comment(w));
            }
            b'[' => {
                // Domain literal: kept whole, brackets included.
                let end = v[i..].iter().position(|&b| b == b']').map_or(v.len(), |p| i + p + 1);
                out.push(Tok::Word(v[i..end].to_vec()));
                i = end;
            }
            b'<' | b'>' | b',' | b':' | b';' | b'@' => {
                out.push(Tok::Special(c));
                i += 1;
            }
            _ => {
                let start = i;
                while i < v.len() && !b" \t\r\n\"(<>,:;@[".contains(&v[i]) {
                    i += 1;
                }
                out.push(Tok::Word(v[start..i].to_vec()));
            }
        }
    }
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Parses an address-list header value into ENVELOPE address structures:
/// groups become a start marker (mailbox = group name, host NIL) and an
/// end marker (all NIL), per RFC 9051 §7.5.2.
pub fn parse_address_list(value: &[u8]) -> Vec<EnvAddress> {
    let toks = tokenize(value);
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_group = false;
    while i < toks.len() {
        // Collect a phrase (display name or local part) up to a delimiter.
        let mut words: Vec<Vec<u8>> = Vec::new();
        let mut comment: Option<Vec<u8>> = None;
        while let Some(t) = toks.get(i) {
            match t {
                Tok::Word(w) => words.push(w.clone()),
                Tok::Comment(c) => {
                    if comment.is_none() && !c.is_empty() {
                        comment = Some(c.clone());
                    }
                }
                Tok::Special(_) => break,
            }
            i += 1;
        }
        match toks.get(i) {
            Some(Tok::Special(b':')) if !in_group => {
                i += 1;
                in_group = true;
                out.push(EnvAddress {
                    mailbox: Some(text(&words.join(&b' '))),
                    ..Default::default()
                });
            }
            Some(Tok::Special(b'<')) => {
                i += 1;
                let (addr, next) = angle_addr(&toks, i);
                i = next;
                let phrase = words.join(&b' ');
                // `"" <a@b>` has no name, like no phrase at all.
                let name = if phrase.is_empty() {
                    comment.map(|c| text(&c))
                } else {
                    Some(text(&phrase))
                };
                out.push(EnvAddress { name, ..addr });
            }
            Some(Tok::Special(b'@')) => {
                i += 1;
                let local = words.concat();
                let mut domain = Vec::new();
                while let Some(t) = toks.get(i) {
                    match t {
                        Tok::Word(w) => domain.extend_from_slice(w),
                        Tok::Comment(c) => {
                            if comment.is_none() && !c.is_empty() {
                                comment = Some(c.clone());
                            }
                        }
                        Tok::Special(_) => break,
                    }
                    i += 1;
                }
                out.push(EnvAddress {
                    name: comment.map(|c| text(&c)),
                    adl: None,
                    mailbox: Some(text(&local)),
                    host: Some(text(&domain)),
                });
            }
            other => {
                if !words.is_empty() {
                    // A bare word without a domain: a local address.
                    out.push(EnvAddress {
                        name: None,
                        adl: None,
                        mailbox: Some(text(&words.concat())),
                        host: Some(String::new()),
                    });
                }
                if let Some(Tok::Special(c)) = other {
                    if *c == b';' && in_group {
                        in_group = false;
                        out.push(EnvAddress::default());
                    }
                    i += 1;
                }
            }
        }
    }
    if in_group {
        out.push(EnvAddress::default());
    }
    out
}

/// After `<`: optional route (`@a,@b:`), local part, `@`, domain, `>`.
fn angle_addr(toks: &[Tok], mut i: usize) -> (EnvAddress, usize) {
    let mut route = Vec::new();
    if toks.get(i) == Some(&Tok::Special(b'@')) {
        // Obsolete source route: everything up to the `:`.
        while let Some(t) = toks.get(i) {
            i += 1;
            match t {
                Tok::Special(b':') => break,
                Tok::Special(b'>') => return (EnvAddress::default(), i),
                Tok::Special(c) => route.push(*c),
                Tok::Word(w) => route.extend_from_slice(w),
                Tok::Comment(_) => {}
            }
        }
    }
    let mut local = Vec::new();
    let mut domain = Vec::new();
    let mut at = false;
    while let Some(t) = toks.get(i) {
        i += 1;
        match t {
            Tok::Special(b'>') => break,
            Tok::Special(b'@') if !at => at = true,
            Tok::Word(w) => {
                if at {
                    domain.extend_from_slice(w)
                } else {
                    local.extend_from_slice(w)
                }
            }
            Tok::Special(_) | Tok::Comment(_) => {}
        }
    }
    let addr = EnvAddress {
        name: None,
        adl: (!route.is_empty()).then(|| text(&route)),
        mailbox: (!local.is_empty() || at).then(|| text(&local)),
        host: Some(text(&domain)),
    };
    (addr, i)
}

/// `env` with its address fields re-read from the raw `header` block; the
/// RFC 9051 §7.5.2 defaults (sender and reply-to from `from`) re-applied.
pub fn with_raw_addresses(env: &Envelope, header: &[u8]) -> Envelope {
    let get = |name: &str| {
        header_field(header, name)
            .map(|v| parse_address_list(&v))
            .unwrap_or_default()
    };
    let from = get("From");
    let mut sender = get("Sender");
    let mut reply_to = get("Reply-To");
    if sender.is_empty() {
        sender = from.clone();
    }
    if reply_to.is_empty() {
        reply_to = from.clone();
    }
    Envelope {
        from,
        sender,
        reply_to,
        to: get("To"),
        cc: get("Cc"),
        bcc: get("Bcc"),
        ..env.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(name: Option<&str>, adl: Option<&str>, mailbox: Option<&str>, host: Option<&str>) -> EnvAddress {
        EnvAddress {
            name: name.map(Into::into),
            adl: adl.map(Into::into),
            mailbox: mailbox.map(Into::into),
            host: host.map(Into::into),
        }
    }

    #[test]
    fn folded_field_case_insensitive() {
        let h = b"Subject: x\r\nTO: a@b,\r\n  c@d\r\nFrom: z@y\r\n\r\nTo: body@x\r\n";
        assert_eq!(header_field(h, "to").as_deref(), Some(&b"a@b,  c@d"[..]));
        assert_eq!(header_field(h, "cc"), None);
    }

    #[test]
    fn address_forms() {
        assert_eq!(
            parse_address_list(b"<@route.a,@route.b:x@y.z>, [1.2.3.4], local, q@[10.0.0.1]"),
            vec![
                a(None, Some("@route.a,@route.b"), Some("x"), Some("y.z")),
                a(None, None, Some("[1.2.3.4]"), Some("")),
                a(None, None, Some("local"), Some("")),
                a(None, None, Some("q"), Some("[10.0.0.1]")),
            ]
        );
        assert_eq!(
            parse_address_list(b"John Q. Public (comment) <jqp@x.test>, \"a\\\"b\" <e@f>"),
            vec![
                a(Some("John Q. Public"), None, Some("jqp"), Some("x.test")),
                a(Some("a\"b"), None, Some("e"), Some("f")),
            ]
        );
        assert_eq!(
            parse_address_list(b"\"\" <empty@x>"),
            vec![a(None, None, Some("empty"), Some("x"))]
        );
        assert_eq!(
            parse_address_list(b"undisclosed-recipients:;"),
            vec![
                a(None, None, Some("undisclosed-recipients"), None),
                EnvAddress::default()
            ]
        );
        assert_eq!(parse_address_list(b""), vec![]);
    }
}
