#![forbid(unsafe_code)]
//! Mailroom's SMTP: the MX and submission servers, the durable outbound
//! queue and its delivery agent.
//!
//! * [`serve`] runs one listener: [`SmtpListener::Mx`] (port 25 style:
//!   mail for our domains only), [`SmtpListener::Submission`] (587,
//!   STARTTLS + AUTH) or [`SmtpListener::Submissions`] (465, implicit TLS).
//! * [`run_queue`] delivers queued mail until shutdown.
//! * [`queue_list`], [`queue_retry`], [`queue_delete`] are for the admin CLI.
//!
//! Sans-I/O parts: [`command`] (command lines), [`data`] (DATA framing),
//! [`reply`]; the async drivers are `session` and `outbound`.
//!
//! Choices worth knowing:
//! * Bare CR or bare LF (RFC 5321 §2.3.8) are refused, not normalised: in
//!   a command line with `500 5.5.2`, in DATA with `550 5.6.11` once the
//!   real `<CRLF>.<CRLF>` arrives, so no smuggled message can split off.
//! * A message is acknowledged only after it is committed: local
//!   recipients into their INBOX (one blob, `Return-Path:` and `Received:`
//!   prepended), everyone else into the durable queue.
//! * A message is never held in memory while it is received: DATA is
//!   dot-unstuffed and BDAT chunks are passed straight into a store blob
//!   (`spool`), trace fields first. Submission holds only the header
//!   section (to add a missing Message-ID/Date, RFC 6409 §8), bounded by
//!   `[smtp] max_header_size` (default 1 MiB; longer: `552 5.3.4`). A
//!   refused message (size, bare CR/LF, long line) stops being written and
//!   its partial blob is removed. The blob carries `Return-Path:` when some
//!   recipient is local; the queue's copy (without it) is derived file to
//!   file only when something must be queued. The store still reads the
//!   finished blob back once to parse it.
//! * Outbound TLS is opportunistic and accepts any certificate (Postfix's
//!   `may`); a failed handshake falls back to plaintext. The smarthost is
//!   the exception (`smarthost` module): with credentials, TLS is required
//!   and verified, AUTH PLAIN (else LOGIN) follows, and an authentication
//!   or configuration problem defers the mail instead of bouncing it.
//! * The outbound client pipelines MAIL/RCPT/DATA when the peer offers
//!   PIPELINING (RFC 2920), and the queue sends one "delayed" DSN per
//!   recipient after `[delivery] delay_warning_secs` (default 0: off,
//!   like Postfix's `delay_warning_time`).
pub mod client;
pub mod command;
mod config;
pub mod data;
pub mod dsn;
pub mod headers;
mod inbound;
mod outbound;
pub mod reply;
pub mod route;
mod session;
mod smarthost;
mod spool;

use std::sync::Arc;

use mailroom_net::{ConnLimiter, ServerContext, TlsMode};
use mailroom_store::{Store, StoreError};
use tokio::net::TcpListener;

pub use config::{DeliveryConfig, SmtpConfig};
pub use mailroom_store::QueuedMessage as QueueEntry;
pub use mailroom_store::QueuedRecipient as QueueEntryRecipient;
pub use outbound::{run_queue, wake_queue};
pub use smarthost::{Credentials, Secret, SmarthostTls};

/// Which kind of SMTP service a listener provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpListener {
    /// Inbound mail from the world (port 25): our domains only, no AUTH.
    Mx,
    /// Message submission (port 587, RFC 6409): STARTTLS, AUTH required.
    Submission,
    /// Submission over implicit TLS (port 465, RFC 8314).
    Submissions,
}

impl SmtpListener {
    fn protocol(self) -> &'static str {
        match self {
            SmtpListener::Mx => "smtp",
            SmtpListener::Submission => "submission",
            SmtpListener::Submissions => "submissions",
        }
    }
}

/// Serves SMTP on `listener` until `ctx.shutdown` fires.
pub async fn serve(ctx: Arc<ServerContext>, listener: TcpListener, kind: SmtpListener, config: Arc<SmtpConfig>) {
    let mode = match kind {
        SmtpListener::Submissions => TlsMode::Implicit,
        SmtpListener::Mx | SmtpListener::Submission => TlsMode::Plain,
    };
    let limiter = ConnLimiter::new(config.max_connections_per_ip.max(1), config.max_connections.max(1));
    let tls = ctx.tls.clone();
    let shutdown = ctx.shutdown.clone();
    mailroom_net::serve(listener, mode, tls, limiter, shutdown, kind.protocol(), move |conn| {
        let ctx = ctx.clone();
        let config = config.clone();
        session::run(ctx, conn, kind, config)
    })
    .await;
}

/// Every queued message with its pending recipients (blocking).
pub fn queue_list(store: &Store) -> Result<Vec<QueueEntry>, StoreError> {
    store.queue_list()
}

/// Makes one queued message (or all) due now; returns how many recipients
/// were rescheduled. A running server picks them up at its next poll
/// (`[delivery] poll_interval_secs`), or at once when called in-process.
pub fn queue_retry(store: &Store, id: Option<i64>) -> Result<usize, StoreError> {
    let n = store.queue_retry(id)?;
    wake_queue();
    Ok(n)
}

/// Deletes a queued message without delivering or bouncing it; `false` if
/// there was no such message.
pub fn queue_delete(store: &Store, id: i64) -> Result<bool, StoreError> {
    store.queue_delete(id)
}
