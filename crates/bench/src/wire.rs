//! A buffered line-oriented TCP connection, shared by the three clients.
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// Longest response line accepted; a server sending more is broken (or
/// the client is out of sync), either way a failure.
pub const MAX_LINE: usize = 1 << 20;

pub struct Conn {
    r: BufReader<OwnedReadHalf>,
    w: OwnedWriteHalf,
}

impl Conn {
    pub async fn connect(addr: &str, timeout: Duration) -> Result<Conn> {
        Conn::connect_with_buffer(addr, timeout, 64 * 1024).await
    }

    /// With a read buffer of `cap` bytes: small for the thousands of idle
    /// connections of the `connections` workload.
    pub async fn connect_with_buffer(addr: &str, timeout: Duration, cap: usize) -> Result<Conn> {
        let s = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .with_context(|| format!("connect {addr}: timed out"))?
            .with_context(|| format!("connect {addr}"))?;
        s.set_nodelay(true)?;
        let (r, w) = s.into_split();
        Ok(Conn {
            r: BufReader::with_capacity(cap, r),
            w,
        })
    }

    /// One line, CRLF (or LF) stripped.
    pub async fn line(&mut self) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        loop {
            let avail = self.r.fill_buf().await?;
            if avail.is_empty() {
                bail!("connection closed by server");
            }
            match avail.iter().position(|b| *b == b'\n') {
                Some(p) => {
                    buf.extend_from_slice(&avail[..p]);
                    self.r.consume(p + 1);
                    break;
                }
                None => {
                    let n = avail.len();
                    buf.extend_from_slice(avail);
                    self.r.consume(n);
                }
            }
            if buf.len() > MAX_LINE {
                bail!("response line longer than {MAX_LINE} bytes");
            }
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        Ok(buf)
    }

    pub async fn exact(&mut self, n: usize, into: &mut Vec<u8>) -> Result<()> {
        let start = into.len();
        into.resize(start + n, 0);
        self.r.read_exact(&mut into[start..]).await?;
        Ok(())
    }

    pub async fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.w.write_all(bytes).await?;
        Ok(())
    }
}
