//! Test harness: an in-process IMAP server on a loopback port with its own
//! temporary store, and a line-oriented client for byte transcripts.
#![allow(dead_code)]
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mailroom_imap::ImapConfig;
use mailroom_net::listener::TlsMode;
use mailroom_net::{AuthConfig, Authenticator, ServerContext, Shutdown};
use mailroom_store::Store;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

pub const USER: &str = "alice@example.test";
pub const PASS: &str = "secret-pw";

pub struct Server {
    pub addr: SocketAddr,
    pub store: Store,
    pub account_id: i64,
    pub shutdown: Shutdown,
    pub dir: tempfile::TempDir,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    pub async fn start() -> Server {
        Server::start_with(ImapConfig::default()).await
    }

    pub async fn start_with(config: ImapConfig) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("data")).expect("store");
        store.domain_add("example.test").expect("domain");
        let hash = mailroom_net::password::hash_password(PASS).expect("hash");
        let account = store.account_create(USER, &hash, None).expect("account");
        let tls = mailroom_net::tls::server_config(None, None, dir.path(), "localhost").expect("tls");
        let auth = Authenticator::new(
            store.clone(),
            AuthConfig {
                failure_delay: Duration::from_millis(10),
                ..Default::default()
            },
        );
        let shutdown = Shutdown::new();
        let ctx = Arc::new(ServerContext {
            store: store.clone(),
            tls,
            auth,
            hostname: "localhost".into(),
            allow_plaintext: false,
            shutdown: shutdown.clone(),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let handle = tokio::spawn(mailroom_imap::serve(ctx, listener, TlsMode::Plain, Arc::new(config)));
        Server {
            addr,
            store,
            account_id: account.id,
            shutdown,
            dir,
            handle: Some(handle),
        }
    }

    pub async fn client(&self) -> Client {
        Client::connect(self.addr).await
    }

    /// A logged-in client.
    pub async fn login(&self) -> Client {
        let mut c = self.client().await;
        let r = c.cmd(&format!("L1 LOGIN {USER} {PASS}")).await;
        assert!(r.last().expect("reply").starts_with("L1 OK"), "{r:?}");
        c
    }

    /// Delivers a message as SMTP would.
    pub fn deliver(&self, raw: &[u8]) -> u32 {
        let blob = self.store.prepare_blob(raw).expect("blob");
        let r = self
            .store
            .deliver(&blob, &[self.account_id], 1_700_000_000)
            .expect("deliver");
        *r[0].as_ref().expect("delivered")
    }

    pub async fn stop(mut self) {
        self.shutdown.trigger();
        if let Some(h) = self.handle.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), h).await;
        }
    }
}

pub fn message(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: {subject}\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{subject}@example.test>\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

pub struct Client {
    pub r: BufReader<TcpStream>,
    pub greeting: String,
}

const WAIT: Duration = Duration::from_secs(10);

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let s = TcpStream::connect(addr).await.expect("connect");
        let mut c = Client {
            r: BufReader::new(s),
            greeting: String::new(),
        };
        c.greeting = c.line().await;
        c
    }

    pub async fn send(&mut self, data: &[u8]) {
        self.r.get_mut().write_all(data).await.expect("write");
    }

    /// Sends one command line (CRLF added).
    pub async fn send_line(&mut self, line: &str) {
        self.send(format!("{line}\r\n").as_bytes()).await;
    }

    /// One line including its CRLF; "" at EOF.
    pub async fn line(&mut self) -> String {
        let mut buf = Vec::new();
        tokio::time::timeout(WAIT, self.r.read_until(b'\n', &mut buf))
            .await
            .expect("timed out waiting for a line")
            .expect("read");
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// A line or `None` if nothing arrives within `d`.
    pub async fn line_within(&mut self, d: Duration) -> Option<String> {
        let mut buf = Vec::new();
        match tokio::time::timeout(d, self.r.read_until(b'\n', &mut buf)).await {
            Ok(Ok(_)) => Some(String::from_utf8_lossy(&buf).into_owned()),
            _ => None,
        }
    }

    pub async fn read_exact(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0; n];
        tokio::time::timeout(WAIT, self.r.read_exact(&mut buf))
            .await
            .expect("timed out")
            .expect("read");
        buf
    }

    /// Lines (CRLF stripped) up to and including the tagged reply for `tag`.
    pub async fn until_tagged(&mut self, tag: &str) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let l = self.line().await;
            assert!(!l.is_empty(), "connection closed; got {out:?}");
            let l = l.trim_end_matches("\r\n").to_string();
            let done = l.starts_with(&format!("{tag} "));
            out.push(l);
            if done {
                return out;
            }
        }
    }

    /// Sends `line` (which starts with its tag) and returns the response lines.
    pub async fn cmd(&mut self, line: &str) -> Vec<String> {
        let tag = line.split(' ').next().expect("tag").to_string();
        self.send_line(line).await;
        self.until_tagged(&tag).await
    }

    /// APPENDs a message with a synchronising literal.
    pub async fn append(&mut self, tag: &str, mailbox: &str, flags: &str, msg: &[u8]) -> Vec<String> {
        self.send_line(&format!("{tag} APPEND {mailbox} ({flags}) {{{}}}", msg.len()))
            .await;
        let cont = self.line().await;
        assert!(cont.starts_with("+ "), "{cont}");
        self.send(msg).await;
        self.send(b"\r\n").await;
        self.until_tagged(tag).await
    }
}
