//! SELECT, EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE, LIST, LSUB,
//! NAMESPACE, STATUS.
mod common;

use common::*;

#[tokio::test]
async fn select_rev1_and_rev2() {
    let srv = Server::start().await;
    srv.deliver(&message("one", "1"));
    srv.deliver(&message("two", "2"));
    let mut c = srv.login().await;
    let r = c.cmd("a SELECT inbox").await;
    let uv = srv
        .store
        .mailbox_get(srv.account_id, "INBOX")
        .unwrap()
        .unwrap()
        .uidvalidity;
    assert_eq!(
        r,
        vec![
            "* 2 EXISTS".to_string(),
            "* 2 RECENT".into(),
            "* OK [UNSEEN 1] First unseen".into(),
            format!("* OK [UIDVALIDITY {uv}] UIDs valid"),
            "* OK [UIDNEXT 3] Predicted next UID".into(),
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)".into(),
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted".into(),
            "a OK [READ-WRITE] SELECT completed".into(),
        ]
    );
    // \Recent went to the first session only (RFC 3501 §2.3.2).
    let mut c2 = srv.login().await;
    let r = c2.cmd("b EXAMINE INBOX").await;
    assert!(r.contains(&"* 0 RECENT".to_string()), "{r:?}");
    assert_eq!(r.last().unwrap(), "b OK [READ-ONLY] EXAMINE completed");
    assert!(r.contains(&"* OK [PERMANENTFLAGS ()] Read-only mailbox".to_string()));

    let mut c3 = srv.login().await;
    c3.cmd("e ENABLE IMAP4rev2").await;
    let r = c3.cmd("c SELECT INBOX").await;
    assert!(!r.iter().any(|l| l.contains("RECENT") || l.contains("UNSEEN")), "{r:?}");
    assert!(r.contains(&"* LIST () \"/\" \"INBOX\"".to_string()), "{r:?}");
    // Selecting again closes the first mailbox (RFC 9051 §6.3.2).
    let r = c3.cmd("d SELECT Nope").await;
    assert_eq!(
        r,
        vec![
            "* OK [CLOSED] Previous mailbox closed",
            "d NO [NONEXISTENT] Mailbox does not exist"
        ]
    );
    let r = c3.cmd("f FETCH 1 FLAGS").await;
    assert_eq!(r, vec!["f BAD No mailbox selected"]);
    srv.stop().await;
}

#[tokio::test]
async fn create_delete_rename_list() {
    let srv = Server::start().await;
    let mut c = srv.login().await;
    let r = c.cmd("a LIST \"\" \"\"").await;
    assert_eq!(r, vec!["* LIST (\\Noselect) \"/\" \"\"", "a OK LIST completed"]);
    let r = c.cmd("b LIST \"\" *").await;
    assert_eq!(
        r,
        vec![
            "* LIST (\\HasNoChildren \\Archive) \"/\" \"Archive\"",
            "* LIST (\\HasNoChildren \\Drafts) \"/\" \"Drafts\"",
            "* LIST (\\HasNoChildren) \"/\" \"INBOX\"",
            "* LIST (\\HasNoChildren \\Junk) \"/\" \"Junk\"",
            "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent\"",
            "* LIST (\\HasNoChildren \\Trash) \"/\" \"Trash\"",
            "b OK LIST completed",
        ]
    );
    let r = c.cmd("b2 LIST \"\" inbox").await;
    assert_eq!(
        r,
        vec!["* LIST (\\HasNoChildren) \"/\" \"INBOX\"", "b2 OK LIST completed"]
    );
    assert_eq!(c.cmd("c CREATE Work/Projects/").await, vec!["c OK CREATE completed"]);
    assert_eq!(
        c.cmd("d CREATE Work").await,
        vec!["d NO [ALREADYEXISTS] Mailbox already exists"]
    );
    assert_eq!(
        c.cmd("d2 CREATE inbox").await,
        vec!["d2 NO [ALREADYEXISTS] INBOX always exists"]
    );
    let r = c.cmd("e LIST \"\" %").await;
    assert!(
        r.contains(&"* LIST (\\HasChildren) \"/\" \"Work\"".to_string()),
        "{r:?}"
    );
    let r = c.cmd("f LIST Work/ %").await;
    assert_eq!(
        r,
        vec![
            "* LIST (\\HasNoChildren) \"/\" \"Work/Projects\"",
            "f OK LIST completed"
        ]
    );
    assert_eq!(
        c.cmd("g DELETE Work").await,
        vec!["g NO [HASCHILDREN] Mailbox has children, delete them first"]
    );
    assert_eq!(c.cmd("h RENAME Work Job").await, vec!["h OK RENAME completed"]);
    let r = c.cmd("i LIST \"\" Job*").await;
    assert_eq!(
        r,
        vec![
            "* LIST (\\HasChildren) \"/\" \"Job\"",
            "* LIST (\\HasNoChildren) \"/\" \"Job/Projects\"",
            "i OK LIST completed"
        ]
    );
    assert_eq!(c.cmd("j DELETE Job/Projects").await, vec!["j OK DELETE completed"]);
    assert_eq!(
        c.cmd("k DELETE Job/Projects").await,
        vec!["k NO [NONEXISTENT] Mailbox does not exist"]
    );
    assert_eq!(
        c.cmd("l DELETE INBOX").await,
        vec!["l NO [CANNOT] INBOX cannot be deleted"]
    );
    assert_eq!(
        c.cmd("m RENAME Nope Other").await,
        vec!["m NO [NONEXISTENT] Mailbox does not exist"]
    );
    // CREATE-SPECIAL-USE (RFC 6154 §3).
    assert_eq!(
        c.cmd("n CREATE Everything (USE (\\All))").await,
        vec!["n OK CREATE completed"]
    );
    let r = c.cmd("o LIST (SPECIAL-USE) \"\" *").await;
    assert!(
        r.contains(&"* LIST (\\HasNoChildren \\All) \"/\" \"Everything\"".to_string()),
        "{r:?}"
    );
    assert!(!r.iter().any(|l| l.contains("\"INBOX\"")), "{r:?}");
    assert_eq!(
        c.cmd("p CREATE Bogus (USE (\\Important))").await,
        vec!["p NO [USEATTR] Unsupported special-use attribute"]
    );
    srv.stop().await;
}

