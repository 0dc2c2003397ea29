//! Nothing acknowledged is lost: SMTP clients send as fast as they can and
//! note every message that got 250; the server is SIGKILLed mid-stream; after
//! a restart every acknowledged message is in the INBOX and the store is sound.
mod common;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;

fn reply(r: &mut BufReader<TcpStream>) -> Option<String> {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        all.push_str(&line);
        if line.len() >= 4 && &line[3..4] == " " {
            return Some(all);
        }
    }
}

/// Sends messages on one connection until it breaks; pushes each token that
/// got 250 after the data.
fn sender(port: u16, id: usize, acked: Arc<Mutex<Vec<String>>>, stop: Arc<AtomicBool>) {
    let Ok(s) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
    let Ok(mut w) = s.try_clone() else { return };
    let mut r = BufReader::new(s);
    if reply(&mut r).is_none() || w.write_all(b"EHLO crash.example.org\r\n").is_err() || reply(&mut r).is_none() {
        return;
    }
    for n in 0.. {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let token = format!("tok-{id}-{n}");
        let envelope = b"MAIL FROM:<s@example.org>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n";
        if w.write_all(envelope).is_err() {
            return;
        }
        for _ in 0..3 {
            match reply(&mut r) {
                Some(rep) if rep.starts_with('2') || rep.starts_with('3') => {}
                _ => return,
            }
        }
        let msg = format!(
            "Subject: {token}\r\nMessage-ID: <{token}@example.org>\r\n\r\n{}\r\n.\r\n",
            "z".repeat(n % 3000)
        );
        if w.write_all(msg.as_bytes()).is_err() {
            return;
        }
        match reply(&mut r) {
            Some(rep) if rep.starts_with("250") => acked.lock().unwrap().push(token),
            _ => return,
        }
    }
}

#[test]
fn smtp_acknowledged_mail_survives_kill_9() {
    let mut i = Instance::new("example.test", "");
    i.add_user("bob@example.test", "bob-pw");
    i.start();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..6)
        .map(|id| {
            let (a, s, port) = (acked.clone(), stop.clone(), i.ports.smtp);
            std::thread::spawn(move || sender(port, id, a, s))
        })
        .collect();
    let start = std::time::Instant::now();
    while acked.lock().unwrap().len() < 300 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    // Kill while senders are mid-transaction.
    i.kill9();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 300, "only {} acknowledged in 60 s", acked.len());

    i.start();
    let store = i.store();
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    drop(store);
    let inbox: Vec<String> = i
        .inbox("bob@example.test")
        .iter()
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .collect();
    let all = inbox.join("\n");
    for token in &acked {
        assert!(
            all.contains(&format!("Subject: {token}\r\n")),
            "{token} got 250 but is lost after kill -9"
        );
    }
    assert!(i.stop());
}
