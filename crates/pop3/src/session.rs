//! One POP3 connection: reads command lines, drives the AUTHORIZATION and
//! TRANSACTION states against the store, and streams messages out.
//! Parsing, listings and message encoding are in the sans-I/O modules.
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mailroom_net::TlsAcceptor;
use mailroom_net::{AuthError, Connection, LineRead, MaybeTls, SaslServer, SaslStep, ServerContext, Shutdown};
use mailroom_store::{FlagOp, Flags, SEEN, Store, StoreError};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};

use crate::command::{self, Command, ParseError};
use crate::config::Pop3Config;
use crate::lock::MaildropLock;
use crate::maildrop::{Entry, Maildrop, MsgError};
use crate::wire::{Encoder, SizeCounter};

/// SASL continuation lines carry base64 and may exceed the command line
/// limit; this matches the shared SASL response limit (8 KiB) plus CRLF.
const MAX_SASL_LINE: usize = 8 * 1024 + 2;
/// Read size when streaming a message from its blob.
const CHUNK: usize = 64 * 1024;
/// Buffered output is written once it grows past this.
const OUT_HIGH_WATER: usize = 64 * 1024;

/// Before login a client may stay silent `auth_timeout_secs` at a time and
/// must have logged in within this many times that in all.
const LOGIN_DEADLINE_FACTOR: u32 = 5;
/// Mechanisms offered (RFC 5034); the shared SASL server implements them.
const MECHANISMS: &[&str] = &["PLAIN", "LOGIN"];

type Reader = BufReader<MaybeTls>;

enum State {
    Authorization {
        /// Name from a USER command awaiting PASS.
        user: Option<String>,
    },
    Transaction {
        address: String,
        maildrop: Maildrop,
        _lock: MaildropLock,
    },
}

/// What the main loop does after a command.
enum Flow {
    Continue,
    Close,
    StartTls,
}

struct Session {
    ctx: Arc<ServerContext>,
    config: Arc<Pop3Config>,
    peer: SocketAddr,
    /// The listener offers STLS (plain listener, not yet upgraded).
    stls_offered: bool,
    state: State,
    out: Vec<u8>,
    bad_commands: u32,
    auth_failures: u32,
    /// The end of the AUTHORIZATION state, however active the client is:
    /// otherwise a NOOP a minute holds a connection slot forever.
    login_deadline: std::time::Instant,
}

/// Runs a session to its end. Never deletes anything unless the client
/// sent QUIT in TRANSACTION (RFC 1939 §6).
pub(crate) async fn run(ctx: Arc<ServerContext>, config: Arc<Pop3Config>, conn: Connection) {
    let Connection {
        stream,
        peer,
        tls_acceptor,
        shutdown,
        ..
    } = conn;
    let stls_offered = !stream.is_tls();
    // Logging in gets a few silences' worth of time in all.
    let login_deadline = std::time::Instant::now() + config.auth_timeout() * LOGIN_DEADLINE_FACTOR;
    let mut session = Session {
        ctx,
        config,
        peer,
        stls_offered,
        state: State::Authorization { user: None },
        out: Vec::with_capacity(1024),
        bad_commands: 0,
        auth_failures: 0,
        login_deadline,
    };
    if let Err(e) = session.drive(BufReader::new(stream), &tls_acceptor, &shutdown).await {
        tracing::debug!(peer = %session.peer, error = %e, "pop3 session ended by I/O error");
    }
    if let State::Transaction { address, .. } = &session.state {
        tracing::info!(peer = %session.peer, user = %address, "pop3 session closed without QUIT; nothing deleted");
    }
}

