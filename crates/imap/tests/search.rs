//! SEARCH, UID SEARCH, ESEARCH, SEARCHRES.
mod common;

use common::*;

async fn setup() -> (Server, Client) {
    let srv = Server::start().await;
    srv.deliver(
        b"From: Alice Smith <alice@example.test>\r\nTo: bob@example.test\r\nCc: carol@example.test\r\nSubject: Lunch plans\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\nX-Tag: red\r\n\r\nLet's meet at noon.\r\n",
    );
    srv.deliver(
        b"From: =?UTF-8?B?SsO8cmdlbg==?= <j@example.test>\r\nTo: bob@example.test\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\nDate: Tue, 8 Feb 1994 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nSch=C3=B6ne Gr=C3=BC=C3=9Fe aus M=C3=BCnchen\r\n",
    );
    srv.deliver(&message(
        "third",
        "a much longer body to make this one the largest message of all three",
    ));
    let mut c = srv.login().await;
    c.cmd("s SELECT INBOX").await;
    c.cmd("f STORE 2 +FLAGS.SILENT (\\Flagged $Todo)").await;
    (srv, c)
}

async fn search(c: &mut Client, q: &str) -> String {
    let r = c.cmd(&format!("t {q}")).await;
    assert!(r.last().unwrap().starts_with("t OK"), "{q}: {r:?}");
    r[0].clone()
}

#[tokio::test]
async fn keys() {
    let (srv, mut c) = setup().await;
    assert_eq!(search(&mut c, "SEARCH ALL").await, "* SEARCH 1 2 3");
    assert_eq!(search(&mut c, "SEARCH FLAGGED").await, "* SEARCH 2");
    assert_eq!(search(&mut c, "SEARCH KEYWORD $todo").await, "* SEARCH 2");
    assert_eq!(search(&mut c, "SEARCH UNKEYWORD $Todo").await, "* SEARCH 1 3");
    assert_eq!(search(&mut c, "SEARCH NOT FLAGGED").await, "* SEARCH 1 3");
    assert_eq!(search(&mut c, "SEARCH OR 1 3").await, "* SEARCH 1 3");
    assert_eq!(search(&mut c, "SEARCH FROM smith").await, "* SEARCH 1");
    assert_eq!(search(&mut c, "SEARCH FROM {7+}\r\njürgen").await, "* SEARCH 2");
    assert_eq!(
        search(&mut c, "SEARCH CHARSET UTF-8 SUBJECT {7+}\r\ngrüße").await,
        "* SEARCH 2"
    );
    assert_eq!(search(&mut c, "SEARCH BODY \"MÜNCHEN\"").await, "* SEARCH 2");
    assert_eq!(search(&mut c, "SEARCH TEXT noon").await, "* SEARCH 1");
    assert_eq!(search(&mut c, "SEARCH TEXT lunch").await, "* SEARCH 1");
    assert_eq!(search(&mut c, "SEARCH HEADER X-Tag RED").await, "* SEARCH 1");
    assert_eq!(search(&mut c, "SEARCH HEADER X-Tag \"\"").await, "* SEARCH 1");
    assert_eq!(search(&mut c, "SEARCH CC carol").await, "* SEARCH 1");
    assert_eq!(search(&mut c, "SEARCH TO bob SUBJECT third").await, "* SEARCH 3");
    assert_eq!(search(&mut c, "SEARCH SENTON 7-Feb-1994").await, "* SEARCH 1");
    assert_eq!(search(&mut c, "SEARCH SENTBEFORE 8-Feb-1994").await, "* SEARCH 1");
    assert_eq!(search(&mut c, "SEARCH SENTSINCE 8-Feb-1994").await, "* SEARCH 2 3");
    let sizes: Vec<u64> = srv
        .store
        .messages(srv.store.mailbox_get(srv.account_id, "INBOX").unwrap().unwrap().id)
        .unwrap()
        .iter()
        .map(|m| m.size)
        .collect();
    let s1 = sizes[0];
    assert!(sizes[1] > s1 && sizes[2] > s1);
    assert_eq!(search(&mut c, &format!("SEARCH LARGER {s1}")).await, "* SEARCH 2 3");
    assert_eq!(
        search(&mut c, &format!("SEARCH SMALLER {}", s1 + 1)).await,
        "* SEARCH 1"
    );
    assert_eq!(search(&mut c, "SEARCH RECENT").await, "* SEARCH 1 2 3");
    assert_eq!(search(&mut c, "SEARCH NEW").await, "* SEARCH 1 2 3");
    assert_eq!(search(&mut c, "SEARCH OLD").await, "* SEARCH");
    assert_eq!(search(&mut c, "SEARCH SINCE 1-Jan-2020").await, "* SEARCH 1 2 3");
    assert_eq!(search(&mut c, "SEARCH BEFORE 1-Jan-2020").await, "* SEARCH");
    assert_eq!(search(&mut c, "SEARCH OLDER 60").await, "* SEARCH 1 2 3");
    assert_eq!(search(&mut c, "SEARCH YOUNGER 60").await, "* SEARCH");
    assert_eq!(search(&mut c, "SEARCH 2:*").await, "* SEARCH 2 3");
    assert_eq!(search(&mut c, "UID SEARCH UID 2:3 (UNFLAGGED)").await, "* SEARCH 3");
    let r = c.cmd("u SEARCH CHARSET KOI8-R ALL").await;
    assert_eq!(r, vec!["u NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset"]);
    srv.stop().await;
}

