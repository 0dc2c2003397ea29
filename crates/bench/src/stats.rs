//! Latency recording and percentiles, per operation name.
use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

/// Latencies of one operation, in microseconds, plus failures.
#[derive(Debug, Default, Clone)]
pub struct Series {
    pub micros: Vec<u64>,
    pub failures: u64,
    pub bytes: u64,
}

impl Series {
    pub fn record(&mut self, d: Duration) {
        self.micros.push(d.as_micros().min(u64::MAX as u128) as u64);
    }

    pub fn merge(&mut self, other: Series) {
        self.micros.extend(other.micros);
        self.failures += other.failures;
        self.bytes += other.bytes;
    }
}

/// Nearest-rank percentile (the smallest value with at least `p` percent
/// of the samples at or below it) of sorted samples; 0 when empty.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Named series, mergeable across client tasks.
#[derive(Debug, Default, Clone)]
pub struct Recorder {
    pub ops: BTreeMap<String, Series>,
    /// Counted events that are neither operations nor failures.
    pub notes: BTreeMap<String, u64>,
}

impl Recorder {
    pub fn series(&mut self, op: &str) -> &mut Series {
        self.ops.entry(op.to_string()).or_default()
    }

    pub fn ok(&mut self, op: &str, d: Duration) {
        self.series(op).record(d);
    }

    pub fn fail(&mut self, op: &str) {
        self.series(op).failures += 1;
    }

    pub fn note(&mut self, what: &str, n: u64) {
        if n > 0 {
            *self.notes.entry(what.to_string()).or_default() += n;
        }
    }

    pub fn merge(&mut self, other: Recorder) {
        for (k, v) in other.ops {
            self.series(&k).merge(v);
        }
        for (k, v) in other.notes {
            self.note(&k, v);
        }
    }

    pub fn total_ok(&self) -> u64 {
        self.ops.values().map(|s| s.micros.len() as u64).sum()
    }

    pub fn total_failures(&self) -> u64 {
        self.ops.values().map(|s| s.failures).sum()
    }

    /// JSON summary: per op count, ops/s over `elapsed`, p50/p90/p99 in
    /// milliseconds, failures.
    pub fn summary(&self, elapsed: Duration) -> Value {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let mut ops = serde_json::Map::new();
        for (name, s) in &self.ops {
            let mut sorted = s.micros.clone();
            sorted.sort_unstable();
            let ms = |p| percentile(&sorted, p) as f64 / 1000.0;
            ops.insert(
                name.clone(),
                json!({
                    "count": sorted.len(),
                    "ops_s": sorted.len() as f64 / secs,
                    "p50_ms": ms(50.0),
                    "p90_ms": ms(90.0),
                    "p99_ms": ms(99.0),
                    "failures": s.failures,
                    "bytes": s.bytes,
                }),
            );
        }
        Value::Object(ops)
    }
}

/// Prints a summary table to stderr (human view of `Recorder::summary`).
pub fn print_table(title: &str, summary: &Value) {
    eprintln!("== {title}");
    eprintln!(
        "{:<16} {:>9} {:>10} {:>9} {:>9} {:>9} {:>7}",
        "op", "count", "ops/s", "p50 ms", "p90 ms", "p99 ms", "fail"
    );
    if let Some(map) = summary.as_object() {
        for (name, v) in map {
            eprintln!(
                "{:<16} {:>9} {:>10.1} {:>9.2} {:>9.2} {:>9.2} {:>7}",
                name,
                v["count"].as_u64().unwrap_or(0),
                v["ops_s"].as_f64().unwrap_or(0.0),
                v["p50_ms"].as_f64().unwrap_or(0.0),
                v["p90_ms"].as_f64().unwrap_or(0.0),
                v["p99_ms"].as_f64().unwrap_or(0.0),
                v["failures"].as_u64().unwrap_or(0),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 90.0), 90);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&v, 0.0), 1);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
        // Wikipedia's worked example: 15 20 35 40 50.
        let w = [15, 20, 35, 40, 50];
        assert_eq!(percentile(&w, 30.0), 20);
        assert_eq!(percentile(&w, 40.0), 20);
        assert_eq!(percentile(&w, 50.0), 35);
    }

    #[test]
    fn merge_and_summary() {
        let mut a = Recorder::default();
        a.ok("FETCH", Duration::from_millis(2));
        a.fail("FETCH");
        let mut b = Recorder::default();
        b.ok("FETCH", Duration::from_millis(4));
        b.ok("STORE", Duration::from_millis(1));
        a.merge(b);
        assert_eq!(a.total_ok(), 3);
        assert_eq!(a.total_failures(), 1);
        let s = a.summary(Duration::from_secs(2));
        assert_eq!(s["FETCH"]["count"], 2);
        assert_eq!(s["FETCH"]["ops_s"], 1.0);
        assert_eq!(s["FETCH"]["p50_ms"], 2.0);
        assert_eq!(s["FETCH"]["p99_ms"], 4.0);
        assert_eq!(s["FETCH"]["failures"], 1);
    }
}
