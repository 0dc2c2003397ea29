//! Relaying through an authenticated smarthost (`[delivery] smarthost`):
//! home connections usually cannot reach port 25, so mail goes to the
//! provider's submission server with AUTH.
//!
//! Rules:
//! * Credentials are only ever sent over TLS (RFC 4954 §4 leaves this to
//!   policy; we never send a password in cleartext). With credentials the
//!   default `smarthost_tls` is `starttls`, required.
//! * With `starttls` or `implicit` TLS, or with credentials, the smarthost's
//!   certificate is verified (system CA bundle plus `smarthost_ca_file`,
//!   and the host name of `smarthost`) unless `smarthost_tls_verify =
//!   false`: an unverified TLS peer could collect the password.
//! * `smarthost_password_file` and `smarthost_ca_file` must be absolute
//!   paths (the configuration has no base directory). The password file is
//!   read at each attempt (so it can be rotated) and trailing CR/LF are
//!   ignored.
//! * A configuration problem or an authentication failure defers the mail
//!   (4xx-style, with a `last_reply` saying so): it is not the recipient's
//!   fault, and fixing the configuration lets the queue drain.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::client::OutboundTls;
use crate::config::DeliveryConfig;

/// `smarthost_tls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmarthostTls {
    /// STARTTLS must be offered and succeed (port 587).
    Starttls,
    /// TLS from the first byte (port 465, RFC 8314).
    Implicit,
    /// STARTTLS when offered, else plaintext (credentials still need TLS).
    Opportunistic,
}

/// A configuration string that never shows up in `Debug` output or logs.
#[derive(Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"<secret>\"")
    }
}

/// User name and password for AUTH PLAIN / LOGIN.
#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// CA bundles of common distributions, tried in order.
const SYSTEM_CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// How the smarthost is reached: resolved once when the queue starts.
#[derive(Debug, Clone)]
pub struct Smarthost {
    pub mode: OutboundTls,
    /// `None`: use the opportunistic (unverified) client configuration.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    user: Option<String>,
    password: Option<PasswordSource>,
}

#[derive(Debug, Clone)]
enum PasswordSource {
    Inline(Secret),
    File(PathBuf),
}

impl DeliveryConfig {
    /// Checks the smarthost settings (also done when the queue starts; a
    /// bad setting then defers smarthost mail with a reply saying why).
    pub fn check(&self) -> Result<(), String> {
        Smarthost::from_config(self).map(|_| ())
    }
}

fn absolute(key: &str, p: &Path) -> Result<(), String> {
    if p.is_absolute() {
        Ok(())
    } else {
        Err(format!("{key} must be an absolute path (got {})", p.display()))
    }
}

impl Smarthost {
    pub fn from_config(c: &DeliveryConfig) -> Result<Smarthost, String> {
        let password = match (&c.smarthost_password, &c.smarthost_password_file) {
            (Some(_), Some(_)) => {
                return Err("set only one of smarthost_password and smarthost_password_file".into());
            }
            (Some(p), None) => Some(PasswordSource::Inline(p.clone())),
            (None, Some(f)) => {
                absolute("smarthost_password_file", f)?;
                Some(PasswordSource::File(f.clone()))
            }
            (None, None) => None,
        };
        match (&c.smarthost_user, &password) {
            (Some(_), None) => return Err("smarthost_user is set without a password".into()),
            (None, Some(_)) => return Err("a smarthost password is set without smarthost_user".into()),
            _ => {}
        }
        let has_creds = password.is_some();
        let mode = match c.smarthost_tls {
            Some(SmarthostTls::Starttls) => OutboundTls::Required,
            Some(SmarthostTls::Implicit) => OutboundTls::Implicit,
            Some(SmarthostTls::Opportunistic) => OutboundTls::Opportunistic,
            None if has_creds => OutboundTls::Required,
            None => OutboundTls::Opportunistic,
        };
        let verify = c.smarthost_tls_verify && (has_creds || mode != OutboundTls::Opportunistic);
        let tls = if verify {
            Some(verified_tls(c.smarthost_ca_file.as_deref())?)
        } else {
            if let Some(f) = &c.smarthost_ca_file {
                absolute("smarthost_ca_file", f)?;
            }
            None
        };
        Ok(Smarthost {
            mode,
            tls,
            user: c.smarthost_user.clone(),
            password,
        })
    }

