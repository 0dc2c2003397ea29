//! Which protocol serves which listener.
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Result;
use mailroom_net::ServerContext;
use mailroom_net::listener::TlsMode;
use mailroom_smtp::SmtpListener;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::config::Config;
use crate::serve::bind_listener;

#[derive(Clone, Copy)]
enum Service {
    Smtp(SmtpListener),
    Imap(TlsMode),
    Pop3(TlsMode),
}

pub async fn start(cfg: &Config, ctx: &Arc<ServerContext>, tasks: &mut JoinSet<()>) -> Result<()> {
    let l = &cfg.listen;
    let wanted: [(&str, Option<SocketAddr>, Service); 7] = [
        ("smtp", l.smtp, Service::Smtp(SmtpListener::Mx)),
        ("submission", l.submission, Service::Smtp(SmtpListener::Submission)),
        ("submissions", l.submissions, Service::Smtp(SmtpListener::Submissions)),
        ("imap", l.imap, Service::Imap(TlsMode::Plain)),
        ("imaps", l.imaps, Service::Imap(TlsMode::Implicit)),
        ("pop3", l.pop3, Service::Pop3(TlsMode::Plain)),
        ("pop3s", l.pop3s, Service::Pop3(TlsMode::Implicit)),
    ];
    // Bind every configured address before serving any, so a port in use
    // fails the start instead of leaving a half-running server.
    let mut bound: Vec<(Service, TcpListener)> = Vec::new();
    for (name, addr, service) in wanted {
        if let Some(listener) = bind_listener(name, addr).await? {
            tracing::info!(protocol = name, addr = %listener.local_addr()?, "listening");
            bound.push((service, listener));
        }
    }
    let smtp = Arc::new(cfg.smtp.clone());
    let imap = Arc::new(cfg.imap.clone());
    let pop3 = Arc::new(cfg.pop3.clone());
    for (service, listener) in bound {
        let ctx = ctx.clone();
        match service {
            Service::Smtp(kind) => tasks.spawn(mailroom_smtp::serve(ctx, listener, kind, smtp.clone())),
            Service::Imap(mode) => tasks.spawn(mailroom_imap::serve(ctx, listener, mode, imap.clone())),
            Service::Pop3(mode) => tasks.spawn(mailroom_pop3::serve(ctx, listener, mode, pop3.clone())),
        };
    }
    // The outbound queue runs whatever listeners exist: bounces and retried
    // local deliveries go through it too.
    tasks.spawn(mailroom_smtp::run_queue(ctx.clone(), Arc::new(cfg.delivery.clone())));
    Ok(())
}
