//! One IMAP connection: the state machine of RFC 9051 §3 driving the
//! sans-I/O core over the stream, and the store behind it.
//!
//! Command areas live in their own files, each an `impl Session` block.
mod append;
mod auth;
pub mod config;
mod copy_move;
mod expunge;
mod fetch;
mod fixup_cache;
mod idle;
mod io;
mod list;
mod mailbox;
pub mod out;
pub mod reply;
pub mod search;
mod store;
pub mod view;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mailroom_net::{AuthedUser, Connection, ServerContext};
use mailroom_store::{Store, StoreError};

use crate::command::{Command, CommandBody};
use crate::framing::{Event, Framer, FramerConfig, LiteralKind, LiteralRequest};
pub use config::ImapConfig;
use io::{Io, LineError};
use reply::{Reply, Status};
use view::{Update, View};

/// Runs a blocking store call off the async runtime.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(StoreError::Commit(format!("store task failed: {e}"))))
}

/// What the connection loop must do after a command.
pub(crate) enum Next {
    Continue,
    /// Send the buffered output, then close.
    Close,
    /// STARTTLS accepted: send the OK, then negotiate.
    StartTls,
    /// AUTHENTICATE: run the SASL exchange.
    Authenticate {
        mechanism: String,
        initial: Option<Vec<u8>>,
    },
    /// IDLE: `+ idling` and wait for DONE.
    Idle,
}

/// Login must happen within this many `preauth_timeout_secs`.
const PREAUTH_DEADLINE_FACTOR: u32 = 5;

pub(crate) struct Session {
    pub(crate) ctx: Arc<ServerContext>,
    pub(crate) cfg: Arc<ImapConfig>,
    pub(crate) peer: SocketAddr,
    pub(crate) tls: bool,
    pub(crate) user: Option<AuthedUser>,
    pub(crate) selected: Option<View>,
    /// The account's in-process change signal, marked seen just before the
    /// last store read of the selected mailbox (see `refresh`).
    pub(crate) changes: Option<tokio::sync::watch::Receiver<u64>>,
    /// The account MODSEQ the channel showed when it was last marked seen.
    pub(crate) seen_modseq: u64,
    /// When the selected mailbox was last read from the store.
    pub(crate) synced_at: Option<std::time::Instant>,
    /// The next refresh must read the store (NOOP, IDLE polling).
    pub(crate) sync_due: bool,
    /// `ENABLE IMAP4rev2` was accepted: rev2 semantics, UTF-8 names.
    pub(crate) rev2: bool,
    /// Untagged responses waiting to be sent.
    pub(crate) out: Vec<u8>,
    pub(crate) bad_in_row: u32,
    /// When the connection was accepted (the pre-login deadline).
    pub(crate) connected_at: std::time::Instant,
    pub(crate) appending: Option<append::Appending>,
    /// A BYE was queued: close after sending it.
    pub(crate) closing: bool,
}

impl Session {
    pub(crate) fn new(ctx: Arc<ServerContext>, cfg: Arc<ImapConfig>, peer: SocketAddr, tls: bool) -> Session {
        Session {
            ctx,
            cfg,
            peer,
            tls,
            user: None,
            selected: None,
            changes: None,
            seen_modseq: 0,
            synced_at: None,
            sync_due: false,
            rev2: false,
            out: Vec::new(),
            bad_in_row: 0,
            connected_at: std::time::Instant::now(),
            appending: None,
            closing: false,
        }
    }

    pub(crate) fn store(&self) -> Store {
        self.ctx.store.clone()
    }

    pub(crate) fn account_id(&self) -> i64 {
        self.user.as_ref().map(|u| u.account_id).unwrap_or(0)
    }

    /// Mailbox names travel as UTF-8 once IMAP4rev2 is enabled.
    pub(crate) fn utf8(&self) -> bool {
        self.rev2
    }

