//! A small outbound SMTP client: one transaction to one host, with
//! opportunistic STARTTLS (any certificate accepted, as Postfix's `may`
//! level: encryption against passive eavesdropping, no authentication).
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf};
use tokio::net::TcpStream;

use crate::reply::Reply;

/// Longest reply line we read from a server, and most lines in one reply.
const MAX_REPLY_LINE: usize = 4096;
const MAX_REPLY_LINES: usize = 128;

/// What one recipient got from the remote server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcptResult {
    Delivered(String),
    Temporary(String),
    Permanent(String),
}

/// The per-recipient outcome of a transaction, and whether the server
/// took over DSN duties (it advertised DSN, RFC 3461 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub results: Vec<RcptResult>,
    pub dsn: bool,
}

/// A failure that concerns the whole connection (try the next host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFailure {
    /// The server answered with a 5xx (as opposed to 4xx or a network error).
    pub permanent: bool,
    pub message: String,
}

fn fail(permanent: bool, message: impl Into<String>) -> HostFailure {
    HostFailure {
        permanent,
        message: message.into(),
    }
}

/// One recipient of an outbound transaction.
#[derive(Debug, Clone)]
pub struct OutRecipient {
    pub address: String,
    pub notify: Option<String>,
    pub orcpt: Option<String>,
}

/// Everything needed to send one message to one host.
pub struct Transaction<'a> {
    pub helo: &'a str,
    pub sender: &'a str,
    pub recipients: &'a [OutRecipient],
    pub message: &'a [u8],
    pub env_id: Option<&'a str>,
    pub ret: Option<&'a str>,
    pub smtputf8: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub command: Duration,
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Accepts any certificate, but still checks the handshake signatures so
/// the session keys really belong to the certificate presented.
#[derive(Debug)]
struct AcceptAnyCert(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The client TLS configuration for opportunistic STARTTLS.
pub fn opportunistic_tls() -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    let provider = mailroom_net::tls::provider();
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

struct Conn {
    io: BufReader<Stream>,
    timeouts: Timeouts,
}

impl Conn {
    async fn read_reply(&mut self) -> Result<Reply, HostFailure> {
        let mut lines = Vec::new();
        let mut buf = Vec::new();
        loop {
            let r = tokio::time::timeout(
                self.timeouts.command,
                mailroom_net::read_line_limited(&mut self.io, &mut buf, MAX_REPLY_LINE),
            )
            .await;
            match r {
                Err(_) => return Err(fail(false, "timeout waiting for reply")),
                Ok(Err(e)) => return Err(fail(false, format!("read error: {e}"))),
                Ok(Ok(mailroom_net::LineRead::Eof)) => return Err(fail(false, "connection closed by server")),
                Ok(Ok(mailroom_net::LineRead::TooLong)) => return Err(fail(false, "reply line too long")),
                Ok(Ok(mailroom_net::LineRead::Line)) => {}
            }
            let line = String::from_utf8_lossy(mailroom_net::trim_line_ending(&buf)).into_owned();
            let code = line
                .get(..3)
                .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|c| c.parse::<u16>().ok())
                .filter(|c| (200..600).contains(c))
                .ok_or_else(|| fail(false, format!("malformed reply: {line}")))?;
            let sep = line.as_bytes().get(3).copied().unwrap_or(b' ');
            lines.push(line.get(4..).unwrap_or("").to_string());
            if sep != b'-' {
                return Ok(Reply::multi(code, lines));
            }
            if lines.len() > MAX_REPLY_LINES {
                return Err(fail(false, "reply has too many lines"));
            }
        }
    }

    async fn send(&mut self, data: &[u8]) -> Result<(), HostFailure> {
        let w = self.io.get_mut();
        match tokio::time::timeout(self.timeouts.command, async {
            w.write_all(data).await?;
            w.flush().await
        })
        .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(fail(false, format!("write error: {e}"))),
            Err(_) => Err(fail(false, "timeout sending")),
        }
    }

    async fn command(&mut self, line: &str) -> Result<Reply, HostFailure> {
        self.send(format!("{line}\r\n").as_bytes()).await?;
        self.read_reply().await
    }
}

fn expect(reply: &Reply, want: u16, what: &str) -> Result<(), HostFailure> {
    if reply.code == want {
        Ok(())
    } else {
        Err(fail(reply.code >= 500, format!("{what}: {}", reply.summary())))
    }
}

