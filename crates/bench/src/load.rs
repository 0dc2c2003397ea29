//! Puts the corpus into every user's INBOX over IMAP APPEND, the same way
//! for every server, so later workloads read identical mailboxes.
use std::sync::Arc;

use anyhow::{Result, bail};
use serde_json::json;
use tokio::sync::Semaphore;

use crate::common::{Common, CpuMeter, emit, metric};
use crate::imap_client::Imap;
use crate::stats::{Recorder, print_table};

/// Some corpus messages arrive already read, as in a real mailbox.
pub fn initial_flags(idx: u64) -> &'static str {
    if idx.is_multiple_of(3) { "" } else { "\\Seen" }
}

pub async fn run(c: &Common, imap_port: u16, concurrency: usize) -> Result<()> {
    let corpus = c.corpus();
    let msgs = c.corpus_messages();
    let sem = Arc::new(Semaphore::new(concurrency.max(1)));
    let meter = CpuMeter::start(&c.server_pids);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..c.users {
        let (c, corpus, msgs, sem) = (c.clone(), corpus.clone(), msgs.clone(), sem.clone());
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await?;
            let mut rec = Recorder::default();
            let user = corpus.user(n);
            let mut imap = Imap::connect(&c.addr(imap_port), c.timeout()).await?;
            imap.login(&user, &c.password).await?;
            let exists = imap.select("INBOX").await?;
            let owned: Vec<u64> = corpus.owned_by(n).collect();
            if exists == owned.len() as u64 {
                imap.logout().await;
                return Ok::<_, anyhow::Error>((rec, 0u64));
            }
            if exists != 0 {
                bail!(
                    "INBOX of {user} holds {exists} messages, expected 0 or {}: start from empty stores",
                    owned.len()
                );
            }
            let mut bytes = 0;
            for idx in owned {
                let m = &msgs[idx as usize];
                let t = std::time::Instant::now();
                let r = imap.append("INBOX", initial_flags(idx), m).await?;
                if !r.ok() {
                    bail!("APPEND for {user}: {} {}", r.status, r.text);
                }
                rec.ok("APPEND", t.elapsed());
                bytes += m.len() as u64;
            }
            rec.series("APPEND").bytes = bytes;
            imap.logout().await;
            Ok((rec, bytes))
        });
    }
    let mut rec = Recorder::default();
    while let Some(r) = tasks.join_next().await {
        let (r, _) = r??;
        rec.merge(r);
    }
    let (elapsed, server_cpu, client_cpu) = meter.stop();
    let appended = rec.total_ok();
    let summary = rec.summary(elapsed);
    print_table(&format!("load {}", c.label), &summary);
    if appended == 0 {
        eprintln!("{}: corpus already loaded", c.label);
        return Ok(());
    }
    let metrics = vec![
        metric(
            "APPEND (corpus load)",
            appended as f64 / elapsed.as_secs_f64(),
            "msgs/s",
            true,
        ),
        metric(
            "APPEND server CPU",
            server_cpu * 1000.0 / appended as f64,
            "ms/msg",
            false,
        ),
    ];
    emit(
        c,
        "load",
        json!({"elapsed_s": elapsed.as_secs_f64(), "server_cpu_s": server_cpu, "client_cpu_s": client_cpu,
               "ops": summary, "metrics": metrics, "failures": 0}),
    )
}