impl Session {
    async fn drive(&mut self, mut reader: Reader, acceptor: &TlsAcceptor, shutdown: &Shutdown) -> io::Result<()> {
        let greeting = format!("+OK {} Mailroom POP3 server ready", greeting_host(&self.ctx.hostname));
        self.reply(&greeting);
        let mut line = Vec::with_capacity(256);
        loop {
            // PIPELINING (RFC 2449 §6.6): answer everything already received
            // before writing, so a batch of commands costs one write.
            // ...but a client that sends without reading must not grow
            // our buffer forever.
            if reader.buffer().is_empty() || self.out.len() >= OUT_HIGH_WATER {
                self.flush(&mut reader).await?;
            }
            let limit = self.timeout();
            let read = tokio::select! {
                () = shutdown.wait() => {
                    self.reply("-ERR [SYS/TEMP] Server shutting down");
                    return self.flush(&mut reader).await;
                }
                r = tokio::time::timeout(limit, mailroom_net::read_line_limited(&mut reader, &mut line, self.config.max_line)) => r,
            };
            match read {
                Err(_) => {
                    // RFC 1939 §3: an expired autologout timer closes the
                    // connection without UPDATE and without a response.
                    if matches!(self.state, State::Authorization { .. }) {
                        self.reply("-ERR [SYS/TEMP] Disconnected for inactivity");
                        self.flush(&mut reader).await?;
                    }
                    return Ok(());
                }
                Ok(Err(e)) => return Err(e),
                Ok(Ok(LineRead::Eof)) => return Ok(()),
                Ok(Ok(LineRead::TooLong)) => {
                    if let Flow::Close = self.bad_command("Line too long") {
                        return self.flush(&mut reader).await;
                    }
                }
                Ok(Ok(LineRead::Line)) => match self.handle(&mut reader, &line).await? {
                    Flow::Continue => {}
                    Flow::Close => return self.flush(&mut reader).await,
                    Flow::StartTls => {
                        self.flush(&mut reader).await?;
                        if !reader.buffer().is_empty() {
                            // Plaintext pipelined after STLS must not be
                            // taken as if it came over TLS (RFC 2595 §4
                            // forbids it; CVE-2011-0411 class).
                            tracing::info!(peer = %self.peer, "data pipelined after STLS; closing");
                            return Ok(());
                        }
                        reader = BufReader::new(reader.into_inner().upgrade(acceptor).await?);
                        self.stls_offered = false;
                        // RFC 2595 §4: forget anything learned before TLS.
                        self.state = State::Authorization { user: None };
                    }
                },
            }
        }
    }

    fn timeout(&self) -> Duration {
        match self.state {
            State::Authorization { .. } => self
                .config
                .auth_timeout()
                .min(self.login_deadline.saturating_duration_since(std::time::Instant::now())),
            State::Transaction { .. } => self.config.idle_timeout(),
        }
    }

