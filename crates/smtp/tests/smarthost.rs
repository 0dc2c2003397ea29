//! Relaying through an authenticated smarthost: instance A (a.test, the
//! home server) sends everything for other domains to instance S (the
//! provider), whose submission listener requires AUTH over TLS.
mod common;

use std::time::Duration;

use common::{Client, Opts, Server, b64, eventually};
use mailroom_smtp::{DeliveryConfig, Secret, SmarthostTls};

/// The provider: carol@isp.test is its customer; alice@a.test also has an
/// account there (her smarthost login, password "isp-pw").
async fn provider() -> Server {
    let s = Server::start(Opts {
        hostname: "smtp.isp.test".into(),
        domain: "isp.test".into(),
        users: vec![("carol@isp.test".into(), "carol-pw".into())],
        ..Default::default()
    })
    .await;
    let store = s.ctx.store.clone();
    tokio::task::spawn_blocking(move || {
        store.domain_add("a.test").unwrap();
        let hash = mailroom_net::password::hash_password("isp-pw").unwrap();
        store.account_create("alice@a.test", &hash, None).unwrap();
    })
    .await
    .unwrap();
    s
}

fn home(isp: &Server, f: impl FnOnce(&mut DeliveryConfig)) -> Opts {
    let mut d = DeliveryConfig {
        smarthost: Some(format!("localhost:{}", isp.submission.port())),
        smarthost_user: Some("alice@a.test".into()),
        smarthost_password: Some(Secret("isp-pw".into())),
        // The provider's self-signed certificate is what we trust.
        smarthost_ca_file: Some(isp.dir.path().join("tls/cert.pem")),
        retry_base_secs: 60,
        retry_max_secs: 60,
        poll_interval_secs: 1,
        connect_timeout_secs: 5,
        command_timeout_secs: 10,
        ..Default::default()
    };
    f(&mut d);
    Opts {
        hostname: "mx.a.test".into(),
        domain: "a.test".into(),
        users: vec![("alice@a.test".into(), "alice-pw".into())],
        delivery: Some(d),
        ..Default::default()
    }
}

async fn submit(a: &Server, to: &str, body: &str) {
    let mut c = Client::connect(a.submission).await;
    c.cmd("EHLO client.test").await;
    c.ok(&format!("AUTH PLAIN {}", b64("\0alice@a.test\0alice-pw")), "235")
        .await;
    c.ok("MAIL FROM:<alice@a.test>", "250").await;
    c.ok(&format!("RCPT TO:<{to}>"), "250").await;
    c.ok("DATA", "354").await;
    c.send(format!("Subject: via smarthost\r\n\r\n{body}\r\n.\r\n").as_bytes())
        .await;
    assert!(c.reply().await.starts_with("250 2.0.0"));
    c.ok("QUIT", "221").await;
}

/// The first recipient's `(attempts, last_reply)` in A's queue.
async fn queue_state(a: &Server) -> Option<(u32, String)> {
    let store = a.ctx.store.clone();
    tokio::task::spawn_blocking(move || {
        store.queue_list().unwrap().first().map(|m| {
            (
                m.recipients[0].attempts,
                m.recipients[0].last_reply.clone().unwrap_or_default(),
            )
        })
    })
    .await
    .unwrap()
}

