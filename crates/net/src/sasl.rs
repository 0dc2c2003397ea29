//! Sans-I/O SASL server mechanisms: `PLAIN` (RFC 4616) and `LOGIN`
//! (draft-murchison-sasl-login).
//!
//! The protocol layer owns the wire format: it sends each
//! [`SaslStep::Challenge`] as a continuation (`334 <b64>` in SMTP,
//! `+ <b64>` in IMAP and POP3), feeds each client line back into
//! [`SaslServer::step`], and handles the client's `*` cancellation itself.

use std::fmt;

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};

/// Mechanism names to advertise, in order of preference.
pub const MECHANISMS: &[&str] = &["PLAIN", "LOGIN"];

/// Longest client response accepted (base64 text), in bytes.
const MAX_RESPONSE_LEN: usize = 8 * 1024;

/// `base64("Username:")`
const LOGIN_USERNAME_CHALLENGE: &str = "VXNlcm5hbWU6";
/// `base64("Password:")`
const LOGIN_PASSWORD_CHALLENGE: &str = "UGFzc3dvcmQ6";

/// Accepts base64 with or without padding.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The result of one [`SaslServer::step`].
#[derive(Clone, PartialEq, Eq)]
pub enum SaslStep {
    /// Send this base64 text (possibly empty) to the client as a
    /// continuation and call [`SaslServer::step`] with its answer.
    Challenge(String),
    /// The exchange is complete; check these credentials.
    Done { username: String, password: String },
    /// The exchange failed (malformed response); reply with a syntax or
    /// authentication failure.
    Failed(&'static str),
}

impl fmt::Debug for SaslStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaslStep::Challenge(c) => f.debug_tuple("Challenge").field(c).finish(),
            SaslStep::Done { username, .. } => f
                .debug_struct("Done")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            SaslStep::Failed(r) => f.debug_tuple("Failed").field(r).finish(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mechanism {
    Plain,
    Login,
}

enum State {
    Start,
    PlainResponse,
    LoginUsername,
    LoginPassword(String),
    Finished,
}

/// Server side of one SASL exchange.
pub struct SaslServer {
    mechanism: Mechanism,
    state: State,
}

impl fmt::Debug for SaslServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslServer")
            .field("mechanism", &self.mechanism)
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl SaslServer {
    /// Starts an exchange for `mechanism` (case-insensitive). `None` if the
    /// mechanism is not supported.
    pub fn new(mechanism: &str) -> Option<Self> {
        let mechanism = if mechanism.eq_ignore_ascii_case("PLAIN") {
            Mechanism::Plain
        } else if mechanism.eq_ignore_ascii_case("LOGIN") {
            Mechanism::Login
        } else {
            return None;
        };
        Some(Self {
            mechanism,
            state: State::Start,
        })
    }

    /// The canonical (upper-case) mechanism name.
    pub fn mechanism(&self) -> &'static str {
        match self.mechanism {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
        }
    }

    /// Whether [`step`](Self::step) already returned `Done` or `Failed`.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Finished)
    }

    /// Advances the exchange with the client's data, as base64 text.
    ///
    /// The first call takes the initial response from the command line
    /// (`AUTH PLAIN <b64>`), or an empty slice if the client gave none; `=`
    /// stands for an initial response that is empty. Later calls take the
    /// client's continuation lines (an empty line means empty data).
    /// Surrounding whitespace, including CRLF, is ignored.
    pub fn step(&mut self, client_response: &[u8]) -> SaslStep {
        let response = client_response.trim_ascii();
        let state = std::mem::replace(&mut self.state, State::Finished);
        if matches!(state, State::Finished) {
            return SaslStep::Failed("authentication exchange already finished");
        }
        if matches!(state, State::Start) && response.is_empty() {
            // No initial response: prompt for it.
            let (next, challenge) = match self.mechanism {
                Mechanism::Plain => (State::PlainResponse, ""),
                Mechanism::Login => (State::LoginUsername, LOGIN_USERNAME_CHALLENGE),
            };
            self.state = next;
            return SaslStep::Challenge(challenge.to_owned());
        }
        let data = match decode(response) {
            Ok(d) => d,
            Err(reason) => return SaslStep::Failed(reason),
        };
        match state {
            State::Start | State::PlainResponse if self.mechanism == Mechanism::Plain => parse_plain(&data),
            State::Start | State::LoginUsername => match credential(data, "username") {
                Ok(username) => {
                    self.state = State::LoginPassword(username);
                    SaslStep::Challenge(LOGIN_PASSWORD_CHALLENGE.to_owned())
                }
                Err(reason) => SaslStep::Failed(reason),
            },
            State::LoginPassword(username) => match credential(data, "password") {
                Ok(password) => SaslStep::Done { username, password },
                Err(reason) => SaslStep::Failed(reason),
            },
            State::PlainResponse | State::Finished => SaslStep::Failed("authentication exchange already finished"),
        }
    }
}

