//! Two Mailroom instances on loopback (a.test and b.test) routing to each
//! other with `[delivery.routes]`: delivery, DSNs, retries.
mod common;

use std::net::SocketAddr;

use common::{Client, Opts, Server, b64, eventually};
use mailroom_smtp::DeliveryConfig;

fn reserve_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

fn delivery(routes: &[(&str, SocketAddr)]) -> DeliveryConfig {
    let mut d = DeliveryConfig {
        retry_base_secs: 1,
        retry_max_secs: 1,
        poll_interval_secs: 1,
        connect_timeout_secs: 5,
        command_timeout_secs: 10,
        ..Default::default()
    };
    for (dom, addr) in routes {
        d.routes.insert(dom.to_string(), addr.to_string());
    }
    d
}

fn opts(domain: &str, user: &str, d: DeliveryConfig) -> Opts {
    Opts {
        hostname: format!("mx.{domain}"),
        domain: domain.into(),
        users: vec![(format!("{user}@{domain}"), format!("{user}-pw"))],
        delivery: Some(d),
        ..Default::default()
    }
}

async fn submit(s: &Server, user: &str, pw: &str, rcpts: &[&str], body: &str) {
    let mut c = Client::connect(s.submission).await;
    c.cmd("EHLO client.test").await;
    c.ok(&format!("AUTH PLAIN {}", b64(&format!("\0{user}\0{pw}"))), "235")
        .await;
    c.ok(&format!("MAIL FROM:<{user}>"), "250").await;
    for r in rcpts {
        let arg = if r.starts_with('<') {
            r.to_string()
        } else {
            format!("<{r}>")
        };
        c.ok(&format!("RCPT TO:{arg}"), "250").await;
    }
    c.ok("DATA", "354").await;
    c.send(format!("Subject: test\r\n\r\n{body}\r\n.\r\n").as_bytes()).await;
    let r = c.reply().await;
    assert!(r.starts_with("250 2.0.0"), "{r}");
    c.ok("QUIT", "221").await;
}

async fn queue_len(s: &Server) -> usize {
    let store = s.ctx.store.clone();
    tokio::task::spawn_blocking(move || store.queue_list().unwrap().len())
        .await
        .unwrap()
}

