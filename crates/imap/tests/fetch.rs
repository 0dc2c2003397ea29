//! FETCH / UID FETCH: every data item, partial fetch, implicit \Seen.
mod common;

use common::*;

const MIME: &[u8] = b"From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: parts\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <p@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n--xx\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n--xx\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n--xx--\r\n";

async fn setup(raw: &[u8]) -> (Server, Client) {
    let srv = Server::start().await;
    srv.deliver(raw);
    let mut c = srv.login().await;
    c.cmd("s SELECT INBOX").await;
    (srv, c)
}

#[tokio::test]
async fn simple_items_and_macros() {
    let raw = message("hello", "body text");
    let (srv, mut c) = setup(&raw).await;
    let r = c.cmd("a FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE UID)").await;
    assert_eq!(
        r,
        vec![
            format!(
                "* 1 FETCH (FLAGS (\\Recent) INTERNALDATE \"14-Nov-2023 22:13:20 +0000\" RFC822.SIZE {} UID 1)",
                raw.len()
            ),
            "a OK FETCH completed".into()
        ]
    );
    let r = c.cmd("b UID FETCH 1 FAST").await;
    assert!(
        r[0].starts_with("* 1 FETCH (UID 1 FLAGS (\\Recent) INTERNALDATE "),
        "{r:?}"
    );
    let r = c.cmd("c FETCH 1 ENVELOPE").await;
    assert_eq!(
        r[0],
        "* 1 FETCH (ENVELOPE (\"Thu, 26 Nov 2026 10:00:00 +0000\" \"hello\" ((\"Alice\" NIL \"alice\" \"example.test\")) ((\"Alice\" NIL \"alice\" \"example.test\")) ((\"Alice\" NIL \"alice\" \"example.test\")) ((NIL NIL \"bob\" \"example.test\")) NIL NIL NIL \"<hello@example.test>\"))"
    );
    let r = c.cmd("d FETCH 1 BODY").await;
    assert!(r[0].starts_with("* 1 FETCH (BODY (\"TEXT\" \"PLAIN\" "), "{r:?}");
    let r = c.cmd("e FETCH 2 FLAGS").await;
    assert_eq!(r, vec!["e BAD Invalid message sequence number"]);
    let r = c.cmd("f UID FETCH 2:* FLAGS").await;
    // `2:*` includes the highest UID even when it is below 2 (RFC 9051 §9).
    assert_eq!(
        r,
        vec!["* 1 FETCH (UID 1 FLAGS (\\Recent))", "f OK UID FETCH completed"]
    );
    let r = c.cmd("g UID FETCH 5 FLAGS").await;
    assert_eq!(r, vec!["g OK UID FETCH completed"]);
    srv.stop().await;
}

#[tokio::test]
async fn body_sections_and_partial() {
    let raw = message("hello", "body text");
    let (srv, mut c) = setup(&raw).await;
    // Partial fetch: exact byte ranges, PEEK leaves \Seen alone.
    c.send_line("a FETCH 1 BODY.PEEK[]<0.10>").await;
    assert_eq!(c.line().await, "* 1 FETCH (BODY[]<0> {10}\r\n");
    assert_eq!(c.read_exact(10).await, raw[..10].to_vec());
    assert_eq!(c.line().await, ")\r\n");
    assert_eq!(c.until_tagged("a").await, vec!["a OK FETCH completed"]);
    c.send_line("b FETCH 1 BODY.PEEK[]<20.5>").await;
    assert_eq!(c.line().await, "* 1 FETCH (BODY[]<20> {5}\r\n");
    assert_eq!(c.read_exact(5).await, raw[20..25].to_vec());
    c.until_tagged("b").await;
    c.send_line("b2 FETCH 1 BODY.PEEK[]<100000.5>").await;
    assert_eq!(c.line().await, "* 1 FETCH (BODY[]<100000> {0}\r\n");
    c.until_tagged("b2").await;
    c.send_line("c FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject)]").await;
    assert_eq!(c.line().await, "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {18}\r\n");
    assert_eq!(c.read_exact(18).await, b"Subject: hello\r\n\r\n".to_vec());
    c.until_tagged("c").await;
    c.send_line("d FETCH 1 BODY.PEEK[TEXT]").await;
    assert_eq!(c.line().await, "* 1 FETCH (BODY[TEXT] {11}\r\n");
    assert_eq!(c.read_exact(11).await, b"body text\r\n".to_vec());
    c.until_tagged("d").await;
    // Non-PEEK sets \Seen and reports it.
    c.send_line("e FETCH 1 BODY[1]").await;
    assert_eq!(c.line().await, "* 1 FETCH (BODY[1] {11}\r\n");
    c.read_exact(11).await;
    assert_eq!(c.line().await, " FLAGS (\\Seen \\Recent))\r\n");
    c.until_tagged("e").await;
    let r = c.cmd("f FETCH 1 BODY[2]").await;
    assert_eq!(r, vec!["* 1 FETCH (BODY[2] NIL)", "f OK FETCH completed"]);
    c.send_line("g FETCH 1 RFC822.HEADER").await;
    let l = c.line().await;
    assert!(l.starts_with("* 1 FETCH (RFC822.HEADER {"), "{l}");
    srv.stop().await;
}

#[tokio::test]
async fn multipart_binary_bodystructure() {
    let (srv, mut c) = setup(MIME).await;
    let r = c.cmd("a FETCH 1 BODYSTRUCTURE").await;
    assert!(
        r[0].starts_with("* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 5 1"),
        "{r:?}"
    );
    assert!(r[0].contains("\"MIXED\" (\"BOUNDARY\" \"xx\")"), "{r:?}");
    c.send_line("b FETCH 1 (BINARY.PEEK[2] BINARY.SIZE[2])").await;
    assert_eq!(c.line().await, "* 1 FETCH (BINARY[2] ~{4}\r\n");
    assert_eq!(c.read_exact(4).await, vec![0, 1, 2, 3]);
    assert_eq!(c.line().await, " BINARY.SIZE[2] 4)\r\n");
    c.until_tagged("b").await;
    c.send_line("c FETCH 1 BODY.PEEK[2.MIME]").await;
    assert_eq!(c.line().await, "* 1 FETCH (BODY[2.MIME] {77}\r\n");
    assert_eq!(
        c.read_exact(77).await,
        b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec()
    );
    c.until_tagged("c").await;
    c.send_line("d FETCH 1 BODY.PEEK[1]").await;
    assert_eq!(c.line().await, "* 1 FETCH (BODY[1] {5}\r\n");
    assert_eq!(c.read_exact(5).await, b"hello".to_vec());
    c.until_tagged("d").await;
    srv.stop().await;
}

#[tokio::test]
async fn read_only_fetch_does_not_set_seen() {
    let raw = message("hello", "x");
    let srv = Server::start().await;
    srv.deliver(&raw);
    let mut c = srv.login().await;
    c.cmd("s EXAMINE INBOX").await;
    c.send_line("a FETCH 1 RFC822").await;
    let l = c.line().await;
    assert_eq!(l, format!("* 1 FETCH (RFC822 {{{}}}\r\n", raw.len()));
    c.read_exact(raw.len()).await;
    assert_eq!(c.line().await, ")\r\n");
    c.until_tagged("a").await;
    let r = c.cmd("b FETCH 1 FLAGS").await;
    assert_eq!(r[0], "* 1 FETCH (FLAGS (\\Recent))");
    srv.stop().await;
}
