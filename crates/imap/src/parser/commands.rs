//! Command dispatch and the commands with simple arguments.

use std::borrow::Cow;

use super::lexer::{Cursor, PResult};
use super::{append, fetch, list, search};
use crate::command::{CommandBody, QresyncParams, SelectParams, StatusItem, StoreCommand, StoreOp};

pub(super) fn dispatch(c: &mut Cursor<'_>, name: &str) -> PResult<CommandBody> {
    Ok(match name {
        "CAPABILITY" => CommandBody::Capability,
        "NOOP" => CommandBody::Noop,
        "LOGOUT" => CommandBody::Logout,
        "STARTTLS" => CommandBody::StartTls,
        "NAMESPACE" => CommandBody::Namespace,
        "IDLE" => CommandBody::Idle,
        "CHECK" => CommandBody::Check,
        "CLOSE" => CommandBody::Close,
        "UNSELECT" => CommandBody::Unselect,
        "EXPUNGE" => CommandBody::Expunge,
        "ID" => id(c)?,
        "AUTHENTICATE" => authenticate(c)?,
        "LOGIN" => {
            c.sp("Expected SP after LOGIN")?;
            let username = c.astring()?.into_owned();
            c.sp("Expected SP after user name")?;
            let password = c.astring()?.into_owned();
            CommandBody::Login { username, password }
        }
        "ENABLE" => {
            let mut caps = Vec::new();
            while c.eat(b' ') {
                caps.push(c.atom_str("Expected capability name")?.to_ascii_uppercase());
            }
            if caps.is_empty() {
                return Err("ENABLE needs at least one capability".into());
            }
            CommandBody::Enable(caps)
        }
        "SELECT" | "EXAMINE" => {
            c.sp("Expected SP and mailbox name")?;
            let mailbox = c.mailbox()?;
            let params = if c.eat(b' ') {
                select_params(c)?
            } else {
                SelectParams::default()
            };
            if name == "SELECT" {
                CommandBody::Select { mailbox, params }
            } else {
                CommandBody::Examine { mailbox, params }
            }
        }
        "CREATE" => {
            c.sp("Expected SP and mailbox name")?;
            let mailbox = c.mailbox()?;
            let special_use = if c.eat(b' ') { create_params(c)? } else { Vec::new() };
            CommandBody::Create { mailbox, special_use }
        }
        "DELETE" => CommandBody::Delete {
            mailbox: one_mailbox(c)?,
        },
        "SUBSCRIBE" => CommandBody::Subscribe {
            mailbox: one_mailbox(c)?,
        },
        "UNSUBSCRIBE" => CommandBody::Unsubscribe {
            mailbox: one_mailbox(c)?,
        },
        "RENAME" => {
            c.sp("Expected SP and mailbox name")?;
            let from = c.mailbox()?;
            c.sp("Expected SP and new mailbox name")?;
            let to = c.mailbox()?;
            CommandBody::Rename { from, to }
        }
        "LIST" => list::list(c)?,
        "LSUB" => {
            c.sp("Expected SP and reference name")?;
            let reference = c.list_reference()?;
            c.sp("Expected SP and mailbox pattern")?;
            let pattern = c.list_mailbox()?;
            CommandBody::Lsub { reference, pattern }
        }
        "STATUS" => {
            c.sp("Expected SP and mailbox name")?;
            let mailbox = c.mailbox()?;
            c.sp("Expected SP and status items")?;
            let items = status_items(c)?;
            CommandBody::Status { mailbox, items }
        }
        "APPEND" => append::append_full(c)?,
        "SEARCH" => CommandBody::Search(search::search(c, false)?),
        "FETCH" => CommandBody::Fetch(fetch::fetch(c, false)?),
        "STORE" => CommandBody::Store(store(c, false)?),
        "COPY" | "MOVE" => copy_move(c, name, false)?,
        "UID" => {
            c.sp("Expected SP after UID")?;
            let sub = c.word("Expected command after UID")?.to_ascii_uppercase();
            match sub.as_str() {
                "SEARCH" => CommandBody::Search(search::search(c, true)?),
                "FETCH" => CommandBody::Fetch(fetch::fetch(c, true)?),
                "STORE" => CommandBody::Store(store(c, true)?),
                "COPY" | "MOVE" => copy_move(c, &sub, true)?,
                "EXPUNGE" => {
                    c.sp("Expected SP and UID set")?;
                    CommandBody::UidExpunge(c.sequence_set()?)
                }
                _ => return Err(format!("Unknown UID command {sub}").into()),
            }
        }
        _ => return Err(unknown(name)),
    })
}

