//! Which protocol serves which listener.
use std::sync::Arc;

use anyhow::Result;
use mailroom_net::ServerContext;
use tokio::task::JoinSet;

use crate::config::Config;
use crate::serve::bind_listener;

pub async fn start(cfg: &Config, ctx: &Arc<ServerContext>, tasks: &mut JoinSet<()>) -> Result<()> {
    let l = &cfg.listen;
    // Bind every configured address up front so a port in use fails the start.
    let all = [
        ("smtp", l.smtp),
        ("submission", l.submission),
        ("submissions", l.submissions),
        ("imap", l.imap),
        ("imaps", l.imaps),
        ("pop3", l.pop3),
        ("pop3s", l.pop3s),
    ];
    for (name, addr) in all {
        if let Some(listener) = bind_listener(name, addr).await? {
            tracing::info!(protocol = name, addr = %listener.local_addr()?, "listening");
            // Protocols land one by one; until one serves this listener it
            // stays bound (the port is ours) but nothing is accepted.
            tracing::warn!(protocol = name, "no server for this protocol in this build yet");
            let shutdown = ctx.shutdown.clone();
            tasks.spawn(async move {
                shutdown.wait().await;
                drop(listener);
            });
        }
    }
    Ok(())
}
