use super::*;
use crate::command::*;
use crate::sequence::{SeqBound, SeqRange, SequenceSet};

fn p(s: &str) -> Command {
    match parse_command(s.as_bytes(), ParseOptions::default()) {
        Ok(c) => c,
        Err(e) => panic!("{s:?}: {e:?}"),
    }
}

fn p8(s: &str) -> Command {
    match parse_command(s.as_bytes(), ParseOptions { utf8: true }) {
        Ok(c) => c,
        Err(e) => panic!("{s:?}: {e:?}"),
    }
}

fn body(s: &str) -> CommandBody {
    p(s).body
}

fn err(s: &[u8]) -> ParseError {
    match parse_command(s, ParseOptions::default()) {
        Ok(c) => panic!("{:?} parsed as {c:?}", String::from_utf8_lossy(s)),
        Err(e) => e,
    }
}

fn set(s: &str) -> SequenceSet {
    let mut c = lexer::Cursor::new(s.as_bytes(), false);
    let r = c.sequence_set().unwrap_or_else(|e| panic!("{e}"));
    assert!(c.at_end());
    r
}

#[test]
fn simple_commands() {
    assert_eq!(p("a001 CAPABILITY").body, CommandBody::Capability);
    assert_eq!(p("a002 noop").body, CommandBody::Noop);
    assert_eq!(p("A023 LOGOUT\r\n").body, CommandBody::Logout);
    assert_eq!(body("a STARTTLS"), CommandBody::StartTls);
    assert_eq!(body("a NAMESPACE"), CommandBody::Namespace);
    assert_eq!(body("a IDLE"), CommandBody::Idle);
    assert_eq!(body("a check"), CommandBody::Check);
    assert_eq!(body("a Close"), CommandBody::Close);
    assert_eq!(body("a UNSELECT"), CommandBody::Unselect);
    assert_eq!(body("a EXPUNGE"), CommandBody::Expunge);
    assert_eq!(p("a001 CAPABILITY").tag, "a001");
}

#[test]
fn tags() {
    assert_eq!(p("tag]x.1 NOOP").tag, "tag]x.1");
    assert_eq!(err(b"*a NOOP").tag, None);
    let e = err(b"a+b NOOP");
    assert_eq!(e.tag, None);
    let e = err(b"+ NOOP");
    assert_eq!(e.tag, None);
    let e = err(b"");
    assert_eq!(e.tag, None);
    let e = err(b"a1");
    assert_eq!(e.tag.as_deref(), Some("a1"));
    assert_eq!(e.reason, "Missing command");
    let e = err(b"a1  NOOP");
    assert_eq!(e.reason, "Missing command name");
    let e = err(b"a1 FROB");
    assert_eq!(e.reason, "Unknown command FROB");
    let e = err(b"a1 NOOP extra");
    assert_eq!(e.reason, "Unexpected characters at end of NOOP command");
    let e = err(b"a(1 NOOP");
    assert_eq!(e.tag, None);
}

#[test]
fn login() {
    assert_eq!(
        body("a001 LOGIN SMITH SESAME"),
        CommandBody::Login {
            username: b"SMITH".to_vec(),
            password: b"SESAME".to_vec()
        }
    );
    assert_eq!(
        body("a LOGIN \"fred foobar\" {7}\r\nfat man"),
        CommandBody::Login {
            username: b"fred foobar".to_vec(),
            password: b"fat man".to_vec()
        }
    );
    assert_eq!(
        body("a LOGIN \"a\\\\b\\\"c\" \"\""),
        CommandBody::Login {
            username: b"a\\b\"c".to_vec(),
            password: b"".to_vec()
        }
    );
    assert_eq!(err(b"a LOGIN joe").reason, "Expected SP after user name");
    assert_eq!(err(b"a LOGIN \"joe").reason, "Unterminated quoted string");
    assert_eq!(err(b"a LOGIN \"j\\oe\" x").reason, "Invalid escape in quoted string");
    assert_eq!(err(b"a LOGIN {5}\r\nab").reason, "Literal data missing");
    assert_eq!(err(b"a LOGIN {2}\r\na\0 x").reason, "NUL octet in literal");
}

#[test]
fn authenticate() {
    assert_eq!(
        body("a AUTHENTICATE plain"),
        CommandBody::Authenticate {
            mechanism: "PLAIN".into(),
            initial_response: None
        }
    );
    assert_eq!(
        body("a AUTHENTICATE PLAIN AHVzZXIAcGFzcw=="),
        CommandBody::Authenticate {
            mechanism: "PLAIN".into(),
            initial_response: Some(b"\0user\0pass".to_vec())
        }
    );
    assert_eq!(
        body("a AUTHENTICATE PLAIN ="),
        CommandBody::Authenticate {
            mechanism: "PLAIN".into(),
            initial_response: Some(Vec::new())
        }
    );
    assert_eq!(
        err(b"a AUTHENTICATE PLAIN AHV").reason,
        "Invalid base64 in initial response"
    );
}

#[test]
fn enable_and_id() {
    assert_eq!(
        body("a ENABLE imap4rev2 UTF8=ACCEPT"),
        CommandBody::Enable(vec!["IMAP4REV2".into(), "UTF8=ACCEPT".into()])
    );
    assert!(parse_command(b"a ENABLE", ParseOptions::default()).is_err());
    assert_eq!(body("a ID NIL"), CommandBody::Id(None));
    assert_eq!(
        body("a023 ID (\"name\" \"sodr\" \"version\" \"19.34\" \"vendor\" NIL)"),
        CommandBody::Id(Some(vec![
            ("name".into(), Some("sodr".into())),
            ("version".into(), Some("19.34".into())),
            ("vendor".into(), None),
        ]))
    );
    assert_eq!(body("a ID ()"), CommandBody::Id(Some(vec![])));
}

