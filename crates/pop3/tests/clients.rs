//! End-to-end tests with real POP3 clients: Python's poplib, fetchmail and
//! getmail6. Each is skipped, with a notice, if the client is not installed
//! (CI installs the Debian packages `fetchmail` and `getmail6`).
mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use common::*;
use mailroom_net::listener::TlsMode;

/// Messages as SMTP would deliver them, plus one with bare LFs as an IMAP
/// APPEND might store, and dot-leading lines to exercise byte-stuffing.
fn messages() -> Vec<Vec<u8>> {
    vec![
        MSG1.as_bytes().to_vec(),
        MSG2.as_bytes().to_vec(),
        b"From: eve@example.org\nTo: alice@example.test\nSubject: third\nMessage-ID: <3@example.org>\n\n.\n..\nend\n"
            .to_vec(),
    ]
}

fn normalize(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn have(tool: &str) -> bool {
    let found = std::process::Command::new(tool)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok();
    if !found {
        eprintln!("NOTICE: {tool} is not installed; skipping this end-to-end test");
    }
    found
}

async fn run(cmd: &mut tokio::process::Command) -> Output {
    cmd.kill_on_drop(true).stdin(std::process::Stdio::null());
    tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .expect("client did not finish in time")
        .expect("client could not be started")
}

/// The messages a client wrote to `dir` (files named `msg*`).
fn files_in(dir: &Path) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("msg")))
        .collect();
    paths.sort();
    paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// Every delivered message was retrieved exactly once, byte for byte apart
/// from line endings and header lines the client prepends.
fn assert_retrieved(got: &[Vec<u8>], delivered: &[Vec<u8>]) {
    assert_eq!(
        got.len(),
        delivered.len(),
        "retrieved {} of {}",
        got.len(),
        delivered.len()
    );
    for d in delivered {
        let want = normalize(d);
        let hits = got.iter().filter(|g| normalize(g).ends_with(&want)).count();
        assert_eq!(hits, 1, "message not retrieved intact:\n{}", String::from_utf8_lossy(d));
    }
}

const POPLIB_SCRIPT: &str = r#"
import os, poplib, ssl, sys
host, port, user, pw, mode, out, cafile, delete = sys.argv[1:9]
ctx = ssl.create_default_context(cafile=cafile)
if mode == "pop3s":
    p = poplib.POP3_SSL(host, int(port), context=ctx, timeout=30)
