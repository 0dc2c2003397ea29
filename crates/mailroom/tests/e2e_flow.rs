//! End to end through the real binary and real clients: mail submitted over
//! SMTP lands in the store and is read back over IMAP and POP3.
mod common;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;

fn instance() -> Instance {
    let mut i = Instance::new("example.test", "");
    i.add_user("alice@example.test", "alice-pw");
    i.add_user("bob@example.test", "bob-pw");
    i.start();
    i
}

const SEND: &str = r#"
import smtplib, ssl, sys
mode, port, cert, subject = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=cert)
msg = "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: %s\r\n\r\nHello Bob.\r\n" % subject
if mode == "starttls":
    s = smtplib.SMTP("localhost", port, timeout=30); s.starttls(context=ctx)
else:
    s = smtplib.SMTP_SSL("localhost", port, context=ctx, timeout=30)
s.login("alice@example.test", "alice-pw")
s.sendmail("alice@example.test", ["bob@example.test"], msg)
s.quit()
print("sent")
"#;

const IMAP_SUBJECTS: &str = r#"
import imaplib, ssl, sys
port, cert = int(sys.argv[1]), sys.argv[2]
m = imaplib.IMAP4("localhost", port)
m.starttls(ssl.create_default_context(cafile=cert))
m.login("bob@example.test", "bob-pw")
typ, data = m.select("INBOX")
typ, data = m.search(None, "ALL")
for num in data[0].split():
    typ, d = m.fetch(num, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    print(d[0][1].decode().strip())
m.logout()
"#;

#[test]
fn submission_over_starttls_and_implicit_tls_reaches_imap() {
    let i = instance();
    let cert = path_str(&i.cert());
    python(
        SEND,
        &["starttls", &i.ports.submission.to_string(), &cert, "via-starttls"],
    );
    python(
        SEND,
        &["implicit", &i.ports.submissions.to_string(), &cert, "via-implicit"],
    );
    let out = python(IMAP_SUBJECTS, &[&i.ports.imap.to_string(), &cert]);
    assert!(out.contains("Subject: via-starttls"), "{out}");
    assert!(out.contains("Subject: via-implicit"), "{out}");
    let stored = i.inbox("bob@example.test");
    assert_eq!(stored.len(), 2);
    let first = String::from_utf8_lossy(&stored[0]);
    assert!(first.starts_with("Return-Path: <alice@example.test>"), "{first}");
    assert!(first.contains("Received: "), "{first}");
}

const MX: &str = r#"
import smtplib, sys
port = int(sys.argv[1])
def rcpt(addr):
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    s.ehlo("client.example.org")
    s.mail("someone@example.org")
    code, _ = s.rcpt(addr)
    s.quit()
    return code
for a in sys.argv[2:]:
    print(a, rcpt(a))
"#;

#[test]
fn mx_accepts_local_mail_and_refuses_relay_and_unknown_users() {
    let i = instance();
    let out = python(
        MX,
        &[
            &i.ports.smtp.to_string(),
            "bob@example.test",
            "BOB@EXAMPLE.TEST",
            "nobody@example.test",
            "victim@outside.test",
            "victim%outside.test@example.test",
            "@example.test:victim@outside.test",
            "victim@[192.0.2.1]",
            "\"victim@outside.test\"@example.test",
        ],
    );
    let code = |a: &str| -> u16 {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{a} ")))
            .and_then(|c| c.trim().parse().ok())
            .unwrap_or_else(|| panic!("no reply for {a}: {out}"))
    };
    assert_eq!(code("bob@example.test"), 250);
    assert_eq!(code("BOB@EXAMPLE.TEST"), 250);
    assert_eq!(code("nobody@example.test"), 550);
    assert_eq!(code("victim@outside.test"), 554);
    for trick in [
        "victim%outside.test@example.test",
        "@example.test:victim@outside.test",
        "victim@[192.0.2.1]",
        "\"victim@outside.test\"@example.test",
    ] {
        assert!(code(trick) >= 500, "{trick} must not be relayed: {out}");
    }
}

fn read_until(r: &mut BufReader<TcpStream>, pred: impl Fn(&str) -> bool) -> String {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        let n = r.read_line(&mut line).unwrap();
        assert!(n > 0, "connection closed; got {all}");
        all.push_str(&line);
        if pred(&line) {
            return all;
        }
    }
}

