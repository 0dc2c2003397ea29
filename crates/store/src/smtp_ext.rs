//! What the SMTP server needs beyond the core API.
use crate::blob::PreparedBlob;
use crate::message::BlobReader;
use crate::{Result, Store};

impl Store {
    /// Opens a prepared blob that may not be committed yet (then a small
    /// one exists only in memory, not in the database or as a file): to
    /// derive a second blob from it, e.g. the queue's copy of a message
    /// received for local and remote recipients.
    pub fn open_prepared(&self, blob: &PreparedBlob) -> Result<BlobReader> {
        match &blob.inline {
            Some(bytes) => Ok(BlobReader::Memory(std::io::Cursor::new(bytes.to_vec()))),
            None => Ok(BlobReader::File(self.inner.blobs.open_blob(&blob.hash)?)),
        }
    }

    /// Marks queued recipients as warned about a delay and returns the ones
    /// that were not already: a "delayed" DSN goes out once per recipient.
    pub fn queue_claim_delay_warning(&self, ids: Vec<i64>) -> Result<Vec<i64>> {
        self.write(move |c, _| {
            let mut claimed = Vec::new();
            for id in ids {
                let n = c
                    .prepare_cached("UPDATE queue_recipients SET delay_warned = 1 WHERE id = ?1 AND delay_warned = 0")?
                    .execute([id])?;
                if n == 1 {
                    claimed.push(id);
                }
            }
            Ok(claimed)
        })
    }
}
