//! One SMTP server session: the async driver around the sans-I/O parts
//! ([`command`](crate::command), [`data`](crate::data)).
//!
//! Replies are collected and written only when the client's input buffer
//! is empty, so a pipelined group (RFC 2920) gets its replies in one write
//! and every command is still answered in order.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mailroom_net::{AuthError, AuthedUser, LineRead, MaybeTls, SaslServer, SaslStep, ServerContext, read_line_limited};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::time::Instant;

use crate::SmtpListener;
use crate::command::{self, Command, Mailbox, Param};
use crate::config::SmtpConfig;
use crate::data::{DataDecoder, DataFlaws};
use crate::headers;
use crate::inbound::{self, Envelope, Recipient};
use crate::reply::Reply;
use crate::spool::{Refusal, Spool, SpoolSpec};

/// Longest SASL response line (RFC 4954 §4: longer than a command line).
const MAX_SASL_LINE: usize = 12 * 1024;

type Io = BufReader<MaybeTls>;

#[derive(Debug, PartialEq, Eq)]
enum Action {
    Continue,
    Quit,
    StartTls,
    Data,
    Bdat { size: u64, last: bool },
    Auth { mechanism: String, initial: Option<String> },
}

/// Why the session ends.
enum End {
    Closed,
}

struct Transaction {
    env: Envelope,
    /// The message being received by BDAT (RFC 3030), from the first chunk on.
    bdat: Option<Spool>,
    /// A BDAT chunk overflowed the size limit: answer 552 until LAST.
    bdat_failed: Option<Reply>,
}

struct Session {
    ctx: Arc<ServerContext>,
    config: Arc<SmtpConfig>,
    kind: SmtpListener,
    peer: SocketAddr,
    tls: bool,
    tls_version: Option<String>,
    helo: Option<String>,
    esmtp: bool,
    auth: Option<AuthedUser>,
    tx: Option<Transaction>,
    bad_commands: u32,
    out: Vec<u8>,
    deadline: Instant,
}

pub(crate) async fn run(
    ctx: Arc<ServerContext>,
    conn: mailroom_net::Connection,
    kind: SmtpListener,
    config: Arc<SmtpConfig>,
) {
    let mailroom_net::Connection {
        stream,
        peer,
        tls_acceptor,
        shutdown,
        ..
    } = conn;
    let tls = stream.is_tls();
    let tls_version = stream.tls_info().map(|i| i.version);
    let deadline = Instant::now() + config.session_timeout();
    let mut s = Session {
        ctx,
        config,
        kind,
        peer,
        tls,
        tls_version,
        helo: None,
        esmtp: false,
        auth: None,
        tx: None,
        bad_commands: 0,
        out: Vec::new(),
        deadline,
    };
    let greeting = format!("{} ESMTP Mailroom", s.ctx.hostname);
    s.reply(Reply::new(220, greeting));
    let io = BufReader::with_capacity(64 * 1024, stream);
    let _ = s.drive(io, &tls_acceptor, &shutdown).await;
}

/// Replies waiting for the client are written out at this size at the
/// latest, whatever is still buffered from the client.
const OUT_HIGH_WATER: usize = 64 * 1024;

impl Session {
    fn reply(&mut self, r: Reply) {
        r.write_to(&mut self.out);
    }

    /// A protocol error: answered, and counted towards `max_bad_commands`.
    fn bad(&mut self, r: Reply) {
        self.bad_commands += 1;
        self.reply(r);
    }

    async fn flush(&mut self, io: &mut Io) -> Result<(), End> {
        if self.out.is_empty() {
            return Ok(());
        }
        let out = std::mem::take(&mut self.out);
        let w = io.get_mut();
        match tokio::time::timeout(self.config.command_timeout(), async {
            w.write_all(&out).await?;
            w.flush().await
        })
        .await
        {
            Ok(Ok(())) => Ok(()),
            _ => Err(End::Closed),
        }
    }