#[tokio::test]
async fn subscriptions_lsub_and_list_extended() {
    let srv = Server::start().await;
    let mut c = srv.login().await;
    c.cmd("a CREATE Lists/Rust").await;
    assert_eq!(c.cmd("b SUBSCRIBE Lists/Rust").await, vec!["b OK SUBSCRIBE completed"]);
    c.cmd("c SUBSCRIBE Gone").await;
    c.cmd("c2 SUBSCRIBE INBOX").await;
    // New accounts are subscribed to their default mailboxes.
    for m in ["Archive", "Drafts", "Junk", "Sent", "Trash"] {
        c.cmd(&format!("u UNSUBSCRIBE {m}")).await;
    }
    let r = c.cmd("d LSUB \"\" *").await;
    assert_eq!(
        r,
        vec![
            "* LSUB () \"/\" \"Gone\"",
            "* LSUB () \"/\" \"INBOX\"",
            "* LSUB () \"/\" \"Lists/Rust\"",
            "d OK LSUB completed"
        ]
    );
    let r = c.cmd("e LSUB \"\" %").await;
    assert!(r.contains(&"* LSUB (\\Noselect) \"/\" \"Lists\"".to_string()), "{r:?}");
    // RFC 5258 §5 examples, adapted.
    let r = c.cmd("f LIST (SUBSCRIBED) \"\" *").await;
    assert_eq!(
        r,
        vec![
            "* LIST (\\NonExistent \\Subscribed) \"/\" \"Gone\"",
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"INBOX\"",
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"Lists/Rust\"",
            "f OK LIST completed"
        ]
    );
    let r = c.cmd("g LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %").await;
    assert!(
        r.contains(&"* LIST (\\HasChildren) \"/\" \"Lists\" (\"CHILDINFO\" (\"SUBSCRIBED\"))".to_string()),
        "{r:?}"
    );
    let r = c.cmd("h LIST (RECURSIVEMATCH) \"\" %").await;
    assert!(r[0].starts_with("h BAD"), "{r:?}");
    let r = c.cmd("i LIST \"\" (INBOX Lists) RETURN (SUBSCRIBED CHILDREN)").await;
    assert_eq!(
        r,
        vec![
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"INBOX\"",
            "* LIST (\\HasChildren) \"/\" \"Lists\"",
            "i OK LIST completed"
        ]
    );
    assert_eq!(c.cmd("j UNSUBSCRIBE Gone").await, vec!["j OK UNSUBSCRIBE completed"]);
    let r = c.cmd("k NAMESPACE").await;
    assert_eq!(
        r,
        vec!["* NAMESPACE ((\"\" \"/\")) NIL NIL", "k OK NAMESPACE completed"]
    );
    srv.stop().await;
}

