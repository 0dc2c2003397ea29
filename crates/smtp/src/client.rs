//! A small outbound SMTP client: one transaction to one host. TLS is
//! opportunistic by default (any certificate accepted, as Postfix's `may`
//! level: encryption against passive eavesdropping, no authentication);
//! for a smarthost it can be required (STARTTLS or implicit, with a
//! verifying configuration) and followed by AUTH PLAIN or LOGIN.
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

use mailroom_store::{BlobReader, Store};
use std::io::Read;

use crate::reply::Reply;
use crate::smarthost::Credentials;

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
    /// About our own settings (e.g. rejected credentials): another address
    /// of the same host would fail alike, and repeated failed logins can get
    /// an account locked.
    pub ours: bool,
}

fn fail(permanent: bool, message: impl Into<String>) -> HostFailure {
    HostFailure {
        permanent,
        message: message.into(),
        ours: false,
    }
}

fn ours(message: impl Into<String>) -> HostFailure {
    HostFailure {
        ours: true,
        ..fail(false, message)
    }
}

/// One recipient of an outbound transaction.
#[derive(Debug, Clone)]
pub struct OutRecipient {
    pub address: String,
    pub notify: Option<String>,
    pub orcpt: Option<String>,
}

/// The message to send: in memory, or a stored blob streamed from disk
/// (a queued message is never read into memory to be sent).
#[derive(Clone, Copy)]
pub enum Body<'a> {
    Bytes(&'a [u8]),
    Blob { store: &'a Store, hash: &'a str, size: u64 },
}

/// Read size when streaming a blob to the network.
const CHUNK: usize = 64 * 1024;

impl Body<'_> {
    fn size(&self) -> u64 {
        match self {
            Body::Bytes(b) => b.len() as u64,
            Body::Blob { size, .. } => *size,
        }
    }

    async fn open(&self) -> Result<Option<BlobReader>, HostFailure> {
        let Body::Blob { store, hash, .. } = self else {
            return Ok(None);
        };
        let (store, hash) = ((*store).clone(), hash.to_string());
        match tokio::task::spawn_blocking(move || store.open_blob(&hash)).await {
            Ok(Ok(r)) => Ok(Some(r)),
            Ok(Err(e)) => Err(fail(false, format!("4.3.0 cannot read queued message: {e}"))),
            Err(e) => Err(fail(false, format!("4.3.0 cannot read queued message: {e}"))),
        }
    }

    /// Whether any octet is outside US-ASCII (for BODY=8BITMIME).
    async fn is_8bit(&self) -> Result<bool, HostFailure> {
        let Some(mut r) = self.open().await? else {
            return Ok(matches!(self, Body::Bytes(b) if !b.is_ascii()));
        };
        let scan = tokio::task::spawn_blocking(move || -> std::io::Result<bool> {
            let mut buf = vec![0u8; CHUNK];
            loop {
                let n = r.read(&mut buf)?;
                if n == 0 {
                    return Ok(false);
                }
                if !buf[..n].is_ascii() {
                    return Ok(true);
                }
            }
        });
        match scan.await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(fail(false, format!("4.3.0 cannot read queued message: {e}"))),
            Err(e) => Err(fail(false, format!("4.3.0 cannot read queued message: {e}"))),
        }
    }

    /// Sends the message dot-stuffed, with the end marker. A read error
    /// midway returns before the end marker: the connection is then
    /// dropped, and the server discards the incomplete message.
    async fn send(&self, c: &mut Conn) -> Result<(), HostFailure> {
        let mut st = DotStuffer::default();
        let mut out = Vec::with_capacity(CHUNK + CHUNK / 8);
        match self.open().await? {
            None => {
                if let Body::Bytes(b) = self {
                    st.feed(b, &mut out);
                }
            }
            Some(mut r) => {
                let mut buf = vec![0u8; CHUNK];
                loop {
                    let read = tokio::task::spawn_blocking(move || {
                        let res = r.read(&mut buf);
                        (r, buf, res)
                    })
                    .await;
                    let (back, b, res) = read.map_err(|e| fail(false, format!("4.3.0 reading queued message: {e}")))?;
                    let n = res.map_err(|e| fail(false, format!("4.3.0 reading queued message: {e}")))?;
                    (r, buf) = (back, b);
                    if n == 0 {
                        break;
                    }
                    st.feed(&buf[..n], &mut out);
                    if out.len() >= CHUNK {
                        c.send(&out).await?;
                        out.clear();
                    }
                }
            }
        }
        st.finish(&mut out);
        c.send(&out).await
    }
}