    /// Time allowed for the next read: one command timeout, but never past
    /// the end of the session.
    fn read_timeout(&self) -> Duration {
        self.config
            .command_timeout()
            .min(self.deadline.saturating_duration_since(Instant::now()))
    }

    async fn timed_out(&mut self, io: &mut Io) -> End {
        let text = format!("4.4.2 {} Timeout, closing connection", self.ctx.hostname);
        self.reply(Reply::new(421, text));
        let _ = self.flush(io).await;
        End::Closed
    }

    /// Fills the read buffer, flushing pending replies first when the
    /// client has nothing more buffered (it may be waiting for them).
    async fn fill(&mut self, io: &mut Io) -> Result<usize, End> {
        if io.buffer().is_empty() || self.out.len() >= OUT_HIGH_WATER {
            self.flush(io).await?;
        }
        match tokio::time::timeout(self.read_timeout(), io.fill_buf()).await {
            Ok(Ok([])) => Err(End::Closed),
            Ok(Ok(buf)) => Ok(buf.len()),
            Ok(Err(_)) => Err(End::Closed),
            Err(_) => Err(self.timed_out(io).await),
        }
    }

    async fn drive(
        &mut self,
        mut io: Io,
        acceptor: &mailroom_net::TlsAcceptor,
        shutdown: &mailroom_net::Shutdown,
    ) -> Result<(), End> {
        let mut line = Vec::with_capacity(self.config.max_command_line);
        loop {
            if self.bad_commands >= self.config.max_bad_commands.max(1) {
                self.reply(Reply::new(421, "4.7.0 Too many errors, closing connection"));
                return self.flush(&mut io).await;
            }
            // Pipelined commands are answered in one write, but a client
            // that sends without reading must not grow our buffer forever.
            if io.buffer().is_empty() || self.out.len() >= OUT_HIGH_WATER {
                self.flush(&mut io).await?;
            }
            let read = tokio::select! {
                () = shutdown.wait() => {
                    let text = format!("4.3.2 {} Server shutting down", self.ctx.hostname);
                    self.reply(Reply::new(421, text));
                    return self.flush(&mut io).await;
                }
                r = tokio::time::timeout(
                    self.read_timeout(),
                    read_line_limited(&mut io, &mut line, self.config.max_command_line),
                ) => r,
            };
            match read {
                Err(_) => return Err(self.timed_out(&mut io).await),
                Ok(Err(_)) | Ok(Ok(LineRead::Eof)) => return Err(End::Closed),
                Ok(Ok(LineRead::TooLong)) => {
                    let text = format!("5.5.2 Line too long (limit {} octets)", self.config.max_command_line);
                    self.bad(Reply::new(500, text));
                    continue;
                }
                Ok(Ok(LineRead::Line)) => {}
            }
            // RFC 5321 §2.3.8: lines end with CRLF only; a bare CR or LF is
            // refused, never taken as a line end.
            let Some(body) = line.strip_suffix(b"\r\n") else {
                self.bad(Reply::new(500, "5.5.2 Bare LF in command line (CRLF required)"));
                continue;
            };
            if body.contains(&b'\r') {
                self.bad(Reply::new(500, "5.5.2 Bare CR in command line"));
                continue;
            }
            let action = match command::parse(body) {
                Ok(cmd) => self.handle(cmd).await,
                Err(r) => {
                    self.bad(r);
                    Action::Continue
                }
            };
            match action {
                Action::Continue => {}
                Action::Quit => {
                    let text = format!("2.0.0 {} Bye", self.ctx.hostname);
                    self.reply(Reply::new(221, text));
                    return self.flush(&mut io).await;
                }
                Action::StartTls => {
                    self.reply(Reply::new(220, "2.0.0 Ready to start TLS"));
                    self.flush(&mut io).await?;
                    if !io.buffer().is_empty() {
                        // CVE-2011-0411: nothing sent before the handshake may
                        // be taken as sent under TLS. Dropping the reader
                        // drops its buffer.
                        tracing::info!(peer = %self.peer, "discarding plaintext pipelined after STARTTLS");
                    }
                    let stream = io.into_inner();
                    let stream = stream.upgrade(acceptor).await.map_err(|_| End::Closed)?;
                    self.tls = true;
                    self.tls_version = stream.tls_info().map(|i| i.version);
                    // RFC 3207 §4.2: forget everything learnt before TLS.
                    self.helo = None;
                    self.esmtp = false;
                    self.tx = None;
                    self.auth = None;
                    io = BufReader::with_capacity(64 * 1024, stream);
                }
                Action::Data => self.read_data(&mut io).await?,
                Action::Bdat { size, last } => self.read_bdat(&mut io, size, last).await?,
                Action::Auth { mechanism, initial } => self.authenticate(&mut io, &mechanism, initial).await?,
            }
        }
    }

