//! Sans-I/O parsing of SMTP command lines (RFC 5321 §4.1) and of the
//! mailbox syntax in MAIL FROM and RCPT TO (§4.1.2).
//!
//! Addresses are parsed strictly and never reinterpreted: `%`, `!` and
//! quoted local parts stay part of the local part (so they can only name a
//! local user, never another host), and source routes are dropped as
//! §4.1.1.3 and appendix C allow, leaving the final mailbox.
use crate::reply::Reply;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Helo(String),
    Ehlo(String),
    Mail { from: Option<Mailbox>, params: Vec<Param> },
    Rcpt { to: Mailbox, params: Vec<Param> },
    Data,
    Bdat { size: u64, last: bool },
    Rset,
    Noop,
    Quit,
    StartTls,
    Auth { mechanism: String, initial: Option<String> },
    Vrfy,
    Expn,
    Help,
}

/// `local@domain`; the domain is lower-cased, the local part kept as sent
/// (quoted form included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub local: String,
    pub domain: String,
    /// The domain is an address literal (`[192.0.2.1]`).
    pub literal: bool,
}

impl Mailbox {
    pub fn is_ascii(&self) -> bool {
        self.local.is_ascii() && self.domain.is_ascii()
    }
}

impl std::fmt::Display for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

/// An ESMTP parameter: keyword (upper-cased) and optional value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub key: String,
    pub value: Option<String>,
}

fn syntax(text: &str) -> Reply {
    Reply::new(501, format!("5.5.4 Syntax: {text}"))
}

/// Parses one command line (without its CRLF).
pub fn parse(line: &[u8]) -> Result<Command, Reply> {
    let Ok(line) = std::str::from_utf8(line) else {
        return Err(Reply::new(500, "5.5.2 Command line is not valid UTF-8"));
    };
    let (verb, rest) = match line.find(' ') {
        Some(i) => (&line[..i], &line[i + 1..]),
        None => (line, ""),
    };
    let verb = verb.to_ascii_uppercase();
    let no_args = |cmd: Command, name: &str| {
        if rest.trim().is_empty() {
            Ok(cmd)
        } else {
            Err(syntax(name))
        }
    };
    match verb.as_str() {
        "EHLO" | "HELO" => {
            let host = rest.trim();
            if host.is_empty() || host.len() > 255 || host.contains(char::is_whitespace) {
                return Err(syntax(&format!("{verb} domain")));
            }
            Ok(if verb == "EHLO" {
                Command::Ehlo(host.to_string())
            } else {
                Command::Helo(host.to_string())
            })
        }
        "MAIL" => {
            let args = strip_prefix_ci(rest, "FROM:").ok_or_else(|| syntax("MAIL FROM:<address> [parameters]"))?;
            let (path, params) = split_path(args).ok_or_else(|| syntax("MAIL FROM:<address> [parameters]"))?;
            let from = if path == "<>" {
                None
            } else {
                Some(parse_path(path).ok_or_else(bad_address)?)
            };
            Ok(Command::Mail {
                from,
                params: parse_params(params)?,
            })
        }
        "RCPT" => {
            let args = strip_prefix_ci(rest, "TO:").ok_or_else(|| syntax("RCPT TO:<address> [parameters]"))?;
            let (path, params) = split_path(args).ok_or_else(|| syntax("RCPT TO:<address> [parameters]"))?;
            // RFC 5321 §4.1.1.3: <Postmaster> without a domain is always valid.
            let to = if path.eq_ignore_ascii_case("<postmaster>") {
                Mailbox {
                    local: "postmaster".into(),
                    domain: String::new(),
                    literal: false,
                }
            } else {
                parse_path(path).ok_or_else(bad_address)?
            };
            Ok(Command::Rcpt {
                to,
                params: parse_params(params)?,
            })
        }
        "DATA" => no_args(Command::Data, "DATA"),
        "BDAT" => {
            let mut it = rest.split(' ').filter(|s| !s.is_empty());
            let size = it
                .next()
                .filter(|s| s.bytes().all(|b| b.is_ascii_digit()) && s.len() <= 18)
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| syntax("BDAT size [LAST]"))?;
            let last = match it.next() {
                None => false,
                Some(s) if s.eq_ignore_ascii_case("LAST") => true,
                Some(_) => return Err(syntax("BDAT size [LAST]")),
            };
            if it.next().is_some() {
                return Err(syntax("BDAT size [LAST]"));
            }
            Ok(Command::Bdat { size, last })
        }
        "RSET" => no_args(Command::Rset, "RSET"),
        // NOOP, HELP, VRFY and EXPN may carry an argument (§4.1.1.9).
        "NOOP" => Ok(Command::Noop),
        "QUIT" => no_args(Command::Quit, "QUIT"),
        "STARTTLS" => no_args(Command::StartTls, "STARTTLS"),
        "HELP" => Ok(Command::Help),
        "VRFY" => Ok(Command::Vrfy),
        "EXPN" => Ok(Command::Expn),
        "AUTH" => {
            let mut it = rest.split(' ').filter(|s| !s.is_empty());
            let mechanism = it.next().ok_or_else(|| syntax("AUTH mechanism [initial-response]"))?;
            let initial = it.next().map(str::to_string);
            if it.next().is_some() {
                return Err(syntax("AUTH mechanism [initial-response]"));
            }
            Ok(Command::Auth {
                mechanism: mechanism.to_ascii_uppercase(),
                initial,
            })
        }
        _ => Err(Reply::new(500, "5.5.1 Command unrecognized")),
    }
}

