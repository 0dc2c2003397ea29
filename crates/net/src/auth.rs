//! Password authentication against the store, with a verification cache and
//! per-client failure throttling.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hmac::{KeyInit, Mac};
use mailroom_store::Store;

use crate::limits::ip_bucket;
use crate::password;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Longest username considered (an RFC 5321 path is at most 256 octets).
const MAX_USERNAME_LEN: usize = 320;
/// Longest password considered.
const MAX_PASSWORD_LEN: usize = 1024;
/// Upper bound on the number of client addresses tracked for failures.
const MAX_TRACKED_CLIENTS: usize = 100_000;

/// Tunables for [`Authenticator`].
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Pause before reporting a failed attempt.
    pub failure_delay: Duration,
    /// Failures allowed from one client address (IPv6: one /64) within
    /// `failure_window` before further attempts are refused outright.
    pub max_failures_per_ip: u32,
    /// How long failures are remembered (counted from the first one).
    pub failure_window: Duration,
    /// Maximum number of cached successful verifications (0 disables the
    /// cache).
    pub cache_capacity: usize,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            failure_delay: Duration::from_secs(1),
            max_failures_per_ip: 10,
            failure_window: Duration::from_secs(5 * 60),
            cache_capacity: 10_000,
        }
    }
}

/// A successfully authenticated account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthedUser {
    pub account_id: i64,
    /// The account's canonical (lower-case) address.
    pub address: String,
}

/// Why authentication did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Wrong username or password (deliberately indistinguishable).
    #[error("authentication failed")]
    Failed,
    /// Too many recent failures from this client; try again later.
    #[error("too many authentication failures, try again later")]
    TooManyFailures,
    /// The store could not be consulted; a temporary server-side failure.
    #[error("temporary authentication failure: {0}")]
    Unavailable(String),
}

/// Checks usernames and passwords. Cheap to clone; clones share the cache
/// and the failure counters.
///
/// * Unknown users and wrong passwords take the same time and yield the same
///   [`AuthError::Failed`]: an unknown user is verified against a dummy hash.
/// * Successful verifications are cached (keyed by an HMAC of username and
///   password under a per-process random key, so the cache holds no
///   passwords). A hit counts only while the account's stored hash is the
///   one that verified, so changing the password invalidates it.
/// * Every failure is delayed by [`AuthConfig::failure_delay`]; after
///   [`AuthConfig::max_failures_per_ip`] failures within
///   [`AuthConfig::failure_window`], the client gets
///   [`AuthError::TooManyFailures`] without any password check until the
///   window has passed.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

struct Inner {
    store: Store,
    config: AuthConfig,
    /// HMAC key (one SHA-256 block).
    cache_key: [u8; 64],
    cache: Mutex<VerifyCache>,
    failures: Mutex<HashMap<IpAddr, FailureRecord>>,
    /// Full argon2 verifications performed (for tests and metrics).
    verifications: AtomicU64,
    /// Successful cache hits.
    cache_hits: AtomicU64,
    /// Password checks running at once. Each argon2 verification takes
    /// ~19 MiB and a core for tens of milliseconds; without a cap, a flood
    /// of logins from many addresses would fill the blocking pool that
    /// every store call also needs.
    verify_slots: tokio::sync::Semaphore,
}

#[derive(Debug, Clone, Copy)]
struct FailureRecord {
    first: Instant,
    count: u32,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Both protected structures stay valid if a holder panicked.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A hash of a random password, verified against when the user does not
/// exist so that the timing matches a wrong password.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    password::try_generate_password()
        .and_then(|pw| password::hash_password(&pw))
        .ok()
});

impl Authenticator {
    pub fn new(store: Store, config: AuthConfig) -> Self {
        let mut cache_key = [0u8; 64];
        if let Err(e) = getrandom::fill(&mut cache_key) {
            // Without a secret key the cache could be probed offline from a
            // memory dump; it is still correct, so only warn.
            tracing::warn!(error = %e, "no randomness for the auth cache key");
        }
        let capacity = config.cache_capacity;
        Self {
            inner: Arc::new(Inner {
                store,
                config,
                cache_key,
                cache: Mutex::new(VerifyCache::new(capacity)),
                failures: Mutex::new(HashMap::new()),
                verifications: AtomicU64::new(0),
                cache_hits: AtomicU64::new(0),
                verify_slots: tokio::sync::Semaphore::new(
                    std::thread::available_parallelism().map_or(2, |n| n.get()) * 2,
                ),
            }),
        }
    }

    pub fn config(&self) -> &AuthConfig {
        &self.inner.config
    }

