//! The queue runner: takes due recipients from the durable queue, delivers
//! them (locally, or to the next hop over SMTP), and records each outcome:
//! 2xx done, 4xx retried with exponential backoff until `max_age_secs`,
//! 5xx or expiry bounced with a DSN to the envelope sender — never for a
//! null sender (a bounce is not bounced).
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use mailroom_net::ServerContext;
use mailroom_store::{QueueUpdate, QueuedMessage, QueuedRecipient, StoreError};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::client::{self, OutRecipient, OutboundTls, RcptResult, Security, Timeouts};
use crate::config::DeliveryConfig;
use crate::dsn::{self, Action, DsnEnvelope, Failure};
use crate::headers::now;
use crate::inbound::{blocking, deliver_local_blob};
use crate::route;
use crate::smarthost::Smarthost;

/// Messages fetched per pass.
const BATCH: usize = 200;

/// How the recipients of one attempt were reached.
enum Via {
    Local,
    Remote {
        mta: Option<String>,
        /// The next hop speaks DSN: success reports are its business.
        dsn: bool,
    },
}

/// Wakes every queue runner of this process (new mail was queued).
static WAKE: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::Sender::new(0));

pub fn wake_queue() {
    WAKE.send_modify(|n| *n = n.wrapping_add(1));
}

struct Runner {
    ctx: Arc<ServerContext>,
    config: Arc<DeliveryConfig>,
    resolver: Option<TokioResolver>,
    tls: Option<Arc<rustls::ClientConfig>>,
    /// The smarthost's TLS policy and credentials, or why they are unusable.
    smarthost: Result<Smarthost, String>,
    /// Recipient rows being delivered right now (not to be picked again).
    in_flight: Mutex<HashSet<i64>>,
    slots: Semaphore,
}

