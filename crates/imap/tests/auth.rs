//! Greeting, CAPABILITY, LOGIN, AUTHENTICATE, ENABLE, ID, NOOP, LOGOUT.
mod common;

use base64::Engine;
use common::*;

#[tokio::test]
async fn greeting_capability_login_logout() {
    let srv = Server::start().await;
    let mut c = srv.client().await;
    assert!(
        c.greeting.starts_with("* OK [CAPABILITY IMAP4rev1 IMAP4rev2 "),
        "{}",
        c.greeting
    );
    // Loopback: a password may be sent in the clear.
    assert!(c.greeting.contains("AUTH=PLAIN"));
    assert!(c.greeting.contains("STARTTLS"));
    let r = c.cmd("a CAPABILITY").await;
    assert_eq!(r.len(), 2);
    assert!(r[0].starts_with("* CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE IDLE STARTTLS"));
    assert_eq!(r[1], "a OK CAPABILITY completed");
    let r = c.cmd("b SELECT INBOX").await;
    assert_eq!(r, vec!["b BAD Not authenticated"]);
    let r = c.cmd(&format!("c LOGIN {USER} wrong")).await;
    assert_eq!(r, vec!["c NO [AUTHENTICATIONFAILED] Authentication failed"]);
    let r = c.cmd(&format!("d LOGIN \"{USER}\" \"{PASS}\"")).await;
    assert!(r[0].starts_with("d OK [CAPABILITY IMAP4rev1 IMAP4rev2 "), "{r:?}");
    assert!(
        r[0].contains(" MOVE ") && r[0].contains("APPENDLIMIT=52428800"),
        "{r:?}"
    );
    assert!(r[0].ends_with("] Logged in"));
    let r = c.cmd("e LOGIN x y").await;
    assert_eq!(r, vec!["e BAD Already authenticated"]);
    let r = c.cmd("f NOOP").await;
    assert_eq!(r, vec!["f OK NOOP completed"]);
    let r = c.cmd("g LOGOUT").await;
    assert_eq!(r, vec!["* BYE Logging out", "g OK LOGOUT completed"]);
    assert_eq!(c.line().await, "");
    srv.stop().await;
}

#[tokio::test]
async fn authenticate_plain_with_and_without_initial_response() {
    let srv = Server::start().await;
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("\0{USER}\0{PASS}"));
    let mut c = srv.client().await;
    let r = c.cmd(&format!("a AUTHENTICATE PLAIN {b64}")).await;
    assert!(r[0].starts_with("a OK [CAPABILITY "), "{r:?}");

    let mut c = srv.client().await;
    c.send_line("a AUTHENTICATE PLAIN").await;
    assert_eq!(c.line().await, "+ \r\n");
    c.send_line(&b64).await;
    let r = c.until_tagged("a").await;
    assert!(r[0].starts_with("a OK [CAPABILITY "), "{r:?}");

    // Cancelled exchange.
    let mut c = srv.client().await;
    c.send_line("a AUTHENTICATE LOGIN").await;
    assert_eq!(c.line().await, "+ VXNlcm5hbWU6\r\n");
    c.send_line("*").await;
    assert_eq!(c.until_tagged("a").await, vec!["a BAD Authentication cancelled"]);
    // LOGIN mechanism.
    c.send_line("b AUTHENTICATE LOGIN").await;
    assert_eq!(c.line().await, "+ VXNlcm5hbWU6\r\n");
    c.send_line(&base64::engine::general_purpose::STANDARD.encode(USER))
        .await;
    assert_eq!(c.line().await, "+ UGFzc3dvcmQ6\r\n");
    c.send_line(&base64::engine::general_purpose::STANDARD.encode("nope"))
        .await;
    assert_eq!(
        c.until_tagged("b").await,
        vec!["b NO [AUTHENTICATIONFAILED] Authentication failed"]
    );
    let r = c.cmd("c AUTHENTICATE CRAM-MD5").await;
    assert_eq!(r, vec!["c NO [CANNOT] Unsupported authentication mechanism"]);
    srv.stop().await;
}

#[tokio::test]
async fn enable_id_and_bad_commands() {
    let srv = Server::start().await;
    let mut c = srv.login().await;
    let r = c.cmd("a ENABLE IMAP4rev2 FOO").await;
    assert_eq!(r, vec!["* ENABLED IMAP4rev2", "a OK ENABLE completed"]);
    let r = c.cmd("b ID NIL").await;
    assert_eq!(r, vec!["* ID (\"name\" \"Mailroom\")", "b OK ID completed"]);
    let r = c.cmd("c FROBNICATE").await;
    assert_eq!(r.len(), 1);
    assert!(r[0].starts_with("c BAD "), "{r:?}");
    let r = c.cmd("d FETCH 1 FLAGS").await;
    assert_eq!(r, vec!["d BAD No mailbox selected"]);
    srv.stop().await;
}