/// Everything needed to send one message to one host.
pub struct Transaction<'a> {
    pub helo: &'a str,
    pub sender: &'a str,
    pub recipients: &'a [OutRecipient],
    pub message: Body<'a>,
    pub env_id: Option<&'a str>,
    pub ret: Option<&'a str>,
    pub smtputf8: bool,
}

/// How TLS is used on an outbound connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboundTls {
    /// STARTTLS when offered and a client configuration is given.
    Opportunistic,
    /// STARTTLS must be offered and succeed.
    Required,
    /// TLS from the first byte (RFC 8314).
    Implicit,
}

/// The TLS policy and credentials of one connection.
#[derive(Debug, Clone, Copy)]
pub struct Security<'a> {
    pub mode: OutboundTls,
    pub tls: Option<&'a Arc<rustls::ClientConfig>>,
    /// AUTH after TLS; never sent over a plaintext connection.
    pub auth: Option<&'a Credentials>,
}

impl Security<'_> {
    /// Opportunistic STARTTLS, no AUTH: mail to MX hosts and routes.
    pub fn opportunistic(tls: Option<&Arc<rustls::ClientConfig>>) -> Security<'_> {
        Security {
            mode: OutboundTls::Opportunistic,
            tls,
            auth: None,
        }
    }
}

/// Longest AUTH command line we send with an initial response (RFC 5321
/// §4.5.3.1.4 command line limit, which many servers apply to AUTH too).
const MAX_AUTH_LINE: usize = 510;

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

    /// Ends the session politely (QUIT, then a TLS close_notify); errors
    /// no longer matter here.
    async fn quit(&mut self) {
        let _ = self.command("QUIT").await;
        let _ = tokio::time::timeout(self.timeouts.command, self.io.get_mut().shutdown()).await;
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

fn tls_name(name: &str, addr: SocketAddr) -> ServerName<'static> {
    ServerName::try_from(name.to_string()).unwrap_or_else(|_| ServerName::IpAddress(addr.ip().into()))
}

async fn handshake(
    tls: &Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
    tcp: TcpStream,
    timeout: Duration,
) -> Result<Stream, HostFailure> {
    let connector = tokio_rustls::TlsConnector::from(tls.clone());
    match tokio::time::timeout(timeout, connector.connect(name, tcp)).await {
        Ok(Ok(s)) => Ok(Stream::Tls(Box::new(s))),
        Ok(Err(e)) => Err(fail(false, format!("TLS handshake: {e}"))),
        Err(_) => Err(fail(false, "TLS handshake timed out")),
    }
}

