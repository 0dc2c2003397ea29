//! A TCP stream that is either plaintext or TLS, and can be upgraded.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

/// How long a TLS handshake may take before the connection is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// A server-side connection, plaintext or TLS.
#[derive(Debug)]
pub enum MaybeTls {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

/// Negotiated TLS parameters, e.g. for `Received:` headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// e.g. `TLSv1_3`.
    pub version: String,
    /// e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
}

impl MaybeTls {
    pub fn is_tls(&self) -> bool {
        matches!(self, MaybeTls::Tls(_))
    }

    /// The underlying TCP socket (for addresses and socket options).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            MaybeTls::Plain(s) => s,
            MaybeTls::Tls(s) => s.get_ref().0,
        }
    }

    /// The negotiated protocol version and cipher suite, if this is TLS.
    pub fn tls_info(&self) -> Option<TlsInfo> {
        let MaybeTls::Tls(s) = self else {
            return None;
        };
        let conn = s.get_ref().1;
        let version = conn.protocol_version()?;
        let cipher = conn.negotiated_cipher_suite()?;
        Some(TlsInfo {
            version: format!("{version:?}"),
            cipher: format!("{:?}", cipher.suite()),
        })
    }

    /// Performs the server side of a TLS handshake on a plaintext stream
    /// (STARTTLS, STLS), giving up after [`HANDSHAKE_TIMEOUT`].
    ///
    /// **The caller must discard any plaintext it has already buffered but
    /// not yet processed** (e.g. the contents of a `BufReader` wrapped around
    /// this stream) before upgrading: bytes pipelined after the STARTTLS
    /// command were sent in the clear and must not be interpreted as if they
    /// had arrived over TLS (the CVE-2011-0411 command-injection class).
    /// Typically: `let stream = reader.into_inner();` and treat a non-empty
    /// `reader.buffer()` as a protocol error, or drop it.
    ///
    /// Upgrading a stream that is already TLS fails with
    /// `io::ErrorKind::InvalidInput`. On handshake failure the connection is
    /// consumed and should be considered closed.
    pub async fn upgrade(self, acceptor: &TlsAcceptor) -> io::Result<MaybeTls> {
        match self {
            MaybeTls::Plain(tcp) => {
                let tls = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp))
                    .await
                    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
                Ok(MaybeTls::Tls(Box::new(tls)))
            }
            MaybeTls::Tls(_) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "connection is already using TLS",
            )),
        }
    }
}

impl AsyncRead for MaybeTls {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_read(cx, buf),
            MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for MaybeTls {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_write(cx, buf),
            MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            MaybeTls::Plain(s) => s.is_write_vectored(),
            MaybeTls::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_flush(cx),
            MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_shutdown(cx),
            MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls;
    use rustls_pki_types::ServerName;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn starttls_upgrade_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let server_cfg = tls::server_config(None, None, dir.path(), "mail.example.test").unwrap();
        let acceptor = TlsAcceptor::from(server_cfg);
        let client_cfg = tls::client_config_trusting(&tls::self_signed_paths(dir.path()).0).unwrap();

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();

        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let stream = MaybeTls::Plain(tcp);
            assert!(!stream.is_tls());
            assert!(stream.tls_info().is_none());
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            reader.read_line(&mut line).await.unwrap();
            assert_eq!(line, "STARTTLS\r\n");
            assert!(reader.buffer().is_empty());
            let mut stream = reader.into_inner();
            stream.write_all(b"220 go ahead\r\n").await.unwrap();
            let stream = stream.upgrade(&acceptor).await.unwrap();
            assert!(stream.is_tls());
            let info = stream.tls_info().unwrap();
            assert!(info.version.starts_with("TLSv1_"), "{info:?}");
            // A second upgrade is refused.
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            reader.read_line(&mut line).await.unwrap();
            assert_eq!(line, "PING\r\n");
            let mut stream = reader.into_inner();
            stream.write_all(b"PONG\r\n").await.unwrap();
            stream.flush().await.unwrap();
            let err = stream.upgrade(&acceptor).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        });

        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(b"STARTTLS\r\n").await.unwrap();
        let mut reply = [0u8; 14];
        tcp.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"220 go ahead\r\n");
        let connector = tokio_rustls::TlsConnector::from(client_cfg);
        let mut tls = connector
            .connect(ServerName::try_from("mail.example.test").unwrap(), tcp)
            .await
            .unwrap();
        tls.write_all(b"PING\r\n").await.unwrap();
        let mut reply = [0u8; 6];
        tls.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"PONG\r\n");
        server.await.unwrap();
    }

    #[tokio::test]
    async fn plain_stream_passthrough() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move {
            let mut tcp = TcpStream::connect(addr).await.unwrap();
            tcp.write_all(b"hello").await.unwrap();
            let mut buf = Vec::new();
            tcp.read_to_end(&mut buf).await.unwrap();
            buf
        });
        let (tcp, peer) = listener.accept().await.unwrap();
        let mut s = MaybeTls::Plain(tcp);
        assert_eq!(s.tcp().peer_addr().unwrap(), peer);
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello");
        s.write_all(b"world").await.unwrap();
        s.shutdown().await.unwrap();
        assert_eq!(client.await.unwrap(), b"world");
    }
}
