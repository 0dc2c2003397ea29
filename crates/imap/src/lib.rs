#![forbid(unsafe_code)]
//! IMAP4rev2 (RFC 9051) and IMAP4rev1 (RFC 3501) server: a sans-I/O
//! protocol core (command AST, streaming framer/parser, response encoder,
//! message rendering) and [`session`], which drives it over a connection
//! against the store.
pub mod command;
pub mod encode;
pub mod framing;
pub mod mutf7;
pub mod parser;
pub mod response;
pub mod sequence;
pub mod session;

pub use session::config::{ImapConfig, serve};
