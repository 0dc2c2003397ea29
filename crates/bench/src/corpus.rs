//! The benchmark mail corpus: deterministic in (seed, index), so every
//! server under test receives byte-identical messages and the load
//! generator can check any answer against a regenerated original.
//!
//! Mix (by index): half plain text, a fifth multipart/alternative, some
//! with non-ASCII encoded-word headers (RFC 2047) and quoted-printable
//! UTF-8 bodies, the rest multipart/mixed with base64 attachments.
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::rng::Rng;

const WORDS: &[&str] = &[
    "the",
    "mail",
    "server",
    "quarterly",
    "report",
    "meeting",
    "tomorrow",
    "please",
    "review",
    "attached",
    "budget",
    "draft",
    "project",
    "status",
    "update",
    "thanks",
    "regards",
    "team",
    "schedule",
    "deadline",
    "invoice",
    "customer",
    "release",
    "notes",
    "question",
    "answer",
    "agenda",
    "minutes",
    "lunch",
    "friday",
    "office",
    "travel",
    "ticket",
    "support",
    "backup",
    "network",
    "storage",
    "index",
    "message",
    "folder",
    "archive",
    "calendar",
    "contract",
];
const UTF8_WORDS: &[&str] = &[
    "Grüße",
    "café",
    "naïve",
    "Überprüfung",
    "日本語",
    "Ελληνικά",
    "Привет",
    "façade",
    "smörgåsbord",
    "Zürich",
    "piñata",
    "crème",
    "brûlée",
    "東京",
    "Ärger",
];
const NAMES: &[&str] = &[
    "Alice Martin",
    "Bob Chen",
    "Carol Diaz",
    "Dmitri Ivanov",
    "Eve Mueller",
    "Frank O'Neil",
];

/// The benchmark's identity of a message: a header value and a token that
/// also appears in the Subject, so SEARCH can find it.
pub fn message_id_token(prefix: &str, idx: u64) -> String {
    format!("{prefix}{idx:08}")
}

/// Parameters that make a corpus (both servers get the same).
#[derive(Debug, Clone)]
pub struct Corpus {
    pub seed: u64,
    pub count: u64,
    pub users: u64,
    pub domain: String,
    pub user_prefix: String,
}

impl Corpus {
    /// Which user's mailbox holds corpus message `idx`.
    pub fn owner(&self, idx: u64) -> u64 {
        idx % self.users.max(1)
    }

    pub fn user(&self, n: u64) -> String {
        format!("{}{}@{}", self.user_prefix, n, self.domain)
    }

    /// Corpus message `idx` as stored in its owner's INBOX.
    pub fn message(&self, idx: u64) -> Vec<u8> {
        generate(self.seed, idx, "c", &self.user(self.owner(idx)), "")
    }

    /// Indices of the messages owned by user `n`, in load order.
    pub fn owned_by(&self, n: u64) -> impl Iterator<Item = u64> + '_ {
        (0..self.count).filter(move |i| self.owner(*i) == n)
    }
}

