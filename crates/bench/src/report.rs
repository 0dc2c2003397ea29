//! Turns the JSON lines of a comparison run into a Markdown table: one
//! row per metric, one column per server, and for each other server the
//! factor by which the first one (Mailroom) is better (> 1) or worse (< 1).
use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde_json::Value;

struct Row {
    workload: String,
    name: String,
    unit: String,
    higher_is_better: bool,
    values: BTreeMap<String, Vec<f64>>,
}

/// The advantage of `ours` over `theirs`, oriented so > 1 means ours is
/// better whichever direction the metric goes.
pub fn advantage(ours: f64, theirs: f64, higher_is_better: bool) -> Option<f64> {
    let (num, den) = if higher_is_better {
        (ours, theirs)
    } else {
        (theirs, ours)
    };
    if den > 0.0 && num.is_finite() && den.is_finite() {
        Some(num / den)
    } else {
        None
    }
}

fn fmt(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

pub fn markdown(jsonl: &str) -> Result<String> {
    let mut labels: Vec<String> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    let mut failures: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (n, line) in jsonl.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).with_context(|| format!("results line {}", n + 1))?;
        let label = v["label"].as_str().unwrap_or("?").to_string();
        let workload = v["workload"].as_str().unwrap_or("?").to_string();
        if !labels.contains(&label) {
            labels.push(label.clone());
        }
        *failures.entry((workload.clone(), label.clone())).or_default() += v["failures"].as_u64().unwrap_or(0);
        for m in v["metrics"].as_array().into_iter().flatten() {
            let name = m["name"].as_str().unwrap_or("?").to_string();
            let value = m["value"].as_f64().unwrap_or(f64::NAN);
            let pos = rows.iter().position(|r| r.workload == workload && r.name == name);
            let row = match pos {
                Some(p) => &mut rows[p],
                None => {
                    rows.push(Row {
                        workload: workload.clone(),
                        name,
                        unit: m["unit"].as_str().unwrap_or("").to_string(),
                        higher_is_better: m["higher_is_better"].as_bool().unwrap_or(true),
                        values: BTreeMap::new(),
                    });
                    let last = rows.len() - 1;
                    &mut rows[last]
                }
            };
            row.values.entry(label.clone()).or_default().push(value);
        }
    }
    let mut out = String::new();
    let Some(ours) = labels.first().cloned() else {
        return Ok("(no results)\n".into());
    };
    out.push_str("| workload | metric | unit |");
    for l in &labels {
        out.push_str(&format!(" {l} |"));
    }
    for l in &labels[1..] {
        out.push_str(&format!(" {ours} advantage vs {l} |"));
    }
    out.push('\n');
    out.push_str(&"|---".repeat(3 + labels.len() * 2 - 1));
    out.push_str("|\n");
    // Repeated runs of one workload: the median is reported.
    let median = |v: &Vec<f64>| {
        let mut v = v.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    for r in &rows {
        let arrow = if r.higher_is_better { "↑" } else { "↓" };
        out.push_str(&format!("| {} | {} | {} {arrow} |", r.workload, r.name, r.unit));
        for l in &labels {
            match r.values.get(l) {
                Some(v) => out.push_str(&format!(" {} |", fmt(median(v)))),
                None => out.push_str(" — |"),
            }
        }
        let mine = r.values.get(&ours).map(median);
        for l in &labels[1..] {
            let theirs = r.values.get(l).map(median);
            match (mine, theirs) {
                (Some(a), Some(b)) => match advantage(a, b, r.higher_is_better) {
                    Some(x) => out.push_str(&format!(" **{}×** |", fmt(x))),
                    None => out.push_str(" n/a |"),
                },
                _ => out.push_str(" — |"),
            }
        }
        out.push('\n');
    }
    out.push_str(&targets(&rows, &labels, median));
    out.push_str("\nFailures (wrong answers, errors, timeouts, undelivered mail) per workload and server:\n\n");
    for ((w, l), f) in &failures {
        out.push_str(&format!("- {w} / {l}: {f}\n"));
    }
    Ok(out)
}

