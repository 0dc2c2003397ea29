//! A minimal IMAP4rev1 client: tagged commands, responses with literals,
//! APPEND with a synchronising literal, IDLE.
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};

use crate::imap_value::parse_exists;
use crate::wire::Conn;

/// Largest literal accepted in a response (a whole message).
const MAX_LITERAL: usize = 256 << 20;

pub struct Imap {
    conn: Conn,
    tag: u64,
    timeout: Duration,
    pub caps: String,
    /// Commands refused with NO [EXPUNGEISSUED] and retried.
    pub expunge_issued: u64,
}

/// A tagged command's outcome and the untagged responses before it
/// (each as its wire bytes with literals inline, final CRLF stripped).
#[derive(Debug)]
pub struct Reply {
    pub untagged: Vec<Vec<u8>>,
    pub status: String,
    pub text: String,
}

impl Reply {
    pub fn ok(&self) -> bool {
        self.status == "OK"
    }

    pub fn check(self, what: &str) -> Result<Reply> {
        if self.ok() {
            Ok(self)
        } else {
            bail!("{what}: {} {}", self.status, self.text)
        }
    }
}

/// `{123}` or `{123+}` at the end of a line: the literal's length.
pub fn literal_len(line: &[u8]) -> Option<usize> {
    let body = line.strip_suffix(b"}")?;
    let open = body.iter().rposition(|b| *b == b'{')?;
    let spec = &body[open + 1..];
    let spec = spec.strip_suffix(b"+").unwrap_or(spec);
    if spec.is_empty() || !spec.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(spec).ok()?.parse().ok()
}

/// An IMAP quoted string (RFC 9051 §4.3) for simple ASCII arguments.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

impl Imap {
    pub async fn connect(addr: &str, timeout: Duration) -> Result<Imap> {
        Imap::connect_with_buffer(addr, timeout, 64 * 1024).await
    }

    pub async fn connect_with_buffer(addr: &str, timeout: Duration, cap: usize) -> Result<Imap> {
        let mut conn = Conn::connect_with_buffer(addr, timeout, cap).await?;
        let greeting = tokio::time::timeout(timeout, conn.line())
            .await
            .context("IMAP greeting timed out")??;
        if !greeting.starts_with(b"* OK") {
            bail!("IMAP greeting: {}", String::from_utf8_lossy(&greeting));
        }
        Ok(Imap {
            conn,
            tag: 0,
            timeout,
            caps: String::new(),
            expunge_issued: 0,
        })
    }

    /// One whole response: a line plus any literals it announces and the
    /// lines continuing after them.
    pub async fn response(&mut self) -> Result<Vec<u8>> {
        let mut out = self.conn.line().await?;
        while let Some(n) = literal_len(&out) {
            if n > MAX_LITERAL {
                bail!("literal of {n} bytes");
            }
            out.extend_from_slice(b"\r\n");
            self.conn.exact(n, &mut out).await?;
            let more = self.conn.line().await?;
            out.extend_from_slice(&more);
        }
        Ok(out)
    }

    fn next_tag(&mut self) -> String {
        self.tag += 1;
        format!("b{}", self.tag)
    }

    async fn until_tagged(&mut self, tag: &str, mut untagged: Vec<Vec<u8>>) -> Result<Reply> {
        loop {
            let r = self.response().await?;
            if let Some(rest) = r.strip_prefix(tag.as_bytes()).and_then(|r| r.strip_prefix(b" ")) {
                let s = String::from_utf8_lossy(rest);
                let (status, text) = s.split_once(' ').unwrap_or((&s, ""));
                return Ok(Reply {
                    untagged,
                    status: status.to_ascii_uppercase(),
                    text: text.to_string(),
                });
            }
            if r.starts_with(b"+") {
                bail!("unexpected continuation request: {}", String::from_utf8_lossy(&r));
            }
            untagged.push(r);
        }
    }

    /// Sends `cmd` (without tag and CRLF) and reads through its completion.
    pub async fn command(&mut self, cmd: &str) -> Result<Reply> {
        let tag = self.next_tag();
        let timeout = self.timeout;
        tokio::time::timeout(timeout, async {
            self.conn.send(format!("{tag} {cmd}\r\n").as_bytes()).await?;
            self.until_tagged(&tag, Vec::new()).await
        })
        .await
        .map_err(|_| anyhow!("{cmd}: no answer within {timeout:?}"))?
    }

    /// Like [`Imap::command`], but a NO [EXPUNGEISSUED] (RFC 5530: another
    /// session expunged a message in the set) is answered as a client
    /// would: NOOP to learn of the expunge, then the command again.
    pub async fn command_retry(&mut self, cmd: &str) -> Result<Reply> {
        let mut r = self.command(cmd).await?;
        for _ in 0..3 {
            if r.ok() || !r.text.contains("[EXPUNGEISSUED]") {
                break;
            }
            self.expunge_issued += 1;
            self.command("NOOP").await?.check("NOOP")?;
            r = self.command(cmd).await?;
        }
        Ok(r)
    }

    pub async fn login(&mut self, user: &str, pass: &str) -> Result<()> {
        let r = self.command(&format!("LOGIN {} {}", quote(user), quote(pass))).await?;
        let r = r.check("LOGIN")?;
        // The capability list changes after login (RFC 9051 §6.2.3).
        self.caps = r.text.clone();
        for u in &r.untagged {
            if u.starts_with(b"* CAPABILITY") {
                self.caps = String::from_utf8_lossy(u).to_string();
            }
        }
        Ok(())
    }