fn decode(response: &[u8]) -> Result<Vec<u8>, &'static str> {
    if response.len() > MAX_RESPONSE_LEN {
        return Err("response too long");
    }
    if response == b"=" {
        return Ok(Vec::new());
    }
    LENIENT_BASE64
        .decode(response)
        .map_err(|_| "invalid base64 in response")
}

/// A LOGIN username or password: non-empty UTF-8 without NUL.
fn credential(data: Vec<u8>, what: &'static str) -> Result<String, &'static str> {
    if data.is_empty() {
        return Err(if what == "username" {
            "empty username"
        } else {
            "empty password"
        });
    }
    if data.contains(&0) {
        return Err("NUL in credentials");
    }
    String::from_utf8(data).map_err(|_| "credentials are not valid UTF-8")
}

/// `message = [authzid] UTF8NUL authcid UTF8NUL passwd`
fn parse_plain(data: &[u8]) -> SaslStep {
    let mut parts = data.split(|&b| b == 0);
    let (Some(authzid), Some(authcid), Some(passwd), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return SaslStep::Failed("malformed PLAIN response");
    };
    let (Ok(authzid), Ok(authcid), Ok(passwd)) = (
        std::str::from_utf8(authzid),
        std::str::from_utf8(authcid),
        std::str::from_utf8(passwd),
    ) else {
        return SaslStep::Failed("credentials are not valid UTF-8");
    };
    if authcid.is_empty() {
        return SaslStep::Failed("empty username");
    }
    if passwd.is_empty() {
        return SaslStep::Failed("empty password");
    }
    if !authzid.is_empty() && !authzid.eq_ignore_ascii_case(authcid) {
        return SaslStep::Failed("authorization identity differs from authentication identity");
    }
    SaslStep::Done {
        username: authcid.to_owned(),
        password: passwd.to_owned(),
    }
}

/// Base64-encodes (standard alphabet, padded) — for building client
/// responses in tests and tools.
pub fn encode_base64(data: &[u8]) -> String {
    STANDARD.encode(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(u: &str, p: &str) -> SaslStep {
        SaslStep::Done {
            username: u.into(),
            password: p.into(),
        }
    }

    fn b64(s: &[u8]) -> Vec<u8> {
        encode_base64(s).into_bytes()
    }

    #[test]
    fn mechanism_names() {
        assert_eq!(SaslServer::new("plain").unwrap().mechanism(), "PLAIN");
        assert_eq!(SaslServer::new("Login").unwrap().mechanism(), "LOGIN");
        assert!(SaslServer::new("CRAM-MD5").is_none());
        assert!(SaslServer::new("").is_none());
    }

    #[test]
    fn plain_rfc4616_examples() {
        // RFC 4616 section 4: "\0tim\0tanstaaftanstaaf"
        let mut s = SaslServer::new("PLAIN").unwrap();
        assert_eq!(s.step(b"AHRpbQB0YW5zdGFhZnRhbnN0YWFm"), done("tim", "tanstaaftanstaaf"));
        assert!(s.is_finished());
        // "Ursel\0Kurt\0xipj3plmq": authzid differs from authcid -> rejected.
        let mut s = SaslServer::new("PLAIN").unwrap();
        assert_eq!(
            s.step(b"VXJzZWwAS3VydAB4aXBqM3BsbXE="),
            SaslStep::Failed("authorization identity differs from authentication identity")
        );
        // Same authzid and authcid is fine.
        let mut s = SaslServer::new("PLAIN").unwrap();
        assert_eq!(s.step(&b64(b"kurt\0kurt\0pw")), done("kurt", "pw"));
    }

    #[test]
    fn plain_without_initial_response() {
        let mut s = SaslServer::new("plain").unwrap();
        assert_eq!(s.step(b""), SaslStep::Challenge(String::new()));
        assert_eq!(
            s.step(b"AGFsaWNlQGV4YW1wbGUudGVzdABzM2NyM3QgcHc=\r\n"),
            done("alice@example.test", "s3cr3t pw")
        );
        assert_eq!(
            s.step(b"AHRpbQB0YW5zdGFhZnRhbnN0YWFm"),
            SaslStep::Failed("authentication exchange already finished")
        );
    }

    #[test]
    fn plain_malformed() {
        let cases: &[(&[u8], &str)] = &[
            (b"tim\0pw", "malformed PLAIN response"),
            (b"\0tim\0pw\0x", "malformed PLAIN response"),
            (b"\0\0pw", "empty username"),
            (b"\0tim\0", "empty password"),
            (b"\0t\xffm\0pw", "credentials are not valid UTF-8"),
            (b"", "malformed PLAIN response"),
        ];
        for (raw, reason) in cases {
            let mut s = SaslServer::new("PLAIN").unwrap();
            assert_eq!(s.step(b""), SaslStep::Challenge(String::new()));
            assert_eq!(s.step(&b64(raw)), SaslStep::Failed(reason), "{raw:?}");
        }
        let mut s = SaslServer::new("PLAIN").unwrap();
        assert_eq!(s.step(b"not base64!"), SaslStep::Failed("invalid base64 in response"));
        // "=" is an empty initial response, which PLAIN cannot accept.
        let mut s = SaslServer::new("PLAIN").unwrap();
        assert_eq!(s.step(b"="), SaslStep::Failed("malformed PLAIN response"));
        let mut s = SaslServer::new("PLAIN").unwrap();
        let huge = vec![b'A'; MAX_RESPONSE_LEN + 4];
        assert_eq!(s.step(&huge), SaslStep::Failed("response too long"));
    }

    #[test]
    fn plain_unpadded_base64() {
        let mut s = SaslServer::new("PLAIN").unwrap();
        assert_eq!(s.step(b"AHRpbQB0YW5zdGFhZnRhbnN0YWFm"), done("tim", "tanstaaftanstaaf"));
        let mut s = SaslServer::new("PLAIN").unwrap();
        // base64("\0a\0bc") = "AGEAYmM=" ; accept it without the padding.
        assert_eq!(s.step(b"AGEAYmM"), done("a", "bc"));
    }

    #[test]
    fn login_two_steps() {
        let mut s = SaslServer::new("LOGIN").unwrap();
        assert_eq!(s.step(b""), SaslStep::Challenge("VXNlcm5hbWU6".into()));
        assert_eq!(
            s.step(b"dGltQGV4YW1wbGUudGVzdA=="),
            SaslStep::Challenge("UGFzc3dvcmQ6".into())
        );
        assert_eq!(s.step(b"dGFuc3RhYWY=\r\n"), done("tim@example.test", "tanstaaf"));
        assert!(s.is_finished());
    }

    #[test]
    fn login_with_initial_response() {
        // Some clients send the username with the command: AUTH LOGIN <b64>.
        let mut s = SaslServer::new("login").unwrap();
        assert_eq!(s.step(&b64(b"tim")), SaslStep::Challenge("UGFzc3dvcmQ6".into()));
        assert_eq!(s.step(&b64(b"pw")), done("tim", "pw"));
    }

    #[test]
    fn login_failures() {
        let mut s = SaslServer::new("LOGIN").unwrap();
        assert!(matches!(s.step(b""), SaslStep::Challenge(_)));
        assert_eq!(s.step(b""), SaslStep::Failed("empty username"));
        assert!(s.is_finished());

        let mut s = SaslServer::new("LOGIN").unwrap();
        assert!(matches!(s.step(&b64(b"tim")), SaslStep::Challenge(_)));
        assert_eq!(s.step(b""), SaslStep::Failed("empty password"));

        let mut s = SaslServer::new("LOGIN").unwrap();
        assert_eq!(s.step(&b64(b"t\0m")), SaslStep::Failed("NUL in credentials"));

        let mut s = SaslServer::new("LOGIN").unwrap();
        assert_eq!(s.step(b"%%%"), SaslStep::Failed("invalid base64 in response"));
        assert!(s.is_finished());
    }

    #[test]
    fn debug_redacts_password() {
        let dbg = format!("{:?}", done("tim", "hunter2"));
        assert!(dbg.contains("tim"));
        assert!(!dbg.contains("hunter2"));
    }
}
