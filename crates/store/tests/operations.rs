mod common;
use common::*;
use mailroom_store::*;

fn append_one(store: &Store, mailbox: i64, bytes: &[u8], flags: Flags) -> u32 {
    let blob = store.prepare_blob(bytes).unwrap();
    store
        .append(
            mailbox,
            vec![NewMessage {
                blob: &blob,
                flags,
                internal_date: 1_700_000_000,
                tz_offset: 0,
            }],
        )
        .unwrap()
        .uids[0]
}

#[test]
fn domains_accounts_aliases() {
    let (_d, s) = store();
    s.domain_add("Example.TEST").unwrap();
    assert!(matches!(s.domain_add("example.test"), Err(StoreError::Exists(_))));
    assert!(matches!(s.domain_add("bad domain"), Err(StoreError::Invalid(_))));
    assert!(matches!(
        s.account_create("x@unknown.test", "h", None),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.account_create("not-an-address", "h", None),
        Err(StoreError::Invalid(_))
    ));
    let a = s.account_create("Alice@Example.test", "hash1", Some(1000)).unwrap();
    assert_eq!(a.address, "alice@example.test");
    assert!(matches!(
        s.account_create("alice@example.test", "h", None),
        Err(StoreError::Exists(_))
    ));
    s.account_set_password("alice@example.test", "hash2").unwrap();
    assert_eq!(
        s.account_by_address("ALICE@example.test")
            .unwrap()
            .unwrap()
            .password_hash,
        "hash2"
    );

    s.alias_add("info@example.test", "alice@example.test").unwrap();
    assert!(matches!(
        s.alias_add("alice@example.test", "alice@example.test"),
        Err(StoreError::Exists(_))
    ));
    assert!(matches!(
        s.alias_add("x@example.test", "nobody@example.test"),
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.resolve_recipient("INFO@example.test").unwrap().unwrap().id, a.id);
    assert!(s.resolve_recipient("other@example.test").unwrap().is_none());
    s.alias_add("@example.test", "alice@example.test").unwrap();
    assert_eq!(s.resolve_recipient("other@example.test").unwrap().unwrap().id, a.id);
    let mut addrs = s.account_addresses(a.id).unwrap();
    addrs.sort();
    assert_eq!(addrs, vec!["@example.test", "alice@example.test", "info@example.test"]);
    assert_eq!(s.alias_list().unwrap().len(), 2);
    s.alias_del("@example.test").unwrap();
    assert!(s.resolve_recipient("other@example.test").unwrap().is_none());

    // A domain in use cannot go; an empty one can.
    assert!(s.domain_del("example.test").is_err());
    let boxes: Vec<String> = s.mailbox_list(a.id).unwrap().into_iter().map(|m| m.name).collect();
    assert_eq!(boxes, vec!["Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"]);
    let sent = s.mailbox_get(a.id, "Sent").unwrap().unwrap();
    assert_eq!(sent.special_use.as_deref(), Some("\\Sent"));
    s.account_delete("alice@example.test").unwrap();
    assert!(s.account_by_address("alice@example.test").unwrap().is_none());
    assert!(s.alias_list().unwrap().is_empty());
    s.domain_del("example.test").unwrap();
    assert!(s.domain_list().unwrap().is_empty());
}

#[test]
fn append_read_flags_expunge() {
    let (_d, s) = store();
    let a = with_user(&s, "bob@example.test");
    let inbox = s.mailbox_get(a.id, "inbox").unwrap().unwrap();
    let uv = inbox.uidvalidity;
    let raw = message("hello", "body text");
    let u1 = append_one(&s, inbox.id, &raw, Flags::from_names(&["\\Seen", "$Forwarded"]));
    let u2 = append_one(&s, inbox.id, &message("two", "second"), Flags::default());
    assert_eq!((u1, u2), (1, 2));
    let msgs = s.messages(inbox.id).unwrap();
    assert_eq!(msgs.len(), 2);
    assert!(msgs[0].flags.contains(SEEN) && msgs[0].flags.has_keyword("$forwarded"));
    assert_eq!(msgs[0].size, raw.len() as u64);
    // Byte ranges come straight from the blob.
    assert_eq!(s.read_blob(&msgs[0].blob_hash, 0, 5).unwrap(), &raw[..5]);
    assert_eq!(
        s.read_blob(&msgs[0].blob_hash, raw.len() as u64 - 3, 100).unwrap(),
        &raw[raw.len() - 3..]
    );
    let parsed = s.parsed(msgs[0].blob_id).unwrap();
    assert_eq!(parsed.envelope.subject.as_deref(), Some("hello"));
    assert_eq!(parsed.envelope.from[0].mailbox.as_deref(), Some("alice"));

    let st = s.mailbox_status(inbox.id).unwrap();
    assert_eq!((st.messages, st.unseen, st.uidnext, st.uidvalidity), (2, 1, 3, uv));
    assert_eq!(st.size, msgs.iter().map(|m| m.size).sum::<u64>());
    assert_eq!(s.account_by_id(a.id).unwrap().unwrap().used_bytes, st.size);

    let before = st.highest_modseq;
    let upd = s
        .store_flags(inbox.id, &[u1, u2], FlagOp::Add, &Flags::new(DELETED), None)
        .unwrap();
    assert_eq!(upd.updated.len(), 2);
    assert!(upd.updated[0].modseq > before);
    // UNCHANGEDSINCE below the message's MODSEQ fails for it.
    let upd2 = s
        .store_flags(inbox.id, &[u1], FlagOp::Remove, &Flags::new(SEEN), Some(before))
        .unwrap();
    assert_eq!(upd2.modified, vec![u1]);
    // A no-op store changes nothing and bumps nothing.
    let upd3 = s
        .store_flags(inbox.id, &[u1], FlagOp::Add, &Flags::new(SEEN), None)
        .unwrap();
    assert!(upd3.updated.is_empty());

    let ch = s.changes_since(inbox.id, before).unwrap();
    assert_eq!(ch.messages.len(), 2);
    let mark = ch.highest_modseq;
    assert_eq!(s.expunge_deleted(inbox.id, Some(vec![u2])).unwrap(), vec![u2]);
    let ch = s.changes_since(inbox.id, mark).unwrap();
    assert_eq!(ch.expunged, vec![u2]);
    assert!(ch.messages.is_empty());
    assert_eq!(s.expunge_deleted(inbox.id, None).unwrap(), vec![u1]);
    assert_eq!(s.mailbox_status(inbox.id).unwrap().messages, 0);
    assert_eq!(s.account_by_id(a.id).unwrap().unwrap().used_bytes, 0);
    // UIDs are never reused.
    assert_eq!(append_one(&s, inbox.id, &raw, Flags::default()), 3);
    assert!(s.check().unwrap().is_empty());
}

/// Stored copies of message bodies: blob files plus bodies kept inline.
fn copies(d: &std::path::Path, s: &Store) -> usize {
    let inline: i64 = s
        .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM blob_data", [], |r| r.get(0))?))
        .unwrap();
    walk(&d.join("blobs")) + inline as usize
}

#[test]
fn blobs_are_shared_and_freed() {
    // Small bodies live in the database, large ones in files: same rules.
    for (body_len, files) in [(100, 0), (200 * 1024, 1)] {
        let (d, s) = store();
        let a = with_user(&s, "bob@example.test");
        let b = with_user(&s, "carol@example.test");
        let raw = message("shared", &"b".repeat(body_len));
        let blob = s.prepare_blob(&raw).unwrap();
        let res = s.deliver(&blob, &[a.id, b.id], 1_700_000_000).unwrap();
        assert!(res.iter().all(|r| r.is_ok()));
        assert_eq!(copies(d.path(), &s), 1, "stored once for two recipients");
        assert_eq!(walk(&d.path().join("blobs")), files);
        drop(blob);
        let ia = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
        let m = s.message(ia.id, 1).unwrap().unwrap();
        assert_eq!(s.read_blob(&m.blob_hash, 0, u64::MAX).unwrap(), raw);
        assert_eq!(s.read_blob(&m.blob_hash, 6, 5).unwrap(), &raw[6..11]);
        let mut whole = Vec::new();
        std::io::Read::read_to_end(&mut s.open_blob(&m.blob_hash).unwrap(), &mut whole).unwrap();
        assert_eq!(whole, raw);
        let trash = s.mailbox_get(a.id, "Trash").unwrap().unwrap();
        let copied = s.copy(ia.id, &[1], trash.id).unwrap();
        assert_eq!(copied.pairs, vec![(1, 1)]);
        s.expunge(ia.id, &[1]).unwrap();
        s.expunge(trash.id, &[1]).unwrap();
        assert_eq!(copies(d.path(), &s), 1, "carol still has it");
        let ib = s.mailbox_get(b.id, "INBOX").unwrap().unwrap();
        s.expunge(ib.id, &[1]).unwrap();
        assert_eq!(copies(d.path(), &s), 0, "last reference gone");
        assert!(s.check().unwrap().is_empty());
    }
}

fn walk(p: &std::path::Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(p).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            n += walk(&e.path());
        } else {
            n += 1;
        }
    }
    n
}

