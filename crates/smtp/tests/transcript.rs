//! Byte-transcript tests of the SMTP server: exact client bytes in, exact
//! server bytes out, over a real loopback socket.
mod common;

use common::{Client, Opts, Server};
use mailroom_smtp::SmtpConfig;

const EHLO_MX: &str = "250-mx.example.test Hello client.test\r\n\
250-PIPELINING\r\n\
250-SIZE 52428800\r\n\
250-8BITMIME\r\n\
250-SMTPUTF8\r\n\
250-ENHANCEDSTATUSCODES\r\n\
250-CHUNKING\r\n\
250-DSN\r\n\
250 STARTTLS\r\n";

#[tokio::test]
async fn mx_receive_transcript() {
    let s = Server::start(Opts::default()).await;
    let mut c = Client::connect(s.mx).await;
    assert_eq!(c.cmd("EHLO client.test").await, EHLO_MX);
    assert_eq!(
        c.cmd("MAIL FROM:<sender@remote.test> BODY=8BITMIME").await,
        "250 2.1.0 Sender OK\r\n"
    );
    assert_eq!(c.cmd("RCPT TO:<bob@example.test>").await, "250 2.1.5 Recipient OK\r\n");
    assert_eq!(
        c.cmd("RCPT TO:<nobody@example.test>").await,
        "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown\r\n"
    );
    assert_eq!(
        c.cmd("RCPT TO:<someone@elsewhere.test>").await,
        "554 5.7.1 <someone@elsewhere.test>: Relay access denied\r\n"
    );
    assert_eq!(c.cmd("DATA").await, "354 Start mail input; end with <CRLF>.<CRLF>\r\n");
    c.send(b"Subject: hi\r\n\r\n..dotted\r\nbody\r\n.\r\n").await;
    let r = c.reply().await;
    assert!(r.starts_with("250 2.0.0 Ok: queued as "), "{r}");
    assert_eq!(c.cmd("QUIT").await, "221 2.0.0 mx.example.test Bye\r\n");

    let inbox = s.inbox("bob@example.test").await;
    assert_eq!(inbox.len(), 1);
    let m = String::from_utf8(inbox[0].clone()).unwrap();
    assert!(m.starts_with("Return-Path: <sender@remote.test>\r\nReceived: from client.test ([127.0.0.1])\r\n\tby mx.example.test (Mailroom) with ESMTP\r\n"), "{m}");
    assert!(m.contains("\tfor <bob@example.test>;\r\n"), "{m}");
    assert!(m.ends_with("Subject: hi\r\n\r\n.dotted\r\nbody\r\n"), "{m}");
    // The MX does not add submission headers.
    assert!(!m.contains("Message-ID"));
    s.stop().await;
}