    fn ehlo_lines(&self) -> Vec<String> {
        let mut l = vec![
            format!("{} Hello {}", self.ctx.hostname, self.helo.as_deref().unwrap_or("")),
            "PIPELINING".into(),
            format!("SIZE {}", self.config.max_message_size),
            "8BITMIME".into(),
            "SMTPUTF8".into(),
            "ENHANCEDSTATUSCODES".into(),
            "CHUNKING".into(),
            "DSN".into(),
        ];
        if !self.tls {
            l.push("STARTTLS".into());
        }
        if self.auth_offered() {
            l.push(format!("AUTH {}", mailroom_net::sasl::MECHANISMS.join(" ")));
        }
        l
    }

    fn auth_offered(&self) -> bool {
        self.kind != SmtpListener::Mx && self.auth.is_none() && self.ctx.plaintext_auth_allowed(&self.peer, self.tls)
    }

    async fn handle(&mut self, cmd: Command) -> Action {
        match cmd {
            Command::Ehlo(host) => {
                self.helo = Some(host);
                self.esmtp = true;
                self.tx = None;
                let lines = self.ehlo_lines();
                self.reply(Reply::multi(250, lines));
                Action::Continue
            }
            Command::Helo(host) => {
                self.helo = Some(host);
                self.esmtp = false;
                self.tx = None;
                let text = self.ctx.hostname.clone();
                self.reply(Reply::new(250, text));
                Action::Continue
            }
            Command::Mail { from, params } => {
                let r = self.mail(from, params).await;
                self.reply(r);
                Action::Continue
            }
            Command::Rcpt { to, params } => {
                let r = self.rcpt(to, params).await;
                if r.code >= 500 {
                    // Refused recipients count as errors (Postfix's
                    // smtpd_hard_error_limit): a session cannot probe
                    // addresses or relay targets without end.
                    self.bad(r);
                } else {
                    self.reply(r);
                }
                Action::Continue
            }
            Command::Data => {
                match &self.tx {
                    None => self.bad(Reply::new(503, "5.5.1 Need MAIL and RCPT first")),
                    Some(tx) if tx.env.recipients.is_empty() => {
                        self.bad(Reply::new(554, "5.5.1 No valid recipients"));
                    }
                    // RFC 3030 §2: DATA may not follow BDAT in one transaction.
                    Some(tx) if tx.bdat.is_some() || tx.bdat_failed.is_some() => {
                        self.bad(Reply::new(503, "5.5.1 DATA after BDAT"));
                    }
                    Some(_) => return Action::Data,
                }
                Action::Continue
            }
            Command::Bdat { size, last } => Action::Bdat { size, last },
            Command::Rset => {
                self.tx = None;
                self.reply(Reply::new(250, "2.0.0 Ok"));
                Action::Continue
            }
            Command::Noop => {
                self.reply(Reply::new(250, "2.0.0 Ok"));
                Action::Continue
            }
            Command::Help => {
                self.reply(Reply::new(214, "2.0.0 See RFC 5321"));
                Action::Continue
            }
            Command::Vrfy => {
                // RFC 5321 §3.5.3: 252 when we will not verify.
                self.reply(Reply::new(252, "2.5.0 Cannot VRFY user, but will accept message"));
                Action::Continue
            }
            Command::Expn => {
                self.reply(Reply::new(502, "5.5.1 EXPN not available"));
                Action::Continue
            }
            Command::Quit => Action::Quit,
            Command::StartTls => {
                if self.tls {
                    self.bad(Reply::new(503, "5.5.1 TLS already active"));
                    Action::Continue
                } else {
                    Action::StartTls
                }
            }
            Command::Auth { mechanism, initial } => {
                if self.kind == SmtpListener::Mx {
                    self.bad(Reply::new(502, "5.5.1 AUTH not available on this port; use submission"));
                } else if self.auth.is_some() {
                    self.bad(Reply::new(503, "5.5.1 Already authenticated"));
                } else if self.tx.is_some() {
                    self.bad(Reply::new(503, "5.5.1 AUTH not allowed during a mail transaction"));
                } else if !self.ctx.plaintext_auth_allowed(&self.peer, self.tls) {
                    // RFC 4954 §6.
                    self.bad(Reply::new(538, "5.7.11 Encryption required (use STARTTLS first)"));
                } else if SaslServer::new(&mechanism).is_none() {
                    self.bad(Reply::new(504, "5.5.4 Unrecognized authentication type"));
                } else {
                    return Action::Auth { mechanism, initial };
                }
                Action::Continue
            }
        }
    }

