//! Messages stream into the store while they are received: trace fields
//! first, the body never held in memory, nothing left behind when a
//! message is refused.
mod common;

use common::{Client, Opts, Server, b64, eventually};
use mailroom_smtp::SmtpConfig;

async fn authed(s: &Server) -> Client {
    let mut c = Client::connect(s.submission).await;
    c.cmd("EHLO client.test").await;
    c.ok(&format!("AUTH PLAIN {}", b64("\0alice@example.test\0alice-pw")), "235")
        .await;
    c
}

/// Files in the store's temporary directory (partial blobs).
fn tmp_files(s: &Server) -> usize {
    std::fs::read_dir(s.dir.path().join("tmp")).unwrap().count()
}

async fn queued_blobs(s: &Server) -> Vec<Vec<u8>> {
    let store = s.ctx.store.clone();
    tokio::task::spawn_blocking(move || {
        store
            .queue_list()
            .unwrap()
            .into_iter()
            .map(|m| store.read_blob(&m.blob_hash, 0, m.size).unwrap())
            .collect()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn local_copy_has_return_path_queued_copy_does_not() {
    // Small messages live in the database, large ones in files: both ways.
    for filler in [0usize, 200_000] {
        // No queue runner: the queued copy stays where we can look at it.
        let s = Server::start(Opts::default()).await;
        let mut c = authed(&s).await;
        c.ok("MAIL FROM:<alice@example.test>", "250").await;
        c.ok("RCPT TO:<bob@example.test>", "250").await;
        c.ok("RCPT TO:<carol@remote.test>", "250").await;
        c.ok("DATA", "354").await;
        let body = format!(
            "..dot\r\n{}body\r\n",
            format!("{}\r\n", "f".repeat(98)).repeat(filler / 100)
        );
        c.send(format!("Subject: split\r\nFrom: alice@example.test\r\n\r\n{body}.\r\n").as_bytes())
            .await;
        assert!(c.reply().await.starts_with("250 2.0.0 Ok: queued as"));
        c.ok("QUIT", "221").await;

        let bob = s.inbox("bob@example.test").await;
        assert_eq!(bob.len(), 1);
        let local = String::from_utf8(bob[0].clone()).unwrap();
        let queued = queued_blobs(&s).await;
        assert_eq!(queued.len(), 1);
        let queued = String::from_utf8(queued[0].clone()).unwrap();
        // RFC 5321 §4.4: Return-Path only at final delivery.
        assert_eq!(local, format!("Return-Path: <alice@example.test>\r\n{queued}"));
        assert!(
            queued.starts_with("Received: from client.test ([127.0.0.1])"),
            "{queued}"
        );
        // RFC 6409 §8: added after the trace fields, before the message.
        let after_received = &queued[queued.find("\r\nMessage-ID: <").unwrap()..];
        assert!(after_received.contains("\r\nDate: "), "{queued}");
        let tail = format!("\r\nSubject: split\r\nFrom: alice@example.test\r\n\r\n{}", &body[1..]);
        assert!(queued.ends_with(&tail));
        assert_eq!(tmp_files(&s), 0);
        s.stop().await;
    }
}

#[tokio::test]
async fn large_message_streams_intact() {
    let s = Server::start(Opts::default()).await;
    let mut c = Client::connect(s.mx).await;
    c.cmd("EHLO client.test").await;
    c.ok("MAIL FROM:<x@remote.test>", "250").await;
    c.ok("RCPT TO:<bob@example.test>", "250").await;
    c.ok("RCPT TO:<alice@example.test>", "250").await;
    c.ok("DATA", "354").await;
    // ~3 MB: many blob flushes and read buffers, dots at every line start.
    let mut expected = b"Subject: big\r\n\r\n".to_vec();
    for i in 0..40_000u32 {
        expected
            .extend_from_slice(format!(".{i:08} the quick brown fox jumps over the lazy dog {i:08}\r\n").as_bytes());
    }
    let mut wire = Vec::new();
    for line in expected.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b".") {
            wire.push(b'.');
        }
        wire.extend_from_slice(line);
    }
    wire.extend_from_slice(b".\r\n");
    for part in wire.chunks(100_003) {
        c.send(part).await;
    }
    assert!(c.reply().await.starts_with("250 2.0.0 Ok: queued as"));
    for who in ["bob@example.test", "alice@example.test"] {
        let inbox = s.inbox(who).await;
        assert_eq!(inbox.len(), 1);
        let m = &inbox[0];
        assert!(m.starts_with(b"Return-Path: <x@remote.test>\r\nReceived: from client.test"));
        assert!(m.ends_with(&expected), "message altered");
        // MX: no Message-ID/Date added (RFC 6409 §8 is about submission).
        assert!(!String::from_utf8_lossy(&m[..400]).contains("Message-ID"));
    }
    s.stop().await;
}

#[tokio::test]
async fn refused_messages_leave_no_partial_blob() {
    let s = Server::start(Opts {
        smtp: SmtpConfig {
            max_message_size: 300_000,
            max_header_size: 100,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let mut c = authed(&s).await;
    // Over the size limit by DATA: the blob stops growing and is removed.
    c.ok("MAIL FROM:<alice@example.test>", "250").await;
    c.ok("RCPT TO:<bob@example.test>", "250").await;
    c.ok("DATA", "354").await;
    let line = [b'z'; 98];
    c.send(b"Subject: big\r\n\r\n").await;
    for _ in 0..5000 {
        c.send(&line).await;
        c.send(b"\r\n").await;
    }
    c.send(b".\r\n").await;
    assert_eq!(
        c.reply().await,
        "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
    );
    // And by BDAT.
    c.ok("MAIL FROM:<alice@example.test>", "250").await;
    c.ok("RCPT TO:<bob@example.test>", "250").await;
    c.send(b"BDAT 200000\r\nS: 1\r\n\r\n").await;
    c.send(&[b'a'; 200_000 - 8]).await;
    assert_eq!(c.reply().await, "250 2.0.0 200000 octets received\r\n");
    c.send(b"BDAT 200000 LAST\r\n").await;
    c.send(&[b'a'; 200_000]).await;
    assert_eq!(
        c.reply().await,
        "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
    );
    // Submission holds the header section only, up to max_header_size.
    c.ok("MAIL FROM:<alice@example.test>", "250").await;
    c.ok("RCPT TO:<bob@example.test>", "250").await;
    c.ok("DATA", "354").await;
    c.send(format!("Subject: {}\r\n\r\nbody\r\n.\r\n", "h".repeat(120)).as_bytes())
        .await;
    assert_eq!(
        c.reply().await,
        "552 5.3.4 Header section too large (limit 100 octets)\r\n"
    );
    // A bare LF: refused, nothing kept.
    c.ok("MAIL FROM:<alice@example.test>", "250").await;
    c.ok("RCPT TO:<bob@example.test>", "250").await;
    c.ok("DATA", "354").await;
    c.send(b"Subject: x\r\n\r\nbare\nlf\r\n.\r\n").await;
    assert!(c.reply().await.starts_with("550 5.6.11"));
    // A small header with a body far over max_header_size is fine.
    c.ok("MAIL FROM:<alice@example.test>", "250").await;
    c.ok("RCPT TO:<bob@example.test>", "250").await;
    c.ok("DATA", "354").await;
    c.send(format!("Subject: ok\r\n\r\n{}\r\n.\r\n", "b".repeat(900)).as_bytes())
        .await;
    assert!(c.reply().await.starts_with("250 2.0.0"));
    c.ok("QUIT", "221").await;
    let bob = s.inbox("bob@example.test").await;
    assert_eq!(bob.len(), 1);
    assert!(String::from_utf8_lossy(&bob[0]).contains("Subject: ok\r\n"));
    assert!(
        eventually(5, || async { tmp_files(&s) == 0 }).await,
        "partial blobs left behind"
    );
    s.stop().await;
}
