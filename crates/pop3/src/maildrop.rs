//! The maildrop as one POP3 session sees it (sans-I/O): the INBOX as it
//! was at login, numbered 1..n for the whole session (RFC 1939 §5: message
//! numbers never change within a session), with the deletion marks that
//! only QUIT turns into expunges.
use std::fmt::Write as _;

/// One message of the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub uid: u32,
    /// Size as sent to the client (see `wire`).
    pub octets: u64,
    pub blob_hash: String,
    pub deleted: bool,
    /// Retrieved with RETR in this session (marked \Seen at QUIT).
    pub retrieved: bool,
}

/// Why a message number cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MsgError {
    #[error("no such message")]
    NoSuchMessage,
    #[error("message already deleted")]
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maildrop {
    /// None when the account has no INBOX (nothing to list or delete).
    pub mailbox_id: Option<i64>,
    pub uidvalidity: u32,
    entries: Vec<Entry>,
}

impl Maildrop {
    pub fn new(mailbox_id: Option<i64>, uidvalidity: u32, entries: Vec<Entry>) -> Self {
        Self {
            mailbox_id,
            uidvalidity,
            entries,
        }
    }

    /// The unique-id of a message: UIDVALIDITY and UID together never
    /// name another message of this INBOX, across sessions and restarts
    /// (RFC 1939 §7 UIDL: 1 to 70 characters in 0x21..0x7E).
    pub fn unique_id(&self, entry: &Entry) -> String {
        format!("{:08x}{:08x}", self.uidvalidity, entry.uid)
    }

    /// A message that exists and is not marked deleted.
    pub fn get(&self, msg: u32) -> Result<&Entry, MsgError> {
        let entry = msg
            .checked_sub(1)
            .and_then(|i| self.entries.get(i as usize))
            .ok_or(MsgError::NoSuchMessage)?;
        if entry.deleted {
            return Err(MsgError::Deleted);
        }
        Ok(entry)
    }

    fn get_mut(&mut self, msg: u32) -> Result<&mut Entry, MsgError> {
        let entry = msg
            .checked_sub(1)
            .and_then(|i| self.entries.get_mut(i as usize))
            .ok_or(MsgError::NoSuchMessage)?;
        if entry.deleted {
            return Err(MsgError::Deleted);
        }
        Ok(entry)
    }

    /// Count and total size of the messages not marked deleted (STAT).
    pub fn stat(&self) -> (usize, u64) {
        self.live().fold((0, 0), |(n, s), (_, e)| (n + 1, s + e.octets))
    }

    fn live(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.deleted)
            .map(|(i, e)| (i + 1, e))
    }

    pub fn dele(&mut self, msg: u32) -> Result<(), MsgError> {
        self.get_mut(msg)?.deleted = true;
        Ok(())
    }

    pub fn mark_retrieved(&mut self, msg: u32) {
        if let Ok(e) = self.get_mut(msg) {
            e.retrieved = true;
        }
    }

    /// Unmarks every deleted message (RSET).
    pub fn rset(&mut self) {
        for e in &mut self.entries {
            e.deleted = false;
        }
    }

    /// UIDs to expunge at QUIT.
    pub fn deleted_uids(&self) -> Vec<u32> {
        self.entries.iter().filter(|e| e.deleted).map(|e| e.uid).collect()
    }

    /// UIDs retrieved and kept, to be marked \Seen at QUIT.
    pub fn retrieved_uids(&self) -> Vec<u32> {
        self.entries
            .iter()
            .filter(|e| e.retrieved && !e.deleted)
            .map(|e| e.uid)
            .collect()
    }

    /// Body of the LIST scan listing: "n octets" lines, then ".".
    pub fn list_all(&self) -> String {
        let mut s = String::new();
        for (n, e) in self.live() {
            let _ = write!(s, "{n} {}\r\n", e.octets);
        }
        s.push_str(".\r\n");
        s
    }

    /// Body of the UIDL listing: "n unique-id" lines, then ".".
    pub fn uidl_all(&self) -> String {
        let mut s = String::new();
        for (n, e) in self.live() {
            let _ = write!(s, "{n} {}\r\n", self.unique_id(e));
        }
        s.push_str(".\r\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drop3() -> Maildrop {
        let e = |uid, octets| Entry {
            uid,
            octets,
            blob_hash: format!("h{uid}"),
            deleted: false,
            retrieved: false,
        };
        Maildrop::new(Some(1), 0x6543_21ab, vec![e(3, 100), e(7, 20), e(9, 5)])
    }

    #[test]
    fn listing_and_deletion_marks() {
        let mut m = drop3();
        assert_eq!(m.stat(), (3, 125));
        assert_eq!(m.list_all(), "1 100\r\n2 20\r\n3 5\r\n.\r\n");
        assert_eq!(
            m.uidl_all(),
            "1 654321ab00000003\r\n2 654321ab00000007\r\n3 654321ab00000009\r\n.\r\n"
        );
        assert_eq!(m.dele(2), Ok(()));
        assert_eq!(m.dele(2), Err(MsgError::Deleted));
        assert_eq!(m.get(2), Err(MsgError::Deleted));
        assert_eq!(m.get(0), Err(MsgError::NoSuchMessage));
        assert_eq!(m.get(4), Err(MsgError::NoSuchMessage));
        assert_eq!(m.dele(4), Err(MsgError::NoSuchMessage));
        // Numbers stay put: message 3 is still 3.
        assert_eq!(m.list_all(), "1 100\r\n3 5\r\n.\r\n");
        assert_eq!(m.stat(), (2, 105));
        assert_eq!(m.deleted_uids(), vec![7]);
        m.rset();
        assert_eq!(m.deleted_uids(), Vec::<u32>::new());
        assert_eq!(m.stat(), (3, 125));
    }

    #[test]
    fn retrieved_but_deleted_is_not_marked_seen() {
        let mut m = drop3();
        m.mark_retrieved(1);
        m.mark_retrieved(3);
        m.dele(3).unwrap();
        assert_eq!(m.retrieved_uids(), vec![3]);
    }
}
