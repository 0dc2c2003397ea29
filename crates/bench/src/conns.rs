//! Idle connections: opens N IMAP sessions (logged in, INBOX selected,
//! in IDLE, as a mail client leaves them), then reads the server's
//! resident memory; the difference from before, divided by N, is the
//! memory cost of one idle connection.
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;
use tokio::task::JoinSet;

use crate::common::{Common, emit, metric};
use crate::imap_client::Imap;
use crate::procfs;

pub struct ConnOpts {
    pub port: u16,
    pub count: u64,
    pub parallel: u64,
    pub idle: bool,
    pub settle: Duration,
}

async fn open(c: &Common, port: u16, user: String, idle: bool) -> Result<Imap> {
    // Thousands of these live at once: keep the client's buffers small.
    let mut imap = Imap::connect_with_buffer(&c.addr(port), c.timeout(), 2048).await?;
    imap.login(&user, &c.password).await?;
    imap.select("INBOX").await?;
    if idle {
        imap.idle_start().await?;
    }
    Ok(imap)
}

pub async fn run(c: &Common, o: ConnOpts) -> Result<()> {
    let corpus = c.corpus();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = procfs::memory(&c.server_pids);
    let start = Instant::now();
    let mut conns = Vec::with_capacity(o.count as usize);
    let mut failures = 0u64;
    let mut first_error = None;
    let mut next = 0u64;
    while next < o.count {
        let mut batch = JoinSet::new();
        for _ in 0..o.parallel.max(1).min(o.count - next) {
            let (c, user) = (c.clone(), corpus.user(next % corpus.users.max(1)));
            batch.spawn(async move { open(&c, o.port, user, o.idle).await });
            next += 1;
        }
        while let Some(r) = batch.join_next().await {
            match r? {
                Ok(imap) => conns.push(imap),
                Err(e) => {
                    failures += 1;
                    first_error.get_or_insert(format!("{e:#}"));
                }
            }
        }
        if next % 1000 < o.parallel.max(1) {
            eprintln!("{}: {} connections open, {failures} failed", c.label, conns.len());
        }
    }
    let open_time = start.elapsed();
    tokio::time::sleep(o.settle).await;
    let after = procfs::memory(&c.server_pids);
    let n = conns.len().max(1) as f64;
    let rss_per = (after.rss_kib as f64 - before.rss_kib as f64) / n;
    let pss_per = (after.pss_kib as f64 - before.pss_kib as f64) / n;
    if let Some(e) = &first_error {
        eprintln!("{}: first connection error: {e}", c.label);
    }
    eprintln!(
        "{}: {} idle connections (failed {failures}); server RSS {} → {} KiB ({} → {} processes), PSS {} → {} KiB",
        c.label,
        conns.len(),
        before.rss_kib,
        after.rss_kib,
        before.processes,
        after.processes,
        before.pss_kib,
        after.pss_kib
    );
    let metrics = vec![
        metric(
            &format!("idle IMAP connections open (of {})", o.count),
            conns.len() as f64,
            "conns",
            true,
        ),
        metric(
            &format!("memory per idle IMAP connection (PSS, {} conns)", o.count),
            pss_per,
            "KiB",
            false,
        ),
        metric(
            &format!("memory per idle IMAP connection (RSS sum, {} conns)", o.count),
            rss_per,
            "KiB",
            false,
        ),
        metric(
            "connect+LOGIN+SELECT+IDLE rate",
            conns.len() as f64 / open_time.as_secs_f64(),
            "conns/s",
            true,
        ),
    ];
    let opened = conns.len();
    drop(conns);
    emit(
        c,
        "connections",
        json!({"requested": o.count, "opened": opened, "failures": failures, "first_error": first_error,
               "before": {"rss_kib": before.rss_kib, "pss_kib": before.pss_kib, "processes": before.processes},
               "after": {"rss_kib": after.rss_kib, "pss_kib": after.pss_kib, "processes": after.processes},
               "open_s": open_time.as_secs_f64(), "metrics": metrics}),
    )
}
