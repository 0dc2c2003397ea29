//! SMTP replies (RFC 5321 §4.2) with enhanced status codes (RFC 3463).

/// One reply: a code and one or more lines of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// A one-line reply; `text` normally starts with the enhanced code.
    pub fn new(code: u16, text: impl Into<String>) -> Reply {
        Reply {
            code,
            lines: vec![text.into()],
        }
    }

    pub fn multi(code: u16, lines: Vec<String>) -> Reply {
        Reply { code, lines }
    }

    pub fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }

    /// Appends the wire form (`250-a` ... `250 z`, CRLF-terminated).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let n = self.lines.len().max(1);
        for i in 0..n {
            let line = self.lines.get(i).map(String::as_str).unwrap_or("");
            let sep = if i + 1 == n { ' ' } else { '-' };
            // Text comes partly from clients (e.g. an address); never let a
            // CR or LF in it break the reply framing.
            let clean: String = line
                .chars()
                .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
                .collect();
            out.extend_from_slice(format!("{}{}{}\r\n", self.code, sep, clean).as_bytes());
        }
    }

    /// The reply as one line of text, for logs and queue records.
    pub fn summary(&self) -> String {
        format!("{} {}", self.code, self.lines.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format() {
        let mut out = Vec::new();
        Reply::multi(250, vec!["a".into(), "b".into()]).write_to(&mut out);
        Reply::new(550, "5.1.1 no\r\nMAIL").write_to(&mut out);
        assert_eq!(out, b"250-a\r\n250 b\r\n550 5.1.1 no  MAIL\r\n");
    }
}
