//! Which protocol serves which listener.
use std::sync::Arc;

use anyhow::Result;
use mailroom_net::ServerContext;
use mailroom_net::listener::TlsMode;
use tokio::task::JoinSet;

use crate::config::Config;
use crate::serve::bind_listener;

pub async fn start(cfg: &Config, ctx: &Arc<ServerContext>, tasks: &mut JoinSet<()>) -> Result<()> {
    let l = &cfg.listen;
    // Bind every configured address before serving any, so a port in use
    // fails the start instead of leaving a half-running server.
    let mut bound = Vec::new();
    for (name, addr) in [
        ("smtp", l.smtp),
        ("submission", l.submission),
        ("submissions", l.submissions),
        ("imap", l.imap),
        ("imaps", l.imaps),
        ("pop3", l.pop3),
        ("pop3s", l.pop3s),
    ] {
        if let Some(listener) = bind_listener(name, addr).await? {
            tracing::info!(protocol = name, addr = %listener.local_addr()?, "listening");
            bound.push((name, listener));
        }
    }
    let imap = Arc::new(cfg.imap.clone());
    let pop3 = Arc::new(cfg.pop3.clone());
    for (name, listener) in bound {
        let ctx = ctx.clone();
        match name {
            "imap" => tasks.spawn(mailroom_imap::serve(ctx, listener, TlsMode::Plain, imap.clone())),
            "imaps" => tasks.spawn(mailroom_imap::serve(ctx, listener, TlsMode::Implicit, imap.clone())),
            "pop3" => tasks.spawn(mailroom_pop3::serve(ctx, listener, TlsMode::Plain, pop3.clone())),
            "pop3s" => tasks.spawn(mailroom_pop3::serve(ctx, listener, TlsMode::Implicit, pop3.clone())),
            _ => {
                // Protocols land one by one; until one serves this listener
                // it stays bound (the port is ours) but accepts nothing.
                tracing::warn!(protocol = name, "no server for this protocol in this build yet");
                let shutdown = ctx.shutdown.clone();
                tasks.spawn(async move {
                    shutdown.wait().await;
                    drop(listener);
                })
            }
        };
    }
    Ok(())
}
