//! `mailroom serve`: open the store, bind the listeners, run every protocol
//! until SIGTERM/SIGINT, then stop accepting, let sessions finish and exit 0.
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use mailroom_net::ServerContext;
use mailroom_net::auth::Authenticator;
use mailroom_net::shutdown::Shutdown;
use mailroom_store::Store;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::config::Config;

pub fn run(config: Option<&Path>) -> Result<()> {
    init_logging();
    let cfg = Config::load(config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("mailroom")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(cfg))
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MAILROOM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub(crate) async fn bind_listener(name: &str, addr: Option<SocketAddr>) -> Result<Option<TcpListener>> {
    match addr {
        None => Ok(None),
        Some(a) => {
            let l = TcpListener::bind(a)
                .await
                .with_context(|| format!("listening for {name} on {a}"))?;
            Ok(Some(l))
        }
    }
}

async fn serve(cfg: Config) -> Result<()> {
    let store_dir = cfg.data_dir.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&store_dir))
        .await?
        .with_context(|| format!("opening the store in {}", cfg.data_dir.display()))?;
    {
        // Crash leftovers (blob files never committed) older than a day, at
        // start and then every hour.
        let s = store.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(3600));
            loop {
                tick.tick().await;
                let s = s.clone();
                match tokio::task::spawn_blocking(move || s.sweep_orphans(Duration::from_secs(86_400))).await {
                    Ok(Ok(0)) => {}
                    Ok(Ok(n)) => tracing::info!(files = n, "removed crash leftovers from the blob directory"),
                    Ok(Err(e)) => tracing::warn!(error = %e, "sweeping the blob directory failed"),
                    Err(_) => {}
                }
            }
        });
    }
    let tls = mailroom_net::tls::server_config(
        cfg.tls.cert.as_deref(),
        cfg.tls.key.as_deref(),
        &cfg.data_dir,
        &cfg.hostname,
    )?;
    if cfg.is_local_setup() {
        let s = store.clone();
        let c = cfg.clone();
        tokio::task::spawn_blocking(move || first_run(&s, &c)).await??;
    }
    let shutdown = Shutdown::new();
    let auth = Authenticator::new(store.clone(), cfg.auth.auth_config());
    auth.warm_up().await;
    let ctx = Arc::new(ServerContext {
        store,
        tls,
        auth,
        hostname: cfg.hostname.clone(),
        allow_plaintext: cfg.auth.allow_plaintext,
        shutdown: shutdown.clone(),
    });

    let mut tasks = JoinSet::new();
    crate::wiring::start(&cfg, &ctx, &mut tasks).await?;
    tracing::info!(hostname = %cfg.hostname, data_dir = %cfg.data_dir.display(), "mailroom started");

    wait_for_signal().await;
    tracing::info!("shutting down: no new connections, sessions finish their command");
    shutdown.trigger();
    // Listeners give their sessions 30 s to finish (mailroom_net's
    // ServeOptions), then abort them; this is only a backstop.
    let grace = Duration::from_secs(35);
    if tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} })
        .await
        .is_err()
    {
        tracing::warn!("some services did not stop in time");
        tasks.abort_all();
    }
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The local setup on an empty store: make a first account and say, once,
/// how to connect a mail client to it.
fn first_run(store: &Store, cfg: &Config) -> Result<()> {
    if !store.account_list()?.is_empty() {
        return Ok(());
    }
    let domain = "localhost";
    if !store.domain_list()?.iter().any(|d| d == domain) {
        store.domain_add(domain)?;
    }
    let address = format!("me@{domain}");
    let password = mailroom_net::password::try_generate_password()?;
    let hash = mailroom_net::password::hash_password(&password)?;
    store.account_create(&address, &hash, None)?;
    let (cert, _) = mailroom_net::tls::self_signed_paths(&cfg.data_dir);
    let port = |a: Option<SocketAddr>| a.map(|a| a.port().to_string()).unwrap_or_else(|| "off".into());
    let l = &cfg.listen;
    println!(
        "\n  Mailroom is set up for local use. Connect a mail client with:\n\n\
         \x20   address   {address}\n\
         \x20   password  {password}   (shown once; change: mailroom user passwd {address})\n\
         \x20   server    127.0.0.1\n\
         \x20   IMAP      port {} (STARTTLS) or {} (TLS)\n\
         \x20   POP3      port {} (STARTTLS) or {} (TLS)\n\
         \x20   SMTP      port {} (STARTTLS, submission) or {} (TLS); incoming mail on {}\n\
         \x20   TLS       self-signed certificate {} (trust it in the client)\n\n\
         \x20 Add more users with `mailroom user add NAME@localhost`.\n",
        port(l.imap),
        port(l.imaps),
        port(l.pop3),
        port(l.pop3s),
        port(l.submission),
        port(l.submissions),
        port(l.smtp),
        cert.display()
    );
    Ok(())
}
