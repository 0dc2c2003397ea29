//! SELECT, EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, STATUS.
use mailroom_store::{DELIMITER, MailboxStatus, StoreError};

use super::reply::{Reply, store_error};
use super::view::View;
use super::{Session, blocking, out};
use crate::command::{SelectParams, StatusItem};

impl Session {
    pub(crate) async fn cmd_select(&mut self, name: String, params: SelectParams, read_only: bool) -> Reply {
        if params.condstore || params.qresync.is_some() || !params.unknown.is_empty() {
            return Reply::bad("SELECT parameters are not supported");
        }
        // RFC 9051 §6.3.2: a SELECT first deselects, even if it fails.
        if self.selected.take().is_some() {
            self.untagged("OK [CLOSED] Previous mailbox closed");
        }
        let store = self.store();
        let account = self.account_id();
        let rev2 = self.rev2;
        // Subscribed and marked seen before the mailbox is read, so that
        // every later commit flags it (see `refresh`).
        let mut changes = store.watch_changes(account);
        let seen_modseq = *changes.borrow_and_update();
        let started = std::time::Instant::now();
        let loaded = blocking(move || {
            let Some(mb) = store.mailbox_get(account, &name)? else {
                return Ok(None);
            };
            // \Recent exists only in IMAP4rev1; a rev2 session leaves it
            // to rev1 sessions (RFC 9051 Appendix E).
            let recent = if rev2 {
                (0, 0)
            } else if read_only {
                (store.recent_uid(mb.id)?, u32::MAX)
            } else {
                store.claim_recent_range(mb.id)?
            };
            // The mailbox row is read before the messages: a change in
            // between shows up twice, which the view ignores, never lost.
            let mb = store.mailbox_by_id(mb.id)?;
            let messages = store.messages(mb.id)?;
            Ok(Some((mb, messages, recent)))
        })
        .await;
        let (mb, messages, recent) = match loaded {
            Ok(Some(x)) => x,
            Ok(None) => return Reply::no("Mailbox does not exist").code("NONEXISTENT"),
            Err(e) => return store_error(&e),
        };
        let view = View::new(mb, read_only, messages, recent);
        self.untagged(&format!("{} EXISTS", view.exists()));
        if !self.rev2 {
            self.untagged(&format!("{} RECENT", view.recent_count()));
            if let Some(n) = view.first_unseen() {
                self.untagged(&format!("OK [UNSEEN {n}] First unseen"));
            }
        }
        self.untagged(&format!("OK [UIDVALIDITY {}] UIDs valid", view.mailbox.uidvalidity));
        self.untagged(&format!("OK [UIDNEXT {}] Predicted next UID", view.uidnext));
        self.write_flags_announcement(&view.keywords, read_only);
        if self.rev2 {
            // RFC 9051 §6.3.2: the mailbox's LIST data.
            let mut line = b"* LIST (".to_vec();
            if let Some(u) = &view.mailbox.special_use {
                line.extend_from_slice(u.as_bytes());
            }
            line.extend_from_slice(b") \"/\" ");
            out::mailbox(&mut line, &view.mailbox.name, true);
            line.extend_from_slice(b"\r\n");
            self.out.extend_from_slice(&line);
        }
        self.selected = Some(view);
        self.changes = Some(changes);
        self.seen_modseq = seen_modseq;
        self.synced_at = Some(started);
        let name = if read_only { "EXAMINE" } else { "SELECT" };
        if read_only {
            Reply::ok(format!("{name} completed")).code("READ-ONLY")
        } else {
            Reply::ok(format!("{name} completed")).code("READ-WRITE")
        }
    }

    pub(crate) async fn cmd_create(&mut self, name: String, special_use: Vec<String>) -> Reply {
        // RFC 9051 §6.3.4: a trailing delimiter says the client means to
        // create children; the name is created without it.
        let name = name.strip_suffix(DELIMITER).unwrap_or(&name).to_string();
        if name.eq_ignore_ascii_case("INBOX") {
            return Reply::no("INBOX always exists").code("ALREADYEXISTS");
        }
        if special_use.len() > 1 {
            return Reply::no("Only one special use per mailbox").code("USEATTR");
        }
        let special = special_use.into_iter().next();
        if let Some(s) = &special
            && !mailroom_store::SPECIAL_USES.iter().any(|u| u.eq_ignore_ascii_case(s))
        {
            return Reply::no("Unsupported special-use attribute").code("USEATTR");
        }
        let store = self.store();
        let account = self.account_id();
        match blocking(move || store.mailbox_create(account, &name, special.as_deref())).await {
            Ok(_) => Reply::ok(""),
            Err(StoreError::Invalid(why)) => Reply::no(why).code("CANNOT"),
            Err(e) => store_error(&e),
        }
    }

