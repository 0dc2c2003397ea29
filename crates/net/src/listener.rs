//! The accept loop shared by all protocols.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::limits::ConnLimiter;
use crate::shutdown::Shutdown;
use crate::stream::MaybeTls;

/// Whether a listener speaks TLS from the first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plaintext; the protocol may offer STARTTLS (ports 25, 587, 143, 110).
    Plain,
    /// TLS handshake on connect (ports 465, 993, 995).
    Implicit,
}

/// Tunables for [`serve_with_options`].
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// After shutdown is triggered, how long to wait for sessions to end on
    /// their own before aborting them.
    pub grace_period: Duration,
    /// Time limit for the implicit-TLS handshake.
    pub handshake_timeout: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            grace_period: Duration::from_secs(30),
            handshake_timeout: crate::stream::HANDSHAKE_TIMEOUT,
        }
    }
}

/// One accepted connection, handed to the protocol handler.
///
/// The connection's slot in the [`ConnLimiter`] is held by the task running
/// the handler and released when the handler's future completes.
pub struct Connection {
    pub stream: MaybeTls,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    /// For STARTTLS: see [`MaybeTls::upgrade`].
    pub tls_acceptor: TlsAcceptor,
    /// Sessions should check this between commands and, once triggered,
    /// say goodbye (e.g. SMTP `421`, IMAP `* BYE`) and return.
    pub shutdown: Shutdown,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("stream", &self.stream)
            .field("peer", &self.peer)
            .field("local", &self.local)
            .field("shutdown", &self.shutdown)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Builds a connection from an already-accepted TCP stream, e.g. for
    /// protocol tests that do not go through [`serve`].
    pub fn from_tcp(tcp: TcpStream, tls_acceptor: TlsAcceptor, shutdown: Shutdown) -> std::io::Result<Self> {
        let peer = tcp.peer_addr()?;
        let local = tcp.local_addr()?;
        Ok(Self {
            stream: MaybeTls::Plain(tcp),
            peer,
            local,
            tls_acceptor,
            shutdown,
        })
    }
}

/// Runs the accept loop with default [`ServeOptions`]; see
/// [`serve_with_options`].
pub async fn serve<H, F>(
    listener: TcpListener,
    mode: TlsMode,
    tls: Arc<rustls::ServerConfig>,
    limiter: ConnLimiter,
    shutdown: Shutdown,
    protocol: &'static str,
    handler: H,
) where
    H: Fn(Connection) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    serve_with_options(
        listener,
        mode,
        tls,
        limiter,
        shutdown,
        protocol,
        ServeOptions::default(),
        handler,
    )
    .await;
}

