//! The connection's byte stream feeding the sans-I/O framer.
use std::io;

use mailroom_net::MaybeTls;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::framing::{Framer, LineTooLong};

const READ_CHUNK: usize = 16 * 1024;

pub struct Io {
    pub stream: MaybeTls,
    pub framer: Framer,
}

/// A raw line could not be read.
#[derive(Debug)]
pub enum LineError {
    Io(io::Error),
    Eof,
    TooLong,
}

impl From<LineTooLong> for LineError {
    fn from(_: LineTooLong) -> Self {
        LineError::TooLong
    }
}

impl Io {
    /// Reads more input into the framer; `Ok(0)` at end of stream.
    /// Cancel-safe (a cancelled read has consumed nothing).
    pub async fn read_more(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; READ_CHUNK];
        let n = self.stream.read(&mut chunk).await?;
        self.framer.feed(&chunk[..n]);
        Ok(n)
    }

    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }

    /// Reads one raw line (AUTHENTICATE responses, IDLE's DONE).
    pub async fn read_line(&mut self) -> Result<Vec<u8>, LineError> {
        loop {
            if let Some(line) = self.framer.raw_line() {
                return Ok(line?);
            }
            match self.read_more().await {
                Ok(0) => return Err(LineError::Eof),
                Ok(_) => {}
                Err(e) => return Err(LineError::Io(e)),
            }
        }
    }
}