    pub(crate) async fn cmd_delete(&mut self, name: String) -> Reply {
        if name.eq_ignore_ascii_case("INBOX") {
            return Reply::no("INBOX cannot be deleted").code("CANNOT");
        }
        let store = self.store();
        let account = self.account_id();
        let target = name.clone();
        let result = blocking(move || {
            let Some(mb) = store.mailbox_get(account, &target)? else {
                return Ok(None);
            };
            store.mailbox_delete(account, &target)?;
            Ok(Some(mb.id))
        })
        .await;
        match result {
            Ok(Some(id)) => {
                if self.selected.as_ref().is_some_and(|v| v.mailbox.id == id) {
                    self.selected = None;
                    self.untagged("OK [CLOSED] Mailbox deleted");
                }
                Reply::ok("")
            }
            Ok(None) => Reply::no("Mailbox does not exist").code("NONEXISTENT"),
            Err(e) => store_error(&e),
        }
    }

    pub(crate) async fn cmd_rename(&mut self, from: String, to: String) -> Reply {
        let to = to.strip_suffix(DELIMITER).unwrap_or(&to).to_string();
        let store = self.store();
        let account = self.account_id();
        let result = blocking(move || {
            if store.mailbox_get(account, &from)?.is_none() {
                return Ok(false);
            }
            store.mailbox_rename(account, &from, &to)?;
            Ok(true)
        })
        .await;
        match result {
            Ok(true) => {
                if let Some(v) = self.selected.as_mut() {
                    // Keep the view's name current (INBOX keeps its id).
                    let id = v.mailbox.id;
                    let store = self.ctx.store.clone();
                    if let Ok(mb) = blocking(move || store.mailbox_by_id(id)).await
                        && let Some(v) = self.selected.as_mut()
                    {
                        v.mailbox.name = mb.name;
                    }
                }
                Reply::ok("")
            }
            Ok(false) => Reply::no("Mailbox does not exist").code("NONEXISTENT"),
            Err(e) => store_error(&e),
        }
    }

    pub(crate) async fn cmd_subscribe(&mut self, name: String, subscribe: bool) -> Reply {
        let store = self.store();
        let account = self.account_id();
        match blocking(move || store.subscribe(account, &name, subscribe)).await {
            Ok(()) => Reply::ok(""),
            Err(e) => store_error(&e),
        }
    }

    pub(crate) async fn cmd_status(&mut self, name: String, items: Vec<StatusItem>) -> Reply {
        let store = self.store();
        let account = self.account_id();
        let result = blocking(move || match store.mailbox_get(account, &name)? {
            Some(mb) => Ok(Some((mb.name.clone(), store.mailbox_status(mb.id)?))),
            None => Ok(None),
        })
        .await;
        match result {
            Ok(Some((name, status))) => {
                let line = self.status_line(&name, &status, &items);
                self.out.extend_from_slice(&line);
                Reply::ok("")
            }
            Ok(None) => Reply::no("Mailbox does not exist").code("NONEXISTENT"),
            Err(e) => store_error(&e),
        }
    }

    /// `* STATUS name (ITEM n ...)\r\n`.
    pub(crate) fn status_line(&self, name: &str, s: &MailboxStatus, items: &[StatusItem]) -> Vec<u8> {
        let mut line = b"* STATUS ".to_vec();
        out::mailbox(&mut line, name, self.utf8());
        line.extend_from_slice(b" (");
        let mut first = true;
        // The store counts \Recent not yet claimed by any session; the
        // selected mailbox's own claims are recent too, to this session.
        let own_recent = match &self.selected {
            Some(v) if v.mailbox.name == name => v.recent_count(),
            _ => 0,
        };
        let mut answered: Vec<&StatusItem> = Vec::new();
        for item in items.iter() {
            // A repeated attribute is answered once (`answered` holds at
            // most one of each kind, so this stays linear).
            if answered.contains(&item) {
                continue;
            }
            answered.push(item);
            let value: u64 = match item {
                StatusItem::Messages => s.messages.into(),
                StatusItem::Recent => u64::from(s.recent) + u64::from(own_recent),
                StatusItem::UidNext => s.uidnext.into(),
                StatusItem::UidValidity => s.uidvalidity.into(),
                StatusItem::Unseen => s.unseen.into(),
                StatusItem::Deleted => s.deleted.into(),
                StatusItem::Size => s.size,
                StatusItem::HighestModSeq => s.highest_modseq,
                StatusItem::AppendLimit => self.cfg.max_append_size,
            };
            if !first {
                line.push(b' ');
            }
            first = false;
            line.extend_from_slice(format!("{} {value}", item.name()).as_bytes());
        }
        line.extend_from_slice(b")\r\n");
        line
    }
}
