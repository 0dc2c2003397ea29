//! EXPUNGE, UID EXPUNGE (RFC 4315) and CLOSE.
use super::Session;
use super::reply::{Reply, store_error};
use crate::sequence::SequenceSet;

impl Session {
    pub(crate) async fn cmd_expunge(&mut self, set: Option<SequenceSet>) -> Reply {
        let Some(view) = self.selected.as_ref() else {
            return Reply::bad("No mailbox selected");
        };
        if view.read_only {
            return Reply::no("Mailbox is read-only").code("READ-ONLY");
        }
        let only = match &set {
            Some(set) => match view.select(set, true) {
                Ok(idx) => Some(idx.iter().map(|&i| view.entries[i].meta.uid).collect::<Vec<u32>>()),
                Err(_) => return Reply::bad("Invalid UID set"),
            },
            None => None,
        };
        let store = self.store();
        let mailbox = view.mailbox.id;
        match store.expunge_deleted_async(mailbox, only).await {
            Ok(gone) => {
                if let Some(v) = self.selected.as_mut() {
                    // The refresh after the command announces them.
                    v.mark_expunged(&gone);
                }
                Reply::ok("")
            }
            Err(e) => store_error(&e),
        }
    }

    /// CLOSE: expunge silently when read-write, then deselect (RFC 9051
    /// §6.4.1).
    pub(crate) async fn cmd_close(&mut self) -> Reply {
        let Some(view) = self.selected.take() else {
            return Reply::bad("No mailbox selected");
        };
        if !view.read_only {
            let store = self.store();
            let mailbox = view.mailbox.id;
            if let Err(e) = store.expunge_deleted_async(mailbox, None).await {
                return store_error(&e);
            }
        }
        Reply::ok("")
    }
}
