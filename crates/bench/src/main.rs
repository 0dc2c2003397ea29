#![forbid(unsafe_code)]
//! `mailroom-bench`: the command line of the load generator for SMTP, IMAP and POP3 servers,
//! used by `bench/compare.sh` to measure Mailroom against Postfix and
//! Dovecot on the same machine, in the same run. It speaks the protocols
//! itself (plain TCP; run it over loopback), checks every answer, and
//! prints one JSON line per run (and appends it to `--json`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use mailroom_bench::common::Common;
use mailroom_bench::{conns, corpus, imap_bench, load, login, pop3_bench, report, smtp_bench};

#[derive(Parser)]
#[command(name = "mailroom-bench", version, about)]
struct Cli {
    /// Runtime worker threads for the load generator.
    #[arg(long, global = true, default_value_t = 2)]
    threads: usize,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Writes the corpus as files (<dir>/<user>/<token>.eml) to inspect or
    /// to import elsewhere; the workloads generate it in-process.
    Corpus {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        out: PathBuf,
    },
    /// APPENDs the corpus to every user's INBOX (skips users already loaded).
    Load {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        imap_port: u16,
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
    },
    /// Times LOGIN (IMAP) and USER/PASS (POP3), one at a time.
    Login {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        imap_port: Option<u16>,
        #[arg(long)]
        pop3_port: Option<u16>,
        /// Rounds over all users; round 1 is reported as "first".
        #[arg(long, default_value_t = 3)]
        rounds: u64,
    },
    /// Concurrent SMTP sessions deliver messages; then checks over IMAP
    /// that each one is readable (end-to-end delivery rate).
    Smtp {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        smtp_port: u16,
        #[arg(long)]
        imap_port: u16,
        #[arg(long, default_value_t = 8)]
        sessions: u64,
        /// Messages in all.
        #[arg(long, default_value_t = 1000)]
        count: u64,
        /// Messages per connection before reconnecting.
        #[arg(long, default_value_t = 10)]
        per_connection: u64,
        /// AUTH PLAIN as the first user (for submission ports).
        #[arg(long)]
        auth: bool,
        /// Seconds to wait for delivery after the last message is accepted.
        #[arg(long, default_value_t = 120)]
        verify_timeout: u64,
    },
    /// The IMAP mix for a fixed time.
    Imap {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        imap_port: u16,
        /// Clients; more than --users makes sessions share mailboxes.
        #[arg(long, default_value_t = 30)]
        clients: u64,
        #[arg(long, default_value_t = 20)]
        duration: u64,
    },
    /// POP3 clients download whole mailboxes for a fixed time.
    Pop3 {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        pop3_port: u16,
        /// Clients (at most --users: one per maildrop).
        #[arg(long, default_value_t = 20)]
        clients: u64,
        #[arg(long, default_value_t = 15)]
        duration: u64,
    },
    /// Opens N idle IMAP connections and reports the server's memory per
    /// connection (needs --server-pid; raise `ulimit -n` first).
    Connections {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        imap_port: u16,
        #[arg(long, default_value_t = 1000)]
        count: u64,
        /// Connections being opened at once.
        #[arg(long, default_value_t = 50)]
        parallel: u64,
        /// Leave the sessions selected but not in IDLE.
        #[arg(long)]
        no_idle: bool,
        /// Seconds to wait after the last connection before measuring.
        #[arg(long, default_value_t = 3)]
        settle: u64,
    },
    /// Markdown table from the JSON lines of a run.
    Report { results: PathBuf },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads.max(1))
        .enable_all()
        .build()?;
    rt.block_on(run(cli.cmd))
}

async fn run(cmd: Cmd) -> Result<()> {
    match cmd {
        Cmd::Corpus { common, out } => {
            let c = common.corpus();
            let mut bytes = 0;
            for i in 0..c.count {
                let dir = out.join(c.user(c.owner(i)));
                std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
                let m = c.message(i);
                bytes += m.len();
                std::fs::write(dir.join(format!("{}.eml", corpus::message_id_token("c", i))), &m)?;
            }
            eprintln!("{} messages, {} bytes, in {}", c.count, bytes, out.display());
            Ok(())
        }
        Cmd::Load {
            common,
            imap_port,
            concurrency,
        } => load::run(&common, imap_port, concurrency).await,
        Cmd::Login {
            common,
            imap_port,
            pop3_port,
            rounds,
        } => login::run(&common, imap_port, pop3_port, rounds).await,
        Cmd::Smtp {
            common,
            smtp_port,
            imap_port,
            sessions,
            count,
            per_connection,
            auth,
            verify_timeout,
        } => {
            let o = smtp_bench::SmtpOpts {
                smtp_port,
                imap_port,
                sessions,
                count,
                per_connection,
                auth,
                verify_timeout: Duration::from_secs(verify_timeout),
            };
            smtp_bench::run(&common, o).await
        }
        Cmd::Imap {
            common,
            imap_port,
            clients,
            duration,
        } => {
            let o = imap_bench::ImapOpts {
                port: imap_port,
                clients,
                duration: Duration::from_secs(duration),
            };
            imap_bench::run(&common, o).await
        }
        Cmd::Pop3 {
            common,
            pop3_port,
            clients,
            duration,
        } => pop3_bench::run(&common, pop3_port, clients, Duration::from_secs(duration)).await,
        Cmd::Connections {
            common,
            imap_port,
            count,
            parallel,
            no_idle,
            settle,
        } => {
            let o = conns::ConnOpts {
                port: imap_port,
                count,
                parallel,
                idle: !no_idle,
                settle: Duration::from_secs(settle),
            };
            conns::run(&common, o).await
        }
        Cmd::Report { results } => {
            let text = std::fs::read_to_string(&results).with_context(|| format!("read {}", results.display()))?;
            print!("{}", report::markdown(&text)?);
            Ok(())
        }
    }
}