/// Sends `tx` to `addr`. With `try_tls`, upgrades with STARTTLS when offered.
pub async fn send(
    addr: SocketAddr,
    server_name: &str,
    tx: &Transaction<'_>,
    timeouts: Timeouts,
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> Result<Sent, HostFailure> {
    let tcp = match tokio::time::timeout(timeouts.connect, TcpStream::connect(addr)).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => return Err(fail(false, format!("connect to {addr}: {e}"))),
        Err(_) => return Err(fail(false, format!("connect to {addr}: timed out"))),
    };
    let _ = tcp.set_nodelay(true);
    let mut c = Conn {
        io: BufReader::new(Stream::Plain(tcp)),
        timeouts,
    };
    let greeting = c.read_reply().await?;
    expect(&greeting, 220, "greeting")?;
    let mut ehlo = c.command(&format!("EHLO {}", tx.helo)).await?;
    let mut esmtp = true;
    if ehlo.code != 250 {
        ehlo = c.command(&format!("HELO {}", tx.helo)).await?;
        expect(&ehlo, 250, "HELO")?;
        esmtp = false;
    }
    if let Some(tls) = tls
        && esmtp
        && has_ext(&ehlo, "STARTTLS")
    {
        let r = c.command("STARTTLS").await?;
        if r.code == 220 {
            let name = ServerName::try_from(server_name.to_string())
                .unwrap_or_else(|_| ServerName::IpAddress(addr.ip().into()));
            let Stream::Plain(tcp) = c.io.into_inner() else {
                return Err(fail(false, "TLS already active"));
            };
            let connector = tokio_rustls::TlsConnector::from(tls.clone());
            let stream = match tokio::time::timeout(timeouts.command, connector.connect(name, tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => return Err(fail(false, format!("TLS handshake: {e}"))),
                Err(_) => return Err(fail(false, "TLS handshake timed out")),
            };
            c.io = BufReader::new(Stream::Tls(Box::new(stream)));
            ehlo = c.command(&format!("EHLO {}", tx.helo)).await?;
            expect(&ehlo, 250, "EHLO after STARTTLS")?;
        }
    }
    let dsn = esmtp && has_ext(&ehlo, "DSN");
    if tx.smtputf8 && !(esmtp && has_ext(&ehlo, "SMTPUTF8")) {
        // RFC 6531 §3.2: the message cannot be downgraded here.
        return Err(fail(true, "553 5.6.7 remote server does not support SMTPUTF8"));
    }
    let mut mail = format!("MAIL FROM:<{}>", tx.sender);
    if esmtp && has_ext(&ehlo, "SIZE") {
        mail.push_str(&format!(" SIZE={}", tx.message.len()));
    }
    if esmtp && has_ext(&ehlo, "8BITMIME") && !tx.message.is_ascii() {
        mail.push_str(" BODY=8BITMIME");
    }
    if tx.smtputf8 {
        mail.push_str(" SMTPUTF8");
    }
    if dsn {
        if let Some(r) = tx.ret {
            mail.push_str(&format!(" RET={r}"));
        }
        if let Some(e) = tx.env_id {
            mail.push_str(&format!(" ENVID={e}"));
        }
    }
    let r = c.command(&mail).await?;
    expect(&r, 250, "MAIL FROM")?;
    let mut results = Vec::with_capacity(tx.recipients.len());
    let mut accepted = 0;
    for rcpt in tx.recipients {
        let mut line = format!("RCPT TO:<{}>", rcpt.address);
        if dsn {
            if let Some(n) = &rcpt.notify {
                line.push_str(&format!(" NOTIFY={n}"));
            }
            if let Some(o) = &rcpt.orcpt {
                line.push_str(&format!(" ORCPT={o}"));
            }
        }
        let r = c.command(&line).await?;
        results.push(match r.code {
            250 | 251 => {
                accepted += 1;
                None
            }
            400..=499 => Some(RcptResult::Temporary(r.summary())),
            _ => Some(RcptResult::Permanent(r.summary())),
        });
    }
    if accepted == 0 {
        let _ = c.command("QUIT").await;
        return Ok(Sent {
            results: results.into_iter().flatten().collect(),
            dsn,
        });
    }
    let r = c.command("DATA").await?;
    expect(&r, 354, "DATA")?;
    c.send(&dot_stuff(tx.message)).await?;
    let fin = c.read_reply().await?;
    let _ = c.command("QUIT").await;
    let outcome = match fin.code {
        200..=299 => RcptResult::Delivered(fin.summary()),
        400..=499 => RcptResult::Temporary(fin.summary()),
        _ => RcptResult::Permanent(fin.summary()),
    };
    Ok(Sent {
        results: results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| outcome.clone()))
            .collect(),
        dsn,
    })
}

fn has_ext(ehlo: &Reply, name: &str) -> bool {
    ehlo.lines
        .iter()
        .skip(1)
        .any(|l| l.split(' ').next().is_some_and(|k| k.eq_ignore_ascii_case(name)))
}

/// DATA encoding (RFC 5321 §4.5.2): lines end in CRLF (bare CR or LF are
/// turned into CRLF so that nothing we send can be read two ways), leading
/// dots doubled, then the end marker.
pub fn dot_stuff(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + msg.len() / 64 + 5);
    let mut at_line_start = true;
    let mut i = 0;
    while i < msg.len() {
        let b = msg[i];
        match b {
            b'\r' | b'\n' => {
                out.extend_from_slice(b"\r\n");
                if b == b'\r' && msg.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                at_line_start = true;
            }
            _ => {
                if at_line_start && b == b'.' {
                    out.push(b'.');
                }
                out.push(b);
                at_line_start = false;
            }
        }
        i += 1;
    }
    if !at_line_start {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stuffing() {
        assert_eq!(dot_stuff(b"a\r\n.b\r\n"), b"a\r\n..b\r\n.\r\n");
        assert_eq!(dot_stuff(b".x"), b"..x\r\n.\r\n");
        assert_eq!(dot_stuff(b"a\n.\nb\r.\r"), b"a\r\n..\r\nb\r\n..\r\n.\r\n");
        assert_eq!(dot_stuff(b""), b".\r\n");
    }
}