#[tokio::test]
async fn sequence_errors_and_misc_commands() {
    let s = Server::start(Opts::default()).await;
    let mut c = Client::connect(s.mx).await;
    assert_eq!(
        c.cmd("MAIL FROM:<a@b.test>").await,
        "503 5.5.1 Send EHLO or HELO first\r\n"
    );
    assert_eq!(c.cmd("HELO client.test").await, "250 mx.example.test\r\n");
    assert_eq!(
        c.cmd("MAIL FROM:<a@b.test> SIZE=10").await,
        "555 5.5.4 Parameters need EHLO\r\n"
    );
    assert_eq!(
        c.cmd("RCPT TO:<bob@example.test>").await,
        "503 5.5.1 Need MAIL first\r\n"
    );
    assert_eq!(c.cmd("DATA").await, "503 5.5.1 Need MAIL and RCPT first\r\n");
    assert_eq!(c.cmd("MAIL FROM:<>").await, "250 2.1.0 Sender OK\r\n");
    assert_eq!(c.cmd("MAIL FROM:<>").await, "503 5.5.1 Nested MAIL command\r\n");
    assert_eq!(c.cmd("DATA").await, "554 5.5.1 No valid recipients\r\n");
    assert_eq!(c.cmd("RSET").await, "250 2.0.0 Ok\r\n");
    assert_eq!(c.cmd("NOOP").await, "250 2.0.0 Ok\r\n");
    assert_eq!(
        c.cmd("VRFY bob").await,
        "252 2.5.0 Cannot VRFY user, but will accept message\r\n"
    );
    assert_eq!(c.cmd("XYZZY").await, "500 5.5.1 Command unrecognized\r\n");
    assert_eq!(
        c.cmd("AUTH PLAIN").await,
        "502 5.5.1 AUTH not available on this port; use submission\r\n"
    );
    assert_eq!(c.cmd("EHLO c").await.lines().count(), 9);
    assert_eq!(
        c.cmd("MAIL FROM:<a@b.test> FOO=1").await,
        "555 5.5.4 Unsupported parameter FOO\r\n"
    );
    assert_eq!(
        c.cmd("MAIL FROM:<a@b.test> RET=HDRS ENVID=x+2By").await,
        "250 2.1.0 Sender OK\r\n"
    );
    assert_eq!(
        c.cmd("RCPT TO:<bob@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.test")
            .await,
        "250 2.1.5 Recipient OK\r\n"
    );
    assert_eq!(
        c.cmd("RCPT TO:<bob@example.test> NOTIFY=NEVER,SUCCESS").await,
        "555 5.5.4 Unsupported parameter NOTIFY\r\n"
    );
    assert_eq!(c.cmd("RCPT TO:<Postmaster>").await.split(' ').next(), Some("550"));
    assert_eq!(c.cmd("MAIL FROM:<ü@b.test>").await, "503 5.5.1 Nested MAIL command\r\n");
    c.cmd("RSET").await;
    assert_eq!(
        c.cmd("MAIL FROM:<ü@b.test>").await,
        "553 5.6.7 Non-ASCII address needs SMTPUTF8\r\n"
    );
    assert_eq!(c.cmd("MAIL FROM:<ü@b.test> SMTPUTF8").await, "250 2.1.0 Sender OK\r\n");
    assert_eq!(c.cmd("QUIT").await, "221 2.0.0 mx.example.test Bye\r\n");
    s.stop().await;
}

#[tokio::test]
async fn pipelined_group_replies_in_order() {
    let s = Server::start(Opts::default()).await;
    let mut c = Client::connect(s.mx).await;
    c.send(b"EHLO client.test\r\nMAIL FROM:<x@remote.test>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<nobody@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n")
        .await;
    assert_eq!(c.reply().await, EHLO_MX);
    assert_eq!(c.reply().await, "250 2.1.0 Sender OK\r\n");
    assert_eq!(c.reply().await, "250 2.1.5 Recipient OK\r\n");
    assert!(c.reply().await.starts_with("550 5.1.1"));
    assert_eq!(c.reply().await, "250 2.1.5 Recipient OK\r\n");
    assert_eq!(c.reply().await, "354 Start mail input; end with <CRLF>.<CRLF>\r\n");
    // The end of data, the next transaction and QUIT in one write.
    c.send(b"Subject: one\r\n\r\nx\r\n.\r\nMAIL FROM:<y@remote.test>\r\nRCPT TO:<bob@example.test>\r\nBDAT 19 LAST\r\nSubject: two\r\n\r\ny\r\nQUIT\r\n")
        .await;
    assert!(c.reply().await.starts_with("250 2.0.0 Ok: queued as"));
    assert_eq!(c.reply().await, "250 2.1.0 Sender OK\r\n");
    assert_eq!(c.reply().await, "250 2.1.5 Recipient OK\r\n");
    assert!(c.reply().await.starts_with("250 2.0.0 Ok: queued as"));
    assert_eq!(c.reply().await, "221 2.0.0 mx.example.test Bye\r\n");
    // One blob, two recipients; the second message went to bob only.
    assert_eq!(s.inbox("alice@example.test").await.len(), 1);
    let bob = s.inbox("bob@example.test").await;
    assert_eq!(bob.len(), 2);
    assert!(bob[1].ends_with(b"Subject: two\r\n\r\ny\r\n"));
    s.stop().await;
}

