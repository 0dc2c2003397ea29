//! The one TOML configuration file. Relative paths are relative to the file;
//! unknown keys and bad values stop the server at start with file, key and
//! reason.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    hostname: Option<String>,
    data_dir: Option<PathBuf>,
    #[serde(default)]
    listen: Listen,
    #[serde(default)]
    tls: Tls,
    #[serde(default)]
    auth: Auth,
    #[serde(default)]
    smtp: mailroom_smtp::SmtpConfig,
    #[serde(default)]
    delivery: mailroom_smtp::DeliveryConfig,
    #[serde(default)]
    imap: mailroom_imap::ImapConfig,
    #[serde(default)]
    pop3: mailroom_pop3::Pop3Config,
}

/// `"ip:port"` per protocol; a missing key disables that listener.
#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Listen {
    pub smtp: Option<SocketAddr>,
    pub submission: Option<SocketAddr>,
    pub submissions: Option<SocketAddr>,
    pub imap: Option<SocketAddr>,
    pub imaps: Option<SocketAddr>,
    pub pop3: Option<SocketAddr>,
    pub pop3s: Option<SocketAddr>,
}

impl Listen {
    /// The local setup's loopback ports, used when there is no config file.
    pub fn local() -> Listen {
        let at = |p: u16| Some(SocketAddr::from(([127, 0, 0, 1], p)));
        Listen {
            smtp: at(2525),
            submission: at(5587),
            submissions: at(4465),
            imap: at(1143),
            imaps: at(1993),
            pop3: at(1110),
            pop3s: at(1995),
        }
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Auth {
    /// PLAIN/LOGIN without TLS from any address (loopback is always allowed).
    pub allow_plaintext: bool,
    /// Delay before answering a failed login, in milliseconds.
    pub failure_delay_ms: u64,
    /// Failed logins per client address within `failure_window_secs` before
    /// further attempts are refused outright.
    pub max_failures_per_ip: u32,
    pub failure_window_secs: u64,
    /// Successful verifications remembered (keyed hash of the credentials).
    pub cache_size: usize,
}

impl Default for Auth {
    fn default() -> Self {
        let d = mailroom_net::auth::AuthConfig::default();
        Auth {
            allow_plaintext: false,
            failure_delay_ms: d.failure_delay.as_millis() as u64,
            max_failures_per_ip: d.max_failures_per_ip,
            failure_window_secs: d.failure_window.as_secs(),
            cache_size: d.cache_capacity,
        }
    }
}

impl Auth {
    pub fn auth_config(&self) -> mailroom_net::auth::AuthConfig {
        mailroom_net::auth::AuthConfig {
            failure_delay: Duration::from_millis(self.failure_delay_ms),
            max_failures_per_ip: self.max_failures_per_ip,
            failure_window: Duration::from_secs(self.failure_window_secs),
            cache_capacity: self.cache_size,
        }
    }
}

/// The configuration with defaults applied and paths made absolute.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from; `None` for the local setup.
    pub source: Option<PathBuf>,
    pub hostname: String,
    pub data_dir: PathBuf,
    pub listen: Listen,
    pub tls: Tls,
    pub auth: Auth,
    pub smtp: mailroom_smtp::SmtpConfig,
    pub delivery: mailroom_smtp::DeliveryConfig,
    pub imap: mailroom_imap::ImapConfig,
    pub pop3: mailroom_pop3::Pop3Config,
}

impl Config {
    pub fn is_local_setup(&self) -> bool {
        self.source.is_none()
    }

