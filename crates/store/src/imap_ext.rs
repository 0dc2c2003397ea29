//! Store calls the IMAP server needs beyond the shared API.
use rusqlite::params;

use crate::{Result, Store};

impl Store {
    /// Like [`Store::claim_recent`] but also returns the end of the claimed
    /// range: UIDs in `from..to` are \Recent for the caller only (RFC 3501
    /// §2.3.2). Both ends come from one transaction, so two sessions never
    /// claim the same UID.
    pub fn claim_recent_range(&self, mailbox_id: i64) -> Result<(u32, u32)> {
        self.write(move |c, _| {
            let (recent, next): (i64, i64) = c.query_row(
                "SELECT recent_uid, uidnext FROM mailboxes WHERE id = ?1",
                [mailbox_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            c.execute(
                "UPDATE mailboxes SET recent_uid = ?1 WHERE id = ?2",
                params![next, mailbox_id],
            )?;
            Ok((recent as u32, next as u32))
        })
    }

    /// The first UID not yet claimed as \Recent by any session (EXAMINE
    /// shows these as recent without claiming them).
    pub fn recent_uid(&self, mailbox_id: i64) -> Result<u32> {
        self.read(move |c| {
            Ok(
                c.query_row("SELECT recent_uid FROM mailboxes WHERE id = ?1", [mailbox_id], |r| {
                    r.get::<_, i64>(0)
                })? as u32,
            )
        })
    }
}
