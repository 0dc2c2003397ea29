//! LIST (RFC 9051 §6.3.9 with LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819,
//! SPECIAL-USE RFC 6154) and LSUB (RFC 3501 §6.3.9).
use std::collections::{BTreeMap, BTreeSet};

use mailroom_store::{DELIMITER, Mailbox, MailboxStatus};

use super::reply::{Reply, store_error};
use super::{Session, blocking, out};
use crate::command::ListCommand;

/// Longest pattern matched; longer ones match nothing.
const MAX_PATTERN_CHARS: usize = 255;
/// Longest name compared (store names are at most 1024 bytes).
const MAX_NAME_CHARS: usize = 1024;

/// Whether `name` matches `pattern`: `*` matches anything, `%` anything
/// but the hierarchy delimiter (RFC 9051 §6.3.9).
///
/// One row of a table per pattern character, O(|pattern|·|name|) in all
/// whatever the wildcards, so a hostile pattern cannot make LIST slow.
pub fn matches(pattern: &str, name: &str) -> bool {
    let mut p: Vec<char> = Vec::with_capacity(pattern.len().min(MAX_PATTERN_CHARS + 1));
    for c in pattern.chars() {
        // `**`, `%*` and `*%` match what `*` does; `%%` what `%` does.
        match (p.last(), c) {
            (Some('*'), '*' | '%') => continue,
            (Some('%'), '%') => continue,
            (Some('%'), '*') => {
                p.pop();
            }
            _ => {}
        }
        p.push(c);
        if p.len() > MAX_PATTERN_CHARS {
            return false;
        }
    }
    let n: Vec<char> = name.chars().take(MAX_NAME_CHARS + 1).collect();
    if n.len() > MAX_NAME_CHARS {
        return false;
    }
    // row[j]: the pattern so far matches the first j characters of the name.
    let mut row = vec![false; n.len() + 1];
    row[0] = true;
    let mut next = vec![false; n.len() + 1];
    for &pc in &p {
        match pc {
            '*' => {
                let mut any = false;
                for j in 0..=n.len() {
                    any |= row[j];
                    next[j] = any;
                }
            }
            '%' => {
                let mut any = false;
                for j in 0..=n.len() {
                    if j > 0 && n[j - 1] == DELIMITER {
                        any = false;
                    }
                    any |= row[j];
                    next[j] = any;
                }
            }
            c => {
                next[0] = false;
                for j in 1..=n.len() {
                    next[j] = row[j - 1] && n[j - 1] == c;
                }
            }
        }
        std::mem::swap(&mut row, &mut next);
    }
    row[n.len()]
}

/// reference + pattern, with INBOX matched without case (RFC 9051 §5.1).
pub fn full_pattern(reference: &str, pattern: &str) -> String {
    let joined = if pattern.starts_with(DELIMITER) || reference.is_empty() {
        pattern.to_string()
    } else {
        format!("{reference}{pattern}")
    };
    // `get`, not indexing: byte 5 may fall inside a multi-byte character.
    if let (Some(head), Some(rest)) = (joined.get(..5), joined.get(5..))
        && head.eq_ignore_ascii_case("INBOX")
        && (rest.is_empty() || rest.starts_with(DELIMITER))
    {
        return format!("INBOX{rest}");
    }
    joined
}

fn parent_names(name: &str) -> impl Iterator<Item = &str> {
    name.match_indices(DELIMITER).map(move |(i, _)| &name[..i])
}

struct Entry {
    exists: bool,
    subscribed: bool,
    has_children: bool,
    special_use: Option<String>,
    /// RECURSIVEMATCH: a descendant is subscribed (RFC 5258 CHILDINFO).
    child_subscribed: bool,
    mailbox: Option<Mailbox>,
}

