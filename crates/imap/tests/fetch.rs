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
        // "hello" then the boundary's CRLF: 0 line ends in the part.
        r[0].starts_with("* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 5 0"),
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

/// Found by differential testing against Dovecot: ENVELOPE display names
/// went out RFC 2047-decoded (as 8-bit literals to rev1 clients) while the
/// subject was raw. RFC 9051 §7.5.2 fields are the header's own strings.
#[tokio::test]
async fn envelope_address_names_are_raw() {
    let raw = b"From: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>\r\n\
To: Friends: bob@example.test, \"Carol, Q.\" <carol@example.test>;, dave@example.test (Dave D)\r\n\
Subject: =?UTF-8?B?w6k=?=\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\
\r\n\
--b\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.test>\r\n\
Subject: inner\r\n\
\r\n\
inner body\r\n\
--b--\r\n";
    let (srv, mut c) = setup(raw).await;
    let r = c.cmd("a FETCH 1 ENVELOPE").await;
    assert_eq!(
        r,
        vec![
            "* 1 FETCH (ENVELOPE (NIL \"=?UTF-8?B?w6k=?=\" \
((\"=?ISO-8859-1?Q?Andr=E9?= Pirard\" NIL \"PIRARD\" \"vm1.ulg.ac.be\")) \
((\"=?ISO-8859-1?Q?Andr=E9?= Pirard\" NIL \"PIRARD\" \"vm1.ulg.ac.be\")) \
((\"=?ISO-8859-1?Q?Andr=E9?= Pirard\" NIL \"PIRARD\" \"vm1.ulg.ac.be\")) \
((NIL NIL \"Friends\" NIL)(NIL NIL \"bob\" \"example.test\")(\"Carol, Q.\" NIL \"carol\" \"example.test\")(NIL NIL NIL NIL)\
(\"Dave D\" NIL \"dave\" \"example.test\")) NIL NIL NIL NIL))",
            "a OK FETCH completed"
        ]
    );
    let r = c.cmd("b FETCH 1 BODYSTRUCTURE").await;
    assert!(
        r[0].contains("((\"=?UTF-8?Q?J=C3=BCrgen?=\" NIL \"j\" \"example.test\"))"),
        "{r:?}"
    );
    srv.stop().await;
}

/// Found by differential testing against Dovecot: INTERNALDATE used the
/// space-padded day (` 7-Feb-1994`). The grammar allows it, but Dovecot,
/// Cyrus and Gmail write `07-`, and fixed-width client parsers need that.
#[tokio::test]
async fn internaldate_day_has_two_digits() {
    let srv = Server::start().await;
    let mut c = srv.login().await;
    c.send_line("a APPEND INBOX \" 7-Feb-1994 21:52:25 -0800\" {8}").await;
    assert!(c.line().await.starts_with("+ "));
    c.send(b"X: y\r\n\r\n\r\n").await;
    assert!(c.until_tagged("a").await.last().is_some_and(|l| l.starts_with("a OK")));
    c.cmd("b SELECT INBOX").await;
    assert_eq!(
        c.cmd("c FETCH 1 INTERNALDATE").await,
        vec![
            "* 1 FETCH (INTERNALDATE \"07-Feb-1994 21:52:25 -0800\")",
            "c OK FETCH completed"
        ]
    );
    srv.stop().await;
}

/// Found by differential testing against Dovecot: body line counts also
/// counted an unterminated last line. The CRLF before a boundary belongs to
/// the boundary (RFC 2046 §5.1.1), so a part "one" has 0 lines; Dovecot and
/// Cyrus count line ends.
#[tokio::test]
async fn body_lines_count_line_ends() {
    let raw = b"From: a@example.test\r\nSubject: lines\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=X\r\n\r\n--X\r\nContent-Type: text/plain\r\n\r\none\r\n\
--X\r\nContent-Type: text/plain\r\n\r\ntwo\r\nthree\r\n\r\n--X--\r\n";
    let (srv, mut c) = setup(raw).await;
    let r = c.cmd("a FETCH 1 BODY").await;
    assert_eq!(
        r[0],
        "* 1 FETCH (BODY ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 3 0)\
(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 12 2) \"ALTERNATIVE\"))"
    );
    srv.stop().await;
}