fn unknown(name: &str) -> Cow<'static, str> {
    // Keep a hostile name from bloating the reply.
    let shown: String = name.chars().take(32).collect();
    format!("Unknown command {shown}").into()
}

fn one_mailbox(c: &mut Cursor<'_>) -> PResult<String> {
    c.sp("Expected SP and mailbox name")?;
    c.mailbox()
}

fn id(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    c.sp("Expected SP after ID")?;
    if c.eat_keyword("NIL") {
        return Ok(CommandBody::Id(None));
    }
    c.expect(b'(', "Expected '(' or NIL after ID")?;
    let mut fields = Vec::new();
    if !c.eat(b')') {
        loop {
            let key = String::from_utf8_lossy(&c.string()?).into_owned();
            c.sp("Expected SP after ID field name")?;
            let value = c.nstring()?.map(|v| String::from_utf8_lossy(&v).into_owned());
            fields.push((key, value));
            if c.eat(b')') {
                break;
            }
            c.sp("Expected SP or ')' in ID list")?;
        }
    }
    Ok(CommandBody::Id(Some(fields)))
}

fn authenticate(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    c.sp("Expected SP and mechanism name")?;
    let mechanism = c.atom_str("Expected mechanism name")?.to_ascii_uppercase();
    let initial_response = if c.eat(b' ') {
        // RFC 4959: "=" is an empty initial response.
        if c.eat(b'=') {
            Some(Vec::new())
        } else {
            let b64 = c.take_while1(
                |b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='),
                "Expected base64 initial response",
            )?;
            Some(crate::encode::base64::decode(b64).ok_or_else(|| Cow::from("Invalid base64 in initial response"))?)
        }
    } else {
        None
    };
    Ok(CommandBody::Authenticate {
        mechanism,
        initial_response,
    })
}

fn select_params(c: &mut Cursor<'_>) -> PResult<SelectParams> {
    c.expect(b'(', "Expected '(' to start SELECT parameters")?;
    let mut p = SelectParams::default();
    if c.eat(b')') {
        return Ok(p);
    }
    loop {
        let name = c.atom_str("Expected SELECT parameter")?.to_ascii_uppercase();
        match name.as_str() {
            "CONDSTORE" => p.condstore = true,
            "QRESYNC" => {
                c.sp("Expected SP after QRESYNC")?;
                c.expect(b'(', "Expected '(' after QRESYNC")?;
                let uidvalidity = c.nz_number()?;
                c.sp("Expected SP and mod-sequence")?;
                let modseq = c.number64()?;
                let mut known_uids = None;
                let mut seq_match = None;
                if c.eat(b' ') {
                    if c.peek() != Some(b'(') {
                        known_uids = Some(c.sequence_set()?);
                        c.eat(b' ');
                    }
                    if c.eat(b'(') {
                        let seqs = c.sequence_set()?;
                        c.sp("Expected SP in QRESYNC sequence match data")?;
                        let uids = c.sequence_set()?;
                        c.expect(b')', "Expected ')' after QRESYNC sequence match data")?;
                        seq_match = Some((seqs, uids));
                    }
                }
                c.expect(b')', "Expected ')' to end QRESYNC parameters")?;
                p.qresync = Some(QresyncParams {
                    uidvalidity,
                    modseq,
                    known_uids,
                    seq_match,
                });
            }
            _ => {
                // RFC 4466 tagged-ext: skip a value, record the name.
                if c.peek() == Some(b' ') && c.rest().get(1) == Some(&b'(') {
                    c.pos += 1;
                    c.skip_group()?;
                }
                p.unknown.push(name);
            }
        }
        if c.eat(b')') {
            return Ok(p);
        }
        c.sp("Expected SP or ')' in SELECT parameters")?;
    }
}

