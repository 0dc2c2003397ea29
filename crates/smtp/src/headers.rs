//! Trace and submission headers: `Received:` (RFC 5321 §4.4),
//! `Return-Path:` (§4.4, added at final delivery), and the `Message-ID:` /
//! `Date:` a submission server adds when missing (RFC 6409 §8).
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub use mailroom_net::time::now;

/// RFC 5322 §3.3 date-time in UTC: `Thu, 26 Nov 2026 08:46:17 +0000`.
pub fn rfc5322_date(ts: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = ts.div_euclid(86400);
    let secs = ts.rem_euclid(86400);
    let (year, month, day) = mailroom_net::time::civil_from_days(days);
    format!(
        "{}, {} {} {} {:02}:{:02}:{:02} +0000",
        DAYS[days.rem_euclid(7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// A unique token for queue ids and Message-IDs.
pub fn unique_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}.{:016x}", nanos, h.finish())
}

/// Everything `Received:` says about the session.
pub struct TraceInfo<'a> {
    pub helo: &'a str,
    pub peer_ip: std::net::IpAddr,
    pub hostname: &'a str,
    /// RFC 3848 protocol type: SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA.
    pub with: &'a str,
    pub id: &'a str,
    /// Only named when there is exactly one recipient (§7.2: don't leak Bcc).
    pub for_rcpt: Option<&'a str>,
    pub tls: Option<&'a str>,
}

pub fn received(t: &TraceInfo<'_>) -> String {
    let helo: String = t
        .helo
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '(' && *c != ')')
        .collect();
    let mut s = format!(
        "Received: from {} ([{}])\r\n\tby {} (Mailroom) with {}",
        if helo.is_empty() { "unknown" } else { &helo },
        t.peer_ip,
        t.hostname,
        t.with
    );
    if let Some(tls) = t.tls {
        s.push_str(&format!(" ({tls})"));
    }
    s.push_str(&format!("\r\n\tid {}", t.id));
    if let Some(r) = t.for_rcpt {
        s.push_str(&format!("\r\n\tfor <{r}>"));
    }
    s.push_str(&format!(";\r\n\t{}\r\n", rfc5322_date(now())));
    s
}

pub fn return_path(sender: &str) -> String {
    format!("Return-Path: <{sender}>\r\n")
}

/// The header section (up to the blank line, or all of it if none).
fn header_section(msg: &[u8]) -> &[u8] {
    let mut i = 0;
    while i < msg.len() {
        let end = msg[i..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| i + p + 1)
            .unwrap_or(msg.len());
        let line = &msg[i..end];
        if line == b"\r\n" || line == b"\n" {
            return &msg[..i];
        }
        i = end;
    }
    msg
}

/// Whether a header field named `name` is present (case-insensitive).
pub fn has_header(msg: &[u8], name: &str) -> bool {
    header_section(msg).split(|&b| b == b'\n').any(|line| {
        line.len() > name.len()
            && line[..name.len()].eq_ignore_ascii_case(name.as_bytes())
            && line[name.len()..].trim_ascii_start().starts_with(b":")
    })
}

/// RFC 6409 §8.2 and §8.3: the headers a submission server adds when missing.
pub fn submission_fixups(msg: &[u8], hostname: &str) -> String {
    let mut s = String::new();
    if !has_header(msg, "Message-ID") {
        s.push_str(&format!("Message-ID: <{}@{}>\r\n", unique_id(), hostname));
    }
    if !has_header(msg, "Date") {
        s.push_str(&format!("Date: {}\r\n", rfc5322_date(now())));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc5322_date(1_795_682_777), "Thu, 26 Nov 2026 08:46:17 +0000");
        assert_eq!(rfc5322_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
    }

    #[test]
    fn header_detection() {
        let m = b"Subject: x\r\nmessage-id : <a@b>\r\n\r\nDate: in body\r\n";
        assert!(has_header(m, "Message-ID"));
        assert!(!has_header(m, "Date"));
        let fix = submission_fixups(m, "h.test");
        assert!(fix.starts_with("Date: "), "{fix}");
    }

    #[test]
    fn received_shape() {
        let r = received(&TraceInfo {
            helo: "client(evil)",
            peer_ip: "192.0.2.1".parse().unwrap(),
            hostname: "mx.test",
            with: "ESMTPS",
            id: "abc",
            for_rcpt: Some("bob@example.test"),
            tls: Some("TLSv1_3"),
        });
        assert!(r.starts_with("Received: from clientevil ([192.0.2.1])\r\n\tby mx.test (Mailroom) with ESMTPS (TLSv1_3)\r\n\tid abc\r\n\tfor <bob@example.test>;\r\n\t"));
        assert!(r.ends_with("+0000\r\n"));
    }
}