/// Accepts connections until `shutdown` is triggered, running `handler` for
/// each in its own task.
///
/// Connections over the [`ConnLimiter`]'s caps are closed at once. With
/// [`TlsMode::Implicit`] the handshake happens in the connection's task
/// (bounded by [`ServeOptions::handshake_timeout`]) before the handler runs.
///
/// After shutdown, the listener is closed and this waits for the running
/// sessions to finish, for at most [`ServeOptions::grace_period`]; sessions
/// still running then are aborted. It returns once all have ended.
#[allow(clippy::too_many_arguments)]
pub async fn serve_with_options<H, F>(
    listener: TcpListener,
    mode: TlsMode,
    tls: Arc<rustls::ServerConfig>,
    limiter: ConnLimiter,
    shutdown: Shutdown,
    protocol: &'static str,
    options: ServeOptions,
    handler: H,
) where
    H: Fn(Connection) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let acceptor = TlsAcceptor::from(tls);
    let local_addr = listener.local_addr().ok();
    tracing::info!(protocol, addr = ?local_addr, ?mode, "listening");
    let mut sessions: JoinSet<()> = JoinSet::new();

    loop {
        tokio::select! {
            () = shutdown.wait() => break,
            Some(joined) = sessions.join_next(), if !sessions.is_empty() => {
                log_join(protocol, joined);
            }
            accepted = listener.accept() => {
                let (tcp, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Typically EMFILE/ENFILE or a connection reset before
                        // accept; back off briefly instead of spinning.
                        tracing::warn!(protocol, error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let guard = match limiter.try_acquire(peer.ip()) {
                    Ok(guard) => guard,
                    Err(e) => {
                        tracing::warn!(protocol, %peer, reason = %e, "connection refused");
                        drop(tcp);
                        continue;
                    }
                };
                let local = match tcp.local_addr() {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::debug!(protocol, %peer, error = %e, "connection lost before setup");
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let handler = handler.clone();
                let acceptor = acceptor.clone();
                let shutdown = shutdown.clone();
                let handshake_timeout = options.handshake_timeout;
                sessions.spawn(async move {
                    let _guard = guard;
                    let stream = match mode {
                        TlsMode::Plain => MaybeTls::Plain(tcp),
                        TlsMode::Implicit => {
                            match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await {
                                Ok(Ok(tls)) => MaybeTls::Tls(Box::new(tls)),
                                Ok(Err(e)) => {
                                    tracing::info!(protocol, %peer, error = %e, "TLS handshake failed");
                                    return;
                                }
                                Err(_) => {
                                    tracing::info!(protocol, %peer, "TLS handshake timed out");
                                    return;
                                }
                            }
                        }
                    };
                    let tls = stream.is_tls();
                    tracing::info!(protocol, %peer, tls, "connection opened");
                    let started = Instant::now();
                    handler(Connection {
                        stream,
                        peer,
                        local,
                        tls_acceptor: acceptor,
                        shutdown,
                    })
                    .await;
                    tracing::info!(
                        protocol,
                        %peer,
                        tls,
                        duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                        "connection closed"
                    );
                });
            }
        }
    }

    drop(listener);
    let running = sessions.len();
    if running > 0 {
        tracing::info!(protocol, sessions = running, "shutting down, waiting for sessions");
    }
    let drained = tokio::time::timeout(options.grace_period, async {
        while let Some(joined) = sessions.join_next().await {
            log_join(protocol, joined);
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            protocol,
            sessions = sessions.len(),
            "grace period over, aborting sessions"
        );
        sessions.abort_all();
        while sessions.join_next().await.is_some() {}
    }
    tracing::info!(protocol, addr = ?local_addr, "listener stopped");
}

fn log_join(protocol: &'static str, joined: Result<(), tokio::task::JoinError>) {
    if let Err(e) = joined
        && e.is_panic()
    {
        tracing::error!(protocol, "session task panicked");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls;
    use rustls_pki_types::ServerName;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

    fn server_tls(dir: &std::path::Path) -> Arc<rustls::ServerConfig> {
        tls::server_config(None, None, dir, "localhost").unwrap()
    }

    /// A line-echo session that ends politely on shutdown.
    async fn echo_session(conn: Connection) {
        let Connection { stream, shutdown, .. } = conn;
        let mut reader = BufReader::new(stream);
        reader.get_mut().write_all(b"HELLO\r\n").await.ok();
        let mut line = String::new();
        loop {
            line.clear();
            tokio::select! {
                () = shutdown.wait() => {
                    reader.get_mut().write_all(b"BYE\r\n").await.ok();
                    return;
                }
                n = reader.read_line(&mut line) => {
                    match n {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {
                            if reader.get_mut().write_all(line.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        }
    }

    async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(r: &mut R) -> String {
        let mut s = String::new();
        r.read_line(&mut s).await.unwrap();
        s
    }

    #[tokio::test]
    async fn plain_serve_and_graceful_shutdown() {
        let dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = Shutdown::new();
        let limiter = ConnLimiter::default();
        let server = tokio::spawn(serve(
            listener,
            TlsMode::Plain,
            server_tls(dir.path()),
            limiter.clone(),
            shutdown.clone(),
            "test",
            echo_session,
        ));

        let mut c = BufReader::new(TcpStream::connect(addr).await.unwrap());
        assert_eq!(read_line(&mut c).await, "HELLO\r\n");
        c.get_mut().write_all(b"ping\r\n").await.unwrap();
        assert_eq!(read_line(&mut c).await, "ping\r\n");
        assert_eq!(limiter.active(), 1);

        shutdown.trigger();
        assert_eq!(read_line(&mut c).await, "BYE\r\n");
        assert_eq!(read_line(&mut c).await, "");
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(limiter.active(), 0);
        // The listener is closed.
        assert!(TcpStream::connect(addr).await.is_err());
    }

    #[tokio::test]
    async fn implicit_tls() {
        let dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = Shutdown::new();
        let seen_tls = Arc::new(AtomicUsize::new(0));
        let seen = seen_tls.clone();
        let server = tokio::spawn(serve(
            listener,
            TlsMode::Implicit,
            server_tls(dir.path()),
            ConnLimiter::default(),
            shutdown.clone(),
            "test-tls",
            move |conn: Connection| {
                let seen = seen.clone();
                async move {
                    if conn.stream.is_tls() {
                        seen.fetch_add(1, Ordering::SeqCst);
                    }
                    echo_session(conn).await;
                }
            },
        ));

        let client = tls::client_config_trusting(&tls::self_signed_paths(dir.path()).0).unwrap();
        let tcp = TcpStream::connect(addr).await.unwrap();
        let tls_stream = tokio_rustls::TlsConnector::from(client)
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        let mut c = BufReader::new(tls_stream);
        assert_eq!(read_line(&mut c).await, "HELLO\r\n");
        c.get_mut().write_all(b"secure\r\n").await.unwrap();
        assert_eq!(read_line(&mut c).await, "secure\r\n");
        assert_eq!(seen_tls.load(Ordering::SeqCst), 1);

        // A plaintext client fails the handshake and is dropped.
        let mut plain = TcpStream::connect(addr).await.unwrap();
        plain.write_all(b"EHLO x\r\n").await.unwrap();
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut buf))
            .await
            .unwrap();

        shutdown.trigger();
        assert_eq!(read_line(&mut c).await, "BYE\r\n");
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(seen_tls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn per_ip_limit_drops_excess_connections() {
        let dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = Shutdown::new();
        let limiter = ConnLimiter::new(2, 100);
        let server = tokio::spawn(serve(
            listener,
            TlsMode::Plain,
            server_tls(dir.path()),
            limiter.clone(),
            shutdown.clone(),
            "test",
            echo_session,
        ));
        let mut c1 = BufReader::new(TcpStream::connect(addr).await.unwrap());
        let mut c2 = BufReader::new(TcpStream::connect(addr).await.unwrap());
        assert_eq!(read_line(&mut c1).await, "HELLO\r\n");
        assert_eq!(read_line(&mut c2).await, "HELLO\r\n");
        let mut c3 = BufReader::new(TcpStream::connect(addr).await.unwrap());
        // Closed without a greeting.
        assert_eq!(read_line(&mut c3).await, "");
        drop(c1);
        // The slot frees up once the first session notices EOF.
        let mut ok = false;
        for _ in 0..100 {
            if limiter.active() < 2 {
                ok = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(ok);
        let mut c4 = BufReader::new(TcpStream::connect(addr).await.unwrap());
        assert_eq!(read_line(&mut c4).await, "HELLO\r\n");
        shutdown.trigger();
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .unwrap()
            .unwrap();
        drop((c2, c4));
    }

    #[tokio::test]
    async fn grace_period_aborts_stuck_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = Shutdown::new();
        let limiter = ConnLimiter::default();
        let started = Arc::new(tokio::sync::Notify::new());
        let started2 = started.clone();
        let server = tokio::spawn(serve_with_options(
            listener,
            TlsMode::Plain,
            server_tls(dir.path()),
            limiter.clone(),
            shutdown.clone(),
            "test",
            ServeOptions {
                grace_period: Duration::from_millis(200),
                ..ServeOptions::default()
            },
            move |_conn: Connection| {
                let started = started2.clone();
                async move {
                    started.notify_one();
                    // Ignores shutdown entirely.
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
            },
        ));
        let _c = TcpStream::connect(addr).await.unwrap();
        started.notified().await;
        let t0 = Instant::now();
        shutdown.trigger();
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .unwrap()
            .unwrap();
        let elapsed = t0.elapsed();
        assert!(elapsed >= Duration::from_millis(150), "{elapsed:?}");
        assert_eq!(limiter.active(), 0);
    }

    #[tokio::test]
    async fn serve_returns_promptly_without_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let shutdown = Shutdown::new();
        shutdown.trigger();
        tokio::time::timeout(
            Duration::from_secs(5),
            serve(
                listener,
                TlsMode::Plain,
                server_tls(dir.path()),
                ConnLimiter::default(),
                shutdown,
                "test",
                echo_session,
            ),
        )
        .await
        .unwrap();
    }
}
