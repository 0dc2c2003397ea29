//! End-to-end with real clients: swaks (Debian package `swaks`) and
//! Python's smtplib. Each test skips, with a notice, if its tool is absent.
mod common;

use std::process::Stdio;

use common::{Opts, Server};

fn have(tool: &str) -> bool {
    let found = std::process::Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        eprintln!("SKIPPED: {tool} not installed");
    }
    found
}

async fn run(cmd: &str, args: &[String]) -> (bool, String) {
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        tokio::process::Command::new(cmd)
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("client timed out")
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn swaks_starttls_auth_plain_pipelining_8bit() {
    if !have("swaks") {
        return;
    }
    let s = Server::start(Opts::default()).await;
    let port = s.submission.port().to_string();
    let (ok, out) = run(
        "swaks",
        &args(&[
            "--server",
            "127.0.0.1",
            "--port",
            &port,
            "--tls",
            "--auth",
            "PLAIN",
            "--auth-user",
            "alice@example.test",
            "--auth-password",
            "alice-pw",
            "--from",
            "alice@example.test",
            "--to",
            "bob@example.test",
            "--pipeline",
            "--h-Subject",
            "swaks plain",
            "--body",
            "Grüße aus Köln",
        ]),
    )
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("PIPELINING"), "{out}");
    let m = String::from_utf8(s.inbox("bob@example.test").await.remove(0)).unwrap();
    assert!(m.contains("Subject: swaks plain"), "{m}");
    assert!(m.contains("Grüße aus Köln"), "{m}");
    assert!(m.contains("with ESMTPSA"), "{m}");
    s.stop().await;
}

#[tokio::test]
async fn swaks_implicit_tls_auth_login_5mb_attachment() {
    if !have("swaks") {
        return;
    }
    let s = Server::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.bin");
    let mut data = Vec::with_capacity(5 * 1024 * 1024);
    let mut x: u32 = 12345;
    while data.len() < 5 * 1024 * 1024 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        data.push((x >> 16) as u8);
    }
    std::fs::write(&file, &data).unwrap();
    let port = s.submissions.port().to_string();
    let attach = format!("@{}", file.display());
    let (ok, out) = run(
        "swaks",
        &args(&[
            "--server",
            "127.0.0.1",
            "--port",
            &port,
            "--tlsc",
            "--auth",
            "LOGIN",
            "--auth-user",
            "alice@example.test",
            "--auth-password",
            "alice-pw",
            "--from",
            "alice@example.test",
            "--to",
            "bob@example.test",
            "--attach",
            &attach,
            "--suppress-data",
        ]),
    )
    .await;
    assert!(ok, "{out}");
    let inbox = s.inbox("bob@example.test").await;
    assert_eq!(inbox.len(), 1);
    assert!(inbox[0].len() > 6_000_000, "{}", inbox[0].len());
    // The attachment survives intact (swaks base64-encodes it).
    let parsed = mail_parser::MessageParser::default().parse(&inbox[0][..]).unwrap();
    let found = parsed.attachments().any(|a| a.contents() == &data[..]);
    assert!(found, "attachment not intact");
    s.stop().await;
}

#[tokio::test]
async fn swaks_mx_accepts_local_refuses_relay() {
    if !have("swaks") {
        return;
    }
    let s = Server::start(Opts::default()).await;
    let port = s.mx.port().to_string();
    let (ok, out) = run(
        "swaks",
        &args(&[
            "--server",
            "127.0.0.1",
            "--port",
            &port,
            "--from",
            "x@remote.test",
            "--to",
            "bob@example.test",
        ]),
    )
    .await;
    assert!(ok, "{out}");
    let (ok, out) = run(
        "swaks",
        &args(&[
            "--server",
            "127.0.0.1",
            "--port",
            &port,
            "--from",
            "x@remote.test",
            "--to",
            "victim@elsewhere.test",
        ]),
    )
    .await;
    assert!(!ok, "{out}");
    assert!(out.contains("554 5.7.1"), "{out}");
    assert_eq!(s.inbox("bob@example.test").await.len(), 1);
    s.stop().await;
}

const PY_SUBMIT: &str = r#"
import smtplib, ssl, sys
port, implicit = int(sys.argv[1]), sys.argv[2] == "1"
ctx = ssl._create_unverified_context()
body = ("From: alice@example.test\r\nTo: bob@example.test\r\nSubject: smtplib\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "H\u00e9llo from Python\r\n.leading dot\r\n").encode("utf-8")
if implicit:
    s = smtplib.SMTP_SSL("127.0.0.1", port, context=ctx)
else:
    s = smtplib.SMTP("127.0.0.1", port)
    s.starttls(context=ctx)
s.login("alice@example.test", "alice-pw")
refused = s.sendmail("alice@example.test", ["bob@example.test"], body, mail_options=["BODY=8BITMIME"])
assert not refused, refused
try:
    s.sendmail("alice@example.test", ["nobody@example.test"], body)
    raise SystemExit("unknown user accepted")
except smtplib.SMTPRecipientsRefused as e:
    assert e.recipients["nobody@example.test"][0] == 550, e.recipients
s.quit()
print("OK")
"#;

#[tokio::test]
async fn python_smtplib_starttls_and_implicit_tls() {
    if !have("python3") {
        return;
    }
    let s = Server::start(Opts::default()).await;
    for (port, implicit) in [(s.submission.port(), "0"), (s.submissions.port(), "1")] {
        let (ok, out) = run("python3", &args(&["-c", PY_SUBMIT, &port.to_string(), implicit])).await;
        assert!(ok && out.contains("OK"), "{out}");
    }
    let inbox = s.inbox("bob@example.test").await;
    assert_eq!(inbox.len(), 2);
    for m in inbox {
        let m = String::from_utf8(m).unwrap();
        assert!(m.contains("Héllo from Python\r\n.leading dot\r\n"), "{m}");
        assert!(m.contains("Subject: smtplib"));
    }
    s.stop().await;
}
