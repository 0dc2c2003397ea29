//! APPEND, MULTIAPPEND, literal limits.
mod common;

use common::*;

#[tokio::test]
async fn append_sync_and_nonsync_literals() {
    let srv = Server::start().await;
    let mut c = srv.login().await;
    let msg = message("hi", "body");
    let uv = srv
        .store
        .mailbox_get(srv.account_id, "Drafts")
        .unwrap()
        .unwrap()
        .uidvalidity;
    let r = c.append("a", "Drafts", "\\Seen $Work", &msg).await;
    assert_eq!(r, vec![format!("a OK [APPENDUID {uv} 1] APPEND completed")]);
    // LITERAL+ (RFC 7888): no continuation.
    c.send(format!("b APPEND Drafts \"26-Nov-2026 10:00:00 +0100\" {{{}+}}\r\n", msg.len()).as_bytes())
        .await;
    c.send(&msg).await;
    c.send(b"\r\n").await;
    assert_eq!(
        c.until_tagged("b").await,
        vec![format!("b OK [APPENDUID {uv} 2] APPEND completed")]
    );
    let stored = srv
        .store
        .messages(srv.store.mailbox_get(srv.account_id, "Drafts").unwrap().unwrap().id)
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].flags.names(), vec!["\\Seen", "$Work"]);
    // 10:00 +0100 is 09:00 UTC.
    assert_eq!(stored[1].internal_date, 1_795_683_600);
    srv.stop().await;
}

#[tokio::test]
async fn multiappend_is_atomic_and_trycreate() {
    let srv = Server::start().await;
    let mut c = srv.login().await;
    let m1 = message("one", "1");
    let m2 = message("two", "2");
    c.send(format!("a APPEND INBOX {{{}}}\r\n", m1.len()).as_bytes()).await;
    assert!(c.line().await.starts_with("+ "));
    c.send(&m1).await;
    c.send(format!(" (\\Flagged) {{{}}}\r\n", m2.len()).as_bytes()).await;
    assert!(c.line().await.starts_with("+ "));
    c.send(&m2).await;
    c.send(b"\r\n").await;
    let r = c.until_tagged("a").await;
    assert!(
        r[0].starts_with("a OK [APPENDUID ") && r[0].ends_with(" 1:2] APPEND completed"),
        "{r:?}"
    );

    c.send(format!("b APPEND Nope {{{}}}\r\n", m1.len()).as_bytes()).await;
    assert_eq!(c.line().await, "b NO [TRYCREATE] Mailbox does not exist\r\n");
    // The session goes on.
    assert_eq!(c.cmd("c NOOP").await, vec!["c OK NOOP completed"]);
    srv.stop().await;
}

#[tokio::test]
async fn oversized_literals() {
    let srv = Server::start_with(mailroom_imap::ImapConfig {
        max_append_size: 100,
        ..Default::default()
    })
    .await;
    let mut c = srv.login().await;
    // Refused before the client sends it.
    c.send(b"a APPEND INBOX {5000}\r\n").await;
    assert_eq!(c.line().await, "a NO [TOOBIG] Message too large\r\n");
    assert_eq!(c.cmd("b NOOP").await, vec!["b OK NOOP completed"]);
    // A non-synchronising one cannot be refused: BAD... and close.
    c.send(b"c APPEND INBOX {5000+}\r\n").await;
    assert_eq!(c.line().await, "c NO [TOOBIG] Message too large\r\n");
    assert_eq!(c.line().await, "* BYE Literal refused, cannot continue\r\n");
    assert_eq!(c.line().await, "");
    srv.stop().await;
}

#[tokio::test]
async fn append_to_selected_mailbox_sends_exists() {
    let srv = Server::start().await;
    let mut c = srv.login().await;
    c.cmd("s SELECT INBOX").await;
    let r = c.append("a", "INBOX", "", &message("x", "y")).await;
    assert_eq!(r[0], "* 1 EXISTS");
    assert_eq!(r[1], "* 1 RECENT");
    assert!(r[2].starts_with("a OK [APPENDUID "));
    srv.stop().await;
}

