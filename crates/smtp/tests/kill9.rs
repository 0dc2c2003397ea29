//! Nothing acknowledged is lost across kill -9: a child process (this test
//! binary re-run as `kill9_child_server`) serves SMTP over a store while
//! clients send mail; it is SIGKILLed mid-stream, and every message that
//! got its 250 must be in the store afterwards.
mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailroom_store::Store;

const DIR_VAR: &str = "MAILROOM_SMTP_KILL9_DIR";

#[test]
#[ignore = "helper process for acknowledged_mail_survives_kill9"]
fn kill9_child_server() {
    let Ok(dir) = std::env::var(DIR_VAR) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let ctx = common::context(std::path::Path::new(&dir), "mx.example.test");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("MAILROOM_PORT={}", listener.local_addr().unwrap().port());
        mailroom_smtp::serve(
            ctx,
            listener,
            mailroom_smtp::SmtpListener::Mx,
            Arc::new(mailroom_smtp::SmtpConfig::default()),
        )
        .await;
    });
}

struct KillOnDrop(Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn read_reply(r: &mut BufReader<TcpStream>) -> Option<String> {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        all.push_str(&line);
        if line.as_bytes().get(3) != Some(&b'-') {
            return Some(all);
        }
    }
}

/// Sends messages until the connection breaks; records acknowledged subjects.
fn sender(port: u16, id: usize, acked: Arc<Mutex<Vec<String>>>, stop: Instant) {
    let Ok(s) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    if read_reply(&mut r).is_none() || w.write_all(b"EHLO c.test\r\n").is_err() || read_reply(&mut r).is_none() {
        return;
    }
    for n in 0.. {
        if Instant::now() > stop {
            return;
        }
        let subject = format!("kill9-{id}-{n}");
        let batch = format!(
            "MAIL FROM:<x@remote.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\nSubject: {subject}\r\n\r\n{}\r\n.\r\n",
            "body line\r\n".repeat(50)
        );
        if w.write_all(batch.as_bytes()).is_err() {
            return;
        }
        for _ in 0..3 {
            if read_reply(&mut r).is_none() {
                return;
            }
        }
        match read_reply(&mut r) {
            Some(rep) if rep.starts_with("250 ") => acked.lock().unwrap().push(subject),
            _ => return,
        }
    }
}

#[test]
fn acknowledged_mail_survives_kill9() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store.domain_add("example.test").unwrap();
        let hash = mailroom_net::password::hash_password("pw").unwrap();
        store.account_create("bob@example.test", &hash, None).unwrap();
    }
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "kill9_child_server",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DIR_VAR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    let port: u16 = loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "child exited early");
        // libtest prints "test kill9_child_server ... " before it.
        if let Some(i) = line.find("MAILROOM_PORT=") {
            break line[i + 14..].trim().parse().unwrap();
        }
    };
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Instant::now() + Duration::from_secs(20);
    let senders: Vec<_> = (0..3)
        .map(|i| {
            let acked = acked.clone();
            std::thread::spawn(move || sender(port, i, acked, stop))
        })
        .collect();
    // Let some mail through, then SIGKILL mid-stream.
    let t0 = Instant::now();
    while acked.lock().unwrap().len() < 20 && t0.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    for s in senders {
        s.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 20, "only {} messages acknowledged", acked.len());

    let store = Store::open(dir.path()).unwrap();
    assert!(store.check().unwrap().is_empty());
    let acct = store.account_by_address("bob@example.test").unwrap().unwrap();
    let inbox = store.mailbox_get(acct.id, "INBOX").unwrap().unwrap();
    let stored: Vec<String> = store
        .messages(inbox.id)
        .unwrap()
        .into_iter()
        .map(|m| String::from_utf8_lossy(&store.read_blob(&m.blob_hash, 0, m.size).unwrap()).into_owned())
        .collect();
    for subject in &acked {
        let needle = format!("Subject: {subject}\r\n");
        assert!(
            stored.iter().any(|m| m.contains(&needle)),
            "acknowledged {subject} lost"
        );
    }
}
