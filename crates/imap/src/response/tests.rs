use super::*;
use crate::sequence::SequenceSet;

fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut out = Vec::new();
    f(&mut out);
    String::from_utf8(out).unwrap()
}

fn b(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    f(&mut out);
    out
}

#[test]
fn strings() {
    assert_eq!(s(|o| write_string(o, b"plain text", false)), "\"plain text\"");
    assert_eq!(s(|o| write_string(o, b"a\"b\\c", false)), "\"a\\\"b\\\\c\"");
    assert_eq!(s(|o| write_string(o, b"two\r\nlines", false)), "{10}\r\ntwo\r\nlines");
    assert_eq!(s(|o| write_string(o, "\u{fc}".as_bytes(), false)), "{2}\r\n\u{fc}");
    assert_eq!(s(|o| write_string(o, "\u{fc}".as_bytes(), true)), "\"\u{fc}\"");
    // Invalid UTF-8 never goes quoted; NUL is dropped.
    assert_eq!(b(|o| write_string(o, b"\xff", true)), b"{1}\r\n\xff");
    assert_eq!(s(|o| write_string(o, b"a\0b", false)), "\"ab\"");
    assert_eq!(s(|o| write_string(o, &[b'x'; 2000], false)).len(), 2000 + 8);
    assert_eq!(s(|o| write_nstring(o, None, false)), "NIL");
    assert_eq!(s(|o| write_astring(o, b"INBOX.Sent", false)), "INBOX.Sent");
    assert_eq!(s(|o| write_astring(o, b"nil", false)), "\"nil\"");
    assert_eq!(s(|o| write_astring(o, b"", false)), "\"\"");
    assert_eq!(s(|o| write_astring(o, b"a b", false)), "\"a b\"");
    assert_eq!(s(|o| write_astring(o, b"50%", false)), "\"50%\"");
}

#[test]
fn mailbox_names() {
    assert_eq!(s(|o| write_mailbox(o, "inbox", false)), "INBOX");
    assert_eq!(s(|o| write_mailbox(o, "Entw\u{fc}rfe", false)), "Entw&APw-rfe");
    assert_eq!(s(|o| write_mailbox(o, "Entw\u{fc}rfe", true)), "\"Entw\u{fc}rfe\"");
    assert_eq!(s(|o| write_mailbox(o, "Sent Items", false)), "\"Sent Items\"");
}

