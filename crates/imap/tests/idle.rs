//! IDLE and many sessions on one mailbox: updates reach the others at
//! once during IDLE, at the next command otherwise, and EXPUNGE is held
//! back during FETCH/STORE/SEARCH (RFC 9051 §7.5.1).
mod common;

use std::time::{Duration, Instant};

use common::*;

#[tokio::test]
async fn idle_sees_smtp_delivery_within_a_second() {
    let srv = Server::start().await;
    let mut c = srv.login().await;
    c.cmd("s SELECT INBOX").await;
    c.send_line("i IDLE").await;
    assert_eq!(c.line().await, "+ idling\r\n");
    let t0 = Instant::now();
    srv.deliver(&message("new", "mail"));
    assert_eq!(c.line().await, "* 1 EXISTS\r\n");
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
    assert_eq!(c.line().await, "* 1 RECENT\r\n");
    c.send_line("DONE").await;
    assert_eq!(c.until_tagged("i").await, vec!["i OK IDLE terminated"]);
    srv.stop().await;
}

#[tokio::test]
async fn idle_sees_other_sessions_append_store_expunge() {
    let srv = Server::start().await;
    srv.deliver(&message("a", "1"));
    srv.deliver(&message("b", "2"));
    let mut idler = srv.login().await;
    idler.cmd("e ENABLE IMAP4rev2").await;
    idler.cmd("s SELECT INBOX").await;
    let mut other = srv.login().await;
    other.cmd("s SELECT INBOX").await;
    idler.send_line("i IDLE").await;
    assert_eq!(idler.line().await, "+ idling\r\n");

    other.append("a", "INBOX", "", &message("c", "3")).await;
    assert_eq!(idler.line().await, "* 3 EXISTS\r\n");
    other.cmd("b STORE 1 +FLAGS (\\Seen)").await;
    assert_eq!(idler.line().await, "* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n");
    other.cmd("c STORE 2 +FLAGS.SILENT (\\Deleted)").await;
    assert_eq!(idler.line().await, "* 2 FETCH (UID 2 FLAGS (\\Deleted))\r\n");
    other.cmd("d EXPUNGE").await;
    assert_eq!(idler.line().await, "* 2 EXPUNGE\r\n");
    idler.send_line("DONE").await;
    assert_eq!(idler.until_tagged("i").await, vec!["i OK IDLE terminated"]);
    srv.stop().await;
}

#[tokio::test]
async fn expunge_deferred_during_fetch_store_search() {
    let srv = Server::start().await;
    for i in 0..3 {
        srv.deliver(&message(&format!("m{i}"), "x"));
    }
    let mut a = srv.login().await;
    a.cmd("s SELECT INBOX").await;
    let mut b = srv.login().await;
    b.cmd("s SELECT INBOX").await;
    b.cmd("x STORE 2 +FLAGS.SILENT (\\Deleted)").await;
    b.cmd("y EXPUNGE").await;
    // SEARCH: message 2 keeps its number, no EXPUNGE yet.
    let r = a.cmd("c SEARCH ALL").await;
    assert_eq!(r, vec!["* SEARCH 1 2 3", "c OK SEARCH completed"]);
    // FETCH of the expunged message: the others are answered.
    let r = a.cmd("c2 FETCH 1:3 UID").await;
    assert_eq!(
        r,
        vec![
            "* 1 FETCH (UID 1)",
            "* 2 FETCH (UID 2)",
            "* 3 FETCH (UID 3)",
            "c2 OK FETCH completed"
        ]
    );
    let r = a.cmd("d STORE 3 +FLAGS (\\Seen)").await;
    assert_eq!(r, vec!["* 3 FETCH (FLAGS (\\Seen \\Recent))", "d OK STORE completed"]);
    // NOOP may announce it.
    let r = a.cmd("e NOOP").await;
    assert_eq!(r, vec!["* 2 EXPUNGE", "e OK NOOP completed"]);
    let r = a.cmd("f SEARCH ALL").await;
    assert_eq!(r, vec!["* SEARCH 1 2", "f OK SEARCH completed"]);
    // UID commands may announce expunges.
    b.cmd("x2 STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    b.cmd("y2 EXPUNGE").await;
    let r = a.cmd("g UID SEARCH ALL").await;
    assert_eq!(r, vec!["* 1 EXPUNGE", "* SEARCH 3", "g OK UID SEARCH completed"]);
    srv.stop().await;
}

#[tokio::test]
async fn idle_notices_changes_from_another_process_by_polling() {
    let srv = Server::start_with(mailroom_imap::ImapConfig {
        idle_poll_secs: 1,
        ..Default::default()
    })
    .await;
    let mut c = srv.login().await;
    c.cmd("s SELECT INBOX").await;
    c.send_line("i IDLE").await;
    assert_eq!(c.line().await, "+ idling\r\n");
    // A second Store handle on the same files: its notifier is not ours,
    // as with the CLI in another process.
    let other = mailroom_store::Store::open(&srv.dir.path().join("data")).unwrap();
    let blob = other.prepare_blob(&message("cli", "x")).unwrap();
    other.deliver(&blob, &[srv.account_id], 1).unwrap();
    let l = c.line_within(Duration::from_secs(3)).await;
    assert_eq!(l.as_deref(), Some("* 1 EXISTS\r\n"));
    c.send_line("DONE").await;
    c.until_tagged("i").await;
    srv.stop().await;
}

#[tokio::test]
async fn new_keyword_from_another_session_is_announced() {
    let srv = Server::start().await;
    srv.deliver(&message("a", "1"));
    let mut a = srv.login().await;
    a.cmd("e ENABLE IMAP4rev2").await;
    a.cmd("s SELECT INBOX").await;
    let mut b = srv.login().await;
    b.cmd("s SELECT INBOX").await;
    b.cmd("x STORE 1 +FLAGS.SILENT ($Label1)").await;
    let r = a.cmd("n NOOP").await;
    assert_eq!(
        r,
        vec![
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1)",
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1 \\*)] Flags permitted",
            "* 1 FETCH (UID 1 FLAGS ($Label1))",
            "n OK NOOP completed"
        ]
    );
    srv.stop().await;
}