    fn reply(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    /// Writes buffered output. A client that stops reading is dropped after
    /// the idle timeout rather than holding the maildrop lock forever.
    async fn flush(&mut self, reader: &mut Reader) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let limit = self.config.idle_timeout();
        let stream = reader.get_mut();
        let written = tokio::time::timeout(limit, async {
            stream.write_all(&self.out).await?;
            stream.flush().await
        })
        .await;
        self.out.clear();
        match written {
            Ok(r) => r,
            Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "client stopped reading")),
        }
    }

    fn bad_command(&mut self, why: &str) -> Flow {
        self.bad_commands += 1;
        if self.bad_commands > self.config.max_bad_commands {
            self.reply("-ERR Too many bad commands, closing connection");
            return Flow::Close;
        }
        self.reply(&format!("-ERR {why}"));
        Flow::Continue
    }

    fn is_tls(reader: &Reader) -> bool {
        reader.get_ref().is_tls()
    }

    async fn handle(&mut self, reader: &mut Reader, line: &[u8]) -> io::Result<Flow> {
        let cmd = match command::parse(line) {
            Ok(c) => c,
            Err(ParseError::Unknown) => return Ok(self.bad_command("Unknown command")),
            Err(ParseError::Syntax(why)) => return Ok(self.bad_command(&format!("Syntax error: {why}"))),
        };
        let tls = Self::is_tls(reader);
        if let Command::Capa = cmd {
            self.capa(tls);
            return Ok(Flow::Continue);
        }
        match &self.state {
            State::Authorization { .. } => self.authorization(reader, cmd, tls).await,
            State::Transaction { .. } => self.transaction(reader, cmd).await,
        }
    }

    fn capa(&mut self, tls: bool) {
        let in_auth = matches!(self.state, State::Authorization { .. });
        let mut caps = vec![
            "+OK Capability list follows".to_string(),
            "CAPA".into(),
            "TOP".into(),
            "UIDL".into(),
            "RESP-CODES".into(),
            "AUTH-RESP-CODE".into(),
            "PIPELINING".into(),
            "EXPIRE NEVER".into(),
        ];
        if self.ctx.plaintext_auth_allowed(&self.peer, tls) {
            caps.push("USER".into());
            caps.push(format!("SASL {}", MECHANISMS.join(" ")));
        }
        if in_auth && self.stls_offered && !tls {
            caps.push("STLS".into());
        }
        caps.push(format!("IMPLEMENTATION Mailroom-{}", env!("CARGO_PKG_VERSION")));
        caps.push(".".into());
        for c in caps {
            self.reply(&c);
        }
    }

    async fn authorization(&mut self, reader: &mut Reader, cmd: Command, tls: bool) -> io::Result<Flow> {
        let plaintext_ok = self.ctx.plaintext_auth_allowed(&self.peer, tls);
        match cmd {
            Command::Quit => {
                self.reply("+OK Mailroom POP3 server signing off");
                Ok(Flow::Close)
            }
            Command::Stls => {
                if !self.stls_offered || tls {
                    return Ok(self.bad_command("TLS already active or not available here"));
                }
                self.reply("+OK Begin TLS negotiation");
                Ok(Flow::StartTls)
            }
            Command::User(name) => {
                if !plaintext_ok {
                    self.reply("-ERR [AUTH] Plaintext authentication disallowed without TLS; use STLS");
                    return Ok(Flow::Continue);
                }
                // Always +OK: whether the user exists is told by PASS only.
                self.state = State::Authorization { user: Some(name) };
                self.reply("+OK Send PASS");
                Ok(Flow::Continue)
            }
            Command::Pass(password) => {
                let State::Authorization { user } = &mut self.state else {
                    return Ok(Flow::Continue);
                };
                let Some(user) = user.take() else {
                    return Ok(self.bad_command("Send USER first"));
                };
                if !plaintext_ok {
                    self.reply("-ERR [AUTH] Plaintext authentication disallowed without TLS; use STLS");
                    return Ok(Flow::Continue);
                }
                Ok(self.login(&user, &password).await)
            }
            Command::Auth { mechanism: None, .. } => {
                // Not in RFC 5034, but long used by clients to probe.
                self.reply("+OK Supported mechanisms follow");
                if plaintext_ok {
                    for m in MECHANISMS {
                        self.reply(m);
                    }
                }
                self.reply(".");
                Ok(Flow::Continue)
            }
            Command::Auth {
                mechanism: Some(mechanism),
                initial_response,
            } => {
                self.state = State::Authorization { user: None };
                if !plaintext_ok {
                    self.reply("-ERR [AUTH] Plaintext authentication disallowed without TLS; use STLS");
                    return Ok(Flow::Continue);
                }
                let Some(sasl) = SaslServer::new(&mechanism) else {
                    self.reply("-ERR Unsupported authentication mechanism");
                    return Ok(Flow::Continue);
                };
                self.sasl(reader, sasl, initial_response).await
            }
            Command::Apop => {
                self.reply("-ERR APOP is not supported; use USER/PASS or AUTH");
                Ok(Flow::Continue)
            }
            Command::Capa => Ok(Flow::Continue),
            Command::Stat
            | Command::List(_)
            | Command::Retr(_)
            | Command::Dele(_)
            | Command::Noop
            | Command::Rset
            | Command::Top(..)
            | Command::Uidl(_) => Ok(self.bad_command("Not logged in")),
        }
    }

    /// RFC 5034 AUTH exchange: "+ base64" challenges, client lines back,
    /// "*" cancels.
    async fn sasl(&mut self, reader: &mut Reader, mut sasl: SaslServer, initial: Option<String>) -> io::Result<Flow> {
        let mut response = initial.unwrap_or_default().into_bytes();
        let mut line = Vec::new();
        loop {
            match sasl.step(&response) {
                SaslStep::Done { username, password } => return Ok(self.login(&username, &password).await),
                SaslStep::Failed(why) => {
                    self.reply(&format!("-ERR [AUTH] Authentication failed: {why}"));
                    return Ok(self.count_auth_failure());
                }
                SaslStep::Challenge(challenge) => {
                    if challenge.is_empty() {
                        self.reply("+ ");
                    } else {
                        self.reply(&format!("+ {challenge}"));
                    }
                    self.flush(reader).await?;
                    let read = tokio::time::timeout(
                        self.config.auth_timeout(),
                        mailroom_net::read_line_limited(reader, &mut line, MAX_SASL_LINE),
                    )
                    .await;
                    match read {
                        Err(_) | Ok(Ok(LineRead::Eof)) => return Ok(Flow::Close),
                        Ok(Err(e)) => return Err(e),
                        Ok(Ok(LineRead::TooLong)) => {
                            self.reply("-ERR [AUTH] Authentication failed: response too long");
                            return Ok(self.count_auth_failure());
                        }
                        Ok(Ok(LineRead::Line)) => {}
                    }
                    let data = mailroom_net::trim_line_ending(&line);
                    if data == b"*" {
                        self.reply("-ERR Authentication cancelled");
                        return Ok(Flow::Continue);
                    }
                    response = data.to_vec();
                }
            }
        }
    }

    fn count_auth_failure(&mut self) -> Flow {
        self.auth_failures += 1;
        if self.auth_failures >= self.config.max_auth_failures {
            self.reply("-ERR [AUTH] Too many failed logins, closing connection");
            return Flow::Close;
        }
        Flow::Continue
    }

    /// Checks the credentials, takes the maildrop lock and opens the
    /// maildrop (RFC 1939 §4: on failure, the lock is released and the
    /// session stays in AUTHORIZATION).
    async fn login(&mut self, username: &str, password: &str) -> Flow {
        let user = match self.ctx.auth.authenticate(username, password, self.peer.ip()).await {
            Ok(u) => u,
            Err(AuthError::Failed) => {
                self.reply("-ERR [AUTH] Authentication failed");
                return self.count_auth_failure();
            }
            Err(AuthError::TooManyFailures) => {
                self.reply("-ERR [SYS/TEMP] Too many failed logins, try again later");
                return Flow::Close;
            }
            Err(AuthError::Unavailable(_)) => {
                self.reply("-ERR [SYS/TEMP] Authentication temporarily unavailable");
                return Flow::Continue;
            }
        };
        let Some(lock) = MaildropLock::try_acquire(self.ctx.store.db_path(), user.account_id) else {
            tracing::info!(peer = %self.peer, user = %user.address, "pop3 maildrop in use");
            self.reply("-ERR [IN-USE] Maildrop is locked by another POP3 session");
            return Flow::Continue;
        };
        let store = self.ctx.store.clone();
        let account = user.account_id;
        match blocking(move || load_maildrop(&store, account)).await {
            Ok(maildrop) => {
                let (n, octets) = maildrop.stat();
                tracing::info!(peer = %self.peer, user = %user.address, messages = n, "pop3 login");
                self.reply(&format!(
                    "+OK Logged in, maildrop has {n} {} ({octets} octets)",
                    plural(n)
                ));
                self.state = State::Transaction {
                    address: user.address,
                    maildrop,
                    _lock: lock,
                };
            }
            Err(e) => {
                tracing::warn!(peer = %self.peer, user = %user.address, error = %e, "cannot open pop3 maildrop");
                self.reply("-ERR [SYS/TEMP] Cannot open the maildrop, try again later");
            }
        }
        Flow::Continue
    }

    async fn transaction(&mut self, reader: &mut Reader, cmd: Command) -> io::Result<Flow> {
        let State::Transaction { maildrop, .. } = &mut self.state else {
            return Ok(Flow::Continue);
        };
        let text = match cmd {
            Command::Stat => {
                let (n, octets) = maildrop.stat();
                format!("+OK {n} {octets}")
            }
            Command::List(None) => {
                let (n, octets) = maildrop.stat();
                format!("+OK {n} {} ({octets} octets)\r\n{}", plural(n), maildrop.list_all())
            }
            Command::List(Some(m)) => match maildrop.get(m) {
                Ok(e) => format!("+OK {m} {}", e.octets),
                Err(e) => msg_error(m, e),
            },
            Command::Uidl(None) => format!("+OK Unique-ID listing follows\r\n{}", maildrop.uidl_all()),
            Command::Uidl(Some(m)) => match maildrop.get(m) {
                Ok(e) => format!("+OK {m} {}", maildrop.unique_id(e)),
                Err(e) => msg_error(m, e),
            },
            Command::Dele(m) => match maildrop.dele(m) {
                Ok(()) => format!("+OK Message {m} deleted"),
                Err(e) => msg_error(m, e),
            },
            Command::Rset => {
                maildrop.rset();
                let (n, octets) = maildrop.stat();
                format!("+OK Maildrop has {n} {} ({octets} octets)", plural(n))
            }
            Command::Noop => "+OK".to_string(),
            Command::Retr(m) => return self.send_message(reader, m, None).await.map(|()| Flow::Continue),
            Command::Top(m, n) => return self.send_message(reader, m, Some(n)).await.map(|()| Flow::Continue),
            Command::Quit => return Ok(self.update().await),
            Command::Capa => return Ok(Flow::Continue),
            Command::User(_) | Command::Pass(_) | Command::Auth { .. } | Command::Apop | Command::Stls => {
                return Ok(self.bad_command("Already logged in"));
            }
        };
        // Multi-line texts already end in CRLF; single lines get one.
        if let Some(body) = text.strip_suffix("\r\n") {
            self.reply(body);
        } else {
            self.reply(&text);
        }
        Ok(Flow::Continue)
    }

    /// RETR (`top == None`) or TOP: checks the message still exists (IMAP
    /// may have expunged it since login), then streams it from its blob.
    async fn send_message(&mut self, reader: &mut Reader, m: u32, top: Option<u64>) -> io::Result<()> {
        let State::Transaction { maildrop, .. } = &self.state else {
            return Ok(());
        };
        let entry: Entry = match maildrop.get(m) {
            Ok(e) => e.clone(),
            Err(e) => {
                let text = msg_error(m, e);
                self.reply(&text);
                return Ok(());
            }
        };
        let Some(mailbox_id) = maildrop.mailbox_id else {
            self.reply(&msg_error(m, MsgError::NoSuchMessage));
            return Ok(());
        };
        let store = self.ctx.store.clone();
        let (uid, hash) = (entry.uid, entry.blob_hash.clone());
        let opened = blocking(move || -> Result<Option<mailroom_store::BlobReader>, StoreError> {
            if store.message(mailbox_id, uid)?.is_none() {
                return Ok(None);
            }
            match store.open_blob(&hash) {
                Ok(f) => Ok(Some(f)),
                // Expunged between the two calls and its blob removed.
                Err(StoreError::Io(e)) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await;
        let file = match opened {
            Ok(Some(f)) => f,
            Ok(None) => {
                self.reply(&format!("-ERR Message {m} was removed by another session"));
                return Ok(());
            }
            Err(e) => {
                tracing::warn!(peer = %self.peer, uid, error = %e, "cannot open message for pop3");
                self.reply("-ERR [SYS/TEMP] Cannot read the message, try again later");
                return Ok(());
            }
        };
        let mut encoder = match top {
            None => {
                self.reply(&format!("+OK {} octets", entry.octets));
                Encoder::full()
            }
            Some(n) => {
                self.reply("+OK Top of message follows");
                Encoder::top(n)
            }
        };
        // Once +OK is out, a read failure can only end the connection: the
        // client would otherwise take a truncated message as complete.
        let mut file: Box<dyn tokio::io::AsyncRead + Unpin + Send> = match file {
            mailroom_store::BlobReader::File(f) => Box::new(tokio::fs::File::from_std(f)),
            mailroom_store::BlobReader::Memory(m) => Box::new(m),
        };
        let mut buf = vec![0u8; CHUNK];
        while !encoder.is_done() {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            encoder.feed(&buf[..n], &mut self.out);
            if self.out.len() >= OUT_HIGH_WATER {
                self.flush(reader).await?;
            }
        }
        encoder.finish(&mut self.out);
        if top.is_none() {
            if encoder.octets() != entry.octets {
                tracing::warn!(
                    uid,
                    listed = entry.octets,
                    sent = encoder.octets(),
                    "pop3 size mismatch"
                );
            }
            if let State::Transaction { maildrop, .. } = &mut self.state {
                maildrop.mark_retrieved(m);
            }
        }
        Ok(())
    }

    /// QUIT in TRANSACTION: the UPDATE state (RFC 1939 §6). Deleted
    /// messages are expunged, and only once that is durable does the
    /// client hear +OK.
    async fn update(&mut self) -> Flow {
        let State::Transaction { maildrop, address, .. } = &self.state else {
            return Flow::Close;
        };
        let deleted = maildrop.deleted_uids();
        let seen = maildrop.retrieved_uids();
        let (left, _) = maildrop.stat();
        let address = address.clone();
        let Some(mailbox_id) = maildrop.mailbox_id else {
            self.reply("+OK Mailroom POP3 server signing off (maildrop empty)");
            return Flow::Close;
        };
        let store = self.ctx.store.clone();
        let n_deleted = deleted.len();
        let result = blocking(move || {
            if !deleted.is_empty() {
                store.expunge(mailbox_id, &deleted)?;
            }
            // Like Dovecot: what POP3 downloaded shows as read in IMAP. Best
            // effort; failing it must not turn a done expunge into -ERR.
            if !seen.is_empty()
                && let Err(e) = store.store_flags(mailbox_id, &seen, FlagOp::Add, &Flags::new(SEEN), None)
            {
                tracing::warn!(error = %e, "pop3: could not mark retrieved messages seen");
            }
            Ok(())
        })
        .await;
        // The session is over either way; this also releases the lock.
        self.state = State::Authorization { user: None };
        match result {
            Ok(()) => {
                tracing::info!(peer = %self.peer, user = %address, deleted = n_deleted, "pop3 logout");
                if left == 0 {
                    self.reply("+OK Mailroom POP3 server signing off (maildrop empty)");
                } else {
                    self.reply(&format!(
                        "+OK Mailroom POP3 server signing off ({left} {} left)",
                        plural(left)
                    ));
                }
            }
            Err(e) => {
                tracing::warn!(peer = %self.peer, user = %address, error = %e, "pop3 update failed");
                self.reply("-ERR [SYS/TEMP] Some deleted messages were not removed");
            }
        }
        Flow::Close
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "message" } else { "messages" }
}

fn msg_error(m: u32, e: MsgError) -> String {
    match e {
        MsgError::NoSuchMessage => format!("-ERR No such message {m}"),
        MsgError::Deleted => format!("-ERR Message {m} already deleted"),
    }
}

/// The host name as greeting text: printable, without "<" (RFC 2449 §3
/// reserves it for an APOP timestamp), bounded.
fn greeting_host(host: &str) -> String {
    let clean: String = host
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '<')
        .take(253)
        .collect();
    if clean.is_empty() { "localhost".into() } else { clean }
}

/// Runs blocking store work off the async threads.
async fn blocking<T, F>(f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(StoreError::Io(io::Error::other(e.to_string()))))
}

