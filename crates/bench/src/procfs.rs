//! Server-side resource readings from /proc: resident memory and CPU time
//! of a process and everything it forked (Dovecot and Postfix are process
//! trees; Mailroom is one process).
use std::collections::HashMap;
use std::fs;

/// Kernel clock ticks per second for /proc/PID/stat times. Linux has used
/// USER_HZ = 100 on every architecture for /proc since 2.6.
const TICKS_PER_SEC: f64 = 100.0;

/// `ppid`, `utime+stime`, `cutime+cstime` (ticks) from /proc/PID/stat.
pub fn parse_stat(stat: &str) -> Option<(u32, u64, u64)> {
    // The command name is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_ascii_whitespace().collect();
    // Fields after the name start at 3 (state): ppid is 4, utime 14.
    let num = |i: usize| f.get(i - 3).and_then(|v| v.parse::<u64>().ok());
    Some((num(4)? as u32, num(14)? + num(15)?, num(16)? + num(17)?))
}

/// `VmRSS:` of /proc/PID/status in KiB.
pub fn parse_vmrss(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// `Pss:` of /proc/PID/smaps_rollup in KiB.
pub fn parse_pss(rollup: &str) -> Option<u64> {
    rollup
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// `root` and all its living descendants.
pub fn tree(root: u32) -> Vec<u32> {
    let mut parent: HashMap<u32, u32> = HashMap::new();
    if let Ok(dir) = fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if let Ok(s) = fs::read_to_string(format!("/proc/{pid}/stat"))
                && let Some((ppid, _, _)) = parse_stat(&s)
            {
                parent.insert(pid, ppid);
            }
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parent.iter().filter(|(_, pp)| **pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out
}

/// Memory of a set of server process trees.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mem {
    pub rss_kib: u64,
    pub pss_kib: u64,
    pub processes: u64,
}

pub fn memory(roots: &[u32]) -> Mem {
    let mut m = Mem::default();
    for &r in roots {
        for pid in tree(r) {
            if let Ok(s) = fs::read_to_string(format!("/proc/{pid}/status"))
                && let Some(kib) = parse_vmrss(&s)
            {
                m.rss_kib += kib;
                m.processes += 1;
            }
            if let Ok(s) = fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
                && let Some(kib) = parse_pss(&s)
            {
                m.pss_kib += kib;
            }
        }
    }
    m
}

/// CPU seconds used so far by the trees: each living process's own time
/// plus what the roots collected from children they reaped (short-lived
/// login, imap, smtpd, lmtp processes).
pub fn cpu_seconds(roots: &[u32]) -> f64 {
    let mut ticks = 0;
    for &r in roots {
        for pid in tree(r) {
            if let Ok(s) = fs::read_to_string(format!("/proc/{pid}/stat"))
                && let Some((_, own, reaped)) = parse_stat(&s)
            {
                ticks += own + if pid == r { reaped } else { 0 };
            }
        }
    }
    ticks as f64 / TICKS_PER_SEC
}

/// This process's CPU seconds (the load generator's own cost).
pub fn self_cpu_seconds() -> f64 {
    fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| parse_stat(&s))
        .map(|(_, own, _)| own as f64 / TICKS_PER_SEC)
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields() {
        let s = "1234 (imap (x) y) S 77 1234 1234 0 -1 4194560 100 0 0 0 250 50 3 4 20 0 1 0 5 1000 200 18446744073709551615";
        assert_eq!(parse_stat(s), Some((77, 300, 7)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn memory_fields() {
        assert_eq!(parse_vmrss("Name:\tx\nVmRSS:\t  10240 kB\nVmSwap: 0 kB\n"), Some(10240));
        assert_eq!(parse_pss("Rss: 5 kB\nPss:   321 kB\n"), Some(321));
        assert_eq!(parse_vmrss("Name: x\n"), None);
    }

    #[test]
    fn own_tree_and_cpu() {
        let me = std::process::id();
        assert!(tree(me).contains(&me));
        assert!(memory(&[me]).rss_kib > 0);
        assert!(cpu_seconds(&[me]) >= 0.0);
    }
}