#[test]
fn quota_is_enforced() {
    let (_d, s) = store();
    s.domain_add("example.test").unwrap();
    let a = s.account_create("q@example.test", "h", Some(100)).unwrap();
    let blob = s.prepare_blob(&message("big", &"x".repeat(200))).unwrap();
    let res = s.deliver(&blob, &[a.id], 0).unwrap();
    assert!(matches!(res[0], Err(StoreError::QuotaExceeded)));
    let inbox = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
    assert!(matches!(
        s.append(
            inbox.id,
            vec![NewMessage {
                blob: &blob,
                flags: Flags::default(),
                internal_date: 0,
                tz_offset: 0
            }]
        ),
        Err(StoreError::QuotaExceeded)
    ));
    assert_eq!(s.mailbox_status(inbox.id).unwrap().messages, 0);
}

#[test]
fn mailbox_create_rename_delete() {
    let (_d, s) = store();
    let a = with_user(&s, "bob@example.test");
    s.mailbox_create(a.id, "Work/Projects/2026", None).unwrap();
    assert!(s.mailbox_get(a.id, "Work").unwrap().is_some(), "parents are created");
    assert!(matches!(
        s.mailbox_create(a.id, "Work", None),
        Err(StoreError::Exists(_))
    ));
    assert!(matches!(
        s.mailbox_create(a.id, "bad//name", None),
        Err(StoreError::Invalid(_))
    ));
    let p = s.mailbox_get(a.id, "Work/Projects/2026").unwrap().unwrap();
    let inner = append_one(&s, p.id, &message("p", "x"), Flags::default());
    s.subscribe(a.id, "Work/Projects", true).unwrap();
    s.mailbox_rename(a.id, "Work", "Job").unwrap();
    assert!(s.mailbox_get(a.id, "Work/Projects/2026").unwrap().is_none());
    let moved = s.mailbox_get(a.id, "Job/Projects/2026").unwrap().unwrap();
    assert_eq!(
        (moved.id, moved.uidvalidity),
        (p.id, p.uidvalidity),
        "rename keeps identity"
    );
    assert_eq!(s.messages(moved.id).unwrap()[0].uid, inner);
    assert!(s.subscriptions(a.id).unwrap().contains(&"Job/Projects".to_string()));
    assert!(matches!(s.mailbox_delete(a.id, "Job"), Err(StoreError::HasChildren(_))));
    s.mailbox_delete(a.id, "Job/Projects/2026").unwrap();
    assert!(s.mailbox_get(a.id, "Job/Projects/2026").unwrap().is_none());
    assert!(s.mailbox_delete(a.id, "INBOX").is_err());
    // Recreating a name gives a new UIDVALIDITY.
    let again = s.mailbox_create(a.id, "Job/Projects/2026", None).unwrap();
    assert_ne!(again.uidvalidity, p.uidvalidity);

    // RFC 9051 §6.3.6: renaming INBOX moves its messages, INBOX stays.
    let inbox = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
    append_one(&s, inbox.id, &message("m1", "x"), Flags::new(SEEN));
    s.mailbox_rename(a.id, "INBOX", "Old").unwrap();
    assert_eq!(s.mailbox_status(inbox.id).unwrap().messages, 0);
    let old = s.mailbox_get(a.id, "Old").unwrap().unwrap();
    let m = s.messages(old.id).unwrap();
    assert_eq!(m.len(), 1);
    assert!(m[0].flags.contains(SEEN));
}