    async fn mail(&mut self, from: Option<Mailbox>, params: Vec<Param>) -> Reply {
        if self.helo.is_none() {
            self.bad_commands += 1;
            return Reply::new(503, "5.5.1 Send EHLO or HELO first");
        }
        if self.tx.is_some() {
            self.bad_commands += 1;
            return Reply::new(503, "5.5.1 Nested MAIL command");
        }
        if self.kind != SmtpListener::Mx && self.auth.is_none() {
            return Reply::new(530, "5.7.0 Authentication required");
        }
        let mut env = Envelope::default();
        for p in &params {
            if !self.esmtp {
                return Reply::new(555, "5.5.4 Parameters need EHLO");
            }
            let v = p.value.as_deref();
            match (p.key.as_str(), v) {
                ("SIZE", Some(n)) => match n.parse::<u64>() {
                    Ok(n) if n > self.config.max_message_size => {
                        return Reply::new(552, "5.3.4 Message size exceeds fixed maximum message size");
                    }
                    Ok(_) => {}
                    Err(_) => return Reply::new(501, "5.5.4 Bad SIZE value"),
                },
                ("BODY", Some(b)) if b.eq_ignore_ascii_case("7BIT") || b.eq_ignore_ascii_case("8BITMIME") => {}
                ("SMTPUTF8", None) => env.smtputf8 = true,
                ("RET", Some(r)) if r.eq_ignore_ascii_case("FULL") || r.eq_ignore_ascii_case("HDRS") => {
                    env.ret = Some(r.to_ascii_uppercase());
                }
                // RFC 3461 §4.4: at most 100 characters of xtext.
                ("ENVID", Some(e)) if e.len() <= 100 && command::xtext_decode(e).is_some() => {
                    env.env_id = Some(e.to_string());
                }
                // RFC 4954 §5: AUTH= is accepted and not trusted.
                ("AUTH", Some(_)) => {}
                _ => return Reply::new(555, format!("5.5.4 Unsupported parameter {}", p.key)),
            }
        }
        if let Some(m) = &from
            && !m.is_ascii()
            && !env.smtputf8
        {
            return Reply::new(553, "5.6.7 Non-ASCII address needs SMTPUTF8");
        }
        let sender = from.as_ref().map(|m| m.to_string()).unwrap_or_default();
        if let Some(user) = &self.auth {
            // Submission: only addresses the account owns (RFC 6409 §6.1).
            let store = self.ctx.store.clone();
            let id = user.account_id;
            let owned = match inbound::blocking(move || store.account_addresses(id)).await {
                Ok(list) => list,
                Err(e) => {
                    tracing::warn!(error = %e, "looking up sender addresses");
                    return Reply::new(451, "4.3.0 Temporary failure, try again later");
                }
            };
            let wanted = mailroom_store::normalize_address(&sender).ok();
            if wanted.is_none() || !owned.iter().any(|a| Some(a) == wanted.as_ref()) {
                return Reply::new(
                    553,
                    format!("5.7.1 Sender <{sender}> not owned by user {}", user.address),
                );
            }
            env.sender = wanted.unwrap_or_default();
        } else {
            env.sender = sender;
        }
        self.tx = Some(Transaction {
            env,
            bdat: None,
            bdat_failed: None,
        });
        Reply::new(250, "2.1.0 Sender OK")
    }

