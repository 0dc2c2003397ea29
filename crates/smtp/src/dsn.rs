//! Delivery status notifications (RFC 3464), sent as
//! `multipart/report; report-type=delivery-status` (RFC 6522): failures
//! (unless NOTIFY=NEVER), for NOTIFY=SUCCESS the "delivered" and
//! "relayed" reports of RFC 3461 §6.2, and "delayed" warnings (§5.2.5).
use mail_builder::MessageBuilder;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::MimePart;
use mailroom_store::{NewQueueMessage, NewQueueRecipient, Store, StoreError};

use crate::headers;

/// What happened to a recipient (RFC 3464 §2.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Failed,
    Delivered,
    /// Passed to a server that does not speak DSN: no further reports.
    Relayed,
    /// Still being retried after `[delivery] delay_warning_secs`.
    Delayed,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Failed => "failed",
            Action::Delivered => "delivered",
            Action::Relayed => "relayed",
            Action::Delayed => "delayed",
        }
    }
}

/// The envelope of the message being reported on.
#[derive(Debug, Clone)]
pub struct DsnEnvelope {
    /// Who gets the report (the original reverse-path, never empty).
    pub sender: String,
    pub env_id: Option<String>,
    pub ret: Option<String>,
    pub arrival: i64,
    /// For "delayed" reports: when the queue gives up (RFC 3464 §2.3.9).
    pub retry_until: Option<i64>,
}

/// One recipient to report on.
#[derive(Debug, Clone)]
pub struct Failure {
    pub address: String,
    pub action: Action,
    pub orcpt: Option<String>,
    /// The last reply or reason, e.g. `550 5.1.1 User unknown`.
    pub diagnostic: String,
    /// The remote host that answered, if any.
    pub remote_mta: Option<String>,
}

/// The enhanced status code in a reply (`5.1.1`), or a generic one.
pub fn status_of(diagnostic: &str) -> String {
    let found = diagnostic.split_whitespace().take(2).find(|w| {
        let p: Vec<&str> = w.split('.').collect();
        p.len() == 3
            && (p[0] == "2" || p[0] == "4" || p[0] == "5")
            && p[1..]
                .iter()
                .all(|x| !x.is_empty() && x.len() <= 3 && x.bytes().all(|b| b.is_ascii_digit()))
    });
    match found {
        // A failure reported with a 4.x.x status (e.g. expired while
        // deferred) is still a failure; RFC 3464 keeps the status as given.
        Some(s) => s.to_string(),
        None => "5.0.0".to_string(),
    }
}

/// Whether a recipient's NOTIFY asks for reports of `action` (RFC 3461
/// §4.1: without NOTIFY, failures and delays; §5.2.5 (c): never a delay
/// report when NOTIFY lacks DELAY).
pub fn wanted(notify: Option<&str>, action: Action) -> bool {
    let word = match action {
        Action::Failed => "FAILURE",
        Action::Delivered | Action::Relayed => "SUCCESS",
        Action::Delayed => "DELAY",
    };
    match notify {
        None => matches!(action, Action::Failed | Action::Delayed),
        Some(n) => n.split(',').any(|w| w.eq_ignore_ascii_case(word)),
    }
}