#[test]
fn move_and_recent() {
    let (_d, s) = store();
    let a = with_user(&s, "bob@example.test");
    let inbox = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
    let arch = s.mailbox_get(a.id, "Archive").unwrap().unwrap();
    for i in 0..3 {
        append_one(&s, inbox.id, &message(&format!("m{i}"), "x"), Flags::default());
    }
    assert_eq!(s.mailbox_status(inbox.id).unwrap().recent, 3);
    assert_eq!(s.claim_recent_range(inbox.id).unwrap(), (1, 4));
    assert_eq!(
        s.claim_recent_range(inbox.id).unwrap(),
        (4, 4),
        "a second session gets none"
    );
    assert_eq!(s.mailbox_status(inbox.id).unwrap().recent, 0);
    let mark = s.mailbox_status(inbox.id).unwrap().highest_modseq;
    let moved = s.move_messages(inbox.id, &[1, 3], arch.id).unwrap();
    assert_eq!(moved.pairs, vec![(1, 1), (3, 2)]);
    assert_eq!(moved.uidvalidity, arch.uidvalidity);
    assert_eq!(s.changes_since(inbox.id, mark).unwrap().expunged, vec![1, 3]);
    assert_eq!(s.messages(inbox.id).unwrap().len(), 1);
    assert_eq!(s.messages(arch.id).unwrap().len(), 2);
}