/// Found by differential testing against Dovecot: a message APPENDed with
/// bare LF line ends was served back with them (and RFC822.SIZE counting
/// them as one octet). Text literals are stored with CRLF; a literal8
/// (binary APPEND) is stored exactly as sent.
#[tokio::test]
async fn bare_lf_append_is_stored_as_crlf() {
    let srv = Server::start().await;
    let mut c = srv.login().await;
    let r = c.append("a", "INBOX", "", b"Subject: lf\n\nline one\nline two\n").await;
    assert!(r[0].starts_with("a OK [APPENDUID "), "{r:?}");
    c.send(b"b APPEND INBOX ~{8+}\r\nX: y\n\n\0\n\r\n").await;
    assert!(c.until_tagged("b").await[0].starts_with("b OK [APPENDUID "));
    c.cmd("c SELECT INBOX").await;
    c.send_line("d FETCH 1 (RFC822.SIZE BODY.PEEK[])").await;
    assert_eq!(c.line().await, "* 1 FETCH (RFC822.SIZE 35 BODY[] {35}\r\n");
    assert_eq!(c.read_exact(35).await, b"Subject: lf\r\n\r\nline one\r\nline two\r\n");
    assert_eq!(c.line().await, ")\r\n");
    c.until_tagged("d").await;
    c.send_line("e FETCH 2 (RFC822.SIZE BINARY.PEEK[])").await;
    assert_eq!(c.line().await, "* 2 FETCH (RFC822.SIZE 8 BINARY[] ~{8}\r\n");
    assert_eq!(c.read_exact(8).await, b"X: y\n\n\0\n");
    assert_eq!(c.line().await, ")\r\n");
    c.until_tagged("e").await;
    // Outside BINARY a NUL may not be sent at all (RFC 9051 §4.3).
    c.send_line("f FETCH 2 BODY.PEEK[]").await;
    assert_eq!(c.line().await, "* 2 FETCH (BODY[] {8}\r\n");
    assert_eq!(c.read_exact(8).await, b"X: y\n\n\x80\n");
    assert_eq!(c.line().await, ")\r\n");
    c.until_tagged("f").await;
    srv.stop().await;
}

/// RFC 9051 §2.3.3: the internal date keeps the zone it was given in, and
/// SEARCH date keys use the date in that zone.
#[tokio::test]
async fn internaldate_keeps_its_zone() {
    let srv = Server::start().await;
    let mut c = srv.login().await;
    let msg = message("tz", "body");
    c.send(format!("a APPEND INBOX \"01-Jan-2026 23:30:00 -0700\" {{{}+}}\r\n", msg.len()).as_bytes())
        .await;
    c.send(&msg).await;
    c.send(b"\r\n").await;
    assert!(c.until_tagged("a").await[0].starts_with("a OK"));
    c.send(b"b SELECT INBOX\r\n").await;
    c.until_tagged("b").await;
    c.send(b"c FETCH 1 INTERNALDATE\r\n").await;
    assert_eq!(
        c.until_tagged("c").await,
        vec![
            "* 1 FETCH (INTERNALDATE \"01-Jan-2026 23:30:00 -0700\")".to_string(),
            "c OK FETCH completed".to_string()
        ]
    );
    // 23:30 -0700 is 06:30 UTC on 2 January; its date is still 1 January.
    c.send(b"d SEARCH ON 1-Jan-2026\r\n").await;
    assert_eq!(c.until_tagged("d").await[0], "* SEARCH 1");
    c.send(b"e SEARCH ON 2-Jan-2026\r\n").await;
    assert_eq!(c.until_tagged("e").await[0], "* SEARCH");
    srv.stop().await;
}

/// Small literals are kept in memory, larger ones streamed to a file: both
/// come back byte for byte, bare LFs made CRLF, in one MULTIAPPEND.
#[tokio::test]
async fn small_and_large_literals_round_trip() {
    let srv = Server::start().await;
    let mut c = srv.login().await;
    let small = message("small", "tiny");
    let mut large = b"Subject: large\r\n\r\n".to_vec();
    while large.len() as u64 <= mailroom_store::INLINE_MAX + 10 {
        large.extend_from_slice(b"0123456789 abcdefghij\n");
    }
    c.send(format!("a APPEND INBOX {{{}+}}\r\n", small.len()).as_bytes())
        .await;
    c.send(&small).await;
    c.send(format!(" {{{}+}}\r\n", large.len()).as_bytes()).await;
    c.send(&large).await;
    c.send(b"\r\n").await;
    let r = c.until_tagged("a").await;
    assert!(r[0].starts_with("a OK [APPENDUID "), "{r:?}");
    let inbox = srv.store.mailbox_get(srv.account_id, "INBOX").unwrap().unwrap();
    let stored = srv.store.messages(inbox.id).unwrap();
    assert_eq!(stored.len(), 2);
    let want_large = String::from_utf8(large)
        .unwrap()
        .replace('\n', "\r\n")
        .replace("\r\r\n", "\r\n");
    for (meta, want) in stored.iter().zip([small, want_large.into_bytes()]) {
        let got = srv.store.read_blob(&meta.blob_hash, 0, meta.size).unwrap();
        assert_eq!(got, want);
    }
    srv.stop().await;
}

/// A large message that cannot fit the quota is refused before the client
/// sends it (no `+`), with [OVERQUOTA]; the session goes on.
#[tokio::test]
async fn over_quota_append_is_refused_before_the_data() {
    let srv = Server::start().await;
    srv.store.account_set_quota(USER, Some(200 * 1024)).unwrap();
    let mut c = srv.login().await;
    c.send(b"a APPEND INBOX {300000}\r\n").await;
    assert_eq!(c.line().await, "a NO [OVERQUOTA] Quota exceeded\r\n");
    c.send(b"b NOOP\r\n").await;
    assert_eq!(
        c.until_tagged("b").await.last().map(String::as_str),
        Some("b OK NOOP completed")
    );
    srv.stop().await;
}