async fn deferred_with(a: &Server, want: &str) -> String {
    let end = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some((n, reply)) = queue_state(a).await
            && n >= 1
        {
            assert!(reply.contains(want), "last_reply {reply:?} lacks {want:?}");
            return reply;
        }
        assert!(tokio::time::Instant::now() < end, "never attempted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn relays_with_auth_over_starttls_and_implicit_tls() {
    let isp = provider().await;
    // Default with credentials: STARTTLS required, certificate verified, AUTH PLAIN.
    let a = Server::start(home(&isp, |_| {})).await;
    submit(&a, "carol@isp.test", "first").await;
    assert!(eventually(20, || async { isp.inbox("carol@isp.test").await.len() == 1 }).await);
    let m = String::from_utf8(isp.inbox("carol@isp.test").await.remove(0)).unwrap();
    assert!(
        m.starts_with("Return-Path: <alice@a.test>\r\nReceived: from mx.a.test"),
        "{m}"
    );
    assert!(m.contains("by smtp.isp.test (Mailroom) with ESMTPSA"), "{m}");
    assert!(m.contains("first"));
    assert!(eventually(10, || async { queue_state(&a).await.is_none() }).await);
    a.stop().await;

    // Implicit TLS to the provider's submissions port.
    let a = Server::start(home(&isp, |d| {
        d.smarthost = Some(format!("localhost:{}", isp.submissions.port()));
        d.smarthost_tls = Some(SmarthostTls::Implicit);
    }))
    .await;
    submit(&a, "carol@isp.test", "second").await;
    assert!(eventually(20, || async { isp.inbox("carol@isp.test").await.len() == 2 }).await);
    a.stop().await;
    isp.stop().await;
}

#[tokio::test]
async fn auth_failure_is_deferred_not_bounced() {
    let isp = provider().await;
    let a = Server::start(home(&isp, |d| d.smarthost_password = Some(Secret("wrong".into())))).await;
    submit(&a, "carol@isp.test", "nope").await;
    let reply = deferred_with(&a, "4.7.0 smarthost authentication as alice@a.test failed: 535 5.7.8").await;
    assert!(!reply.contains("wrong"), "{reply}");
    // Not the recipient's fault: no bounce to alice, nothing delivered.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(a.inbox("alice@a.test").await.is_empty());
    assert!(isp.inbox("carol@isp.test").await.is_empty());
    a.stop().await;
    isp.stop().await;
}

#[tokio::test]
async fn credentials_need_verified_tls_and_offered_auth() {
    let isp = provider().await;
    // The provider's certificate is not trusted: no password goes out.
    let a = Server::start(home(&isp, |d| d.smarthost_ca_file = None)).await;
    submit(&a, "carol@isp.test", "untrusted").await;
    deferred_with(&a, "TLS handshake").await;
    a.stop().await;
    // The provider's MX port offers no AUTH.
    let a = Server::start(home(&isp, |d| {
        d.smarthost = Some(format!("localhost:{}", isp.mx.port()))
    }))
    .await;
    submit(&a, "carol@isp.test", "no auth").await;
    deferred_with(&a, "smarthost offers neither AUTH PLAIN nor AUTH LOGIN").await;
    a.stop().await;
    // A bad configuration defers with the reason.
    let a = Server::start(home(&isp, |d| d.smarthost_password_file = Some("pw.txt".into()))).await;
    submit(&a, "carol@isp.test", "bad config").await;
    deferred_with(&a, "4.3.5 smarthost configuration").await;
    a.stop().await;
    assert!(isp.inbox("carol@isp.test").await.is_empty());
    isp.stop().await;
}

/// A scripted server over implicit TLS offering only AUTH LOGIN; returns
/// the lines it received.
async fn login_only_server(listener: tokio::net::TcpListener, dir: std::path::PathBuf) -> Vec<String> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let tls = mailroom_net::tls::server_config(None, None, &dir, "localhost").unwrap();
    let (tcp, _) = listener.accept().await.unwrap();
    let stream = tokio_rustls::TlsAcceptor::from(tls).accept(tcp).await.unwrap();
    let mut io = BufReader::new(stream);
    io.get_mut().write_all(b"220 fake ESMTP\r\n").await.unwrap();
    let mut got = Vec::new();
    let mut in_data = false;
    loop {
        let mut line = String::new();
        // The client may close without a TLS close_notify after QUIT.
        if !matches!(io.read_line(&mut line).await, Ok(n) if n > 0) {
            return got;
        }
        let line = line.trim_end().to_string();
        let reply: &[u8] = if in_data {
            if line != "." {
                continue;
            }
            in_data = false;
            b"250 2.0.0 taken\r\n"
        } else if line.starts_with("EHLO") {
            b"250-fake\r\n250-AUTH LOGIN\r\n250 8BITMIME\r\n"
        } else if line == "AUTH LOGIN" {
            b"334 VXNlcm5hbWU6\r\n"
        } else if got.last().is_some_and(|l: &String| l == "AUTH LOGIN") {
            b"334 UGFzc3dvcmQ6\r\n"
        } else if got.len() >= 2 && got[got.len() - 2] == "AUTH LOGIN" {
            b"235 2.7.0 ok\r\n"
        } else if line == "DATA" {
            in_data = true;
            b"354 go\r\n"
        } else if line == "QUIT" {
            b"221 bye\r\n"
        } else {
            b"250 ok\r\n"
        };
        got.push(line);
        io.get_mut().write_all(reply).await.unwrap();
        io.get_mut().flush().await.unwrap();
    }
}

#[tokio::test]
async fn auth_login_when_plain_is_not_offered() {
    use mailroom_smtp::Credentials;
    use mailroom_smtp::client::{self, OutRecipient, OutboundTls, Security, Timeouts, Transaction};
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(login_only_server(listener, dir.path().to_path_buf()));
    // The certificate is generated by the server task; wait for it.
    let cert = dir.path().join("tls/cert.pem");
    assert!(eventually(10, || async { cert.is_file() }).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let tls = mailroom_net::tls::client_config_trusting(&cert).unwrap();
    let creds = Credentials {
        user: "me@isp.test".into(),
        password: "pässword".into(),
    };
    let rcpts = [OutRecipient {
        address: "x@y.test".into(),
        notify: None,
        orcpt: None,
    }];
    let tx = Transaction {
        helo: "mx.a.test",
        sender: "me@a.test",
        recipients: &rcpts,
        message: client::Body::Bytes(b"Subject: hi\r\n\r\nhi\r\n"),
        env_id: None,
        ret: None,
        smtputf8: false,
    };
    let timeouts = Timeouts {
        connect: Duration::from_secs(5),
        command: Duration::from_secs(5),
    };
    let sec = Security {
        mode: OutboundTls::Implicit,
        tls: Some(&tls),
        auth: Some(&creds),
    };
    let sent = client::send(addr, "localhost", &tx, timeouts, &sec).await.unwrap();
    assert!(matches!(&sent.results[0], client::RcptResult::Delivered(r) if r.contains("taken")));
    let got = server.await.unwrap();
    assert_eq!(got[1], "AUTH LOGIN");
    assert_eq!(got[2], b64("me@isp.test"));
    assert_eq!(got[3], b64("pässword"));
    assert!(got[4].starts_with("MAIL FROM:<me@a.test>"), "{got:?}");
}