#[test]
fn mailbox_commands() {
    assert_eq!(
        body("A142 SELECT inbox"),
        CommandBody::Select {
            mailbox: "INBOX".into(),
            params: SelectParams::default()
        }
    );
    assert_eq!(
        body("A142 EXAMINE \"blurdybloop\""),
        CommandBody::Examine {
            mailbox: "blurdybloop".into(),
            params: SelectParams::default()
        }
    );
    let CommandBody::Select { params, .. } = body("a SELECT INBOX (CONDSTORE)") else {
        panic!()
    };
    assert!(params.condstore);
    let CommandBody::Select { params, .. } = body("a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211))")
    else {
        panic!()
    };
    let q = params.qresync.expect("qresync");
    assert_eq!(q.uidvalidity, 67890007);
    assert_eq!(q.modseq, 20050715194045000);
    assert_eq!(q.known_uids, Some(set("41,43:211")));
    assert_eq!(
        body("A003 CREATE owatagusiam/"),
        CommandBody::Create {
            mailbox: "owatagusiam/".into(),
            special_use: vec![]
        }
    );
    assert_eq!(
        body("t1 CREATE \"Important Messages\" (USE (\\flagged))"),
        CommandBody::Create {
            mailbox: "Important Messages".into(),
            special_use: vec!["\\Flagged".into()]
        }
    );
    assert_eq!(body("a DELETE foo"), CommandBody::Delete { mailbox: "foo".into() });
    assert_eq!(
        body("A683 RENAME blurdybloop sarasoop"),
        CommandBody::Rename {
            from: "blurdybloop".into(),
            to: "sarasoop".into()
        }
    );
    assert_eq!(
        body("a SUBSCRIBE #news.comp.mail.mime"),
        CommandBody::Subscribe {
            mailbox: "#news.comp.mail.mime".into()
        }
    );
    assert_eq!(
        body("a UNSUBSCRIBE x"),
        CommandBody::Unsubscribe { mailbox: "x".into() }
    );
    assert_eq!(
        body("A042 STATUS blurdybloop (UIDNEXT MESSAGES size deleted)"),
        CommandBody::Status {
            mailbox: "blurdybloop".into(),
            items: vec![
                StatusItem::UidNext,
                StatusItem::Messages,
                StatusItem::Size,
                StatusItem::Deleted
            ]
        }
    );
    assert_eq!(err(b"a STATUS x (FOO)").reason, "Unknown status item FOO");
    assert_eq!(err(b"a STATUS x ()").reason, "Expected status item");
    assert_eq!(err(b"a CREATE x (FOO)").reason, "Unknown CREATE parameter");
}

