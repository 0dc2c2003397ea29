//! Bounded line reading for the line-based mail protocols.

use std::io;

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// Outcome of [`read_line_limited`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRead {
    /// A complete line is in the buffer, including its terminating `\n`
    /// (and the `\r` before it, if the client sent one).
    Line,
    /// The line was longer than the limit. The buffer holds its first `max`
    /// bytes (handy e.g. to recover an IMAP tag); the rest of the line, up to
    /// and including the next `\n`, was read and discarded without buffering.
    TooLong,
    /// The peer closed the connection before a complete line arrived. The
    /// buffer holds whatever partial line was received (usually nothing).
    Eof,
}

/// Reads one line (terminated by `\n`) into `buf`, which is cleared first.
///
/// At most `max` bytes (terminator included) are ever buffered, so a client
/// sending an endless line cannot exhaust memory: the excess is discarded as
/// it arrives and [`LineRead::TooLong`] is returned once the line ends.
/// Timeouts are the caller's business (wrap the call in
/// `tokio::time::timeout`).
///
/// The result keeps the line ending; see [`trim_line_ending`].
pub async fn read_line_limited<R: AsyncBufRead + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<LineRead> {
    buf.clear();
    let mut too_long = false;
    loop {
        let available = r.fill_buf().await?;
        if available.is_empty() {
            return Ok(LineRead::Eof);
        }
        let (chunk_len, found_lf) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if !too_long {
            let room = max.saturating_sub(buf.len());
            if chunk_len <= room {
                buf.extend_from_slice(&available[..chunk_len]);
            } else {
                buf.extend_from_slice(&available[..room]);
                too_long = true;
            }
        }
        r.consume(chunk_len);
        if found_lf {
            return Ok(if too_long { LineRead::TooLong } else { LineRead::Line });
        }
    }
}

/// Strips a trailing `\r\n` or `\n` from a line.
pub fn trim_line_ending(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncWriteExt, BufReader};

    async fn read_all(input: &[u8], max: usize) -> Vec<(LineRead, Vec<u8>)> {
        let mut r = BufReader::with_capacity(4, input);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        loop {
            let res = read_line_limited(&mut r, &mut buf, max).await.unwrap();
            out.push((res, buf.clone()));
            if res == LineRead::Eof {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn lines_and_eof() {
        let out = read_all(b"HELO x\r\nQUIT\npart", 100).await;
        assert_eq!(
            out,
            vec![
                (LineRead::Line, b"HELO x\r\n".to_vec()),
                (LineRead::Line, b"QUIT\n".to_vec()),
                (LineRead::Eof, b"part".to_vec()),
            ]
        );
        assert_eq!(read_all(b"", 10).await, vec![(LineRead::Eof, vec![])]);
    }

    #[tokio::test]
    async fn exact_limit_and_over() {
        // "abcd\r\n" is 6 bytes: fits in 6, not in 5.
        let out = read_all(b"abcd\r\nabcd\r\n", 6).await;
        assert_eq!(out[0], (LineRead::Line, b"abcd\r\n".to_vec()));
        let out = read_all(b"abcd\r\nok\r\n", 5).await;
        assert_eq!(out[0], (LineRead::TooLong, b"abcd\r".to_vec()));
        assert_eq!(out[1], (LineRead::Line, b"ok\r\n".to_vec()));
        assert_eq!(out[2].0, LineRead::Eof);
    }

    #[tokio::test]
    async fn too_long_then_eof() {
        let out = read_all(b"abcdefgh", 3).await;
        assert_eq!(out, vec![(LineRead::Eof, b"abc".to_vec())]);
    }

    #[tokio::test]
    async fn huge_line_is_discarded_not_buffered() {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let writer = tokio::spawn(async move {
            let mut client = client;
            let chunk = vec![b'x'; 64 * 1024];
            for _ in 0..16 {
                client.write_all(&chunk).await.unwrap();
            }
            client.write_all(b"\r\nA1 NOOP\r\n").await.unwrap();
        });
        let mut r = BufReader::new(server);
        let mut buf = Vec::new();
        let res = read_line_limited(&mut r, &mut buf, 1000).await.unwrap();
        assert_eq!(res, LineRead::TooLong);
        assert_eq!(buf.len(), 1000);
        assert!(buf.capacity() < 64 * 1024, "buffer grew to {}", buf.capacity());
        let res = read_line_limited(&mut r, &mut buf, 1000).await.unwrap();
        assert_eq!(res, LineRead::Line);
        assert_eq!(buf, b"A1 NOOP\r\n");
        writer.await.unwrap();
        let res = read_line_limited(&mut r, &mut buf, 1000).await.unwrap();
        assert_eq!(res, LineRead::Eof);
    }

    #[test]
    fn trimming() {
        assert_eq!(trim_line_ending(b"a\r\n"), b"a");
        assert_eq!(trim_line_ending(b"a\n"), b"a");
        assert_eq!(trim_line_ending(b"a\r"), b"a");
        assert_eq!(trim_line_ending(b"a"), b"a");
        assert_eq!(trim_line_ending(b"a\n\n"), b"a\n");
    }
}