    /// The credentials, reading the password file now.
    pub async fn credentials(&self) -> Result<Option<Credentials>, String> {
        let (Some(user), Some(source)) = (&self.user, &self.password) else {
            return Ok(None);
        };
        let password = match source {
            PasswordSource::Inline(s) => s.0.clone(),
            PasswordSource::File(path) => match tokio::fs::read_to_string(path).await {
                Ok(s) => s.trim_end_matches(['\r', '\n']).to_string(),
                Err(e) => return Err(format!("cannot read smarthost_password_file {}: {e}", path.display())),
            },
        };
        Ok(Some(Credentials {
            user: user.clone(),
            password,
        }))
    }
}

/// A client configuration that verifies the server against the system CA
/// bundle and `extra` (a PEM file, e.g. a private CA or a self-signed
/// certificate).
fn verified_tls(extra: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    if let Some(path) = SYSTEM_CA_BUNDLES.iter().map(Path::new).find(|p| p.is_file())
        && let Ok(iter) = CertificateDer::pem_file_iter(path)
    {
        roots.add_parsable_certificates(iter.filter_map(Result::ok));
    }
    if let Some(path) = extra {
        absolute("smarthost_ca_file", path)?;
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|i| i.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("smarthost_ca_file {}: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("smarthost_ca_file {}: no certificate in it", path.display()));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| format!("smarthost_ca_file {}: {e}", path.display()))?;
        }
    }
    if roots.is_empty() {
        return Err("no trusted CA certificates found to verify the smarthost \
                    (set smarthost_ca_file, or smarthost_tls_verify = false)"
            .into());
    }
    let config = rustls::ClientConfig::builder_with_provider(mailroom_net::tls::provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(f: impl FnOnce(&mut DeliveryConfig)) -> DeliveryConfig {
        let mut c = DeliveryConfig {
            smarthost: Some("relay.test:587".into()),
            ..Default::default()
        };
        f(&mut c);
        c
    }

    #[test]
    fn defaults_and_errors() {
        let s = Smarthost::from_config(&cfg(|_| {})).unwrap();
        assert_eq!(s.mode, OutboundTls::Opportunistic);
        assert!(s.tls.is_none());
        let with_creds = cfg(|c| {
            c.smarthost_user = Some("u".into());
            c.smarthost_password = Some(Secret("p".into()));
        });
        // Credentials: STARTTLS required, certificate verified.
        let s = Smarthost::from_config(&with_creds).unwrap();
        assert_eq!(s.mode, OutboundTls::Required);
        assert!(s.tls.is_some());
        assert!(!format!("{with_creds:?}").contains("\"p\""));
        let errs = [
            cfg(|c| c.smarthost_user = Some("u".into())),
            cfg(|c| c.smarthost_password = Some(Secret("p".into()))),
            cfg(|c| {
                c.smarthost_user = Some("u".into());
                c.smarthost_password_file = Some("relative.txt".into());
            }),
            cfg(|c| {
                c.smarthost_user = Some("u".into());
                c.smarthost_password = Some(Secret("p".into()));
                c.smarthost_password_file = Some("/x".into());
            }),
            cfg(|c| {
                c.smarthost_tls = Some(SmarthostTls::Implicit);
                c.smarthost_ca_file = Some("/nonexistent/ca.pem".into());
            }),
        ];
        for c in errs {
            assert!(c.check().is_err(), "{c:?}");
        }
    }

    #[tokio::test]
    async fn password_file_is_read_per_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "s3cret\r\n").unwrap();
        let s = Smarthost::from_config(&cfg(|c| {
            c.smarthost_user = Some("u".into());
            c.smarthost_password_file = Some(f.clone());
            c.smarthost_tls_verify = false;
        }))
        .unwrap();
        assert_eq!(s.credentials().await.unwrap().unwrap().password, "s3cret");
        std::fs::write(&f, "rotated\n").unwrap();
        assert_eq!(s.credentials().await.unwrap().unwrap().password, "rotated");
        std::fs::remove_file(&f).unwrap();
        assert!(s.credentials().await.unwrap_err().contains("smarthost_password_file"));
    }
}
