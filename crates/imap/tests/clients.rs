//! End-to-end with real clients: Python's imaplib and isync/mbsync.
//! Each test skips (with a notice) when its client is not installed.
mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;

fn have(cmd: &str) -> bool {
    std::process::Command::new(cmd)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

async fn run(cmd: &mut tokio::process::Command) -> std::process::Output {
    cmd.kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("client timed out")
        .expect("spawn client")
}

const PY: &str = r#"
import imaplib, sys, email
port = int(sys.argv[1]); user = sys.argv[2]; pw = sys.argv[3]
M = imaplib.IMAP4('127.0.0.1', port)
assert 'IMAP4REV1' in M.capabilities, M.capabilities
M.login(user, pw)
typ, data = M.select('INBOX')
assert typ == 'OK' and data == [b'1'], (typ, data)
msg = b'From: py@example.test\r\nSubject: from python\r\n\r\nhello from imaplib\r\n'
typ, data = M.append('INBOX', r'(\Flagged)', imaplib.Time2Internaldate(1700000000), msg)
assert typ == 'OK' and b'APPENDUID' in data[0], (typ, data)
typ, data = M.search(None, 'FLAGGED')
assert data == [b'2'], data
typ, data = M.uid('SEARCH', None, 'SUBJECT', '"from python"')
assert data == [b'2'], data
typ, data = M.fetch('2', '(RFC822)')
assert data[0][1] == msg, data
typ, data = M.fetch('2', '(FLAGS)')
assert b'\\Seen' in data[0] and b'\\Flagged' in data[0], data
typ, data = M.fetch('1', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
assert data[0][1] == b'Subject: delivered\r\n\r\n', data
M.create('Py/Sub')
typ, data = M.list('""', 'Py*')
assert data == [b'(\\HasChildren) "/" "Py"', b'(\\HasNoChildren) "/" "Py/Sub"'], data
typ, data = M.copy('1:2', 'Py/Sub')
assert typ == 'OK', data
typ, data = M.status('Py/Sub', '(MESSAGES UNSEEN)')
assert data == [b'"Py/Sub" (MESSAGES 2 UNSEEN 1)'], data
M.store('1', '+FLAGS', r'(\Deleted)')
typ, data = M.expunge()
assert data == [b'1'], data
typ, data = M.fetch('1', '(UID)')
assert data == [b'1 (UID 2)'], data
M.close()
M.logout()
print('PYTHON-OK')
"#;

#[tokio::test]
async fn python_imaplib() {
    if !have("python3") {
        eprintln!("python3 not installed; skipping python_imaplib");
        return;
    }
    let srv = Server::start().await;
    srv.deliver(&message("delivered", "x"));
    let out =
        run(tokio::process::Command::new("python3").args(["-c", PY, &srv.addr.port().to_string(), USER, PASS])).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("PYTHON-OK"),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    srv.stop().await;
}

/// isync/mbsync two-way sync: server → Maildir, local changes → server.
#[tokio::test]
async fn mbsync_two_way() {
    if !have("mbsync") {
        eprintln!("mbsync (Debian package isync) not installed; skipping mbsync_two_way");
        return;
    }
    let srv = Server::start().await;
    srv.deliver(&message("first", "one"));
    srv.deliver(&message("second", "two"));
    let home = srv.dir.path().join("home");
    let maildir = home.join("Mail");
    std::fs::create_dir_all(&maildir).unwrap();
    let rc = home.join("mbsyncrc");
    std::fs::write(
        &rc,
        format!(
            "IMAPAccount test\nHost 127.0.0.1\nPort {port}\nUser {USER}\nPass {PASS}\nSSLType None\nAuthMechs LOGIN\n\n\
             IMAPStore remote\nAccount test\n\n\
             MaildirStore local\nPath {md}/\nInbox {md}/INBOX\nSubFolders Verbatim\n\n\
             Channel sync\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\nExpunge Both\nSyncState *\n",
            port = srv.addr.port(),
            md = maildir.display()
        ),
    )
    .unwrap();
    let sync = || {
        let mut c = tokio::process::Command::new("mbsync");
        c.args(["-c", rc.to_str().unwrap(), "-a"]).env("HOME", &home);
        c
    };
    let out = run(&mut sync()).await;
    assert!(
        out.status.success(),
        "mbsync: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let cur = |dir: &str| -> Vec<String> {
        let mut v: Vec<String> = ["cur", "new"]
            .iter()
            .flat_map(|sub| std::fs::read_dir(maildir.join(dir).join(sub)).into_iter().flatten())
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(cur("INBOX").len(), 2, "{:?}", cur("INBOX"));
    assert!(maildir.join("Archive").is_dir());

    // Local changes: flag one message as seen+flagged, delete the other,
    // add a new one in Archive.
    let files = cur("INBOX");
    let path_of = |name: &str| {
        ["cur", "new"]
            .iter()
            .map(|s| maildir.join("INBOX").join(s).join(name))
            .find(|p| p.exists())
            .unwrap()
    };
    let first = path_of(&files[0]);
    let base = files[0].split(":2,").next().unwrap().to_string();
    std::fs::rename(&first, maildir.join("INBOX/cur").join(format!("{base}:2,FS"))).unwrap();
    std::fs::remove_file(path_of(&files[1])).unwrap();
    std::fs::write(
        maildir.join("Archive/cur/1700000000.local.host:2,S"),
        message("local", "made here"),
    )
    .unwrap();
    // Meanwhile a new message arrives on the server.
    srv.deliver(&message("third", "three"));

    let out = run(&mut sync()).await;
    assert!(
        out.status.success(),
        "mbsync: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let inbox = srv.store.mailbox_get(srv.account_id, "INBOX").unwrap().unwrap();
    let msgs = srv.store.messages(inbox.id).unwrap();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert_eq!(msgs[0].flags.names(), vec!["\\Seen", "\\Flagged"]);
    let archive = srv.store.mailbox_get(srv.account_id, "Archive").unwrap().unwrap();
    let a = srv.store.messages(archive.id).unwrap();
    assert_eq!(a.len(), 1);
    assert!(a[0].flags.names().contains(&"\\Seen".to_string()));
    assert_eq!(cur("INBOX").len(), 2, "{:?}", cur("INBOX"));
    srv.stop().await;
}

/// offlineimap3: server → Maildir, then a local flag change goes back.
#[tokio::test]
async fn offlineimap_sync() {
    if !have("offlineimap") {
        eprintln!("offlineimap (Debian package offlineimap3) not installed; skipping offlineimap_sync");
        return;
    }
    let srv = Server::start().await;
    srv.deliver(&message("first", "one"));
    srv.deliver(&message("second", "two"));
    let home = srv.dir.path().join("ohome");
    let maildir = home.join("Mail");
    std::fs::create_dir_all(&maildir).unwrap();
    let rc = home.join("offlineimaprc");
    std::fs::write(
        &rc,
        format!(
            "[general]\naccounts = test\nmetadata = {meta}\n\n\
             [Account test]\nlocalrepository = local\nremoterepository = remote\n\n\
             [Repository local]\ntype = Maildir\nlocalfolders = {md}\n\n\
             [Repository remote]\ntype = IMAP\nremotehost = 127.0.0.1\nremoteport = {port}\n\
             remoteuser = {USER}\nremotepass = {PASS}\nssl = no\nstarttls = no\n",
            meta = home.join("meta").display(),
            md = maildir.display(),
            port = srv.addr.port(),
        ),
    )
    .unwrap();
    let sync = || {
        let mut c = tokio::process::Command::new("offlineimap");
        c.args(["-c", rc.to_str().unwrap(), "-o", "-u", "basic"])
            .env("HOME", &home);
        c
    };
    let out = run(&mut sync()).await;
    let log = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && !log.contains("ERROR"), "offlineimap: {log}");
    let inbox_new: Vec<_> = ["cur", "new"]
        .iter()
        .flat_map(|s| std::fs::read_dir(maildir.join("INBOX").join(s)).into_iter().flatten())
        .filter_map(|e| e.ok())
        .collect();
    assert_eq!(inbox_new.len(), 2, "{log}");
    // Mark one seen locally and sync back.
    let p = inbox_new[0].path();
    let name = p.file_name().unwrap().to_string_lossy().into_owned();
    let base = name.split(":2,").next().unwrap().to_string();
    std::fs::rename(&p, maildir.join("INBOX/cur").join(format!("{base}:2,S"))).unwrap();
    let out = run(&mut sync()).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let inbox = srv.store.mailbox_get(srv.account_id, "INBOX").unwrap().unwrap();
    let seen = srv
        .store
        .messages(inbox.id)
        .unwrap()
        .iter()
        .filter(|m| m.flags.contains(mailroom_store::SEEN))
        .count();
    assert_eq!(seen, 1);
    srv.stop().await;
}

/// mutt (driven through a pseudo-terminal): flag a message and delete
/// another, then sync; the server must see both.
#[tokio::test]
async fn mutt_flag_and_delete() {
    if !have("mutt") || !have("script") {
        eprintln!("mutt or script (util-linux) not installed; skipping mutt_flag_and_delete");
        return;
    }
    let srv = Server::start().await;
    srv.deliver(&message("first", "one"));
    srv.deliver(&message("second", "two"));
    let home = srv.dir.path().join("mhome");
    std::fs::create_dir_all(&home).unwrap();
    let rc = home.join("muttrc");
    std::fs::write(
        &rc,
        format!(
            "set imap_user=\"{USER}\"\nset imap_pass=\"{PASS}\"\n\
             set folder=\"imap://127.0.0.1:{port}/\"\nset spoolfile=\"+INBOX\"\n\
             set ssl_starttls=no\nset ssl_force_tls=no\nset imap_idle=no\nset header_cache=\"\"\n\
             set move=no\nset delete=yes\nset quit=yes\nset confirmappend=no\nset wait_key=no\n",
            port = srv.addr.port()
        ),
    )
    .unwrap();
    let push = "push '<tag-pattern>~s first<enter><tag-prefix><flag-message><untag-pattern>~A<enter><tag-pattern>~s second<enter><tag-prefix><delete-message><sync-mailbox><quit>'";
    let cmdline = format!("mutt -n -F {} -e \"{push}\"", rc.display());
    let mut cmd = tokio::process::Command::new("script");
    cmd.args(["-qec", &cmdline, "/dev/null"])
        .env("HOME", &home)
        .env("TERM", "xterm")
        .stdin(Stdio::null());
    let out = run(&mut cmd).await;
    let inbox = srv.store.mailbox_get(srv.account_id, "INBOX").unwrap().unwrap();
    let msgs = srv.store.messages(inbox.id).unwrap();
    assert!(
        msgs.len() == 1 && msgs[0].flags.contains(mailroom_store::FLAGGED),
        "{msgs:?}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    srv.stop().await;
}
