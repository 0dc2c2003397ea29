//! Just enough of the IMAP response grammar (RFC 9051 §9) to check
//! answers: parenthesised lists, atoms (with `[section]` and `<partial>`
//! suffixes), numbers, quoted strings, literals and NIL.
use anyhow::{Result, bail};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Atom(Vec<u8>),
    Str(Vec<u8>),
    Nil,
    List(Vec<Value>),
}

impl Value {
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Atom(a) | Value::Str(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Atom(a) => std::str::from_utf8(a).ok()?.parse().ok(),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }
}

/// Parses a sequence of values separated by spaces, as found after
/// `* 3 FETCH ` (the wire bytes with literals inline).
pub fn parse_values(input: &[u8]) -> Result<Vec<Value>> {
    let mut p = Parser { s: input, i: 0 };
    let mut out = Vec::new();
    loop {
        p.skip_spaces();
        if p.i >= p.s.len() {
            return Ok(out);
        }
        out.push(p.value()?);
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip_spaces(&mut self) {
        while self.i < self.s.len() && self.s[self.i] == b' ' {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Result<Value> {
        match self.s.get(self.i) {
            None => bail!("unexpected end of response"),
            Some(b'(') => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_spaces();
                    match self.s.get(self.i) {
                        None => bail!("unterminated list"),
                        Some(b')') => {
                            self.i += 1;
                            return Ok(Value::List(items));
                        }
                        _ => items.push(self.value()?),
                    }
                }
            }
            Some(b'"') => {
                self.i += 1;
                let mut out = Vec::new();
                loop {
                    match self.s.get(self.i) {
                        None => bail!("unterminated quoted string"),
                        Some(b'\\') => {
                            let Some(c) = self.s.get(self.i + 1) else {
                                bail!("bad escape")
                            };
                            out.push(*c);
                            self.i += 2;
                        }
                        Some(b'"') => {
                            self.i += 1;
                            return Ok(Value::Str(out));
                        }
                        Some(c) => {
                            out.push(*c);
                            self.i += 1;
                        }
                    }
                }
            }
            Some(b'{') | Some(b'~') => {
                if self.s[self.i] == b'~' {
                    self.i += 1;
                }
                let close = self.s[self.i..].iter().position(|b| *b == b'}');
                let Some(close) = close else { bail!("bad literal") };
                let spec = &self.s[self.i + 1..self.i + close];
                let spec = spec.strip_suffix(b"+").unwrap_or(spec);
                let n: usize = std::str::from_utf8(spec)?.parse()?;
                self.i += close + 1;
                if self.s.get(self.i..self.i + 2) != Some(b"\r\n") {
                    bail!("literal not followed by CRLF");
                }
                self.i += 2;
                let Some(data) = self.s.get(self.i..self.i + n) else {
                    bail!("short literal")
                };
                self.i += n;
                Ok(Value::Str(data.to_vec()))
            }
            Some(_) => {
                let start = self.i;
                let mut depth = 0usize;
                while let Some(&c) = self.s.get(self.i) {
                    match c {
                        b'[' => depth += 1,
                        b']' => depth = depth.saturating_sub(1),
                        b' ' | b'(' | b')' if depth == 0 => break,
                        _ => {}
                    }
                    self.i += 1;
                }
                let atom = &self.s[start..self.i];
                if atom.eq_ignore_ascii_case(b"NIL") {
                    Ok(Value::Nil)
                } else {
                    Ok(Value::Atom(atom.to_vec()))
                }
            }
        }
    }
}

/// A parsed `* <seq> FETCH (...)` response: its item/value pairs (item
/// names upper-cased). The benchmark only uses UID commands, so the
/// sequence number is not kept.
#[derive(Debug, Clone)]
pub struct Fetch {
    pub items: Vec<(String, Value)>,
}

impl Fetch {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.items.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    pub fn uid(&self) -> Option<u64> {
        self.get("UID").and_then(Value::as_u64)
    }
}

/// Parses an untagged response if it is a FETCH.
pub fn parse_fetch(raw: &[u8]) -> Option<Fetch> {
    let rest = raw.strip_prefix(b"* ")?;
    let sp = rest.iter().position(|b| *b == b' ')?;
    let _seq: u64 = std::str::from_utf8(&rest[..sp]).ok()?.parse().ok()?;
    let rest = &rest[sp + 1..];
    if rest.len() < 6 || !rest[..6].eq_ignore_ascii_case(b"FETCH ") {
        return None;
    }
    let vals = parse_values(&rest[6..]).ok()?;
    let list = vals.first()?.as_list()?;
    let mut items = Vec::new();
    let mut it = list.iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        let name = String::from_utf8_lossy(k.as_bytes()?).to_ascii_uppercase();
        items.push((name, v.clone()));
    }
    Some(Fetch { items })
}

