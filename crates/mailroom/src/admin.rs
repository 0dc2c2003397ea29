//! Administration commands. They work on the store directly and are safe
//! while the server runs (SQLite serialises writers across processes).
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use mailroom_store::Store;

use crate::config::Config;

#[derive(Subcommand)]
pub enum DomainCmd {
    /// Start receiving mail for a domain.
    Add {
        domain: String,
    },
    /// Stop receiving mail for a domain (it must have no accounts or aliases).
    Del {
        domain: String,
    },
    List,
}

#[derive(Subcommand)]
pub enum UserCmd {
    /// Create an account. Without --password-stdin a strong password is
    /// generated and printed once.
    Add {
        address: String,
        /// Read the password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
        /// Storage quota, e.g. 500M, 2G, 1048576 (bytes). Default: none.
        #[arg(long)]
        quota: Option<String>,
    },
    /// Change an account's password.
    Passwd {
        address: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Delete an account with all its mail.
    Del {
        address: String,
    },
    List,
}

#[derive(Subcommand)]
pub enum AliasCmd {
    /// Deliver mail for ALIAS (an address, or @domain for a catch-all) to the
    /// account TARGET.
    Add {
        alias: String,
        target: String,
    },
    Del {
        alias: String,
    },
    List,
}

#[derive(Subcommand)]
pub enum QueueCmd {
    /// Show queued outbound mail and each recipient's state.
    List,
    /// Try queued mail again now (one message, or all).
    Retry { id: Option<i64> },
    /// Drop a queued message without bouncing it.
    Delete { id: i64 },
}

pub fn open_store(config: Option<&Path>) -> Result<(Config, Store)> {
    let cfg = Config::load(config)?;
    let store =
        Store::open(&cfg.data_dir).with_context(|| format!("opening the store in {}", cfg.data_dir.display()))?;
    Ok((cfg, store))
}

pub fn domain(config: Option<&Path>, cmd: DomainCmd) -> Result<()> {
    let (_, store) = open_store(config)?;
    match cmd {
        DomainCmd::Add { domain } => {
            store.domain_add(&domain)?;
            println!("added domain {}", mailroom_store::normalize_domain(&domain)?);
        }
        DomainCmd::Del { domain } => {
            store.domain_del(&domain)?;
            println!("deleted domain {}", mailroom_store::normalize_domain(&domain)?);
        }
        DomainCmd::List => {
            for d in store.domain_list()? {
                println!("{d}");
            }
        }
    }
    Ok(())
}

/// Parses sizes such as `1048576`, `512K`, `500M`, `2G`, `1T` (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'B' => 1,
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => bail!("bad size '{s}': unknown unit '{c}' (use K, M, G or T)"),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    let n: u64 = num.trim().parse().with_context(|| format!("bad size '{s}'"))?;
    n.checked_mul(mult).with_context(|| format!("size '{s}' is too large"))
}

fn read_password_stdin() -> Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut s)
        .context("reading the password from standard input")?;
    let pw = s.lines().next().unwrap_or_default().to_string();
    if pw.is_empty() {
        bail!("empty password on standard input");
    }
    Ok(pw)
}

fn human(bytes: u64) -> String {
    const UNITS: &[&str] = &["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

pub fn user(config: Option<&Path>, cmd: UserCmd) -> Result<()> {
    let (_, store) = open_store(config)?;
    match cmd {
        UserCmd::Add {
            address,
            password_stdin,
            quota,
        } => {
            let quota = quota.as_deref().map(parse_size).transpose()?;
            let (password, generated) = if password_stdin {
                (read_password_stdin()?, false)
            } else {
                (mailroom_net::password::try_generate_password()?, true)
            };
            let hash = mailroom_net::password::hash_password(&password)?;
            let account = store.account_create(&address, &hash, quota)?;
            println!("created {}", account.address);
            if generated {
                println!("password: {password}");
                println!(
                    "(shown once; change it with `mailroom user passwd {}`)",
                    account.address
                );
            }
        }
        UserCmd::Passwd {
            address,
            password_stdin,
        } => {
            let (password, generated) = if password_stdin {
                (read_password_stdin()?, false)
            } else {
                (mailroom_net::password::try_generate_password()?, true)
            };
            let hash = mailroom_net::password::hash_password(&password)?;
            store.account_set_password(&address, &hash)?;
            println!("password changed for {}", mailroom_store::normalize_address(&address)?);
            if generated {
                println!("password: {password}");
            }
        }
        UserCmd::Del { address } => {
            store.account_delete(&address)?;
            println!("deleted {}", mailroom_store::normalize_address(&address)?);
        }
        UserCmd::List => {
            for a in store.account_list()? {
                let quota = a.quota_bytes.map(human).unwrap_or_else(|| "unlimited".into());
                println!("{}\tused {}\tquota {}", a.address, human(a.used_bytes), quota);
            }
        }
    }
    Ok(())
}

pub fn alias(config: Option<&Path>, cmd: AliasCmd) -> Result<()> {
    let (_, store) = open_store(config)?;
    match cmd {
        AliasCmd::Add { alias, target } => {
            store.alias_add(&alias, &target)?;
            println!(
                "added alias {} -> {}",
                alias.trim().to_ascii_lowercase(),
                target.trim().to_ascii_lowercase()
            );
        }
        AliasCmd::Del { alias } => {
            store.alias_del(&alias)?;
            println!("deleted alias {}", alias.trim().to_ascii_lowercase());
        }
        AliasCmd::List => {
            for a in store.alias_list()? {
                println!("{}\t{}", a.address, a.target);
            }
        }
    }
    Ok(())
}

pub fn queue(config: Option<&Path>, cmd: QueueCmd) -> Result<()> {
    let (_, store) = open_store(config)?;
    match cmd {
        QueueCmd::List => {
            let entries = mailroom_smtp::queue_list(&store)?;
            if entries.is_empty() {
                println!("queue is empty");
            }
            for m in entries {
                let sender = if m.sender.is_empty() {
                    "<>".to_string()
                } else {
                    m.sender.clone()
                };
                println!("{}	from {}	{}	queued at {}", m.id, sender, human(m.size), m.created);
                for r in &m.recipients {
                    println!(
                        "	{}	{}	attempts {}	next {}	{}",
                        r.address,
                        r.status,
                        r.attempts,
                        r.next_attempt,
                        r.last_reply.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        QueueCmd::Retry { id } => {
            let n = mailroom_smtp::queue_retry(&store, id)?;
            println!("{n} recipient(s) scheduled for immediate retry");
        }
        QueueCmd::Delete { id } => {
            if !mailroom_smtp::queue_delete(&store, id)? {
                bail!("no queued message {id}");
            }
            println!("deleted queued message {id}");
        }
    }
    Ok(())
}

pub fn check(config: Option<&Path>) -> Result<()> {
    let (_, store) = open_store(config)?;
    let problems = store.check()?;
    if problems.is_empty() {
        println!("ok");
        return Ok(());
    }
    for p in &problems {
        println!("{p}");
    }
    bail!("{} problem(s) found", problems.len())
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1048576").unwrap(), 1 << 20);
        assert_eq!(parse_size("512K").unwrap(), 512 << 10);
        assert_eq!(parse_size("2g").unwrap(), 2 << 30);
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("M").is_err());
        assert!(parse_size("99999999999T").is_err());
    }
}
