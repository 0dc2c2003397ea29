//! The binary as an admin uses it: CLI commands, persistence, `serve` start
//! and clean exit on SIGTERM.
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mailroom");

fn run(config: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mailroom");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn ok(config: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let out = run(config, args, stdin);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(config: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let out = run(config, args, stdin);
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn write_config(dir: &Path, extra: &str) -> std::path::PathBuf {
    let p = dir.join("mailroom.toml");
    std::fs::write(
        &p,
        format!("hostname = \"mail.example.test\"\ndata_dir = \"data\"\n{extra}"),
    )
    .unwrap();
    p
}

#[test]
fn admin_commands_work_and_persist() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "");
    ok(&cfg, &["domain", "add", "example.test"], None);
    assert!(fails(&cfg, &["domain", "add", "example.test"], None).contains("already exists"));
    assert!(fails(&cfg, &["domain", "add", "not a domain"], None).contains("bad domain"));
    ok(
        &cfg,
        &["user", "add", "alice@example.test", "--password-stdin"],
        Some("s3cret\n"),
    );
    assert!(
        fails(
            &cfg,
            &["user", "add", "alice@example.test", "--password-stdin"],
            Some("x\n")
        )
        .contains("exists")
    );
    assert!(
        fails(
            &cfg,
            &["user", "add", "x@unknown.test", "--password-stdin"],
            Some("x\n")
        )
        .contains("domain")
    );
    assert!(fails(&cfg, &["user", "add", "no-at-sign", "--password-stdin"], Some("x\n")).contains("bad address"));
    let out = ok(&cfg, &["user", "add", "bob@example.test", "--quota", "1G"], None);
    let pw = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("generated password printed");
    assert!(pw.len() >= 16);
    ok(&cfg, &["alias", "add", "info@example.test", "alice@example.test"], None);
    assert!(fails(&cfg, &["alias", "add", "x@example.test", "nobody@example.test"], None).contains("not found"));

    // Everything is still there from a fresh process.
    let users = ok(&cfg, &["user", "list"], None);
    assert!(users.contains("alice@example.test") && users.contains("bob@example.test"));
    assert!(users.contains("1.0 GiB"), "{users}");
    assert_eq!(ok(&cfg, &["domain", "list"], None).trim(), "example.test");
    assert_eq!(
        ok(&cfg, &["alias", "list"], None).trim(),
        "info@example.test\talice@example.test"
    );
    assert_eq!(ok(&cfg, &["check"], None).trim(), "ok");

    // The stored hash verifies the password given on stdin, and passwd changes it.
    let store = mailroom_store::Store::open(&dir.path().join("data")).unwrap();
    let hash = store
        .account_by_address("alice@example.test")
        .unwrap()
        .unwrap()
        .password_hash;
    assert!(mailroom_net::password::verify_password(&hash, "s3cret"));
    drop(store);
    ok(
        &cfg,
        &["user", "passwd", "alice@example.test", "--password-stdin"],
        Some("n3w\n"),
    );
    let store = mailroom_store::Store::open(&dir.path().join("data")).unwrap();
    let hash = store
        .account_by_address("alice@example.test")
        .unwrap()
        .unwrap()
        .password_hash;
    assert!(mailroom_net::password::verify_password(&hash, "n3w"));
    drop(store);

    assert!(fails(&cfg, &["domain", "del", "example.test"], None).contains("still has"));
    ok(&cfg, &["alias", "del", "info@example.test"], None);
    ok(&cfg, &["user", "del", "alice@example.test"], None);
    ok(&cfg, &["user", "del", "bob@example.test"], None);
    ok(&cfg, &["domain", "del", "example.test"], None);
    assert_eq!(ok(&cfg, &["user", "list"], None), "");
}

#[test]
fn bad_config_is_rejected_with_file_key_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "[listen]\nimapp = \"127.0.0.1:1\"\n");
    let err = fails(&cfg, &["serve"], None);
    assert!(err.contains("mailroom.toml") && err.contains("imapp"), "{err}");
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_port(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "server did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sigterm(child: &Child) {
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn serve_starts_and_exits_zero_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..7).map(|_| free_port()).collect();
    let cfg = write_config(
        dir.path(),
        &format!(
            "[listen]\nsmtp = \"127.0.0.1:{}\"\nsubmission = \"127.0.0.1:{}\"\nsubmissions = \"127.0.0.1:{}\"\nimap = \"127.0.0.1:{}\"\nimaps = \"127.0.0.1:{}\"\npop3 = \"127.0.0.1:{}\"\npop3s = \"127.0.0.1:{}\"\n[auth]\nallow_plaintext = false\n",
            ports[0], ports[1], ports[2], ports[3], ports[4], ports[5], ports[6]
        ),
    );
    ok(&cfg, &["domain", "add", "example.test"], None);
    let mut server = Server(
        Command::new(BIN)
            .arg("--config")
            .arg(&cfg)
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    for &p in &ports {
        wait_for_port(p);
    }
    // The CLI works while the server runs.
    ok(
        &cfg,
        &["user", "add", "carol@example.test", "--password-stdin"],
        Some("pw\n"),
    );
    assert!(
        dir.path().join("data/tls/cert.pem").is_file(),
        "self-signed certificate made"
    );
    sigterm(&server.0);
    let start = Instant::now();
    let status = loop {
        if let Some(s) = server.0.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(40), "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
    assert!(
        TcpStream::connect(("127.0.0.1", ports[3])).is_err(),
        "stopped listening"
    );
}

/// The local setup (no config file, empty store) prints a first account once.
/// It uses the fixed local ports, so it is the only test that does.
#[test]
fn first_run_prints_account_once() {
    let dir = tempfile::tempdir().unwrap();
    let start_server = || {
        Server(
            Command::new(BIN)
                .arg("serve")
                .current_dir(dir.path())
                .env_remove("MAILROOM_CONFIG")
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    };
    let mut s = start_server();
    let mut lines = BufReader::new(s.0.stdout.take().unwrap()).lines();
    let mut address = None;
    let mut password = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        let t = line.trim();
        if let Some(a) = t.strip_prefix("address") {
            address = Some(a.trim().to_string());
        }
        if let Some(p) = t.strip_prefix("password") {
            password = p.split_whitespace().next().map(str::to_string);
        }
        if t.starts_with("Add more users") {
            break;
        }
    }
    assert_eq!(address.as_deref(), Some("me@localhost"));
    let password = password.expect("password printed");
    wait_for_port(1143);
    sigterm(&s.0);
    assert!(s.0.wait().unwrap().success());
    let store = mailroom_store::Store::open(&dir.path().join("mailroom-data")).unwrap();
    let hash = store.account_by_address("me@localhost").unwrap().unwrap().password_hash;
    assert!(mailroom_net::password::verify_password(&hash, &password));
    drop(store);

    // Second start: nothing printed.
    let mut s = start_server();
    let mut stdout = s.0.stdout.take().unwrap();
    wait_for_port(1143);
    sigterm(&s.0);
    assert!(s.0.wait().unwrap().success());
    let mut out = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut out).unwrap();
    assert!(!out.contains("password"), "{out}");
}
