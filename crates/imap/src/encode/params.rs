//! MIME parameters (Content-Type, Content-Disposition) as IMAP4rev1
//! BODYSTRUCTURE gives them: from the raw header, RFC 2231 continuations
//! (`name*0`, `name*1`) joined, but values otherwise untouched: RFC 2047
//! words and RFC 2231 charset encoding (`name*=UTF-8''...`) are left for the
//! client to decode, as Dovecot and Cyrus do. A rev1 client gets no 8-bit
//! text this way. (IMAP4rev2 sessions get the store's decoded values, as
//! RFC 9051 §7.5.2 suggests.)

/// The parameters of a raw field value such as
/// `multipart/mixed; boundary="b"` (the part before the first `;` is
/// skipped). Names are lower-cased; values unquoted.
pub fn parse_params(value: &[u8]) -> Vec<(String, String)> {
    let mut raw: Vec<(String, String)> = Vec::new();
    let mut i = match value.iter().position(|&b| b == b';') {
        Some(p) => p + 1,
        None => return Vec::new(),
    };
    while i < value.len() {
        skip_cfws(value, &mut i);
        let start = i;
        while i < value.len() && !b"=;".contains(&value[i]) {
            i += 1;
        }
        let name = String::from_utf8_lossy(value[start..i].trim_ascii()).to_ascii_lowercase();
        if i >= value.len() || value[i] == b';' {
            // A name without a value: ignored, as mail readers do.
            i += 1;
            continue;
        }
        i += 1; // '='
        skip_cfws(value, &mut i);
        let mut v = Vec::new();
        if value.get(i) == Some(&b'"') {
            i += 1;
            while i < value.len() && value[i] != b'"' {
                if value[i] == b'\\' && i + 1 < value.len() {
                    i += 1;
                }
                v.push(value[i]);
                i += 1;
            }
            i += 1;
        } else {
            while i < value.len() && !b"; \t(".contains(&value[i]) {
                v.push(value[i]);
                i += 1;
            }
        }
        // Anything up to the next `;` (comments, junk) is not part of it.
        while i < value.len() && value[i] != b';' {
            if value[i] == b'(' {
                skip_cfws(value, &mut i);
            } else {
                i += 1;
            }
        }
        i += 1;
        if !name.is_empty() {
            raw.push((name, String::from_utf8_lossy(&v).into_owned()));
        }
    }
    join_continuations(raw)
}

fn skip_cfws(v: &[u8], i: &mut usize) {
    loop {
        while *i < v.len() && v[*i].is_ascii_whitespace() {
            *i += 1;
        }
        if v.get(*i) != Some(&b'(') {
            return;
        }
        let mut depth = 0usize;
        while *i < v.len() {
            match v[*i] {
                b'\\' => *i += 1,
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        *i += 1;
                        break;
                    }
                }
                _ => {}
            }
            *i += 1;
        }
    }
}

/// RFC 2231 §3: `p*0`, `p*1*`, ... become one `p` (or `p*` when the first
/// section is charset-encoded), in section order, at the first section's
/// place. Values are concatenated as they are.
/// A continued parameter: base name, its slot in the output, and its
/// sections as (number, value, extended).
type Group = (String, usize, Vec<(u32, String, bool)>);

fn join_continuations(raw: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    for (name, value) in raw {
        let section = name.split_once('*').and_then(|(base, rest)| {
            let digits = rest.strip_suffix('*').unwrap_or(rest);
            digits
                .parse::<u32>()
                .ok()
                .map(|n| (base.to_string(), n, rest.ends_with('*')))
        });
        match section {
            Some((base, n, extended)) => match groups.iter_mut().find(|g| g.0 == base) {
                Some(g) => g.2.push((n, value, extended)),
                None => {
                    out.push((String::new(), String::new()));
                    groups.push((base, out.len() - 1, vec![(n, value, extended)]));
                }
            },
            None => out.push((name, value)),
        }
    }
    for (base, idx, mut sections) in groups {
        sections.sort_by_key(|s| s.0);
        let extended0 = sections.first().is_some_and(|s| s.0 == 0 && s.2);
        out[idx].0 = if extended0 { format!("{base}*") } else { base };
        out[idx].1 = sections.into_iter().map(|s| s.1).collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &str) -> Vec<(String, String)> {
        parse_params(v.as_bytes())
    }

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn plain_quoted_and_comments() {
        assert_eq!(
            p("text/plain; CHARSET=\"utf-8\" (comment); format=flowed;"),
            kv(&[("charset", "utf-8"), ("format", "flowed")])
        );
        assert_eq!(p("text/plain"), kv(&[]));
        assert_eq!(p("a/b; x=\"q\\\"s\"; broken; y = z"), kv(&[("x", "q\"s"), ("y", "z")]));
        assert_eq!(
            p("application/pdf; name=\"=?UTF-8?Q?r=C3=A9sum=C3=A9.pdf?=\""),
            kv(&[("name", "=?UTF-8?Q?r=C3=A9sum=C3=A9.pdf?=")])
        );
    }

    #[test]
    fn rfc2231_continuations_joined_not_decoded() {
        assert_eq!(
            p("attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"),
            kv(&[("filename*", "UTF-8''r%C3%A9sum%C3%A9.pdf")])
        );
        assert_eq!(
            p("application/x; name*1=\"name.bin\"; name*0=\"long\"; size=3"),
            kv(&[("name", "longname.bin"), ("size", "3")])
        );
        assert_eq!(
            p("attachment; filename*0*=UTF-8''%C3%A9; filename*1=\".bin\""),
            kv(&[("filename*", "UTF-8''%C3%A9.bin")])
        );
    }
}
