//! In-process change notification: each account has a watch channel carrying
//! its highest MODSEQ. Sessions wait on it and then read the change log.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

#[derive(Clone, Default)]
pub struct Notifier {
    channels: Arc<Mutex<HashMap<i64, watch::Sender<u64>>>>,
}

impl Notifier {
    pub fn subscribe(&self, account_id: i64) -> watch::Receiver<u64> {
        let mut map = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(account_id).or_insert_with(|| watch::channel(0).0).subscribe()
    }

    pub fn publish(&self, account_id: i64, modseq: u64) {
        let mut map = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = map.get(&account_id) {
            if tx.receiver_count() == 0 {
                map.remove(&account_id);
            } else {
                tx.send_if_modified(|v| {
                    if modseq > *v {
                        *v = modseq;
                        true
                    } else {
                        false
                    }
                });
            }
        }
    }
}
