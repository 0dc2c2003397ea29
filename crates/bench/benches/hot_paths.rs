//! Micro-benchmarks of Mailroom's per-message and per-command hot paths,
//! on the benchmark corpus: IMAP command parsing, MIME parsing at
//! delivery, ENVELOPE and BODYSTRUCTURE encoding (the bulk of a FETCH
//! response that is not message bytes), SMTP DATA reception.
//!
//! `cargo bench -p mailroom-bench [-- FILTER]`; `MRB_BENCH_SECS` sets the
//! time per case (default 1). A plain timing loop: each case runs in
//! batches until the time is used and reports the mean per iteration.
use std::hint::black_box;
use std::time::{Duration, Instant};

use mailroom_bench::corpus::Corpus;
use mailroom_bench::smtp_client::dot_stuff;
use mailroom_imap::encode::bodystructure::write_body;
use mailroom_imap::encode::envelope::write_envelope;
use mailroom_imap::parser::{ParseOptions, parse_command};
use mailroom_smtp::data::DataDecoder;
use mailroom_store::parse::parse;

struct Bench {
    filter: Option<String>,
    budget: Duration,
}

impl Bench {
    /// Runs `f` repeatedly; `bytes` per iteration gives a throughput.
    fn run(&self, name: &str, bytes: u64, mut f: impl FnMut()) {
        if self.filter.as_ref().is_some_and(|flt| !name.contains(flt.as_str())) {
            return;
        }
        // Warm up and size a batch to about a millisecond.
        let mut batch = 1u64;
        loop {
            let t = Instant::now();
            for _ in 0..batch {
                f();
            }
            if t.elapsed() > Duration::from_millis(1) || batch > 1 << 20 {
                break;
            }
            batch *= 2;
        }
        let start = Instant::now();
        let mut iters = 0u64;
        while start.elapsed() < self.budget {
            for _ in 0..batch {
                f();
            }
            iters += batch;
        }
        let per = start.elapsed().as_secs_f64() / iters as f64;
        let tput = if bytes > 0 {
            format!("{:>10.1} MB/s", bytes as f64 / per / 1e6)
        } else {
            String::new()
        };
        println!("{name:<44} {:>12.0} ns/iter {tput}", per * 1e9);
    }
}

fn main() {
    let budget = std::env::var("MRB_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    // `cargo bench -- FILTER`; cargo also passes `--bench`.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let b = Bench {
        filter,
        budget: Duration::from_secs_f64(budget),
    };

    let corpus = Corpus {
        seed: 1,
        count: 400,
        users: 1,
        domain: "bench.test".into(),
        user_prefix: "u".into(),
    };
    let msgs: Vec<Vec<u8>> = (0..corpus.count).map(|i| corpus.message(i)).collect();
    let total: u64 = msgs.iter().map(|m| m.len() as u64).sum();
    // One of each kind, by the shape of its header.
    let pick = |needle: &str| {
        msgs.iter()
            .find(|m| String::from_utf8_lossy(mailroom_bench::corpus::header_section(m)).contains(needle))
            .cloned()
            .unwrap_or_default()
    };
    let plain = pick("text/plain; charset=us-ascii");
    let mixed = pick("multipart/mixed");

    let commands: &[&[u8]] = &[
        b"a1 UID FETCH 1:* (UID FLAGS)",
        b"a2 UID FETCH 120:140 (UID RFC822.SIZE FLAGS INTERNALDATE ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (DATE FROM SUBJECT TO CC MESSAGE-ID REFERENCES IN-REPLY-TO X-PRIORITY)])",
        b"a3 UID STORE 7,9,11:15 +FLAGS.SILENT (\\Seen \\Flagged)",
        b"a4 UID SEARCH UNDELETED SINCE 1-Jan-2026 OR SUBJECT \"report\" FROM \"alice\" NOT KEYWORD $Junk",
        b"a5 SELECT \"INBOX\" (CONDSTORE)",
        b"a6 APPEND INBOX (\\Seen) {11}\r\nhello world",
    ];
    for (i, c) in commands.iter().enumerate() {
        assert!(
            parse_command(c, ParseOptions::default()).is_ok(),
            "{}",
            String::from_utf8_lossy(c)
        );
        b.run(&format!("imap parse command a{}", i + 1), 0, || {
            black_box(parse_command(black_box(c), ParseOptions::default()).ok());
        });
    }

    b.run("mime parse (delivery), whole corpus", total, || {
        for m in &msgs {
            black_box(parse(black_box(m)));
        }
    });
    b.run("mime parse, plain text message", plain.len() as u64, || {
        black_box(parse(black_box(&plain)));
    });
    b.run(
        "mime parse, multipart/mixed with attachments",
        mixed.len() as u64,
        || {
            black_box(parse(black_box(&mixed)));
        },
    );

    let parsed: Vec<_> = msgs.iter().map(|m| parse(m)).collect();
    let mut out = Vec::with_capacity(1 << 16);
    b.run("fetch ENVELOPE encode, whole corpus", 0, || {
        for p in &parsed {
            out.clear();
            write_envelope(&mut out, &p.envelope, false);
            black_box(&out);
        }
    });
    b.run("fetch BODYSTRUCTURE encode, whole corpus", 0, || {
        for p in &parsed {
            out.clear();
            write_body(&mut out, &p.root, true, false);
            black_box(&out);
        }
    });

    let stuffed: Vec<Vec<u8>> = msgs.iter().map(|m| dot_stuff(m)).collect();
    let mut body = Vec::with_capacity(1 << 20);
    b.run("smtp DATA decode (dot-unstuff), whole corpus", total, || {
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
