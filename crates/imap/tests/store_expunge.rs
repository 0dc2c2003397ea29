//! STORE, EXPUNGE, UID EXPUNGE, CLOSE, COPY, MOVE.
mod common;

use common::*;

async fn setup(n: usize) -> (Server, Client) {
    let srv = Server::start().await;
    for i in 0..n {
        srv.deliver(&message(&format!("m{i}"), "body"));
    }
    let mut c = srv.login().await;
    c.cmd("s SELECT INBOX").await;
    (srv, c)
}

#[tokio::test]
async fn store_flags_variants() {
    let (srv, mut c) = setup(3).await;
    let r = c.cmd("a STORE 1 +FLAGS (\\Seen $Work)").await;
    // A new keyword is announced first (RFC 9051 §7.3.5).
    assert_eq!(
        r,
        vec![
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)",
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work \\*)] Flags permitted",
            "* 1 FETCH (FLAGS (\\Seen $Work \\Recent))",
            "a OK STORE completed"
        ]
    );
    let r = c.cmd("b STORE 1:2 -FLAGS.SILENT (\\Seen)").await;
    assert_eq!(r, vec!["b OK STORE completed"]);
    let r = c.cmd("c UID STORE 2:* FLAGS (\\Flagged)").await;
    assert_eq!(
        r,
        vec![
            "* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent))",
            "* 3 FETCH (UID 3 FLAGS (\\Flagged \\Recent))",
            "c OK UID STORE completed"
        ]
    );
    let r = c.cmd("d STORE 4 +FLAGS (\\Seen)").await;
    assert_eq!(r, vec!["d BAD Invalid message sequence number"]);
    let mut ro = srv.login().await;
    ro.cmd("e EXAMINE INBOX").await;
    assert_eq!(
        ro.cmd("f STORE 1 +FLAGS (\\Seen)").await,
        vec!["f NO [READ-ONLY] Mailbox is read-only"]
    );
    srv.stop().await;
}

#[tokio::test]
async fn expunge_and_uid_expunge() {
    let (srv, mut c) = setup(5).await;
    c.cmd("a STORE 2,4,5 +FLAGS.SILENT (\\Deleted)").await;
    let r = c.cmd("b UID EXPUNGE 4:5").await;
    assert_eq!(r, vec!["* 5 EXPUNGE", "* 4 EXPUNGE", "b OK UID EXPUNGE completed"]);
    let r = c.cmd("c EXPUNGE").await;
    assert_eq!(r, vec!["* 2 EXPUNGE", "c OK EXPUNGE completed"]);
    let r = c.cmd("d SEARCH ALL").await;
    assert_eq!(r, vec!["* SEARCH 1 2", "d OK SEARCH completed"]);
    c.cmd("e STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    // CLOSE expunges silently.
    assert_eq!(c.cmd("f CLOSE").await, vec!["f OK CLOSE completed"]);
    let inbox = srv.store.mailbox_get(srv.account_id, "INBOX").unwrap().unwrap();
    assert_eq!(srv.store.messages(inbox.id).unwrap().len(), 1);
    // UNSELECT does not.
    c.cmd("g SELECT INBOX").await;
    c.cmd("h STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    assert_eq!(c.cmd("i UNSELECT").await, vec!["i OK UNSELECT completed"]);
    assert_eq!(srv.store.messages(inbox.id).unwrap().len(), 1);
    srv.stop().await;
}

#[tokio::test]
async fn copy_and_move_with_copyuid() {
    let (srv, mut c) = setup(3).await;
    let arch = srv.store.mailbox_get(srv.account_id, "Archive").unwrap().unwrap();
    let uv = arch.uidvalidity;
    let r = c.cmd("a COPY 1:2 Archive").await;
    assert_eq!(r, vec![format!("a OK [COPYUID {uv} 1:2 1:2] COPY completed")]);
    let r = c.cmd("b COPY 1 Nope").await;
    assert_eq!(r, vec!["b NO [TRYCREATE] Mailbox does not exist"]);
    let r = c.cmd("c UID MOVE 2:3 Archive").await;
    assert_eq!(
        r,
        vec![
            format!("* OK [COPYUID {uv} 2:3 3:4] Moved"),
            "* 3 EXPUNGE".into(),
            "* 2 EXPUNGE".into(),
            "c OK UID MOVE completed".into()
        ]
    );
    let r = c.cmd("d MOVE 1 Trash").await;
    assert_eq!(r.len(), 3, "{r:?}");
    assert_eq!(r[1], "* 1 EXPUNGE");
    assert_eq!(srv.store.messages(arch.id).unwrap().len(), 4);
    // A UID set naming nothing is fine.
    assert_eq!(c.cmd("e UID COPY 99 Archive").await, vec!["e OK UID COPY completed"]);
    srv.stop().await;
}

/// Found by differential testing against Dovecot: COPY of a message another
/// session had expunged (not yet reported to this one) copied nothing and
/// still answered OK, so the client believed the copy had happened.
#[tokio::test]
async fn copy_of_message_expunged_elsewhere_is_no_expungeissued() {
    let (srv, mut c) = setup(3).await;
    let mut d = srv.login().await;
    d.cmd("a SELECT INBOX").await;
    d.cmd("b STORE 2 +FLAGS.SILENT (\\Deleted)").await;
    d.cmd("c EXPUNGE").await;
    let r = c.cmd("d COPY 2 Archive").await;
    assert_eq!(
        r.last().map(String::as_str),
        Some("d NO [EXPUNGEISSUED] The messages were expunged"),
        "{r:?}"
    );
    let arch = srv.store.mailbox_get(srv.account_id, "Archive").unwrap().unwrap();
    assert!(srv.store.messages(arch.id).unwrap().is_empty());
    srv.stop().await;
}