#[tokio::test]
async fn bdat_chunks() {
    let s = Server::start(Opts::default()).await;
    let mut c = Client::connect(s.mx).await;
    c.cmd("EHLO client.test").await;
    // A chunk without a transaction is read in full and refused.
    c.send(b"BDAT 5\r\nABCDE").await;
    assert_eq!(c.reply().await, "503 5.5.1 Need MAIL and RCPT first\r\n");
    c.ok("MAIL FROM:<x@remote.test>", "250").await;
    c.ok("RCPT TO:<bob@example.test>", "250").await;
    c.send(b"BDAT 17\r\nSubject: chunks\r\n").await;
    assert_eq!(c.reply().await, "250 2.0.0 17 octets received\r\n");
    assert_eq!(c.cmd("DATA").await, "503 5.5.1 DATA after BDAT\r\n");
    // CRLF.CRLF inside BDAT is just data.
    c.send(b"BDAT 11 LAST\r\n\r\nb\r\n.\r\nz\r\n").await;
    assert!(c.reply().await.starts_with("250 2.0.0 Ok: queued as"));
    c.send(b"BDAT 0 LAST\r\n").await;
    assert_eq!(c.reply().await, "503 5.5.1 Need MAIL and RCPT first\r\n");
    let bob = s.inbox("bob@example.test").await;
    assert_eq!(bob.len(), 1);
    assert!(bob[0].ends_with(b"Subject: chunks\r\n\r\nb\r\n.\r\nz\r\n"));
    s.stop().await;
}

/// SMTP smuggling: none of these may end the message; the smuggled
/// commands stay inside it, and the message (containing bare CR/LF) is
/// refused as a whole with one reply once the real end arrives.
#[tokio::test]
async fn smuggling_variants_do_not_split_a_message() {
    let s = Server::start(Opts::default()).await;
    for variant in [&b"\n.\n"[..], b"\n.\r\n", b"\r.\r", b"\r\n.\n", b"\r\n.\r"] {
        let mut c = Client::connect(s.mx).await;
        c.cmd("EHLO client.test").await;
        c.ok("MAIL FROM:<x@remote.test>", "250").await;
        c.ok("RCPT TO:<bob@example.test>", "250").await;
        c.ok("DATA", "354").await;
        let mut data = b"Subject: outer\r\n\r\nhello".to_vec();
        data.extend_from_slice(variant);
        data.extend_from_slice(b"MAIL FROM:<admin@example.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n");
        c.send(&data).await;
        assert_eq!(
            c.reply().await,
            "550 5.6.11 Message contains bare CR or LF characters (RFC 5321 section 2.3.8), refused\r\n",
            "{variant:?}"
        );
        // The next reply is for our NOOP: nothing smuggled was executed.
        assert_eq!(c.cmd("NOOP").await, "250 2.0.0 Ok\r\n");
        assert_eq!(
            c.cmd("RCPT TO:<bob@example.test>").await,
            "503 5.5.1 Need MAIL first\r\n"
        );
    }
    assert!(s.inbox("bob@example.test").await.is_empty());
    assert!(s.inbox("alice@example.test").await.is_empty());
    s.stop().await;
}

#[tokio::test]
async fn bare_line_endings_in_commands() {
    let s = Server::start(Opts::default()).await;
    let mut c = Client::connect(s.mx).await;
    c.send(b"EHLO client.test\n").await;
    assert_eq!(c.reply().await, "500 5.5.2 Bare LF in command line (CRLF required)\r\n");
    c.send(b"NOOP\rQUIT\r\n").await;
    assert_eq!(c.reply().await, "500 5.5.2 Bare CR in command line\r\n");
    assert_eq!(c.cmd("NOOP").await, "250 2.0.0 Ok\r\n");
    s.stop().await;
}

