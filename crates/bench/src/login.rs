//! The cost of one login on each side: connect, greeting, LOGIN (timed),
//! LOGOUT; sequential, so it is latency, not throughput.
use std::time::Instant;

use anyhow::Result;
use serde_json::json;

use crate::common::{Common, CpuMeter, emit, metric};
use crate::imap_client::Imap;
use crate::pop3_client::Pop3;
use crate::stats::{Recorder, percentile, print_table};

pub async fn run(c: &Common, imap_port: Option<u16>, pop3_port: Option<u16>, rounds: u64) -> Result<()> {
    let corpus = c.corpus();
    let mut rec = Recorder::default();
    let meter = CpuMeter::start(&c.server_pids);
    for round in 0..rounds {
        for n in 0..c.users {
            let user = corpus.user(n);
            // The first login of each user may miss the server's auth cache;
            // POP3 right after IMAP for the same user is a repeat.
            let phase = if round == 0 { "first" } else { "repeat" };
            let pop3_phase = if round == 0 && imap_port.is_none() {
                "first"
            } else {
                "repeat"
            };
            if let Some(p) = imap_port {
                let mut imap = Imap::connect(&c.addr(p), c.timeout()).await?;
                let t = Instant::now();
                match imap.login(&user, &c.password).await {
                    Ok(()) => rec.ok(&format!("IMAP LOGIN {phase}"), t.elapsed()),
                    Err(e) => {
                        eprintln!("{user}: {e:#}");
                        rec.fail(&format!("IMAP LOGIN {phase}"));
                    }
                }
                imap.logout().await;
            }
            if let Some(p) = pop3_port {
                let mut pop = Pop3::connect(&c.addr(p), c.timeout()).await?;
                let t = Instant::now();
                match pop.login(&user, &c.password).await {
                    Ok(()) => rec.ok(&format!("POP3 USER+PASS {pop3_phase}"), t.elapsed()),
                    Err(e) => {
                        eprintln!("{user}: {e:#}");
                        rec.fail(&format!("POP3 USER+PASS {pop3_phase}"));
                    }
                }
                let _ = pop.quit().await;
            }
        }
    }
    let (elapsed, server_cpu, client_cpu) = meter.stop();
    let summary = rec.summary(elapsed);
    print_table(&format!("login {}", c.label), &summary);
    let mut metrics = Vec::new();
    // "first" may include the password hash; "repeat" shows the cache.
    for (name, s) in &rec.ops {
        let mut v = s.micros.clone();
        v.sort_unstable();
        metrics.push(metric(
            &format!("{name} p50"),
            percentile(&v, 50.0) as f64 / 1000.0,
            "ms",
            false,
        ));
    }
    let logins = rec.total_ok().max(1);
    metrics.push(metric(
        "login server CPU",
        server_cpu * 1000.0 / logins as f64,
        "ms/login",
        false,
    ));
    emit(
        c,
        "login",
        json!({"elapsed_s": elapsed.as_secs_f64(), "server_cpu_s": server_cpu, "client_cpu_s": client_cpu,
               "ops": summary, "metrics": metrics, "failures": rec.total_failures()}),
    )
}