/// Sends `tx` to `addr` (named `server_name`, for TLS) under `sec`.
pub async fn send(
    addr: SocketAddr,
    server_name: &str,
    tx: &Transaction<'_>,
    timeouts: Timeouts,
    sec: &Security<'_>,
) -> Result<Sent, HostFailure> {
    let tcp = match tokio::time::timeout(timeouts.connect, TcpStream::connect(addr)).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => return Err(fail(false, format!("connect to {addr}: {e}"))),
        Err(_) => return Err(fail(false, format!("connect to {addr}: timed out"))),
    };
    let _ = tcp.set_nodelay(true);
    let mut secure = false;
    let stream = match (sec.mode, sec.tls) {
        (OutboundTls::Implicit, Some(tls)) => {
            secure = true;
            handshake(tls, tls_name(server_name, addr), tcp, timeouts.command).await?
        }
        (OutboundTls::Implicit, None) => return Err(fail(false, "4.7.0 implicit TLS configured but TLS unavailable")),
        _ => Stream::Plain(tcp),
    };
    let mut c = Conn {
        io: BufReader::new(stream),
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
    if let Some(tls) = sec.tls
        && !secure
        && esmtp
        && has_ext(&ehlo, "STARTTLS")
    {
        let r = c.command("STARTTLS").await?;
        if r.code == 220 {
            let Stream::Plain(tcp) = c.io.into_inner() else {
                return Err(fail(false, "TLS already active"));
            };
            // RFC 3207 §4.2: nothing from before the handshake is kept.
            c.io = BufReader::new(handshake(tls, tls_name(server_name, addr), tcp, timeouts.command).await?);
            secure = true;
            ehlo = c.command(&format!("EHLO {}", tx.helo)).await?;
            expect(&ehlo, 250, "EHLO after STARTTLS")?;
        }
    }
    if !secure && sec.mode == OutboundTls::Required {
        c.quit().await;
        return Err(fail(
            false,
            format!("4.7.4 {server_name} did not offer STARTTLS, which is required (smarthost_tls)"),
        ));
    }
    if let Some(creds) = sec.auth {
        if !secure {
            c.quit().await;
            return Err(fail(
                false,
                format!("4.7.4 {server_name} offers no TLS: smarthost credentials are never sent in cleartext"),
            ));
        }
        if let Err(f) = authenticate(&mut c, &ehlo, creds).await {
            c.quit().await;
            return Err(f);
        }
    }
    let dsn = esmtp && has_ext(&ehlo, "DSN");
    if tx.smtputf8 && !(esmtp && has_ext(&ehlo, "SMTPUTF8")) {
        // RFC 6531 §3.2: the message cannot be downgraded here.
        return Err(fail(true, "553 5.6.7 remote server does not support SMTPUTF8"));
    }
    let mut mail = format!("MAIL FROM:<{}>", tx.sender);
    if esmtp && has_ext(&ehlo, "SIZE") {
        mail.push_str(&format!(" SIZE={}", tx.message.size()));
    }
    if esmtp && has_ext(&ehlo, "8BITMIME") && tx.message.is_8bit().await? {
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
    let rcpt_lines: Vec<String> = tx
        .recipients
        .iter()
        .map(|rcpt| {
            let mut line = format!("RCPT TO:<{}>", rcpt.address);
            if dsn {
                if let Some(n) = &rcpt.notify {
                    line.push_str(&format!(" NOTIFY={n}"));
                }
                if let Some(o) = &rcpt.orcpt {
                    line.push_str(&format!(" ORCPT={o}"));
                }
            }
            line
        })
        .collect();
    let (mail_reply, rcpt_replies, data_reply) = if esmtp && has_ext(&ehlo, "PIPELINING") {
        // RFC 2920 §3.1: MAIL, every RCPT and DATA (last in the group) in
        // one write, then the replies in order.
        let mut group = format!("{mail}\r\n");
        for l in &rcpt_lines {
            group.push_str(l);
            group.push_str("\r\n");
        }
        group.push_str("DATA\r\n");
        c.send(group.as_bytes()).await?;
        let m = c.read_reply().await?;
        let mut rs = Vec::with_capacity(rcpt_lines.len());
        for _ in &rcpt_lines {
            rs.push(c.read_reply().await?);
        }
        let d = c.read_reply().await?;
        (m, rs, Some(d))
    } else {
        let m = c.command(&mail).await?;
        expect(&m, 250, "MAIL FROM")?;
        let mut rs = Vec::with_capacity(rcpt_lines.len());
        for l in &rcpt_lines {
            rs.push(c.command(l).await?);
        }
        (m, rs, None)
    };
    let mut results = Vec::with_capacity(tx.recipients.len());
    let mut accepted = 0;
    for r in &rcpt_replies {
        results.push(match r.code {
            250 | 251 => {
                accepted += 1;
                None
            }
            400..=499 => Some(RcptResult::Temporary(r.summary())),
            _ => Some(RcptResult::Permanent(r.summary())),
        });
    }
    if mail_reply.code != 250 || accepted == 0 {
        if data_reply.as_ref().is_some_and(|d| d.code == 354) {
            // A server that took DATA with nothing to deliver to: end the
            // (empty) message rather than leave it waiting.
            let _ = c.send(b".\r\n").await;
            let _ = c.read_reply().await;
        }
        c.quit().await;
        expect(&mail_reply, 250, "MAIL FROM")?;
        return Ok(Sent {
            results: results.into_iter().flatten().collect(),
            dsn,
        });
    }
    let data_reply = match data_reply {
        Some(d) => d,
        None => c.command("DATA").await?,
    };
    expect(&data_reply, 354, "DATA")?;
    tx.message.send(&mut c).await?;
    let fin = c.read_reply().await?;
    c.quit().await;
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

/// The SASL mechanisms in an EHLO reply (`AUTH PLAIN LOGIN`, or the old
/// `AUTH=PLAIN LOGIN` form).
fn auth_mechanisms(ehlo: &Reply) -> Vec<String> {
    ehlo.lines
        .iter()
        .skip(1)
        .filter_map(|l| {
            let u = l.to_ascii_uppercase();
            u.strip_prefix("AUTH ")
                .or_else(|| u.strip_prefix("AUTH="))
                .map(str::to_string)
        })
        .flat_map(|m| m.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .collect()
}

/// RFC 4954: AUTH PLAIN (RFC 4616), else LOGIN. Any failure is temporary
/// for the mail: the credentials are the configuration's problem.
async fn authenticate(c: &mut Conn, ehlo: &Reply, creds: &Credentials) -> Result<(), HostFailure> {
    let mechs = auth_mechanisms(ehlo);
    let has = |m: &str| mechs.iter().any(|x| x == m);
    let b64 = |s: &str| mailroom_net::sasl::encode_base64(s.as_bytes());
    let mut r = None;
    if has("PLAIN") {
        let payload = b64(&format!("\0{}\0{}", creds.user, creds.password));
        let line = format!("AUTH PLAIN {payload}");
        let reply = if line.len() <= MAX_AUTH_LINE {
            c.command(&line).await?
        } else {
            let first = c.command("AUTH PLAIN").await?;
            if first.code == 334 {
                c.command(&payload).await?
            } else {
                first
            }
        };
        r = Some(reply);
    }
    // LOGIN when PLAIN is not offered, or refused as a mechanism.
    if has("LOGIN") && r.as_ref().is_none_or(|r| r.code == 504) {
        let mut reply = c.command("AUTH LOGIN").await?;
        if reply.code == 334 {
            reply = c.command(&b64(&creds.user)).await?;
            if reply.code == 334 {
                reply = c.command(&b64(&creds.password)).await?;
            }
        }
        r = Some(reply);
    }
    let Some(r) = r else {
        return Err(ours("4.7.0 smarthost offers neither AUTH PLAIN nor AUTH LOGIN"));
    };
    if r.code == 235 {
        return Ok(());
    }
    if r.code == 334 {
        // RFC 4954 §4: "*" cancels an exchange the server wants to continue.
        let _ = c.command("*").await;
    }
    Err(ours(format!(
        "4.7.0 smarthost authentication as {} failed: {}",
        creds.user,
        r.summary()
    )))
}

fn has_ext(ehlo: &Reply, name: &str) -> bool {
    ehlo.lines
        .iter()
        .skip(1)
        .any(|l| l.split(' ').next().is_some_and(|k| k.eq_ignore_ascii_case(name)))
}

/// DATA encoding (RFC 5321 §4.5.2), streaming: lines end in CRLF (bare
/// CR or LF are turned into CRLF so that nothing we send can be read two
/// ways), leading dots doubled; `finish` adds the end marker.
#[derive(Debug)]
pub struct DotStuffer {
    at_line_start: bool,
    /// The last octet was a CR, already sent as CRLF: swallow its LF.
    after_cr: bool,
}

impl Default for DotStuffer {
    fn default() -> Self {
        DotStuffer {
            at_line_start: true,
            after_cr: false,
        }
    }
}

impl DotStuffer {
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        for &b in input {
            if std::mem::take(&mut self.after_cr) && b == b'\n' {
                continue;
            }
            match b {
                b'\r' | b'\n' => {
                    out.extend_from_slice(b"\r\n");
                    self.at_line_start = true;
                    self.after_cr = b == b'\r';
                }
                _ => {
                    if self.at_line_start && b == b'.' {
                        out.push(b'.');
                    }
                    out.push(b);
                    self.at_line_start = false;
                }
            }
        }
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.at_line_start {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b".\r\n");
    }
}

/// A whole message, dot-stuffed with its end marker.
pub fn dot_stuff(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + msg.len() / 64 + 5);
    let mut st = DotStuffer::default();
    st.feed(msg, &mut out);
    st.finish(&mut out);
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
        assert_eq!(dot_stuff(b"a\r\r\n\n"), b"a\r\n\r\n\r\n.\r\n");
        // Byte by byte gives the same as all at once.
        let msg = b"x\r\n.y\r\r\n.\n\r.z\r\n..\r\n";
        let mut st = DotStuffer::default();
        let mut out = Vec::new();
        for b in msg {
            st.feed(std::slice::from_ref(b), &mut out);
        }
        st.finish(&mut out);
        assert_eq!(out, dot_stuff(msg));
    }
}
