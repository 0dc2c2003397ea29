//! Exclusive maildrop access (RFC 1939 §4: the server acquires an
//! exclusive-access lock on the maildrop when entering TRANSACTION; a
//! second session gets `-ERR [IN-USE]`, RFC 2449 §8.1.1).
//!
//! The lock lives in this process, keyed by store and account, so it covers
//! every POP3 listener of one server (pop3 and pop3s alike). Several server
//! processes sharing one store (multi-node) would need a lock in the store
//! itself; until then they do not exclude each other. IMAP sessions are not
//! excluded: concurrent expunges are handled by the POP3 session.
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex, MutexGuard};

type Key = (PathBuf, i64);

static HELD: LazyLock<Mutex<HashSet<Key>>> = LazyLock::new(|| Mutex::new(HashSet::new()));

fn held() -> MutexGuard<'static, HashSet<Key>> {
    // A set of keys stays consistent even if a holder panicked.
    HELD.lock().unwrap_or_else(|e| e.into_inner())
}

/// Held while a session is in TRANSACTION; released on drop, which also
/// covers dropped connections and aborted tasks.
#[derive(Debug)]
pub struct MaildropLock {
    key: Key,
}

impl MaildropLock {
    /// Takes the lock for `account_id` in the store at `store_path`, or
    /// `None` if another session holds it.
    pub fn try_acquire(store_path: &Path, account_id: i64) -> Option<MaildropLock> {
        let key = (store_path.to_path_buf(), account_id);
        if held().insert(key.clone()) {
            Some(MaildropLock { key })
        } else {
            None
        }
    }
}

impl Drop for MaildropLock {
    fn drop(&mut self) {
        held().remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let a = MaildropLock::try_acquire(dir.path(), 1).unwrap();
        assert!(MaildropLock::try_acquire(dir.path(), 1).is_none());
        // Other accounts and other stores are independent.
        let _b = MaildropLock::try_acquire(dir.path(), 2).unwrap();
        let other = tempfile::tempdir().unwrap();
        let _c = MaildropLock::try_acquire(other.path(), 1).unwrap();
        drop(a);
        assert!(MaildropLock::try_acquire(dir.path(), 1).is_some());
    }
}
