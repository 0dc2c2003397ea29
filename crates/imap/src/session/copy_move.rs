//! COPY, MOVE and their UID forms (RFC 9051 §6.4.7-8, RFC 6851, UIDPLUS
//! COPYUID RFC 4315).
use mailroom_store::StoreError;

use super::reply::{Reply, store_error};
use super::{Session, blocking};
use crate::sequence::SequenceSet;

impl Session {
    pub(crate) async fn cmd_copy_move(&mut self, uid: bool, set: SequenceSet, target: String, is_move: bool) -> Reply {
        let Some(view) = self.selected.as_ref() else {
            return Reply::bad("No mailbox selected");
        };
        if is_move && view.read_only {
            return Reply::no("Mailbox is read-only").code("READ-ONLY");
        }
        let Ok(indices) = view.select(&set, uid) else {
            return Reply::bad("Invalid message sequence number");
        };
        let uids: Vec<u32> = indices
            .iter()
            .filter(|&&i| !view.entries[i].expunged)
            .map(|&i| view.entries[i].meta.uid)
            .collect();
        let some_expunged = indices.iter().any(|&i| view.entries[i].expunged);
        let src = view.mailbox.id;
        let store = self.store();
        let account = self.account_id();
        let result = blocking(move || {
            let Some(dst) = store.mailbox_get(account, &target)? else {
                return Ok(None);
            };
            if uids.is_empty() {
                return Ok(Some(None));
            }
            let copied = if is_move {
                store.move_messages(src, &uids, dst.id)?
            } else {
                store.copy(src, &uids, dst.id)?
            };
            Ok(Some(Some(copied)))
        })
        .await;
        let copied = match result {
            Ok(Some(Some(c))) => c,
            // Nothing left to copy because another session expunged it:
            // the client must not believe the copy happened.
            Ok(Some(None)) if some_expunged => {
                return Reply::no("The messages were expunged").code("EXPUNGEISSUED");
            }
            // Nothing to copy (e.g. a UID set naming no message): OK.
            Ok(Some(None)) => return Reply::ok(""),
            Ok(None) => return Reply::no("Mailbox does not exist").code("TRYCREATE"),
            Err(StoreError::QuotaExceeded) => return Reply::no("Quota exceeded").code("OVERQUOTA"),
            Err(e) => return store_error(&e),
        };
        let code = if copied.pairs.is_empty() {
            None
        } else {
            Some(format!(
                "COPYUID {} {} {}",
                copied.uidvalidity,
                SequenceSet::from_ordered(copied.pairs.iter().map(|p| p.0)),
                SequenceSet::from_ordered(copied.pairs.iter().map(|p| p.1))
            ))
        };
        if is_move {
            // RFC 6851 §4.3: COPYUID goes in an untagged OK before the
            // EXPUNGEs, which the refresh after the command sends.
            if let Some(c) = &code {
                self.untagged(&format!("OK [{c}] Moved"));
            }
            let moved: Vec<u32> = copied.pairs.iter().map(|p| p.0).collect();
            if let Some(v) = self.selected.as_mut() {
                v.mark_expunged(&moved);
            }
        }
        if some_expunged {
            return Reply::no("Some of the messages were expunged").code("EXPUNGEISSUED");
        }
        match (is_move, code) {
            (false, Some(c)) => Reply::ok("COPY completed").code(c),
            _ => Reply::ok(""),
        }
    }
}