#[tokio::test]
async fn too_many_bad_commands_end_the_session() {
    let srv = Server::start_with(mailroom_imap::ImapConfig {
        max_bad_commands: 3,
        ..Default::default()
    })
    .await;
    let mut c = srv.client().await;
    for i in 0..3 {
        let r = c.cmd(&format!("x{i} BOGUS")).await;
        assert!(r[0].starts_with(&format!("x{i} BAD")), "{r:?}");
    }
    assert_eq!(c.line().await, "* BYE Too many invalid commands\r\n");
    assert_eq!(c.line().await, "");
    srv.stop().await;
}

#[tokio::test]
async fn preauth_timeout() {
    let srv = Server::start_with(mailroom_imap::ImapConfig {
        preauth_timeout_secs: 1,
        ..Default::default()
    })
    .await;
    let mut c = srv.client().await;
    assert_eq!(c.line().await, "* BYE Autologout; idle for too long\r\n");
    assert_eq!(c.line().await, "");
    srv.stop().await;
}

#[tokio::test]
async fn starttls_discards_pipelined_plaintext() {
    use rustls_pki_types::ServerName;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let srv = Server::start().await;
    let mut c = srv.client().await;
    // A command pipelined after STARTTLS must not be executed (CVE-2011-0411).
    c.send(b"a STARTTLS\r\nb NOOP\r\n").await;
    assert_eq!(c.line().await, "a OK Begin TLS negotiation now\r\n");
    let tcp = c.r.into_inner();
    let client_cfg =
        mailroom_net::tls::client_config_trusting(&mailroom_net::tls::self_signed_paths(srv.dir.path()).0).unwrap();
    let tls = tokio_rustls::TlsConnector::from(client_cfg)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let mut r = BufReader::new(tls);
    r.get_mut().write_all(b"c CAPABILITY\r\n").await.unwrap();
    let mut line = String::new();
    r.read_line(&mut line).await.unwrap();
    assert!(
        line.starts_with("* CAPABILITY ") && !line.contains("STARTTLS"),
        "{line}"
    );
    assert!(line.contains("AUTH=PLAIN"));
    line.clear();
    r.read_line(&mut line).await.unwrap();
    // No reply to `b`: it was discarded.
    assert_eq!(line, "c OK CAPABILITY completed\r\n");
    r.get_mut().write_all(b"d STARTTLS\r\n").await.unwrap();
    line.clear();
    r.read_line(&mut line).await.unwrap();
    assert_eq!(line, "d BAD TLS is already active\r\n");
    srv.stop().await;
}

/// Found by differential testing against Dovecot: a well-formed but
/// unusable SASL response (an empty PLAIN message) got BAD; RFC 9051
/// §6.2.2 keeps BAD for cancellation and invalid base64 only.
#[tokio::test]
async fn malformed_sasl_message_is_no_invalid_base64_is_bad() {
    let srv = Server::start().await;
    let mut c = srv.client().await;
    let r = c.cmd("a AUTHENTICATE PLAIN =").await;
    assert_eq!(
        r,
        vec!["a NO [AUTHENTICATIONFAILED] Authentication failed: malformed PLAIN response"]
    );
    c.send_line("b AUTHENTICATE PLAIN").await;
    assert_eq!(c.line().await, "+ \r\n");
    c.send_line("!!!notbase64").await;
    assert_eq!(c.until_tagged("b").await, vec!["b BAD Invalid base64 in SASL response"]);
    c.send_line("c AUTHENTICATE PLAIN").await;
    assert_eq!(c.line().await, "+ \r\n");
    // Valid base64 of "no-nuls-here": not a PLAIN message.
    c.send_line(&base64::engine::general_purpose::STANDARD.encode("no-nuls-here"))
        .await;
    let r = c.until_tagged("c").await;
    assert!(r[0].starts_with("c NO [AUTHENTICATIONFAILED] "), "{r:?}");
    assert_eq!(c.cmd("d NOOP").await, vec!["d OK NOOP completed"]);
    // Unpadded base64 is fine.
    c.send_line("e AUTHENTICATE PLAIN").await;
    assert_eq!(c.line().await, "+ \r\n");
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD.encode(format!("\0{USER}\0{PASS}"));
    c.send_line(&b64).await;
    let r = c.until_tagged("e").await;
    assert!(r[0].starts_with("e OK [CAPABILITY "), "{r:?}");
    srv.stop().await;
}