    async fn rcpt(&mut self, to: Mailbox, params: Vec<Param>) -> Reply {
        let Some(tx) = &self.tx else {
            self.bad_commands += 1;
            return Reply::new(503, "5.5.1 Need MAIL first");
        };
        if tx.env.recipients.len() >= self.config.max_recipients {
            return Reply::new(452, "4.5.3 Too many recipients");
        }
        let smtputf8 = tx.env.smtputf8;
        let (mut orcpt, mut notify) = (None, None);
        for p in &params {
            let v = p.value.as_deref();
            match (p.key.as_str(), v) {
                ("NOTIFY", Some(n)) if valid_notify(n) => notify = Some(n.to_ascii_uppercase()),
                ("ORCPT", Some(o))
                    if o.len() <= 500
                        && o.split_once(';')
                            .is_some_and(|(t, x)| !t.is_empty() && command::xtext_decode(x).is_some()) =>
                {
                    orcpt = Some(o.to_string());
                }
                _ => return Reply::new(555, format!("5.5.4 Unsupported parameter {}", p.key)),
            }
        }
        if !to.is_ascii() && !smtputf8 {
            return Reply::new(553, "5.6.7 Non-ASCII address needs SMTPUTF8");
        }
        if to.domain.is_empty() {
            return self.rcpt_postmaster(orcpt, notify).await;
        }
        let address = to.to_string();
        let store = self.ctx.store.clone();
        let (domain, addr, literal) = (to.domain.clone(), address.clone(), to.literal);
        let lookup = inbound::blocking(move || {
            if literal || !store.is_local_domain(&domain)? {
                return Ok(None);
            }
            Ok(Some(store.resolve_recipient(&addr)?.map(|a| a.id)))
        })
        .await;
        let account = match lookup {
            Err(e) => {
                tracing::warn!(error = %e, "recipient lookup");
                return Reply::new(451, "4.3.0 Temporary failure, try again later");
            }
            Ok(Some(Some(id))) => Some(id),
            Ok(Some(None)) => {
                return Reply::new(
                    550,
                    format!("5.1.1 <{address}>: Recipient address rejected: User unknown"),
                );
            }
            Ok(None) => {
                // Not ours: only authenticated users may relay (no open relay).
                if self.auth.is_none() {
                    self.bad_commands += 1;
                    return Reply::new(554, format!("5.7.1 <{address}>: Relay access denied"));
                }
                if to.literal {
                    return Reply::new(553, "5.1.2 Address literals are not accepted");
                }
                None
            }
        };
        let address = match account {
            // Local parts compare without case; deliver to the normalised form.
            Some(_) => mailroom_store::normalize_address(&address).unwrap_or(address),
            None => address,
        };
        if let Some(tx) = &mut self.tx {
            tx.env.recipients.push(Recipient {
                address,
                account,
                orcpt,
                notify,
            });
        }
        Reply::new(250, "2.1.5 Recipient OK")
    }