/// Numbers of a `* SEARCH 1 2 3` response (also ESEARCH-less servers).
pub fn parse_search(raw: &[u8]) -> Option<Vec<u64>> {
    let rest = raw.strip_prefix(b"* ")?;
    if rest.len() < 6 || !rest[..6].eq_ignore_ascii_case(b"SEARCH") {
        return None;
    }
    Some(
        String::from_utf8_lossy(&rest[6..])
            .split_ascii_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect(),
    )
}

/// `* <n> EXISTS` → n.
pub fn parse_exists(raw: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(raw.strip_prefix(b"* ")?).ok()?;
    let (n, word) = s.split_once(' ')?;
    if word.eq_ignore_ascii_case("EXISTS") {
        n.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_with_literal_and_section() {
        let raw =
            b"* 12 FETCH (UID 5 FLAGS (\\Seen $Junk) BODY[HEADER.FIELDS (X-MRB-ID)] {19}\r\nX-Mrb-Id: c0001\r\n\r\n)";
        let f = parse_fetch(raw).unwrap();
        assert_eq!(f.uid(), Some(5));
        let flags = f.get("FLAGS").unwrap().as_list().unwrap();
        assert_eq!(flags[0], Value::Atom(b"\\Seen".to_vec()));
        assert_eq!(
            f.get("BODY[HEADER.FIELDS (X-MRB-ID)]").unwrap().as_bytes().unwrap(),
            b"X-Mrb-Id: c0001\r\n\r\n"
        );
    }

    #[test]
    fn envelope_with_nil_quoted_and_escapes() {
        let raw = br#"* 1 FETCH (ENVELOPE ("Thu, 01 Jan 2026" "[c1] \"hi\"" (("Bob" NIL "bob" "x.org")) NIL NIL NIL NIL NIL NIL "<c1@mrb>") UID 9)"#;
        let f = parse_fetch(raw).unwrap();
        let env = f.get("ENVELOPE").unwrap().as_list().unwrap();
        assert_eq!(env[1].as_bytes().unwrap(), b"[c1] \"hi\"");
        assert_eq!(env[3], Value::Nil);
        assert_eq!(env[9].as_bytes().unwrap(), b"<c1@mrb>");
        assert_eq!(f.uid(), Some(9));
    }

    #[test]
    fn partial_and_literal_plus() {
        let raw = b"* 2 FETCH (BODY[]<0> {3+}\r\nabc UID 3)";
        let f = parse_fetch(raw).unwrap();
        assert_eq!(f.get("BODY[]<0>").unwrap().as_bytes().unwrap(), b"abc");
    }

    #[test]
    fn search_and_exists() {
        assert_eq!(parse_search(b"* SEARCH 3 14 15"), Some(vec![3, 14, 15]));
        assert_eq!(parse_search(b"* SEARCH"), Some(vec![]));
        assert_eq!(parse_search(b"* 3 EXISTS"), None);
        assert_eq!(parse_exists(b"* 3 EXISTS"), Some(3));
        assert_eq!(parse_exists(b"* 3 RECENT"), None);
    }

    #[test]
    fn broken_input_is_an_error_not_a_panic() {
        for raw in [&b"(a b"[..], b"\"abc", b"{5}\r\nab", b"{x}\r\n", b"(\"a\\"] {
            assert!(parse_values(raw).is_err(), "{raw:?}");
        }
        assert!(parse_fetch(b"* 1 FETCH (UID").is_none());
    }
}