#[test]
fn mailbox_names_mutf7_and_utf8() {
    let name = "~peter/mail/\u{53f0}\u{5317}/\u{65e5}\u{672c}\u{8a9e}";
    assert_eq!(
        body("a SELECT ~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
        CommandBody::Select {
            mailbox: name.into(),
            params: SelectParams::default()
        }
    );
    // In UTF-8 mode, & is literal and UTF-8 is taken as is.
    assert_eq!(
        p8("a DELETE \"Tom &- Jerry\"").body,
        CommandBody::Delete {
            mailbox: "Tom &- Jerry".into()
        }
    );
    assert_eq!(
        p8(&format!("a DELETE \"{name}\"")).body,
        CommandBody::Delete { mailbox: name.into() }
    );
    assert_eq!(
        err("a DELETE \"Entw\u{fc}rfe\"".as_bytes()).reason,
        "Mailbox name is not valid modified UTF-7"
    );
    assert!(parse_command(b"a DELETE \"\xff\"", ParseOptions { utf8: true }).is_err());
}

#[test]
fn list_basic_and_extended() {
    let CommandBody::List(l) = body("A101 LIST \"\" \"\"") else {
        panic!()
    };
    assert_eq!(
        (l.reference.as_str(), l.patterns.clone(), l.extended),
        ("", vec![String::new()], false)
    );
    let CommandBody::List(l) = body("A102 LIST #news.comp.mail.misc *") else {
        panic!()
    };
    assert_eq!(l.reference, "#news.comp.mail.misc");
    assert_eq!(l.patterns, vec!["*"]);
    let CommandBody::List(l) = body("A202 LIST ~/Mail/ %") else {
        panic!()
    };
    assert_eq!(l.patterns, vec!["%"]);
    let CommandBody::List(l) = body("A02 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" % RETURN (CHILDREN)") else {
        panic!()
    };
    assert!(l.extended && l.selection.subscribed && l.selection.recursive_match && l.returns.children);
    let CommandBody::List(l) = body("A03 LIST \"\" (\"foo\" \"foo/*\" INBOX)") else {
        panic!()
    };
    assert_eq!(l.patterns, vec!["foo", "foo/*", "INBOX"]);
    let CommandBody::List(l) = body("A04 LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN) SPECIAL-USE subscribed)") else {
        panic!()
    };
    assert_eq!(l.returns.status, Some(vec![StatusItem::Messages, StatusItem::Unseen]));
    assert!(l.returns.special_use && l.returns.subscribed);
    let CommandBody::List(l) = body("t1 LIST (SPECIAL-USE) \"\" *") else {
        panic!()
    };
    assert!(l.selection.special_use);
    assert_eq!(
        err(b"a LIST (RECURSIVEMATCH) \"\" *").reason,
        "RECURSIVEMATCH needs another selection option"
    );
    assert_eq!(err(b"a LIST (BOGUS) \"\" *").reason, "Unknown LIST selection option");
    assert_eq!(
        err(b"a LIST \"\" * RETURN (BOGUS)").reason,
        "Unknown LIST return option"
    );
    assert_eq!(err(b"a LIST \"\"").reason, "Expected SP and mailbox pattern");
    assert_eq!(
        body("a LSUB \"#news.\" \"comp.mail.*\""),
        CommandBody::Lsub {
            reference: "#news.".into(),
            pattern: "comp.mail.*".into()
        }
    );
}

#[test]
fn append_full_parse() {
    let c = body("A003 APPEND saved-messages (\\Seen) {23}\r\nDate: Mon, 7 Feb 1994 2");
    let CommandBody::Append { mailbox, messages } = c else {
        panic!()
    };
    assert_eq!(mailbox, "saved-messages");
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].flags, vec!["\\Seen"]);
    assert_eq!(messages[0].data, b"Date: Mon, 7 Feb 1994 2");
    let c = body("a APPEND inbox (\\seen $Junk) \"17-Jul-1996 02:44:25 -0700\" {1}\r\nx ~{2}\r\n\0y");
    let CommandBody::Append { mailbox, messages } = c else {
        panic!()
    };
    assert_eq!(mailbox, "INBOX");
    assert_eq!(messages[0].flags, vec!["\\Seen", "$Junk"]);
    let date = messages[0].date.expect("date");
    // 1996-07-17 09:44:25 UTC
    assert_eq!(date.timestamp, 837_596_665);
    assert_eq!(date.offset_minutes, -420);
    assert!(messages[1].binary && messages[1].data == b"\0y");
    assert_eq!(err(b"a APPEND x").reason, "Expected SP and message literal");
    assert_eq!(
        err(b"a APPEND x (\\Seen) \"bad date\" {1}\r\nx").reason,
        "Invalid date-time"
    );
    assert_eq!(
        err(b"a APPEND x \" 7-Feb-1994 22:43:04 +0100\" hello").reason,
        "Expected literal with message data"
    );
    let c = body("a APPEND x \" 7-Feb-1994 22:43:04 +0100\" {0}\r\n");
    let CommandBody::Append { messages, .. } = c else {
        panic!()
    };
    assert_eq!(messages[0].date.map(|d| d.offset_minutes), Some(60));
}

#[test]
fn append_position_detection() {
    let o = ParseOptions::default();
    assert_eq!(append_position(b"a LOGIN ", o), Ok(AppendPos::NotAppend));
    assert_eq!(append_position(b"a APPEND ", o), Ok(AppendPos::Inline));
    let Ok(AppendPos::Message(h)) = append_position(b"a APPEND {5}\r\ninbox (\\Seen) ", o) else {
        panic!()
    };
    assert_eq!(
        (h.tag.as_str(), h.mailbox.as_str(), h.flags.clone()),
        ("a", "INBOX", vec!["\\Seen".to_string()])
    );
    let e = append_position(b"a APPEND box (\\Seen ", o).unwrap_err();
    assert_eq!(e.tag.as_deref(), Some("a"));
    assert_eq!(append_next(b"", false), Ok(None));
    assert_eq!(append_next(b" ", true), Ok(Some((vec![], None))));
    assert!(append_next(b" junk", false).is_err());
    assert!(append_next(b" (\\Seen)", false).is_err());
}