impl Session {
    pub(crate) async fn cmd_list(&mut self, cmd: ListCommand) -> Reply {
        let sel = &cmd.selection;
        if sel.recursive_match && !(sel.subscribed || sel.special_use) {
            // RFC 5258 §3.1: RECURSIVEMATCH needs another selection option.
            return Reply::bad("RECURSIVEMATCH requires another selection option");
        }
        // `LIST "" ""`: the delimiter and root (RFC 9051 §6.3.9).
        if cmd.patterns.iter().all(|p| p.is_empty()) {
            self.untagged("LIST (\\Noselect) \"/\" \"\"");
            return Reply::ok("");
        }
        let store = self.store();
        let account = self.account_id();
        let loaded = blocking(move || Ok((store.mailbox_list(account)?, store.subscriptions(account)?))).await;
        let (mailboxes, subs) = match loaded {
            Ok(x) => x,
            Err(e) => return store_error(&e),
        };
        let subs: BTreeSet<String> = subs.into_iter().collect();
        let mut all: BTreeMap<String, Entry> = BTreeMap::new();
        for mb in mailboxes {
            all.insert(
                mb.name.clone(),
                Entry {
                    exists: true,
                    subscribed: subs.contains(&mb.name),
                    has_children: false,
                    special_use: mb.special_use.clone(),
                    child_subscribed: false,
                    mailbox: Some(mb),
                },
            );
        }
        for s in &subs {
            all.entry(s.clone()).or_insert(Entry {
                exists: false,
                subscribed: true,
                has_children: false,
                special_use: None,
                child_subscribed: false,
                mailbox: None,
            });
        }
        let names: Vec<String> = all.keys().cloned().collect();
        for name in &names {
            let exists = all.get(name).is_some_and(|e| e.exists);
            let subscribed = all.get(name).is_some_and(|e| e.subscribed);
            for parent in parent_names(name) {
                if let Some(p) = all.get_mut(parent) {
                    if exists {
                        p.has_children = true;
                    }
                    if subscribed {
                        p.child_subscribed = true;
                    }
                }
            }
        }
        let patterns: Vec<String> = cmd.patterns.iter().map(|p| full_pattern(&cmd.reference, p)).collect();
        let want_subscribed = cmd.returns.subscribed || sel.subscribed;
        let status_items = cmd.returns.status.clone();
        let mut lines: Vec<(String, Vec<String>, Option<&'static str>)> = Vec::new();
        for (name, e) in &all {
            if !patterns.iter().any(|p| matches(p, name)) {
                continue;
            }
            let mut childinfo = None;
            if sel.subscribed {
                if !e.subscribed {
                    // RFC 5258 §3.5: CHILDINFO only for a subscribed
                    // descendant that is not itself being returned.
                    let prefix = format!("{name}{DELIMITER}");
                    let unreturned_child = e.child_subscribed
                        && all.iter().any(|(n, c)| {
                            c.subscribed && n.starts_with(&prefix) && !patterns.iter().any(|p| matches(p, n))
                        });
                    if sel.recursive_match && unreturned_child {
                        childinfo = Some("SUBSCRIBED");
                    } else {
                        continue;
                    }
                }
            } else if !e.exists {
                continue;
            }
            if sel.special_use && e.special_use.is_none() {
                continue;
            }
            let mut attrs: Vec<String> = Vec::new();
            if !e.exists {
                attrs.push("\\NonExistent".into());
            }
            // CHILDREN (RFC 3348) attributes are always given (RFC 9051
            // §7.3.1 requires them for rev2).
            if e.exists {
                attrs.push(
                    if e.has_children {
                        "\\HasChildren"
                    } else {
                        "\\HasNoChildren"
                    }
                    .into(),
                );
            }
            if want_subscribed && e.subscribed {
                attrs.push("\\Subscribed".into());
            }
            if let Some(u) = &e.special_use {
                attrs.push(u.clone());
            }
            lines.push((name.clone(), attrs, childinfo));
        }
        let utf8 = self.utf8();
        for (name, attrs, childinfo) in lines {
            let mut line = format!("* LIST ({}) \"/\" ", attrs.join(" ")).into_bytes();
            out::mailbox(&mut line, &name, utf8);
            if let Some(ci) = childinfo {
                line.extend_from_slice(format!(" (\"CHILDINFO\" (\"{ci}\"))").as_bytes());
            }
            line.extend_from_slice(b"\r\n");
            self.out.extend_from_slice(&line);
            if let Some(items) = &status_items
                && let Some(mb) = all.get(&name).and_then(|e| e.mailbox.as_ref())
            {
                let store = self.store();
                let id = mb.id;
                let status: Result<MailboxStatus, _> = blocking(move || store.mailbox_status(id)).await;
                match status {
                    Ok(s) => {
                        let l = self.status_line(&name, &s, items);
                        self.out.extend_from_slice(&l);
                    }
                    Err(e) => tracing::warn!(error = %e, "imap: LIST-STATUS failed"),
                }
            }
        }
        Reply::ok("")
    }

    /// LSUB (rev1): subscribed names; a `%` that stops at a level whose
    /// children are subscribed lists that level as \Noselect.
    pub(crate) async fn cmd_lsub(&mut self, reference: String, pattern: String) -> Reply {
        if pattern.is_empty() {
            self.untagged("LSUB (\\Noselect) \"/\" \"\"");
            return Reply::ok("");
        }
        let store = self.store();
        let account = self.account_id();
        let subs = match blocking(move || store.subscriptions(account)).await {
            Ok(x) => x,
            Err(e) => return store_error(&e),
        };
        let pattern = full_pattern(&reference, &pattern);
        let mut out_names: BTreeMap<String, bool> = BTreeMap::new();
        for s in &subs {
            if matches(&pattern, s) {
                // A subscribed name is listed plainly even if it does not exist;
                // \Noselect marks only unsubscribed levels (RFC 3501 §6.3.9).
                out_names.insert(s.clone(), true);
            } else {
                for p in parent_names(s) {
                    if matches(&pattern, p) && !subs.contains(&p.to_string()) {
                        out_names.entry(p.to_string()).or_insert(false);
                    }
                }
            }
        }
        let utf8 = self.utf8();
        for (name, selectable) in out_names {
            let attrs = if selectable { "" } else { "\\Noselect" };
            let mut line = format!("* LSUB ({attrs}) \"/\" ").into_bytes();
            out::mailbox(&mut line, &name, utf8);
            line.extend_from_slice(b"\r\n");
            self.out.extend_from_slice(&line);
        }
        Reply::ok("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(matches("*", "a/b/c"));
        assert!(matches("%", "INBOX"));
        assert!(!matches("%", "a/b"));
        assert!(matches("a/%", "a/b"));
        assert!(!matches("a/%", "a/b/c"));
        assert!(matches("a/*", "a/b/c"));
        assert!(matches("*b*", "xxbyy"));
        assert!(matches("%/%", "a/b"));
        assert!(!matches("a", "ab"));
        assert!(matches("", ""));
        assert!(matches("%*", "a/b"));
        assert!(matches("a%%/%", "ab/c"));
        assert!(!matches("%%", "a/b"));
    }

    /// The textbook recursive definition, to check the table against.
    fn reference(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|k| reference(&p[1..], &n[k..])),
            Some('%') => (0..=n.len())
                .take_while(|&k| k == 0 || n[k - 1] != DELIMITER)
                .any(|k| reference(&p[1..], &n[k..])),
            Some(c) => n.first() == Some(c) && reference(&p[1..], &n[1..]),
        }
    }