    /// Computes the dummy hash now rather than on the first failed login.
    pub async fn warm_up(&self) {
        let _ = tokio::task::spawn_blocking(|| DUMMY_HASH.is_some()).await;
    }

    /// Checks `username` (an email address; surrounding whitespace and case
    /// are ignored) and `password` for a client at `ip`.
    pub async fn authenticate(&self, username: &str, password: &str, ip: IpAddr) -> Result<AuthedUser, AuthError> {
        if self.is_blocked(ip) {
            tracing::info!(%ip, "authentication refused: too many failures");
            tokio::time::sleep(self.inner.config.failure_delay).await;
            return Err(AuthError::TooManyFailures);
        }
        let username = username.trim();
        let normalized = mailroom_store::normalize_address(username).ok();
        let Ok(slot) = self.inner.verify_slots.acquire().await else {
            return Err(AuthError::Unavailable("authentication is shutting down".into()));
        };
        let outcome = match normalized {
            Some(address)
                if !password.is_empty() && username.len() <= MAX_USERNAME_LEN && password.len() <= MAX_PASSWORD_LEN =>
            {
                let inner = self.inner.clone();
                let password = password.to_owned();
                tokio::task::spawn_blocking(move || inner.check(&address, &password))
                    .await
                    .unwrap_or_else(|e| Err(AuthError::Unavailable(e.to_string())))
            }
            _ => {
                // Malformed input: spend the same effort as a real check.
                let password = password.chars().take(MAX_PASSWORD_LEN).collect::<String>();
                let inner = self.inner.clone();
                let _ = tokio::task::spawn_blocking(move || inner.dummy_verify(&password)).await;
                Err(AuthError::Failed)
            }
        };
        drop(slot);
        match outcome {
            Ok(user) => {
                tracing::debug!(user = %user.address, %ip, "authenticated");
                Ok(user)
            }
            Err(AuthError::Failed) => {
                self.record_failure(ip);
                tracing::info!(%ip, user = %username.escape_debug(), "authentication failed");
                tokio::time::sleep(self.inner.config.failure_delay).await;
                Err(AuthError::Failed)
            }
            Err(e) => {
                tracing::warn!(%ip, error = %e, "authentication unavailable");
                Err(e)
            }
        }
    }

    fn is_blocked(&self, ip: IpAddr) -> bool {
        let max = self.inner.config.max_failures_per_ip;
        let window = self.inner.config.failure_window;
        let mut failures = lock(&self.inner.failures);
        let bucket = ip_bucket(ip);
        match failures.get(&bucket) {
            Some(rec) if rec.first.elapsed() >= window => {
                failures.remove(&bucket);
                false
            }
            Some(rec) => rec.count >= max,
            None => false,
        }
    }

    fn record_failure(&self, ip: IpAddr) {
        let window = self.inner.config.failure_window;
        let mut failures = lock(&self.inner.failures);
        let bucket = ip_bucket(ip);
        if !failures.contains_key(&bucket) && failures.len() >= MAX_TRACKED_CLIENTS {
            failures.retain(|_, rec| rec.first.elapsed() < window);
            if failures.len() >= MAX_TRACKED_CLIENTS {
                // Still full: forget the oldest record.
                if let Some(oldest) = failures.iter().min_by_key(|(_, rec)| rec.first).map(|(k, _)| *k) {
                    failures.remove(&oldest);
                }
            }
        }
        let rec = failures.entry(bucket).or_insert(FailureRecord {
            first: Instant::now(),
            count: 0,
        });
        if rec.first.elapsed() >= window {
            *rec = FailureRecord {
                first: Instant::now(),
                count: 0,
            };
        }
        rec.count = rec.count.saturating_add(1);
    }
}

impl Inner {
    /// The blocking part of a check: store lookup and argon2.
    fn check(&self, address: &str, password: &str) -> Result<AuthedUser, AuthError> {
        let account = self
            .store
            .account_by_address(address)
            .map_err(|e| AuthError::Unavailable(e.to_string()))?;
        let Some(account) = account else {
            self.dummy_verify(password);
            return Err(AuthError::Failed);
        };
        let key = self.cache_key(&account.address, password);
        let cached = lock(&self.cache).get(&key).is_some_and(|hash| {
            // Plain comparison is fine: the stored hash is not secret from
            // an attacker who could time this, and the key already proves
            // knowledge of the password.
            hash == account.password_hash
        });
        if cached {
            self.cache_hits.fetch_add(1, Ordering::Relaxed);
        } else {
            self.verifications.fetch_add(1, Ordering::Relaxed);
            if !password::verify_password(&account.password_hash, password) {
                return Err(AuthError::Failed);
            }
            lock(&self.cache).insert(key, account.password_hash.clone());
        }
        Ok(AuthedUser {
            account_id: account.id,
            address: account.address,
        })
    }