#[test]
fn fetch_items() {
    let CommandBody::Fetch(f) = body("A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])") else {
        panic!()
    };
    assert!(!f.uid);
    assert_eq!(f.set, set("2:4"));
    assert_eq!(
        f.items,
        vec![
            FetchItem::Flags,
            FetchItem::BodySection {
                peek: false,
                section: Section {
                    part: vec![],
                    kind: SectionKind::HeaderFields(vec!["DATE".into(), "FROM".into()])
                },
                partial: None
            }
        ]
    );
    let CommandBody::Fetch(f) = body("a FETCH 1 ALL") else {
        panic!()
    };
    assert_eq!(f.items.len(), 4);
    let CommandBody::Fetch(f) = body("a FETCH 1 fast") else {
        panic!()
    };
    assert_eq!(
        f.items,
        vec![FetchItem::Flags, FetchItem::InternalDate, FetchItem::Rfc822Size]
    );
    let CommandBody::Fetch(f) = body("a FETCH 1 FULL") else {
        panic!()
    };
    assert_eq!(f.items.last(), Some(&FetchItem::Body));
    let CommandBody::Fetch(f) = body("a UID FETCH 1:* (UID RFC822.SIZE BODY.PEEK[]<0.2048> BODYSTRUCTURE)") else {
        panic!()
    };
    assert!(f.uid);
    assert_eq!(
        f.items[2],
        FetchItem::BodySection {
            peek: true,
            section: Section::default(),
            partial: Some(Partial {
                offset: 0,
                length: 2048
            })
        }
    );
    let CommandBody::Fetch(f) = body(
        "a FETCH 3 (BODY[1.2.MIME] body[2.TEXT] BODY[3.HEADER.FIELDS.NOT (X-A \"Y\")] BODY[4] BINARY.PEEK[1.1]<5.10> BINARY.SIZE[2] BINARY[] RFC822 RFC822.HEADER RFC822.TEXT ENVELOPE BODY INTERNALDATE MODSEQ)",
    ) else {
        panic!()
    };
    let sections: Vec<String> = f
        .items
        .iter()
        .filter_map(|i| match i {
            FetchItem::BodySection { section, .. } => Some(section.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(sections, vec!["1.2.MIME", "2.TEXT", "3.HEADER.FIELDS.NOT (X-A Y)", "4"]);
    assert_eq!(
        f.items[4],
        FetchItem::Binary {
            peek: true,
            part: vec![1, 1],
            partial: Some(Partial { offset: 5, length: 10 })
        }
    );
    assert_eq!(f.items[5], FetchItem::BinarySize { part: vec![2] });
    assert_eq!(
        f.items[6],
        FetchItem::Binary {
            peek: false,
            part: vec![],
            partial: None
        }
    );
    assert!(f.items[6].sets_seen() && !f.items[4].sets_seen() && f.items[7].sets_seen());
    let CommandBody::Fetch(f) = body("a FETCH 1 (FLAGS) (CHANGEDSINCE 12345)") else {
        panic!()
    };
    assert_eq!(f.modifiers.changed_since, Some(12345));
    // Section text in BINARY: outside RFC 3516, accepted like Dovecot does.
    let CommandBody::Fetch(f) = body("a FETCH 1 (BINARY.PEEK[2.HEADER]<0.5> BINARY.SIZE[TEXT])") else {
        panic!()
    };
    assert_eq!(
        f.items,
        vec![
            FetchItem::BinarySection {
                peek: true,
                section: Section {
                    part: vec![2],
                    kind: SectionKind::Header
                },
                partial: Some(Partial { offset: 0, length: 5 }),
            },
            FetchItem::BinarySectionSize {
                section: Section {
                    part: vec![],
                    kind: SectionKind::Text
                }
            },
        ]
    );
    for (input, reason) in [
        (&b"a FETCH 1 (FLAGS"[..], "Expected SP or ')' in fetch items"),
        (b"a FETCH 1 BODY[MIME]", "MIME needs a section part number"),
        (b"a FETCH 1 BODY[0]", "Zero is not allowed here"),
        (b"a FETCH 1 BODY[]<0.0>", "Partial length must not be zero"),
        (b"a FETCH 1 BODY[]<5>", "Expected '.' in partial range"),
        (b"a FETCH 1 BODY[HEADER.FIELDS ()]", "Expected astring"),
        (b"a FETCH 1 BODY[HEADER.FIELDS (A:B)]", "Invalid header field name"),
        (b"a FETCH 1 BINARY[BOGUS]", "Invalid section text"),
        (b"a FETCH 1 BINARY.SIZE[0]", "Zero is not allowed here"),
        (b"a FETCH 1 FOO", "Unknown fetch item FOO"),
        (
            b"a FETCH 0 FLAGS",
            "Invalid sequence set: 0 is not a valid message number",
        ),
        (b"a FETCH x FLAGS", "Invalid sequence set"),
        (b"a FETCH 1", "Expected SP and fetch items"),
    ] {
        assert_eq!(err(input).reason, reason, "{}", String::from_utf8_lossy(input));
    }
}

#[test]
fn store_copy_move_expunge() {
    let CommandBody::Store(s) = body("A003 STORE 2:4 +FLAGS (\\Deleted)") else {
        panic!()
    };
    assert_eq!(
        (s.op, s.silent, s.flags.clone()),
        (StoreOp::Add, false, vec!["\\Deleted".to_string()])
    );
    let CommandBody::Store(s) = body("a UID STORE 1,3 -flags.silent \\seen $Label1") else {
        panic!()
    };
    assert!(s.uid && s.silent && s.op == StoreOp::Remove);
    assert_eq!(s.flags, vec!["\\Seen", "$Label1"]);
    let CommandBody::Store(s) = body("a STORE * FLAGS ()") else {
        panic!()
    };
    assert_eq!((s.op, s.flags.len()), (StoreOp::Replace, 0));
    let CommandBody::Store(s) = body("a STORE 1 (UNCHANGEDSINCE 12121230045) +FLAGS.SILENT (\\Deleted)") else {
        panic!()
    };
    assert_eq!(s.unchanged_since, Some(12121230045));
    assert_eq!(
        err(b"a STORE 1 FLAGZ (\\Seen)").reason,
        "Expected FLAGS, +FLAGS or -FLAGS"
    );
    assert_eq!(err(b"a STORE 1 FLAGS (\\*)").reason, "Expected flag name after '\\'");
    assert_eq!(
        body("A003 COPY 2:4 MEETING"),
        CommandBody::Copy {
            uid: false,
            set: set("2:4"),
            mailbox: "MEETING".into()
        }
    );
    assert_eq!(
        body("a UID MOVE 42:69 foo"),
        CommandBody::Move {
            uid: true,
            set: set("42:69"),
            mailbox: "foo".into()
        }
    );
    assert_eq!(
        body("a UID EXPUNGE 3000:3002"),
        CommandBody::UidExpunge(set("3000:3002"))
    );
    assert_eq!(err(b"a UID FROB 1").reason, "Unknown UID command FROB");
    assert_eq!(
        body("a COPY $ Trash"),
        CommandBody::Copy {
            uid: false,
            set: SequenceSet::Saved,
            mailbox: "Trash".into()
        }
    );
}

#[test]
fn sequence_sets() {
    assert_eq!(
        set("1,3:5,7:*"),
        SequenceSet::Ranges(vec![
            SeqRange::single(1),
            SeqRange {
                start: SeqBound::Num(3),
                end: SeqBound::Num(5)
            },
            SeqRange {
                start: SeqBound::Num(7),
                end: SeqBound::Star
            },
        ])
    );
    assert_eq!(set("$"), SequenceSet::Saved);
    assert_eq!(set("*:4").to_string(), "*:4");
}

#[test]
fn search_keys() {
    let CommandBody::Search(s) = body("A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"") else {
        panic!()
    };
    assert_eq!(
        s.criteria,
        SearchKey::And(vec![
            SearchKey::Flagged,
            SearchKey::Since(Date {
                year: 1994,
                month: 2,
                day: 1
            }),
            SearchKey::Not(Box::new(SearchKey::From("Smith".into()))),
        ])
    );
    assert_eq!((s.uid, s.charset.clone(), s.return_opts.clone()), (false, None, None));
    let CommandBody::Search(s) =
        body("A284 SEARCH CHARSET UTF-8 TEXT {12}\r\n\u{420}\u{443}\u{441}\u{441}\u{43a}\u{438}")
    else {
        panic!()
    };
    assert_eq!(s.charset.as_deref(), Some("UTF-8"));
    assert_eq!(
        s.criteria,
        SearchKey::Text("\u{420}\u{443}\u{441}\u{441}\u{43a}\u{438}".into())
    );
    let CommandBody::Search(s) = body("A285 UID SEARCH RETURN (MIN MAX count) 1:5000 UNDELETED") else {
        panic!()
    };
    assert!(s.uid);
    assert_eq!(
        s.return_opts,
        Some(vec![SearchReturn::Min, SearchReturn::Max, SearchReturn::Count])
    );
    let CommandBody::Search(s) = body("a SEARCH RETURN () ALL") else {
        panic!()
    };
    assert_eq!(s.return_opts, Some(vec![]));
    let CommandBody::Search(s) = body("a SEARCH RETURN (SAVE) OR (SEEN UID 1:3) NOT $") else {
        panic!()
    };
    assert_eq!(s.return_opts, Some(vec![SearchReturn::Save]));
    assert_eq!(
        s.criteria,
        SearchKey::Or(
            Box::new(SearchKey::And(vec![SearchKey::Seen, SearchKey::Uid(set("1:3"))])),
            Box::new(SearchKey::Not(Box::new(SearchKey::SequenceSet(SequenceSet::Saved))))
        )
    );
}

#[test]
fn search_more_keys() {
    let all = "a SEARCH ALL ANSWERED BCC x BEFORE 1-Jan-2000 BODY y CC z DELETED DRAFT FLAGGED FROM f \
               HEADER X-Foo \"\" KEYWORD $Junk LARGER 100 NEW OLD ON 29-Feb-2024 RECENT SEEN \
               SENTBEFORE \"1-Jan-2000\" SENTON 2-Jan-2000 SENTSINCE 3-Jan-2000 SINCE 4-jan-2000 SMALLER 5 \
               SUBJECT s TEXT t TO u UID 1:* UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNKEYWORD k UNSEEN \
               1,2 $ OLDER 60 YOUNGER 30 MODSEQ 5 MODSEQ \"/flags/\\\\draft\" all 6 (SEEN) OR SEEN (NOT DRAFT)";
    let CommandBody::Search(s) = body(all) else { panic!() };
    let SearchKey::And(keys) = s.criteria else { panic!() };
    assert_eq!(keys.len(), 41);
    assert_eq!(keys[12], SearchKey::Larger(100));
    assert_eq!(keys[10], SearchKey::Header("X-Foo".into(), String::new()));
    assert_eq!(keys[34], SearchKey::SequenceSet(SequenceSet::Saved));
    assert_eq!(
        keys[38],
        SearchKey::ModSeq {
            entry: Some(("/flags/\\draft".into(), "all".into())),
            modseq: 6
        }
    );
    for (input, reason) in [
        (&b"a SEARCH"[..], "Expected SP and search criteria"),
        (b"a SEARCH FOO", "Unknown search key FOO"),
        (b"a SEARCH SINCE 30-Feb-2024", "Invalid day in date"),
        (b"a SEARCH SINCE 1-Foo-2024", "Invalid month in date"),
        (b"a SEARCH SINCE 1-Feb-24", "Expected 4-digit year in date"),
        (b"a SEARCH OR SEEN", "Expected SP and second OR criterion"),
        (b"a SEARCH (SEEN", "Expected SP or ')' in search criteria"),
        (b"a SEARCH ALL ", "Expected search key"),
        (b"a SEARCH RETURN (FOO) ALL", "Unknown search return option"),
        (b"a SEARCH LARGER -1", "Expected a number"),
        (b"a SEARCH LARGER 99999999999999999999", "Number too large"),
        (b"a SEARCH OLDER 0", "Zero is not allowed here"),
    ] {
        assert_eq!(err(input).reason, reason, "{}", String::from_utf8_lossy(input));
    }
}

#[test]
fn search_nesting_is_bounded() {
    let deep = format!("a SEARCH {}ALL{}", "(".repeat(1000), ")".repeat(1000));
    assert_eq!(err(deep.as_bytes()).reason, "Search criteria nested too deeply");
    let nots = format!("a SEARCH {}ALL", "NOT ".repeat(1000));
    assert_eq!(err(nots.as_bytes()).reason, "Search criteria nested too deeply");
    let ok = format!("a SEARCH {}ALL{}", "(".repeat(30), ")".repeat(30));
    assert!(parse_command(ok.as_bytes(), ParseOptions::default()).is_ok());
}

#[test]
fn dates() {
    let d = Date {
        year: 1970,
        month: 1,
        day: 1,
    };
    assert_eq!(d.days_since_epoch(), 0);
    assert_eq!(Date::from_timestamp(0, 0), d);
    assert_eq!(
        Date::from_timestamp(837_596_665, -420),
        Date {
            year: 1996,
            month: 7,
            day: 17
        }
    );
    assert_eq!(
        Date::from_timestamp(-1, 0),
        Date {
            year: 1969,
            month: 12,
            day: 31
        }
    );
    for ts in [0i64, 951_782_400, 1_709_164_800, 4_102_444_800, -86_400 * 365] {
        let d = Date::from_timestamp(ts, 0);
        assert_eq!(d.days_since_epoch() * 86_400, ts - ts.rem_euclid(86_400));
    }
}

#[test]
fn keywords_are_case_insensitive() {
    assert_eq!(body("a uid fetch 1 (flags)"), body("a UID FETCH 1 (FLAGS)"));
    assert_eq!(body("a sEaRcH unSEEN"), body("a SEARCH UNSEEN"));
}

/// No input may panic the parser; every failure carries a reason.
#[test]
fn garbage_never_panics() {
    let seeds: &[&[u8]] = &[
        b"a FETCH 1:* (BODY.PEEK[1.2.HEADER.FIELDS (A B)]<1.2> FLAGS)",
        b"a SEARCH OR (FROM \"x\" SINCE 1-Feb-1994) NOT UID 1:*",
        b"a APPEND x (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {3}\r\nabc",
        b"a LIST (SUBSCRIBED) \"\" (a b) RETURN (STATUS (MESSAGES))",
        b"a SELECT INBOX (QRESYNC (1 2 3:4 (1 2)))",
        b"a STORE 1 (UNCHANGEDSINCE 5) +FLAGS.SILENT (\\Seen)",
        b"a ID (\"a\" NIL)",
        b"a LOGIN {3}\r\nabc \"d\"",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for seed in seeds {
        for n in 0..seed.len() {
            let _ = parse_command(&seed[..n], ParseOptions::default());
        }
        for _ in 0..400 {
            let mut v = seed.to_vec();
            for _ in 0..(rnd() % 4 + 1) {
                let i = (rnd() as usize) % v.len();
                match rnd() % 3 {
                    0 => v[i] = rnd() as u8,
                    1 => {
                        v.remove(i);
                    }
                    _ => v.insert(i, b"( )\"{}\\*:.[]<>"[(rnd() % 14) as usize]),
                }
                if v.is_empty() {
                    break;
                }
            }
            if let Err(e) = parse_command(&v, ParseOptions::default()) {
                assert!(!e.reason.is_empty());
            }
            let _ = parse_command(&v, ParseOptions { utf8: true });
        }
    }
}

/// Every single-line client command in the examples of RFC 9051, 3501,
/// 4315, 5258, 6154, 6851 and 2177 (multi-line ones are in the framer
/// tests).
const RFC_EXAMPLES: &[&str] = &[
    "a004 fetch 12 body[header]",
    "a005 store 12 +flags \\deleted",
    "a006 logout",
    "A001 AUTHENTICATE SCRAM-SHA-256",
    "a000 starttls",
    "a001 login mrc secret",
    "a002 select inbox",
    "a003 fetch 12 full",
    "babc ENABLE IMAP4rev2",
    "1001 RENAME X Y",
    "1002 SUBSCRIBE Y",
    "1003 UNSUBSCRIBE X",
    "A001 AUTHENTICATE GSSAPI",
    "A001 LOGIN fred blurdybloop",
    "A001 NAMESPACE",
    "A001 SELECT INBOX",
    "A002 CREATE \"INBOX.Sent Mail\"",
    "A002 IDLE",
    "A002 LIST \"\" \"#Users/%\"",
    "A002 LIST \"\" \"Other Users/%\"",
    "A002 LIST \"\" \"~mark/%\"",
    "A002 LIST (SPECIAL-USE) \"\" \"*\"",
    "A002 SUBSCRIBE #news.comp.mail.mime",
    "A002 UNSUBSCRIBE #news.comp.mail.mime",
    "A003 COPY 2:4 MEETING",
    "A003 CREATE owatagusiam/",
    "A003 FETCH 4 ALL",
    "A003 LIST \"\" \"#Users/Mike/%\"",
    "A003 LIST (SPECIAL-USE) \"#mh/\" \"*\"",
    "A003 LSUB \"#news.\" \"comp.%\"",
    "A003 STORE 2:4 +FLAGS (\\Deleted)",
    "A003 UID EXPUNGE 3000:3002",
    "A004 COPY 2:4 meeting",
    "A004 CREATE \"Sent Mail\"",
    "A004 CREATE owatagusiam/blurdybloop",
    "A004 IDLE",
    "A005 CREATE \"Delete Items\"",
    "A005 CREATE NonNormalized",
    "A005 FETCH 3 ALL",
    "A005 UID COPY 305:310 meeting",
    "A006 COPY 2 funny",
    "A006 CREATE \"#mh/Deleted Items\"",
    "A006 IDLE",
    "A007 SELECT funny",
    "A01 AUTHENTICATE EXTERNAL =",
    "A01 AUTHENTICATE PLAIN",
    "A01 LIST \"\" \"*\"",
    "A01 LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN))",
    "A01 STARTTLS",
    "A02 CAPABILITY",
    "A02 LIST (SUBSCRIBED) \"\" \"*\"",
    "A023 LOGOUT",
    "A03 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=",
    "A03 LIST () \"\" \"%\" RETURN (CHILDREN)",
    "A04 LIST (REMOTE) \"\" \"%\" RETURN (CHILDREN)",
    "A042 STATUS blurdybloop (UIDNEXT MESSAGES)",
    "A05 LIST (REMOTE SUBSCRIBED) \"\" \"*\"",
    "A06 LIST (REMOTE) \"\" \"*\" RETURN (SUBSCRIBED)",
    "A101 LIST \"\" \"\"",
    "A102 LIST #news.comp.mail.misc \"\"",
    "A103 LIST /usr/staff/jones \"\"",
    "A142 SELECT INBOX",
    "A143 SELECT Drafts",
    "A202 EXPUNGE",
    "A202 LIST ~/Mail/ %",
    "A222 COPY 1:2 owatagusiam",
    "A223 COPY 3:200 blurdybloop",
    "A282 SEARCH RETURN (MIN COUNT) FLAGGED",
    "A282 SEARCH RETURN (SAVE) FLAGGED SINCE 1-Feb-1994",
    "A283 FETCH $ (UID INTERNALDATE FLAGS BODY.PEEK[HEADER])",
    "A283 SEARCH RETURN () FLAGGED",
    "A283 SEARCH TEXT \"string not in mailbox\"",
    "A284 SEARCH RETURN (MIN) UNSEEN",
    "A284 SEARCH TEXT \"string not in mailbox\"",
    "A285 UID SEARCH RETURN (MIN MAX) 1:5000",
    "A286 SEARCH RETURN (COUNT) DELETED",
    "A300 SEARCH RETURN (SAVE) SINCE 1-Jan-2004",
    "A301 UID SEARCH $ SMALLER 4096",
    "A301 UID SEARCH UID $ SMALLER 4096",
    "A341 CLOSE",
    "A342 UNSELECT",
    "A443 EXPUNGE",
    "A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])",
    "A682 LIST \"\" *",
    "A683 DELETE blurdybloop",
    "A683 RENAME blurdybloop sarasoop",
    "A684 DELETE foo",
    "A684 RENAME foo zowie",
    "A685 DELETE foo/bar",
    "A685 LIST \"\" *",
    "A686 LIST \"\" *",
    "A687 DELETE foo",
    "A82 LIST \"\" *",
    "A83 DELETE blurdybloop",
    "A84 DELETE foo",
    "A85 LIST \"\" *",
    "A86 LIST \"\" %",
    "A932 EXAMINE blurdybloop",
    "A999 UID FETCH 4827313:4828442 FLAGS",
    "B282 SEARCH RETURN (SAVE) SINCE 1-Feb-1994",
    "BBB LIST \"\" (\"INBOX\" \"Drafts\" \"Sent/%\")",
    "C01 CAPABILITY",
    "C01 LIST \"\" \"*\"",
    "C02 LIST (SUBSCRIBED) \"\" \"*\"",
    "C04 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\"",
    "C04 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\" RETURN (CHILDREN)",
    "C282 SEARCH RETURN (ALL) SINCE 12-Feb-2006",
    "C283 SEARCH RETURN (ALL SAVE) SINCE 12-Feb-2006",
    "C284 SEARCH RETURN (SAVE MIN) SINCE 12-Feb-2006",
    "CA3 LIST \"\" \"%\" RETURN (CHILDREN)",
    "D01 LIST \"\" \"*\"",
    "D02 LIST (SUBSCRIBED) \"\" \"*\"",
    "D03 LIST (RECURSIVEMATCH SUBSCRIBED) \"\" \"*\"",
    "D03 LIST (RECURSIVEMATCH SUBSCRIBED) \"\" \"*2\"",
    "E282 SEARCH RETURN (SAVE) SINCE 28-Oct-2006",
    "E283 COPY $ \"Other Messages\"",
    "F282 SEARCH RETURN (SAVE) KEYWORD $Junk",
    "F283 COPY $ \"Junk\"",
    "F284 STORE $ +FLAGS.Silent (\\Deleted)",
    "G282 SEARCH RETURN (SAVE) KEYWORD $Junk",
    "G283 SEARCH RETURN (ALL) SINCE 28-Oct-2006",
    "H282 SEARCH RETURN (SAVE) KEYWORD $Junk",
    "H283 SEARCH RETURN (SAVE) SINCE 28-Oct-2006",
    "P282 SEARCH RETURN (SAVE) SINCE 1-Feb-1994",
    "Z432 LIST \"\" *",
    "Z433 RENAME INBOX old-mail",
    "Z434 LIST \"\" *",
    "a LOGIN \"fred\" \"foo\"",
    "a UID MOVE 42:69 foo",
    "a001 CAPABILITY",
    "a001 LOGIN SMITH SESAME",
    "a002 NOOP",
    "a002 STARTTLS",
    "a003 CAPABILITY",
    "a004 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=",
    "a004 LOGIN joe password",
    "a047 NOOP",
    "a1 ENABLE CONDSTORE",
    "a1 LIST \"\" (\"foo\" \"foo/*\")",
    "a1 LIST \"\" (\"foo\")",
    "a1 LIST (REMOTE) \"\" *",
    "a2 LIST () \"\" %",
    "a2 LIST (SUBSCRIBED) \"\" \"foo/*\"",
    "a3 LIST (REMOTE) \"\" %",
    "a3 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" foo RETURN (CHILDREN)",
    "a3.1 LIST \"\" (% music/rock)",
    "a441 CAPABILITY",
    "abcd CAPABILITY",
    "b LOGIN \"fred\" \"foo\"",
    "c1 AUTHENTICATE PLAIN",
    "c2 AUTHENTICATE PLAIN",
    "d login \"fred\" \"foo\"",
    "d select inbox",
    "e login \"fred\" \"foo\"",
    "efgh STARTTLS",
    "f select \"/archive/projects/experiment-iv\"",
    "g delete \"/archive/projects/experiment-iv\"",
    "h search from maria@example.com",
    "i select \"/archive/projects/experiment-iv\"",
    "ijkl CAPABILITY",
    "j select \"/archive/projects/experiment-iv\"",
    "k1 select \"/archive/projects/experiment-iv\"",
    "k2 status \"/archive/projects/experiment-iv\" (messages)",
    "l create \"///////\"",
    "m356 DELETE Notes",
    "n1 uid copy 1:* oldmail",
    "n2 uid copy 1:* oldmail",
    "o356 RENAME this that",
    "p RENAME this that",
    "t1 CAPABILITY",
    "t1 LIST \"\" \"%\"",
    "t1 LIST \"\" \"%\" RETURN (SPECIAL-USE)",
    "t2 CREATE MySpecial (USE (\\Drafts \\Sent))",
    "t2 ENABLE CONDSTORE X-GOOD-IDEA",
    "t2 LIST \"\" \"%\" RETURN (SPECIAL-USE)",
    "t3 CAPABILITY",
    "t3 CREATE Everything (USE (\\All))",
    "t3 LIST (SPECIAL-USE) \"\" \"*\"",
    "t5 LIST \"\" \"%\" RETURN (SPECIAL-USE)",
];

#[test]
fn rfc_examples_parse() {
    for line in RFC_EXAMPLES {
        if let Err(e) = parse_command(line.as_bytes(), ParseOptions { utf8: true }) {
            panic!("{line:?}: {e}");
        }
    }
}

/// A small deterministic generator (no dev-dependency needed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the encoder writes as an astring, the parser reads back exactly.
#[test]
fn astring_encoding_roundtrips() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let alphabet: &[u8] = b"aZ09 \"\\(){}%*]\r\n\t~&+-.\x7f\x80\xc3\xa9\xff";
    for utf8 in [false, true] {
        for _ in 0..3000 {
            let len = rng.below(12) as usize;
            let s: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize])
                .collect();
            let mut wire = Vec::new();
            crate::response::write_astring(&mut wire, &s, utf8);
            let mut c = lexer::Cursor::new(&wire, utf8);
            let back = c
                .astring()
                .unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(&wire)));
            assert!(c.at_end(), "{:?}", String::from_utf8_lossy(&wire));
            assert_eq!(back.as_ref(), s.as_slice());
        }
    }
}