#[tokio::test]
async fn limits() {
    let s = Server::start(Opts {
        smtp: SmtpConfig {
            max_message_size: 2000,
            max_recipients: 3,
            max_bad_commands: 5,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let mut c = Client::connect(s.mx).await;
    c.cmd("EHLO client.test").await;
    // Command line: 512 octets with CRLF is fine, 513 is not.
    let ok = format!("NOOP {}", "x".repeat(512 - 7));
    assert_eq!(c.cmd(&ok).await, "250 2.0.0 Ok\r\n");
    let long = format!("NOOP {}", "x".repeat(512 - 6));
    assert_eq!(c.cmd(&long).await, "500 5.5.2 Line too long (limit 512 octets)\r\n");
    assert_eq!(
        c.cmd("MAIL FROM:<x@remote.test> SIZE=2001").await,
        "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
    );
    c.ok("MAIL FROM:<x@remote.test> SIZE=1000", "250").await;
    for _ in 0..3 {
        c.ok("RCPT TO:<bob@example.test>", "250").await;
    }
    assert_eq!(
        c.cmd("RCPT TO:<alice@example.test>").await,
        "452 4.5.3 Too many recipients\r\n"
    );
    // A text line over 1000 octets.
    c.ok("DATA", "354").await;
    let mut data = b"Subject: long\r\n\r\n".to_vec();
    data.extend_from_slice(&[b'y'; 999]);
    data.extend_from_slice(b"\r\n.\r\n");
    c.send(&data).await;
    assert_eq!(
        c.reply().await,
        "500 5.5.2 Line too long (limit 1000 octets, RFC 5321 section 4.5.3.1.6)\r\n"
    );
    // The message size, by DATA and by BDAT.
    c.ok("MAIL FROM:<x@remote.test>", "250").await;
    c.ok("RCPT TO:<bob@example.test>", "250").await;
    c.ok("DATA", "354").await;
    let mut data = Vec::new();
    for _ in 0..30 {
        data.extend_from_slice(&[b'z'; 98]);
        data.extend_from_slice(b"\r\n");
    }
    data.extend_from_slice(b".\r\n");
    c.send(&data).await;
    assert_eq!(
        c.reply().await,
        "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
    );
    c.ok("MAIL FROM:<x@remote.test>", "250").await;
    c.ok("RCPT TO:<bob@example.test>", "250").await;
    c.send(b"BDAT 1500\r\n").await;
    c.send(&[b'a'; 1500]).await;
    assert_eq!(c.reply().await, "250 2.0.0 1500 octets received\r\n");
    c.send(b"BDAT 600 LAST\r\n").await;
    c.send(&[b'a'; 600]).await;
    assert_eq!(
        c.reply().await,
        "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
    );
    assert_eq!(
        c.cmd("RCPT TO:<bob@example.test>").await,
        "503 5.5.1 Need MAIL first\r\n"
    );
    assert!(s.inbox("bob@example.test").await.is_empty());
    // Errors: the fifth (counting those above, refused RCPTs included)
    // closes the session.
    assert_eq!(c.cmd("FOO").await, "500 5.5.1 Command unrecognized\r\n");
    c.send(b"FOO\r\n").await;
    assert_eq!(
        c.rest().await,
        "500 5.5.1 Command unrecognized\r\n421 4.7.0 Too many errors, closing connection\r\n"
    );
    s.stop().await;
}

#[tokio::test]
async fn timeouts_close_the_session() {
    let s = Server::start(Opts {
        smtp: SmtpConfig {
            command_timeout_secs: 1,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let mut c = Client::connect(s.mx).await;
    assert_eq!(
        c.rest().await,
        "421 4.4.2 mx.example.test Timeout, closing connection\r\n"
    );
    // In the middle of DATA too.
    let mut c = Client::connect(s.mx).await;
    c.cmd("EHLO client.test").await;
    c.ok("MAIL FROM:<x@remote.test>", "250").await;
    c.ok("RCPT TO:<bob@example.test>", "250").await;
    c.ok("DATA", "354").await;
    c.send(b"Subject: slow\r\n").await;
    assert_eq!(
        c.rest().await,
        "421 4.4.2 mx.example.test Timeout, closing connection\r\n"
    );
    assert!(s.inbox("bob@example.test").await.is_empty());
    s.stop().await;

    let s = Server::start(Opts {
        smtp: SmtpConfig {
            session_timeout_secs: 1,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let mut c = Client::connect(s.mx).await;
    let start = std::time::Instant::now();
    let mut closed = String::new();
    while start.elapsed() < std::time::Duration::from_secs(5) {
        let r = c.cmd("NOOP").await;
        if !r.starts_with("250") {
            closed = r;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(closed, "421 4.4.2 mx.example.test Timeout, closing connection\r\n");
    s.stop().await;
}

/// No open relay, whatever is hidden in the address.
#[tokio::test]
async fn open_relay_matrix() {
    let s = Server::start(Opts::default()).await;
    let cases: &[(&str, &str)] = &[
        ("<bob@example.test>", "250 2.1.5"),
        ("<BOB@Example.Test>", "250 2.1.5"),
        ("<victim@elsewhere.test>", "554 5.7.1"),
        ("<victim%elsewhere.test@example.test>", "550 5.1.1"),
        ("<elsewhere.test!victim@example.test>", "550 5.1.1"),
        ("<\"victim@elsewhere.test\"@example.test>", "550 5.1.1"),
        ("<\"victim%elsewhere.test\"@example.test>", "550 5.1.1"),
        ("<@example.test:victim@elsewhere.test>", "554 5.7.1"),
        ("<@example.test,@other.test:victim@elsewhere.test>", "554 5.7.1"),
        ("<victim@[127.0.0.1]>", "554 5.7.1"),
        ("<victim@[IPv6:::1]>", "554 5.7.1"),
        ("<victim@elsewhere.test@example.test>", "553 5.1.3"),
        ("<victim@example.test.elsewhere.test>", "554 5.7.1"),
        ("<victim@sub.example.test>", "554 5.7.1"),
        ("victim@elsewhere.test", "501 5.5.4"),
        ("<victim@elsewhere.test", "501 5.5.4"),
    ];
    let mut c = Client::connect(s.mx).await;
    c.cmd("EHLO client.test").await;
    c.ok("MAIL FROM:<x@remote.test>", "250").await;
    for (addr, want) in cases {
        let r = c.cmd(&format!("RCPT TO:{addr}")).await;
        assert!(r.starts_with(want), "{addr}: {r}");
        if r.starts_with('5') {
            // Keep under the bad-command cap.
            c.cmd("RSET").await;
            c = Client::connect(s.mx).await;
            c.cmd("EHLO client.test").await;
            c.ok("MAIL FROM:<x@remote.test>", "250").await;
        }
    }
    s.stop().await;
    // Nothing was queued for anywhere.
}

#[tokio::test]
async fn starttls_discards_pipelined_plaintext_and_resets_state() {
    let s = Server::start(Opts::default()).await;
    let mut c = Client::connect(s.mx).await;
    c.cmd("EHLO client.test").await;
    // Injected after STARTTLS in the same packet (CVE-2011-0411 class).
    c.send(b"STARTTLS\r\nMAIL FROM:<injected@remote.test>\r\n").await;
    assert_eq!(c.reply().await, "220 2.0.0 Ready to start TLS\r\n");
    let mut c = c.into_tls().await;
    // The EHLO state is gone, and the injected MAIL was never seen.
    assert_eq!(
        c.cmd("MAIL FROM:<x@remote.test>").await,
        "503 5.5.1 Send EHLO or HELO first\r\n"
    );
    let ehlo = c.cmd("EHLO client.test").await;
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    assert_eq!(
        c.cmd("RCPT TO:<bob@example.test>").await,
        "503 5.5.1 Need MAIL first\r\n"
    );
    assert_eq!(c.cmd("STARTTLS").await, "503 5.5.1 TLS already active\r\n");
    c.ok("MAIL FROM:<x@remote.test>", "250").await;
    c.ok("RCPT TO:<bob@example.test>", "250").await;
    c.ok("DATA", "354").await;
    c.send(b"Subject: tls\r\n\r\nsecret\r\n.\r\n").await;
    assert!(c.reply().await.starts_with("250 2.0.0"));
    let m = String::from_utf8(s.inbox("bob@example.test").await.remove(0)).unwrap();
    assert!(m.contains("with ESMTPS (TLSv1_3)"), "{m}");
    s.stop().await;
}