/// Reads the INBOX listing and each message's POP3 size, computing (and
/// remembering) the sizes not known yet.
fn load_maildrop(store: &Store, account_id: i64) -> Result<Maildrop, StoreError> {
    let Some(inbox) = store.mailbox_get(account_id, "INBOX")? else {
        return Ok(Maildrop::new(None, 0, Vec::new()));
    };
    let messages = store.messages(inbox.id)?;
    let known = store.pop3_sizes(inbox.id)?;
    let mut fresh = Vec::new();
    let mut entries = Vec::with_capacity(messages.len());
    for m in messages {
        let octets = match known.get(&m.blob_id) {
            Some(&o) => o,
            None => match wire_size(store, &m.blob_hash) {
                Ok(o) => {
                    fresh.push((m.blob_id, m.blob_hash.clone(), o));
                    o
                }
                // Expunged (and its blob removed) since the listing was read.
                Err(_) if store.message(inbox.id, m.uid)?.is_none() => continue,
                Err(e) => return Err(e),
            },
        };
        entries.push(Entry {
            uid: m.uid,
            octets,
            blob_hash: m.blob_hash,
            deleted: false,
            retrieved: false,
        });
    }
    if let Err(e) = store.pop3_sizes_put(fresh) {
        // Only a cache: the sizes are correct for this session regardless.
        tracing::warn!(error = %e, "could not remember pop3 sizes");
    }
    Ok(Maildrop::new(Some(inbox.id), inbox.uidvalidity, entries))
}

fn wire_size(store: &Store, hash: &str) -> Result<u64, StoreError> {
    use std::io::Read;
    let mut file = store.open_blob(hash)?;
    let mut counter = SizeCounter::default();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(counter.finish());
        }
        counter.feed(&buf[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greeting_host_is_sanitised() {
        assert_eq!(greeting_host("mail.example.test"), "mail.example.test");
        assert_eq!(greeting_host("<x>\r\n y"), "x>y");
        assert_eq!(greeting_host(""), "localhost");
    }
}