/// Builds the DSN message (headers included) for `env.sender`.
pub fn build(hostname: &str, msg: &DsnEnvelope, failures: &[Failure], original: &[u8]) -> Vec<u8> {
    let any_failed = failures.iter().any(|f| f.action == Action::Failed);
    let any_delayed = failures.iter().any(|f| f.action == Action::Delayed);
    let mut human = format!("This is the mail system at host {hostname}.\r\n\r\n");
    if any_failed {
        human.push_str("Your message could not be delivered to one or more recipients.\r\n\r\n");
    } else if any_delayed {
        human.push_str("Your message could not be delivered yet to one or more recipients.\r\n");
        if let Some(until) = msg.retry_until {
            human.push_str(&format!(
                "Delivery will be retried until {}.\r\n",
                headers::rfc5322_date(until)
            ));
        }
        human.push_str("You do not need to send it again.\r\n\r\n");
    } else {
        human.push_str("Your message was successfully delivered as requested.\r\n\r\n");
    }
    for f in failures {
        human.push_str(&format!("<{}>: {}\r\n", f.address, f.diagnostic));
    }

    // RFC 3464 §2.2: per-message fields, then one block per recipient.
    let mut status = format!("Reporting-MTA: dns; {hostname}\r\n");
    // RFC 3464 §2.2.1 and §2.3.1: ENVID and ORCPT are reported decoded
    // from the xtext they travelled in (RFC 3461 §4).
    if let Some(envid) = &msg.env_id {
        let envid = crate::command::xtext_decode(envid).unwrap_or_else(|| envid.clone());
        status.push_str(&format!("Original-Envelope-Id: {}\r\n", printable(&envid)));
    }
    status.push_str(&format!("Arrival-Date: {}\r\n", headers::rfc5322_date(msg.arrival)));
    for f in failures {
        status.push_str("\r\n");
        if let Some((kind, addr)) = f.orcpt.as_deref().and_then(|o| o.split_once(';')) {
            let addr = crate::command::xtext_decode(addr).unwrap_or_else(|| addr.to_string());
            status.push_str(&format!(
                "Original-Recipient: {}; {}\r\n",
                printable(kind),
                printable(&addr)
            ));
        }
        status.push_str(&format!("Final-Recipient: rfc822; {}\r\n", f.address));
        status.push_str(&format!("Action: {}\r\n", f.action.as_str()));
        let code = match f.action {
            Action::Failed => status_of(&f.diagnostic),
            Action::Delayed => Some(status_of(&f.diagnostic))
                .filter(|s| s.starts_with('4'))
                .unwrap_or_else(|| "4.0.0".to_string()),
            Action::Delivered | Action::Relayed => "2.0.0".to_string(),
        };
        status.push_str(&format!("Status: {code}\r\n"));
        if let Some(mta) = &f.remote_mta {
            status.push_str(&format!("Remote-MTA: dns; {mta}\r\n"));
        }
        status.push_str(&format!("Diagnostic-Code: smtp; {}\r\n", printable(&f.diagnostic)));
        status.push_str(&format!(
            "Last-Attempt-Date: {}\r\n",
            headers::rfc5322_date(headers::now())
        ));
        if let (Action::Delayed, Some(until)) = (f.action, msg.retry_until) {
            status.push_str(&format!("Will-Retry-Until: {}\r\n", headers::rfc5322_date(until)));
        }
    }

    // Success and delay reports carry the headers only (RFC 3461 §4.3:
    // RET is about returning the content of failed messages).
    let returned = if msg.ret.as_deref() == Some("HDRS") || !any_failed {
        let end = find_header_end(original);
        MimePart::new("text/rfc822-headers", original[..end].to_vec()).transfer_encoding("8bit")
    } else {
        MimePart::new("message/rfc822", original.to_vec()).transfer_encoding("8bit")
    };

    let report = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", "delivery-status"),
        vec![
            MimePart::new("text/plain", human),
            MimePart::new("message/delivery-status", status).transfer_encoding("7bit"),
            returned,
        ],
    );
    MessageBuilder::new()
        .from(("Mail Delivery System".to_string(), format!("MAILER-DAEMON@{hostname}")))
        .to(msg.sender.as_str())
        .subject(if any_failed {
            "Undelivered Mail Returned to Sender"
        } else if any_delayed {
            "Delayed Mail (still being retried)"
        } else {
            "Successful Mail Delivery Report"
        })
        .date(headers::now())
        .message_id(format!("{}@{}", headers::unique_id(), hostname))
        // RFC 3834 §5: automatic replies must say so.
        .header("Auto-Submitted", Raw::new("auto-replied"))
        .body(report)
        .write_to_vec()
        .unwrap_or_default()
}

