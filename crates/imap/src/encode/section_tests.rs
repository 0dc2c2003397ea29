use super::*;
use crate::command::{Partial, Section, SectionKind};
use crate::encode::bodystructure::write_body;
use crate::encode::transfer;
use mailroom_store::parse::parse;

const NESTED: &[u8] = b"From: Alice <alice@example.org>\r\n\
To: Bob <bob@example.net>\r\n\
Subject: nested\r\n\
Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n\
Message-ID: <outer@example.org>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"outer\"\r\n\
\r\n\
preamble\r\n\
--outer\r\n\
Content-Type: multipart/alternative; boundary=\"alt\"\r\n\
\r\n\
--alt\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
caf=C3=A9 plain\r\n\
--alt\r\n\
Content-Type: text/html; charset=utf-8\r\n\
\r\n\
<p>html</p>\r\n\
--alt--\r\n\
--outer\r\n\
Content-Type: application/octet-stream; name=\"a.bin\"\r\n\
Content-Transfer-Encoding: base64\r\n\
Content-Disposition: attachment; filename=\"a.bin\"\r\n\
Content-ID: <part3@example.org>\r\n\
\r\n\
AAECAwQ=\r\n\
--outer\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
From: Carol <carol@example.com>\r\n\
Subject: inner\r\n\
Content-Type: multipart/mixed; boundary=\"in\"\r\n\
\r\n\
--in\r\n\
Content-Type: text/plain\r\n\
\r\n\
inner one\r\n\
--in\r\n\
Content-Type: text/plain\r\n\
\r\n\
inner two\r\n\
--in--\r\n\
\r\n\
--outer--\r\n";

const SIMPLE: &[u8] = b"From: a@b.c\r\nSubject: hi\r\nX-Foo: one\r\n two\r\nTo: d@e.f\r\n\r\nHello\r\nWorld\r\n";

fn sec(part: &[u32], kind: SectionKind) -> Section {
    Section {
        part: part.to_vec(),
        kind,
    }
}

fn bytes(raw: &[u8], loc: SectionLocation) -> Vec<u8> {
    match loc {
        SectionLocation::Range(r) => raw[r.start as usize..r.end as usize].to_vec(),
        SectionLocation::HeaderFields { range, fields, not } => {
            filter_header(&raw[range.start as usize..range.end as usize], &fields, not)
        }
    }
}

fn fetch(raw: &[u8], part: &[u32], kind: SectionKind) -> Result<Vec<u8>, SectionError> {
    let msg = parse(raw);
    locate(&sec(part, kind), &msg).map(|l| bytes(raw, l))
}

#[test]
fn simple_message_sections() {
    let m = SIMPLE;
    assert_eq!(fetch(m, &[], SectionKind::Full).unwrap(), m);
    assert_eq!(
        fetch(m, &[], SectionKind::Header).unwrap(),
        b"From: a@b.c\r\nSubject: hi\r\nX-Foo: one\r\n two\r\nTo: d@e.f\r\n\r\n"
    );
    assert_eq!(fetch(m, &[], SectionKind::Text).unwrap(), b"Hello\r\nWorld\r\n");
    // Part 1 of a non-multipart message is its body.
    assert_eq!(fetch(m, &[1], SectionKind::Full).unwrap(), b"Hello\r\nWorld\r\n");
    assert_eq!(fetch(m, &[2], SectionKind::Full), Err(SectionError::NoSuchPart));
    assert_eq!(fetch(m, &[1, 1], SectionKind::Full), Err(SectionError::NoSuchPart));
    assert_eq!(
        fetch(m, &[], SectionKind::HeaderFields(vec!["X-FOO".into(), "TO".into()])).unwrap(),
        b"X-Foo: one\r\n two\r\nTo: d@e.f\r\n\r\n"
    );
    assert_eq!(
        fetch(
            m,
            &[],
            SectionKind::HeaderFieldsNot(vec!["X-FOO".into(), "subject".into()])
        )
        .unwrap(),
        b"From: a@b.c\r\nTo: d@e.f\r\n\r\n"
    );
    assert_eq!(
        fetch(m, &[], SectionKind::HeaderFields(vec!["NONE".into()])).unwrap(),
        b"\r\n"
    );
}

#[test]
fn nested_message_sections() {
    let m = NESTED;
    let s = |part: &[u32], kind: SectionKind| String::from_utf8(fetch(m, part, kind).unwrap()).unwrap();
    assert_eq!(s(&[1, 1], SectionKind::Full), "caf=C3=A9 plain");
    assert_eq!(
        s(&[1, 1], SectionKind::Mime),
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    );
    assert_eq!(s(&[1, 2], SectionKind::Full), "<p>html</p>");
    assert_eq!(s(&[2], SectionKind::Full), "AAECAwQ=");
    // Part 3 is a message/rfc822: its HEADER/TEXT are the embedded message's.
    assert!(s(&[3], SectionKind::Header).starts_with("From: Carol <carol@example.com>\r\n"));
    assert!(s(&[3], SectionKind::Header).ends_with("boundary=\"in\"\r\n\r\n"));
    assert!(s(&[3], SectionKind::Text).starts_with("--in\r\n"));
    assert_eq!(
        s(&[3], SectionKind::HeaderFields(vec!["SUBJECT".into()])),
        "Subject: inner\r\n\r\n"
    );
    assert!(s(&[3], SectionKind::Full).starts_with("From: Carol"));
    assert_eq!(s(&[3], SectionKind::Mime), "Content-Type: message/rfc822\r\n\r\n");
    // 3.1, 3.2: the embedded message's parts.
    assert_eq!(s(&[3, 1], SectionKind::Full), "inner one");
    assert_eq!(s(&[3, 2], SectionKind::Full), "inner two");
    assert_eq!(fetch(m, &[3, 3], SectionKind::Full), Err(SectionError::NoSuchPart));
    assert_eq!(fetch(m, &[2], SectionKind::Header), Err(SectionError::NotAMessage));
    assert_eq!(fetch(m, &[4], SectionKind::Full), Err(SectionError::NoSuchPart));
    assert_eq!(fetch(m, &[2, 1], SectionKind::Full), Err(SectionError::NoSuchPart));
}

