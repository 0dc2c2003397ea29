//! Micro-benchmarks (divan) of Mailroom's per-message and per-command hot
//! paths, on the benchmark corpus: IMAP command parsing, MIME parsing at
//! delivery, ENVELOPE and BODYSTRUCTURE encoding (the bulk of a FETCH
//! response that is not message bytes), SMTP DATA reception.
//!
//! `cargo bench -p mailroom-bench [-- FILTER]`.
use std::sync::LazyLock;

use divan::counter::BytesCount;
use divan::{Bencher, black_box};
use mailroom_bench::corpus::Corpus;
use mailroom_bench::smtp_client::dot_stuff;
use mailroom_imap::encode::bodystructure::write_body;
use mailroom_imap::encode::envelope::write_envelope;
use mailroom_imap::parser::{ParseOptions, parse_command};
use mailroom_smtp::data::DataDecoder;
use mailroom_store::parse::{ParsedMessage, parse};

fn main() {
    divan::main();
}

static MESSAGES: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let corpus = Corpus {
        seed: 1,
        count: 400,
        users: 1,
        domain: "bench.test".into(),
        user_prefix: "u".into(),
    };
    (0..corpus.count).map(|i| corpus.message(i)).collect()
});

static PARSED: LazyLock<Vec<ParsedMessage>> = LazyLock::new(|| MESSAGES.iter().map(|m| parse(m)).collect());

fn total_bytes() -> usize {
    MESSAGES.iter().map(Vec::len).sum()
}

/// The first corpus message whose header contains `needle`.
fn pick(needle: &str) -> Vec<u8> {
    MESSAGES
        .iter()
        .find(|m| String::from_utf8_lossy(mailroom_bench::corpus::header_section(m)).contains(needle))
        .cloned()
        .unwrap_or_default()
}

const COMMANDS: &[&str] = &[
    "a1 UID FETCH 1:* (UID FLAGS)",
    "a2 UID FETCH 120:140 (UID RFC822.SIZE FLAGS INTERNALDATE ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (DATE FROM SUBJECT TO CC MESSAGE-ID REFERENCES IN-REPLY-TO X-PRIORITY)])",
    "a3 UID STORE 7,9,11:15 +FLAGS.SILENT (\\Seen \\Flagged)",
    "a4 UID SEARCH UNDELETED SINCE 1-Jan-2026 OR SUBJECT \"report\" FROM \"alice\" NOT KEYWORD $Junk",
    "a5 SELECT \"INBOX\"",
    "a6 APPEND INBOX (\\Seen) {11}\r\nhello world",
];

#[divan::bench(args = COMMANDS)]
fn imap_parse_command(command: &str) {
    let parsed = parse_command(black_box(command.as_bytes()), ParseOptions::default());
    assert!(parsed.is_ok(), "{command}");
    black_box(parsed.ok());
}

#[divan::bench]
fn mime_parse_corpus(b: Bencher) {
    b.counter(BytesCount::new(total_bytes())).bench(|| {
        for m in MESSAGES.iter() {
            black_box(parse(black_box(m)));
        }
    });
}

#[divan::bench(args = ["text/plain; charset=us-ascii", "multipart/mixed"])]
fn mime_parse_one(b: Bencher, kind: &str) {
    let msg = pick(kind);
    b.counter(BytesCount::new(msg.len()))
        .bench(|| black_box(parse(black_box(&msg))));
}

#[divan::bench]
fn fetch_envelope_encode_corpus(b: Bencher) {
    let mut out = Vec::with_capacity(1 << 16);
    b.bench_local(|| {
        for p in PARSED.iter() {
            out.clear();
            write_envelope(&mut out, &p.envelope, false);
            black_box(&out);
        }
    });
}

#[divan::bench]
fn fetch_bodystructure_encode_corpus(b: Bencher) {
    let mut out = Vec::with_capacity(1 << 16);
    b.bench_local(|| {
        for p in PARSED.iter() {
            out.clear();
            write_body(&mut out, &p.root, true, false);
            black_box(&out);
        }
    });
}

#[divan::bench]
fn smtp_data_decode_corpus(b: Bencher) {
    let stuffed: Vec<Vec<u8>> = MESSAGES.iter().map(|m| dot_stuff(m)).collect();
    let mut body = Vec::with_capacity(1 << 20);
    b.counter(BytesCount::new(total_bytes())).bench_local(|| {
        for s in &stuffed {
            body.clear();
            let mut d = DataDecoder::new(1000, 64 << 20);
            // As the socket delivers it: 16 KiB reads.
            for chunk in s.chunks(16 * 1024) {
                let (_, done) = d.feed(chunk, &mut body);
                if done {
                    break;
                }
            }
            black_box(&body);
        }
    });
}