#[tokio::test]
async fn route_delivers_and_unknown_user_bounces_to_local_sender() {
    let b_addr = reserve_port();
    let a = Server::start(opts("a.test", "alice", delivery(&[("b.test", b_addr)]))).await;
    let b = Server::start(Opts {
        mx_addr: Some(b_addr),
        ..opts("b.test", "bob", delivery(&[("a.test", a.mx)]))
    })
    .await;
    submit(
        &a,
        "alice@a.test",
        "alice-pw",
        &["bob@b.test", "nobody@b.test"],
        "cross-domain hello",
    )
    .await;

    assert!(eventually(20, || async { b.inbox("bob@b.test").await.len() == 1 }).await);
    let m = String::from_utf8(b.inbox("bob@b.test").await.remove(0)).unwrap();
    assert!(
        m.starts_with("Return-Path: <alice@a.test>\r\nReceived: from mx.a.test"),
        "{m}"
    );
    assert!(m.contains("by mx.a.test"), "{m}");
    // A used opportunistic STARTTLS towards B.
    assert!(m.contains("by mx.b.test (Mailroom) with ESMTPS"), "{m}");
    assert!(m.contains("cross-domain hello"));

    // B refused nobody@b.test at RCPT: A reports it to alice with a DSN.
    assert!(eventually(20, || async { a.inbox("alice@a.test").await.len() == 1 }).await);
    let dsn = String::from_utf8(a.inbox("alice@a.test").await.remove(0)).unwrap();
    assert!(dsn.starts_with("Return-Path: <>\r\n"), "{dsn}");
    assert!(dsn.contains("multipart/report"), "{dsn}");
    assert!(dsn.contains("Final-Recipient: rfc822; nobody@b.test"), "{dsn}");
    assert!(dsn.contains("Status: 5.1.1"), "{dsn}");
    assert!(dsn.contains("Remote-MTA: dns; 127.0.0.1"), "{dsn}");
    assert!(dsn.contains("cross-domain hello"), "{dsn}");
    assert!(eventually(10, || async { queue_len(&a).await == 0 }).await);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn retries_until_the_next_hop_comes_back() {
    let b_addr = reserve_port();
    let a = Server::start(opts("a.test", "alice", delivery(&[("b.test", b_addr)]))).await;
    submit(&a, "alice@a.test", "alice-pw", &["bob@b.test"], "patience").await;
    // B is down: the attempt fails and is deferred, not bounced.
    let store = a.ctx.store.clone();
    assert!(
        eventually(20, || {
            let store = store.clone();
            async move {
                tokio::task::spawn_blocking(move || {
                    store
                        .queue_list()
                        .unwrap()
                        .first()
                        .is_some_and(|m| m.recipients[0].attempts >= 1 && m.recipients[0].status == "deferred")
                })
                .await
                .unwrap()
            }
        })
        .await
    );
    assert!(a.inbox("alice@a.test").await.is_empty());
    let b = Server::start(Opts {
        mx_addr: Some(b_addr),
        ..opts("b.test", "bob", delivery(&[("a.test", a.mx)]))
    })
    .await;
    assert!(eventually(20, || async { b.inbox("bob@b.test").await.len() == 1 }).await);
    assert!(eventually(10, || async { queue_len(&a).await == 0 }).await);
    assert!(a.inbox("alice@a.test").await.is_empty());
    a.stop().await;
    b.stop().await;
}

/// A message accepted by A's MX that cannot be delivered (over quota until
/// it expires) is bounced to its remote sender through the queue with a
/// null sender; a bounce that fails in turn is dropped, never bounced.
#[tokio::test]
async fn expiry_bounces_to_remote_sender_and_bounces_are_not_bounced() {
    let b_addr = reserve_port();
    let mut da = delivery(&[("b.test", b_addr)]);
    da.max_age_secs = 0;
    let a = Server::start(opts("a.test", "alice", da)).await;
    let b = Server::start(Opts {
        mx_addr: Some(b_addr),
        ..opts("b.test", "bob", delivery(&[("a.test", a.mx)]))
    })
    .await;
    let store = a.ctx.store.clone();
    tokio::task::spawn_blocking(move || store.account_set_quota("alice@a.test", Some(10)).unwrap())
        .await
        .unwrap();
    for sender in ["bob@b.test", "ghost@b.test"] {
        let mut c = Client::connect(a.mx).await;
        c.cmd("EHLO mx.b.test").await;
        c.ok(&format!("MAIL FROM:<{sender}>"), "250").await;
        c.ok("RCPT TO:<alice@a.test>", "250").await;
        c.ok("DATA", "354").await;
        c.send(b"Subject: too big for the quota\r\n\r\nxxxxxxxxxxxxxxxxxxxx\r\n.\r\n")
            .await;
        // Accepted: queued for a later local attempt.
        let r = c.reply().await;
        assert!(r.starts_with("250 2.0.0"), "{r}");
    }
    assert!(eventually(20, || async { b.inbox("bob@b.test").await.len() == 1 }).await);
    let dsn = String::from_utf8(b.inbox("bob@b.test").await.remove(0)).unwrap();
    assert!(dsn.starts_with("Return-Path: <>\r\n"), "{dsn}");
    assert!(dsn.contains("Final-Recipient: rfc822; alice@a.test"), "{dsn}");
    assert!(dsn.contains("Status: 4.4.7"), "{dsn}");
    // ghost@b.test does not exist: B refuses the DSN, A drops it.
    assert!(eventually(20, || async { queue_len(&a).await == 0 }).await);
    assert!(a.inbox("alice@a.test").await.is_empty());
    a.stop().await;
    b.stop().await;
}

/// NOTIFY=SUCCESS travels with the message (B speaks DSN, so A sends no
/// "relayed" report); B reports the final delivery back to alice at A.
#[tokio::test]
async fn success_dsn_comes_back_from_the_final_hop() {
    let b_addr = reserve_port();
    let a = Server::start(opts("a.test", "alice", delivery(&[("b.test", b_addr)]))).await;
    let b = Server::start(Opts {
        mx_addr: Some(b_addr),
        ..opts("b.test", "bob", delivery(&[("a.test", a.mx)]))
    })
    .await;
    submit(
        &a,
        "alice@a.test",
        "alice-pw",
        &["<bob@b.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob+40b.test"],
        "please confirm",
    )
    .await;
    assert!(eventually(20, || async { b.inbox("bob@b.test").await.len() == 1 }).await);
    assert!(eventually(20, || async { a.inbox("alice@a.test").await.len() == 1 }).await);
    let dsn = String::from_utf8(a.inbox("alice@a.test").await.remove(0)).unwrap();
    assert!(dsn.contains("Subject: Successful Mail Delivery Report"), "{dsn}");
    assert!(dsn.contains("Reporting-MTA: dns; mx.b.test"), "{dsn}");
    assert!(dsn.contains("Action: delivered"), "{dsn}");
    assert!(dsn.contains("Status: 2.0.0"), "{dsn}");
    assert!(dsn.contains("Original-Recipient: rfc822; bob@b.test"), "{dsn}");
    assert!(dsn.contains("text/rfc822-headers"), "{dsn}");
    assert!(!dsn.contains("please confirm"), "{dsn}");
    assert!(eventually(10, || async { queue_len(&a).await == 0 && queue_len(&b).await == 0 }).await);
    a.stop().await;
    b.stop().await;
}

/// RFC 3461 §5.2.5: after `delay_warning_secs` a "delayed" DSN goes to the
/// sender once per recipient (not to one whose NOTIFY lacks DELAY), and
/// delivery goes on.
#[tokio::test]
async fn delay_warning_is_sent_once_then_delivery_continues() {
    let b_addr = reserve_port();
    let mut da = delivery(&[("b.test", b_addr)]);
    da.delay_warning_secs = 1;
    let a = Server::start(opts("a.test", "alice", da)).await;
    submit(
        &a,
        "alice@a.test",
        "alice-pw",
        &["bob@b.test", "<carl@b.test> NOTIFY=FAILURE"],
        "slow going",
    )
    .await;
    assert!(eventually(20, || async { a.inbox("alice@a.test").await.len() == 1 }).await);
    let warning = String::from_utf8(a.inbox("alice@a.test").await.remove(0)).unwrap();
    assert!(
        warning.contains("Subject: Delayed Mail (still being retried)"),
        "{warning}"
    );
    assert!(warning.contains("Action: delayed"), "{warning}");
    assert!(warning.contains("Will-Retry-Until: "), "{warning}");
    assert!(warning.contains("Status: 4."), "{warning}");
    assert!(warning.contains("Final-Recipient: rfc822; bob@b.test"), "{warning}");
    assert!(!warning.contains("carl@b.test"), "{warning}");
    // Headers only, and no second warning on later retries.
    assert!(warning.contains("text/rfc822-headers"), "{warning}");
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(a.inbox("alice@a.test").await.len(), 1);
    let b = Server::start(Opts {
        users: vec![
            ("bob@b.test".into(), "bob-pw".into()),
            ("carl@b.test".into(), "carl-pw".into()),
        ],
        mx_addr: Some(b_addr),
        ..opts("b.test", "bob", delivery(&[("a.test", a.mx)]))
    })
    .await;
    assert!(eventually(20, || async { b.inbox("carl@b.test").await.len() == 1 }).await);
    assert!(eventually(20, || async { queue_len(&a).await == 0 }).await);
    assert_eq!(b.inbox("bob@b.test").await.len(), 1);
    assert_eq!(a.inbox("alice@a.test").await.len(), 1);
    a.stop().await;
    b.stop().await;
}

/// A large queued message is streamed to the next hop intact; its bounce
/// returns the headers only (over `bounce_size_limit`).
#[tokio::test]
async fn large_message_relayed_intact_and_bounced_with_headers_only() {
    let b_addr = reserve_port();
    let a = Server::start(opts("a.test", "alice", delivery(&[("b.test", b_addr)]))).await;
    let b = Server::start(Opts {
        mx_addr: Some(b_addr),
        ..opts("b.test", "bob", delivery(&[("a.test", a.mx)]))
    })
    .await;
    let mut body = String::new();
    for i in 0..5000 {
        body.push_str(&format!(".line {i:05} {}\r\n", "é".repeat(30)));
    }
    let body = body.trim_end().to_string();
    // Dot-stuffed on the way in, as a client must (RFC 5321 §4.5.2).
    let wire = format!(".{}", body.replace("\r\n.", "\r\n.."));
    submit(&a, "alice@a.test", "alice-pw", &["bob@b.test", "nobody@b.test"], &wire).await;
    assert!(eventually(20, || async { b.inbox("bob@b.test").await.len() == 1 }).await);
    let m = String::from_utf8(b.inbox("bob@b.test").await.remove(0)).unwrap();
    assert!(m.ends_with(&format!("\r\n\r\n{body}\r\n")), "body altered in transit");
    assert!(eventually(20, || async { a.inbox("alice@a.test").await.len() == 1 }).await);
    let dsn = String::from_utf8(a.inbox("alice@a.test").await.remove(0)).unwrap();
    assert!(dsn.contains("Final-Recipient: rfc822; nobody@b.test"), "{dsn}");
    assert!(dsn.contains("text/rfc822-headers"), "{dsn}");
    assert!(dsn.contains("Subject: test"), "{dsn}");
    assert!(!dsn.contains("line 00001"), "whole message returned");
    a.stop().await;
    b.stop().await;
}
