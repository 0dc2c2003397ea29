//! A bounded in-memory cache of parsed message structures. They never
//! change once stored, but a blob id can be reused after its blob is gone,
//! so every entry is checked against the blob's hash before use.
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use crate::parse::ParsedMessage;

pub const CAPACITY: usize = 20_000;

#[derive(Default)]
pub struct ParsedCache {
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    map: HashMap<i64, (String, Arc<ParsedMessage>)>,
    order: VecDeque<i64>,
}

impl ParsedCache {
    pub fn get(&self, blob_id: i64, hash: &str) -> Option<Arc<ParsedMessage>> {
        let e = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match e.map.get(&blob_id) {
            Some((h, p)) if h == hash => Some(p.clone()),
            _ => None,
        }
    }

    pub fn put(&self, blob_id: i64, hash: String, parsed: Arc<ParsedMessage>) {
        let mut e = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if e.map.insert(blob_id, (hash, parsed)).is_none() {
            e.order.push_back(blob_id);
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
}