/// Found by differential testing against Dovecot: rev1 BODYSTRUCTURE sent
/// parameters decoded (RFC 2047 words, RFC 2231 charsets) as 8-bit
/// literals. A rev1 client now gets them as written, continuations joined
/// (what Dovecot and Cyrus send); a rev2 client gets them decoded (RFC 9051
/// §7.5.2).
#[tokio::test]
async fn bodystructure_params_raw_for_rev1_decoded_for_rev2() {
    let raw = b"From: a@example.test\r\nSubject: params\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
Content-Type: application/pdf; name=\"=?UTF-8?Q?r=C3=A9sum=C3=A9.pdf?=\"\r\n\
Content-Disposition: attachment; filename*0*=UTF-8''r%C3%A9sum; filename*1=\"%C3%A9.pdf\"\r\n\
\r\nJVBERi0=\r\n--b--\r\n";
    let (srv, mut c) = setup(raw).await;
    let r = c.cmd("a FETCH 1 BODYSTRUCTURE").await;
    assert_eq!(
        r[0],
        "* 1 FETCH (BODYSTRUCTURE ((\"APPLICATION\" \"PDF\" (\"NAME\" \"=?UTF-8?Q?r=C3=A9sum=C3=A9.pdf?=\") NIL NIL \
\"7BIT\" 8 NIL (\"ATTACHMENT\" (\"FILENAME*\" \"UTF-8''r%C3%A9sum%C3%A9.pdf\")) NIL NIL) \"MIXED\" (\"BOUNDARY\" \"b\") NIL NIL NIL))"
    );
    let mut d = srv.login().await;
    d.cmd("b ENABLE IMAP4rev2").await;
    d.cmd("c SELECT INBOX").await;
    let r = d.cmd("d FETCH 1 BODYSTRUCTURE").await;
    assert!(r[0].contains("(\"NAME\" \"r\u{e9}sum\u{e9}.pdf\")"), "{r:?}");
    srv.stop().await;
}

/// The raw re-read of ENVELOPE addresses is bounded: a header block over
/// 256 KiB keeps the stored parse's (decoded) values.
#[tokio::test]
async fn huge_header_keeps_stored_envelope() {
    let mut raw = b"From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.test>\r\n".to_vec();
    for i in 0..3000 {
        raw.extend_from_slice(format!("X-Filler-{i}: {}\r\n", "x".repeat(90)).as_bytes());
    }
    raw.extend_from_slice(b"Subject: big\r\n\r\nbody\r\n");
    let (srv, mut c) = setup(&raw).await;
    let r = c.cmd("a FETCH 1 ENVELOPE").await;
    // The stored (decoded) name: an 8-bit literal, not the raw word.
    assert!(r[0].ends_with("(({7}") && !r.concat().contains("=?UTF-8?"), "{r:?}");
    assert_eq!(r.last().map(String::as_str), Some("a OK FETCH completed"));
    srv.stop().await;
}

/// Found by running imaptest's fetch-binary-mime script against Mailroom and
/// Dovecot: BINARY with section text (HEADER, TEXT, MIME, HEADER.FIELDS)
/// was BAD. RFC 3516's grammar has part numbers only, but Dovecot answers
/// these (with BODY[section]'s data) and imaptest expects it.
#[tokio::test]
async fn binary_with_section_text() {
    let (srv, mut c) = setup(MIME).await;
    c.send_line("a FETCH 1 (BINARY.SIZE[1.MIME] BINARY.PEEK[1.MIME] BINARY.SIZE[HEADER.FIELDS (Subject)])")
        .await;
    assert_eq!(
        c.line().await,
        "* 1 FETCH (BINARY.SIZE[1.MIME] 43 BINARY[1.MIME] {43}\r\n"
    );
    assert_eq!(
        c.read_exact(43).await,
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    );
    assert_eq!(c.line().await, " BINARY.SIZE[HEADER.FIELDS (SUBJECT)] 18)\r\n");
    assert_eq!(c.until_tagged("a").await, vec!["a OK FETCH completed"]);
    srv.stop().await;
}

/// Found by review: repeating an item made us build its data once per
/// repetition (a cheap way to exhaust memory). Items are answered once,
/// and a FETCH names at most 100 distinct items.
#[tokio::test]
async fn repeated_items_are_answered_once_and_items_are_bounded() {
    let srv = Server::start().await;
    let mut c = srv.login().await;
    c.send_line("a APPEND INBOX {8}").await;
    assert!(c.line().await.starts_with("+ "));
    c.send(b"X: y\r\n\r\n\r\n").await;
    assert!(c.until_tagged("a").await.last().is_some_and(|l| l.starts_with("a OK")));
    c.cmd("b SELECT INBOX").await;
    let r = c.cmd("c FETCH 1 (UID BODY.PEEK[HEADER] UID BODY.PEEK[HEADER])").await;
    assert_eq!(
        r,
        vec![
            "* 1 FETCH (UID 1 BODY[HEADER] {8}",
            "X: y",
            "",
            ")",
            "c OK FETCH completed"
        ]
    );
    let many: Vec<String> = (0..101).map(|i| format!("BODY.PEEK[HEADER.FIELDS (X{i})]")).collect();
    let r = c.cmd(&format!("d FETCH 1 ({})", many.join(" "))).await;
    assert_eq!(
        r.last().map(String::as_str),
        Some("d BAD Too many FETCH items (at most 100)"),
        "{r:?}"
    );
    srv.stop().await;
}