fn bad_address() -> Reply {
    Reply::new(553, "5.1.3 Bad address syntax")
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// Splits `<path> params` (tolerating spaces after the colon, as many
/// clients send them); the path keeps its angle brackets.
fn split_path(args: &str) -> Option<(&str, &str)> {
    let args = args.trim_start_matches(' ');
    if !args.starts_with('<') {
        return None;
    }
    // Find the closing '>' outside a quoted string.
    let bytes = args.as_bytes();
    let (mut i, mut quoted) = (1, false);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b'>' if !quoted => {
                let rest = &args[i + 1..];
                if !(rest.is_empty() || rest.starts_with(' ')) {
                    return None;
                }
                return Some((&args[..=i], rest));
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn parse_params(s: &str) -> Result<Vec<Param>, Reply> {
    let mut out = Vec::new();
    for word in s.split(' ').filter(|w| !w.is_empty()) {
        let (key, value) = match word.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (word, None),
        };
        // esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
        let key_ok = key.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        // esmtp-value = 1*(%d33-60 / %d62-126), or UTF-8 with SMTPUTF8.
        let value_ok = value
            .as_deref()
            .is_none_or(|v| !v.is_empty() && v.chars().all(|c| c != '=' && (c > ' ') && c != '\x7f'));
        if !key_ok || !value_ok {
            return Err(Reply::new(501, "5.5.4 Malformed parameter"));
        }
        out.push(Param {
            key: key.to_ascii_uppercase(),
            value,
        });
    }
    Ok(out)
}

fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
}

/// Parses `<[@route,@route:]local@domain>`.
pub fn parse_path(path: &str) -> Option<Mailbox> {
    let inner = path.strip_prefix('<')?.strip_suffix('>')?;
    let mailbox = if inner.starts_with('@') {
        // A-d-l ":" Mailbox: check the route's syntax, then ignore it.
        let (route, rest) = inner.split_once(':')?;
        for hop in route.split(',') {
            let d = hop.strip_prefix('@')?;
            if !is_domain(d) {
                return None;
            }
        }
        rest
    } else {
        inner
    };
    parse_mailbox(mailbox)
}

fn parse_mailbox(s: &str) -> Option<Mailbox> {
    let (local, domain) = if s.starts_with('"') {
        let end = quoted_end(s)?;
        let (l, rest) = s.split_at(end);
        (l, rest.strip_prefix('@')?)
    } else {
        let (l, d) = s.rsplit_once('@')?;
        let atoms_ok = !l.is_empty() && l.split('.').all(|a| !a.is_empty() && a.chars().all(is_atext));
        if !atoms_ok {
            return None;
        }
        (l, d)
    };
    // RFC 5321 §4.5.3.1.1: local part at most 64 octets; §4.5.3.1.3: path 256.
    if local.len() > 64 + 2 || local.len() + domain.len() > 254 {
        return None;
    }
    if let Some(lit) = domain.strip_prefix('[') {
        let lit = lit.strip_suffix(']')?;
        let ok = !lit.is_empty()
            && lit
                .bytes()
                .all(|b| (33..=126).contains(&b) && b != b'[' && b != b']' && b != b'\\');
        if !ok {
            return None;
        }
        return Some(Mailbox {
            local: local.to_string(),
            domain: format!("[{}]", lit.to_ascii_lowercase()),
            literal: true,
        });
    }
    if !is_domain(domain) {
        return None;
    }
    Some(Mailbox {
        local: local.to_string(),
        domain: domain.to_lowercase(),
        literal: false,
    })
}

/// Byte index just past the closing quote of a quoted-string at the start.
fn quoted_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                // quoted-pairSMTP = %d92 %d32-126
                if !(32..=126).contains(b.get(i + 1)?) {
                    return None;
                }
                i += 2;
                continue;
            }
            b'"' => return (i > 1).then_some(i + 1),
            // qtextSMTP = %d32-33 / %d35-91 / %d93-126 (and UTF-8 with SMTPUTF8)
            c if c < 32 || c == 127 => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