    /// Reads `path`, or gives the local setup when `path` is `None`.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let Some(path) = path else {
            return Ok(Config {
                source: None,
                hostname: machine_hostname(),
                data_dir: std::env::current_dir()?.join("mailroom-data"),
                listen: Listen::local(),
                tls: Tls::default(),
                auth: Auth::default(),
                smtp: Default::default(),
                delivery: Default::default(),
                imap: Default::default(),
                pop3: Default::default(),
            });
        };
        let text = std::fs::read_to_string(path).with_context(|| format!("reading config file {}", path.display()))?;
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let file: File = toml::from_str(text).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e))?;
        let base = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        let base = std::path::absolute(&base).unwrap_or(base);
        let rel = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
        let hostname = match file.hostname {
            Some(h) => mailroom_store::normalize_domain(&h)
                .map_err(|_| anyhow::anyhow!("{}: key `hostname`: '{h}' is not a valid host name", path.display()))?,
            None => machine_hostname(),
        };
        if file.tls.cert.is_some() != file.tls.key.is_some() {
            bail!(
                "{}: [tls]: set both `cert` and `key`, or neither (a self-signed certificate is made)",
                path.display()
            );
        }
        file.pop3
            .validate()
            .map_err(|e| anyhow::anyhow!("{}: [pop3]: {e}", path.display()))?;
        let addrs = [
            ("smtp", file.listen.smtp),
            ("submission", file.listen.submission),
            ("submissions", file.listen.submissions),
            ("imap", file.listen.imap),
            ("imaps", file.listen.imaps),
            ("pop3", file.listen.pop3),
            ("pop3s", file.listen.pop3s),
        ];
        for (i, (name, a)) in addrs.iter().enumerate() {
            if let Some(a) = a
                && let Some((other, _)) = addrs[..i].iter().find(|(_, b)| b.as_ref() == Some(a))
            {
                bail!("{}: [listen]: `{name}` and `{other}` both use {a}", path.display());
            }
        }
        Ok(Config {
            source: Some(path.to_path_buf()),
            hostname,
            data_dir: rel(file.data_dir.unwrap_or_else(|| PathBuf::from("mailroom-data"))),
            listen: file.listen,
            tls: Tls {
                cert: file.tls.cert.map(rel),
                key: file.tls.key.map(rel),
            },
            auth: file.auth,
            smtp: file.smtp,
            delivery: file.delivery,
            imap: file.imap,
            pop3: file.pop3,
        })
    }
}

fn machine_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .and_then(|h| mailroom_store::normalize_domain(h.trim()).ok())
        .unwrap_or_else(|| "localhost".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("/etc/mailroom/mailroom.toml"))
    }

    #[test]
    fn full_example_parses() {
        let c = parse(
            r#"
hostname = "mail.example.test"
data_dir = "data"
[listen]
smtp = "127.0.0.1:2525"
submission = "127.0.0.1:5587"
submissions = "127.0.0.1:4465"
imap = "127.0.0.1:1143"
imaps = "127.0.0.1:1993"
pop3 = "127.0.0.1:1110"
pop3s = "127.0.0.1:1995"
[tls]
cert = "fullchain.pem"
key = "/abs/privkey.pem"
[auth]
allow_plaintext = true
"#,
        )
        .unwrap();
        assert_eq!(c.hostname, "mail.example.test");
        assert_eq!(c.data_dir, PathBuf::from("/etc/mailroom/data"));
        assert_eq!(c.tls.cert, Some(PathBuf::from("/etc/mailroom/fullchain.pem")));
        assert_eq!(c.tls.key, Some(PathBuf::from("/abs/privkey.pem")));
        assert_eq!(c.listen, Listen::local());
        assert!(c.auth.allow_plaintext);
    }

    #[test]
    fn missing_listen_keys_disable_listeners() {
        let c = parse("[listen]\nimap = \"127.0.0.1:1143\"\n").unwrap();
        assert!(c.listen.imap.is_some() && c.listen.smtp.is_none() && c.listen.pop3s.is_none());
    }

    #[test]
    fn bad_input_names_file_key_and_reason() {
        let e = parse("hostnme = \"x\"\n").unwrap_err().to_string();
        assert!(
            e.contains("/etc/mailroom/mailroom.toml") && e.contains("hostnme"),
            "{e}"
        );
        let e = parse("[listen]\nimap = \"localhost:143x\"\n").unwrap_err().to_string();
        assert!(e.contains("imap"), "{e}");
        let e = parse("[tls]\ncert = \"a.pem\"\n").unwrap_err().to_string();
        assert!(e.contains("key"), "{e}");
        let e = parse("[listen]\nimap = \"127.0.0.1:1\"\npop3 = \"127.0.0.1:1\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("pop3") && e.contains("imap"), "{e}");
        let e = parse("hostname = \"bad host\"\n").unwrap_err().to_string();
        assert!(e.contains("hostname"), "{e}");
        let e = parse("[pop3]\nidle_timeout_secs = 5\n").unwrap_err().to_string();
        assert!(e.contains("[pop3]") && e.contains("idle_timeout_secs"), "{e}");
        let e = parse("[auth]\nallow_plaintext = \"yes\"\n").unwrap_err().to_string();
        assert!(e.contains("allow_plaintext"), "{e}");
    }
}
