//! Oversized and malformed input: clean errors, no memory blow-up, the
//! session goes on where it can.
mod common;

use common::*;

#[tokio::test]
async fn long_lines_and_literals() {
    let srv = Server::start().await;
    let mut c = srv.client().await;
    let long = format!("a NOOP {}\r\n", "x".repeat(70 * 1024));
    c.send(long.as_bytes()).await;
    assert_eq!(c.line().await, "a BAD Command line too long\r\n");
    assert_eq!(c.cmd("b NOOP").await, vec!["b OK NOOP completed"]);
    // A synchronising literal over the limit is simply not invited.
    c.send(b"c LOGIN {100000}\r\n").await;
    assert_eq!(c.line().await, "c BAD Literal too large\r\n");
    assert_eq!(c.cmd("d NOOP").await, vec!["d OK NOOP completed"]);
    // Malformed commands.
    let r = c.cmd("e SELECT").await;
    assert!(r[0].starts_with("e BAD "), "{r:?}");
    let r = c.cmd("f LOGIN a").await;
    assert!(r[0].starts_with("f BAD "), "{r:?}");
    // A non-synchronising one cannot be skipped safely: BAD and close.
    c.send(b"g LOGIN {100000+}\r\n").await;
    assert_eq!(c.line().await, "g BAD Literal too large\r\n");
    assert_eq!(c.line().await, "* BYE Cannot continue this connection\r\n");
    assert_eq!(c.line().await, "");
    srv.stop().await;
}

#[tokio::test]
async fn untagged_garbage() {
    let srv = Server::start().await;
    let mut c = srv.client().await;
    c.send(b"\r\n").await;
    let l = c.line().await;
    assert!(l.starts_with("* BAD "), "{l:?}");
    c.send(b"+++\r\n").await;
    let l = c.line().await;
    assert!(l.starts_with("* BAD "), "{l:?}");
    assert_eq!(c.cmd("a NOOP").await, vec!["a OK NOOP completed"]);
    srv.stop().await;
}
