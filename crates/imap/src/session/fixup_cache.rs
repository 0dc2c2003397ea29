//! The corrected parses of `fetch::raw_fixups`, kept per blob content.
//! Correcting a parse reads the header block and one octet per body part;
//! a message list shows the same ENVELOPEs over and over, and blob content
//! never changes once stored, so the result is cached by content hash
//! (with the rev1/rev2 parameter choice, which changes the result).
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use mailroom_store::ParsedMessage;

/// Entries kept; the oldest go first. A corrected parse is a few KiB.
pub(crate) const CAPACITY: usize = 4096;

type Key = (String, bool);

#[derive(Default)]
struct Entries {
    map: HashMap<Key, Arc<ParsedMessage>>,
    order: VecDeque<Key>,
}

fn cache() -> &'static Mutex<Entries> {
    static CACHE: OnceLock<Mutex<Entries>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

pub(crate) fn get(hash: &str, raw_params: bool) -> Option<Arc<ParsedMessage>> {
    let e = cache().lock().unwrap_or_else(|e| e.into_inner());
    e.map.get(&(hash.to_string(), raw_params)).cloned()
}

pub(crate) fn put(hash: &str, raw_params: bool, parsed: Arc<ParsedMessage>) {
    let mut e = cache().lock().unwrap_or_else(|e| e.into_inner());
    let key = (hash.to_string(), raw_params);
    if e.map.insert(key.clone(), parsed).is_none() {
        e.order.push_back(key);
    }
    while e.map.len() > CAPACITY {
        match e.order.pop_front() {
            Some(old) => {
                e.map.remove(&old);
            }
            None => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_by_hash_and_mode_and_bounded() {
        let p = Arc::new(mailroom_store::parse::parse(b"Subject: x\r\n\r\nbody\r\n"));
        put("fixup-test-a", true, p.clone());
        assert!(get("fixup-test-a", true).is_some());
        assert!(get("fixup-test-a", false).is_none());
        for i in 0..CAPACITY + 1 {
            put(&format!("fixup-test-fill-{i}"), false, p.clone());
        }
        assert!(get("fixup-test-a", true).is_none());
        assert!(cache().lock().unwrap().map.len() <= CAPACITY);
    }
}
