//! Concurrent connection limits.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};

/// Default maximum number of concurrent connections from one address.
pub const DEFAULT_MAX_PER_IP: usize = 20;
/// Default maximum number of concurrent connections overall.
pub const DEFAULT_MAX_GLOBAL: usize = 10_000;

/// Maps IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) to plain IPv4.
pub(crate) fn canonical_ip(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// The key under which per-client counters are kept: the canonical IPv4
/// address, or the /64 prefix of an IPv6 address (a single client usually
/// controls a whole /64).
pub(crate) fn ip_bucket(ip: IpAddr) -> IpAddr {
    match canonical_ip(ip) {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
    }
}

/// Why a connection was refused by [`ConnLimiter::try_acquire`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LimitExceeded {
    #[error("too many concurrent connections from {0}")]
    PerIp(IpAddr),
    #[error("too many concurrent connections")]
    Global,
}

/// Caps concurrent connections per client address and overall.
///
/// IPv6 clients are counted per /64 prefix. Cheap to clone; clones share
/// counters.
#[derive(Clone, Debug)]
pub struct ConnLimiter {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    max_per_ip: usize,
    max_global: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a pair of counters that stays consistent even if a
        // holder panicked, so poisoning is ignored.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for ConnLimiter {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_PER_IP, DEFAULT_MAX_GLOBAL)
    }
}

impl ConnLimiter {
    pub fn new(max_per_ip: usize, max_global: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                max_per_ip,
                max_global,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// Reserves a slot for a connection from `ip`. The slot is released when
    /// the returned guard is dropped.
    pub fn try_acquire(&self, ip: IpAddr) -> Result<ConnGuard, LimitExceeded> {
        let bucket = ip_bucket(ip);
        let mut state = self.inner.lock();
        if state.total >= self.inner.max_global {
            return Err(LimitExceeded::Global);
        }
        let count = state.per_ip.entry(bucket).or_insert(0);
        if *count >= self.inner.max_per_ip {
            if *count == 0 {
                state.per_ip.remove(&bucket);
            }
            return Err(LimitExceeded::PerIp(canonical_ip(ip)));
        }
        *count += 1;
        state.total += 1;
        Ok(ConnGuard {
            inner: self.inner.clone(),
            bucket,
        })
    }

    /// Number of connections currently holding a slot.
    pub fn active(&self) -> usize {
        self.inner.lock().total
    }

    /// Number of connections currently holding a slot for `ip`'s bucket.
    pub fn active_for(&self, ip: IpAddr) -> usize {
        self.inner.lock().per_ip.get(&ip_bucket(ip)).copied().unwrap_or(0)
    }
}

/// A reserved connection slot; releases it on drop.
#[derive(Debug)]
pub struct ConnGuard {
    inner: Arc<Inner>,
    bucket: IpAddr,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let mut state = self.inner.lock();
        state.total = state.total.saturating_sub(1);
        if let Some(count) = state.per_ip.get_mut(&self.bucket) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                state.per_ip.remove(&self.bucket);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn per_ip_cap() {
        let l = ConnLimiter::new(2, 100);
        let a = ip("192.0.2.1");
        let g1 = l.try_acquire(a).unwrap();
        let g2 = l.try_acquire(a).unwrap();
        assert_eq!(l.try_acquire(a).unwrap_err(), LimitExceeded::PerIp(a));
        // Another address is unaffected.
        let _g3 = l.try_acquire(ip("192.0.2.2")).unwrap();
        assert_eq!(l.active(), 3);
        assert_eq!(l.active_for(a), 2);
        drop(g1);
        let _g4 = l.try_acquire(a).unwrap();
        drop(g2);
        assert_eq!(l.active_for(a), 1);
    }

    #[test]
    fn global_cap() {
        let l = ConnLimiter::new(10, 2);
        let _a = l.try_acquire(ip("192.0.2.1")).unwrap();
        let b = l.try_acquire(ip("192.0.2.2")).unwrap();
        assert_eq!(l.try_acquire(ip("192.0.2.3")).unwrap_err(), LimitExceeded::Global);
        drop(b);
        let _c = l.try_acquire(ip("192.0.2.3")).unwrap();
    }

    #[test]
    fn guards_release_everything() {
        let l = ConnLimiter::default();
        let guards: Vec<_> = (0..20).map(|_| l.try_acquire(ip("2001:db8::1")).unwrap()).collect();
        // Same /64 shares the bucket.
        assert!(l.try_acquire(ip("2001:db8::2")).is_err());
        assert!(l.try_acquire(ip("2001:db8:0:1::2")).is_ok());
        drop(guards);
        assert_eq!(l.active(), 0);
        assert!(l.inner.lock().per_ip.is_empty());
    }

    #[test]
    fn zero_per_ip_leaves_no_entry() {
        let l = ConnLimiter::new(0, 10);
        assert!(l.try_acquire(ip("192.0.2.1")).is_err());
        assert!(l.inner.lock().per_ip.is_empty());
    }

    #[test]
    fn buckets() {
        assert_eq!(ip_bucket(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(ip_bucket(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
        assert_eq!(ip_bucket(ip("::1")), ip("::"));
    }
}
