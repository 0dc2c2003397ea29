//! Byte-exact transcripts of every state and command over a loopback socket.
mod common;

use std::time::Duration;

use common::*;
use mailroom_net::listener::TlsMode;
use mailroom_pop3::Pop3Config;
use mailroom_store::SEEN;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;

const GREETING: &str = "+OK mail.example.test Mailroom POP3 server ready\r\n";

fn capa(stls: bool) -> String {
    let mut s = String::from(
        "+OK Capability list follows\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nEXPIRE NEVER\r\nUSER\r\nSASL PLAIN LOGIN\r\n",
    );
    if stls {
        s.push_str("STLS\r\n");
    }
    s.push_str(&format!(
        "IMPLEMENTATION Mailroom-{}\r\n.\r\n",
        env!("CARGO_PKG_VERSION")
    ));
    s
}

fn uid_str(server: &Server, account: i64, uid: u32) -> String {
    let mb = server.store.mailbox_get(account, "INBOX").unwrap().unwrap();
    format!("{:08x}{:08x}", mb.uidvalidity, uid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_state() {
    let server = Server::start(fast_config()).await;
    let mut c = server.connect().await;
    c.expect(GREETING).await;
    c.exchange("CAPA\r\n", &capa(true)).await;
    // Transaction commands are refused before login.
    for cmd in ["STAT", "LIST", "RETR 1", "DELE 1", "NOOP", "RSET", "TOP 1 1", "UIDL"] {
        c.exchange(&format!("{cmd}\r\n"), "-ERR Not logged in\r\n").await;
    }
    c.exchange("PASS x\r\n", "-ERR Send USER first\r\n").await;
    c.exchange(
        "APOP alice 0123456789abcdef\r\n",
        "-ERR APOP is not supported; use USER/PASS or AUTH\r\n",
    )
    .await;
    c.exchange("AUTH\r\n", "+OK Supported mechanisms follow\r\nPLAIN\r\nLOGIN\r\n.\r\n")
        .await;
    c.exchange("AUTH CRAM-MD5\r\n", "-ERR Unsupported authentication mechanism\r\n")
        .await;
    c.exchange("QUIT\r\n", "+OK Mailroom POP3 server signing off\r\n").await;
    assert!(c.closed().await.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_commands() {
    let server = Server::start(fast_config()).await;
    let u1 = server.deliver(server.alice, MSG1.as_bytes());
    let u2 = server.deliver(server.alice, MSG2.as_bytes());
    let (s1, s2) = (MSG1.len(), MSG2.len());
    let total = s1 + s2;
    let mut c = server.connect().await;
    c.expect(GREETING).await;
    c.exchange(&format!("USER {ALICE}\r\n"), "+OK Send PASS\r\n").await;
    c.exchange(
        &format!("PASS {ALICE_PW}\r\n"),
        &format!("+OK Logged in, maildrop has 2 messages ({total} octets)\r\n"),
    )
    .await;
    c.exchange("CAPA\r\n", &capa(false)).await;
    c.exchange("STAT\r\n", &format!("+OK 2 {total}\r\n")).await;
    c.exchange(
        "LIST\r\n",
        &format!("+OK 2 messages ({total} octets)\r\n1 {s1}\r\n2 {s2}\r\n.\r\n"),
    )
    .await;
    c.exchange("list 2\r\n", &format!("+OK 2 {s2}\r\n")).await;
    c.exchange("LIST 3\r\n", "-ERR No such message 3\r\n").await;
    c.exchange("LIST 0\r\n", "-ERR No such message 0\r\n").await;
    let (id1, id2) = (uid_str(&server, server.alice, u1), uid_str(&server, server.alice, u2));
    c.exchange(
        "UIDL\r\n",
        &format!("+OK Unique-ID listing follows\r\n1 {id1}\r\n2 {id2}\r\n.\r\n"),
    )
    .await;
    c.exchange("UIDL 2\r\n", &format!("+OK 2 {id2}\r\n")).await;
    // TOP: header, blank line, n body lines, with the leading dot stuffed.
    let header = MSG1.split("\r\n\r\n").next().unwrap();
    c.exchange(
        "TOP 1 0\r\n",
        &format!("+OK Top of message follows\r\n{header}\r\n\r\n.\r\n"),
    )
    .await;
    c.exchange(
        "TOP 1 2\r\n",
        &format!("+OK Top of message follows\r\n{header}\r\n\r\nHello Alice.\r\n..leading dot\r\n.\r\n"),
    )
    .await;
    let stuffed = MSG1.replace("\r\n.leading", "\r\n..leading");
    c.exchange("RETR 1\r\n", &format!("+OK {s1} octets\r\n{stuffed}.\r\n"))
        .await;
    c.exchange("DELE 1\r\n", "+OK Message 1 deleted\r\n").await;
    c.exchange("DELE 1\r\n", "-ERR Message 1 already deleted\r\n").await;
    c.exchange("RETR 1\r\n", "-ERR Message 1 already deleted\r\n").await;
    c.exchange("LIST\r\n", &format!("+OK 1 message ({s2} octets)\r\n2 {s2}\r\n.\r\n"))
        .await;
    c.exchange(
        "UIDL\r\n",
        &format!("+OK Unique-ID listing follows\r\n2 {id2}\r\n.\r\n"),
    )
    .await;
    c.exchange("STAT\r\n", &format!("+OK 1 {s2}\r\n")).await;
    c.exchange("RSET\r\n", &format!("+OK Maildrop has 2 messages ({total} octets)\r\n"))
        .await;
    c.exchange("NOOP\r\n", "+OK\r\n").await;
    c.exchange("USER x\r\n", "-ERR Already logged in\r\n").await;
    c.exchange("STLS\r\n", "-ERR Already logged in\r\n").await;
    c.exchange("QUIT\r\n", "+OK Mailroom POP3 server signing off (2 messages left)\r\n")
        .await;
    assert!(c.closed().await.is_empty());
    // RSET kept both; the retrieved one reads as seen in IMAP.
    assert_eq!(server.uids(server.alice), vec![u1, u2]);
    let inbox = server.inbox(server.alice);
    assert!(server.store.message(inbox, u1).unwrap().unwrap().flags.contains(SEEN));
    assert!(!server.store.message(inbox, u2).unwrap().unwrap().flags.contains(SEEN));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dele_quit_expunges_and_imap_sees_it() {
    let server = Server::start(fast_config()).await;
    let u1 = server.deliver(server.alice, MSG1.as_bytes());
    let u2 = server.deliver(server.alice, MSG2.as_bytes());
    let inbox = server.inbox(server.alice);
    let before = server.store.mailbox_by_id(inbox).unwrap().highest_modseq;
    let mut c = server.login(ALICE, ALICE_PW).await;
    c.exchange("DELE 1\r\n", "+OK Message 1 deleted\r\n").await;
    c.exchange("QUIT\r\n", "+OK Mailroom POP3 server signing off (1 message left)\r\n")
        .await;
    assert!(c.closed().await.is_empty());
    // Durable before +OK: the store already shows the expunge, and an IMAP
    // session catching up through the change log sees it.
    assert_eq!(server.uids(server.alice), vec![u2]);
    let changes = server.store.changes_since(inbox, before).unwrap();
    assert_eq!(changes.expunged, vec![u1]);
    // Deleting the rest leaves the maildrop empty.
    let mut c = server.login(ALICE, ALICE_PW).await;
    c.exchange("DELE 1\r\n", "+OK Message 1 deleted\r\n").await;
    c.exchange("QUIT\r\n", "+OK Mailroom POP3 server signing off (maildrop empty)\r\n")
        .await;
    c.closed().await;
    assert!(server.uids(server.alice).is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connection_deletes_nothing() {
    let server = Server::start(fast_config()).await;
    let u1 = server.deliver(server.alice, MSG1.as_bytes());
    let u2 = server.deliver(server.alice, MSG2.as_bytes());
    let mut c = server.login(ALICE, ALICE_PW).await;
    c.exchange("DELE 1\r\n", "+OK Message 1 deleted\r\n").await;
    c.exchange("DELE 2\r\n", "+OK Message 2 deleted\r\n").await;
    drop(c);
    // Once the server noticed, the lock is free again and nothing is gone.
    let mut c = loop {
        let mut c = server.connect().await;
        c.line().await;
        c.send(&format!("USER {ALICE}\r\nPASS {ALICE_PW}\r\n")).await;
        c.line().await;
        let reply = c.line().await;
        if reply.starts_with("+OK Logged in, maildrop has 2 messages") {
            break c;
        }
        assert!(reply.starts_with("-ERR [IN-USE]"), "{reply}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    c.exchange("QUIT\r\n", "+OK Mailroom POP3 server signing off (2 messages left)\r\n")
        .await;
    assert_eq!(server.uids(server.alice), vec![u1, u2]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_limited() {
    let server = Server::start(fast_config()).await;
    let mut c = server.connect().await;
    c.expect(GREETING).await;
    for _ in 0..2 {
        c.exchange(&format!("USER {ALICE}\r\n"), "+OK Send PASS\r\n").await;
        c.exchange("PASS wrong\r\n", "-ERR [AUTH] Authentication failed\r\n")
            .await;
    }
    // Unknown users look exactly like wrong passwords.
    c.exchange("USER nobody@example.test\r\n", "+OK Send PASS\r\n").await;
    c.exchange(
        "PASS wrong\r\n",
        "-ERR [AUTH] Authentication failed\r\n-ERR [AUTH] Too many failed logins, closing connection\r\n",
    )
    .await;
    assert!(c.closed().await.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_plain_and_login() {
    let server = Server::start(fast_config()).await;
    server.deliver(server.alice, MSG1.as_bytes());
    let ok = format!("+OK Logged in, maildrop has 1 message ({} octets)\r\n", MSG1.len());
    let plain = mailroom_net::sasl::encode_base64(format!("\0{ALICE}\0{ALICE_PW}").as_bytes());
    let bye = "+OK Mailroom POP3 server signing off (1 message left)\r\n";

    // PLAIN with an initial response (RFC 5034 §4).
    let mut c = server.connect().await;
    c.expect(GREETING).await;
    c.exchange(&format!("AUTH PLAIN {plain}\r\n"), &ok).await;
    c.exchange("QUIT\r\n", bye).await;
    c.closed().await;

    // PLAIN with an empty challenge first.
    let mut c = server.connect().await;
    c.expect(GREETING).await;
    c.exchange("AUTH plain\r\n", "+ \r\n").await;
    c.exchange(&format!("{plain}\r\n"), &ok).await;
    c.exchange("QUIT\r\n", bye).await;
    c.closed().await;

    // LOGIN, then a cancelled exchange and a malformed one.
    let mut c = server.connect().await;
    c.expect(GREETING).await;
    c.exchange("AUTH LOGIN\r\n", "+ VXNlcm5hbWU6\r\n").await;
    c.exchange("*\r\n", "-ERR Authentication cancelled\r\n").await;
    c.exchange("AUTH PLAIN\r\n", "+ \r\n").await;
    c.exchange(
        "!!!\r\n",
        "-ERR [AUTH] Authentication failed: invalid base64 in response\r\n",
    )
    .await;
    c.exchange("AUTH LOGIN\r\n", "+ VXNlcm5hbWU6\r\n").await;
    let user = mailroom_net::sasl::encode_base64(ALICE.as_bytes());
    c.exchange(&format!("{user}\r\n"), "+ UGFzc3dvcmQ6\r\n").await;
    let pw = mailroom_net::sasl::encode_base64(ALICE_PW.as_bytes());
    c.exchange(&format!("{pw}\r\n"), &ok).await;
    c.exchange("QUIT\r\n", bye).await;
    c.closed().await;

    // A wrong password over SASL is an [AUTH] failure.
    let mut c = server.connect().await;
    c.expect(GREETING).await;
    let bad = mailroom_net::sasl::encode_base64(format!("\0{ALICE}\0nope").as_bytes());
    c.exchange(
        &format!("AUTH PLAIN {bad}\r\n"),
        "-ERR [AUTH] Authentication failed\r\n",
    )
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_session_gets_in_use() {
    let server = Server::start(fast_config()).await;
    server.deliver(server.alice, MSG1.as_bytes());
    let mut first = server.login(ALICE, ALICE_PW).await;
    let mut second = server.connect().await;
    second.expect(GREETING).await;
    second.exchange(&format!("USER {ALICE}\r\n"), "+OK Send PASS\r\n").await;
    second
        .exchange(
            &format!("PASS {ALICE_PW}\r\n"),
            "-ERR [IN-USE] Maildrop is locked by another POP3 session\r\n",
        )
        .await;
    // Still in AUTHORIZATION; another account is unaffected.
    second.exchange("STAT\r\n", "-ERR Not logged in\r\n").await;
    let mut bob = server.login(BOB, BOB_PW).await;
    bob.exchange("QUIT\r\n", "+OK Mailroom POP3 server signing off (maildrop empty)\r\n")
        .await;
    first
        .exchange("QUIT\r\n", "+OK Mailroom POP3 server signing off (1 message left)\r\n")
        .await;
    first.closed().await;
    // The lock is released with the first session's QUIT.
    second.exchange(&format!("USER {ALICE}\r\n"), "+OK Send PASS\r\n").await;
    let reply = {
        second.send(&format!("PASS {ALICE_PW}\r\n")).await;
        second.line().await
    };
    assert!(reply.starts_with("+OK Logged in"), "{reply}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_expunge_during_session() {
    let server = Server::start(fast_config()).await;
    let u1 = server.deliver(server.alice, MSG1.as_bytes());
    let u2 = server.deliver(server.alice, MSG2.as_bytes());
    let (s1, s2) = (MSG1.len(), MSG2.len());
    let mut c = server.login(ALICE, ALICE_PW).await;
    // Another session (IMAP) expunges message 1, and new mail arrives.
    let inbox = server.inbox(server.alice);
    server.store.expunge(inbox, &[u1]).unwrap();
    server.deliver(server.alice, b"Subject: late\r\n\r\nlate\r\n");
    // The listing is the one from login.
    c.exchange(
        "LIST\r\n",
        &format!("+OK 2 messages ({} octets)\r\n1 {s1}\r\n2 {s2}\r\n.\r\n", s1 + s2),
    )
    .await;
    c.exchange("RETR 1\r\n", "-ERR Message 1 was removed by another session\r\n")
        .await;
    c.exchange("TOP 1 0\r\n", "-ERR Message 1 was removed by another session\r\n")
        .await;
    c.exchange("RETR 2\r\n", &format!("+OK {s2} octets\r\n{MSG2}.\r\n"))
        .await;
    c.exchange("DELE 1\r\n", "+OK Message 1 deleted\r\n").await;
    c.exchange("DELE 2\r\n", "+OK Message 2 deleted\r\n").await;
    c.exchange("QUIT\r\n", "+OK Mailroom POP3 server signing off (maildrop empty)\r\n")
        .await;
    c.closed().await;
    let left = server.uids(server.alice);
    assert_eq!(left.len(), 1);
    assert!(!left.contains(&u2));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bare_lf_sizes_match_bytes_sent() {
    let server = Server::start(fast_config()).await;
    let raw = b"Subject: lf\n\nline\n.dot\n\nlast without newline";
    server.deliver(server.alice, raw);
    let expected = b"Subject: lf\r\n\r\nline\r\n.dot\r\n\r\nlast without newline\r\n";
    for _ in 0..2 {
        // The second session uses the remembered size.
        let mut c = server.login(ALICE, ALICE_PW).await;
        c.exchange("LIST 1\r\n", &format!("+OK 1 {}\r\n", expected.len())).await;
        c.exchange("RETR 1\r\n", &format!("+OK {} octets\r\n", expected.len()))
            .await;
        let body = unstuff(&c.multiline().await);
        assert_eq!(body, expected);
        c.exchange("QUIT\r\n", "+OK Mailroom POP3 server signing off (1 message left)\r\n")
            .await;
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_message_streams_intact() {
    let server = Server::start(fast_config()).await;
    let mut raw = b"Subject: big\n\n".to_vec();
    let mut expected = b"Subject: big\r\n\r\n".to_vec();
    for i in 0..60_000 {
        let line = format!(
            "{}line {i} of a large message, with some padding text\n",
            if i % 7 == 0 { "." } else { "" }
        );
        raw.extend_from_slice(line.as_bytes());
        expected.extend_from_slice(line.trim_end_matches('\n').as_bytes());
        expected.extend_from_slice(b"\r\n");
    }
    server.deliver(server.alice, &raw);
    let mut c = server.login(ALICE, ALICE_PW).await;
    c.exchange("RETR 1\r\n", &format!("+OK {} octets\r\n", expected.len()))
        .await;
    let body = unstuff(&c.multiline().await);
    assert!(body == expected, "large message differs");
    c.exchange("TOP 1 3\r\n", "+OK Top of message follows\r\n").await;
    assert_eq!(
        unstuff(&c.multiline().await),
        b"Subject: big\r\n\r\n.line 0 of a large message, with some padding text\r\nline 1 of a large message, with some padding text\r\nline 2 of a large message, with some padding text\r\n"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uidl_stable_across_sessions_and_restarts() {
    let server = Server::start(fast_config()).await;
    server.deliver(server.alice, MSG1.as_bytes());
    server.deliver(server.alice, MSG2.as_bytes());
    let uidl = |mut c: Client<TcpStream>| async move {
        c.send("UIDL\r\n").await;
        let listing = c.multiline().await;
        c.exchange("QUIT\r\n", "+OK Mailroom POP3 server signing off (2 messages left)\r\n")
            .await;
        listing
    };
    let first = uidl(server.login(ALICE, ALICE_PW).await).await;
    let again = uidl(server.login(ALICE, ALICE_PW).await).await;
    assert_eq!(first, again);
    let (alice, bob) = (server.alice, server.bob);
    let (dir, store) = server.stop().await;
    drop(store);
    let store = mailroom_store::Store::open(dir.path()).unwrap();
    let server = Server::start_on(dir, store, alice, bob, TlsMode::Plain, fast_config()).await;
    let after_restart = uidl(server.login(ALICE, ALICE_PW).await).await;
    assert_eq!(first, after_restart);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn line_limit_and_bad_command_cap() {
    let server = Server::start(Pop3Config {
        max_bad_commands: 2,
        ..fast_config()
    })
    .await;
    let mut c = server.connect().await;
    c.expect(GREETING).await;
    // 255 octets with CRLF is accepted (RFC 2449 §4); 256 is not.
    let name = "a".repeat(255 - "USER \r\n".len());
    c.exchange(&format!("USER {name}\r\n"), "+OK Send PASS\r\n").await;
    c.exchange(&format!("USER {name}a\r\n"), "-ERR Line too long\r\n").await;
    c.exchange("FOO\r\n", "-ERR Unknown command\r\n").await;
    c.exchange("BAR\r\n", "-ERR Too many bad commands, closing connection\r\n")
        .await;
    assert!(c.closed().await.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preauth_timeout() {
    let server = Server::start(Pop3Config {
        auth_timeout_secs: 1,
        ..fast_config()
    })
    .await;
    let mut c = server.connect().await;
    c.expect(GREETING).await;
    assert_eq!(c.closed().await, b"-ERR [SYS/TEMP] Disconnected for inactivity\r\n");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_timeout_deletes_nothing() {
    let server = Server::start(Pop3Config {
        idle_timeout_secs: 1,
        ..fast_config()
    })
    .await;
    let u1 = server.deliver(server.alice, MSG1.as_bytes());
    let mut c = server.login(ALICE, ALICE_PW).await;
    c.exchange("DELE 1\r\n", "+OK Message 1 deleted\r\n").await;
    // RFC 1939 §3: autologout closes without UPDATE and without a reply.
    assert!(c.closed().await.is_empty());
    assert_eq!(server.uids(server.alice), vec![u1]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_commands() {
    let server = Server::start(fast_config()).await;
    server.deliver(server.alice, MSG2.as_bytes());
    let s2 = MSG2.len();
    let mut c = server.connect().await;
    c.expect(GREETING).await;
    c.send(&format!(
        "USER {ALICE}\r\nPASS {ALICE_PW}\r\nSTAT\r\nLIST\r\nRETR 1\r\nDELE 1\r\nNOOP\r\nQUIT\r\n"
    ))
    .await;
    c.expect(&format!(
        "+OK Send PASS\r\n+OK Logged in, maildrop has 1 message ({s2} octets)\r\n+OK 1 {s2}\r\n\
         +OK 1 message ({s2} octets)\r\n1 {s2}\r\n.\r\n+OK {s2} octets\r\n{MSG2}.\r\n\
         +OK Message 1 deleted\r\n+OK\r\n+OK Mailroom POP3 server signing off (maildrop empty)\r\n"
    ))
    .await;
    assert!(c.closed().await.is_empty());
    assert!(server.uids(server.alice).is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_maildrop() {
    let server = Server::start(fast_config()).await;
    let mut c = server.login(BOB, BOB_PW).await;
    c.exchange("STAT\r\n", "+OK 0 0\r\n").await;
    c.exchange("LIST\r\n", "+OK 0 messages (0 octets)\r\n.\r\n").await;
    c.exchange("UIDL\r\n", "+OK Unique-ID listing follows\r\n.\r\n").await;
    c.exchange("RETR 1\r\n", "-ERR No such message 1\r\n").await;
    c.exchange("QUIT\r\n", "+OK Mailroom POP3 server signing off (maildrop empty)\r\n")
        .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_sessions_without_deleting() {
    let server = Server::start(fast_config()).await;
    let u1 = server.deliver(server.alice, MSG1.as_bytes());
    let mut c = server.login(ALICE, ALICE_PW).await;
    c.exchange("DELE 1\r\n", "+OK Message 1 deleted\r\n").await;
    let store = server.store.clone();
    let inbox = server.inbox(server.alice);
    server.stop().await;
    assert_eq!(c.closed().await, b"-ERR [SYS/TEMP] Server shutting down\r\n");
    assert_eq!(
        store.messages(inbox).unwrap().iter().map(|m| m.uid).collect::<Vec<_>>(),
        vec![u1]
    );
}

async fn tls_client(server: &Server, tcp: TcpStream) -> Client<tokio_rustls::client::TlsStream<TcpStream>> {
    let (cert, _) = mailroom_net::tls::self_signed_paths(server.dir.path());
    let cfg = mailroom_net::tls::client_config_trusting(&cert).unwrap();
    let tls = tokio_rustls::TlsConnector::from(cfg)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    Client::new(tls)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stls_upgrade() {
    let server = Server::start(fast_config()).await;
    server.deliver(server.alice, MSG1.as_bytes());
    let mut c = server.connect().await;
    c.expect(GREETING).await;
    c.exchange("STLS\r\n", "+OK Begin TLS negotiation\r\n").await;
    let tcp = c.io.into_inner();
    let mut c = tls_client(&server, tcp).await;
    // No greeting after STLS; STLS is no longer offered.
    c.exchange("CAPA\r\n", &capa(false)).await;
    c.exchange("STLS\r\n", "-ERR TLS already active or not available here\r\n")
        .await;
    c.exchange(&format!("USER {ALICE}\r\n"), "+OK Send PASS\r\n").await;
    c.exchange(
        &format!("PASS {ALICE_PW}\r\n"),
        &format!("+OK Logged in, maildrop has 1 message ({} octets)\r\n", MSG1.len()),
    )
    .await;
    c.exchange("QUIT\r\n", "+OK Mailroom POP3 server signing off (1 message left)\r\n")
        .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stls_refuses_pipelined_plaintext() {
    let server = Server::start(fast_config()).await;
    let mut c = server.connect().await;
    c.expect(GREETING).await;
    c.send(&format!("STLS\r\nUSER {ALICE}\r\n")).await;
    assert_eq!(c.closed().await, b"+OK Begin TLS negotiation\r\n");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop3s_implicit_tls() {
    let server = Server::start_mode(TlsMode::Implicit, fast_config()).await;
    server.deliver(server.alice, MSG2.as_bytes());
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let mut c = tls_client(&server, tcp).await;
    c.expect(GREETING).await;
    c.exchange("CAPA\r\n", &capa(false)).await;
    c.exchange(&format!("USER {ALICE}\r\n"), "+OK Send PASS\r\n").await;
    c.exchange(
        &format!("PASS {ALICE_PW}\r\n"),
        &format!("+OK Logged in, maildrop has 1 message ({} octets)\r\n", MSG2.len()),
    )
    .await;
    c.exchange("RETR 1\r\n", &format!("+OK {} octets\r\n{MSG2}.\r\n", MSG2.len()))
        .await;
    c.exchange("QUIT\r\n", "+OK Mailroom POP3 server signing off (1 message left)\r\n")
        .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_login_needs_tls_for_remote_peers() {
    let Some(ip) = non_loopback_ip() else {
        eprintln!("NOTICE: no non-loopback address; skipping the remote-peer plaintext test");
        return;
    };
    let server = Server::start_at(ip, TlsMode::Plain, fast_config()).await;
    let mut c = server.connect().await;
    c.expect(GREETING).await;
    let without_auth = capa(true).replace("USER\r\nSASL PLAIN LOGIN\r\n", "");
    c.exchange("CAPA\r\n", &without_auth).await;
    let refused = "-ERR [AUTH] Plaintext authentication disallowed without TLS; use STLS\r\n";
    c.exchange(&format!("USER {ALICE}\r\n"), refused).await;
    c.exchange("AUTH PLAIN\r\n", refused).await;
    c.exchange("AUTH\r\n", "+OK Supported mechanisms follow\r\n.\r\n").await;
    c.exchange("STLS\r\n", "+OK Begin TLS negotiation\r\n").await;
    let mut c = tls_client(&server, c.io.into_inner()).await;
    c.exchange("CAPA\r\n", &capa(false)).await;
    c.exchange(&format!("USER {ALICE}\r\n"), "+OK Send PASS\r\n").await;
    c.exchange(
        &format!("PASS {ALICE_PW}\r\n"),
        "+OK Logged in, maildrop has 0 messages (0 octets)\r\n",
    )
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_login_throttling() {
    let server = Server::start(Pop3Config {
        max_auth_failures: 100,
        ..fast_config()
    })
    .await;
    let mut c = server.connect().await;
    c.expect(GREETING).await;
    // The shared authenticator allows 10 failures per address by default.
    for _ in 0..10 {
        c.exchange(&format!("USER {ALICE}\r\n"), "+OK Send PASS\r\n").await;
        c.exchange("PASS wrong\r\n", "-ERR [AUTH] Authentication failed\r\n")
            .await;
    }
    // Then even the right password is refused, from any connection.
    c.exchange(&format!("USER {ALICE}\r\n"), "+OK Send PASS\r\n").await;
    c.exchange(
        &format!("PASS {ALICE_PW}\r\n"),
        "-ERR [SYS/TEMP] Too many failed logins, try again later\r\n",
    )
    .await;
    assert!(c.closed().await.is_empty());
    let mut c = server.connect().await;
    c.expect(GREETING).await;
    let plain = mailroom_net::sasl::encode_base64(format!("\0{ALICE}\0{ALICE_PW}").as_bytes());
    c.exchange(
        &format!("AUTH PLAIN {plain}\r\n"),
        "-ERR [SYS/TEMP] Too many failed logins, try again later\r\n",
    )
    .await;
    server.stop().await;
}
