//! Committing a received message: local recipients straight into their
//! INBOX, everyone else (and local recipients that could not take it right
//! now, e.g. over quota) into the durable queue. The caller acknowledges
//! the message only after this returned `Ok`: both steps return after their
//! transaction is on disk.
use std::sync::Arc;

use mailroom_net::ServerContext;
use mailroom_store::{NewQueueMessage, NewQueueRecipient, PreparedBlob, Store, StoreError};

use crate::spool::{self, Spooled};
use crate::{dsn, headers};

/// One accepted recipient.
#[derive(Debug, Clone)]
pub struct Recipient {
    /// `local@domain` as it will be delivered to.
    pub address: String,
    /// The local account, if the address is ours.
    pub account: Option<i64>,
    pub orcpt: Option<String>,
    pub notify: Option<String>,
}

/// The envelope of one transaction (RFC 5321 §2.3.1) with its DSN
/// parameters (RFC 3461).
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    /// Reverse-path; empty for the null sender.
    pub sender: String,
    pub smtputf8: bool,
    pub ret: Option<String>,
    pub env_id: Option<String>,
    pub recipients: Vec<Recipient>,
}

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("internal task failed")]
    Join,
}

/// Runs blocking store work off the async runtime.
pub async fn blocking<T, F>(f: F) -> Result<T, CommitError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(CommitError::Join),
    }
}

/// Delivers a message held in memory (a DSN) into local INBOXes, with
/// `Return-Path:` prepended. Returns the per-account results.
pub fn deliver_local(
    store: &Store,
    sender: &str,
    message: &[u8],
    accounts: &[i64],
) -> Result<Vec<Result<u32, StoreError>>, StoreError> {
    let mut bytes = headers::return_path(sender).into_bytes();
    bytes.extend_from_slice(message);
    let blob = store.prepare_blob(&bytes)?;
    store.deliver(&blob, accounts, headers::now())
}

/// Delivers the stored blob `hash` (a queued message) into local INBOXes,
/// given a `Return-Path:` by a file-to-file copy (one blob for all).
pub fn deliver_local_blob(
    store: &Store,
    sender: &str,
    hash: &str,
    accounts: &[i64],
) -> Result<Vec<Result<u32, StoreError>>, StoreError> {
    let blob = spool::derive_blob(
        store,
        store.open_blob(hash)?,
        0,
        headers::return_path(sender).as_bytes(),
    )?;
    store.deliver(&blob, accounts, headers::now())
}

/// Header bytes quoted in a report (RFC 3462 text/rfc822-headers): enough
/// for any real header, small enough that a forged sender cannot use our
/// reports to reflect much of its own text.
pub const REPORT_HEADERS_MAX: u64 = 64 * 1024;

/// Commits the spooled message for `env`. The spool wrote the blob with a
/// `Return-Path:` when some recipient is local (the common case: one blob,
/// written once); the queue must not have one (it is added at final
/// delivery, RFC 5321 §4.4), so its copy is derived file to file, and only
/// when something has to be queued.
pub async fn commit(ctx: &Arc<ServerContext>, env: Envelope, spooled: Spooled) -> Result<(), CommitError> {
    let store = ctx.store.clone();
    let hostname = ctx.hostname.clone();
    let queued = blocking(move || {
        let Spooled { blob, return_path_len } = spooled;
        let mut to_queue: Vec<&Recipient> = env.recipients.iter().filter(|r| r.account.is_none()).collect();
        let local: Vec<&Recipient> = env.recipients.iter().filter(|r| r.account.is_some()).collect();
        let skip = return_path_len.unwrap_or(0);
        if !local.is_empty() {
            let mut ids: Vec<i64> = local.iter().filter_map(|r| r.account).collect();
            ids.sort_unstable();
            ids.dedup();
            let results = match return_path_len {
                Some(_) => store.deliver(&blob, &ids, headers::now())?,
                None => {
                    let src = store.open_prepared(&blob)?;
                    let local = spool::derive_blob(&store, src, 0, headers::return_path(&env.sender).as_bytes())?;
                    store.deliver(&local, &ids, headers::now())?
                }
            };
            let mut delivered = Vec::new();
            for (id, res) in ids.iter().zip(results) {
                let rcpts = local.iter().filter(|r| r.account == Some(*id));
                match res {
                    Ok(_) => delivered.extend(rcpts),
                    Err(e) => {
                        // Retried from the queue (and bounced from there if it never fits).
                        tracing::info!(account = id, error = %e, "local delivery deferred to queue");
                        to_queue.extend(rcpts);
                    }
                }
            }
            report_delivered(&store, &hostname, &env, &delivered, &blob, skip);
        }
        if to_queue.is_empty() {
            return Ok(false);
        }
        let qblob = match return_path_len {
            // The blob may not be committed (every local delivery failed):
            // read it as prepared.
            Some(n) => spool::derive_blob(&store, store.open_prepared(&blob)?, n, b"")?,
            None => blob,
        };
        store.enqueue(
            &qblob,
            NewQueueMessage {
                sender: env.sender.clone(),
                env_id: env.env_id.clone(),
                ret: env.ret.clone(),
                smtputf8: env.smtputf8,
                recipients: to_queue
                    .iter()
                    .map(|r| NewQueueRecipient {
                        address: r.address.clone(),
                        orcpt: r.orcpt.clone(),
                        notify: r.notify.clone(),
                    })
                    .collect(),
                not_before: None,
            },
        )?;
        Ok(true)
    })
    .await?;
    if queued {
        crate::outbound::wake_queue();
    }
    Ok(())
}

/// RFC 3461 §6.2.2: a "delivered" DSN for local recipients that asked for
/// one with NOTIFY=SUCCESS. The message is already delivered, so a failure
/// here is only logged.
fn report_delivered(
    store: &Store,
    hostname: &str,
    env: &Envelope,
    delivered: &[&Recipient],
    blob: &PreparedBlob,
    skip: u64,
) {
    let reports: Vec<dsn::Failure> = delivered
        .iter()
        .filter(|r| dsn::wanted(r.notify.as_deref(), dsn::Action::Delivered))
        .map(|r| dsn::Failure {
            address: r.address.clone(),
            action: dsn::Action::Delivered,
            orcpt: r.orcpt.clone(),
            diagnostic: "250 2.0.0 delivered to INBOX".into(),
            remote_mta: None,
        })
        .collect();
    if reports.is_empty() || env.sender.is_empty() {
        return;
    }
    let denv = dsn::DsnEnvelope {
        sender: env.sender.clone(),
        env_id: env.env_id.clone(),
        ret: env.ret.clone(),
        arrival: headers::now(),
        retry_until: None,
    };
    // Success reports return the headers only (see dsn::build).
    let message = match store
        .open_prepared(blob)
        .and_then(|src| spool::read_headers(src, skip, REPORT_HEADERS_MAX))
    {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the message for a delivery report");
            return;
        }
    };
    match dsn::send(store, hostname, &denv, &reports, &message) {
        Ok(true) => crate::outbound::wake_queue(),
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "could not send delivery report"),
    }
}