    /// `<Postmaster>` without a domain (RFC 5321 §4.5.1): the postmaster
    /// of our host name, else of the first local domain that has one.
    async fn rcpt_postmaster(&mut self, orcpt: Option<String>, notify: Option<String>) -> Reply {
        let store = self.ctx.store.clone();
        let host = self.ctx.hostname.to_ascii_lowercase();
        let found = inbound::blocking(move || {
            let mut domains = vec![host];
            domains.extend(store.domain_list()?);
            for d in domains {
                let addr = format!("postmaster@{d}");
                if let Some(a) = store.resolve_recipient(&addr)? {
                    return Ok(Some((a.id, addr)));
                }
            }
            Ok(None)
        })
        .await;
        match found {
            Ok(Some((id, address))) => {
                if let Some(tx) = &mut self.tx {
                    tx.env.recipients.push(Recipient {
                        address,
                        account: Some(id),
                        orcpt,
                        notify,
                    });
                }
                Reply::new(250, "2.1.5 Recipient OK")
            }
            Ok(None) => Reply::new(550, "5.1.1 <postmaster>: Recipient address rejected: User unknown"),
            Err(e) => {
                tracing::warn!(error = %e, "recipient lookup");
                Reply::new(451, "4.3.0 Temporary failure, try again later")
            }
        }
    }

    async fn read_data(&mut self, io: &mut Io) -> Result<(), End> {
        let mut spool = match self.start_spool().await {
            Ok(s) => s,
            Err(r) => {
                self.reply(r);
                return Ok(());
            }
        };
        self.reply(Reply::new(354, "Start mail input; end with <CRLF>.<CRLF>"));
        let mut dec = DataDecoder::new(self.config.max_text_line, self.config.max_message_size);
        // Only one read buffer's worth of decoded data at a time.
        let mut chunk = Vec::with_capacity(64 * 1024);
        loop {
            self.fill(io).await?;
            chunk.clear();
            let (n, end) = dec.feed(io.buffer(), &mut chunk);
            io.consume(n);
            if dec.flaws.any() {
                // The message will be refused: stop writing, keep reading.
                spool.discard();
            } else {
                spool.write(&chunk).await;
            }
            if end {
                break;
            }
        }
        let r = self.finish(spool, dec.flaws).await;
        self.reply(r);
        Ok(())
    }

    async fn read_bdat(&mut self, io: &mut Io, size: u64, last: bool) -> Result<(), End> {
        // RFC 3030 §2: the chunk is read in full even when it is refused.
        let mut chunk_ok = match &self.tx {
            None => Err(Reply::new(503, "5.5.1 Need MAIL and RCPT first")),
            Some(tx) if tx.env.recipients.is_empty() => Err(Reply::new(554, "5.5.1 No valid recipients")),
            Some(tx) => match &tx.bdat_failed {
                Some(r) => Err(r.clone()),
                None => Ok(()),
            },
        };
        if chunk_ok.is_ok() && self.tx.as_ref().is_some_and(|t| t.bdat.is_none()) {
            let started = self.start_spool().await;
            if let Some(tx) = &mut self.tx {
                match started {
                    Ok(spool) => tx.bdat = Some(spool),
                    Err(r) => {
                        tx.bdat_failed = Some(r.clone());
                        chunk_ok = Err(r);
                    }
                }
            }
        }
        let mut remaining = size;
        while remaining > 0 {
            let avail = self.fill(io).await?;
            let n = avail.min(usize::try_from(remaining).unwrap_or(usize::MAX));
            if chunk_ok.is_ok()
                && let Some(tx) = &mut self.tx
                && let Some(spool) = &mut tx.bdat
            {
                spool.write(&io.buffer()[..n]).await;
                if let Some(refusal) = spool.refused().cloned() {
                    let r = self.refusal_reply(&refusal);
                    if let Some(tx) = &mut self.tx {
                        tx.bdat_failed = Some(r.clone());
                    }
                    chunk_ok = Err(r);
                }
            }
            io.consume(n);
            remaining -= n as u64;
        }
        match chunk_ok {
            Err(r) => {
                if r.code == 503 || r.code == 554 {
                    self.bad(r);
                } else {
                    self.reply(r);
                }
                if last && self.tx.as_ref().is_some_and(|t| t.bdat_failed.is_some()) {
                    self.tx = None;
                }
                Ok(())
            }
            Ok(()) if !last => {
                self.reply(Reply::new(250, format!("2.0.0 {size} octets received")));
                Ok(())
            }
            Ok(()) => {
                let r = match self.tx.as_mut().and_then(|t| t.bdat.take()) {
                    Some(spool) => self.finish(spool, DataFlaws::default()).await,
                    None => Reply::new(503, "5.5.1 No transaction"),
                };
                self.reply(r);
                Ok(())
            }
        }
    }