/// One message. `prefix` tells corpus messages ("c") from messages a
/// workload creates (it includes a run tag); `extra_headers` is inserted
/// verbatim (CRLF-terminated lines).
pub fn generate(seed: u64, idx: u64, prefix: &str, to: &str, extra_headers: &str) -> Vec<u8> {
    let mut r = Rng::for_item(seed, idx);
    let token = message_id_token(prefix, idx);
    let kind = r.range(0, 100);
    let from_name = NAMES[r.index(NAMES.len())];
    let from_addr = format!("sender{}@example.org", r.range(0, 50));
    // 1 January 2026 was a Thursday.
    let day = idx % 28 + 1;
    let weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][((3 + day - 1) % 7) as usize];
    let date = format!(
        "{weekday}, {day:02} Jan 2026 {:02}:{:02}:{:02} +0000",
        idx % 24,
        idx % 60,
        (idx * 7) % 60
    );
    let words = sentence(&mut r, 3, 8);

    let mut h = String::new();
    if (70..85).contains(&kind) {
        let subject_text = format!("{} {}", UTF8_WORDS[r.index(UTF8_WORDS.len())], words);
        h.push_str(&format!(
            "From: {} <{from_addr}>\r\n",
            encoded_words(&format!("{from_name} {}", UTF8_WORDS[r.index(UTF8_WORDS.len())]))
        ));
        h.push_str(&format!("Subject: [{token}] {}\r\n", encoded_words(&subject_text)));
    } else {
        h.push_str(&format!("From: \"{from_name}\" <{from_addr}>\r\n"));
        h.push_str(&format!("Subject: [{token}] {words}\r\n"));
    }
    h.push_str(&format!("To: <{to}>\r\n"));
    h.push_str(&format!("Date: {date}\r\n"));
    h.push_str(&format!("Message-ID: <{token}.{seed}@mrb.bench.test>\r\n"));
    h.push_str(&format!("X-Mrb-Id: {token}\r\n"));
    h.push_str(extra_headers);
    h.push_str("MIME-Version: 1.0\r\n");

    let mut out = h.into_bytes();
    match kind {
        0..50 => {
            out.extend_from_slice(b"Content-Type: text/plain; charset=us-ascii\r\n\r\n");
            let n = skewed(&mut r, 300, 8_000);
            out.extend_from_slice(text_body(&mut r, n).as_bytes());
        }
        50..70 => {
            let b = format!("=_alt_{token}");
            out.extend_from_slice(format!("Content-Type: multipart/alternative; boundary=\"{b}\"\r\n\r\n").as_bytes());
            out.extend_from_slice(&alternative(&mut r, &b));
        }
        70..85 => {
            out.extend_from_slice(
                b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
            );
            let n = skewed(&mut r, 300, 6_000);
            let mut text = String::new();
            while (text.len() as u64) < n {
                if r.chance(30) {
                    text.push_str(UTF8_WORDS[r.index(UTF8_WORDS.len())]);
                } else {
                    text.push_str(WORDS[r.index(WORDS.len())]);
                }
                text.push(if r.chance(8) { '\n' } else { ' ' });
            }
            out.extend_from_slice(&quoted_printable(text.as_bytes()));
        }
        _ => {
            let b = format!("=_mixed_{token}");
            out.extend_from_slice(format!("Content-Type: multipart/mixed; boundary=\"{b}\"\r\n\r\n").as_bytes());
            out.extend_from_slice(b"This is a multi-part message in MIME format.\r\n");
            out.extend_from_slice(format!("--{b}\r\n").as_bytes());
            if r.chance(33) {
                let inner = format!("=_inner_{token}");
                out.extend_from_slice(
                    format!("Content-Type: multipart/alternative; boundary=\"{inner}\"\r\n\r\n").as_bytes(),
                );
                out.extend_from_slice(&alternative(&mut r, &inner));
            } else {
                out.extend_from_slice(b"Content-Type: text/plain; charset=us-ascii\r\n\r\n");
                let n = skewed(&mut r, 200, 3_000);
                out.extend_from_slice(text_body(&mut r, n).as_bytes());
            }
            let attachments = if r.chance(25) { 2 } else { 1 };
            for a in 0..attachments {
                let size = skewed(&mut r, 4_000, 200_000) as usize;
                let mut data = vec![0u8; size];
                r.fill(&mut data);
                let (ctype, ext) = [
                    ("application/pdf", "pdf"),
                    ("image/png", "png"),
                    ("application/octet-stream", "bin"),
                ][r.index(3)];
                out.extend_from_slice(format!("\r\n--{b}\r\n").as_bytes());
                out.extend_from_slice(
                    format!(
                        "Content-Type: {ctype}; name=\"file-{idx}-{a}.{ext}\"\r\nContent-Disposition: attachment; filename=\"file-{idx}-{a}.{ext}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                    )
                    .as_bytes(),
                );
                out.extend_from_slice(&base64_lines(&data));
            }
            out.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
        }
    }
    out
}

/// Sizes skewed towards the low end, as real mail is: the minimum of two
/// uniform draws.
fn skewed(r: &mut Rng, lo: u64, hi: u64) -> u64 {
    r.range(lo, hi).min(r.range(lo, hi))
}

