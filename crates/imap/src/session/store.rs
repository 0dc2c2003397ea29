//! STORE / UID STORE (RFC 9051 §6.4.6).
use mailroom_store::{FlagOp, Flags};

use super::reply::{Reply, store_error};
use super::{Session, out};
use crate::command::{StoreCommand, StoreOp};

impl Session {
    pub(crate) async fn cmd_store(&mut self, cmd: StoreCommand) -> Reply {
        if cmd.unchanged_since.is_some() {
            return Reply::bad("UNCHANGEDSINCE requires CONDSTORE, which is not supported");
        }
        let Some(view) = self.selected.as_ref() else {
            return Reply::bad("No mailbox selected");
        };
        if view.read_only {
            return Reply::no("Mailbox is read-only").code("READ-ONLY");
        }
        let Ok(indices) = view.select(&cmd.set, cmd.uid) else {
            return Reply::bad("Invalid message sequence number");
        };
        let uids: Vec<u32> = indices
            .iter()
            .filter(|&&i| !view.entries[i].expunged)
            .map(|&i| view.entries[i].meta.uid)
            .collect();
        let some_expunged = indices.iter().any(|&i| view.entries[i].expunged);
        let op = match cmd.op {
            StoreOp::Replace => FlagOp::Replace,
            StoreOp::Add => FlagOp::Add,
            StoreOp::Remove => FlagOp::Remove,
        };
        let flags = Flags::from_names(&cmd.flags);
        let store = self.store();
        let mailbox = view.mailbox.id;
        // Straight to the writer thread: no blocking thread waits on it.
        let updated = match store.store_flags_async(mailbox, uids.clone(), op, flags, None).await {
            Ok(u) => u,
            Err(e) => return store_error(&e),
        };
        let rev2 = self.rev2;
        let Some(view) = self.selected.as_mut() else {
            return Reply::ok("");
        };
        view.apply_own_flags(&updated.updated);
        if let Some(m) = updated.updated.first() {
            self.own_change(m.modseq);
        }
        let Some(view) = self.selected.as_mut() else {
            return Reply::ok("");
        };
        let mut new_keywords = false;
        for m in &updated.updated {
            new_keywords |= view.learn_keywords(&m.flags);
        }
        if new_keywords {
            let k = view.keywords.clone();
            self.write_flags_announcement(&k, false);
        }
        let Some(view) = self.selected.as_ref() else {
            return Reply::ok("");
        };
        if !cmd.silent {
            let mut lines = Vec::new();
            for uid in &uids {
                if let Some(i) = view.index_of_uid(*uid) {
                    let e = &view.entries[i];
                    let mut line = format!("* {} FETCH (", i + 1).into_bytes();
                    if cmd.uid {
                        line.extend_from_slice(format!("UID {uid} ").as_bytes());
                    }
                    line.extend_from_slice(b"FLAGS ");
                    out::flag_list(&mut line, &e.meta.flags, e.recent && !rev2);
                    line.extend_from_slice(b")\r\n");
                    lines.extend_from_slice(&line);
                }
            }
            self.out.extend_from_slice(&lines);
        }
        if some_expunged {
            // RFC 9051 §7.5.1 / RFC 2180 §4.2.1: the rest was done.
            return Reply::no("Some of the messages were expunged").code("EXPUNGEISSUED");
        }
        Reply::ok("")
    }
}
