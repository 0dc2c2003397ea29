//! POP3: each client logs in as its own user (POP3 servers may lock the
//! maildrop), lists it (STAT, UIDL) and downloads every message (RETR),
//! checking each against the corpus; repeated for `--duration`.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use serde_json::json;

use crate::common::{Common, CpuMeter, emit, metric};
use crate::corpus::{message_id_token, mrb_id};
use crate::pop3_client::{Pop3, parse_stat};
use crate::stats::{Recorder, print_table};

pub async fn run(c: &Common, port: u16, clients: u64, duration: Duration) -> Result<()> {
    let msgs = c.corpus_messages();
    let by_token: Arc<HashMap<String, usize>> =
        Arc::new((0..msgs.len()).map(|i| (message_id_token("c", i as u64), i)).collect());
    let clients = clients.min(c.users).max(1);
    let meter = CpuMeter::start(&c.server_pids);
    let deadline = Instant::now() + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..clients {
        let (c, msgs, by_token) = (c.clone(), msgs.clone(), by_token.clone());
        tasks.spawn(async move {
            let mut rec = Recorder::default();
            let user = c.corpus().user(n);
            while Instant::now() < deadline {
                if let Err(e) = session(&c, port, &user, &msgs, &by_token, &mut rec).await {
                    eprintln!("pop3 {user}: {e:#}");
                    rec.fail("session");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            rec
        });
    }
    let mut rec = Recorder::default();
    while let Some(r) = tasks.join_next().await {
        rec.merge(r?);
    }
    let (elapsed, server_cpu, client_cpu) = meter.stop();
    let summary = rec.summary(elapsed);
    print_table(&format!("pop3 {}", c.label), &summary);
    let retr = rec.ops.get("RETR").cloned().unwrap_or_default();
    let secs = elapsed.as_secs_f64();
    let n = retr.micros.len().max(1) as f64;
    let metrics = vec![
        metric("POP3 RETR throughput", retr.bytes as f64 / secs / 1e6, "MB/s", true),
        metric("POP3 RETR", retr.micros.len() as f64 / secs, "msgs/s", true),
        metric("POP3 server CPU", server_cpu * 1000.0 / n, "ms/msg", false),
    ];
    emit(
        c,
        "pop3",
        json!({"elapsed_s": secs, "server_cpu_s": server_cpu, "client_cpu_s": client_cpu, "clients": clients,
               "ops": summary, "metrics": metrics, "failures": rec.total_failures()}),
    )
}

async fn session(
    c: &Common,
    port: u16,
    user: &str,
    msgs: &[Vec<u8>],
    by_token: &HashMap<String, usize>,
    rec: &mut Recorder,
) -> Result<()> {
    let t = Instant::now();
    let mut p = Pop3::connect(&c.addr(port), c.timeout()).await?;
    p.login(user, &c.password).await?;
    rec.ok("connect+login", t.elapsed());

    let t = Instant::now();
    let stat = p.command("STAT").await?;
    rec.ok("STAT", t.elapsed());
    let (count, _) = parse_stat(&stat).ok_or_else(|| anyhow!("bad STAT: {stat}"))?;

    let t = Instant::now();
    let uidl = p.multiline("UIDL").await?;
    rec.ok("UIDL", t.elapsed());
    let listed = uidl.split(|b| *b == b'\n').filter(|l| l.len() > 1).count() as u64;
    if listed != count {
        rec.fail("UIDL");
        bail!("UIDL lists {listed} messages, STAT said {count}");
    }
    for i in 1..=count {
        let t = Instant::now();
        let m = p.multiline(&format!("RETR {i}")).await?;
        let d = t.elapsed();
        // A fast wrong answer is a failure: corpus messages must come back
        // byte for byte.
        let good = match mrb_id(&m) {
            Some(tok) => match by_token.get(&tok) {
                Some(&idx) => msgs[idx] == m,
                None => true, // delivered by another workload
            },
            None => false,
        };
        if good {
            rec.ok("RETR", d);
            rec.series("RETR").bytes += m.len() as u64;
        } else {
            rec.fail("RETR");
        }
    }
    p.quit().await?;
    Ok(())
}
