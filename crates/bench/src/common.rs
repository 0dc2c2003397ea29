//! Options every workload shares, and how results are written.
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use serde_json::{Value, json};

use crate::corpus::Corpus;
use crate::procfs;

#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Server address (loopback for a fair comparison).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Name of the server under test, as shown in the report.
    #[arg(long, default_value = "server")]
    pub label: String,
    /// Append the result as one JSON line to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Number of benchmark accounts: <user-prefix><n>@<domain>, n from 0.
    #[arg(long, default_value_t = 20)]
    pub users: u64,
    #[arg(long, default_value = "bench.test")]
    pub domain: String,
    #[arg(long, default_value = "u")]
    pub user_prefix: String,
    /// The accounts' password.
    #[arg(long, default_value = "benchpw")]
    pub password: String,
    /// Corpus seed: same seed, same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Corpus size (messages over all users).
    #[arg(long, default_value_t = 2000)]
    pub messages: u64,
    /// Per-command timeout in seconds (a timeout counts as a failure).
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Server process ids (roots of process trees) whose CPU time and
    /// memory are read from /proc during the run.
    #[arg(long = "server-pid")]
    pub server_pids: Vec<u32>,
}

impl Common {
    pub fn addr(&self, port: u16) -> String {
        format!("{}:{port}", self.host)
    }

    pub fn corpus(&self) -> Corpus {
        Corpus {
            seed: self.seed,
            count: self.messages,
            users: self.users,
            domain: self.domain.clone(),
            user_prefix: self.user_prefix.clone(),
        }
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout)
    }

    /// Every corpus message, generated once (verification compares bytes).
    pub fn corpus_messages(&self) -> Arc<Vec<Vec<u8>>> {
        let c = self.corpus();
        Arc::new((0..c.count).map(|i| c.message(i)).collect())
    }
}

/// A metric for the report: name, value, unit, whether higher is better.
pub fn metric(name: &str, value: f64, unit: &str, higher_is_better: bool) -> Value {
    json!({"name": name, "value": value, "unit": unit, "higher_is_better": higher_is_better})
}

/// CPU accounting around a measured phase.
pub struct CpuMeter {
    start: Instant,
    server0: f64,
    client0: f64,
    pids: Vec<u32>,
}

impl CpuMeter {
    pub fn start(pids: &[u32]) -> CpuMeter {
        CpuMeter {
            start: Instant::now(),
            server0: procfs::cpu_seconds(pids),
            client0: procfs::self_cpu_seconds(),
            pids: pids.to_vec(),
        }
    }

    /// (elapsed, server CPU seconds, load generator CPU seconds).
    pub fn stop(&self) -> (Duration, f64, f64) {
        (
            self.start.elapsed(),
            procfs::cpu_seconds(&self.pids) - self.server0,
            procfs::self_cpu_seconds() - self.client0,
        )
    }
}

/// Prints the result and appends it to `--json`.
pub fn emit(common: &Common, workload: &str, mut result: Value) -> Result<()> {
    result["workload"] = json!(workload);
    result["label"] = json!(common.label);
    let line = serde_json::to_string(&result)?;
    if let Some(metrics) = result["metrics"].as_array() {
        for m in metrics {
            eprintln!(
                "{} {}: {:.2} {}",
                common.label,
                m["name"].as_str().unwrap_or(""),
                m["value"].as_f64().unwrap_or(0.0),
                m["unit"].as_str().unwrap_or("")
            );
        }
    }
    println!("{line}");
    if let Some(path) = &common.json {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("open {}", path.display()))?;
        writeln!(f, "{line}")?;
    }
    Ok(())
}
