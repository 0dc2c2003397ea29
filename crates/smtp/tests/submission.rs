//! Submission (587 with STARTTLS, 465 with implicit TLS): AUTH, sender
//! ownership, local delivery and queueing of remote recipients.
mod common;

use common::{Client, Opts, Server, b64, connect_tls};

#[tokio::test]
async fn submission_starttls_auth_plain_delivers_locally() {
    let s = Server::start(Opts::default()).await;
    let mut c = Client::connect(s.submission).await;
    let ehlo = c.cmd("EHLO client.test").await;
    // Loopback may authenticate without TLS (ServerContext::plaintext_auth_allowed).
    assert!(ehlo.contains("250-STARTTLS\r\n"), "{ehlo}");
    assert!(ehlo.ends_with("250 AUTH PLAIN LOGIN\r\n"), "{ehlo}");
    assert_eq!(
        c.cmd("MAIL FROM:<alice@example.test>").await,
        "530 5.7.0 Authentication required\r\n"
    );
    c.ok("STARTTLS", "220 2.0.0").await;
    let mut c = c.into_tls().await;
    let ehlo = c.cmd("EHLO client.test").await;
    assert!(
        ehlo.ends_with("250 AUTH PLAIN LOGIN\r\n") && !ehlo.contains("STARTTLS"),
        "{ehlo}"
    );
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {}", b64("\0alice@example.test\0wrong")))
            .await,
        "535 5.7.8 Authentication credentials invalid\r\n"
    );
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {}", b64("\0alice@example.test\0alice-pw")))
            .await,
        "235 2.7.0 Authentication successful\r\n"
    );
    assert_eq!(c.cmd("AUTH PLAIN").await, "503 5.5.1 Already authenticated\r\n");
    assert!(!c.cmd("EHLO client.test").await.contains("AUTH"));
    assert_eq!(
        c.cmd("MAIL FROM:<bob@example.test>").await,
        "553 5.7.1 Sender <bob@example.test> not owned by user alice@example.test\r\n"
    );
    assert_eq!(c.cmd("MAIL FROM:<>").await.get(..9), Some("553 5.7.1"));
    c.ok("MAIL FROM:<Alice@Example.test>", "250 2.1.0").await;
    c.ok("RCPT TO:<bob@example.test>", "250 2.1.5").await;
    c.ok("RCPT TO:<nobody@example.test>", "550 5.1.1").await;
    c.ok("DATA", "354").await;
    c.send(b"From: alice@example.test\r\nTo: bob@example.test\r\nSubject: hello\r\n\r\nHi Bob\r\n.\r\n")
        .await;
    assert!(c.reply().await.starts_with("250 2.0.0 Ok"));
    c.ok("QUIT", "221").await;

    let m = String::from_utf8(s.inbox("bob@example.test").await.remove(0)).unwrap();
    assert!(
        m.starts_with("Return-Path: <alice@example.test>\r\nReceived: from client.test"),
        "{m}"
    );
    assert!(m.contains("with ESMTPSA (TLSv1_3)"), "{m}");
    // RFC 6409 §8: Message-ID and Date added when missing.
    assert!(m.contains("\r\nMessage-ID: <"), "{m}");
    assert!(m.contains("\r\nDate: "), "{m}");
    s.stop().await;
}

#[tokio::test]
async fn submissions_implicit_tls_auth_login_and_alias_sender() {
    let s = Server::start(Opts::default()).await;
    let store = s.ctx.store.clone();
    tokio::task::spawn_blocking(move || store.alias_add("info@example.test", "alice@example.test").unwrap())
        .await
        .unwrap();
    let mut c = connect_tls(s.submissions).await;
    let ehlo = c.cmd("EHLO client.test").await;
    assert!(
        !ehlo.contains("STARTTLS") && ehlo.contains("AUTH PLAIN LOGIN"),
        "{ehlo}"
    );
    assert_eq!(c.cmd("AUTH LOGIN").await, "334 VXNlcm5hbWU6\r\n");
    assert_eq!(c.cmd(&b64("alice@example.test")).await, "334 UGFzc3dvcmQ6\r\n");
    assert_eq!(c.cmd(&b64("alice-pw")).await, "235 2.7.0 Authentication successful\r\n");
    c.ok("MAIL FROM:<info@example.test>", "250").await;
    c.ok("RCPT TO:<bob@example.test>", "250").await;
    c.ok(
        "RCPT TO:<carol@remote.test> NOTIFY=FAILURE ORCPT=rfc822;carol@remote.test",
        "250",
    )
    .await;
    c.ok("DATA", "354").await;
    c.send(b"Message-ID: <given@x>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nSubject: mixed\r\n\r\nbody\r\n.\r\n")
        .await;
    assert!(c.reply().await.starts_with("250 2.0.0"));
    let m = String::from_utf8(s.inbox("bob@example.test").await.remove(0)).unwrap();
    assert_eq!(m.matches("Message-ID:").count(), 1, "{m}");
    assert_eq!(m.matches("Date:").count(), 1, "{m}");
    // The remote recipient is in the durable queue, with its DSN parameters.
    let store = s.ctx.store.clone();
    let q = tokio::task::spawn_blocking(move || mailroom_smtp::queue_list(&store).unwrap())
        .await
        .unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].sender, "info@example.test");
    assert_eq!(q[0].recipients.len(), 1);
    assert_eq!(q[0].recipients[0].address, "carol@remote.test");
    assert_eq!(q[0].recipients[0].notify.as_deref(), Some("FAILURE"));
    assert_eq!(q[0].recipients[0].orcpt.as_deref(), Some("rfc822;carol@remote.test"));
    // The queued copy has the trace header but no Return-Path (added at final delivery).
    let (store, hash, size) = (s.ctx.store.clone(), q[0].blob_hash.clone(), q[0].size);
    let raw = tokio::task::spawn_blocking(move || store.read_blob(&hash, 0, size).unwrap())
        .await
        .unwrap();
    assert!(raw.starts_with(b"Received: from client.test"));
    // Admin: retry and delete.
    let store = s.ctx.store.clone();
    let id = q[0].id;
    tokio::task::spawn_blocking(move || {
        assert_eq!(mailroom_smtp::queue_retry(&store, Some(id)).unwrap(), 1);
        assert!(mailroom_smtp::queue_delete(&store, id).unwrap());
        assert!(mailroom_smtp::queue_list(&store).unwrap().is_empty());
        assert!(store.check().unwrap().is_empty());
    })
    .await
    .unwrap();
    s.stop().await;
}

#[tokio::test]
async fn auth_cancel_and_bad_mechanism() {
    let s = Server::start(Opts::default()).await;
    let mut c = Client::connect(s.submission).await;
    c.cmd("EHLO client.test").await;
    assert_eq!(
        c.cmd("AUTH CRAM-MD5").await,
        "504 5.5.4 Unrecognized authentication type\r\n"
    );
    assert_eq!(c.cmd("AUTH PLAIN").await, "334 \r\n");
    assert_eq!(c.cmd("*").await, "501 5.7.0 Authentication cancelled\r\n");
    assert_eq!(c.cmd("AUTH PLAIN").await, "334 \r\n");
    assert_eq!(
        c.cmd(&b64("\0bob@example.test\0bob-pw")).await,
        "235 2.7.0 Authentication successful\r\n"
    );
    // Authenticated: relaying to other domains is allowed, address literals are not.
    c.ok("MAIL FROM:<bob@example.test>", "250").await;
    c.ok("RCPT TO:<x@[127.0.0.1]>", "553 5.1.2").await;
    c.ok("RCPT TO:<x@remote.test>", "250").await;
    s.stop().await;
}
