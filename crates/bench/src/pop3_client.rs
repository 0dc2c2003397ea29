//! A minimal POP3 client (RFC 1939): USER/PASS, STAT, UIDL, RETR.
use std::time::Duration;

use anyhow::{Result, anyhow, bail};

use crate::wire::Conn;

pub struct Pop3 {
    conn: Conn,
    timeout: Duration,
}

/// Undoes byte-stuffing of one multi-line response line (RFC 1939 §3);
/// None for the terminating ".".
pub fn unstuff(line: &[u8]) -> Option<&[u8]> {
    if line == b"." {
        None
    } else if line.starts_with(b"..") {
        Some(&line[1..])
    } else {
        Some(line)
    }
}

/// `+OK 12 3456` → (12, 3456).
pub fn parse_stat(line: &str) -> Option<(u64, u64)> {
    let mut it = line.strip_prefix("+OK ")?.split_ascii_whitespace();
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

impl Pop3 {
    pub async fn connect(addr: &str, timeout: Duration) -> Result<Pop3> {
        let conn = Conn::connect(addr, timeout).await?;
        let mut p = Pop3 { conn, timeout };
        let g = p.status_line().await?;
        if !g.starts_with("+OK") {
            bail!("POP3 greeting: {g}");
        }
        Ok(p)
    }

    async fn status_line(&mut self) -> Result<String> {
        let timeout = self.timeout;
        let l = tokio::time::timeout(timeout, self.conn.line())
            .await
            .map_err(|_| anyhow!("POP3: no answer within {timeout:?}"))??;
        Ok(String::from_utf8_lossy(&l).to_string())
    }

    pub async fn command(&mut self, cmd: &str) -> Result<String> {
        self.conn.send(format!("{cmd}\r\n").as_bytes()).await?;
        let l = self.status_line().await?;
        if !l.starts_with("+OK") {
            let shown = if cmd.starts_with("PASS") { "PASS" } else { cmd };
            bail!("{shown}: {l}");
        }
        Ok(l)
    }

    /// A multi-line command's body, CRLF-terminated lines, unstuffed.
    pub async fn multiline(&mut self, cmd: &str) -> Result<Vec<u8>> {
        self.command(cmd).await?;
        let timeout = self.timeout;
        tokio::time::timeout(timeout, async {
            let mut out = Vec::new();
            loop {
                let line = self.conn.line().await?;
                match unstuff(&line) {
                    None => return Ok(out),
                    Some(l) => {
                        out.extend_from_slice(l);
                        out.extend_from_slice(b"\r\n");
                    }
                }
            }
        })
        .await
        .map_err(|_| anyhow!("{cmd}: body not complete within {timeout:?}"))?
    }

    pub async fn login(&mut self, user: &str, pass: &str) -> Result<()> {
        self.command(&format!("USER {user}")).await?;
        self.command(&format!("PASS {pass}")).await?;
        Ok(())
    }

    pub async fn quit(mut self) -> Result<()> {
        self.command("QUIT").await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unstuffing() {
        assert_eq!(unstuff(b"."), None);
        assert_eq!(unstuff(b"..x"), Some(&b".x"[..]));
        assert_eq!(unstuff(b"abc"), Some(&b"abc"[..]));
        assert_eq!(unstuff(b""), Some(&b""[..]));
    }

    #[test]
    fn stat() {
        assert_eq!(parse_stat("+OK 12 3456"), Some((12, 3456)));
        assert_eq!(parse_stat("+OK 12 3456 extra"), Some((12, 3456)));
        assert_eq!(parse_stat("-ERR no"), None);
    }
}
