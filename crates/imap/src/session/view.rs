//! The selected mailbox as this session knows it: messages in sequence
//! order, what it has told the client, and the store changes it has not
//! announced yet. Pure bookkeeping: the session fetches [`Changes`] from the
//! store and feeds them here.
use mailroom_store::{Changes, Flags, Mailbox, MessageMeta};

use crate::sequence::SequenceSet;

/// A sequence set names a message number the mailbox does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadSequence;

/// One message of the view. An `expunged` entry has been removed from the
/// store but not announced yet, so it keeps its sequence number.
#[derive(Debug, Clone)]
pub struct Entry {
    pub meta: MessageMeta,
    pub recent: bool,
    pub expunged: bool,
}

/// An untagged response the view wants sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    Expunge(u32),
    Exists(u32),
    /// New keywords came into use: `* FLAGS` and `* OK [PERMANENTFLAGS]`
    /// are sent again with these keywords (RFC 9051 §7.3.5).
    Keywords(Vec<String>),
    Recent(u32),
    /// `* seq FETCH (UID uid FLAGS (...))`.
    Flags {
        seq: u32,
        uid: u32,
        flags: Flags,
        recent: bool,
    },
}

#[derive(Debug)]
pub struct View {
    pub mailbox: Mailbox,
    pub read_only: bool,
    pub entries: Vec<Entry>,
    /// Mailbox MODSEQ up to which changes have been applied.
    pub known_modseq: u64,
    pub uidnext: u32,
    /// SEARCHRES: the UIDs saved by `SEARCH RETURN (SAVE)` (RFC 5182).
    pub saved: Vec<u32>,
    /// Keywords announced in FLAGS.
    pub keywords: Vec<String>,
}

/// A \Recent claim: UIDs in `from..to` are recent for this session.
pub type RecentRange = (u32, u32);

impl View {
    /// A view of `messages` (in UID order) as of `mailbox.highest_modseq`.
    /// `recent` says which UIDs this session sees as \Recent.
    pub fn new(mailbox: Mailbox, read_only: bool, messages: Vec<MessageMeta>, recent: RecentRange) -> View {
        let entries = messages
            .into_iter()
            .map(|meta| Entry {
                recent: meta.uid >= recent.0 && meta.uid < recent.1,
                meta,
                expunged: false,
            })
            .collect();
        let mut view = View {
            known_modseq: mailbox.highest_modseq,
            uidnext: mailbox.uidnext,
            mailbox,
            read_only,
            entries,
            saved: Vec::new(),
            keywords: Vec::new(),
        };
        for i in 0..view.entries.len() {
            let flags = view.entries[i].meta.flags.clone();
            view.learn_keywords(&flags);
        }
        view
    }

    /// Adds the keywords of `flags` not seen yet; true if there were any.
    pub fn learn_keywords(&mut self, flags: &Flags) -> bool {
        let mut new = false;
        for k in &flags.keywords {
            if !self.keywords.iter().any(|x| x.eq_ignore_ascii_case(k)) {
                self.keywords.push(k.clone());
                new = true;
            }
        }
        new
    }

    pub fn exists(&self) -> u32 {
        self.entries.len() as u32
    }

    pub fn recent_count(&self) -> u32 {
        self.entries.iter().filter(|e| e.recent).count() as u32
    }

    /// Sequence number of the first message without \Seen (rev1 UNSEEN).
    pub fn first_unseen(&self) -> Option<u32> {
        self.entries
            .iter()
            .position(|e| !e.meta.flags.contains(mailroom_store::SEEN))
            .map(|i| i as u32 + 1)
    }

    pub fn max_uid(&self) -> u32 {
        self.entries.last().map(|e| e.meta.uid).unwrap_or(0)
    }

    /// Index of the entry with this UID.
    pub fn index_of_uid(&self, uid: u32) -> Option<usize> {
        self.entries.binary_search_by_key(&uid, |e| e.meta.uid).ok()
    }

    pub fn seq_of_uid(&self, uid: u32) -> Option<u32> {
        self.index_of_uid(uid).map(|i| i as u32 + 1)
    }

    /// Whether more changes may be waiting in the store.
    pub fn behind(&self, account_modseq: u64) -> bool {
        account_modseq > self.known_modseq
    }