    /// SELECT; returns the EXISTS count.
    pub async fn select(&mut self, mailbox: &str) -> Result<u64> {
        let r = self
            .command(&format!("SELECT {}", quote(mailbox)))
            .await?
            .check("SELECT")?;
        r.untagged
            .iter()
            .find_map(|u| parse_exists(u))
            .ok_or_else(|| anyhow!("SELECT without EXISTS"))
    }

    /// APPEND with a synchronising literal (RFC 9051 §7.5): every server
    /// supports it and on loopback the extra round trip is noise.
    pub async fn append(&mut self, mailbox: &str, flags: &str, msg: &[u8]) -> Result<Reply> {
        let tag = self.next_tag();
        let timeout = self.timeout;
        tokio::time::timeout(timeout, async {
            self.conn
                .send(format!("{tag} APPEND {} ({flags}) {{{}}}\r\n", quote(mailbox), msg.len()).as_bytes())
                .await?;
            let mut untagged = Vec::new();
            loop {
                let r = self.response().await?;
                if r.starts_with(b"+") {
                    break;
                }
                if r.starts_with(tag.as_bytes()) {
                    bail!("APPEND refused: {}", String::from_utf8_lossy(&r));
                }
                untagged.push(r);
            }
            self.conn.send(msg).await?;
            self.conn.send(b"\r\n").await?;
            self.until_tagged(&tag, untagged).await
        })
        .await
        .map_err(|_| anyhow!("APPEND: no answer within {timeout:?}"))?
    }

    /// Enters IDLE (RFC 2177); returns the tag for [`Imap::idle_done`].
    pub async fn idle_start(&mut self) -> Result<String> {
        let tag = self.next_tag();
        self.conn.send(format!("{tag} IDLE\r\n").as_bytes()).await?;
        loop {
            let r = tokio::time::timeout(self.timeout, self.response())
                .await
                .context("IDLE: no continuation")??;
            if r.starts_with(b"+") {
                return Ok(tag);
            }
            if r.starts_with(tag.as_bytes()) {
                bail!("IDLE refused: {}", String::from_utf8_lossy(&r));
            }
        }
    }

    /// Waits in IDLE for any EXISTS; the time it arrived, or None if
    /// `wait` passed first (not an error: nothing happened).
    pub async fn idle_wait_any_exists(&mut self, wait: Duration) -> Result<Option<std::time::Instant>> {
        match tokio::time::timeout(wait, async {
            loop {
                let r = self.response().await?;
                if parse_exists(&r).is_some() {
                    return Ok::<_, anyhow::Error>(std::time::Instant::now());
                }
            }
        })
        .await
        {
            Ok(r) => r.map(Some),
            Err(_) => Ok(None),
        }
    }

    pub async fn idle_done(&mut self, tag: &str) -> Result<Reply> {
        self.conn.send(b"DONE\r\n").await?;
        let timeout = self.timeout;
        tokio::time::timeout(timeout, self.until_tagged(tag, Vec::new()))
            .await
            .map_err(|_| anyhow!("IDLE DONE: no answer within {timeout:?}"))?
    }

    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.command("LOGOUT")).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_lengths() {
        assert_eq!(literal_len(b"* 1 FETCH (BODY[] {123}"), Some(123));
        assert_eq!(literal_len(b"* 1 FETCH (BODY[] {7+}"), Some(7));
        assert_eq!(literal_len(b"* OK [ALERT] {x}"), None);
        assert_eq!(literal_len(b"* OK {}"), None);
        assert_eq!(literal_len(b"* 1 FETCH (FLAGS ())"), None);
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}

#[cfg(test)]
mod wire_tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

    /// A scripted server: greeting, then for each expected client line the
    /// canned answer; also accepts an APPEND literal.
    #[tokio::test]
    async fn commands_literals_and_append_over_a_socket() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            let (r, mut w) = s.into_split();
            let mut r = BufReader::new(r);
            w.write_all(b"* OK ready\r\n").await.unwrap();
            let mut line = String::new();
            r.read_line(&mut line).await.unwrap();
            assert_eq!(line, "b1 LOGIN \"u\" \"p\\\"w\"\r\n");
            w.write_all(b"* CAPABILITY IMAP4rev1 IDLE\r\nb1 OK done\r\n")
                .await
                .unwrap();
            line.clear();
            r.read_line(&mut line).await.unwrap();
            assert_eq!(line, "b2 UID FETCH 7 (UID BODY.PEEK[])\r\n");
            w.write_all(b"* 3 EXISTS\r\n* 1 FETCH (UID 7 BODY[] {5}\r\na\r\nb) FLAGS (\\Seen))\r\nb2 OK\r\n")
                .await
                .unwrap();
            line.clear();
            r.read_line(&mut line).await.unwrap();
            assert_eq!(line, "b3 APPEND \"INBOX\" () {4}\r\n");
            w.write_all(b"+ go\r\n").await.unwrap();
            let mut lit = [0u8; 6];
            r.read_exact(&mut lit).await.unwrap();
            assert_eq!(&lit, b"abcd\r\n");
            w.write_all(b"b3 OK [APPENDUID 1 9] done\r\n").await.unwrap();
        });
        let mut c = Imap::connect(&addr, Duration::from_secs(5)).await.unwrap();
        c.login("u", "p\"w").await.unwrap();
        assert!(c.caps.contains("IDLE"));
        let r = c.command("UID FETCH 7 (UID BODY.PEEK[])").await.unwrap();
        assert!(r.ok());
        assert_eq!(r.untagged.len(), 2);
        let f = crate::imap_value::parse_fetch(&r.untagged[1]).unwrap();
        assert_eq!(f.get("BODY[]").unwrap().as_bytes().unwrap(), b"a\r\nb)");
        let r = c.append("INBOX", "", b"abcd").await.unwrap();
        assert_eq!(r.text, "[APPENDUID 1 9] done");
        server.await.unwrap();
    }
}
