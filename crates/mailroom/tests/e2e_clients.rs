//! Debian's real mail clients against the binary (swaks, smtplib, poplib,
//! getmail, offlineimap and mutt run against each protocol crate's tests). Each test says SKIPPED and
//! passes when its client is not installed (CI installs them all).
mod common;
use std::process::Command;

use common::*;

fn instance() -> Instance {
    let mut i = Instance::new("example.test", "");
    i.add_user("alice@example.test", "alice-pw");
    i.add_user("bob@example.test", "bob-pw");
    i.start();
    i
}

fn deliver(i: &Instance, n: usize) {
    let s = i.store();
    let a = s.account_by_address("bob@example.test").unwrap().unwrap();
    for k in 0..n {
        let raw = format!(
            "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: fetch-{k}\r\nMessage-ID: <fetch-{k}@example.test>\r\n\r\nbody {k}\r\n"
        );
        let blob = s.prepare_blob(raw.as_bytes()).unwrap();
        s.deliver(&blob, &[a.id], 1_780_000_000).unwrap();
    }
}

#[test]
fn fetchmail_keep_then_delete() {
    if !have("fetchmail") {
        return;
    }
    let i = instance();
    deliver(&i, 3);
    let mbox = i.dir.path().join("fetched.mbox");
    let rc = i.dir.path().join("fetchmailrc");
    let write_rc = |keep: &str| {
        std::fs::write(
            &rc,
            format!(
                "set no syslog\nset idfile \"{}\"\npoll 127.0.0.1 port {} protocol pop3 uidl auth password user \"bob@example.test\" password \"bob-pw\" is \"me\" here {keep} sslproto '' mda \"cat >> {}\"\n",
                path_str(&i.dir.path().join("fetchids")),
                i.ports.pop3,
                path_str(&mbox)
            ),
        )
        .unwrap();
        let mut p = std::fs::metadata(&rc).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut p, 0o600);
        std::fs::set_permissions(&rc, p).unwrap();
    };
    let run = || {
        let out = Command::new("fetchmail")
            .arg("-f")
            .arg(&rc)
            .arg("-v")
            .env("HOME", i.dir.path())
            .output()
            .unwrap();
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    write_rc("keep");
    let (code, log) = run();
    assert_eq!(code, Some(0), "{log}");
    let got = std::fs::read_to_string(&mbox).unwrap();
    assert_eq!(got.matches("Subject: fetch-").count(), 3, "{got}");
    assert_eq!(i.inbox("bob@example.test").len(), 3, "keep leaves mail on the server");
    // Second run with keep: UIDL says nothing new (exit 1 = no mail).
    let (code, log) = run();
    assert_eq!(code, Some(1), "nothing new expected: {log}");
    write_rc("fetchall nokeep");
    let (code, log) = run();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(i.inbox("bob@example.test").len(), 0, "nokeep deletes after download");
}

#[test]
fn mbsync_two_way_sync() {
    if !have("mbsync") {
        return;
    }
    let i = instance();
    deliver(&i, 3);
    let local = i.dir.path().join("mail");
    std::fs::create_dir_all(&local).unwrap();
    let rc = i.dir.path().join("mbsyncrc");
    std::fs::write(
        &rc,
        format!(
            "IMAPAccount test\nHost 127.0.0.1\nPort {}\nUser bob@example.test\nPass bob-pw\nSSLType STARTTLS\nCertificateFile {}\nAuthMechs LOGIN\n\nIMAPStore remote\nAccount test\n\nMaildirStore local\nPath {}/\nInbox {}/INBOX\nSubFolders Verbatim\n\nChannel ch\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\nExpunge Both\nSyncState *\n",
            i.ports.imap,
            path_str(&i.cert()),
            path_str(&local),
            path_str(&local)
        ),
    )
    .unwrap();
    let sync = || {
        let out = Command::new("mbsync").arg("-c").arg(&rc).arg("-a").output().unwrap();
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "mbsync failed:\n{log}\nserver log:\n{}", i.log());
        log
    };
    sync();
    let inbox_new = local.join("INBOX/new");
    let inbox_cur = local.join("INBOX/cur");
    let count = |p: &std::path::Path| std::fs::read_dir(p).map(|d| d.count()).unwrap_or(0);
    assert_eq!(count(&inbox_new) + count(&inbox_cur), 3);
    assert!(
        local.join("Sent").is_dir() && local.join("Trash").is_dir(),
        "folders synced"
    );

    // Local change: mark one message seen and delete another (maildir flags).
    let mut files: Vec<_> = std::fs::read_dir(&inbox_new)
        .unwrap()
        .chain(std::fs::read_dir(&inbox_cur).unwrap())
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let name = |p: &std::path::Path| p.file_name().unwrap().to_string_lossy().into_owned();
    let seen = inbox_cur.join(format!("{}:2,S", name(&files[0]).split(":2,").next().unwrap()));
    std::fs::rename(&files[0], &seen).unwrap();
    std::fs::remove_file(&files[1]).unwrap();
    // A local new folder with a message goes up too.
    let proj = local.join("Projects");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(proj.join(sub)).unwrap();
    }
    std::fs::write(
        proj.join("new/1.local"),
        "From: bob@example.test\r\nSubject: local\r\n\r\nfrom maildir\r\n",
    )
    .unwrap();
    sync();

    let s = i.store();
    let a = s.account_by_address("bob@example.test").unwrap().unwrap();
    let inbox = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
    let msgs = s.messages(inbox.id).unwrap();
    assert_eq!(msgs.len(), 2, "local deletion reached the server");
    assert!(
        msgs.iter().any(|m| m.flags.contains(mailroom_store::SEEN)),
        "local \\Seen reached the server"
    );
    let p = s
        .mailbox_get(a.id, "Projects")
        .unwrap()
        .expect("folder created on the server");
    assert_eq!(s.messages(p.id).unwrap().len(), 1);
}
