#![forbid(unsafe_code)]
//! `mailroom`: the one binary. Config, CLI and wiring; nothing clever.
mod admin;
mod config;
mod serve;
mod wiring;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "mailroom",
    version,
    about = "A complete mail server: SMTP, IMAP and POP3 on one store"
)]
struct Cli {
    /// The TOML configuration file. Without one, `serve` runs the local setup
    /// (loopback ports, ./mailroom-data).
    #[arg(long, short, global = true, env = "MAILROOM_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server until SIGTERM or SIGINT.
    Serve,
    /// Manage the domains we receive mail for.
    #[command(subcommand)]
    Domain(admin::DomainCmd),
    /// Manage mail accounts.
    #[command(subcommand)]
    User(admin::UserCmd),
    /// Manage aliases (extra addresses delivering to an account).
    #[command(subcommand)]
    Alias(admin::AliasCmd),
    /// Inspect and manage the outbound mail queue.
    #[command(subcommand)]
    Queue(admin::QueueCmd),
    /// Check the store: database integrity and blob files.
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve => serve::run(cli.config.as_deref()),
        Command::Domain(c) => admin::domain(cli.config.as_deref(), c),
        Command::User(c) => admin::user(cli.config.as_deref(), c),
        Command::Alias(c) => admin::alias(cli.config.as_deref(), c),
        Command::Queue(c) => admin::queue(cli.config.as_deref(), c),
        Command::Check => admin::check(cli.config.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mailroom: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