#[test]
fn notifier_wakes_watchers() {
    let (_d, s) = store();
    let a = with_user(&s, "bob@example.test");
    let mut rx = s.watch_changes(a.id);
    let before = *rx.borrow();
    let inbox = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
    append_one(&s, inbox.id, &message("n", "x"), Flags::default());
    assert!(rx.has_changed().unwrap());
    assert!(*rx.borrow_and_update() > before);
}

#[test]
fn mime_structure_is_kept() {
    let (_d, s) = store();
    let a = with_user(&s, "bob@example.test");
    let inbox = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
    let raw = b"From: a@example.test\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\npreamble\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\nworld\r\n--XX\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nFrom: b@example.test\r\n\r\ninner body\r\n--XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"a.bin\"\r\n\r\nAAECAw==\r\n--XX--\r\n";
    append_one(&s, inbox.id, raw, Flags::default());
    let m = &s.messages(inbox.id).unwrap()[0];
    let p = s.parsed(m.blob_id).unwrap();
    assert_eq!(
        p.envelope.subject.as_deref(),
        Some("=?utf-8?q?caf=C3=A9?="),
        "envelope keeps raw form"
    );
    assert_eq!(p.search.subject, "café", "search uses decoded form");
    let root = &p.root;
    assert_eq!(
        (root.media_type.as_str(), root.subtype.as_str()),
        ("multipart", "mixed")
    );
    assert_eq!(root.parts.len(), 3);
    let text = &root.parts[0];
    let body = &raw[text.body_start as usize..text.body_end as usize];
    assert_eq!(
        body, b"hello\r\nworld",
        "part body excludes the CRLF before the boundary"
    );
    assert_eq!((text.size, text.lines), (12, 2));
    let inner = root.parts[1].message.as_ref().unwrap();
    assert_eq!(inner.envelope.subject.as_deref(), Some("inner"));
    let ib = &inner.root;
    assert_eq!(&raw[ib.body_start as usize..ib.body_end as usize], b"inner body");
    assert_eq!(
        &raw[ib.header_start as usize..ib.header_start as usize + 14],
        b"Subject: inner"
    );
    let att = &root.parts[2];
    assert_eq!(att.encoding, "base64");
    assert_eq!(att.decoded_size, 4);
    assert_eq!(att.disposition.as_ref().unwrap().0, "attachment");
}

#[test]
fn garbage_is_stored_not_rejected() {
    let (_d, s) = store();
    let a = with_user(&s, "bob@example.test");
    let inbox = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
    for raw in [
        &b""[..],
        b"\0\0\xff\xfe",
        b"no header at all",
        b"Content-Type: multipart/mixed\r\n\r\n--",
    ] {
        append_one(&s, inbox.id, raw, Flags::default());
    }
    assert_eq!(s.messages(inbox.id).unwrap().len(), 4);
}

#[test]
fn large_message_streams_through_blob_writer() {
    use std::io::Write;
    let (_d, s) = store();
    let a = with_user(&s, "bob@example.test");
    let inbox = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
    let mut w = s.blob_writer().unwrap();
    w.write_all(b"From: a@example.test\r\nSubject: big\r\nContent-Type: application/octet-stream\r\n\r\n")
        .unwrap();
    let line = [b'A'; 76];
    let mut written = 0u64;
    while written < 52 * 1024 * 1024 {
        w.write_all(&line).unwrap();
        w.write_all(b"\r\n").unwrap();
        written += 78;
    }
    let blob = w.finish().unwrap();
    assert!(blob.size > 50 * 1024 * 1024);
    s.append(
        inbox.id,
        vec![NewMessage {
            blob: &blob,
            flags: Flags::default(),
            internal_date: 0,
            tz_offset: 0,
        }],
    )
    .unwrap();
    let m = &s.messages(inbox.id).unwrap()[0];
    assert_eq!(m.size, blob.size);
    let p = s.parsed(m.blob_id).unwrap();
    assert_eq!(p.root.body_end, blob.size);
    assert_eq!(s.read_blob(&m.blob_hash, blob.size - 2, 10).unwrap(), b"\r\n");
}