    #[test]
    fn agrees_with_the_definition() {
        let alphabet = ['a', 'b', '/', '*', '%'];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let plen = (next() % 7) as usize;
            let nlen = (next() % 7) as usize;
            let p: String = (0..plen).map(|_| alphabet[(next() % 5) as usize]).collect();
            let n: String = (0..nlen).map(|_| alphabet[(next() % 3) as usize]).collect();
            let pc: Vec<char> = p.chars().collect();
            let nc: Vec<char> = n.chars().collect();
            assert_eq!(matches(&p, &n), reference(&pc, &nc), "pattern {p:?} name {n:?}");
        }
    }

    #[test]
    fn hostile_patterns_stay_cheap() {
        let name = "a/".repeat(500) + "b";
        let pattern = "*%".repeat(120) + "x";
        assert!(!matches(&pattern, &name));
        assert!(matches(&("*%".repeat(120) + "b"), &name));
        assert!(
            !matches(&"a".repeat(10_000), &"a".repeat(10_000)),
            "over-long patterns match nothing"
        );
    }

    #[test]
    fn inbox_case() {
        assert_eq!(full_pattern("", "inbox"), "INBOX");
        assert_eq!(full_pattern("", "Inbox/%"), "INBOX/%");
        assert_eq!(full_pattern("", "inboxes"), "inboxes");
        assert_eq!(full_pattern("Work/", "%"), "Work/%");
        assert_eq!(full_pattern("", "abcd\u{e9}x"), "abcd\u{e9}x");
    }
}