    fn refusal_reply(&self, refusal: &Refusal) -> Reply {
        match refusal {
            Refusal::TooBig => Reply::new(552, "5.3.4 Message size exceeds fixed maximum message size"),
            Refusal::HeaderTooBig => Reply::new(
                552,
                format!(
                    "5.3.4 Header section too large (limit {} octets)",
                    self.config.max_header_size
                ),
            ),
            Refusal::Io(why) => {
                tracing::error!(peer = %self.peer, error = %why, "could not spool message");
                Reply::new(451, "4.3.0 Local error in processing, try again later")
            }
        }
    }

    /// Opens the blob the message of the current transaction streams into,
    /// with its trace fields first.
    async fn start_spool(&self) -> Result<Spool, Reply> {
        let Some(tx) = &self.tx else {
            return Err(Reply::new(503, "5.5.1 No transaction"));
        };
        let id = headers::unique_id();
        let with = match (self.esmtp, self.tls, self.auth.is_some()) {
            (false, _, _) => "SMTP",
            (true, false, false) => "ESMTP",
            (true, true, false) => "ESMTPS",
            (true, false, true) => "ESMTPA",
            (true, true, true) => "ESMTPSA",
        };
        let single = (tx.env.recipients.len() == 1).then(|| tx.env.recipients[0].address.clone());
        let received = headers::received(&headers::TraceInfo {
            helo: self.helo.as_deref().unwrap_or(""),
            peer_ip: self.peer.ip(),
            hostname: &self.ctx.hostname,
            with,
            id: &id,
            for_rcpt: single.as_deref(),
            tls: self.tls_version.as_deref(),
        });
        let local = tx.env.recipients.iter().any(|r| r.account.is_some());
        let spec = SpoolSpec {
            return_path: local.then(|| tx.env.sender.clone()),
            received,
            id,
            fixups: self.kind != SmtpListener::Mx,
            hostname: self.ctx.hostname.clone(),
            max_size: self.config.max_message_size,
            max_header: self.config.max_header_size,
        };
        Spool::start(&self.ctx.store, spec).await.map_err(|e| {
            tracing::error!(peer = %self.peer, error = %e, "cannot open a blob for the message");
            Reply::new(451, "4.3.0 Local error in processing, try again later")
        })
    }

