//! A real `mailroom` process for end-to-end tests: its own data dir and
//! loopback ports, users made with the CLI, stopped by PID when dropped.
#![allow(dead_code)]
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_mailroom");

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Ports {
    pub smtp: u16,
    pub submission: u16,
    pub submissions: u16,
    pub imap: u16,
    pub imaps: u16,
    pub pop3: u16,
    pub pop3s: u16,
}

pub struct Instance {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub ports: Ports,
    child: Option<Child>,
}

impl Instance {
    /// Writes a config (plus `extra` TOML) and creates the domain; not started.
    pub fn new(domain: &str, extra: &str) -> Instance {
        let dir = tempfile::tempdir().unwrap();
        let ports = Ports {
            smtp: free_port(),
            submission: free_port(),
            submissions: free_port(),
            imap: free_port(),
            imaps: free_port(),
            pop3: free_port(),
            pop3s: free_port(),
        };
        let config = dir.path().join("mailroom.toml");
        std::fs::write(
            &config,
            format!(
                "hostname = \"mail.{domain}\"\ndata_dir = \"data\"\n{extra}\n[listen]\nsmtp = \"127.0.0.1:{}\"\nsubmission = \"127.0.0.1:{}\"\nsubmissions = \"127.0.0.1:{}\"\nimap = \"127.0.0.1:{}\"\nimaps = \"127.0.0.1:{}\"\npop3 = \"127.0.0.1:{}\"\npop3s = \"127.0.0.1:{}\"\n[auth]\nfailure_delay_ms = 50\n",
                ports.smtp, ports.submission, ports.submissions, ports.imap, ports.imaps, ports.pop3, ports.pop3s
            ),
        )
        .unwrap();
        let inst = Instance {
            dir,
            config,
            ports,
            child: None,
        };
        inst.cli(&["domain", "add", domain], None);
        inst
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn cert(&self) -> PathBuf {
        self.data_dir().join("tls/cert.pem")
    }

    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "mailroom {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn add_user(&self, address: &str, password: &str) {
        self.cli(
            &["user", "add", address, "--password-stdin"],
            Some(&format!("{password}\n")),
        );
    }

    pub fn start(&mut self) {
        assert!(self.child.is_none());
        let log = std::fs::File::create(self.dir.path().join("server.log")).unwrap();
        let child = Command::new(BIN)
            .arg("--config")
            .arg(&self.config)
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        for port in [self.ports.smtp, self.ports.imap, self.ports.pop3, self.ports.submission] {
            wait_for_port(port);
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// SIGKILL: no shutdown path runs.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait; returns whether it exited 0.
    pub fn stop(&mut self) -> bool {
        let Some(mut c) = self.child.take() else { return true };
        let _ = Command::new("kill").args(["-TERM", &c.id().to_string()]).status();
        let start = Instant::now();
        loop {
            if let Some(s) = c.try_wait().unwrap() {
                return s.success();
            }
            if start.elapsed() > Duration::from_secs(40) {
                let _ = c.kill();
                let _ = c.wait();
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    pub fn store(&self) -> mailroom_store::Store {
        mailroom_store::Store::open(&self.data_dir()).unwrap()
    }

    /// Messages in the account's INBOX, read from the store.
    pub fn inbox(&self, address: &str) -> Vec<Vec<u8>> {
        let s = self.store();
        let a = s.account_by_address(address).unwrap().unwrap();
        let inbox = s.mailbox_get(a.id, "INBOX").unwrap().unwrap();
        s.messages(inbox.id)
            .unwrap()
            .iter()
            .map(|m| s.read_blob(&m.blob_hash, 0, m.size).unwrap())
            .collect()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub fn wait_for_port(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(30), "nothing listening on {port}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

pub fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !found {
        println!("SKIPPED: {tool} is not installed");
    }
    found
}

/// Runs a Python 3 script with arguments; returns stdout, panics with stderr.
pub fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}
