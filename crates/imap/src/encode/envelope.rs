//! ENVELOPE (RFC 9051 §7.5.2): the parsed header fields as IMAP
//! structures. Values are sent as they appear in the header (unfolded,
//! not decoded), which is what the RFC asks for.

use mailroom_store::parse::{EnvAddress, Envelope};

use crate::response::write_nstring;

pub fn write_envelope(out: &mut Vec<u8>, env: &Envelope, utf8: bool) {
    let ns = |out: &mut Vec<u8>, s: &Option<String>| write_nstring(out, s.as_deref().map(str::as_bytes), utf8);
    out.push(b'(');
    ns(out, &env.date);
    out.push(b' ');
    ns(out, &env.subject);
    for list in [&env.from, &env.sender, &env.reply_to, &env.to, &env.cc, &env.bcc] {
        out.push(b' ');
        write_addresses(out, list, utf8);
    }
    out.push(b' ');
    ns(out, &env.in_reply_to);
    out.push(b' ');
    ns(out, &env.message_id);
    out.push(b')');
}

/// `((name adl mailbox host) ...)` or NIL for none.
fn write_addresses(out: &mut Vec<u8>, list: &[EnvAddress], utf8: bool) {
    if list.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for a in list {
        out.push(b'(');
        for (i, f) in [&a.name, &a.adl, &a.mailbox, &a.host].into_iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            write_nstring(out, f.as_deref().map(str::as_bytes), utf8);
        }
        out.push(b')');
    }
    out.push(b')');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_style_envelope() {
        let raw = b"Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n\
From: Terry Gray <gray@cac.washington.edu>\r\n\
Subject: IMAP4rev1 WG mtg summary and minutes\r\n\
To: imap@cac.washington.edu\r\n\
cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n\
Message-Id: <B27397-0100000@cac.washington.edu>\r\n\
\r\nbody\r\n";
        let parsed = mailroom_store::parse::parse(raw);
        let mut out = Vec::new();
        write_envelope(&mut out, &parsed.envelope, false);
        let expected = "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) \
((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL \
\"<B27397-0100000@cac.washington.edu>\")";
        assert_eq!(String::from_utf8_lossy(&out), expected);
    }

    #[test]
    fn groups_and_8bit() {
        let env = Envelope {
            subject: Some("Gr\u{fc}\u{df}e".into()),
            to: vec![
                EnvAddress {
                    mailbox: Some("undisclosed".into()),
                    ..Default::default()
                },
                EnvAddress::default(),
            ],
            ..Default::default()
        };
        let mut out = Vec::new();
        write_envelope(&mut out, &env, false);
        assert_eq!(
            out,
            "(NIL {7}\r\nGr\u{fc}\u{df}e NIL NIL NIL ((NIL NIL \"undisclosed\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL)"
                .as_bytes()
        );
        let mut out = Vec::new();
        write_envelope(&mut out, &env, true);
        assert!(out.starts_with("(NIL \"Gr\u{fc}\u{df}e\" NIL".as_bytes()));
    }
}
