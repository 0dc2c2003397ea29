//! `[smtp]` and `[delivery]` configuration.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::smarthost::{Secret, SmarthostTls};

/// Limits and timeouts of the SMTP server (`[smtp]`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// Largest message accepted, in octets (advertised as SIZE, RFC 1870).
    pub max_message_size: u64,
    /// Recipients per message; more get `452 4.5.3` (RFC 5321 §4.5.3.1.8).
    pub max_recipients: usize,
    /// Unknown, malformed or out-of-sequence commands before the session is closed.
    pub max_bad_commands: u32,
    /// Longest a whole session may last.
    pub session_timeout_secs: u64,
    /// Longest wait for one command or one block of data (RFC 5321 §4.5.3.2.7: 5 minutes).
    pub command_timeout_secs: u64,
    /// Longest command line, CRLF included (RFC 5321 §4.5.3.1.4: 512).
    pub max_command_line: usize,
    /// Longest text line in DATA, CRLF included (RFC 5321 §4.5.3.1.6: 1000).
    pub max_text_line: usize,
    /// Longest header section a submission may have (it is held in memory
    /// to add a missing Message-ID/Date); longer is refused with `552 5.3.4`.
    pub max_header_size: usize,
    /// Concurrent connections from one client address (IPv6: one /64).
    pub max_connections_per_ip: usize,
    /// Concurrent connections in total, per listener.
    pub max_connections: usize,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            max_message_size: 50 * 1024 * 1024,
            max_recipients: 100,
            max_bad_commands: 20,
            session_timeout_secs: 30 * 60,
            command_timeout_secs: 5 * 60,
            max_command_line: 512,
            max_text_line: 1000,
            max_header_size: 1024 * 1024,
            max_connections_per_ip: mailroom_net::limits::DEFAULT_MAX_PER_IP,
            max_connections: mailroom_net::limits::DEFAULT_MAX_GLOBAL,
        }
    }
}

impl SmtpConfig {
    pub(crate) fn command_timeout(&self) -> Duration {
        Duration::from_secs(self.command_timeout_secs.max(1))
    }
    pub(crate) fn session_timeout(&self) -> Duration {
        Duration::from_secs(self.session_timeout_secs.max(1))
    }
}

/// Outbound delivery (`[delivery]`, with `[delivery.routes]`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// Send all remote mail through this relay (`host:port`) instead of MX lookups.
    pub smarthost: Option<String>,
    /// Login for the smarthost (AUTH PLAIN, else LOGIN; only over TLS).
    pub smarthost_user: Option<String>,
    /// The smarthost password (or use `smarthost_password_file`).
    pub smarthost_password: Option<Secret>,
    /// A file holding the smarthost password (absolute path; read at each
    /// attempt; trailing newline ignored).
    pub smarthost_password_file: Option<PathBuf>,
    /// `starttls` (required), `implicit` (port 465) or `opportunistic`.
    /// Default: `starttls` when credentials are set, else `opportunistic`.
    pub smarthost_tls: Option<SmarthostTls>,
    /// Verify the smarthost's certificate and name (when credentials are
    /// set or TLS is required). Default true.
    pub smarthost_tls_verify: bool,
    /// Extra trusted certificates (PEM, absolute path) for the smarthost,
    /// besides the system CA bundle.
    pub smarthost_ca_file: Option<PathBuf>,
    /// Recipient domain → `host:port`; consulted before the smarthost and DNS.
    pub routes: BTreeMap<String, String>,
    /// Give up (and bounce) after a message has been queued this long.
    pub max_age_secs: u64,
    /// Send a "delayed" DSN (RFC 3461 §5.2.5, once per recipient) when a
    /// message is still undelivered this long after it was queued; 0: never
    /// (Postfix's `delay_warning_time`, also off by default; 4 hours is usual).
    pub delay_warning_secs: u64,
    /// A failure DSN returns the whole message only up to this size; a
    /// larger one gets its headers back (Postfix's `bounce_size_limit`).
    pub bounce_size_limit: u64,
    /// First retry delay; doubled after each failed attempt.
    pub retry_base_secs: u64,
    /// Upper bound of the retry delay.
    pub retry_max_secs: u64,
    /// How often the queue is checked even when nothing woke it (picks up
    /// changes made by `mailroom queue retry` from another process).
    pub poll_interval_secs: u64,
    /// Deliveries (one message to one domain) running at once.
    pub max_concurrent: usize,
    /// Connecting to a remote server.
    pub connect_timeout_secs: u64,
    /// Waiting for one reply of a remote server (RFC 5321 §4.5.3.2: minutes).
    pub command_timeout_secs: u64,
    /// Name sent in EHLO; defaults to the server's host name.
    pub helo_name: Option<String>,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            smarthost: None,
            smarthost_user: None,
            smarthost_password: None,
            smarthost_password_file: None,
            smarthost_tls: None,
            smarthost_tls_verify: true,
            smarthost_ca_file: None,
            routes: BTreeMap::new(),
            max_age_secs: 5 * 24 * 3600,
            delay_warning_secs: 0,
            bounce_size_limit: 50_000,
            retry_base_secs: 5 * 60,
            retry_max_secs: 4 * 3600,
            poll_interval_secs: 30,
            max_concurrent: 16,
            connect_timeout_secs: 30,
            command_timeout_secs: 5 * 60,
            helo_name: None,
        }
    }
}