#[test]
fn sweep_removes_only_old_orphans() {
    let (d, s) = store();
    let a = with_user(&s, "bob@example.test");
    let inbox = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
    append_one(&s, inbox.id, &message("kept", "x"), Flags::default());
    // An orphan: a blob file written by another process that died before
    // committing (its preparer never let go, so nothing cleaned up).
    let other = Store::open(d.path()).unwrap();
    let orphan = other.prepare_blob(&message("orphan", &"y".repeat(200 * 1024))).unwrap();
    let orphan_hash = orphan.hash.clone();
    std::mem::forget(orphan);
    drop(other);
    std::fs::write(d.path().join("tmp/123-0.tmp"), b"partial").unwrap();
    assert_eq!(
        s.sweep_orphans(std::time::Duration::from_secs(3600)).unwrap(),
        0,
        "young files stay"
    );
    assert_eq!(s.sweep_orphans(std::time::Duration::ZERO).unwrap(), 2);
    assert!(s.read_blob(&orphan_hash, 0, 1).is_err());
    assert!(s.check().unwrap().is_empty(), "referenced blobs stay");
}

#[test]
fn absurd_mime_nesting_is_bounded() {
    let (_d, s) = store();
    let a = with_user(&s, "bob@example.test");
    let inbox = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
    let mut raw = String::from("From: x@example.test\r\nSubject: deep\r\n");
    let depth = 5000;
    for i in 0..depth {
        raw.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
        ));
    }
    raw.push_str("Content-Type: text/plain\r\n\r\ncore\r\n");
    for i in (0..depth).rev() {
        raw.push_str(&format!("--b{i}--\r\n"));
    }
    append_one(&s, inbox.id, raw.as_bytes(), Flags::default());
    let m = &s.messages(inbox.id).unwrap()[0];
    let p = s.parsed(m.blob_id).unwrap();
    let mut levels = 0;
    let mut part = &p.root;
    while let Some(child) = part.parts.first() {
        part = child;
        levels += 1;
    }
    assert!(levels <= mailroom_store::parse::MAX_DEPTH, "{levels}");
}

#[test]
fn parsed_cache_never_serves_a_reused_blob_id() {
    let (_d, s) = store();
    let a = with_user(&s, "bob@example.test");
    let inbox = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
    let u1 = append_one(&s, inbox.id, &message("first", "x"), Flags::default());
    let m1 = s.message(inbox.id, u1).unwrap().unwrap();
    assert_eq!(s.parsed(m1.blob_id).unwrap().envelope.subject.as_deref(), Some("first"));
    s.expunge(inbox.id, &[u1]).unwrap();
    let u2 = append_one(&s, inbox.id, &message("second", "y"), Flags::default());
    let m2 = s.message(inbox.id, u2).unwrap().unwrap();
    assert_eq!(m2.blob_id, m1.blob_id, "SQLite reuses the freed rowid");
    assert_eq!(
        s.parsed(m2.blob_id).unwrap().envelope.subject.as_deref(),
        Some("second")
    );
    assert!(std::sync::Arc::ptr_eq(
        &s.parsed_shared(m2.blob_id).unwrap(),
        &s.parsed_shared(m2.blob_id).unwrap()
    ));
}

#[test]
fn failed_append_leaves_no_blob_file() {
    let (d, s) = store();
    s.domain_add("example.test").unwrap();
    let a = s.account_create("q@example.test", "h", Some(1000)).unwrap();
    let inbox = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
    let blob = s.prepare_blob(&message("big", &"x".repeat(300 * 1024))).unwrap();
    assert_eq!(walk(&d.path().join("blobs")), 1, "written before the commit");
    let r = s.append(
        inbox.id,
        vec![NewMessage {
            blob: &blob,
            flags: Flags::default(),
            internal_date: 0,
            tz_offset: 0,
        }],
    );
    assert!(matches!(r, Err(StoreError::QuotaExceeded)));
    drop(blob);
    assert_eq!(walk(&d.path().join("blobs")), 0, "nothing refers to it: removed");
    // A committed one stays when its preparer lets go.
    s.account_set_quota("q@example.test", None).unwrap();
    let blob = s.prepare_blob(&message("big", &"x".repeat(300 * 1024))).unwrap();
    s.append(
        inbox.id,
        vec![NewMessage {
            blob: &blob,
            flags: Flags::default(),
            internal_date: 0,
            tz_offset: 0,
        }],
    )
    .unwrap();
    drop(blob);
    assert_eq!(walk(&d.path().join("blobs")), 1);
    assert!(s.check().unwrap().is_empty());
}