#[test]
fn status_responses() {
    assert_eq!(
        s(|o| tagged(o, "a1", Status::Ok, None, "LOGIN completed")),
        "a1 OK LOGIN completed\r\n"
    );
    assert_eq!(
        s(|o| tagged(
            o,
            "A003",
            Status::Ok,
            Some(&Code::AppendUid {
                uidvalidity: 38505,
                uids: SequenceSet::from_numbers([3955])
            }),
            "APPEND completed"
        )),
        "A003 OK [APPENDUID 38505 3955] APPEND completed\r\n"
    );
    assert_eq!(
        s(|o| tagged(
            o,
            "A004",
            Status::Ok,
            Some(&Code::CopyUid {
                uidvalidity: 38505,
                source: SequenceSet::from_ordered([304, 319, 320]),
                dest: SequenceSet::from_ordered([3956, 3957, 3958])
            }),
            "Done"
        )),
        "A004 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n"
    );
    assert_eq!(
        s(|o| untagged(
            o,
            Status::Ok,
            Some(&Code::PermanentFlags(vec![
                "\\Deleted".into(),
                "\\Seen".into(),
                "\\*".into()
            ])),
            "Limited"
        )),
        "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n"
    );
    assert_eq!(
        s(|o| untagged(
            o,
            Status::Ok,
            Some(&Code::Capability(vec!["IMAP4rev2".into(), "IDLE".into()])),
            "ready"
        )),
        "* OK [CAPABILITY IMAP4rev2 IDLE] ready\r\n"
    );
    assert_eq!(
        s(|o| tagged(
            o,
            "a",
            Status::No,
            Some(&Code::BadCharset(vec!["UTF-8".into(), "US-ASCII".into()])),
            ""
        )),
        "a NO [BADCHARSET (UTF-8 US-ASCII)] done\r\n"
    );
    assert_eq!(
        s(|o| untagged(o, Status::Bye, None, "bye\r\nnow")),
        "* BYE bye  now\r\n"
    );
    assert_eq!(
        s(|o| tagged(o, "a", Status::No, Some(&Code::TooBig), "x")),
        "a NO [TOOBIG] x\r\n"
    );
    for (code, text) in [
        (Code::Alert, "ALERT"),
        (Code::AlreadyExists, "ALREADYEXISTS"),
        (Code::AuthenticationFailed, "AUTHENTICATIONFAILED"),
        (Code::Cannot, "CANNOT"),
        (Code::ClientBug, "CLIENTBUG"),
        (Code::Closed, "CLOSED"),
        (Code::ContactAdmin, "CONTACTADMIN"),
        (Code::Corruption, "CORRUPTION"),
        (Code::Expired, "EXPIRED"),
        (Code::ExpungeIssued, "EXPUNGEISSUED"),
        (Code::HasChildren, "HASCHILDREN"),
        (Code::HighestModSeq(7), "HIGHESTMODSEQ 7"),
        (Code::InUse, "INUSE"),
        (Code::Limit, "LIMIT"),
        (Code::NoModSeq, "NOMODSEQ"),
        (Code::NonExistent, "NONEXISTENT"),
        (Code::NoPerm, "NOPERM"),
        (Code::OverQuota, "OVERQUOTA"),
        (Code::PrivacyRequired, "PRIVACYREQUIRED"),
        (Code::ReadOnly, "READ-ONLY"),
        (Code::ReadWrite, "READ-WRITE"),
        (Code::ServerBug, "SERVERBUG"),
        (Code::TryCreate, "TRYCREATE"),
        (Code::UidNext(4392), "UIDNEXT 4392"),
        (Code::UidValidity(3857529045), "UIDVALIDITY 3857529045"),
        (Code::Unavailable, "UNAVAILABLE"),
        (Code::UnknownCte, "UNKNOWN-CTE"),
        (Code::Unseen(12), "UNSEEN 12"),
        (Code::UseAttr, "USEATTR"),
    ] {
        assert_eq!(code.to_string(), text);
    }
    assert_eq!(s(|o| continuation(o, "idling")), "+ idling\r\n");
    assert_eq!(s(|o| continuation_base64(o, b"")), "+ \r\n");
    assert_eq!(s(|o| continuation_base64(o, b"Username:")), "+ VXNlcm5hbWU6\r\n");
}