/// RFC 6154 §3 `CREATE name (USE (\Drafts))`.
fn create_params(c: &mut Cursor<'_>) -> PResult<Vec<String>> {
    c.expect(b'(', "Expected '(' to start CREATE parameters")?;
    let mut uses = Vec::new();
    loop {
        if !c.eat_keyword("USE") {
            return Err("Unknown CREATE parameter".into());
        }
        c.sp("Expected SP after USE")?;
        c.expect(b'(', "Expected '(' after USE")?;
        if !c.eat(b')') {
            loop {
                c.expect(b'\\', "Expected special-use attribute")?;
                let name = c.atom_str("Expected special-use attribute")?;
                uses.push(super::lexer::canonical_use(name));
                if c.eat(b')') {
                    break;
                }
                c.sp("Expected SP or ')' in USE list")?;
            }
        }
        if c.eat(b')') {
            return Ok(uses);
        }
        c.sp("Expected SP or ')' in CREATE parameters")?;
    }
}

pub(super) fn status_items(c: &mut Cursor<'_>) -> PResult<Vec<StatusItem>> {
    c.expect(b'(', "Expected '(' to start status items")?;
    let mut items = Vec::new();
    loop {
        let w = c.word("Expected status item")?.to_ascii_uppercase();
        items.push(match w.as_str() {
            "MESSAGES" => StatusItem::Messages,
            "RECENT" => StatusItem::Recent,
            "UIDNEXT" => StatusItem::UidNext,
            "UIDVALIDITY" => StatusItem::UidValidity,
            "UNSEEN" => StatusItem::Unseen,
            "DELETED" => StatusItem::Deleted,
            "SIZE" => StatusItem::Size,
            "HIGHESTMODSEQ" => StatusItem::HighestModSeq,
            "APPENDLIMIT" => StatusItem::AppendLimit,
            _ => return Err(format!("Unknown status item {}", w.chars().take(32).collect::<String>()).into()),
        });
        if c.eat(b')') {
            return Ok(items);
        }
        c.sp("Expected SP or ')' in status items")?;
    }
}

fn store(c: &mut Cursor<'_>, uid: bool) -> PResult<StoreCommand> {
    c.sp("Expected SP and sequence set")?;
    let set = c.sequence_set()?;
    c.sp("Expected SP after sequence set")?;
    let mut unchanged_since = None;
    if c.eat(b'(') {
        if !c.eat_keyword("UNCHANGEDSINCE") {
            return Err("Unknown STORE modifier".into());
        }
        c.sp("Expected SP after UNCHANGEDSINCE")?;
        unchanged_since = Some(c.number64()?);
        c.expect(b')', "Expected ')' after STORE modifier")?;
        c.sp("Expected SP after STORE modifiers")?;
    }
    let op = if c.eat(b'+') {
        StoreOp::Add
    } else if c.eat(b'-') {
        StoreOp::Remove
    } else {
        StoreOp::Replace
    };
    let item = c.word("Expected FLAGS, +FLAGS or -FLAGS")?.to_ascii_uppercase();
    let silent = match item.as_str() {
        "FLAGS" => false,
        "FLAGS.SILENT" => true,
        _ => return Err("Expected FLAGS, +FLAGS or -FLAGS".into()),
    };
    c.sp("Expected SP and flags")?;
    let flags = if c.peek() == Some(b'(') {
        c.flag_list()?
    } else {
        let mut v = vec![c.flag()?];
        while c.eat(b' ') {
            v.push(c.flag()?);
        }
        v
    };
    Ok(StoreCommand {
        uid,
        set,
        op,
        silent,
        flags,
        unchanged_since,
    })
}

fn copy_move(c: &mut Cursor<'_>, name: &str, uid: bool) -> PResult<CommandBody> {
    c.sp("Expected SP and sequence set")?;
    let set = c.sequence_set()?;
    c.sp("Expected SP and mailbox name")?;
    let mailbox = c.mailbox()?;
    Ok(if name == "COPY" {
        CommandBody::Copy { uid, set, mailbox }
    } else {
        CommandBody::Move { uid, set, mailbox }
    })
}