    pub(crate) fn untagged(&mut self, line: &str) {
        self.out.extend_from_slice(b"* ");
        self.out.extend_from_slice(line.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    pub(crate) fn plaintext_ok(&self) -> bool {
        self.ctx.plaintext_auth_allowed(&self.peer, self.tls)
    }

    pub(crate) fn timeout(&self) -> Duration {
        if self.user.is_some() {
            Duration::from_secs(self.cfg.idle_timeout_secs.max(30 * 60))
        } else {
            // Each silence before login may last preauth_timeout_secs, and
            // login must happen within a few of them in all: otherwise a
            // NOOP a minute holds a connection slot forever.
            let total = Duration::from_secs(self.cfg.preauth_timeout_secs) * PREAUTH_DEADLINE_FACTOR;
            Duration::from_secs(self.cfg.preauth_timeout_secs).min(total.saturating_sub(self.connected_at.elapsed()))
        }
    }

    /// Runs one parsed command; the tagged reply goes to `self.out`.
    pub(crate) async fn execute(&mut self, cmd: Command, io: &mut Io) -> Next {
        let Command { tag, body } = cmd;
        let name = body.name();
        // RFC 9051 §7.5.1: no EXPUNGE while answering FETCH, STORE or
        // SEARCH; their UID forms are fine.
        let allow_expunge = !matches!(&body,
            CommandBody::Fetch(f) if !f.uid)
            && !matches!(&body, CommandBody::Store(s) if !s.uid)
            && !matches!(&body, CommandBody::Search(s) if !s.uid);
        // Commands that read or change messages see the latest state.
        let touches_messages = matches!(
            &body,
            CommandBody::Fetch(_)
                | CommandBody::Store(_)
                | CommandBody::Search(_)
                | CommandBody::Copy { .. }
                | CommandBody::Move { .. }
                | CommandBody::Expunge
                | CommandBody::UidExpunge(_)
        );
        // Before a command that names messages by sequence number, no
        // EXPUNGE: the numbers the client sent refer to the state it knows.
        let pre_allow = match &body {
            CommandBody::Copy { uid, .. } | CommandBody::Move { uid, .. } => *uid,
            _ => allow_expunge,
        };
        if touches_messages
            && self.selected.is_some()
            && let Err(e) = self.refresh(pre_allow).await
        {
            tracing::warn!(error = %e, "imap: refresh failed");
        }
        let (reply, next) = self.dispatch(&tag, body, io).await;
        let Some(reply) = reply else {
            return next;
        };
        self.complete(&tag, name, reply, allow_expunge).await;
        next
    }

    /// Sends pending changes of the selected mailbox, then the tagged reply.
    pub(crate) async fn complete(&mut self, tag: &str, name: &str, reply: Reply, allow_expunge: bool) {
        if self.selected.is_some()
            && let Err(e) = self.refresh(allow_expunge).await
        {
            tracing::warn!(error = %e, "imap: refresh failed");
        }
        self.finish(tag, name, reply);
    }

    /// Writes the tagged reply and keeps the count of BADs in a row.
    pub(crate) fn finish(&mut self, tag: &str, name: &str, reply: Reply) {
        if reply.status == Status::Bad {
            self.bad_in_row += 1;
        } else {
            self.bad_in_row = 0;
        }
        let reply = if reply.text.is_empty() {
            Reply {
                text: format!("{name} completed"),
                ..reply
            }
        } else {
            reply
        };
        reply.write(tag, &mut self.out);
    }

    async fn dispatch(&mut self, tag: &str, body: CommandBody, io: &mut Io) -> (Option<Reply>, Next) {
        use CommandBody as C;
        let authed = self.user.is_some();
        let selected = self.selected.is_some();
        // RFC 9051 §6: commands valid only in some states.
        let state_error = match &body {
            C::Capability | C::Noop | C::Logout | C::Id(_) => None,
            C::StartTls | C::Authenticate { .. } | C::Login { .. } if authed => Some("Already authenticated"),
            C::StartTls | C::Authenticate { .. } | C::Login { .. } => None,
            _ if !authed => Some("Not authenticated"),
            C::Check
            | C::Close
            | C::Unselect
            | C::Expunge
            | C::UidExpunge(_)
            | C::Search(_)
            | C::Fetch(_)
            | C::Store(_)
            | C::Copy { .. }
            | C::Move { .. }
                if !selected =>
            {
                Some("No mailbox selected")
            }
            _ => None,
        };
        if let Some(why) = state_error {
            return (Some(Reply::bad(why)), Next::Continue);
        }
        let reply = match body {
            C::Capability => self.cmd_capability(),
            C::Noop | C::Check => self.cmd_noop().await,
            C::Logout => {
                self.untagged("BYE Logging out");
                self.finish(tag, "LOGOUT", Reply::ok(""));
                return (None, Next::Close);
            }
            C::Id(_) => self.cmd_id(),
            C::StartTls => {
                if self.tls {
                    Reply::bad("TLS is already active")
                } else {
                    self.finish(tag, "STARTTLS", Reply::ok("Begin TLS negotiation now"));
                    return (None, Next::StartTls);
                }
            }
            C::Authenticate {
                mechanism,
                initial_response,
            } => {
                return (
                    None,
                    Next::Authenticate {
                        mechanism,
                        initial: initial_response,
                    },
                );
            }
            C::Login { username, password } => self.cmd_login(username, password).await,
            C::Enable(caps) => self.cmd_enable(caps),
            C::Select { mailbox, params } => self.cmd_select(mailbox, params, false).await,
            C::Examine { mailbox, params } => self.cmd_select(mailbox, params, true).await,
            C::Create { mailbox, special_use } => self.cmd_create(mailbox, special_use).await,
            C::Delete { mailbox } => self.cmd_delete(mailbox).await,
            C::Rename { from, to } => self.cmd_rename(from, to).await,
            C::Subscribe { mailbox } => self.cmd_subscribe(mailbox, true).await,
            C::Unsubscribe { mailbox } => self.cmd_subscribe(mailbox, false).await,
            C::List(l) => self.cmd_list(l).await,
            C::Lsub { reference, pattern } => self.cmd_lsub(reference, pattern).await,
            C::Namespace => {
                // RFC 2342: one personal namespace, no others.
                self.untagged("NAMESPACE ((\"\" \"/\")) NIL NIL");
                Reply::ok("")
            }
            C::Status { mailbox, items } => self.cmd_status(mailbox, items).await,
            C::Append { mailbox, messages } => self.cmd_append_buffered(mailbox, messages).await,
            C::Idle => {
                if authed {
                    return (None, Next::Idle);
                }
                Reply::bad("Not authenticated")
            }
            C::Close => self.cmd_close().await,
            C::Unselect => {
                self.selected = None;
                Reply::ok("")
            }
            C::Expunge => self.cmd_expunge(None).await,
            C::UidExpunge(set) => self.cmd_expunge(Some(set)).await,
            C::Search(s) => self.cmd_search(tag, s).await,
            C::Fetch(f) => self.cmd_fetch(f, io).await,
            C::Store(s) => self.cmd_store(s).await,
            C::Copy { uid, set, mailbox } => self.cmd_copy_move(uid, set, mailbox, false).await,
            C::Move { uid, set, mailbox } => self.cmd_copy_move(uid, set, mailbox, true).await,
        };
        (Some(reply), Next::Continue)
    }

    /// Brings the selected view up to date and queues the untagged
    /// responses. `allow_expunge` is false during FETCH, STORE and SEARCH
    /// (RFC 9051 §7.5.1), which would otherwise shift sequence numbers
    /// under the client's feet.
    pub(crate) async fn refresh(&mut self, allow_expunge: bool) -> Result<(), StoreError> {
        if self.selected.is_none() {
            return Ok(());
        }
        // Every commit of this process is announced on the account's watch
        // channel after it is durable, so when the channel has nothing new
        // since our last read, the store has nothing new for us either and
        // the read (a blocking hop and three queries) is skipped. Other
        // processes (the CLI) do not signal: their changes are picked up
        // by the read that NOOP forces, or once `idle_poll_secs` have
        // passed since the last read, as IDLE polls.
        let poll = Duration::from_secs(self.cfg.idle_poll_secs.max(1));
        let current = !std::mem::take(&mut self.sync_due)
            && self.synced_at.is_some_and(|t| t.elapsed() < poll)
            && self
                .changes
                .as_ref()
                .is_some_and(|w| matches!(w.has_changed(), Ok(false)));
        if current {
            // Only expunges deferred by an earlier command may be due.
            if allow_expunge && let Some(view) = self.selected.as_mut() {
                let updates = view.flush_expunges();
                self.write_updates(updates);
            }
            return Ok(());
        }
        // Marked seen before reading: a commit announced from now on is
        // either in this read or flags the channel again.
        if let Some(w) = self.changes.as_mut() {
            self.seen_modseq = *w.borrow_and_update();
        }
        let started = std::time::Instant::now();
        let Some(view) = self.selected.as_ref() else {
            return Ok(());
        };
        let store = self.store();
        let mailbox = view.mailbox.id;
        let known = view.known_modseq;
        let claim = !view.read_only && !self.rev2;
        let uidnext = view.uidnext;
        let result = blocking(move || {
            let changes = store.changes_since(mailbox, known)?;
            let claimed = if claim && changes.uidnext > uidnext {
                Some(store.claim_recent_range(mailbox)?)
            } else {
                None
            };
            Ok((changes, claimed))
        })
        .await;
        let (changes, claimed) = match result {
            Ok(r) => r,
            Err(StoreError::NotFound(_)) => {
                // Another session deleted the mailbox: sequence numbers
                // mean nothing any more, so end the session as Dovecot
                // does rather than leave the client guessing.
                self.selected = None;
                self.untagged("BYE Selected mailbox was deleted");
                self.closing = true;
                return Ok(());
            }
            Err(e) => {
                // Nothing was read: the next refresh must try again.
                self.sync_due = true;
                return Err(e);
            }
        };
        let Some(view) = self.selected.as_mut() else {
            return Ok(());
        };
        let updates = view.apply(changes, claimed, allow_expunge);
        self.synced_at = Some(started);
        self.write_updates(updates);
        Ok(())
    }

    /// This session's own flag change committed as account MODSEQ
    /// `modseq`, already applied to the view. If it is the only change
    /// since the channel was last marked seen (the MODSEQ moved by exactly
    /// one, to ours), there is nothing else to read: mark it seen so the
    /// refresh after the command does not go to the store.
    pub(crate) fn own_change(&mut self, modseq: u64) {
        if let Some(w) = self.changes.as_mut()
            && self.seen_modseq + 1 == modseq
            && *w.borrow() == modseq
        {
            w.borrow_and_update();
            self.seen_modseq = modseq;
        }
    }

    pub(crate) fn write_updates(&mut self, updates: Vec<Update>) {
        for u in updates {
            match u {
                Update::Expunge(n) => self.untagged(&format!("{n} EXPUNGE")),
                Update::Exists(n) => self.untagged(&format!("{n} EXISTS")),
                Update::Keywords(k) => self.write_flags_announcement(&k, false),
                Update::Recent(n) => {
                    if !self.rev2 {
                        self.untagged(&format!("{n} RECENT"));
                    }
                }
                Update::Flags {
                    seq,
                    uid,
                    flags,
                    recent,
                } => {
                    let mut line = format!("* {seq} FETCH (UID {uid} FLAGS ").into_bytes();
                    out::flag_list(&mut line, &flags, recent && !self.rev2);
                    line.extend_from_slice(b")\r\n");
                    self.out.extend_from_slice(&line);
                }
            }
        }
    }

    /// `* FLAGS (...)` and, read-write, `* OK [PERMANENTFLAGS (... \*)]`.
    pub(crate) fn write_flags_announcement(&mut self, keywords: &[String], read_only: bool) {
        let mut flags = String::from("\\Answered \\Flagged \\Deleted \\Seen \\Draft");
        for k in keywords {
            flags.push(' ');
            flags.push_str(k);
        }
        self.untagged(&format!("FLAGS ({flags})"));
        if read_only {
            self.untagged("OK [PERMANENTFLAGS ()] Read-only mailbox");
        } else {
            self.untagged(&format!("OK [PERMANENTFLAGS ({flags} \\*)] Flags permitted"));
        }
    }

    /// NOOP and CHECK: the refresh after every command does the work.
    async fn cmd_noop(&mut self) -> Reply {
        // The client polls: read the store even if nothing signalled, so
        // changes by other processes show at once.
        self.sync_due = true;
        Reply::ok("")
    }
}

/// Why the connection loop stopped reading.
enum Wait {
    Input,
    Eof,
    Timeout,
    Shutdown,
}

/// Serves one connection until LOGOUT, EOF, timeout or shutdown.
pub async fn run(ctx: Arc<ServerContext>, cfg: Arc<ImapConfig>, conn: Connection) {
    let Connection {
        stream,
        peer,
        tls_acceptor,
        shutdown,
        ..
    } = conn;
    let tls = stream.is_tls();
    let framer_cfg = FramerConfig {
        max_line: cfg.max_line,
        max_command: cfg.max_command.max(cfg.max_line),
        max_inline_literal: cfg.max_literal,
        literal_minus: false,
    };
    let mut io = Io {
        stream,
        framer: Framer::new(framer_cfg),
    };
    let mut s = Session::new(ctx, cfg, peer, tls);
    let greeting = format!("* OK [CAPABILITY {}] Mailroom IMAP server ready\r\n", s.capabilities());
    if io.write(greeting.as_bytes()).await.is_err() {
        return;
    }
    loop {
        let step = next_step(&mut s, &mut io).await;
        match step {
            Step::Continue => {}
            Step::Close => break,
            Step::NeedInput => {
                if io.write(&std::mem::take(&mut s.out)).await.is_err() {
                    return;
                }
                let timeout = s.timeout();
                let wait = tokio::select! {
                    () = shutdown.wait() => Wait::Shutdown,
                    r = tokio::time::timeout(timeout, io.read_more()) => match r {
                        Err(_) => Wait::Timeout,
                        Ok(Ok(0)) | Ok(Err(_)) => Wait::Eof,
                        Ok(Ok(_)) => Wait::Input,
                    },
                };
                match wait {
                    Wait::Input => {}
                    Wait::Eof => return,
                    Wait::Timeout => {
                        s.untagged("BYE Autologout; idle for too long");
                        break;
                    }
                    Wait::Shutdown => {
                        s.untagged("BYE Server shutting down");
                        break;
                    }
                }
            }
            Step::StartTls => {
                if io.write(&std::mem::take(&mut s.out)).await.is_err() {
                    return;
                }
                // RFC 9051 §6.2.1 / CVE-2011-0411: anything the client
                // pipelined after STARTTLS was sent in the clear; drop it.
                let pipelined = io.framer.take_buffered();
                if !pipelined.is_empty() {
                    tracing::info!(peer = %s.peer, "imap: discarding plaintext pipelined after STARTTLS");
                }
                match io.stream.upgrade(&tls_acceptor).await {
                    Ok(stream) => {
                        io.stream = stream;
                        s.tls = true;
                    }
                    Err(e) => {
                        tracing::info!(peer = %s.peer, error = %e, "imap: STARTTLS handshake failed");
                        return;
                    }
                }
            }
            Step::Authenticate {
                tag,
                mechanism,
                initial,
            } => {
                if io.write(&std::mem::take(&mut s.out)).await.is_err() {
                    return;
                }
                match s.cmd_authenticate(&mut io, &mechanism, initial).await {
                    Ok(reply) => s.finish(&tag, "AUTHENTICATE", reply),
                    Err(LineError::TooLong) => s.finish(&tag, "AUTHENTICATE", Reply::bad("Line too long")),
                    Err(LineError::Io(e)) => {
                        tracing::debug!(error = %e, "imap: connection lost during AUTHENTICATE");
                        return;
                    }
                    Err(LineError::Eof) => return,
                }
            }
            Step::Idle { tag } => {
                if io.write(&std::mem::take(&mut s.out)).await.is_err() {
                    return;
                }
                match s.idle(&mut io, &tag, &shutdown).await {
                    idle::IdleEnd::Done => {}
                    idle::IdleEnd::Close => break,
                    idle::IdleEnd::Gone => return,
                }
            }
        }
        if s.closing {
            break;
        }
        if s.bad_in_row >= s.cfg.max_bad_commands.max(1) {
            s.untagged("BYE Too many invalid commands");
            break;
        }
    }
    let _ = io.write(&std::mem::take(&mut s.out)).await;
    let _ = tokio::io::AsyncWriteExt::shutdown(&mut io.stream).await;
}

enum Step {
    Continue,
    NeedInput,
    Close,
    StartTls,
    Authenticate {
        tag: String,
        mechanism: String,
        initial: Option<Vec<u8>>,
    },
    Idle {
        tag: String,
    },
}

/// Handles the framer's next event.
async fn next_step(s: &mut Session, io: &mut Io) -> Step {
    // Copy what the event borrows from the framer before acting on it.
    enum Owned {
        Command(Command),
        Bad(Option<String>, String),
        Fatal(Option<String>, String),
        Literal(LiteralRequest),
        DataWritten,
        LiteralEnd,
        AppendEnd(String),
    }
    let ev = match io.framer.next_event() {
        None => return Step::NeedInput,
        Some(Event::Command(c)) => Owned::Command(c),
        Some(Event::Bad(e)) => Owned::Bad(e.tag, e.reason),
        Some(Event::Fatal(e)) => Owned::Fatal(e.tag, e.reason),
        Some(Event::LiteralRequest(r)) => Owned::Literal(r),
        Some(Event::LiteralData(d)) => {
            s.append_data(d);
            Owned::DataWritten
        }
        Some(Event::LiteralEnd) => Owned::LiteralEnd,
        Some(Event::AppendEnd { tag }) => Owned::AppendEnd(tag),
    };
    match ev {
        Owned::Command(cmd) => {
            let tag = cmd.tag.clone();
            let next = s.execute(cmd, io).await;
            io.framer.set_utf8(s.utf8());
            match next {
                Next::Continue => Step::Continue,
                Next::Close => Step::Close,
                Next::StartTls => Step::StartTls,
                Next::Authenticate { mechanism, initial } => Step::Authenticate {
                    tag,
                    mechanism,
                    initial,
                },
                Next::Idle => Step::Idle { tag },
            }
        }
        Owned::Bad(tag, reason) => {
            if s.appending.is_some() {
                s.append_abort();
            }
            let tag = tag.unwrap_or_else(|| "*".into());
            s.finish(&tag, "", Reply::bad(reason));
            Step::Continue
        }
        Owned::Fatal(tag, reason) => {
            s.append_abort();
            let tag = tag.unwrap_or_else(|| "*".into());
            s.finish(&tag, "", Reply::bad(reason));
            s.untagged("BYE Cannot continue this connection");
            Step::Close
        }
        Owned::Literal(req) => match req.kind {
            LiteralKind::Inline => {
                if let Some(cont) = io.framer.accept_literal() {
                    s.out.extend_from_slice(cont);
                    if io.write(&std::mem::take(&mut s.out)).await.is_err() {
                        return Step::Close;
                    }
                }
                Step::Continue
            }
            LiteralKind::Append(start) => match s.append_literal(start, req.size, req.sync).await {
                append::LiteralDecision::Accept => {
                    if let Some(cont) = io.framer.accept_literal() {
                        s.out.extend_from_slice(cont);
                        if io.write(&std::mem::take(&mut s.out)).await.is_err() {
                            return Step::Close;
                        }
                    }
                    Step::Continue
                }
                append::LiteralDecision::Reject(reply) => {
                    io.framer.reject_literal();
                    s.append_abort();
                    s.finish(&req.tag, "APPEND", reply);
                    Step::Continue
                }
                append::LiteralDecision::RejectClose(reply) => {
                    s.append_abort();
                    s.finish(&req.tag, "APPEND", reply);
                    s.untagged("BYE Literal refused, cannot continue");
                    Step::Close
                }
            },
        },
        Owned::DataWritten => Step::Continue,
        Owned::LiteralEnd => {
            s.append_literal_end().await;
            Step::Continue
        }
        Owned::AppendEnd(tag) => {
            let reply = s.append_commit().await;
            s.complete(&tag, "APPEND", reply, true).await;
            Step::Continue
        }
    }
}