#[test]
fn binary_sections() {
    let msg = parse(NESTED);
    let loc = locate_binary(&msg, &[2]).unwrap();
    assert_eq!(loc.encoding, "base64");
    assert_eq!(loc.size_hint, None);
    let raw = &NESTED[loc.range.start as usize..loc.range.end as usize];
    assert_eq!(transfer::decode(&loc.encoding, raw).unwrap(), b"\0\x01\x02\x03\x04");
    let loc = locate_binary(&msg, &[1, 1]).unwrap();
    let raw = &NESTED[loc.range.start as usize..loc.range.end as usize];
    assert_eq!(
        transfer::decode(&loc.encoding, raw).unwrap(),
        "caf\u{e9} plain".as_bytes()
    );
    let loc = locate_binary(&msg, &[1, 2]).unwrap();
    assert_eq!(loc.size_hint, Some(11));
    let loc = locate_binary(&msg, &[]).unwrap();
    assert_eq!(loc.size_hint, Some(NESTED.len() as u64));
}

#[test]
fn partial_ranges() {
    assert_eq!(partial_range(100, None), 0..100);
    assert_eq!(partial_range(100, Some(Partial { offset: 10, length: 20 })), 10..30);
    assert_eq!(partial_range(100, Some(Partial { offset: 90, length: 20 })), 90..100);
    assert_eq!(
        partial_range(
            100,
            Some(Partial {
                offset: 200,
                length: 20
            })
        ),
        100..100
    );
    assert_eq!(
        partial_range(
            100,
            Some(Partial {
                offset: 5,
                length: u64::MAX
            })
        ),
        5..100
    );
}

fn bs(raw: &[u8], extended: bool) -> String {
    let msg = parse(raw);
    let mut out = Vec::new();
    write_body(&mut out, &msg.root, extended, false);
    String::from_utf8(out).unwrap()
}

#[test]
fn bodystructure_simple() {
    assert_eq!(
        bs(SIMPLE, true),
        "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 14 2 NIL NIL NIL NIL)"
    );
    assert_eq!(
        bs(SIMPLE, false),
        "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 14 2)"
    );
}

#[test]
fn bodystructure_nested() {
    let text_plain = "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 15 1)";
    let html = "(\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 11 1)";
    let bin = "(\"APPLICATION\" \"OCTET-STREAM\" (\"NAME\" \"a.bin\") \"<part3@example.org>\" NIL \"BASE64\" 8)";
    let got = bs(NESTED, false);
    assert!(
        got.starts_with(&format!(
            "(({text_plain}{html} \"ALTERNATIVE\"){bin}(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" "
        )),
        "{got}"
    );
    assert!(got.ends_with(" \"MIXED\")"), "{got}");
    assert!(got.contains("((NIL NIL NIL NIL)") || got.contains("\"inner\""), "{got}");
    let ext = bs(NESTED, true);
    assert!(
        ext.contains("\"BASE64\" 8 NIL (\"ATTACHMENT\" (\"FILENAME\" \"a.bin\")) NIL NIL)"),
        "{ext}"
    );
    assert!(
        ext.ends_with(" \"MIXED\" (\"BOUNDARY\" \"outer\") NIL NIL NIL)"),
        "{ext}"
    );
}

#[test]
fn message_global_only_in_rev2_form() {
    let raw = b"Content-Type: message/global\r\n\r\nSubject: x\r\n\r\nbody\r\n";
    let msg = parse(raw);
    assert_eq!(msg.root.subtype, "global");
    let mut rev1 = Vec::new();
    write_body(&mut rev1, &msg.root, false, false);
    let rev1 = String::from_utf8(rev1).unwrap();
    assert!(
        rev1.starts_with("(\"MESSAGE\" \"GLOBAL\" NIL NIL NIL \"7BIT\" "),
        "{rev1}"
    );
    assert!(!rev1.contains("\"x\""), "{rev1}");
    let mut rev2 = Vec::new();
    write_body(&mut rev2, &msg.root, false, true);
    let rev2 = String::from_utf8(rev2).unwrap();
    assert!(rev2.contains("\"x\""), "{rev2}");
}

#[test]
fn long_field_lists_filter_like_short_ones() {
    let header = b"From: a\r\nSubject: s\r\n  folded\r\nX-Other: o\r\n\r\n";
    let mut many: Vec<String> = (0..40).map(|i| format!("X-Unused-{i}")).collect();
    many.push("SUBJECT".into());
    many.push("from".into());
    let short = vec!["SUBJECT".to_string(), "from".to_string()];
    assert_eq!(
        filter_header(header, &many, false),
        filter_header(header, &short, false)
    );
    assert_eq!(
        filter_header(header, &many, false),
        b"From: a\r\nSubject: s\r\n  folded\r\n\r\n"
    );
    assert_eq!(filter_header(header, &many, true), b"X-Other: o\r\n\r\n");
}
