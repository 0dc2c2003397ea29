#![forbid(unsafe_code)]
//! Mailroom's POP3 server (RFC 1939 with RFC 2449 CAPA, RFC 2595 STLS,
//! RFC 5034 SASL and RFC 3206 response codes) on the shared store: the
//! maildrop is the account's INBOX, the one IMAP serves.
//!
//! * [`command`]: command line parsing (sans-I/O).
//! * [`maildrop`]: the session's numbered listing and deletion marks.
//! * [`wire`]: message encoding (CRLF, byte-stuffing, TOP) and POP3 sizes.
//! * [`lock`]: exclusive maildrop access (`[IN-USE]`).
//! * `session`: the async driver of one connection.
pub mod command;
pub mod config;
pub mod lock;
pub mod maildrop;
mod session;
pub mod wire;

use std::sync::Arc;

use mailroom_net::listener::TlsMode;
use mailroom_net::{ConnLimiter, ServerContext};
use tokio::net::TcpListener;

pub use config::{ConfigError, Pop3Config};

/// Serves POP3 on `listener` until `ctx.shutdown` is triggered and the
/// sessions have ended. `TlsMode::Plain` is the `pop3` listener (port 110,
/// offering STLS); `TlsMode::Implicit` is `pop3s` (port 995).
pub async fn serve(ctx: Arc<ServerContext>, listener: TcpListener, mode: TlsMode, config: Arc<Pop3Config>) {
    if let Err(e) = config.validate() {
        tracing::warn!(error = %e, "pop3 configuration outside protocol limits");
    }
    let limiter = ConnLimiter::new(config.max_connections_per_ip, config.max_connections);
    let protocol = match mode {
        TlsMode::Plain => "pop3",
        TlsMode::Implicit => "pop3s",
    };
    let tls = ctx.tls.clone();
    let shutdown = ctx.shutdown.clone();
    mailroom_net::serve(listener, mode, tls, limiter, shutdown, protocol, move |conn| {
        let ctx = ctx.clone();
        let config = config.clone();
        async move { session::run(ctx, config, conn).await }
    })
    .await;
}
