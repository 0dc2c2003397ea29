//! A minimal SMTP client (RFC 5321): EHLO, AUTH PLAIN, one transaction at
//! a time, dot-stuffed DATA.
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::wire::Conn;

pub struct Smtp {
    conn: Conn,
    timeout: Duration,
}

/// Parses one reply line: code, whether more lines follow, text.
pub fn reply_line(line: &[u8]) -> Option<(u16, bool, &[u8])> {
    if line.len() < 3 || !line[..3].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let code = std::str::from_utf8(&line[..3]).ok()?.parse().ok()?;
    match line.get(3) {
        None => Some((code, false, b"")),
        Some(b' ') => Some((code, false, &line[4..])),
        Some(b'-') => Some((code, true, &line[4..])),
        _ => None,
    }
}

/// The DATA payload for `msg` (RFC 5321 §4.5.2 transparency): leading
/// dots doubled, CRLF ensured at the end, then the `.` terminator.
pub fn dot_stuff(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + 64);
    let mut at_line_start = true;
    for &b in msg {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

impl Smtp {
    pub async fn connect(addr: &str, timeout: Duration) -> Result<Smtp> {
        let conn = Conn::connect(addr, timeout).await?;
        let mut s = Smtp { conn, timeout };
        let (code, text) = s.reply().await.context("SMTP greeting")?;
        if code != 220 {
            bail!("SMTP greeting {code} {text}");
        }
        Ok(s)
    }

    /// A whole (possibly multi-line) reply.
    pub async fn reply(&mut self) -> Result<(u16, String)> {
        let timeout = self.timeout;
        tokio::time::timeout(timeout, async {
            let mut text = String::new();
            loop {
                let line = self.conn.line().await?;
                let (code, more, t) =
                    reply_line(&line).ok_or_else(|| anyhow!("bad SMTP reply: {}", String::from_utf8_lossy(&line)))?;
                text.push_str(&String::from_utf8_lossy(t));
                text.push('\n');
                if !more {
                    return Ok((code, text));
                }
            }
        })
        .await
        .map_err(|_| anyhow!("SMTP: no reply within {timeout:?}"))?
    }

    async fn expect(&mut self, cmd: &str, want: u16) -> Result<String> {
        self.conn.send(format!("{cmd}\r\n").as_bytes()).await?;
        let (code, text) = self.reply().await?;
        if code != want {
            bail!("{cmd}: {code} {}", text.trim_end());
        }
        Ok(text)
    }

    pub async fn ehlo(&mut self, name: &str) -> Result<String> {
        self.expect(&format!("EHLO {name}"), 250).await
    }

    pub async fn auth_plain(&mut self, user: &str, pass: &str) -> Result<()> {
        let token = B64.encode(format!("\0{user}\0{pass}"));
        self.expect(&format!("AUTH PLAIN {token}"), 235).await.map(|_| ())
    }

    /// One complete transaction; Ok only after the final 250 for DATA.
    pub async fn send_mail(&mut self, from: &str, to: &str, msg: &[u8]) -> Result<()> {
        self.expect(&format!("MAIL FROM:<{from}>"), 250).await?;
        self.expect(&format!("RCPT TO:<{to}>"), 250).await?;
        self.expect("DATA", 354).await?;
        self.conn.send(&dot_stuff(msg)).await?;
        let (code, text) = self.reply().await?;
        if code != 250 {
            bail!("end of DATA: {code} {}", text.trim_end());
        }
        Ok(())
    }

    pub async fn quit(mut self) {
        let _ = self.expect("QUIT", 221).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_lines() {
        assert_eq!(reply_line(b"250-PIPELINING"), Some((250, true, &b"PIPELINING"[..])));
        assert_eq!(reply_line(b"250 OK"), Some((250, false, &b"OK"[..])));
        assert_eq!(reply_line(b"354"), Some((354, false, &b""[..])));
        assert_eq!(reply_line(b"25x OK"), None);
        assert_eq!(reply_line(b"250_OK"), None);
    }

    #[test]
    fn dot_stuffing() {
        assert_eq!(dot_stuff(b".a\r\nb\r\n..c\r\n"), b"..a\r\nb\r\n...c\r\n.\r\n");
        assert_eq!(dot_stuff(b"x"), b"x\r\n.\r\n");
    }
}
