//! The outbound client pipelines MAIL, RCPT and DATA (RFC 2920) when the
//! server offers PIPELINING, and handles the replies per recipient.

use std::time::Duration;

use mailroom_smtp::client::{self, OutRecipient, RcptResult, Security, Timeouts, Transaction};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Answers nothing between EHLO and DATA until DATA arrives: a client that
/// waited for the MAIL reply would hang. Returns what it received.
async fn strict_pipelining_server(listener: TcpListener, rcpt_codes: Vec<&'static str>) -> Vec<String> {
    let (tcp, _) = listener.accept().await.unwrap();
    let mut io = BufReader::new(tcp);
    io.get_mut().write_all(b"220 fake ESMTP\r\n").await.unwrap();
    let mut got = Vec::new();
    let mut held = Vec::new();
    let mut rcpts = rcpt_codes.into_iter();
    let mut in_data = false;
    loop {
        let mut line = String::new();
        if !matches!(io.read_line(&mut line).await, Ok(n) if n > 0) {
            return got;
        }
        let line = line.trim_end().to_string();
        if in_data {
            if line == "." {
                in_data = false;
                io.get_mut().write_all(b"250 2.0.0 queued\r\n").await.unwrap();
            }
            continue;
        }
        got.push(line.clone());
        let reply: String = if line.starts_with("EHLO") {
            "250-fake\r\n250-PIPELINING\r\n250 8BITMIME\r\n".into()
        } else if line.starts_with("MAIL") {
            held.push("250 2.1.0 ok\r\n".to_string());
            continue;
        } else if line.starts_with("RCPT") {
            held.push(format!("{}\r\n", rcpts.next().unwrap_or("250 ok")));
            continue;
        } else if line == "DATA" {
            in_data = held.iter().any(|r| r.starts_with("250 ok") || r.starts_with("251"));
            let data = if in_data {
                "354 go\r\n"
            } else {
                "554 5.5.1 no valid recipients\r\n"
            };
            held.concat() + data
        } else if line == "QUIT" {
            "221 bye\r\n".into()
        } else {
            "500 what\r\n".into()
        };
        held.clear();
        io.get_mut().write_all(reply.as_bytes()).await.unwrap();
    }
}

async fn send(rcpt_codes: Vec<&'static str>, rcpts: &[&str]) -> (client::Sent, Vec<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(strict_pipelining_server(listener, rcpt_codes));
    let rcpts: Vec<OutRecipient> = rcpts
        .iter()
        .map(|a| OutRecipient {
            address: a.to_string(),
            notify: None,
            orcpt: None,
        })
        .collect();
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
        connect: Duration::from_secs(2),
        command: Duration::from_secs(2),
    };
    let sent = client::send(addr, "127.0.0.1", &tx, timeouts, &Security::opportunistic(None))
        .await
        .unwrap();
    (sent, server.await.unwrap())
}

#[tokio::test]
async fn pipelined_group_with_per_recipient_replies() {
    let (sent, got) = send(
        vec!["250 ok", "550 5.1.1 no such user", "451 4.3.0 try later"],
        &["a@b.test", "x@b.test", "y@b.test"],
    )
    .await;
    assert_eq!(
        got,
        [
            "EHLO mx.a.test",
            "MAIL FROM:<me@a.test>",
            "RCPT TO:<a@b.test>",
            "RCPT TO:<x@b.test>",
            "RCPT TO:<y@b.test>",
            "DATA",
            "QUIT"
        ]
    );
    assert_eq!(
        sent.results,
        [
            RcptResult::Delivered("250 2.0.0 queued".into()),
            RcptResult::Permanent("550 5.1.1 no such user".into()),
            RcptResult::Temporary("451 4.3.0 try later".into()),
        ]
    );
}

#[tokio::test]
async fn pipelined_group_with_no_recipient_accepted() {
    let (sent, got) = send(vec!["550 5.1.1 no such user"], &["x@b.test"]).await;
    assert_eq!(got.last().map(String::as_str), Some("QUIT"));
    assert_eq!(sent.results, [RcptResult::Permanent("550 5.1.1 no such user".into())]);
}