/// The project's goals (issue 6), checked against the first label.
enum Goal {
    /// At least this advantage over every other server.
    Ratio(f64),
    /// At most this value for the first server itself.
    AtMost(f64),
}

/// (metric name, or name prefix for `AtMost`; goal text; goal).
const GOALS: &[(&str, &str, Goal)] = &[
    ("IMAP mix", "IMAP mix ops/s ≥ 2× Dovecot", Goal::Ratio(2.0)),
    (
        "SMTP→IMAP delivered (end to end)",
        "SMTP→IMAP delivery rate ≥ 2× Postfix→Dovecot",
        Goal::Ratio(2.0),
    ),
    ("POP3 RETR throughput", "POP3 RETR ≥ Dovecot", Goal::Ratio(1.0)),
    (
        "memory per idle IMAP connection (PSS",
        "≤ 64 KiB resident per idle IMAP connection",
        Goal::AtMost(64.0),
    ),
];

fn targets(rows: &[Row], labels: &[String], median: impl Fn(&Vec<f64>) -> f64) -> String {
    let Some(ours) = labels.first() else {
        return String::new();
    };
    let mut out = String::from(
        "\nGoals (from the project's benchmark issue; ratios are the advantage as above):\n\n| goal | measured | met? |\n|---|---|---|\n",
    );
    for (prefix, text, goal) in GOALS {
        let mut found = false;
        // The memory rows carry the connection count in their names.
        let matches = |r: &&Row| match goal {
            Goal::AtMost(_) => r.name.starts_with(prefix),
            Goal::Ratio(_) => r.name == *prefix,
        };
        for r in rows.iter().filter(matches) {
            let Some(mine) = r.values.get(ours).map(&median) else {
                continue;
            };
            found = true;
            match goal {
                Goal::Ratio(min) => {
                    for l in &labels[1..] {
                        let Some(theirs) = r.values.get(l).map(&median) else {
                            continue;
                        };
                        if let Some(x) = advantage(mine, theirs, r.higher_is_better) {
                            let met = if x >= *min { "yes" } else { "**no**" };
                            out.push_str(&format!("| {text} | {}× vs {l} | {met} |\n", fmt(x)));
                        }
                    }
                }
                Goal::AtMost(max) => {
                    let met = if mine <= *max { "yes" } else { "**no**" };
                    out.push_str(&format!("| {text} | {} {} ({}) | {met} |\n", fmt(mine), r.unit, r.name));
                }
            }
        }
        if !found {
            out.push_str(&format!("| {text} | not measured | — |\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advantage_orientation() {
        assert_eq!(advantage(200.0, 100.0, true), Some(2.0));
        assert_eq!(advantage(5.0, 10.0, false), Some(2.0));
        assert_eq!(advantage(5.0, 0.0, true), None);
    }

    #[test]
    fn table_from_results() {
        let jsonl = r#"{"workload":"imap","label":"mailroom","failures":0,"metrics":[{"name":"IMAP mix","value":300.0,"unit":"ops/s","higher_is_better":true}]}
{"workload":"imap","label":"dovecot","failures":2,"metrics":[{"name":"IMAP mix","value":100.0,"unit":"ops/s","higher_is_better":true},{"name":"only theirs","value":1.0,"unit":"x","higher_is_better":false}]}
"#;
        let md = markdown(jsonl).unwrap();
        assert!(
            md.contains("| imap | IMAP mix | ops/s ↑ | 300 | 100 | **3.00×** |"),
            "{md}"
        );
        assert!(md.contains("| imap | only theirs | x ↓ | — | 1.00 | — |"), "{md}");
        assert!(md.contains("- imap / dovecot: 2"));
        assert!(
            md.contains("| IMAP mix ops/s ≥ 2× Dovecot | 3.00× vs dovecot | yes |"),
            "{md}"
        );
        assert!(md.contains("| POP3 RETR ≥ Dovecot | not measured | — |"), "{md}");
    }
}
