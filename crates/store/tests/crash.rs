//! Crash safety: a child process appends in a loop and prints each UID as
//! soon as `append` returns. We SIGKILL it mid-stream, reopen the store and
//! check that every acknowledged message is there and the database is sound.
mod common;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mailroom_store::*;

const CHILD_ENV: &str = "MAILROOM_CRASH_CHILD_DIR";

/// Not a test on its own: the body the parent runs in a child process.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let s = Store::open(std::path::Path::new(&dir)).unwrap();
    let a = s.account_by_address("bob@example.test").unwrap().unwrap();
    let inbox = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                for i in 0.. {
                    // Mostly small bodies (kept in the database), every 8th a large
                    // one (a blob file), so both paths are killed mid-write.
                    let len = if i % 8 == 7 { 150_000 + i } else { i % 5000 };
                    let body = format!("thread {t} message {i} {}", "y".repeat(len));
                    let blob = s.prepare_blob(&common::message(&format!("c{t}-{i}"), &body)).unwrap();
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
                    // Acknowledged only now: the append is committed.
                    println!("ACK {} {}", r.uids[0], blob.hash);
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path()).unwrap();
            common::with_user(&s, "bob@example.test");
        }
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut acked = Vec::new();
        let target = 150 + round * 100;
        let start = Instant::now();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("ACK ") {
                let mut it = rest.split(' ');
                let uid: u32 = it.next().unwrap().parse().unwrap();
                acked.push((uid, it.next().unwrap().to_string()));
                if acked.len() >= target {
                    // SIGKILL: no destructors, no flush, mid-transaction.
                    child.kill().unwrap();
                    break;
                }
            }
            assert!(start.elapsed() < Duration::from_secs(120), "child too slow");
        }
        child.wait().unwrap();
        assert_eq!(acked.len(), target);

        let s = Store::open(dir.path()).unwrap();
        assert_eq!(
            s.check().unwrap(),
            Vec::<String>::new(),
            "integrity_check and blob files"
        );
        let a = s.account_by_address("bob@example.test").unwrap().unwrap();
        let inbox = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
        let present: std::collections::HashMap<u32, String> = s
            .messages(inbox.id)
            .unwrap()
            .into_iter()
            .map(|m| (m.uid, m.blob_hash))
            .collect();
        for (uid, hash) in &acked {
            assert_eq!(
                present.get(uid),
                Some(hash),
                "acknowledged UID {uid} lost after SIGKILL"
            );
        }
        // And the store still works after the crash.
        let blob = s.prepare_blob(&common::message("after", "x")).unwrap();
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
        assert!(r.uids[0] > acked.iter().map(|a| a.0).max().unwrap());
    }
}