    fn dummy_verify(&self, password: &str) {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        if let Some(hash) = DUMMY_HASH.as_deref() {
            let _ = password::verify_password(hash, password);
        }
    }

    fn cache_key(&self, address: &str, password: &str) -> [u8; 32] {
        let mut mac = <HmacSha256 as KeyInit>::new(&self.cache_key.into());
        // Addresses never contain NUL (the store validates them), so the
        // separator makes the input unambiguous.
        mac.update(address.as_bytes());
        mac.update(b"\0");
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// A bounded map from HMAC(username, password) to the password hash that
/// verified; evicts the oldest insertion when full.
struct VerifyCache {
    capacity: usize,
    map: HashMap<[u8; 32], String>,
    order: VecDeque<[u8; 32]>,
}

impl VerifyCache {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            map: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    fn get(&self, key: &[u8; 32]) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    fn insert(&mut self, key: [u8; 32], hash: String) {
        if self.capacity == 0 {
            return;
        }
        if let Some(existing) = self.map.get_mut(&key) {
            *existing = hash;
            return;
        }
        while self.map.len() >= self.capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.map.remove(&old);
                }
                None => break,
            }
        }
        self.map.insert(key, hash);
        self.order.push_back(key);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));

    fn setup(config: AuthConfig) -> (tempfile::TempDir, Store, Authenticator) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.domain_add("example.test").unwrap();
        let hash = password::hash_password("right password").unwrap();
        store.account_create("alice@example.test", &hash, None).unwrap();
        let auth = Authenticator::new(store.clone(), config);
        (dir, store, auth)
    }

    fn fast_config() -> AuthConfig {
        AuthConfig {
            failure_delay: Duration::from_millis(10),
            ..AuthConfig::default()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn success_and_cache_hit() {
        let (_dir, _store, auth) = setup(fast_config());
        let t0 = Instant::now();
        let user = auth
            .authenticate("alice@example.test", "right password", IP)
            .await
            .unwrap();
        let miss = t0.elapsed();
        assert_eq!(user.address, "alice@example.test");
        assert!(user.account_id > 0);
        assert_eq!(auth.inner.verifications.load(Ordering::Relaxed), 1);

        let mut best_hit = Duration::MAX;
        for _ in 0..3 {
            let t0 = Instant::now();
            // Case and whitespace in the username do not matter.
            let again = auth
                .authenticate(" Alice@EXAMPLE.test ", "right password", IP)
                .await
                .unwrap();
            best_hit = best_hit.min(t0.elapsed());
            assert_eq!(again, user);
        }
        assert_eq!(auth.inner.verifications.load(Ordering::Relaxed), 1);
        assert_eq!(auth.inner.cache_hits.load(Ordering::Relaxed), 3);
        assert!(best_hit < miss, "hit {best_hit:?} vs miss {miss:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wrong_password_looks_like_unknown_user() {
        let (_dir, _store, auth) = setup(fast_config());
        let wrong = auth.authenticate("alice@example.test", "wrong", IP).await.unwrap_err();
        let unknown = auth.authenticate("bob@example.test", "wrong", IP).await.unwrap_err();
        let malformed = auth.authenticate("not an address", "wrong", IP).await.unwrap_err();
        let empty = auth.authenticate("alice@example.test", "", IP).await.unwrap_err();
        for e in [&wrong, &unknown, &malformed, &empty] {
            assert!(matches!(e, AuthError::Failed), "{e:?}");
            assert_eq!(e.to_string(), "authentication failed");
        }
        // Each path did one argon2 verification.
        assert_eq!(auth.inner.verifications.load(Ordering::Relaxed), 4);
        // A wrong password never populates the cache.
        assert_eq!(lock(&auth.inner.cache).len(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unknown_user_takes_as_long_as_wrong_password() {
        let (_dir, _store, auth) = setup(AuthConfig {
            failure_delay: Duration::ZERO,
            max_failures_per_ip: 1000,
            ..AuthConfig::default()
        });
        auth.warm_up().await;
        let mut wrong = Duration::ZERO;
        let mut unknown = Duration::ZERO;
        for _ in 0..3 {
            let t0 = Instant::now();
            let _ = auth.authenticate("alice@example.test", "nope", IP).await;
            wrong += t0.elapsed();
            let t0 = Instant::now();
            let _ = auth.authenticate("nobody@example.test", "nope", IP).await;
            unknown += t0.elapsed();
        }
        // Same work on both paths; allow generous noise.
        let (lo, hi) = if wrong < unknown {
            (wrong, unknown)
        } else {
            (unknown, wrong)
        };
        assert!(hi < lo * 3, "wrong {wrong:?} vs unknown {unknown:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn password_change_invalidates_cache() {
        let (_dir, store, auth) = setup(fast_config());
        auth.authenticate("alice@example.test", "right password", IP)
            .await
            .unwrap();
        assert_eq!(lock(&auth.inner.cache).len(), 1);

        let new_hash = password::hash_password("new password").unwrap();
        store.account_set_password("alice@example.test", &new_hash).unwrap();
        let err = auth
            .authenticate("alice@example.test", "right password", IP)
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::Failed));
        assert_eq!(auth.inner.cache_hits.load(Ordering::Relaxed), 0);
        auth.authenticate("alice@example.test", "new password", IP)
            .await
            .unwrap();
        // Setting the old password again (new salt) does not revive the old
        // entry without a fresh verification.
        let old_again = password::hash_password("right password").unwrap();
        store.account_set_password("alice@example.test", &old_again).unwrap();
        let before = auth.inner.verifications.load(Ordering::Relaxed);
        auth.authenticate("alice@example.test", "right password", IP)
            .await
            .unwrap();
        assert_eq!(auth.inner.verifications.load(Ordering::Relaxed), before + 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn too_many_failures_blocks_ip() {
        let (_dir, _store, auth) = setup(AuthConfig {
            failure_delay: Duration::from_millis(5),
            max_failures_per_ip: 3,
            failure_window: Duration::from_millis(1500),
            cache_capacity: 10,
        });
        for _ in 0..3 {
            let e = auth.authenticate("alice@example.test", "bad", IP).await.unwrap_err();
            assert!(matches!(e, AuthError::Failed));
        }
        let verifications = auth.inner.verifications.load(Ordering::Relaxed);
        // Even the right password is refused now, without a check.
        let e = auth
            .authenticate("alice@example.test", "right password", IP)
            .await
            .unwrap_err();
        assert!(matches!(e, AuthError::TooManyFailures), "{e:?}");
        assert_eq!(auth.inner.verifications.load(Ordering::Relaxed), verifications);
        // Other clients are unaffected; IPv4-mapped IPv6 counts as the same
        // client.
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        auth.authenticate("alice@example.test", "right password", other)
            .await
            .unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert!(matches!(
            auth.authenticate("alice@example.test", "right password", mapped).await,
            Err(AuthError::TooManyFailures)
        ));
        // After the window, the client may try again.
        tokio::time::sleep(Duration::from_millis(1600)).await;
        auth.authenticate("alice@example.test", "right password", IP)
            .await
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn failure_delay_applies() {
        let (_dir, _store, auth) = setup(AuthConfig {
            failure_delay: Duration::from_millis(300),
            ..AuthConfig::default()
        });
        let t0 = Instant::now();
        let _ = auth.authenticate("alice@example.test", "bad", IP).await;
        assert!(t0.elapsed() >= Duration::from_millis(300));
    }

    #[test]
    fn cache_is_bounded_fifo() {
        let mut c = VerifyCache::new(2);
        c.insert([1; 32], "a".into());
        c.insert([2; 32], "b".into());
        c.insert([1; 32], "a2".into());
        assert_eq!(c.len(), 2);
        c.insert([3; 32], "c".into());
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(&[1; 32]), None);
        assert_eq!(c.get(&[2; 32]), Some("b"));
        assert_eq!(c.get(&[3; 32]), Some("c"));
        assert_eq!(c.order.len(), 2);

        let mut off = VerifyCache::new(0);
        off.insert([1; 32], "a".into());
        assert_eq!(off.len(), 0);
    }

    #[test]
    fn cache_keys_depend_on_both_parts() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let auth = Authenticator::new(store, AuthConfig::default());
        let k = |u: &str, p: &str| auth.inner.cache_key(u, p);
        assert_eq!(k("a@b", "pw"), k("a@b", "pw"));
        assert_ne!(k("a@b", "pw"), k("a@b", "pW"));
        assert_ne!(k("a@b", "pw"), k("a@c", "pw"));
        // A different process key gives different keys.
        let dir2 = tempfile::tempdir().unwrap();
        let other = Authenticator::new(Store::open(dir2.path()).unwrap(), AuthConfig::default());
        assert_ne!(k("a@b", "pw"), other.inner.cache_key("a@b", "pw"));
    }
}
