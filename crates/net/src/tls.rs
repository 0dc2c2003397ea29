//! TLS configuration: user-supplied PEM files, or a self-signed certificate
//! generated on first start.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType};
use rustls::crypto::CryptoProvider;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::NetError;

/// Validity of the generated self-signed certificate.
const SELF_SIGNED_VALIDITY_YEARS: i32 = 10;

/// The crypto provider used everywhere: aws-lc-rs.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// TLS 1.3 and 1.2 only.
const PROTOCOL_VERSIONS: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

/// Where the self-signed certificate and key live: `data_dir/tls/cert.pem`
/// and `data_dir/tls/key.pem`.
pub fn self_signed_paths(data_dir: &Path) -> (PathBuf, PathBuf) {
    let dir = data_dir.join("tls");
    (dir.join("cert.pem"), dir.join("key.pem"))
}

/// Builds the server TLS configuration.
///
/// With both `cert` and `key`, loads them as PEM (the certificate file may
/// hold a chain, leaf first). With neither, uses the self-signed pair under
/// `data_dir/tls/`, generating it first if missing (see
/// [`ensure_self_signed`]). Giving only one is an error.
pub fn server_config(
    cert: Option<&Path>,
    key: Option<&Path>,
    data_dir: &Path,
    hostname: &str,
) -> Result<Arc<rustls::ServerConfig>, NetError> {
    let (cert_path, key_path) = match (cert, key) {
        (Some(c), Some(k)) => (c.to_path_buf(), k.to_path_buf()),
        (None, None) => ensure_self_signed(data_dir, hostname)?,
        _ => return Err(NetError::IncompleteTlsConfig),
    };
    let certs = load_certs(&cert_path)?;
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|source| pem_err(&key_path, source))?;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(PROTOCOL_VERSIONS)?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(Arc::new(config))
}

/// A client configuration that trusts exactly the certificate(s) in the
/// given PEM file, e.g. the generated self-signed certificate. Meant for
/// tests and local tooling.
pub fn client_config_trusting(cert_pem_path: &Path) -> Result<Arc<rustls::ClientConfig>, NetError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in load_certs(cert_pem_path)? {
        roots.add(cert)?;
    }
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(PROTOCOL_VERSIONS)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Makes sure `data_dir/tls/cert.pem` and `key.pem` exist, generating a
/// self-signed end-entity certificate (not a CA) if either is missing.
///
/// The certificate names `hostname`, `localhost`, `127.0.0.1` and `::1`, is
/// valid for server authentication for ten years, and uses an ECDSA P-256
/// key. The key file is created with mode 0600. Returns the paths.
pub fn ensure_self_signed(data_dir: &Path, hostname: &str) -> Result<(PathBuf, PathBuf), NetError> {
    let (cert_path, key_path) = self_signed_paths(data_dir);
    if cert_path.is_file() && key_path.is_file() {
        return Ok((cert_path, key_path));
    }
    let dir = data_dir.join("tls");
    create_private_dir(&dir)?;

    let (cert_pem, key_pem) = generate_self_signed(hostname)?;
    // Write both to temporary names first, then rename: a crash leaves
    // either nothing or a complete pair (a lone key is regenerated).
    let key_tmp = dir.join("key.pem.tmp");
    let cert_tmp = dir.join("cert.pem.tmp");
    write_file(&key_tmp, key_pem.as_bytes(), 0o600)?;
    write_file(&cert_tmp, cert_pem.as_bytes(), 0o644)?;
    fs::rename(&key_tmp, &key_path).map_err(|source| io_err(&key_path, source))?;
    fs::rename(&cert_tmp, &cert_path).map_err(|source| io_err(&cert_path, source))?;
    tracing::info!(cert = %cert_path.display(), "generated self-signed TLS certificate");
    Ok((cert_path, key_path))
}

/// Returns `(certificate PEM, private key PEM)`.
fn generate_self_signed(hostname: &str) -> Result<(String, String), NetError> {
    let mut names: Vec<String> = Vec::new();
    for name in [hostname.trim(), "localhost", "127.0.0.1", "::1"] {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    let mut params = CertificateParams::new(names)?;
    let common_name = match params.subject_alt_names.first() {
        Some(SanType::DnsName(name)) => name.as_str().to_owned(),
        _ => "localhost".to_owned(),
    };
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, common_name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Mailroom self-signed");
    params.is_ca = IsCa::NoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let (year, month, day) = civil_date_today();
    // Start a day early to tolerate clock skew between client and server.
    let (by, bm, bd) = crate::time::civil_from_days(days_since_epoch() - 1);
    params.not_before = rcgen::date_time_ymd(by, bm, bd.min(28));
    params.not_after = rcgen::date_time_ymd(year + SELF_SIGNED_VALIDITY_YEARS, month, day.min(28));
    let mut serial = [0u8; 16];
    getrandom::fill(&mut serial).map_err(|e| NetError::Random(e.to_string()))?;
    serial[0] &= 0x7f;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));

    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key.serialize_pem()))
}

fn days_since_epoch() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    i64::try_from(secs / 86_400).unwrap_or(0)
}

fn civil_date_today() -> (i32, u8, u8) {
    crate::time::civil_from_days(days_since_epoch())
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, NetError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|source| pem_err(path, source))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| pem_err(path, source))?;
    if certs.is_empty() {
        return Err(NetError::NoCertificate(path.to_path_buf()));
    }
    Ok(certs)
}

