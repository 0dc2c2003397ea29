//! What the POP3 server keeps beside the messages: each blob's size as sent
//! to a POP3 client. RFC 1939 §11 wants exact sizes in STAT and LIST, which
//! differ from the stored size when a message has bare LFs; computing them
//! means reading the message, so it is done once per blob and remembered.
use std::collections::HashMap;

use rusqlite::params;

use crate::{Result, Store};

impl Store {
    /// The remembered POP3 sizes of the messages in a mailbox, by blob id.
    /// Blobs whose size was never recorded are absent.
    pub fn pop3_sizes(&self, mailbox_id: i64) -> Result<HashMap<i64, u64>> {
        self.read(move |c| {
            let mut st = c.prepare_cached(
                "SELECT p.blob_id, p.octets FROM messages m JOIN pop3_sizes p ON p.blob_id = m.blob_id
                 WHERE m.mailbox_id = ?1",
            )?;
            let rows = st
                .query_map([mailbox_id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as u64)))?
                .collect::<rusqlite::Result<HashMap<_, _>>>()?;
            Ok(rows)
        })
    }

    /// Records POP3 sizes as `(blob id, blob hash, octets)`. A blob that
    /// has gone meanwhile (or whose id now names other content) is skipped,
    /// so a stale computation can never be attached to a new blob.
    pub fn pop3_sizes_put(&self, sizes: Vec<(i64, String, u64)>) -> Result<()> {
        if sizes.is_empty() {
            return Ok(());
        }
        self.write(move |c, _| {
            let mut st = c.prepare_cached(
                "INSERT INTO pop3_sizes (blob_id, octets)
                 SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM blobs WHERE id = ?1 AND hash = ?3)
                 ON CONFLICT (blob_id) DO UPDATE SET octets = excluded.octets",
            )?;
            for (id, hash, octets) in &sizes {
                st.execute(params![id, *octets as i64, hash])?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Flags, NewMessage};

    #[test]
    fn sizes_round_trip_and_follow_the_blob() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.domain_add("example.test").unwrap();
        let acct = store.account_create("a@example.test", "x", None).unwrap();
        let inbox = store.mailbox_get(acct.id, "INBOX").unwrap().unwrap();
        let blob = store.prepare_blob(b"Subject: x\n\nbody\n").unwrap();
        store
            .append(
                inbox.id,
                vec![NewMessage {
                    blob: &blob,
                    flags: Flags::default(),
                    internal_date: 0,
                    tz_offset: 0,
                }],
            )
            .unwrap();
        let meta = store.messages(inbox.id).unwrap().remove(0);
        assert!(store.pop3_sizes(inbox.id).unwrap().is_empty());
        // A wrong hash is ignored rather than recorded.
        store.pop3_sizes_put(vec![(meta.blob_id, "0".repeat(64), 1)]).unwrap();
        assert!(store.pop3_sizes(inbox.id).unwrap().is_empty());
        store
            .pop3_sizes_put(vec![(meta.blob_id, meta.blob_hash.clone(), 20)])
            .unwrap();
        assert_eq!(store.pop3_sizes(inbox.id).unwrap().get(&meta.blob_id), Some(&20));
        // Expunging the last reference deletes the blob and its size.
        store.expunge(inbox.id, &[meta.uid]).unwrap();
        let left: i64 = store
            .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM pop3_sizes", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(left, 0);
        // Recording a size for a vanished blob is a no-op, not an error.
        store.pop3_sizes_put(vec![(meta.blob_id, meta.blob_hash, 20)]).unwrap();
    }
}