/// Mailbox names survive encoder → parser in both modes.
#[test]
fn mailbox_names_roundtrip() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let chars = [
        'a',
        'Z',
        ' ',
        '&',
        '-',
        '/',
        '.',
        '"',
        '\\',
        '%',
        '*',
        '\u{e9}',
        '\u{53f0}',
        '\u{1F600}',
        '~',
    ];
    for utf8 in [false, true] {
        for _ in 0..3000 {
            let len = rng.below(10) as usize + 1;
            let name: String = (0..len)
                .map(|_| chars[rng.below(chars.len() as u64) as usize])
                .collect();
            let mut wire = b"a DELETE ".to_vec();
            crate::response::write_mailbox(&mut wire, &name, utf8);
            let parsed = parse_command(&wire, ParseOptions { utf8 }).unwrap_or_else(|e| panic!("{name:?}: {e}"));
            let want = if name.eq_ignore_ascii_case("INBOX") {
                "INBOX".to_string()
            } else {
                name.clone()
            };
            assert_eq!(parsed.body, CommandBody::Delete { mailbox: want });
        }
    }
}

/// Sequence sets print and parse back to the same set.
#[test]
fn sequence_sets_roundtrip() {
    let mut rng = Rng(0x5555_aaaa_1234_8765);
    for _ in 0..2000 {
        let n = rng.below(5) + 1;
        let bound = |rng: &mut Rng| {
            if rng.below(6) == 0 {
                SeqBound::Star
            } else {
                SeqBound::Num(rng.below(u64::from(u32::MAX)) as u32 + 1)
            }
        };
        let ranges: Vec<SeqRange> = (0..n)
            .map(|_| SeqRange {
                start: bound(&mut rng),
                end: bound(&mut rng),
            })
            .collect();
        let s = SequenceSet::Ranges(ranges);
        assert_eq!(set(&s.to_string()), s);
    }
}
