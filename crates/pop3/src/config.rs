//! POP3 server settings (the `[pop3]` table of the configuration file).
use std::time::Duration;

use serde::Deserialize;

/// RFC 2449 §4: servers must accept command lines of 255 octets (CRLF
/// included); this is also the smallest allowed `max_line`.
pub const MIN_LINE: usize = 255;
/// RFC 1939 §3: the autologout timer must be at least 10 minutes.
pub const MIN_IDLE_TIMEOUT_SECS: u64 = 600;
/// Upper bound on `max_line`: a command line is buffered whole.
pub const MAX_LINE_CEILING: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Pop3Config {
    /// Unknown, malformed, out-of-state or over-long commands tolerated per
    /// connection; the next one closes it.
    pub max_bad_commands: u32,
    /// Failed logins (USER/PASS or AUTH) tolerated per connection before it
    /// is closed. The per-address throttling of the shared authenticator
    /// applies in addition.
    pub max_auth_failures: u32,
    /// Seconds a client may stay silent before logging in; it must have
    /// logged in within five times this in all.
    pub auth_timeout_secs: u64,
    /// Seconds a logged-in client may stay silent (or not read our output)
    /// before the session is dropped without deleting anything. At least
    /// 600 (RFC 1939 §3).
    pub idle_timeout_secs: u64,
    /// Longest command line in octets, CRLF included. At least 255 (RFC
    /// 2449 §4). SASL continuation lines may be longer (up to 8 KiB, the
    /// shared SASL limit) since they carry base64.
    pub max_line: usize,
    /// Concurrent connections per client address (IPv6: per /64) on one
    /// listener.
    pub max_connections_per_ip: usize,
    /// Concurrent connections on one listener.
    pub max_connections: usize,
}

impl Default for Pop3Config {
    fn default() -> Self {
        Self {
            max_bad_commands: 10,
            max_auth_failures: 3,
            auth_timeout_secs: 60,
            idle_timeout_secs: MIN_IDLE_TIMEOUT_SECS,
            max_line: MIN_LINE,
            max_connections_per_ip: mailroom_net::limits::DEFAULT_MAX_PER_IP,
            max_connections: 1000,
        }
    }
}

/// A setting outside what the protocol allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("pop3.idle_timeout_secs must be at least {MIN_IDLE_TIMEOUT_SECS} (RFC 1939 section 3), got {0}")]
    IdleTimeoutTooShort(u64),
    #[error("pop3.auth_timeout_secs must be at least 1")]
    AuthTimeoutZero,
    #[error("pop3.max_line must be between {MIN_LINE} and {MAX_LINE_CEILING} (RFC 2449 section 4), got {0}")]
    MaxLine(usize),
    #[error("pop3.max_connections and pop3.max_connections_per_ip must be at least 1")]
    NoConnections,
}

impl Pop3Config {
    /// Checks the settings against the protocol's minimums. The binary calls
    /// this when loading its configuration; `serve` only warns, so tests can
    /// run with short timeouts.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.idle_timeout_secs < MIN_IDLE_TIMEOUT_SECS {
            return Err(ConfigError::IdleTimeoutTooShort(self.idle_timeout_secs));
        }
        if self.auth_timeout_secs == 0 {
            return Err(ConfigError::AuthTimeoutZero);
        }
        if !(MIN_LINE..=MAX_LINE_CEILING).contains(&self.max_line) {
            return Err(ConfigError::MaxLine(self.max_line));
        }
        if self.max_connections == 0 || self.max_connections_per_ip == 0 {
            return Err(ConfigError::NoConnections);
        }
        Ok(())
    }

    pub(crate) fn auth_timeout(&self) -> Duration {
        Duration::from_secs(self.auth_timeout_secs)
    }

    pub(crate) fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(Pop3Config::default().validate(), Ok(()));
    }

    #[test]
    fn protocol_minimums_enforced() {
        let c = Pop3Config {
            idle_timeout_secs: 599,
            ..Default::default()
        };
        assert_eq!(c.validate(), Err(ConfigError::IdleTimeoutTooShort(599)));
        let c = Pop3Config {
            max_line: 254,
            ..Default::default()
        };
        assert_eq!(c.validate(), Err(ConfigError::MaxLine(254)));
        let c = Pop3Config {
            auth_timeout_secs: 0,
            ..Default::default()
        };
        assert_eq!(c.validate(), Err(ConfigError::AuthTimeoutZero));
        let c = Pop3Config {
            max_connections: 0,
            ..Default::default()
        };
        assert_eq!(c.validate(), Err(ConfigError::NoConnections));
    }
}
