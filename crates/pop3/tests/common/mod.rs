//! Test harness: a temp store with users, a POP3 server on a loopback port,
//! and a byte-exact client.
#![allow(dead_code)]
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use mailroom_net::listener::TlsMode;
use mailroom_net::{AuthConfig, Authenticator, ServerContext, Shutdown};
use mailroom_pop3::Pop3Config;
use mailroom_store::Store;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub const ALICE: &str = "alice@example.test";
pub const ALICE_PW: &str = "alice secret";
pub const BOB: &str = "bob@example.test";
pub const BOB_PW: &str = "bob secret";
const IO_TIMEOUT: Duration = Duration::from_secs(20);

pub struct Server {
    pub addr: SocketAddr,
    pub store: Store,
    pub ctx: Arc<ServerContext>,
    pub dir: tempfile::TempDir,
    pub alice: i64,
    pub bob: i64,
    handle: Option<JoinHandle<()>>,
}

pub fn fast_config() -> Pop3Config {
    Pop3Config::default()
}

impl Server {
    pub async fn start(config: Pop3Config) -> Server {
        Self::start_mode(TlsMode::Plain, config).await
    }

    pub async fn start_mode(mode: TlsMode, config: Pop3Config) -> Server {
        Self::start_at(IpAddr::V4(Ipv4Addr::LOCALHOST), mode, config).await
    }

