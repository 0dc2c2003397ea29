//! SMTP: N concurrent sessions deliver M messages (corpus size mix) to
//! the benchmark users, a few messages per connection as an MX sees them;
//! then IMAP watchers wait until every accepted message is readable in its
//! recipient's INBOX. Acceptance rate and end-to-end delivery rate are
//! reported separately: a queue that accepts fast and delivers slowly
//! must not look fast.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;

use crate::common::{Common, CpuMeter, emit, metric};
use crate::corpus::{generate, message_id_token};
use crate::imap_client::Imap;
use crate::imap_value::parse_fetch;
use crate::smtp_client::Smtp;
use crate::stats::{Recorder, print_table};

pub struct SmtpOpts {
    pub smtp_port: u16,
    pub imap_port: u16,
    pub sessions: u64,
    pub count: u64,
    pub per_connection: u64,
    pub auth: bool,
    pub verify_timeout: Duration,
}

/// A tag unique to this run, so repeated runs against the same store do
/// not count each other's messages. Fixed width keeps tokens unambiguous.
fn run_prefix() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    format!("s{:06x}-", (t as u64) & 0xff_ffff)
}

pub async fn run(c: &Common, o: SmtpOpts) -> Result<()> {
    let prefix = run_prefix();
    let corpus = c.corpus();
    let next = Arc::new(AtomicU64::new(0));
    let meter = CpuMeter::start(&c.server_pids);
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..o.sessions.max(1) {
        let (c, corpus, next, prefix) = (c.clone(), corpus.clone(), next.clone(), prefix.clone());
        let (port, count, per, auth) = (o.smtp_port, o.count, o.per_connection.max(1), o.auth);
        tasks.spawn(async move {
            let mut rec = Recorder::default();
            let mut accepted: Vec<u64> = Vec::new();
            let mut idx = next.fetch_add(1, Ordering::Relaxed);
            let mut refused = 0;
            while idx < count {
                let mut s = match connect(&c, port, auth, &corpus).await {
                    Ok(s) => {
                        refused = 0;
                        s
                    }
                    Err(e) => {
                        eprintln!("smtp connect: {e:#}");
                        rec.fail("connect");
                        // A server that keeps refusing ends this session.
                        refused += 1;
                        if refused >= 3 {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                };
                let mut sent = 0;
                while idx < count && sent < per {
                    let to = corpus.user(idx % corpus.users.max(1));
                    let msg = generate(c.seed, idx, &prefix, &to, "");
                    let t = Instant::now();
                    match s.send_mail("sender@example.org", &to, &msg).await {
                        Ok(()) => {
                            rec.ok("transaction", t.elapsed());
                            rec.series("transaction").bytes += msg.len() as u64;
                            accepted.push(idx);
                        }
                        Err(e) => {
                            eprintln!("smtp {idx}: {e:#}");
                            rec.fail("transaction");
                            break;
                        }
                    }
                    sent += 1;
                    idx = next.fetch_add(1, Ordering::Relaxed);
                }
                s.quit().await;
            }
            (rec, accepted)
        });
    }
    let mut rec = Recorder::default();
    let mut accepted = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (r, a) = r?;
        rec.merge(r);
        accepted.extend(a);
    }
    let accept_elapsed = start.elapsed();

    // Delivery: one watcher per recipient polls its INBOX for new UIDs.
    let mut expected: HashMap<u64, HashSet<String>> = HashMap::new();
    for idx in &accepted {
        expected
            .entry(idx % corpus.users.max(1))
            .or_default()
            .insert(message_id_token(&prefix, *idx));
    }
    let deadline = Instant::now() + o.verify_timeout;
    let mut watchers = tokio::task::JoinSet::new();
    for (user_n, want) in expected {
        let (c, user) = (c.clone(), corpus.user(user_n));
        let port = o.imap_port;
        watchers.spawn(async move { watch(&c, port, &user, want, deadline).await });
    }
    let mut delivered = 0u64;
    let mut last_seen = accept_elapsed;
    let mut sessions = Vec::new();
    while let Some(r) = watchers.join_next().await {
        match r? {
            Ok((n, at, imap, uids)) => {
                delivered += n;
                if let Some(at) = at {
                    last_seen = last_seen.max(at.duration_since(start));
                }
                sessions.push((imap, uids));
            }
            Err(e) => eprintln!("delivery check: {e:#}"),
        }
    }
    let (_, server_cpu, client_cpu) = meter.stop();
    // Leave the mailboxes as they were, so later workloads (and the other
    // side's) see the same mailbox sizes; not measured.
    for (mut imap, uids) in sessions {
        for chunk in uids.chunks(200) {
            let set = chunk.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
            let _ = imap
                .command(&format!("UID STORE {set} +FLAGS.SILENT (\\Deleted)"))
                .await;
        }
        let _ = imap.command("EXPUNGE").await;
        imap.logout().await;
    }
    let summary = rec.summary(accept_elapsed);
    print_table(&format!("smtp {}", c.label), &summary);
    let n_acc = accepted.len() as f64;
    let missing = accepted.len() as u64 - delivered.min(accepted.len() as u64);
    eprintln!(
        "{}: accepted {} of {} in {:.2}s; readable over IMAP: {} after {:.2}s; missing {}",
        c.label,
        accepted.len(),
        o.count,
        accept_elapsed.as_secs_f64(),
        delivered,
        last_seen.as_secs_f64(),
        missing
    );
    let metrics = vec![
        metric("SMTP accepted", n_acc / accept_elapsed.as_secs_f64(), "msgs/s", true),
        metric(
            "SMTP→IMAP delivered (end to end)",
            delivered as f64 / last_seen.as_secs_f64(),
            "msgs/s",
            true,
        ),
        metric(
            "SMTP delivered fraction",
            delivered as f64 / (o.count.max(1)) as f64 * 100.0,
            "%",
            true,
        ),
        metric("SMTP server CPU", server_cpu * 1000.0 / n_acc.max(1.0), "ms/msg", false),
    ];
    emit(
        c,
        "smtp",
        json!({"accept_s": accept_elapsed.as_secs_f64(), "delivered_s": last_seen.as_secs_f64(),
               "accepted": accepted.len(), "delivered": delivered, "requested": o.count,
               "server_cpu_s": server_cpu, "client_cpu_s": client_cpu, "sessions": o.sessions,
               "ops": summary, "metrics": metrics, "failures": rec.total_failures() + missing}),
    )
}

async fn connect(c: &Common, port: u16, auth: bool, corpus: &crate::corpus::Corpus) -> Result<Smtp> {
    let mut s = Smtp::connect(&c.addr(port), c.timeout()).await?;
    s.ehlo("client.bench.test").await?;
    if auth {
        s.auth_plain(&corpus.user(0), &c.password).await?;
    }
    Ok(s)
}

/// Polls `user`'s INBOX until all `want` tokens are seen or the deadline;
/// returns how many were seen, when the last one appeared, the session
/// and the UIDs of this run's messages (for the cleanup).
async fn watch(
    c: &Common,
    port: u16,
    user: &str,
    mut want: HashSet<String>,
    deadline: Instant,
) -> Result<(u64, Option<Instant>, Imap, Vec<u64>)> {
    let mut imap = Imap::connect(&c.addr(port), c.timeout()).await?;
    imap.login(user, &c.password).await?;
    imap.select("INBOX").await?;
    let mut last_uid = 0u64;
    let mut seen = 0u64;
    let mut last_at = None;
    let mut uids = Vec::new();
    while !want.is_empty() && Instant::now() < deadline {
        let r = imap
            .command(&format!(
                "UID FETCH {}:* (UID BODY.PEEK[HEADER.FIELDS (X-MRB-ID)])",
                last_uid + 1
            ))
            .await?;
        let now = Instant::now();
        for u in &r.untagged {
            let Some(f) = parse_fetch(u) else { continue };
            let Some(uid) = f.uid() else { continue };
            // `n:*` also matches the highest UID when n is above it.
            if uid <= last_uid {
                continue;
            }
            last_uid = uid;
            let hdr = f
                .get("BODY[HEADER.FIELDS (X-MRB-ID)]")
                .and_then(|v| v.as_bytes())
                .unwrap_or_default();
            let tok = String::from_utf8_lossy(hdr).to_string();
            let tok = tok.trim().rsplit(':').next().unwrap_or("").trim().to_string();
            if want.remove(&tok) {
                seen += 1;
                last_at = Some(now);
                uids.push(uid);
            }
        }
        if !want.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok((seen, last_at, imap, uids))
}
