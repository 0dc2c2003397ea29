//! Shared helpers: an in-process Mailroom SMTP server on loopback ports
//! over a temporary store, and a raw byte-level SMTP client.
#![allow(dead_code)]
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mailroom_net::{AuthConfig, Authenticator, ServerContext, Shutdown};
use mailroom_smtp::{DeliveryConfig, SmtpConfig, SmtpListener};
use mailroom_store::Store;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct Server {
    pub ctx: Arc<ServerContext>,
    pub dir: tempfile::TempDir,
    pub mx: SocketAddr,
    pub submission: SocketAddr,
    pub submissions: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

pub struct Opts {
    pub hostname: String,
    pub domain: String,
    /// (address, password)
    pub users: Vec<(String, String)>,
    pub smtp: SmtpConfig,
    /// Start the queue runner with this configuration.
    pub delivery: Option<DeliveryConfig>,
    /// Bind the MX listener here (for a server that must come back on the same port).
    pub mx_addr: Option<SocketAddr>,
    pub data_dir: Option<tempfile::TempDir>,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            hostname: "mx.example.test".into(),
            domain: "example.test".into(),
            users: vec![
                ("alice@example.test".into(), "alice-pw".into()),
                ("bob@example.test".into(), "bob-pw".into()),
            ],
            smtp: SmtpConfig::default(),
            delivery: None,
            mx_addr: None,
            data_dir: None,
        }
    }
}

pub fn context(dir: &std::path::Path, hostname: &str) -> Arc<ServerContext> {
    let store = Store::open(dir).unwrap();
    let tls = mailroom_net::tls::server_config(None, None, dir, "localhost").unwrap();
    let auth = Authenticator::new(
        store.clone(),
        AuthConfig {
            failure_delay: Duration::from_millis(10),
            ..Default::default()
        },
    );
    Arc::new(ServerContext {
        store,
        tls,
        auth,
        hostname: hostname.to_string(),
        allow_plaintext: false,
        shutdown: Shutdown::new(),
    })
}

impl Server {
    pub async fn start(opts: Opts) -> Server {
        let dir = opts.data_dir.unwrap_or_else(|| tempfile::tempdir().unwrap());
        let ctx = context(dir.path(), &opts.hostname);
        let store = ctx.store.clone();
        let (domain, users) = (opts.domain.clone(), opts.users.clone());
        tokio::task::spawn_blocking(move || {
            if !store.is_local_domain(&domain).unwrap() {
                store.domain_add(&domain).unwrap();
            }
            for (addr, pw) in users {
                if store.account_by_address(&addr).unwrap().is_none() {
                    let hash = mailroom_net::password::hash_password(&pw).unwrap();
                    store.account_create(&addr, &hash, None).unwrap();
                }
            }
        })
        .await
        .unwrap();
        let config = Arc::new(opts.smtp);
        let mut tasks = Vec::new();
        let mut bind = |addr: Option<SocketAddr>, kind: SmtpListener| {
            let l = std::net::TcpListener::bind(addr.unwrap_or_else(|| "127.0.0.1:0".parse().unwrap())).unwrap();
            l.set_nonblocking(true).unwrap();
            let l = TcpListener::from_std(l).unwrap();
            let a = l.local_addr().unwrap();
            tasks.push(tokio::spawn(mailroom_smtp::serve(ctx.clone(), l, kind, config.clone())));
            a
        };
        let mx = bind(opts.mx_addr, SmtpListener::Mx);
        let submission = bind(None, SmtpListener::Submission);
        let submissions = bind(None, SmtpListener::Submissions);
        if let Some(d) = opts.delivery {
            tasks.push(tokio::spawn(mailroom_smtp::run_queue(ctx.clone(), Arc::new(d))));
        }
        Server {
            ctx,
            dir,
            mx,
            submission,
            submissions,
            tasks,
        }
    }

    pub async fn stop(self) -> tempfile::TempDir {
        self.ctx.shutdown.trigger();
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
        self.dir
    }

    /// The raw messages in `address`'s INBOX.
    pub async fn inbox(&self, address: &str) -> Vec<Vec<u8>> {
        inbox(&self.ctx.store, address).await
    }
}

pub async fn inbox(store: &Store, address: &str) -> Vec<Vec<u8>> {
    let store = store.clone();
    let address = address.to_string();
    tokio::task::spawn_blocking(move || {
        let acct = store.account_by_address(&address).unwrap().unwrap();
        let Some(mb) = store.mailbox_get(acct.id, "INBOX").unwrap() else {
            return Vec::new();
        };
        store
            .messages(mb.id)
            .unwrap()
            .into_iter()
            .map(|m| store.read_blob(&m.blob_hash, 0, m.size).unwrap())
            .collect()
    })
    .await
    .unwrap()
}

/// Waits (up to `secs`) until `f` holds.
pub async fn eventually<F, Fut>(secs: u64, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < end {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A byte-level client: what it sends is exactly what the server gets.
pub struct Client<S: Stream = TcpStream> {
    pub io: BufReader<S>,
}

impl Client<TcpStream> {
    pub async fn connect(addr: SocketAddr) -> Client {
        let mut c = Client {
            io: BufReader::new(TcpStream::connect(addr).await.unwrap()),
        };
        let g = c.reply().await;
        assert!(g.starts_with("220 "), "{g}");
        c
    }

    /// STARTTLS handshake on this connection (the 220 already read).
    pub async fn into_tls(self) -> Client<tokio_rustls::client::TlsStream<TcpStream>> {
        assert!(self.io.buffer().is_empty());
        let tcp = self.io.into_inner();
        let tls = mailroom_smtp::client::opportunistic_tls().unwrap();
        let s = tokio_rustls::TlsConnector::from(tls)
            .connect(rustls_pki_types::ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        Client { io: BufReader::new(s) }
    }
}

pub async fn connect_tls(addr: SocketAddr) -> Client<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let tls = mailroom_smtp::client::opportunistic_tls().unwrap();
    let s = tokio_rustls::TlsConnector::from(tls)
        .connect(rustls_pki_types::ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let mut c = Client { io: BufReader::new(s) };
    let g = c.reply().await;
    assert!(g.starts_with("220 "), "{g}");
    c
}

impl<S: Stream> Client<S> {
    pub async fn send(&mut self, bytes: &[u8]) {
        self.io.get_mut().write_all(bytes).await.unwrap();
        self.io.get_mut().flush().await.unwrap();
    }

    /// One complete reply (all its lines), as received.
    pub async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(Duration::from_secs(20), self.io.read_line(&mut line))
                .await
                .expect("reply timeout")
                .unwrap();
            if n == 0 {
                return all;
            }
            all.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return all;
            }
        }
    }

    /// Sends `line` + CRLF and returns the reply.
    pub async fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }

    /// Sends, and asserts the reply starts with `want`.
    pub async fn ok(&mut self, line: &str, want: &str) -> String {
        let r = self.cmd(line).await;
        assert!(r.starts_with(want), "{line:?} -> {r:?}, wanted {want:?}");
        r
    }

    /// Reads until the server closes (for final replies).
    pub async fn rest(&mut self) -> String {
        let mut s = String::new();
        let _ = tokio::time::timeout(
            Duration::from_secs(20),
            tokio::io::AsyncReadExt::read_to_string(&mut self.io, &mut s),
        )
        .await;
        s
    }
}

pub fn b64(s: &str) -> String {
    mailroom_net::sasl::encode_base64(s.as_bytes())
}