fn sentence(r: &mut Rng, min: u64, max: u64) -> String {
    let n = r.range(min, max);
    (0..n)
        .map(|_| WORDS[r.index(WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

/// ASCII text of about `n` bytes, lines under 78 characters, CRLF endings.
fn text_body(r: &mut Rng, n: u64) -> String {
    let mut out = String::new();
    let mut line = String::new();
    while (out.len() + line.len()) < n as usize {
        let w = WORDS[r.index(WORDS.len())];
        if line.len() + w.len() + 1 > 72 {
            out.push_str(&line);
            out.push_str("\r\n");
            line.clear();
            if r.chance(15) {
                out.push_str("\r\n");
            }
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(w);
    }
    out.push_str(&line);
    out.push_str("\r\n");
    out
}

fn alternative(r: &mut Rng, boundary: &str) -> Vec<u8> {
    let n = skewed(r, 300, 4_000);
    let text = text_body(r, n);
    let html = format!(
        "<html><body>\r\n<p>{}</p>\r\n</body></html>\r\n",
        text.replace("\r\n\r\n", "</p>\r\n<p>")
    );
    format!(
        "--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{text}\r\n--{boundary}\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n{html}\r\n--{boundary}--\r\n"
    )
    .into_bytes()
}

/// RFC 2047 B-encoded words, each under the 75-character limit (§2),
/// split on character boundaries and folded with CRLF SP.
pub fn encoded_words(text: &str) -> String {
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > 36 {
            words.push(format!("=?UTF-8?B?{}?=", B64.encode(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", B64.encode(chunk.as_bytes())));
    }
    words.join("\r\n ")
}

/// Quoted-printable (RFC 2045 §6.7) with CRLF line breaks for LF in the
/// input and soft breaks keeping encoded lines within 76 characters.
pub fn quoted_printable(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() * 2);
    let mut col = 0;
    for &b in input {
        if b == b'\n' {
            out.extend_from_slice(b"\r\n");
            col = 0;
            continue;
        }
        let enc: Vec<u8> = if (b == b' ' || (33..=126).contains(&b)) && b != b'=' {
            vec![b]
        } else {
            format!("={b:02X}").into_bytes()
        };
        if col + enc.len() > 75 {
            out.extend_from_slice(b"=\r\n");
            col = 0;
        }
        col += enc.len();
        out.extend_from_slice(&enc);
    }
    // A trailing space would be lost in transport (§6.7 rule 3).
    if out.last() == Some(&b' ') {
        out.pop();
        out.extend_from_slice(b"=20");
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn base64_lines(data: &[u8]) -> Vec<u8> {
    let enc = B64.encode(data);
    let mut out = Vec::with_capacity(enc.len() + enc.len() / 38);
    for line in enc.as_bytes().chunks(76) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The header section (up to and including the empty line), as
/// BODY[HEADER] returns it (RFC 9051 §6.4.5).
pub fn header_section(msg: &[u8]) -> &[u8] {
    match msg.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(p) => &msg[..p + 4],
        None => msg,
    }
}

/// The value of the X-Mrb-Id header, if any.
pub fn mrb_id(msg: &[u8]) -> Option<String> {
    let head = header_section(msg);
    for line in head.split(|b| *b == b'\n') {
        if line.len() > 9 && line[..9].eq_ignore_ascii_case(b"x-mrb-id:") {
            return Some(String::from_utf8_lossy(&line[9..]).trim().to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Corpus {
        Corpus {
            seed: 1,
            count: 400,
            users: 4,
            domain: "bench.test".into(),
            user_prefix: "u".into(),
        }
    }

    #[test]
    fn deterministic() {
        let c = corpus();
        for i in [0, 1, 57, 399] {
            assert_eq!(c.message(i), c.message(i));
        }
        let other = Corpus { seed: 2, ..corpus() };
        assert_ne!(c.message(5), other.message(5));
    }

    #[test]
    fn every_message_is_well_formed_mail() {
        let c = corpus();
        let mut kinds = [0usize; 4];
        for i in 0..c.count {
            let m = c.message(i);
            // 7-bit, CRLF only, lines within RFC 5322's 998 limit.
            assert!(m.iter().all(|b| *b < 128), "message {i} is not 7-bit");
            for (n, line) in m.split(|b| *b == b'\n').enumerate() {
                assert!(line.len() <= 998, "message {i} line {n} too long");
            }
            assert!(!m.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'), "bare LF in {i}");
            assert!(m.ends_with(b"\r\n"));
            assert_eq!(mrb_id(&m).as_deref(), Some(message_id_token("c", i).as_str()));
            let head = String::from_utf8_lossy(header_section(&m)).to_string();
            if head.contains("multipart/mixed") {
                kinds[3] += 1;
            } else if head.contains("multipart/alternative") {
                kinds[1] += 1;
            } else if head.contains("=?UTF-8?B?") {
                kinds[2] += 1;
            } else {
                kinds[0] += 1;
            }
        }
        assert!(kinds.iter().all(|k| *k > 20), "mix {kinds:?}");
    }

    #[test]
    fn encoded_words_fit_and_roundtrip() {
        let s = "Grüße aus Zürich 日本語 Ελληνικά Привет and some more words to fold";
        let enc = encoded_words(s);
        let mut decoded = Vec::new();
        for w in enc.split("\r\n ") {
            assert!(w.len() <= 75, "{w}");
            let inner = w.strip_prefix("=?UTF-8?B?").and_then(|w| w.strip_suffix("?=")).unwrap();
            decoded.extend(B64.decode(inner).unwrap());
        }
        assert_eq!(String::from_utf8(decoded).unwrap(), s);
    }

    #[test]
    fn quoted_printable_lines_and_escapes() {
        let qp = quoted_printable("café = ok\nx".repeat(20).as_bytes());
        let s = String::from_utf8(qp).unwrap();
        assert!(s.contains("caf=C3=A9 =3D ok\r\n"));
        assert!(s.lines().all(|l| l.len() <= 76));
    }

    #[test]
    fn owners_partition_the_corpus() {
        let c = corpus();
        let total: usize = (0..c.users).map(|u| c.owned_by(u).count()).sum();
        assert_eq!(total as u64, c.count);
        assert_eq!(c.user(3), "u3@bench.test");
    }
}