#[test]
fn data_lines() {
    assert_eq!(
        s(|o| capability(o, &["IMAP4rev2", "IMAP4rev1", "AUTH=PLAIN"])),
        "* CAPABILITY IMAP4rev2 IMAP4rev1 AUTH=PLAIN\r\n"
    );
    assert_eq!(s(|o| enabled(o, &["IMAP4rev2"])), "* ENABLED IMAP4rev2\r\n");
    assert_eq!(s(|o| exists(o, 172)), "* 172 EXISTS\r\n");
    assert_eq!(s(|o| recent(o, 1)), "* 1 RECENT\r\n");
    assert_eq!(s(|o| expunge(o, 3)), "* 3 EXPUNGE\r\n");
    assert_eq!(
        s(|o| flags(o, &["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"])),
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
    );
    assert_eq!(
        s(|o| list(
            o,
            false,
            &["\\Noselect"],
            Some('/'),
            "~/Mail/foo",
            &ListExtra::default(),
            false
        )),
        "* LIST (\\Noselect) \"/\" ~/Mail/foo\r\n"
    );
    assert_eq!(
        s(|o| list(o, true, &[], Some('/'), "Entw\u{fc}rfe", &ListExtra::default(), false)),
        "* LSUB () \"/\" Entw&APw-rfe\r\n"
    );
    assert_eq!(
        s(|o| list(
            o,
            false,
            &["\\Subscribed"],
            None,
            "foo",
            &ListExtra {
                childinfo_subscribed: true,
                oldname: Some("bar".into())
            },
            true
        )),
        "* LIST (\\Subscribed) NIL foo (\"CHILDINFO\" (\"SUBSCRIBED\") \"OLDNAME\" (bar))\r\n"
    );
    assert_eq!(
        s(|o| status(
            o,
            "blurdybloop",
            &[(StatusItem::Messages, 231), (StatusItem::UidNext, 44292)],
            false
        )),
        "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n"
    );
    assert_eq!(s(|o| search(o, &[2, 84, 882])), "* SEARCH 2 84 882\r\n");
    assert_eq!(s(|o| search(o, &[])), "* SEARCH\r\n");
    assert_eq!(
        s(|o| esearch(
            o,
            Some("A282"),
            false,
            &Esearch {
                min: Some(2),
                count: Some(3),
                ..Default::default()
            }
        )),
        "* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n"
    );
    assert_eq!(
        s(|o| esearch(
            o,
            Some("A283"),
            true,
            &Esearch {
                all: Some(SequenceSet::from_numbers([2, 10, 11])),
                ..Default::default()
            }
        )),
        "* ESEARCH (TAG \"A283\") UID ALL 2,10:11\r\n"
    );
    assert_eq!(
        s(|o| esearch(
            o,
            Some("A284"),
            false,
            &Esearch {
                count: Some(0),
                all: Some(SequenceSet::from_numbers([])),
                ..Default::default()
            }
        )),
        "* ESEARCH (TAG \"A284\") COUNT 0\r\n"
    );
    assert_eq!(
        s(|o| namespace(o, &[("", Some('/'))], &[], &[], false)),
        "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n"
    );
    assert_eq!(
        s(|o| id(o, Some(&[("name", "Mailroom")]))),
        "* ID (\"name\" \"Mailroom\")\r\n"
    );
    assert_eq!(s(|o| id(o, None)), "* ID NIL\r\n");
}

#[test]
fn fetch_lines() {
    let out = s(|o| {
        let mut f = FetchLine::start(o, 12);
        f.flags(&["\\Seen"]);
        f.internal_date(837_595_465, -420);
        f.rfc822_size(44827);
        f.uid(7);
        f.section_data("BODY[HEADER]", b"Subject: x\r\n\r\n", false);
        f.section_nil("BODY[4]");
        f.binary_size(&[1, 2], 5);
        f.modseq(9);
        f.finish();
    });
    assert_eq!(
        out,
        "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:24:25 -0700\" RFC822.SIZE 44827 UID 7 \
BODY[HEADER] {14}\r\nSubject: x\r\n\r\n BODY[4] NIL BINARY.SIZE[1.2] 5 MODSEQ (9))\r\n"
    );
    assert_eq!(date_time(0, 0), "\"01-Jan-1970 00:00:00 +0000\"");
    assert_eq!(date_time(0, 90), "\"01-Jan-1970 01:30:00 +0130\"");
    assert_eq!(date_time(-1, 0), "\"31-Dec-1969 23:59:59 +0000\"");
    let sec = crate::command::Section {
        part: vec![1, 2],
        kind: crate::command::SectionKind::HeaderFields(vec!["FROM".into(), "TO".into()]),
    };
    assert_eq!(section_item_name(&sec, Some(0)), "BODY[1.2.HEADER.FIELDS (FROM TO)]<0>");
    assert_eq!(section_item_name(&crate::command::Section::default(), None), "BODY[]");
    assert_eq!(binary_item_name(&[3], Some(100)), "BINARY[3]<100>");
    let bin = b(|o| {
        let mut f = FetchLine::start(o, 1);
        f.section_data("BINARY[2]", b"\0\x01", true);
        f.finish();
    });
    assert_eq!(bin, b"* 1 FETCH (BINARY[2] ~{2}\r\n\0\x01)\r\n");
}
