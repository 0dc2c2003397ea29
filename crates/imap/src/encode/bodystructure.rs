//! BODY and BODYSTRUCTURE (RFC 9051 §7.5.2, grammar in §9 `body`), from
//! the MIME tree the store parsed at delivery.

use mailroom_store::parse::{Envelope, Part};

use super::envelope::write_envelope;
use crate::response::{write_nstring, write_string};

/// Writes `body` for `part`: BODYSTRUCTURE with `extended`, else the
/// non-extensible BODY form.
pub fn write_body(out: &mut Vec<u8>, part: &Part, extended: bool, utf8: bool) {
    out.push(b'(');
    if part.is_multipart() {
        if part.parts.is_empty() {
            // The grammar needs at least one body; an empty multipart is
            // described with one empty text part.
            write_body(out, &empty_text(), extended, utf8);
        }
        for child in &part.parts {
            write_body(out, child, extended, utf8);
        }
        out.push(b' ');
        write_upper(out, &part.subtype, utf8);
        if extended {
            out.push(b' ');
            write_params(out, &part.params, utf8);
            out.push(b' ');
            write_extension_tail(out, part, utf8);
        }
    } else {
        write_upper(out, &part.media_type, utf8);
        out.push(b' ');
        write_upper(out, &part.subtype, utf8);
        out.push(b' ');
        write_params(out, &part.params, utf8);
        out.push(b' ');
        write_nstring(out, part.id.as_deref().map(str::as_bytes), utf8);
        out.push(b' ');
        write_nstring(out, part.description.as_deref().map(str::as_bytes), utf8);
        out.push(b' ');
        write_upper(out, &part.encoding, utf8);
        out.extend_from_slice(format!(" {}", part.size).as_bytes());
        // message/rfc822: envelope, body and lines of the embedded message.
        // message/global (RFC 6532 §3.5) takes that form only where the
        // grammar has it (IMAP4rev2, RFC 9051 media-message); a rev1 client
        // would choke on it, so there it is described as a basic part.
        if part.media_type == "message" && (part.subtype == "rfc822" || (utf8 && part.subtype == "global")) {
            out.push(b' ');
            match &part.message {
                Some(m) => {
                    write_envelope(out, &m.envelope, utf8);
                    out.push(b' ');
                    write_body(out, &m.root, extended, utf8);
                }
                None => {
                    write_envelope(out, &Envelope::default(), utf8);
                    out.push(b' ');
                    write_body(out, &empty_text(), extended, utf8);
                }
            }
            out.extend_from_slice(format!(" {}", part.lines).as_bytes());
        } else if part.media_type == "text" {
            out.extend_from_slice(format!(" {}", part.lines).as_bytes());
        }
        if extended {
            out.push(b' ');
            write_nstring(out, part.md5.as_deref().map(str::as_bytes), utf8);
            out.push(b' ');
            write_extension_tail(out, part, utf8);
        }
    }
    out.push(b')');
}

/// Whether a part takes the body-type-msg form (RFC 9051 §9
/// media-message: MESSAGE/RFC822 or MESSAGE/GLOBAL).
pub fn is_message(part: &Part) -> bool {
    part.media_type == "message" && (part.subtype == "rfc822" || part.subtype == "global")
}

fn empty_text() -> Part {
    Part {
        media_type: "text".into(),
        subtype: "plain".into(),
        params: vec![("charset".into(), "us-ascii".into())],
        encoding: "7bit".into(),
        ..Default::default()
    }
}

/// Media types, subtypes and encodings are case-insensitive; upper case is
/// how the RFC examples (and most servers) write them.
fn write_upper(out: &mut Vec<u8>, s: &str, utf8: bool) {
    write_string(out, s.to_ascii_uppercase().as_bytes(), utf8);
}

/// `("name" "value" ...)` or NIL.
fn write_params(out: &mut Vec<u8>, params: &[(String, String)], utf8: bool) {
    if params.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        write_upper(out, k, utf8);
        out.push(b' ');
        write_string(out, v.as_bytes(), utf8);
    }
    out.push(b')');
}

/// `disposition language location`, shared by both part kinds.
fn write_extension_tail(out: &mut Vec<u8>, part: &Part, utf8: bool) {
    match &part.disposition {
        Some((kind, params)) => {
            out.push(b'(');
            write_upper(out, kind, utf8);
            out.push(b' ');
            write_params(out, params, utf8);
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    }
    out.push(b' ');
    match part.language.as_slice() {
        [] => out.extend_from_slice(b"NIL"),
        [one] => write_string(out, one.as_bytes(), utf8),
        many => {
            out.push(b'(');
            for (i, l) in many.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_string(out, l.as_bytes(), utf8);
            }
            out.push(b')');
        }
    }
    out.push(b' ');
    write_nstring(out, part.location.as_deref().map(str::as_bytes), utf8);
}