#[tokio::test]
async fn esearch_and_searchres() {
    let (srv, mut c) = setup().await;
    let r = c.cmd("a SEARCH RETURN (MIN MAX COUNT) ALL").await;
    assert_eq!(
        r,
        vec!["* ESEARCH (TAG \"a\") MIN 1 MAX 3 COUNT 3", "a OK SEARCH completed"]
    );
    let r = c.cmd("b UID SEARCH RETURN () 1:2").await;
    assert_eq!(
        r,
        vec!["* ESEARCH (TAG \"b\") UID ALL 1:2", "b OK UID SEARCH completed"]
    );
    let r = c.cmd("c SEARCH RETURN (COUNT) DELETED").await;
    assert_eq!(r, vec!["* ESEARCH (TAG \"c\") COUNT 0", "c OK SEARCH completed"]);
    // RFC 5182: SAVE alone sends no ESEARCH.
    let r = c.cmd("d SEARCH RETURN (SAVE) OR 1 3").await;
    assert_eq!(r, vec!["d OK SEARCH completed"]);
    let r = c.cmd("e SEARCH $").await;
    assert_eq!(r, vec!["* SEARCH 1 3", "e OK SEARCH completed"]);
    let r = c.cmd("f UID STORE $ +FLAGS (\\Answered)").await;
    assert_eq!(r.len(), 3, "{r:?}");
    // rev2: plain SEARCH answers with ESEARCH.
    let mut c2 = srv.login().await;
    c2.cmd("x ENABLE IMAP4rev2").await;
    c2.cmd("y SELECT INBOX").await;
    let r = c2.cmd("g SEARCH ANSWERED").await;
    assert_eq!(r, vec!["* ESEARCH (TAG \"g\") ALL 1,3", "g OK SEARCH completed"]);
    srv.stop().await;
}

/// Found by differential testing against Dovecot: TO/CC/FROM/BCC did not
/// match a group's display name, which is part of the envelope field
/// (RFC 9051 §6.4.4 "in the envelope structure's TO field").
#[tokio::test]
async fn address_keys_match_group_names() {
    let srv = Server::start().await;
    srv.deliver(b"From: a@example.test\r\nTo: Friends: bob@example.test, carol@example.test;\r\nCc: undisclosed-recipients:;\r\nSubject: g\r\n\r\nbody\r\n");
    srv.deliver(&message("plain", "body"));
    let mut c = srv.login().await;
    c.cmd("s SELECT INBOX").await;
    assert_eq!(search(&mut c, "SEARCH TO friends").await, "* SEARCH 1");
    assert_eq!(search(&mut c, "SEARCH CC undisclosed").await, "* SEARCH 1");
    assert_eq!(search(&mut c, "SEARCH TO carol").await, "* SEARCH 1");
    assert_eq!(search(&mut c, "SEARCH TO nobody").await, "* SEARCH");
    // imaptest search-header: SUBJECT "" matches messages that have one.
    c.send(b"x APPEND INBOX {12}\r\nX: y\r\n\r\nbody\r\n").await;
    assert!(c.line().await.starts_with("+ "));
    c.until_tagged("x").await;
    assert_eq!(search(&mut c, "SEARCH SUBJECT \"\"").await, "* SEARCH 1 2");
    srv.stop().await;
}