    /// Whether [`View::apply`] would claim \Recent for new messages: only
    /// a read-write session takes them (RFC 3501 §6.3.2).
    pub fn wants_recent_claim(&self, changes: &Changes) -> bool {
        !self.read_only && changes.uidnext > self.uidnext
    }

    /// Applies store changes. Expunges are only announced when
    /// `allow_expunge` (RFC 9051 §7.5.1: not during FETCH, STORE or SEARCH);
    /// until then the expunged messages keep their sequence numbers.
    pub fn apply(&mut self, changes: Changes, claimed: Option<RecentRange>, allow_expunge: bool) -> Vec<Update> {
        let mut out = Vec::new();
        for uid in &changes.expunged {
            if let Some(i) = self.index_of_uid(*uid) {
                self.entries[i].expunged = true;
            }
        }
        let mut added = false;
        let mut changed: Vec<u32> = Vec::new();
        for meta in changes.messages {
            match self.index_of_uid(meta.uid) {
                Some(i) => {
                    let e = &mut self.entries[i];
                    if e.expunged || meta.modseq <= e.meta.modseq {
                        continue;
                    }
                    if e.meta.flags != meta.flags {
                        changed.push(meta.uid);
                    }
                    e.meta = meta;
                }
                None if meta.uid > self.max_uid() => {
                    let recent = claimed.is_some_and(|(from, to)| meta.uid >= from && meta.uid < to);
                    self.entries.push(Entry {
                        meta,
                        recent,
                        expunged: false,
                    });
                    added = true;
                }
                // A UID below our highest that we never saw cannot happen
                // (UIDs only grow); ignore rather than corrupt the order.
                None => {}
            }
        }
        let mut new_keywords = false;
        for i in 0..self.entries.len() {
            if self.entries[i].meta.modseq > self.known_modseq {
                let flags = self.entries[i].meta.flags.clone();
                new_keywords |= self.learn_keywords(&flags);
            }
        }
        if allow_expunge {
            out.extend(self.flush_expunges());
        }
        if new_keywords {
            out.push(Update::Keywords(self.keywords.clone()));
        }
        if added {
            out.push(Update::Exists(self.exists()));
            out.push(Update::Recent(self.recent_count()));
        }
        for uid in changed {
            if let Some(i) = self.index_of_uid(uid) {
                let e = &self.entries[i];
                out.push(Update::Flags {
                    seq: i as u32 + 1,
                    uid,
                    flags: e.meta.flags.clone(),
                    recent: e.recent,
                });
            }
        }
        self.known_modseq = self.known_modseq.max(changes.highest_modseq);
        self.uidnext = self.uidnext.max(changes.uidnext);
        out
    }

    /// Announces and drops every expunged entry, highest sequence number
    /// first so each number is still valid when the client reads it.
    pub fn flush_expunges(&mut self) -> Vec<Update> {
        let mut out = Vec::new();
        for i in (0..self.entries.len()).rev() {
            if self.entries[i].expunged {
                out.push(Update::Expunge(i as u32 + 1));
            }
        }
        if !out.is_empty() {
            self.entries.retain(|e| !e.expunged);
        }
        out
    }

    /// Indices of the entries a sequence set names. UID sets ignore UIDs
    /// that do not exist (RFC 9051 §6.4.8); message sequence numbers
    /// beyond the mailbox are an error. `$` is the saved search result.
    pub fn select(&self, set: &SequenceSet, uid: bool) -> Result<Vec<usize>, BadSequence> {
        if set.is_saved() {
            let mut out: Vec<usize> = self.saved.iter().filter_map(|u| self.index_of_uid(*u)).collect();
            out.sort_unstable();
            out.dedup();
            return Ok(out);
        }
        if uid {
            let ranges = set.resolve(self.max_uid()).unwrap_or_default();
            let mut out = Vec::new();
            for r in ranges {
                let start = self.entries.partition_point(|e| e.meta.uid < *r.start());
                for (i, e) in self.entries.iter().enumerate().skip(start) {
                    if e.meta.uid > *r.end() {
                        break;
                    }
                    out.push(i);
                }
            }
            return Ok(out);
        }
        let max = self.exists();
        let ranges = set.resolve(max).unwrap_or_default();
        let mut out = Vec::new();
        for r in ranges {
            if *r.start() == 0 || *r.end() > max {
                return Err(BadSequence);
            }
            out.extend((*r.start() as usize - 1)..(*r.end() as usize));
        }
        Ok(out)
    }

