//! CAPABILITY, ID, ENABLE, LOGIN and AUTHENTICATE (STARTTLS, NOOP and
//! LOGOUT are handled in the connection loop and dispatch).
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mailroom_net::{AuthError, SaslServer, SaslStep};

use super::Session;
use super::io::{Io, LineError};
use super::reply::Reply;

/// What the SASL layer accepts as base64: with or without padding.
const SASL_BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

impl Session {
    /// What we implement, per state (RFC 9051 §7.2.2). Before login the
    /// list is short; AUTH= mechanisms only where a password may travel.
    pub(crate) fn capabilities(&self) -> String {
        let mut caps = vec!["IMAP4rev1", "IMAP4rev2", "LITERAL+", "SASL-IR", "ID", "ENABLE", "IDLE"];
        if self.user.is_none() {
            if !self.tls {
                caps.push("STARTTLS");
            }
            if self.plaintext_ok() {
                caps.push("AUTH=PLAIN");
                caps.push("AUTH=LOGIN");
            } else {
                caps.push("LOGINDISABLED");
            }
            return caps.join(" ");
        }
        caps.extend([
            "NAMESPACE",
            "UNSELECT",
            "UIDPLUS",
            "MOVE",
            "CHILDREN",
            "SPECIAL-USE",
            "CREATE-SPECIAL-USE",
            "LIST-EXTENDED",
            "LIST-STATUS",
            "ESEARCH",
            "SEARCHRES",
            "STATUS=SIZE",
            "BINARY",
            "MULTIAPPEND",
            "WITHIN",
        ]);
        let mut s = caps.join(" ");
        s.push_str(&format!(" APPENDLIMIT={}", self.cfg.max_append_size));
        s
    }

    pub(crate) fn cmd_capability(&mut self) -> Reply {
        let caps = self.capabilities();
        self.untagged(&format!("CAPABILITY {caps}"));
        Reply::ok("")
    }

    /// RFC 2971: say who we are, ignore what the client says.
    pub(crate) fn cmd_id(&mut self) -> Reply {
        self.untagged("ID (\"name\" \"Mailroom\")");
        Reply::ok("")
    }

    /// RFC 5161 / RFC 9051 §6.3.1. Only IMAP4rev2 is enableable; unknown
    /// names are ignored.
    pub(crate) fn cmd_enable(&mut self, caps: Vec<String>) -> Reply {
        if self.selected.is_some() {
            return Reply::bad("ENABLE is only valid before a mailbox is selected");
        }
        let mut enabled = Vec::new();
        for c in caps {
            if c.eq_ignore_ascii_case("IMAP4rev2") && !self.rev2 {
                self.rev2 = true;
                enabled.push("IMAP4rev2");
            }
        }
        let mut line = String::from("ENABLED");
        for e in enabled {
            line.push(' ');
            line.push_str(e);
        }
        self.untagged(&line);
        Reply::ok("")
    }

    pub(crate) async fn cmd_login(&mut self, username: Vec<u8>, password: Vec<u8>) -> Reply {
        if !self.plaintext_ok() {
            return Reply::no("Plaintext authentication is disabled on this connection").code("PRIVACYREQUIRED");
        }
        let (Ok(user), Ok(pass)) = (String::from_utf8(username), String::from_utf8(password)) else {
            return Reply::no("Authentication failed").code("AUTHENTICATIONFAILED");
        };
        self.check_password(&user, &pass).await
    }

    async fn check_password(&mut self, user: &str, pass: &str) -> Reply {
        match self.ctx.auth.authenticate(user, pass, self.peer.ip()).await {
            Ok(u) => {
                tracing::info!(user = %u.address, peer = %self.peer, "imap: logged in");
                self.user = Some(u);
                Reply::ok("Logged in").code(format!("CAPABILITY {}", self.capabilities()))
            }
            Err(AuthError::Failed) => Reply::no("Authentication failed").code("AUTHENTICATIONFAILED"),
            Err(AuthError::TooManyFailures) => {
                Reply::no("Too many failed attempts, try again later").code("AUTHENTICATIONFAILED")
            }
            Err(AuthError::Unavailable(e)) => {
                tracing::error!(error = %e, "imap: authentication backend unavailable");
                Reply::no("Temporary authentication failure").code("UNAVAILABLE")
            }
        }
    }