    /// Starts a server listening on `ip` (a non-loopback address makes the
    /// client a "remote" peer for the plaintext-authentication rule).
    pub async fn start_at(ip: IpAddr, mode: TlsMode, config: Pop3Config) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.domain_add("example.test").unwrap();
        let hash = mailroom_net::password::hash_password(ALICE_PW).unwrap();
        let alice = store.account_create(ALICE, &hash, None).unwrap().id;
        let hash = mailroom_net::password::hash_password(BOB_PW).unwrap();
        let bob = store.account_create(BOB, &hash, None).unwrap().id;
        Self::start_inner(ip, dir, store, alice, bob, mode, config).await
    }

    /// Starts a server on an existing data directory (restart tests).
    pub async fn start_on(
        dir: tempfile::TempDir,
        store: Store,
        alice: i64,
        bob: i64,
        mode: TlsMode,
        config: Pop3Config,
    ) -> Server {
        Self::start_inner(IpAddr::V4(Ipv4Addr::LOCALHOST), dir, store, alice, bob, mode, config).await
    }

    async fn start_inner(
        ip: IpAddr,
        dir: tempfile::TempDir,
        store: Store,
        alice: i64,
        bob: i64,
        mode: TlsMode,
        config: Pop3Config,
    ) -> Server {
        let tls = mailroom_net::tls::server_config(None, None, dir.path(), "localhost").unwrap();
        let auth = Authenticator::new(
            store.clone(),
            AuthConfig {
                failure_delay: Duration::from_millis(5),
                ..AuthConfig::default()
            },
        );
        let ctx = Arc::new(ServerContext {
            store: store.clone(),
            tls,
            auth,
            hostname: "mail.example.test".into(),
            allow_plaintext: false,
            shutdown: Shutdown::new(),
        });
        let listener = TcpListener::bind(SocketAddr::new(ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = tokio::spawn(mailroom_pop3::serve(ctx.clone(), listener, mode, Arc::new(config)));
        Server {
            addr,
            store,
            ctx,
            dir,
            alice,
            bob,
            handle: Some(handle),
        }
    }

    pub fn inbox(&self, account: i64) -> i64 {
        self.store.mailbox_get(account, "INBOX").unwrap().unwrap().id
    }

    /// Delivers a message to an account's INBOX as SMTP would; returns its UID.
    pub fn deliver(&self, account: i64, raw: &[u8]) -> u32 {
        let blob = self.store.prepare_blob(raw).unwrap();
        self.store
            .deliver(&blob, &[account], 1_700_000_000)
            .unwrap()
            .remove(0)
            .unwrap()
    }

    pub fn uids(&self, account: i64) -> Vec<u32> {
        self.store
            .messages(self.inbox(account))
            .unwrap()
            .iter()
            .map(|m| m.uid)
            .collect()
    }

    /// Stops the server; returns once `serve` has returned.
    pub async fn stop(mut self) -> (tempfile::TempDir, Store) {
        self.ctx.shutdown.trigger();
        if let Some(h) = self.handle.take() {
            tokio::time::timeout(IO_TIMEOUT, h)
                .await
                .expect("serve did not return")
                .unwrap();
        }
        (self.dir, self.store)
    }

    pub async fn connect(&self) -> Client<TcpStream> {
        let tcp = TcpStream::connect(self.addr).await.unwrap();
        Client::new(tcp)
    }

    /// Connects, reads the greeting and logs in with USER/PASS.
    pub async fn login(&self, user: &str, pw: &str) -> Client<TcpStream> {
        let mut c = self.connect().await;
        c.line().await;
        c.send(&format!("USER {user}\r\n")).await;
        assert_eq!(c.line().await, "+OK Send PASS\r\n");
        c.send(&format!("PASS {pw}\r\n")).await;
        let reply = c.line().await;
        assert!(reply.starts_with("+OK Logged in"), "{reply}");
        c
    }
}

pub struct Client<S> {
    pub io: BufReader<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    pub fn new(s: S) -> Self {
        Client { io: BufReader::new(s) }
    }

    pub async fn send(&mut self, s: &str) {
        self.send_bytes(s.as_bytes()).await;
    }

    pub async fn send_bytes(&mut self, b: &[u8]) {
        self.io.get_mut().write_all(b).await.unwrap();
        self.io.get_mut().flush().await.unwrap();
    }

    /// Reads one line, CRLF included.
    pub async fn line(&mut self) -> String {
        let mut buf = Vec::new();
        tokio::time::timeout(IO_TIMEOUT, self.io.read_until(b'\n', &mut buf))
            .await
            .expect("timed out waiting for a line")
            .unwrap();
        String::from_utf8(buf).unwrap()
    }

    /// Reads exactly `expected.len()` bytes and compares them.
    pub async fn expect(&mut self, expected: &str) {
        let got = self.read_exact(expected.len()).await;
        assert_eq!(String::from_utf8_lossy(&got), expected);
    }

    pub async fn read_exact(&mut self, n: usize) -> Vec<u8> {
        let mut got = vec![0u8; n];
        tokio::time::timeout(IO_TIMEOUT, self.io.read_exact(&mut got))
            .await
            .expect("timed out waiting for bytes")
            .unwrap();
        got
    }

    /// Sends `cmd` and checks the server's exact answer.
    pub async fn exchange(&mut self, cmd: &str, expected: &str) {
        self.send(cmd).await;
        self.expect(expected).await;
    }

    /// Reads a multi-line response body up to and including ".\r\n".
    pub async fn multiline(&mut self) -> Vec<u8> {
        let mut all = Vec::new();
        loop {
            let mut line = Vec::new();
            tokio::time::timeout(IO_TIMEOUT, self.io.read_until(b'\n', &mut line))
                .await
                .expect("timed out in a multi-line response")
                .unwrap();
            assert!(!line.is_empty(), "connection closed in a multi-line response");
            all.extend_from_slice(&line);
            if line == b".\r\n" {
                return all;
            }
        }
    }

    /// Waits for the server to close the connection; returns what it sent
    /// before closing.
    pub async fn closed(&mut self) -> Vec<u8> {
        let mut rest = Vec::new();
        tokio::time::timeout(IO_TIMEOUT, self.io.read_to_end(&mut rest))
            .await
            .expect("server did not close the connection")
            .unwrap_or(0);
        rest
    }
}

/// A local address other than loopback, if the machine has one: the UDP
/// "connect" only picks a route, it sends nothing.
pub fn non_loopback_ip() -> Option<IpAddr> {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// Undoes byte-stuffing and removes the terminating line, as a client does.
pub fn unstuff(wire: &[u8]) -> Vec<u8> {
    let body = wire.strip_suffix(b".\r\n").expect("missing terminator");
    let mut out = Vec::new();
    for line in body.split_inclusive(|&b| b == b'\n') {
        out.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
    }
    out
}

pub const MSG1: &str = "From: Carol <carol@example.org>\r\nTo: alice@example.test\r\nSubject: first\r\nMessage-ID: <1@example.org>\r\n\r\nHello Alice.\r\n.leading dot\r\nBye.\r\n";
pub const MSG2: &str =
    "From: dave@example.org\r\nTo: alice@example.test\r\nSubject: second\r\n\r\nline 1\r\nline 2\r\nline 3\r\n";
