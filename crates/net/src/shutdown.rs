//! A cloneable shutdown signal.

use std::sync::Arc;

use tokio::sync::watch;

/// A cloneable shutdown token. Any clone may [`trigger`](Shutdown::trigger)
/// it; all clones observe it. Triggering is permanent.
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    pub fn new() -> Self {
        Self {
            tx: Arc::new(watch::Sender::new(false)),
        }
    }

    /// Signals shutdown to every clone. Idempotent.
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Completes once shutdown has been triggered (immediately if it already
    /// was). Cancel-safe, so it can be used in `tokio::select!`.
    pub async fn wait(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = rx.wait_for(|triggered| *triggered).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn trigger_wakes_waiters() {
        let s = Shutdown::new();
        assert!(!s.is_triggered());
        let waiter = {
            let s = s.clone();
            tokio::spawn(async move { s.wait().await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        s.clone().trigger();
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
        assert!(s.is_triggered());
        // Already triggered: returns at once.
        tokio::time::timeout(Duration::from_secs(1), s.wait()).await.unwrap();
        s.trigger();
        assert!(s.is_triggered());
    }
}
