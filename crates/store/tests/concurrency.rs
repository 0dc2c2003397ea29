mod common;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use mailroom_store::*;

/// Many threads appending to one mailbox get unique, increasing UIDs, and
/// group commit batches them.
#[test]
fn concurrent_appends_get_unique_increasing_uids() {
    let (_d, s) = store();
    let a = with_user(&s, "bob@example.test");
    let inbox = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                let mut uids = Vec::new();
                for i in 0..25 {
                    let blob = s.prepare_blob(&message(&format!("t{t}-{i}"), "x")).unwrap();
                    let r = s
                        .append(
                            inbox.id,
                            vec![NewMessage {
                                blob: &blob,
                                flags: Flags::default(),
                                internal_date: 0,
                                tz_offset: 0,
                            }],
                        )
                        .unwrap();
                    uids.push(r.uids[0]);
                }
                uids
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in threads {
        let uids = t.join().unwrap();
        assert!(uids.windows(2).all(|w| w[0] < w[1]), "UIDs increase for each writer");
        all.extend(uids);
    }
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 400);
    assert_eq!(all, (1..=400).collect::<Vec<u32>>());
    assert_eq!(s.mailbox_status(inbox.id).unwrap().messages, 400);
}

/// A reader never sees half of a multi-message append or move.
#[test]
fn readers_never_see_half_a_change() {
    let (_d, s) = store();
    let a = with_user(&s, "bob@example.test");
    let inbox = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
    let arch = s.mailbox_get(a.id, "Archive").unwrap().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (s, stop) = (s.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut checks = 0;
            while !stop.load(Ordering::Relaxed) {
                // Every write adds or moves exactly 5 messages at once.
                let n = s
                    .read(|c| {
                        Ok(c.query_row(
                            "SELECT COUNT(*) FROM messages WHERE mailbox_id IN (?1, ?2)",
                            [inbox.id, arch.id],
                            |r| r.get::<_, i64>(0),
                        )?)
                    })
                    .unwrap();
                assert_eq!(n % 5, 0, "saw a half-applied append");
                let inbox_n = s.messages(inbox.id).unwrap().len();
                assert_eq!(inbox_n % 5, 0, "saw a half-applied move");
                checks += 1;
            }
            checks
        })
    };
    for round in 0..40 {
        let blobs: Vec<_> = (0..5)
            .map(|i| s.prepare_blob(&message(&format!("r{round}-{i}"), "x")).unwrap())
            .collect();
        let msgs = blobs
            .iter()
            .map(|b| NewMessage {
                blob: b,
                flags: Flags::default(),
                internal_date: 0,
                tz_offset: 0,
            })
            .collect();
        let r = s.append(inbox.id, msgs).unwrap();
        if round % 2 == 1 {
            s.move_messages(inbox.id, &r.uids, arch.id).unwrap();
        }
    }
    stop.store(true, Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
}
