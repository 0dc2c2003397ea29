//! IDLE (RFC 2177, RFC 9051 §6.3.13): report changes as they happen until
//! the client sends DONE.
use std::time::Duration;

use mailroom_net::Shutdown;

use super::Session;
use super::io::{Io, LineError};
use super::reply::Reply;

pub(crate) enum IdleEnd {
    /// DONE received (or a bad line answered); carry on.
    Done,
    /// Say the buffered goodbye and close.
    Close,
    /// The connection is gone.
    Gone,
}

impl Session {
    pub(crate) async fn idle(&mut self, io: &mut Io, tag: &str, shutdown: &Shutdown) -> IdleEnd {
        // Changes committed in this process wake us at once; other
        // processes (the CLI) are caught by polling.
        let mut watch = self.ctx.store.watch_changes(self.account_id());
        watch.borrow_and_update();
        let poll = Duration::from_secs(self.cfg.idle_poll_secs.max(1));
        // RFC 9051 §5.4: the autologout timer restarts with each command;
        // IDLE clients re-issue IDLE well within 30 minutes.
        let deadline = tokio::time::Instant::now() + self.timeout();
        self.sync_due = true;
        if self.selected.is_some()
            && let Err(e) = self.refresh(true).await
        {
            tracing::warn!(error = %e, "imap: refresh failed");
        }
        self.out.extend_from_slice(b"+ idling\r\n");
        loop {
            if io.write(&std::mem::take(&mut self.out)).await.is_err() {
                return IdleEnd::Gone;
            }
            // A line may already be buffered (DONE pipelined).
            if let Some(line) = io.framer.raw_line() {
                return self.idle_line(tag, line.map_err(LineError::from));
            }
            tokio::select! {
                () = shutdown.wait() => {
                    self.untagged("BYE Server shutting down");
                    return IdleEnd::Close;
                }
                () = tokio::time::sleep_until(deadline) => {
                    self.untagged("BYE Autologout; idle for too long");
                    return IdleEnd::Close;
                }
                r = io.read_more() => match r {
                    Ok(0) | Err(_) => return IdleEnd::Gone,
                    Ok(_) => continue,
                },
                changed = watch.changed() => {
                    if changed.is_err() {
                        // The notifier went away; fall back to polling.
                        tokio::time::sleep(poll).await;
                    }
                }
                () = tokio::time::sleep(poll) => {}
            }
            // Woken or polling: read the store (other processes do not
            // signal).
            self.sync_due = true;
            if self.selected.is_some()
                && let Err(e) = self.refresh(true).await
            {
                tracing::warn!(error = %e, "imap: refresh failed");
            }
            if self.closing {
                return IdleEnd::Close;
            }
        }
    }

    fn idle_line(&mut self, tag: &str, line: Result<Vec<u8>, LineError>) -> IdleEnd {
        match line {
            Ok(l) if l.eq_ignore_ascii_case(b"DONE") => {
                self.finish(tag, "IDLE", Reply::ok("IDLE terminated"));
                IdleEnd::Done
            }
            Ok(_) => {
                self.finish(tag, "IDLE", Reply::bad("Expected DONE"));
                IdleEnd::Done
            }
            Err(_) => {
                self.finish(tag, "IDLE", Reply::bad("Line too long"));
                IdleEnd::Done
            }
        }
    }
}