fn smtp_send_plain(port: u16, from: &str, to: &str, body: &str) {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let reply = |r: &mut BufReader<TcpStream>| read_until(r, |l| l.len() >= 4 && &l[3..4] == " ");
    reply(&mut r);
    for cmd in [
        "EHLO client.example.org\r\n".to_string(),
        format!("MAIL FROM:<{from}>\r\n"),
        format!("RCPT TO:<{to}>\r\n"),
        "DATA\r\n".to_string(),
    ] {
        w.write_all(cmd.as_bytes()).unwrap();
        let rep = reply(&mut r);
        assert!(rep.starts_with('2') || rep.starts_with('3'), "{cmd:?} -> {rep}");
    }
    w.write_all(format!("{body}\r\n.\r\n").as_bytes()).unwrap();
    let rep = reply(&mut r);
    assert!(rep.starts_with("250"), "{rep}");
    w.write_all(b"QUIT\r\n").unwrap();
}

#[test]
fn idle_sees_an_smtp_delivery_within_a_second() {
    let i = instance();
    let s = TcpStream::connect(("127.0.0.1", i.ports.imap)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    read_until(&mut r, |l| l.starts_with("* OK"));
    w.write_all(b"a LOGIN bob@example.test bob-pw\r\n").unwrap();
    read_until(&mut r, |l| l.starts_with("a "));
    w.write_all(b"b SELECT INBOX\r\n").unwrap();
    let sel = read_until(&mut r, |l| l.starts_with("b "));
    assert!(sel.contains("* 0 EXISTS"), "{sel}");
    w.write_all(b"c IDLE\r\n").unwrap();
    read_until(&mut r, |l| l.starts_with("+"));
    let sent = Instant::now();
    smtp_send_plain(
        i.ports.smtp,
        "someone@example.org",
        "bob@example.test",
        "Subject: wake up\r\n\r\nhello",
    );
    read_until(&mut r, |l| l.starts_with("* 1 EXISTS"));
    let waited = sent.elapsed();
    assert!(waited < Duration::from_secs(1), "IDLE saw the message after {waited:?}");
    w.write_all(b"DONE\r\n").unwrap();
    read_until(&mut r, |l| l.starts_with("c OK"));
    w.write_all(b"d LOGOUT\r\n").unwrap();
    let mut rest = String::new();
    let _ = r.read_to_string(&mut rest);
}

const POP_THEN_IMAP: &str = r#"
import poplib, imaplib, sys
pop_port, imap_port = int(sys.argv[1]), int(sys.argv[2])
m = imaplib.IMAP4("127.0.0.1", imap_port)
m.login("bob@example.test", "bob-pw")
m.select("INBOX")
print("imap-before", m.search(None, "ALL")[1][0].decode().split())
p = poplib.POP3("127.0.0.1", pop_port)
p.user("bob@example.test"); p.pass_("bob-pw")
print("stat", p.stat()[0])
uidls = [x.decode().split()[1] for x in p.uidl()[1]]
resp, lines, octets = p.retr(1)
print("retr", b"\r\n".join(lines).decode().count("one"))
p.dele(1); p.rset()
p.quit()
p = poplib.POP3("127.0.0.1", pop_port)
p.user("bob@example.test"); p.pass_("bob-pw")
print("after-rset", p.stat()[0])
print("uidl-stable", [x.decode().split()[1] for x in p.uidl()[1]] == uidls)
p.dele(1)
p.quit()
m.noop()
print("imap-after", m.search(None, "ALL")[1][0].decode().split())
m.logout()
"#;

#[test]
fn pop3_deletion_is_seen_by_imap() {
    let i = instance();
    smtp_send_plain(
        i.ports.smtp,
        "x@example.org",
        "bob@example.test",
        "Subject: one\r\n\r\none",
    );
    smtp_send_plain(
        i.ports.smtp,
        "x@example.org",
        "bob@example.test",
        "Subject: two\r\n\r\ntwo",
    );
    let out = python(POP_THEN_IMAP, &[&i.ports.pop3.to_string(), &i.ports.imap.to_string()]);
    assert!(out.contains("imap-before ['1', '2']"), "{out}");
    assert!(out.contains("stat 2"), "{out}");
    assert!(out.contains("after-rset 2"), "DELE+RSET keeps: {out}");
    assert!(out.contains("uidl-stable True"), "{out}");
    assert!(
        out.contains("imap-after ['1']"),
        "DELE+QUIT removes, IMAP sees it: {out}"
    );
    assert_eq!(i.inbox("bob@example.test").len(), 1);
}

#[test]
fn sigterm_exits_zero_with_sessions_open() {
    let mut i = instance();
    let s = TcpStream::connect(("127.0.0.1", i.ports.imap)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    read_until(&mut r, |l| l.starts_with("* OK"));
    assert!(i.stop(), "exit 0 on SIGTERM; log:\n{}", i.log());
}