#[tokio::test]
async fn deleting_a_selected_mailbox_ends_other_sessions() {
    let srv = Server::start().await;
    let mut a = srv.login().await;
    a.cmd("c CREATE Temp").await;
    a.cmd("s SELECT Temp").await;
    let mut b = srv.login().await;
    assert_eq!(b.cmd("d DELETE Temp").await, vec!["d OK DELETE completed"]);
    a.send_line("n NOOP").await;
    assert_eq!(a.line().await, "* BYE Selected mailbox was deleted\r\n");
    assert_eq!(a.line().await, "n OK NOOP completed\r\n");
    assert_eq!(a.line().await, "");
    srv.stop().await;
}

#[tokio::test]
async fn sequence_numbers_refer_to_the_clients_view() {
    let srv = Server::start().await;
    for i in 0..3 {
        srv.deliver(&message(&format!("m{i}"), "x"));
    }
    let mut a = srv.login().await;
    a.cmd("s SELECT INBOX").await;
    let mut b = srv.login().await;
    b.cmd("s SELECT INBOX").await;
    b.cmd("x STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    b.cmd("y EXPUNGE").await;
    // `a` still calls UID 3 message 3: COPY must copy UID 3, then announce.
    let r = a.cmd("c COPY 3 Archive").await;
    assert_eq!(r[0], "* 1 EXPUNGE");
    assert!(r[1].starts_with("c OK [COPYUID ") && r[1].contains(" 3 1]"), "{r:?}");
    srv.stop().await;
}

/// Commands skip the store read when the account's change signal is quiet;
/// another process does not signal, so NOOP always reads.
#[tokio::test]
async fn noop_sees_changes_from_another_process_at_once() {
    let srv = Server::start().await;
    let mut c = srv.login().await;
    c.cmd("s SELECT INBOX").await;
    let other = mailroom_store::Store::open(&srv.dir.path().join("data")).unwrap();
    let blob = other.prepare_blob(&message("cli", "x")).unwrap();
    other.deliver(&blob, &[srv.account_id], 1).unwrap();
    assert_eq!(
        c.cmd("n NOOP").await,
        vec!["* 1 EXISTS", "* 1 RECENT", "n OK NOOP completed"]
    );
    srv.stop().await;
}

/// A session's own STORE does not make it read its own change back, but a
/// change by another session committed around it is still reported.
#[tokio::test]
async fn own_store_then_other_sessions_change_both_seen() {
    let srv = Server::start().await;
    srv.deliver(&message("a", "1"));
    srv.deliver(&message("b", "2"));
    let mut a = srv.login().await;
    a.cmd("e ENABLE IMAP4rev2").await;
    a.cmd("s SELECT INBOX").await;
    let mut b = srv.login().await;
    b.cmd("s SELECT INBOX").await;
    assert_eq!(
        a.cmd("x STORE 1 +FLAGS (\\Flagged)").await,
        vec!["* 1 FETCH (FLAGS (\\Flagged))", "x OK STORE completed"]
    );
    assert_eq!(a.cmd("n NOOP").await, vec!["n OK NOOP completed"]);
    b.cmd("y STORE 2 +FLAGS.SILENT (\\Seen)").await;
    assert_eq!(
        a.cmd("z UID FETCH 1 (FLAGS)").await,
        vec![
            "* 2 FETCH (UID 2 FLAGS (\\Seen))",
            "* 1 FETCH (UID 1 FLAGS (\\Flagged))",
            "z OK UID FETCH completed"
        ]
    );
    assert_eq!(
        a.cmd("w STORE 1 -FLAGS (\\Flagged)").await,
        vec!["* 1 FETCH (FLAGS ())", "w OK STORE completed"]
    );
    assert_eq!(a.cmd("n NOOP").await, vec!["n OK NOOP completed"]);
    srv.stop().await;
}