    /// Marks messages this session itself expunged (EXPUNGE, MOVE).
    pub fn mark_expunged(&mut self, uids: &[u32]) {
        for uid in uids {
            if let Some(i) = self.index_of_uid(*uid) {
                self.entries[i].expunged = true;
            }
        }
    }

    /// Records flags this session changed itself; returns the sequence
    /// numbers touched so the caller can report them.
    pub fn apply_own_flags(&mut self, updated: &[MessageMeta]) -> Vec<u32> {
        let mut seqs = Vec::new();
        for m in updated {
            if let Some(i) = self.index_of_uid(m.uid) {
                let e = &mut self.entries[i];
                if m.modseq >= e.meta.modseq {
                    e.meta.flags = m.flags.clone();
                    e.meta.modseq = m.modseq;
                }
                seqs.push(i as u32 + 1);
            }
        }
        seqs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(uid: u32, flags: u8, modseq: u64) -> MessageMeta {
        MessageMeta {
            uid,
            flags: Flags::new(flags),
            internal_date: 0,
            tz_offset: 0,
            size: 10,
            modseq,
            blob_id: 1,
            blob_hash: "x".into(),
        }
    }

    fn mailbox() -> Mailbox {
        Mailbox {
            id: 1,
            account_id: 1,
            name: "INBOX".into(),
            special_use: None,
            uidvalidity: 7,
            uidnext: 4,
            highest_modseq: 5,
        }
    }

    fn view() -> View {
        View::new(
            mailbox(),
            false,
            vec![meta(1, 0, 2), meta(2, 0, 3), meta(3, 0, 5)],
            (3, 4),
        )
    }

    fn changes(messages: Vec<MessageMeta>, expunged: Vec<u32>, modseq: u64, uidnext: u32) -> Changes {
        Changes {
            messages,
            expunged,
            highest_modseq: modseq,
            uidnext,
        }
    }

    #[test]
    fn new_messages_exists_and_recent() {
        let mut v = view();
        assert_eq!(v.recent_count(), 1);
        let up = v.apply(
            changes(vec![meta(4, 0, 6), meta(5, 0, 6)], vec![], 6, 6),
            Some((4, 5)),
            true,
        );
        assert_eq!(up, vec![Update::Exists(5), Update::Recent(2)]);
        assert_eq!(v.known_modseq, 6);
    }

    #[test]
    fn flag_change_reported_once() {
        let mut v = view();
        let up = v.apply(changes(vec![meta(2, 1, 6)], vec![], 6, 4), None, true);
        assert_eq!(
            up,
            vec![Update::Flags {
                seq: 2,
                uid: 2,
                flags: Flags::new(1),
                recent: false
            }]
        );
        // The same change seen again (e.g. our own STORE) is not repeated.
        assert!(
            v.apply(changes(vec![meta(2, 1, 6)], vec![], 6, 4), None, true)
                .is_empty()
        );
    }

    #[test]
    fn expunge_deferred_keeps_sequence_numbers() {
        let mut v = view();
        let up = v.apply(changes(vec![meta(3, 1, 7)], vec![1], 7, 4), None, false);
        // No EXPUNGE yet; message 3 still has sequence number 3.
        assert_eq!(
            up,
            vec![Update::Flags {
                seq: 3,
                uid: 3,
                flags: Flags::new(1),
                recent: true
            }]
        );
        assert_eq!(v.exists(), 3);
        let up = v.apply(changes(vec![], vec![], 7, 4), None, true);
        assert_eq!(up, vec![Update::Expunge(1)]);
        assert_eq!(v.seq_of_uid(3), Some(2));
    }

    #[test]
    fn expunges_highest_first() {
        let mut v = view();
        let up = v.apply(changes(vec![], vec![1, 3], 7, 4), None, true);
        assert_eq!(up, vec![Update::Expunge(3), Update::Expunge(1)]);
        assert_eq!(v.exists(), 1);
    }

    #[test]
    fn expunge_and_append_together() {
        let mut v = view();
        let up = v.apply(changes(vec![meta(4, 0, 7)], vec![2], 7, 5), None, true);
        assert_eq!(up, vec![Update::Expunge(2), Update::Exists(3), Update::Recent(1)]);
    }
}
