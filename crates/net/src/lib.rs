#![forbid(unsafe_code)]
//! Shared network plumbing for Mailroom's SMTP, IMAP and POP3 servers.
//!
//! * [`tls`]: rustls server configuration (user-supplied or self-signed certificate).
//! * [`stream`]: [`MaybeTls`], a TCP stream that may be upgraded to TLS (STARTTLS).
//! * [`sasl`]: sans-I/O SASL `PLAIN` and `LOGIN` server mechanisms.
//! * [`password`]: argon2id password hashing.
//! * [`auth`]: [`Authenticator`], password checks with caching and brute-force throttling.
//! * [`limits`]: [`ConnLimiter`], per-IP and global concurrent connection caps.
//! * [`listener`] and [`shutdown`]: the accept loop and graceful shutdown.
//! * [`line`](mod@line): bounded line reading shared by the line-based protocols.

pub mod auth;
pub mod limits;
pub mod line;
pub mod listener;
pub mod password;
pub mod sasl;
pub mod shutdown;
pub mod stream;
pub mod time;
pub mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use mailroom_store::Store;

pub use auth::{AuthConfig, AuthError, AuthedUser, Authenticator};
pub use limits::{ConnGuard, ConnLimiter, LimitExceeded};
pub use line::{LineRead, read_line_limited, trim_line_ending};
pub use listener::{Connection, ServeOptions, TlsMode, serve, serve_with_options};
pub use sasl::{SaslServer, SaslStep};
pub use shutdown::Shutdown;
pub use stream::{MaybeTls, TlsInfo};
pub use tokio_rustls::TlsAcceptor;

/// Errors from setting up the network layer (TLS material, password hashing).
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// A file could not be read, written or created.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A PEM file could not be parsed.
    #[error("{}: {source}", path.display())]
    Pem {
        path: PathBuf,
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    /// A certificate file contained no certificate.
    #[error("{}: no certificate found", .0.display())]
    NoCertificate(PathBuf),
    /// Only one of the certificate and the key was configured.
    #[error("a TLS certificate and its private key must be given together")]
    IncompleteTlsConfig,
    /// Generating the self-signed certificate failed.
    #[error("generating self-signed certificate: {0}")]
    CertGen(#[from] rcgen::Error),
    /// rustls rejected the configuration (e.g. key does not match certificate).
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// Password hashing failed.
    #[error("password hashing: {0}")]
    Password(String),
    /// The operating system's random number generator failed.
    #[error("random number generator: {0}")]
    Random(String),
}

/// Everything a protocol session needs from the server, shared by all sessions.
pub struct ServerContext {
    pub store: Store,
    pub tls: Arc<rustls::ServerConfig>,
    pub auth: Authenticator,
    /// The server's host name, used in greetings and `Received:` headers.
    pub hostname: String,
    /// Allow plaintext authentication over unencrypted connections from
    /// non-loopback peers (off by default; for testing only).
    pub allow_plaintext: bool,
    pub shutdown: Shutdown,
}

impl ServerContext {
    /// A TLS acceptor for STARTTLS built from [`ServerContext::tls`].
    pub fn tls_acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.tls.clone())
    }

    /// Whether a password may be sent on this connection: over TLS, from a
    /// loopback peer, or when plaintext authentication is explicitly allowed.
    pub fn plaintext_auth_allowed(&self, peer: &SocketAddr, is_tls: bool) -> bool {
        plaintext_auth_allowed(self.allow_plaintext, peer, is_tls)
    }
}

/// The rule behind [`ServerContext::plaintext_auth_allowed`], usable without a context.
pub fn plaintext_auth_allowed(allow_plaintext: bool, peer: &SocketAddr, is_tls: bool) -> bool {
    is_tls || allow_plaintext || limits::canonical_ip(peer.ip()).is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_rule() {
        let lo: SocketAddr = "127.0.0.1:1234".parse().unwrap();
        let lo6: SocketAddr = "[::1]:1234".parse().unwrap();
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:1234".parse().unwrap();
        let remote: SocketAddr = "192.0.2.7:1234".parse().unwrap();
        assert!(plaintext_auth_allowed(false, &lo, false));
        assert!(plaintext_auth_allowed(false, &lo6, false));
        assert!(plaintext_auth_allowed(false, &mapped, false));
        assert!(!plaintext_auth_allowed(false, &remote, false));
        assert!(plaintext_auth_allowed(false, &remote, true));
        assert!(plaintext_auth_allowed(true, &remote, false));
    }
}