impl DeliveryConfig {
    /// Delay before attempt number `attempts + 1` (exponential backoff).
    pub fn retry_delay(&self, attempts: u32) -> u64 {
        let base = self.retry_base_secs.max(1);
        let factor = 1u64.checked_shl(attempts.min(32)).unwrap_or(u64::MAX);
        base.saturating_mul(factor).min(self.retry_max_secs.max(base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_max() {
        let c = DeliveryConfig {
            retry_base_secs: 10,
            retry_max_secs: 100,
            ..Default::default()
        };
        assert_eq!(c.retry_delay(0), 10);
        assert_eq!(c.retry_delay(1), 20);
        assert_eq!(c.retry_delay(3), 80);
        assert_eq!(c.retry_delay(4), 100);
        assert_eq!(c.retry_delay(200), 100);
    }

    #[derive(serde::Deserialize)]
    struct File {
        smtp: SmtpConfig,
        delivery: DeliveryConfig,
    }

    #[test]
    fn toml_shape() {
        let f: File = toml::from_str(
            r#"
            [smtp]
            max_message_size = 1000
            max_recipients = 5
            [delivery]
            smarthost = "relay.test:587"
            smarthost_user = "me@isp.test"
            smarthost_password = "pw"
            smarthost_tls = "implicit"
            delay_warning_secs = 14400
            max_age_secs = 60
            [delivery.routes]
            "b.test" = "127.0.0.1:2526"
            "#,
        )
        .unwrap();
        assert_eq!(f.smtp.max_message_size, 1000);
        assert_eq!(f.smtp.max_text_line, 1000);
        assert_eq!(f.delivery.routes["b.test"], "127.0.0.1:2526");
        assert_eq!(f.delivery.max_age_secs, 60);
        assert_eq!(f.delivery.smarthost_tls, Some(SmarthostTls::Implicit));
        assert_eq!(f.delivery.smarthost_password, Some(Secret("pw".into())));
        assert!(f.delivery.smarthost_tls_verify);
        assert_eq!(f.delivery.delay_warning_secs, 14400);
        assert_eq!(DeliveryConfig::default().delay_warning_secs, 0);
        assert!(toml::from_str::<File>("[smtp]\n[delivery]\nsmarthost_tls = 'tls'\n").is_err());
        assert_eq!(f.delivery.retry_base_secs, 300);
        assert!(toml::from_str::<File>("[smtp]\nbogus = 1\n[delivery]\n").is_err());
        assert!(toml::from_str::<File>("[smtp]\n[delivery]\nrelay = 'x'\n").is_err());
    }

    #[test]
    fn defaults() {
        let s = SmtpConfig::default();
        assert_eq!(s.max_message_size, 50 * 1024 * 1024);
        assert_eq!(s.max_recipients, 100);
        assert_eq!(DeliveryConfig::default().max_age_secs, 5 * 86400);
    }
}