fn is_domain(d: &str) -> bool {
    !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
        })
}

/// Decodes xtext (RFC 3461 §4): `+XX` hex escapes.
pub fn xtext_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'+' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Encodes xtext (RFC 3461 §4).
pub fn xtext_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if (33..=126).contains(&b) && b != b'+' && b != b'=' {
            out.push(b as char);
        } else {
            out.push_str(&format!("+{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mb(s: &str) -> Option<String> {
        parse_path(s).map(|m| m.to_string())
    }

    #[test]
    fn paths() {
        assert_eq!(mb("<bob@Example.TEST>").as_deref(), Some("bob@example.test"));
        assert_eq!(mb("<@a.test,@b.test:bob@c.test>").as_deref(), Some("bob@c.test"));
        assert_eq!(
            mb("<\"bob@evil\"@example.test>").as_deref(),
            Some("\"bob@evil\"@example.test")
        );
        assert_eq!(
            mb("<bob%evil.test@example.test>").as_deref(),
            Some("bob%evil.test@example.test")
        );
        assert_eq!(mb("<evil!bob@example.test>").as_deref(), Some("evil!bob@example.test"));
        assert_eq!(mb("<bob@[192.0.2.1]>").as_deref(), Some("bob@[192.0.2.1]"));
        assert!(parse_path("<bob@[192.0.2.1]>").unwrap().literal);
        assert_eq!(mb("<bob>"), None);
        assert_eq!(mb("<bob@>"), None);
        assert_eq!(mb("<.bob@x.test>"), None);
        assert_eq!(mb("<bob@x..test>"), None);
        assert_eq!(mb("<bob@x.test"), None);
        assert_eq!(mb("<bo b@x.test>"), None);
        assert_eq!(mb("<@a.test:>"), None);
    }

    #[test]
    fn commands() {
        assert_eq!(parse(b"ehlo client.test").unwrap(), Command::Ehlo("client.test".into()));
        assert!(matches!(parse(b"EHLO").unwrap_err().code, 501));
        let Command::Mail { from, params } = parse(b"MAIL FROM:<a@b.test> SIZE=100 BODY=8BITMIME").unwrap() else {
            panic!()
        };
        assert_eq!(from.unwrap().to_string(), "a@b.test");
        assert_eq!(params[0].key, "SIZE");
        assert_eq!(params[1].value.as_deref(), Some("8BITMIME"));
        assert!(matches!(
            parse(b"MAIL FROM:<>").unwrap(),
            Command::Mail { from: None, .. }
        ));
        assert!(matches!(parse(b"MAIL FROM: <a@b.test>").unwrap(), Command::Mail { .. }));
        assert_eq!(parse(b"MAIL FROM:<a b.test>").unwrap_err().code, 553);
        assert_eq!(parse(b"MAIL TO:<a@b.test>").unwrap_err().code, 501);
        assert!(matches!(parse(b"RCPT TO:<postmaster>").unwrap(), Command::Rcpt { .. }));
        assert_eq!(parse(b"BDAT 10 LAST").unwrap(), Command::Bdat { size: 10, last: true });
        assert_eq!(parse(b"BDAT 10").unwrap(), Command::Bdat { size: 10, last: false });
        assert_eq!(parse(b"BDAT x").unwrap_err().code, 501);
        assert_eq!(parse(b"FOO").unwrap_err().code, 500);
        assert_eq!(parse(b"DATA x").unwrap_err().code, 501);
    }

    #[test]
    fn xtext() {
        assert_eq!(xtext_encode("a+b=c d"), "a+2Bb+3Dc+20d");
        assert_eq!(xtext_decode("a+2Bb+3Dc+20d").as_deref(), Some("a+b=c d"));
        assert_eq!(xtext_decode("a+2"), None);
    }
}