    /// Ends the transaction: checks the message and commits it durably
    /// before the positive reply.
    async fn finish(&mut self, mut spool: Spool, flaws: DataFlaws) -> Reply {
        let Some(tx) = self.tx.take() else {
            spool.discard();
            return Reply::new(503, "5.5.1 No transaction");
        };
        if flaws.any() {
            spool.discard();
        }
        if flaws.too_big {
            return self.refusal_reply(&Refusal::TooBig);
        }
        if flaws.bare_cr_or_lf {
            return Reply::new(
                550,
                "5.6.11 Message contains bare CR or LF characters (RFC 5321 section 2.3.8), refused",
            );
        }
        if flaws.line_too_long {
            let text = format!(
                "5.5.2 Line too long (limit {} octets, RFC 5321 section 4.5.3.1.6)",
                self.config.max_text_line
            );
            return Reply::new(500, text);
        }
        let id = spool.id.clone();
        let spooled = match spool.finish().await {
            Ok(s) => s,
            Err(refusal) => return self.refusal_reply(&refusal),
        };
        let rcpts = tx.env.recipients.len();
        let sender = tx.env.sender.clone();
        match inbound::commit(&self.ctx, tx.env, spooled).await {
            Ok(()) => {
                tracing::info!(peer = %self.peer, %id, sender = %sender, rcpts, "message accepted");
                Reply::new(250, format!("2.0.0 Ok: queued as {id}"))
            }
            Err(e) => {
                tracing::error!(peer = %self.peer, error = %e, "could not commit message");
                Reply::new(451, "4.3.0 Local error in processing, try again later")
            }
        }
    }

    async fn authenticate(&mut self, io: &mut Io, mechanism: &str, initial: Option<String>) -> Result<(), End> {
        let Some(mut sasl) = SaslServer::new(mechanism) else {
            self.bad(Reply::new(504, "5.5.4 Unrecognized authentication type"));
            return Ok(());
        };
        let mut response = initial.unwrap_or_default().into_bytes();
        let mut line = Vec::new();
        loop {
            match sasl.step(&response) {
                SaslStep::Challenge(c) => {
                    self.out.extend_from_slice(format!("334 {c}\r\n").as_bytes());
                    self.flush(io).await?;
                    match tokio::time::timeout(self.read_timeout(), read_line_limited(io, &mut line, MAX_SASL_LINE))
                        .await
                    {
                        Err(_) => return Err(self.timed_out(io).await),
                        Ok(Err(_)) | Ok(Ok(LineRead::Eof)) => return Err(End::Closed),
                        Ok(Ok(LineRead::TooLong)) => {
                            self.bad(Reply::new(500, "5.5.6 Authentication exchange line is too long"));
                            return Ok(());
                        }
                        Ok(Ok(LineRead::Line)) => {}
                    }
                    // RFC 4954 §4: "*" cancels the exchange.
                    if line.trim_ascii() == b"*" {
                        self.bad(Reply::new(501, "5.7.0 Authentication cancelled"));
                        return Ok(());
                    }
                    response = line.clone();
                }
                SaslStep::Done { username, password } => {
                    let r = match self.ctx.auth.authenticate(&username, &password, self.peer.ip()).await {
                        Ok(user) => {
                            tracing::info!(peer = %self.peer, user = %user.address, "authenticated");
                            self.auth = Some(user);
                            Reply::new(235, "2.7.0 Authentication successful")
                        }
                        Err(AuthError::Failed) => {
                            self.bad_commands += 1;
                            Reply::new(535, "5.7.8 Authentication credentials invalid")
                        }
                        Err(AuthError::TooManyFailures) => Reply::new(454, "4.7.0 Too many failures, try again later"),
                        Err(AuthError::Unavailable(_)) => Reply::new(454, "4.7.0 Temporary authentication failure"),
                    };
                    self.reply(r);
                    return Ok(());
                }
                SaslStep::Failed(why) => {
                    self.bad(Reply::new(501, format!("5.5.2 {why}")));
                    return Ok(());
                }
            }
        }
    }
}

fn valid_notify(n: &str) -> bool {
    // RFC 3461 §4.1: NEVER alone, or a list of SUCCESS, FAILURE, DELAY.
    if n.eq_ignore_ascii_case("NEVER") {
        return true;
    }
    n.split(',').all(|w| {
        w.eq_ignore_ascii_case("SUCCESS") || w.eq_ignore_ascii_case("FAILURE") || w.eq_ignore_ascii_case("DELAY")
    })
}