/// Delivers queued mail until `ctx.shutdown` fires.
pub async fn run_queue(ctx: Arc<ServerContext>, config: Arc<DeliveryConfig>) {
    let resolver = match TokioResolver::builder_tokio().and_then(|b| b.build()) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!(error = %e, "no DNS resolver; only [delivery.routes] and the smarthost will work");
            None
        }
    };
    let tls = match client::opportunistic_tls() {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::warn!(error = %e, "outbound TLS unavailable");
            None
        }
    };
    let smarthost = Smarthost::from_config(&config);
    if let (Some(host), Err(e)) = (&config.smarthost, &smarthost) {
        tracing::error!(smarthost = %host, error = %e, "smarthost configuration unusable; its mail stays queued");
    }
    let runner = Arc::new(Runner {
        smarthost,
        slots: Semaphore::new(config.max_concurrent.max(1)),
        ctx: ctx.clone(),
        config: config.clone(),
        resolver,
        tls,
        in_flight: Mutex::new(HashSet::new()),
    });
    let mut wake = WAKE.subscribe();
    let mut tasks: JoinSet<()> = JoinSet::new();
    let poll = Duration::from_secs(config.poll_interval_secs.max(1));
    tracing::info!("queue runner started");
    loop {
        while tasks.try_join_next().is_some() {}
        let store = ctx.store.clone();
        let due = blocking(move || store.queue_due(now(), BATCH)).await;
        match due {
            Ok(due) => {
                for msg in due {
                    runner.dispatch(msg, &mut tasks);
                }
            }
            Err(e) => tracing::error!(error = %e, "reading the queue"),
        }
        let store = ctx.store.clone();
        let next = blocking(move || store.queue_next_due()).await.ok().flatten();
        let wait = match next {
            Some(t) if t > now() => poll.min(Duration::from_secs((t - now()) as u64)),
            // Due now but in flight: wait for a delivery to finish (or the poll).
            _ => poll,
        };
        tokio::select! {
            () = ctx.shutdown.wait() => break,
            _ = wake.changed() => {}
            () = tokio::time::sleep(wait) => {}
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    // Deliveries cut short are simply tried again after a restart: the
    // queue only forgets a recipient once its outcome is recorded.
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    tracing::info!("queue runner stopped");
}

fn domain_of(address: &str) -> String {
    address
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default()
}

impl Runner {
    fn dispatch(self: &Arc<Self>, msg: QueuedMessage, tasks: &mut JoinSet<()>) {
        let mut by_domain: BTreeMap<String, Vec<QueuedRecipient>> = BTreeMap::new();
        {
            let mut busy = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            for r in &msg.recipients {
                if busy.insert(r.id) {
                    by_domain.entry(domain_of(&r.address)).or_default().push(r.clone());
                }
            }
        }
        for (domain, rcpts) in by_domain {
            let this = self.clone();
            let msg = QueuedMessage {
                recipients: Vec::new(),
                ..msg.clone()
            };
            tasks.spawn(async move {
                let ids: Vec<i64> = rcpts.iter().map(|r| r.id).collect();
                if let Ok(_permit) = this.slots.acquire().await
                    && !this.deliver(&msg, &domain, rcpts).await
                {
                    // The outcome could not be recorded: hold these
                    // recipients back for a while rather than retry them
                    // in a tight loop.
                    tokio::time::sleep(Duration::from_secs(this.config.retry_base_secs.max(1))).await;
                }
                let mut busy = this.in_flight.lock().unwrap_or_else(|e| e.into_inner());
                for id in ids {
                    busy.remove(&id);
                }
            });
        }
    }

    /// One message to the recipients of one domain; `false` if the
    /// outcome could not be recorded.
    async fn deliver(&self, msg: &QueuedMessage, domain: &str, rcpts: Vec<QueuedRecipient>) -> bool {
        let store = self.ctx.store.clone();
        let d = domain.to_string();
        let local = blocking(move || store.is_local_domain(&d)).await;
        let (results, via) = match local {
            Ok(true) => (self.deliver_local(msg, &rcpts).await, Via::Local),
            Ok(false) => self.deliver_remote(msg, domain, &rcpts).await,
            Err(e) => {
                let r = RcptResult::Temporary(format!("451 4.3.0 store error: {e}"));
                (vec![r; rcpts.len()], Via::Remote { mta: None, dsn: false })
            }
        };
        self.record(msg, rcpts, results, via).await
    }

    async fn deliver_local(&self, msg: &QueuedMessage, rcpts: &[QueuedRecipient]) -> Vec<RcptResult> {
        let store = self.ctx.store.clone();
        let n = rcpts.len();
        let rcpts = rcpts.to_vec();
        let sender = msg.sender.clone();
        let hash = msg.blob_hash.clone();
        let r = blocking(move || {
            let mut out = vec![None; rcpts.len()];
            let mut accounts = Vec::new();
            for (i, r) in rcpts.iter().enumerate() {
                match store.resolve_recipient(&r.address)? {
                    Some(a) => accounts.push((i, a.id)),
                    None => {
                        out[i] = Some(RcptResult::Permanent(format!(
                            "550 5.1.1 <{}>: User unknown",
                            r.address
                        )));
                    }
                }
            }
            let mut ids: Vec<i64> = accounts.iter().map(|(_, id)| *id).collect();
            ids.sort_unstable();
            ids.dedup();
            if !ids.is_empty() {
                let res = deliver_local_blob(&store, &sender, &hash, &ids)?;
                for (i, id) in &accounts {
                    let pos = ids.iter().position(|x| x == id);
                    out[*i] = Some(match pos.and_then(|p| res.get(p)) {
                        Some(Ok(_)) => RcptResult::Delivered("250 2.0.0 delivered to INBOX".into()),
                        Some(Err(StoreError::QuotaExceeded)) => {
                            RcptResult::Temporary("452 4.2.2 Mailbox full (over quota)".into())
                        }
                        Some(Err(e)) => RcptResult::Temporary(format!("451 4.3.0 {e}")),
                        None => RcptResult::Temporary("451 4.3.0 internal error".into()),
                    });
                }
            }
            Ok(out
                .into_iter()
                .map(|o| o.unwrap_or_else(|| RcptResult::Temporary("451 4.3.0 internal error".into())))
                .collect::<Vec<_>>())
        })
        .await;
        match r {
            Ok(v) => v,
            Err(e) => vec![RcptResult::Temporary(format!("451 4.3.0 {e}")); n],
        }
    }

    async fn deliver_remote(
        &self,
        msg: &QueuedMessage,
        domain: &str,
        rcpts: &[QueuedRecipient],
    ) -> (Vec<RcptResult>, Via) {
        let all = |r: RcptResult| vec![r; rcpts.len()];
        let unreached = || Via::Remote { mta: None, dsn: false };
        let hops = match route::next_hops(&self.config, self.resolver.as_ref(), domain).await {
            Ok(h) => h,
            Err(e) if e.permanent => return (all(RcptResult::Permanent(e.message)), unreached()),
            Err(e) => return (all(RcptResult::Temporary(e.message)), unreached()),
        };
        let helo = self
            .config
            .helo_name
            .clone()
            .unwrap_or_else(|| self.ctx.hostname.clone());
        let out: Vec<OutRecipient> = rcpts
            .iter()
            .map(|r| OutRecipient {
                address: r.address.clone(),
                notify: r.notify.clone(),
                orcpt: r.orcpt.clone(),
            })
            .collect();
        let tx = client::Transaction {
            helo: &helo,
            sender: &msg.sender,
            recipients: &out,
            // Streamed from the store, never read into memory whole.
            message: client::Body::Blob {
                store: &self.ctx.store,
                hash: &msg.blob_hash,
                size: msg.size,
            },
            env_id: msg.env_id.as_deref(),
            ret: msg.ret.as_deref(),
            smtputf8: msg.smtputf8,
        };
        let timeouts = Timeouts {
            connect: Duration::from_secs(self.config.connect_timeout_secs.max(1)),
            command: Duration::from_secs(self.config.command_timeout_secs.max(1)),
        };
        let creds;
        let (mode, tls) = if route::uses_smarthost(&self.config, domain) {
            let sh = match &self.smarthost {
                Ok(sh) => sh,
                Err(e) => {
                    return (
                        all(RcptResult::Temporary(format!("4.3.5 smarthost configuration: {e}"))),
                        unreached(),
                    );
                }
            };
            creds = match sh.credentials().await {
                Ok(c) => c,
                Err(e) => return (all(RcptResult::Temporary(format!("4.3.5 {e}"))), unreached()),
            };
            (sh.mode, sh.tls.clone().or_else(|| self.tls.clone()))
        } else {
            creds = None;
            (OutboundTls::Opportunistic, self.tls.clone())
        };
        let sec = Security {
            mode,
            tls: tls.as_ref(),
            auth: creds.as_ref(),
        };
        let mut last = client::HostFailure {
            permanent: false,
            message: format!("4.4.1 no reachable host for {domain}"),
            ours: false,
        };
        'hops: for hop in &hops {
            let addrs = match route::addresses(hop).await {
                Ok(a) => a,
                Err(e) => {
                    last = client::HostFailure {
                        permanent: false,
                        message: format!("4.4.4 {e}"),
                        ours: false,
                    };
                    continue;
                }
            };
            for addr in addrs {
                let mut r = client::send(addr, &hop.host, &tx, timeouts, &sec).await;
                if let Err(f) = &r
                    && f.message.starts_with("TLS handshake")
                    && sec.mode == OutboundTls::Opportunistic
                    && sec.auth.is_none()
                {
                    // Opportunistic TLS: a failed handshake falls back to plaintext.
                    r = client::send(addr, &hop.host, &tx, timeouts, &Security::opportunistic(None)).await;
                }
                match r {
                    Ok(sent) => {
                        let via = Via::Remote {
                            mta: Some(hop.host.clone()),
                            dsn: sent.dsn,
                        };
                        return (sent.results, via);
                    }
                    Err(f) => {
                        tracing::info!(queue_id = msg.id, host = %hop.host, %addr, error = %f.message, "delivery attempt failed");
                        let stop = f.ours;
                        last = f;
                        if stop {
                            break 'hops;
                        }
                    }
                }
            }
        }
        let r = if last.permanent {
            RcptResult::Permanent(last.message)
        } else {
            RcptResult::Temporary(last.message)
        };
        (all(r), unreached())
    }

    async fn record(
        &self,
        msg: &QueuedMessage,
        rcpts: Vec<QueuedRecipient>,
        results: Vec<RcptResult>,
        via: Via,
    ) -> bool {
        let t = now();
        let expired = t.saturating_sub(msg.created) >= self.config.max_age_secs as i64;
        let remote_mta = match &via {
            Via::Remote { mta, .. } => mta.clone(),
            Via::Local => None,
        };
        let mut updates = Vec::new();
        let mut reports: Vec<(i64, Failure)> = Vec::new();
        let mut delayed: Vec<(i64, Failure)> = Vec::new();
        let warn_after = self.config.delay_warning_secs;
        let warn = warn_after > 0 && t.saturating_sub(msg.created) >= warn_after as i64 && !msg.sender.is_empty();
        for (r, res) in rcpts.iter().zip(results) {
            match res {
                RcptResult::Delivered(reply) => {
                    tracing::info!(queue_id = msg.id, rcpt = %r.address, %reply, "delivered");
                    updates.push(QueueUpdate::Done(r.id));
                    let action = match via {
                        Via::Local => Some(Action::Delivered),
                        Via::Remote { dsn: false, .. } => Some(Action::Relayed),
                        Via::Remote { dsn: true, .. } => None,
                    };
                    if let Some(action) = action.filter(|a| dsn::wanted(r.notify.as_deref(), *a)) {
                        reports.push((
                            r.id,
                            Failure {
                                address: r.address.clone(),
                                action,
                                orcpt: r.orcpt.clone(),
                                diagnostic: reply,
                                remote_mta: remote_mta.clone(),
                            },
                        ));
                    }
                }
                RcptResult::Temporary(reply) if !expired => {
                    let next = t + self.config.retry_delay(r.attempts) as i64;
                    tracing::info!(queue_id = msg.id, rcpt = %r.address, %reply, next, "deferred");
                    if warn && dsn::wanted(r.notify.as_deref(), Action::Delayed) {
                        delayed.push((
                            r.id,
                            Failure {
                                address: r.address.clone(),
                                action: Action::Delayed,
                                orcpt: r.orcpt.clone(),
                                diagnostic: reply.clone(),
                                remote_mta: remote_mta.clone(),
                            },
                        ));
                    }
                    updates.push(QueueUpdate::Defer {
                        id: r.id,
                        next_attempt: next,
                        reply,
                    });
                }
                RcptResult::Temporary(reply) | RcptResult::Permanent(reply) => {
                    let reply = if expired && reply.starts_with('4') {
                        format!("4.4.7 Delivery time expired; last reply: {reply}")
                    } else {
                        reply
                    };
                    tracing::info!(queue_id = msg.id, rcpt = %r.address, %reply, "failed");
                    let report = Failure {
                        address: r.address.clone(),
                        action: Action::Failed,
                        orcpt: r.orcpt.clone(),
                        diagnostic: reply,
                        remote_mta: remote_mta.clone(),
                    };
                    if dsn::wanted(r.notify.as_deref(), Action::Failed) {
                        reports.push((r.id, report));
                    } else {
                        updates.push(QueueUpdate::Done(r.id));
                    }
                }
            }
        }
        let failed: Vec<(i64, String)> = reports
            .iter()
            .filter(|(_, f)| f.action == Action::Failed)
            .map(|(id, f)| (*id, f.diagnostic.clone()))
            .collect();
        let sent = self
            .report(msg, reports.into_iter().map(|(_, f)| f).collect(), None)
            .await;
        for (id, diagnostic) in failed {
            match &sent {
                Ok(()) => updates.push(QueueUpdate::Done(id)),
                Err(e) => {
                    // The DSN could not be stored: keep the recipient so the
                    // failure is reported on a later pass rather than lost.
                    updates.push(QueueUpdate::Defer {
                        id,
                        next_attempt: t + self.config.retry_delay(0) as i64,
                        reply: format!("{diagnostic} (DSN not yet sent: {e})"),
                    });
                }
            }
        }
        let store = self.ctx.store.clone();
        match blocking(move || store.queue_update(updates)).await {
            Ok(()) => {
                if !delayed.is_empty() {
                    self.warn_delayed(msg, delayed).await;
                }
                true
            }
            Err(e) => {
                tracing::error!(queue_id = msg.id, error = %e, "recording delivery results");
                false
            }
        }
    }

    /// RFC 3461 §5.2.5: one "delayed" DSN per recipient, after
    /// `delay_warning_secs`. The recipients are marked first, so a crash
    /// can cost a warning (they are advisory) but never repeat one.
    async fn warn_delayed(&self, msg: &QueuedMessage, delayed: Vec<(i64, Failure)>) {
        let store = self.ctx.store.clone();
        let ids: Vec<i64> = delayed.iter().map(|(id, _)| *id).collect();
        let claimed = match blocking(move || store.queue_claim_delay_warning(ids)).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(queue_id = msg.id, error = %e, "recording delay warnings");
                return;
            }
        };
        let reports: Vec<Failure> = delayed
            .into_iter()
            .filter(|(id, _)| claimed.contains(id))
            .map(|(_, f)| f)
            .collect();
        if reports.is_empty() {
            return;
        }
        let until = msg
            .created
            .saturating_add(self.config.max_age_secs.min(i64::MAX as u64) as i64);
        match self.report(msg, reports, Some(until)).await {
            Ok(()) => tracing::info!(queue_id = msg.id, "delay warning sent"),
            Err(e) => tracing::warn!(queue_id = msg.id, error = %e, "could not send a delay warning"),
        }
    }

    /// Sends the DSN for `reports` to the envelope sender; never for a null
    /// sender (a bounce is not bounced).
    async fn report(&self, msg: &QueuedMessage, reports: Vec<Failure>, retry_until: Option<i64>) -> Result<(), String> {
        if reports.is_empty() || msg.sender.is_empty() {
            return Ok(());
        }
        let store = self.ctx.store.clone();
        let hostname = self.ctx.hostname.clone();
        // The whole message goes back only with a failure, unless RET=HDRS
        // or it is over bounce_size_limit (Postfix's rule): then headers.
        let any_failed = reports.iter().any(|f| f.action == Action::Failed);
        let full = any_failed && msg.ret.as_deref() != Some("HDRS") && msg.size <= self.config.bounce_size_limit;
        let ret = if full {
            msg.ret.clone()
        } else {
            Some("HDRS".to_string())
        };
        let env = DsnEnvelope {
            sender: msg.sender.clone(),
            env_id: msg.env_id.clone(),
            ret,
            arrival: msg.created,
            retry_until,
        };
        let (hash, size) = (msg.blob_hash.clone(), msg.size);
        let src = self.ctx.store.clone();
        let bytes = blocking(move || {
            if full {
                src.read_blob(&hash, 0, size)
            } else {
                crate::spool::read_headers(src.open_blob(&hash)?, 0, crate::inbound::REPORT_HEADERS_MAX)
            }
        })
        .await
        .map_err(|e| e.to_string())?;
        let queued = blocking(move || dsn::send(&store, &hostname, &env, &reports, &bytes))
            .await
            .map_err(|e| e.to_string())?;
        if queued {
            wake_queue();
        }
        Ok(())
    }
}