    /// AUTHENTICATE (RFC 9051 §6.2.2, SASL-IR RFC 4959). Runs the
    /// exchange over `io`; `Err` means the connection is gone.
    pub(crate) async fn cmd_authenticate(
        &mut self,
        io: &mut Io,
        mechanism: &str,
        initial: Option<Vec<u8>>,
    ) -> Result<Reply, LineError> {
        if !self.plaintext_ok() {
            return Ok(Reply::no("Plaintext authentication is disabled on this connection").code("PRIVACYREQUIRED"));
        }
        let Some(mut sasl) = SaslServer::new(mechanism) else {
            return Ok(Reply::no("Unsupported authentication mechanism").code("CANNOT"));
        };
        // SaslServer takes base64 text: "" for no initial response, "=" for
        // an empty one.
        let first = match initial {
            None => String::new(),
            Some(d) if d.is_empty() => "=".to_string(),
            Some(d) => STANDARD.encode(d),
        };
        let mut step = sasl.step(first.as_bytes());
        loop {
            match step {
                SaslStep::Challenge(c) => {
                    io.write(format!("+ {c}\r\n").as_bytes()).await.map_err(LineError::Io)?;
                    // The pre-auth timer also bounds a stalled exchange.
                    let line = tokio::time::timeout(self.timeout(), io.read_line())
                        .await
                        .map_err(|_| LineError::Eof)??;
                    if line == b"*" {
                        return Ok(Reply::bad("Authentication cancelled"));
                    }
                    // RFC 9051 §6.2.2: invalid base64 is a BAD; a well-formed
                    // response the mechanism cannot use is a failed login.
                    if line != b"=" && SASL_BASE64.decode(&line).is_err() {
                        return Ok(Reply::bad("Invalid base64 in SASL response"));
                    }
                    step = sasl.step(&line);
                }
                SaslStep::Failed(why) => {
                    return Ok(Reply::no(format!("Authentication failed: {why}")).code("AUTHENTICATIONFAILED"));
                }
                SaslStep::Done { username, password } => return Ok(self.check_password(&username, &password).await),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use mailroom_net::{AuthConfig, Authenticator, ServerContext, Shutdown};

    use super::*;
    use crate::ImapConfig;

    fn session(peer: &str, allow_plaintext: bool) -> (tempfile::TempDir, Session) {
        let dir = tempfile::tempdir().unwrap();
        let store = mailroom_store::Store::open(&dir.path().join("data")).unwrap();
        let tls = mailroom_net::tls::server_config(None, None, dir.path(), "localhost").unwrap();
        let ctx = Arc::new(ServerContext {
            auth: Authenticator::new(store.clone(), AuthConfig::default()),
            store,
            tls,
            hostname: "localhost".into(),
            allow_plaintext,
            shutdown: Shutdown::new(),
        });
        let s = Session::new(ctx, Arc::new(ImapConfig::default()), peer.parse().unwrap(), false);
        (dir, s)
    }

    #[tokio::test]
    async fn logindisabled_on_cleartext_from_remote_peers() {
        let (_d, mut s) = session("192.0.2.7:1234", false);
        let caps = s.capabilities();
        assert!(caps.contains("LOGINDISABLED") && caps.contains("STARTTLS"), "{caps}");
        assert!(!caps.contains("AUTH="), "{caps}");
        let r = s.cmd_login(b"u".to_vec(), b"p".to_vec()).await;
        assert_eq!(r.code.as_deref(), Some("PRIVACYREQUIRED"));
        let (_d, s) = session("192.0.2.7:1234", true);
        assert!(s.capabilities().contains("AUTH=PLAIN"));
        let (_d, mut s) = session("192.0.2.7:1234", false);
        s.tls = true;
        let caps = s.capabilities();
        assert!(caps.contains("AUTH=PLAIN") && !caps.contains("STARTTLS"), "{caps}");
    }
}
