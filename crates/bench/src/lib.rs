#![forbid(unsafe_code)]
//! A load generator for SMTP, IMAP and POP3 servers, used by
//! `bench/compare.sh` to measure Mailroom against Postfix and Dovecot on
//! the same machine, in the same run. It speaks the protocols itself
//! (plain TCP; run it over loopback), checks every answer, and prints one
//! JSON line per run. The `mailroom-bench` binary is its command line;
//! `benches/hot_paths.rs` uses the corpus for micro-benchmarks.
pub mod common;
pub mod conns;
pub mod corpus;
pub mod imap_bench;
pub mod imap_client;
pub mod imap_value;
pub mod load;
pub mod login;
pub mod pop3_bench;
pub mod pop3_client;
pub mod procfs;
pub mod report;
pub mod rng;
pub mod smtp_bench;
pub mod smtp_client;
pub mod stats;
pub mod wire;
