//! The server entry point and its settings.
use std::sync::Arc;

use mailroom_net::listener::TlsMode;
use mailroom_net::{ConnLimiter, ServerContext};

/// IMAP server settings (the `[imap]` table of the configuration file).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImapConfig {
    /// Longest command line accepted, literals excluded (bytes).
    pub max_line: usize,
    /// Most octets buffered for one command (line segments plus small literals).
    pub max_command: usize,
    /// Largest message APPEND accepts; advertised as APPENDLIMIT (RFC 7889).
    pub max_append_size: u64,
    /// Largest literal outside APPEND (a SEARCH string, a LOGIN password).
    pub max_literal: u64,
    /// Consecutive BAD responses after which the session is closed with BYE.
    pub max_bad_commands: u32,
    /// Silence allowed before authentication (seconds); login must happen
    /// within five times this in all.
    pub preauth_timeout_secs: u64,
    /// Inactivity allowed once authenticated (seconds; never less than
    /// 30 minutes, RFC 9051 §5.4).
    pub idle_timeout_secs: u64,
    /// How often an IDLE session polls the store for changes committed by
    /// another process (seconds); same-process changes wake it at once.
    pub idle_poll_secs: u64,
    /// Concurrent connections allowed from one client address.
    pub max_connections_per_ip: usize,
    /// Concurrent IMAP connections allowed in total.
    pub max_connections: usize,
}

impl Default for ImapConfig {
    fn default() -> Self {
        ImapConfig {
            max_line: 64 * 1024,
            max_command: 256 * 1024,
            max_append_size: 50 * 1024 * 1024,
            max_literal: 64 * 1024,
            max_bad_commands: 20,
            preauth_timeout_secs: 60,
            idle_timeout_secs: 30 * 60,
            idle_poll_secs: 5,
            max_connections_per_ip: 50,
            max_connections: 2000,
        }
    }
}

/// Accepts IMAP connections on `listener` until `ctx.shutdown` triggers.
pub async fn serve(ctx: Arc<ServerContext>, listener: tokio::net::TcpListener, mode: TlsMode, config: Arc<ImapConfig>) {
    let limiter = ConnLimiter::new(config.max_connections_per_ip, config.max_connections);
    let tls = ctx.tls.clone();
    let shutdown = ctx.shutdown.clone();
    mailroom_net::serve(listener, mode, tls, limiter, shutdown, "imap", move |conn| {
        let ctx = ctx.clone();
        let config = config.clone();
        async move { super::run(ctx, config, conn).await }
    })
    .await;
}