/// Sends a report to `env.sender` (blocking): straight into its INBOX when
/// the sender is local, else through the queue with a null reverse-path so
/// that it can never be bounced in turn. Returns whether it was queued.
pub fn send(
    store: &Store,
    hostname: &str,
    env: &DsnEnvelope,
    reports: &[Failure],
    original: &[u8],
) -> Result<bool, StoreError> {
    if env.sender.is_empty() || reports.is_empty() {
        return Ok(false);
    }
    let report = build(hostname, env, reports, original);
    let domain = env.sender.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    if store.is_local_domain(domain)?
        && let Some(acct) = store.resolve_recipient(&env.sender)?
    {
        let res = crate::inbound::deliver_local(store, "", &report, &[acct.id])?;
        if res.into_iter().all(|r| r.is_ok()) {
            return Ok(false);
        }
    }
    let blob = store.prepare_blob(&report)?;
    store.enqueue(
        &blob,
        NewQueueMessage {
            sender: String::new(),
            recipients: vec![NewQueueRecipient {
                address: env.sender.clone(),
                orcpt: None,
                notify: None,
            }],
            ..Default::default()
        },
    )?;
    Ok(true)
}

/// Keeps a header field on one line whatever the input holds.
fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

fn find_header_end(msg: &[u8]) -> usize {
    msg.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .unwrap_or(msg.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_rules() {
        assert!(wanted(None, Action::Failed));
        assert!(!wanted(None, Action::Delivered));
        assert!(!wanted(Some("NEVER"), Action::Failed));
        assert!(wanted(Some("SUCCESS,DELAY"), Action::Relayed));
        assert!(!wanted(Some("SUCCESS"), Action::Failed));
        assert!(wanted(None, Action::Delayed));
        assert!(wanted(Some("FAILURE,DELAY"), Action::Delayed));
        assert!(!wanted(Some("FAILURE"), Action::Delayed));
        assert!(!wanted(Some("NEVER"), Action::Delayed));
    }

    #[test]
    fn status_extraction() {
        assert_eq!(status_of("550 5.1.1 <x>: User unknown"), "5.1.1");
        assert_eq!(status_of("4.4.7 Delivery time expired"), "4.4.7");
        assert_eq!(status_of("connection refused"), "5.0.0");
    }

    #[test]
    fn report_parses() {
        let msg = DsnEnvelope {
            sender: "alice@a.test".into(),
            env_id: Some("ENV+2B1".into()),
            ret: None,
            arrival: 0,
            retry_until: None,
        };
        let original = b"Subject: hello\r\nFrom: alice@a.test\r\n\r\nbody\r\n";
        let dsn = build(
            "mx.a.test",
            &msg,
            &[Failure {
                address: "nobody@b.test".into(),
                action: Action::Failed,
                orcpt: Some("rfc822;nobody+40b.test".into()),
                diagnostic: "550 5.1.1 User unknown".into(),
                remote_mta: Some("mx.b.test".into()),
            }],
            original,
        );
        let text = String::from_utf8_lossy(&dsn);
        assert!(text.contains("multipart/report"), "{text}");
        assert!(text.contains("report-type=\"delivery-status\"") || text.contains("report-type=delivery-status"));
        assert!(text.contains("Final-Recipient: rfc822; nobody@b.test"));
        assert!(text.contains("Status: 5.1.1"));
        assert!(text.contains("Original-Envelope-Id: ENV+1"));
        assert!(text.contains("Original-Recipient: rfc822; nobody@b.test"));
        assert!(text.contains("Auto-Submitted: auto-replied"));
        assert!(text.contains("Subject: hello"));
        let parsed = mail_parser::MessageParser::default().parse(&dsn[..]).unwrap();
        assert_eq!(parsed.subject(), Some("Undelivered Mail Returned to Sender"));
    }
}