fn pem_err(path: &Path, source: rustls_pki_types::pem::Error) -> NetError {
    // Surface plain I/O errors (e.g. file not found) as such.
    match source {
        rustls_pki_types::pem::Error::Io(source) => io_err(path, source),
        source => NetError::Pem {
            path: path.to_path_buf(),
            source,
        },
    }
}

fn io_err(path: &Path, source: std::io::Error) -> NetError {
    NetError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn create_private_dir(dir: &Path) -> Result<(), NetError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| io_err(dir, source))
}

fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), NetError> {
    let _ = fs::remove_file(path);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|source| io_err(path, source))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|source| io_err(path, source))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio_rustls::{TlsAcceptor, TlsConnector};

    /// Handshakes with `server` over loopback, verifying as `name`.
    async fn handshake(
        server: Arc<rustls::ServerConfig>,
        client: Arc<rustls::ClientConfig>,
        name: &str,
    ) -> Result<(), std::io::Error> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let acceptor = TlsAcceptor::from(server);
        let srv = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await?;
            let mut tls = acceptor.accept(tcp).await?;
            let mut buf = [0u8; 4];
            tls.read_exact(&mut buf).await?;
            tls.write_all(&buf).await?;
            tls.shutdown().await?;
            Ok::<_, std::io::Error>(())
        });
        let tcp = TcpStream::connect(addr).await?;
        let name = ServerName::try_from(name.to_owned()).map_err(std::io::Error::other)?;
        let result = async {
            let mut tls = TlsConnector::from(client).connect(name, tcp).await?;
            tls.write_all(b"ping").await?;
            let mut buf = [0u8; 4];
            tls.read_exact(&mut buf).await?;
            assert_eq!(&buf, b"ping");
            Ok(())
        }
        .await;
        if result.is_err() {
            srv.abort();
        } else {
            srv.await.map_err(std::io::Error::other)??;
        }
        result
    }

    #[tokio::test]
    async fn self_signed_is_generated_and_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let server = server_config(None, None, dir.path(), "Mail.Example.Test").unwrap();
        let (cert_path, key_path) = self_signed_paths(dir.path());
        assert!(cert_path.is_file());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&key_path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let client = client_config_trusting(&cert_path).unwrap();
        // webpki rejects a CA certificate used as an end entity, checks the
        // serverAuth EKU, validity dates and the SANs.
        for name in ["mail.example.test", "localhost", "127.0.0.1", "::1"] {
            handshake(server.clone(), client.clone(), name)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let err = handshake(server.clone(), client.clone(), "other.example.test")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not valid for name"), "{err}");

        // A second start reuses the same files.
        let before = fs::read(&cert_path).unwrap();
        let server2 = server_config(None, None, dir.path(), "mail.example.test").unwrap();
        assert_eq!(fs::read(&cert_path).unwrap(), before);
        handshake(server2, client, "localhost").await.unwrap();

        // The same files can be loaded explicitly.
        let server3 = server_config(Some(&cert_path), Some(&key_path), dir.path(), "x").unwrap();
        let client = client_config_trusting(&cert_path).unwrap();
        handshake(server3, client, "localhost").await.unwrap();
    }

    #[tokio::test]
    async fn tls12_only_client_connects() {
        let dir = tempfile::tempdir().unwrap();
        let server = server_config(None, None, dir.path(), "localhost").unwrap();
        let (cert_path, _) = self_signed_paths(dir.path());
        // A TLS 1.2-only client still connects.
        let mut roots = rustls::RootCertStore::empty();
        for c in load_certs(&cert_path).unwrap() {
            roots.add(c).unwrap();
        }
        let client12 = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS12])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        handshake(server, Arc::new(client12), "localhost").await.unwrap();
    }

    /// Control for the test above: the handshake check does catch a CA
    /// certificate used as the server's own certificate.
    #[tokio::test]
    async fn ca_certificate_would_be_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let (c, k) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        fs::write(&c, cert.pem()).unwrap();
        fs::write(&k, key.serialize_pem()).unwrap();
        let server = server_config(Some(&c), Some(&k), dir.path(), "localhost").unwrap();
        let client = client_config_trusting(&c).unwrap();
        let err = handshake(server, client, "localhost").await.unwrap_err();
        assert!(err.to_string().contains("CaUsedAsEndEntity"), "{err}");
    }

    #[test]
    fn config_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cert.pem");
        assert!(matches!(
            server_config(Some(&p), None, dir.path(), "h"),
            Err(NetError::IncompleteTlsConfig)
        ));
        assert!(matches!(
            server_config(None, Some(&p), dir.path(), "h"),
            Err(NetError::IncompleteTlsConfig)
        ));
        let k = dir.path().join("key.pem");
        assert!(matches!(
            server_config(Some(&p), Some(&k), dir.path(), "h"),
            Err(NetError::Io { .. })
        ));
        fs::write(&p, "not a pem").unwrap();
        fs::write(&k, "not a pem").unwrap();
        assert!(matches!(
            server_config(Some(&p), Some(&k), dir.path(), "h"),
            Err(NetError::NoCertificate(_))
        ));
        // Key that does not match the certificate.
        let (c1, _) = ensure_self_signed(&dir.path().join("a"), "h").unwrap();
        let (_, k2) = ensure_self_signed(&dir.path().join("b"), "h").unwrap();
        assert!(server_config(Some(&c1), Some(&k2), dir.path(), "h").is_err());
    }

    #[test]
    fn civil_dates() {
        assert_eq!(crate::time::civil_from_days(0), (1970, 1, 1));
        assert_eq!(crate::time::civil_from_days(-1), (1969, 12, 31));
        assert_eq!(crate::time::civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(crate::time::civil_from_days(20_000), (2024, 10, 4));
    }
}