#[test]
fn millions_of_parts_are_not_described() {
    let (_d, s) = store();
    let a = with_user(&s, "bob@example.test");
    let inbox = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
    let mut raw = String::from("From: x@example.test\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n");
    for _ in 0..(mailroom_store::parse::MAX_BOUNDARY_LINES + 10) {
        raw.push_str("--b\r\n\r\n");
    }
    raw.push_str("--b--\r\n");
    append_one(&s, inbox.id, raw.as_bytes(), Flags::default());
    let m = &s.messages(inbox.id).unwrap()[0];
    let p = s.parsed(m.blob_id).unwrap();
    assert!(p.root.parts.is_empty(), "stored as one opaque part");
    assert_eq!(p.root.body_end, raw.len() as u64);
}

/// \Recent claims are decided in memory and persisted without waiting:
/// status and EXAMINE count them at once, and they survive a reopen.
#[test]
fn recent_claims_count_at_once_and_persist() {
    let (dir, s) = store();
    let a = with_user(&s, "rc@example.test");
    let inbox = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
    for i in 0..2 {
        append_one(&s, inbox.id, &message(&format!("m{i}"), "x"), Flags::default());
    }
    assert_eq!(s.recent_uid(inbox.id).unwrap(), 1);
    assert_eq!(s.claim_recent_range(inbox.id).unwrap(), (1, 3));
    assert_eq!(s.recent_uid(inbox.id).unwrap(), 3);
    assert_eq!(s.mailbox_status(inbox.id).unwrap().recent, 0);
    append_one(&s, inbox.id, &message("m2", "x"), Flags::default());
    assert_eq!(s.claim_recent_range(inbox.id).unwrap(), (3, 4));
    assert_eq!(s.claim_recent_range(inbox.id).unwrap(), (4, 4));
    drop(s);
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(s.recent_uid(inbox.id).unwrap(), 4);
    assert_eq!(s.claim_recent_range(inbox.id).unwrap(), (4, 4));
}

#[test]
fn keywords_per_message_are_bounded() {
    let (_d, s) = store();
    let a = with_user(&s, "bob@example.test");
    let inbox = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
    let uid = append_one(&s, inbox.id, &message("k", "x"), Flags::default());
    let names: Vec<String> = (0..MAX_KEYWORDS).map(|i| format!("k{i}")).collect();
    s.store_flags(inbox.id, &[uid], FlagOp::Add, &Flags::from_names(&names), None)
        .unwrap();
    let one_more = Flags::from_names(&["extra"]);
    assert!(matches!(
        s.store_flags(inbox.id, &[uid], FlagOp::Add, &one_more, None),
        Err(StoreError::Invalid(_))
    ));
    let too_many: Vec<String> = (0..10_000).map(|i| format!("x{i}")).collect();
    assert!(matches!(
        s.store_flags(inbox.id, &[uid], FlagOp::Remove, &Flags::from_names(&too_many), None),
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        s.message(inbox.id, uid).unwrap().unwrap().flags.keywords.len(),
        MAX_KEYWORDS
    );
}

#[test]
fn mailboxes_per_account_are_bounded() {
    let (_d, s) = store();
    let a = with_user(&s, "bob@example.test");
    let have = s.mailbox_list(a.id).unwrap().len();
    let id = a.id;
    s.write(move |c, _| {
        for i in have..MAX_MAILBOXES - 1 {
            c.execute(
                "INSERT INTO mailboxes (account_id, name, uidvalidity) VALUES (?1, ?2, 1)",
                rusqlite::params![id, format!("m{i}")],
            )?;
        }
        Ok(())
    })
    .unwrap();
    s.mailbox_create(a.id, "last", None).unwrap();
    assert!(matches!(
        s.mailbox_create(a.id, "one-too-many", None),
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(s.mailbox_list(a.id).unwrap().len(), MAX_MAILBOXES);
}