else:
    p = poplib.POP3(host, int(port), timeout=30)
    caps = p.capa()
    for c in ("TOP", "UIDL", "USER", "SASL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "STLS", "IMPLEMENTATION"):
        assert c in caps, (c, caps)
    assert caps["SASL"] == ["PLAIN", "LOGIN"], caps
    p.stls(context=ctx)
    assert "STLS" not in p.capa()
p.user(user)
p.pass_(pw)
# A second concurrent session is refused with [IN-USE].
q = poplib.POP3_SSL(host, int(port), context=ctx, timeout=30) if mode == "pop3s" else poplib.POP3(host, int(port), timeout=30)
if mode != "pop3s":
    q.stls(context=ctx)
q.user(user)
try:
    q.pass_(pw)
    raise SystemExit("second login was not refused")
except poplib.error_proto as e:
    assert e.args[0].startswith(b"-ERR [IN-USE]"), e
q.quit()
count, size = p.stat()
listing = p.uidl()[1]
with open(os.path.join(out, "uidl"), "wb") as f:
    f.write(b"\n".join(listing))
total = 0
for n in range(1, count + 1):
    resp, lines, octets = p.retr(n)
    body = b"\r\n".join(lines) + b"\r\n"
    assert int(resp.split()[1]) == len(body), (resp, len(body))
    total += len(body)
    with open(os.path.join(out, "msg%03d.eml" % n), "wb") as f:
        f.write(body)
    if delete == "delete":
        p.dele(n)
assert total == size, (total, size)
p.quit()
"#;

async fn poplib(server: &Server, mode: &str, out: &Path, delete: bool) -> Output {
    let (cert, _) = mailroom_net::tls::self_signed_paths(server.dir.path());
    run(tokio::process::Command::new("python3")
        .arg("-c")
        .arg(POPLIB_SCRIPT)
        .arg("127.0.0.1")
        .arg(server.addr.port().to_string())
        .arg(ALICE)
        .arg(ALICE_PW)
        .arg(mode)
        .arg(out)
        .arg(&cert)
        .arg(if delete { "delete" } else { "keep" }))
    .await
}

fn check(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed: {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_poplib_keep_then_delete() {
    if !have("python3") {
        return;
    }
    for mode in [TlsMode::Plain, TlsMode::Implicit] {
        let server = Server::start_mode(mode, fast_config()).await;
        let delivered = messages();
        for m in &delivered {
            server.deliver(server.alice, m);
        }
        let inbox = server.inbox(server.alice);
        let mode = if mode == TlsMode::Plain { "stls" } else { "pop3s" };

        // Leave mail on the server: everything arrives, nothing goes.
        let keep = tempfile::tempdir().unwrap();
        check(&poplib(&server, mode, keep.path(), false).await, "poplib keep");
        assert_retrieved(&files_in(keep.path()), &delivered);
        let uidl_first = std::fs::read(keep.path().join("uidl")).unwrap();
        assert_eq!(server.store.messages(inbox).unwrap().len(), 3);

        // Download and delete: IMAP (the store) then sees them go.
        let modseq = server.store.mailbox_by_id(inbox).unwrap().highest_modseq;
        let del = tempfile::tempdir().unwrap();
        check(&poplib(&server, mode, del.path(), true).await, "poplib delete");
        let uidl_second = std::fs::read(del.path().join("uidl")).unwrap();
        assert_eq!(uidl_first, uidl_second, "UIDL changed between sessions");
        assert_retrieved(&files_in(del.path()), &delivered);
        assert!(server.store.messages(inbox).unwrap().is_empty());
        assert_eq!(server.store.changes_since(inbox, modseq).unwrap().expunged.len(), 3);
        server.stop().await;
    }
}

fn write_private(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

async fn fetchmail(server: &Server, home: &Path, out: &Path, keep: bool) -> Output {
    let rc = home.join("fetchmailrc");
    let keep = if keep { "keep" } else { "no keep fetchall" };
    write_private(
        &rc,
        &format!(
            "set no syslog\nset invisible\n\
             poll 127.0.0.1 with proto POP3 port {port} uidl auth password\n\
             \x20 user \"{ALICE}\" there with password \"{ALICE_PW}\" is \"{local}\" here\n\
             \x20 options {keep} no rewrite sslproto '' mda \"/bin/sh -c 'cat > {out}/msg.$$'\"\n",
            port = server.addr.port(),
            local = "root",
            out = out.display(),
        ),
    );
    run(tokio::process::Command::new("fetchmail")
        .env("HOME", home)
        .arg("-N")
        .arg("-f")
        .arg(&rc)
        .arg("-i")
        .arg(home.join("fetchids"))
        .arg("--pidfile")
        .arg(home.join("fetchmail.pid")))
    .await
}

/// fetchmail exits 0 when it retrieved mail and 1 when there was none.
fn check_fetchmail(o: &Output) {
    assert!(
        matches!(o.status.code(), Some(0) | Some(1)),
        "fetchmail failed: {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetchmail_keep_then_delete() {
    if !have("fetchmail") {
        return;
    }
    let server = Server::start(fast_config()).await;
    let delivered = messages();
    for m in &delivered[..2] {
        server.deliver(server.alice, m);
    }
    let inbox = server.inbox(server.alice);
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();

    // Keep mode with UIDL: a second poll fetches only the new message.
    check_fetchmail(&fetchmail(&server, home.path(), out.path(), true).await);
    assert_retrieved(&files_in(out.path()), &delivered[..2]);
    server.deliver(server.alice, &delivered[2]);
    check_fetchmail(&fetchmail(&server, home.path(), out.path(), true).await);
    assert_retrieved(&files_in(out.path()), &delivered);
    check_fetchmail(&fetchmail(&server, home.path(), out.path(), true).await);
    assert_retrieved(&files_in(out.path()), &delivered);
    assert_eq!(server.store.messages(inbox).unwrap().len(), 3);

    // Delete after download.
    let out2 = tempfile::tempdir().unwrap();
    let modseq = server.store.mailbox_by_id(inbox).unwrap().highest_modseq;
    check_fetchmail(&fetchmail(&server, home.path(), out2.path(), false).await);
    assert_retrieved(&files_in(out2.path()), &delivered);
    assert!(server.store.messages(inbox).unwrap().is_empty());
    assert_eq!(server.store.changes_since(inbox, modseq).unwrap().expunged.len(), 3);
    server.stop().await;
}

async fn getmail(server: &Server, dir: &Path, out: &Path, delete: bool) -> Output {
    let rc = dir.join("getmailrc");
    // An external MDA rather than getmail's Maildir writer, which refuses
    // to run as root (as CI containers often do).
    write_private(
        &rc,
        &format!(
            "[retriever]\ntype = SimplePOP3Retriever\nserver = 127.0.0.1\nport = {port}\n\
             username = {ALICE}\npassword = {ALICE_PW}\n\n\
             [destination]\ntype = MDA_external\npath = /bin/sh\n\
             arguments = (\"-c\", \"cat > {out}/msg.$$\")\nallow_root_commands = true\n\n\
             [options]\nverbose = 1\nread_all = {delete}\ndelete = {delete}\n\
             received = false\ndelivered_to = false\n",
            port = server.addr.port(),
            out = out.display(),
        ),
    );
    run(tokio::process::Command::new("getmail")
        .env("HOME", dir)
        .arg("--getmaildir")
        .arg(dir)
        .arg("--rcfile")
        .arg(&rc))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn getmail6_keep_then_delete() {
    if !have("getmail") {
        return;
    }
    let server = Server::start(fast_config()).await;
    let delivered = messages();
    for m in &delivered[..2] {
        server.deliver(server.alice, m);
    }
    let inbox = server.inbox(server.alice);
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();

    // Keep mode: getmail remembers UIDLs and fetches only new mail.
    check(&getmail(&server, dir.path(), out.path(), false).await, "getmail keep");
    assert_retrieved(&files_in(out.path()), &delivered[..2]);
    server.deliver(server.alice, &delivered[2]);
    check(
        &getmail(&server, dir.path(), out.path(), false).await,
        "getmail keep again",
    );
    assert_retrieved(&files_in(out.path()), &delivered);
    assert_eq!(server.store.messages(inbox).unwrap().len(), 3);

    // Delete after download (read_all so it fetches everything again).
    let modseq = server.store.mailbox_by_id(inbox).unwrap().highest_modseq;
    let out2 = tempfile::tempdir().unwrap();
    check(&getmail(&server, dir.path(), out2.path(), true).await, "getmail delete");
    assert_retrieved(&files_in(out2.path()), &delivered);
    assert!(server.store.messages(inbox).unwrap().is_empty());
    assert_eq!(server.store.changes_since(inbox, modseq).unwrap().expunged.len(), 3);
    server.stop().await;
}