#[tokio::test]
async fn status_and_list_status() {
    let srv = Server::start().await;
    srv.deliver(&message("one", "hello"));
    let size = message("one", "hello").len();
    let mut c = srv.login().await;
    let r = c
        .cmd("a STATUS INBOX (MESSAGES UIDNEXT UNSEEN DELETED SIZE RECENT)")
        .await;
    assert_eq!(
        r,
        vec![
            format!("* STATUS \"INBOX\" (MESSAGES 1 UIDNEXT 2 UNSEEN 1 DELETED 0 SIZE {size} RECENT 1)"),
            "a OK STATUS completed".into()
        ]
    );
    let r = c.cmd("b STATUS Nope (MESSAGES)").await;
    assert_eq!(r, vec!["b NO [NONEXISTENT] Mailbox does not exist"]);
    let r = c.cmd("c LIST \"\" INBOX RETURN (STATUS (MESSAGES UNSEEN))").await;
    assert_eq!(
        r,
        vec![
            "* LIST (\\HasNoChildren) \"/\" \"INBOX\"",
            "* STATUS \"INBOX\" (MESSAGES 1 UNSEEN 1)",
            "c OK LIST completed"
        ]
    );
    srv.stop().await;
}

#[tokio::test]
async fn international_names_mutf7_and_utf8() {
    let srv = Server::start().await;
    let mut c = srv.login().await;
    assert_eq!(c.cmd("a CREATE Entw&APw-rfe").await, vec!["a OK CREATE completed"]);
    let r = c.cmd("b LIST \"\" Entw*").await;
    assert_eq!(
        r,
        vec!["* LIST (\\HasNoChildren) \"/\" \"Entw&APw-rfe\"", "b OK LIST completed"]
    );
    assert!(
        srv.store
            .mailbox_get(srv.account_id, "Entw\u{fc}rfe")
            .unwrap()
            .is_some()
    );
    let mut c2 = srv.login().await;
    c2.cmd("e ENABLE IMAP4rev2").await;
    let r = c2.cmd("c LIST \"\" Entw*").await;
    assert_eq!(r[0], "* LIST (\\HasNoChildren) \"/\" \"Entw\u{fc}rfe\"");
    srv.stop().await;
}

/// Found by differential testing against Dovecot: STATUS on the selected
/// mailbox said RECENT 0 for messages this very session holds as \Recent,
/// and a repeated attribute was answered twice.
#[tokio::test]
async fn status_of_selected_mailbox_counts_own_recent() {
    let srv = Server::start().await;
    srv.deliver(&message("one", "1"));
    srv.deliver(&message("two", "2"));
    let mut c = srv.login().await;
    assert_eq!(
        c.cmd("a STATUS INBOX (RECENT MESSAGES RECENT)").await,
        vec!["* STATUS \"INBOX\" (RECENT 2 MESSAGES 2)", "a OK STATUS completed"]
    );
    c.cmd("b SELECT INBOX").await;
    assert_eq!(
        c.cmd("c STATUS INBOX (MESSAGES RECENT UNSEEN)").await,
        vec![
            "* STATUS \"INBOX\" (MESSAGES 2 RECENT 2 UNSEEN 2)",
            "c OK STATUS completed"
        ]
    );
    // Another session sees none: the claim is this session's.
    let mut d = srv.login().await;
    assert_eq!(
        d.cmd("e STATUS INBOX (RECENT)").await,
        vec!["* STATUS \"INBOX\" (RECENT 0)", "e OK STATUS completed"]
    );
    srv.stop().await;
}

/// Found by running imaptest's listext script against Mailroom and Dovecot:
/// RECURSIVEMATCH gave CHILDINFO to a parent whose subscribed children were
/// all returned themselves; RFC 5258 §3.5 says to suppress that.
#[tokio::test]
async fn recursivematch_childinfo_only_for_unreturned_children() {
    let srv = Server::start().await;
    let mut c = srv.login().await;
    for cmd in [
        "a CREATE t7/t7",
        "b CREATE t8/t8",
        "c CREATE t8/t9",
        "d SUBSCRIBE t7/t7",
        "e SUBSCRIBE t8/t8",
        "f SUBSCRIBE t8/t9",
    ] {
        let r = c.cmd(cmd).await;
        assert!(r.last().unwrap().contains(" OK "), "{r:?}");
    }
    assert_eq!(
        c.cmd("g LIST (SUBSCRIBED RECURSIVEMATCH) \"\" *t7").await,
        vec![
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"t7/t7\"",
            "g OK LIST completed"
        ]
    );
    assert_eq!(
        c.cmd("h LIST (SUBSCRIBED RECURSIVEMATCH) \"\" *t8").await,
        vec![
            "* LIST (\\HasChildren) \"/\" \"t8\" (\"CHILDINFO\" (\"SUBSCRIBED\"))",
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"t8/t8\"",
            "h OK LIST completed"
        ]
    );
    srv.stop().await;
}
