use super::*;
use crate::command::CommandBody;

/// An owned record of what the framer said, for comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Cmd(String, CommandBody),
    Bad(Option<String>, String),
    Fatal(Option<String>, String),
    Req(LiteralRequest),
    Data(Vec<u8>),
    End,
    AppendEnd(String),
    /// What the framer told us to send.
    Sent(Vec<u8>),
}

/// Feeds `input` in chunks of `chunk` octets; `decide` answers literal
/// requests (true = accept). Consecutive data chunks are merged.
fn run_with(cfg: FramerConfig, input: &[u8], chunk: usize, decide: &mut dyn FnMut(&LiteralRequest) -> bool) -> Vec<Ev> {
    let mut f = Framer::new(cfg);
    let mut out: Vec<Ev> = Vec::new();
    let mut fed = 0;
    loop {
        while let Some(ev) = f.next_event() {
            let ev = match ev {
                Event::Command(c) => Ev::Cmd(c.tag, c.body),
                Event::Bad(e) => Ev::Bad(e.tag, e.reason),
                Event::Fatal(e) => Ev::Fatal(e.tag, e.reason),
                Event::LiteralData(d) => {
                    if let Some(Ev::Data(prev)) = out.last_mut() {
                        prev.extend_from_slice(d);
                        continue;
                    }
                    Ev::Data(d.to_vec())
                }
                Event::LiteralEnd => Ev::End,
                Event::AppendEnd { tag } => Ev::AppendEnd(tag),
                Event::LiteralRequest(r) => {
                    let accept = decide(&r);
                    out.push(Ev::Req(r));
                    if accept {
                        if let Some(bytes) = f.accept_literal() {
                            out.push(Ev::Sent(bytes.to_vec()));
                        }
                    } else {
                        f.reject_literal();
                    }
                    continue;
                }
            };
            out.push(ev);
        }
        if fed >= input.len() {
            return out;
        }
        let n = chunk.min(input.len() - fed);
        f.feed(&input[fed..fed + n]);
        fed += n;
    }
}

fn run(input: &[u8]) -> Vec<Ev> {
    let all = run_with(FramerConfig::default(), input, usize::MAX, &mut |_| true);
    // The result must not depend on how the input was split.
    for chunk in [1, 2, 3, 7, 64] {
        assert_eq!(
            run_with(FramerConfig::default(), input, chunk, &mut |_| true),
            all,
            "chunk {chunk}"
        );
    }
    all
}

fn small() -> FramerConfig {
    FramerConfig {
        max_line: 40,
        max_command: 100,
        max_inline_literal: 20,
        literal_minus: false,
    }
}

#[test]
fn plain_commands_and_pipelining() {
    let ev = run(b"a1 NOOP\r\na2 CAPABILITY\r\n");
    assert_eq!(
        ev,
        vec![
            Ev::Cmd("a1".into(), CommandBody::Noop),
            Ev::Cmd("a2".into(), CommandBody::Capability)
        ]
    );
    // Bare LF is tolerated.
    assert_eq!(run(b"a3 LOGOUT\n"), vec![Ev::Cmd("a3".into(), CommandBody::Logout)]);
}

#[test]
fn malformed_command_gets_bad_and_session_continues() {
    let ev = run(b"a1 FETCH\r\nBADTAG\r\n\r\na2 NOOP\r\n");
    assert_eq!(
        ev,
        vec![
            Ev::Bad(Some("a1".into()), "Expected SP and sequence set".into()),
            Ev::Bad(Some("BADTAG".into()), "Missing command".into()),
            Ev::Bad(None, "Missing or invalid tag".into()),
            Ev::Cmd("a2".into(), CommandBody::Noop),
        ]
    );
}

#[test]
fn sync_inline_literal_asks_then_buffers() {
    let ev = run(b"a LOGIN {5}\r\nfred! {3}\r\npw!\r\n");
    assert_eq!(ev.len(), 5);
    assert!(matches!(&ev[0], Ev::Req(r) if r.size == 5 && r.sync && r.kind == LiteralKind::Inline && r.tag == "a"));
    assert_eq!(ev[1], Ev::Sent(CONTINUE_LITERAL.to_vec()));
    assert_eq!(
        ev[4],
        Ev::Cmd(
            "a".into(),
            CommandBody::Login {
                username: b"fred!".to_vec(),
                password: b"pw!".to_vec()
            }
        )
    );
}

#[test]
fn nonsync_inline_literal_needs_no_decision() {
    let ev = run(b"a LOGIN {4+}\r\nfred {0+}\r\n\r\n");
    assert_eq!(
        ev,
        vec![Ev::Cmd(
            "a".into(),
            CommandBody::Login {
                username: b"fred".to_vec(),
                password: Vec::new()
            }
        )]
    );
}

#[test]
fn literal_inside_quotes_is_text() {
    let ev = run(b"a LOGIN \"x {5}\r\na2 NOOP\r\n");
    assert_eq!(ev[0], Ev::Bad(Some("a".into()), "Unterminated quoted string".into()));
    assert_eq!(ev[1], Ev::Cmd("a2".into(), CommandBody::Noop));
}

#[test]
fn rejected_sync_literal_resets() {
    let ev = run_with(FramerConfig::default(), b"a LOGIN {5}\r\nb NOOP\r\n", 3, &mut |_| false);
    assert!(matches!(ev[0], Ev::Req(_)));
    assert_eq!(ev[1], Ev::Cmd("b".into(), CommandBody::Noop));
}

#[test]
fn oversized_inline_literals() {
    // Synchronising: BAD, not invited, next command fine.
    let ev = run_with(small(), b"a LOGIN {21}\r\nb NOOP\r\n", 1, &mut |_| true);
    assert_eq!(
        ev,
        vec![
            Ev::Bad(Some("a".into()), "Literal too large".into()),
            Ev::Cmd("b".into(), CommandBody::Noop)
        ]
    );
    // Non-synchronising: fatal.
    let ev = run_with(
        small(),
        b"a LOGIN {21+}\r\n012345678901234567890 x\r\nb NOOP\r\n",
        4,
        &mut |_| true,
    );
    assert_eq!(ev, vec![Ev::Fatal(Some("a".into()), "Literal too large".into())]);
    // The whole command is capped too.
    let cfg = FramerConfig {
        max_command: 60,
        ..small()
    };
    let ev = run_with(
        cfg,
        b"a LOGIN {20+}\r\n01234567890123456789 {20+}\r\n01234567890123456789 {20+}\r\n01234567890123456789\r\n",
        5,
        &mut |_| true,
    );
    assert_eq!(ev, vec![Ev::Fatal(Some("a".into()), "Literal too large".into())]);
    // A size beyond u64 is simply too large.
    let ev = run(b"a LOGIN {99999999999999999999999}\r\nb NOOP\r\n");
    assert_eq!(ev[0], Ev::Bad(Some("a".into()), "Literal too large".into()));
}

#[test]
fn literal_minus_limits_nonsync() {
    let cfg = FramerConfig {
        literal_minus: true,
        ..FramerConfig::default()
    };
    let ev = run_with(cfg.clone(), b"a APPEND x {4097+}\r\n", 100, &mut |_| true);
    assert_eq!(
        ev,
        vec![Ev::Fatal(
            Some("a".into()),
            "Non-synchronizing literal larger than 4096 octets (LITERAL-)".into()
        )]
    );
    let ev = run_with(cfg, b"a APPEND x {4097}\r\n", 100, &mut |_| false);
    assert!(matches!(&ev[0], Ev::Req(r) if r.size == 4097));
}

#[test]
fn overlong_line_is_bad_and_skipped() {
    let mut input = b"a1 LOGIN ".to_vec();
    input.extend(std::iter::repeat_n(b'x', 200));
    input.extend_from_slice(b" y\r\na2 NOOP\r\n");
    for chunk in [1, 9, 50, 1000] {
        let ev = run_with(small(), &input, chunk, &mut |_| true);
        assert_eq!(
            ev,
            vec![
                Ev::Bad(Some("a1".into()), "Command line too long".into()),
                Ev::Cmd("a2".into(), CommandBody::Noop)
            ],
            "chunk {chunk}"
        );
    }
    // An over-long line ending in a non-synchronising literal: the literal
    // is skipped too, not taken for commands.
    let mut input = b"a1 X ".to_vec();
    input.extend(std::iter::repeat_n(b'x', 200));
    input.extend_from_slice(b" {12+}\r\nb0 LOGOUT\r\n\r\na2 NOOP\r\n");
    for chunk in [1, 9, 1000] {
        let ev = run_with(small(), &input, chunk, &mut |_| true);
        assert_eq!(
            ev,
            vec![
                Ev::Bad(Some("a1".into()), "Command line too long".into()),
                Ev::Cmd("a2".into(), CommandBody::Noop)
            ],
            "chunk {chunk}"
        );
    }
}

#[test]
fn framer_memory_stays_bounded() {
    // 10 MB of junk without a newline: the framer must not keep it.
    let mut f = Framer::new(FramerConfig::default());
    let junk = vec![b'x'; 64 * 1024];
    let mut bads = 0;
    for _ in 0..160 {
        f.feed(&junk);
        while let Some(ev) = f.next_event() {
            assert!(matches!(ev, Event::Bad(_)));
            bads += 1;
        }
        assert!(f.buffered() == 0);
        assert!(f.cmd.len() <= 64 * 1024 + 2);
    }
    assert_eq!(bads, 1);
    f.feed(b"\r\na NOOP\r\n");
    assert!(matches!(f.next_event(), Some(Event::Command(_))));
}

#[test]
fn append_streams_the_message() {
    let msg = b"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nSubject: hi\r\n\r\nHello\r\n";
    let mut input = format!("A003 APPEND saved-messages (\\Seen) {{{}}}\r\n", msg.len()).into_bytes();
    input.extend_from_slice(msg);
    input.extend_from_slice(b"\r\nA004 NOOP\r\n");
    let ev = run(&input);
    assert_eq!(ev.len(), 6, "{ev:?}");
    let Ev::Req(r) = &ev[0] else { panic!() };
    assert_eq!((r.tag.as_str(), r.size, r.sync), ("A003", msg.len() as u64, true));
    let LiteralKind::Append(a) = &r.kind else { panic!() };
    assert_eq!(
        (a.mailbox.as_str(), a.flags.clone(), a.index, a.binary),
        ("saved-messages", vec!["\\Seen".to_string()], 0, false)
    );
    assert_eq!(ev[1], Ev::Sent(CONTINUE_LITERAL.to_vec()));
    assert_eq!(ev[2], Ev::Data(msg.to_vec()));
    assert_eq!(ev[3], Ev::End);
    assert_eq!(ev[4], Ev::AppendEnd("A003".into()));
    assert_eq!(ev[5], Ev::Cmd("A004".into(), CommandBody::Noop));
}

#[test]
fn append_data_is_chunked_not_buffered() {
    let size = 1_000_000usize;
    let mut f = Framer::new(FramerConfig::default());
    f.feed(format!("a APPEND INBOX {{{size}+}}\r\n").as_bytes());
    assert!(matches!(f.next_event(), Some(Event::LiteralRequest(_))));
    assert_eq!(f.accept_literal(), None);
    let chunk = vec![b'm'; 8192];
    let mut got = 0;
    while got < size {
        let n = chunk.len().min(size - got);
        f.feed(&chunk[..n]);
        while let Some(ev) = f.next_event() {
            match ev {
                Event::LiteralData(d) => got += d.len(),
                Event::LiteralEnd => assert_eq!(got, size),
                other => panic!("{other:?}"),
            }
        }
        assert!(f.input.len() <= 8192, "framer kept {} octets", f.input.len());
    }
    f.feed(b"\r\n");
    assert_eq!(f.next_event(), Some(Event::AppendEnd { tag: "a".into() }));
}

#[test]
fn multiappend_and_literal_mailbox() {
    let input =
        b"a APPEND {5}\r\nInBoX (\\Seen) \" 7-Feb-1994 22:43:04 +0100\" {3}\r\nabc (\\Draft) ~{2}\r\n\0b {0+}\r\n\r\n";
    let ev = run(input);
    let reqs: Vec<&LiteralRequest> = ev
        .iter()
        .filter_map(|e| if let Ev::Req(r) = e { Some(r) } else { None })
        .collect();
    assert_eq!(reqs.len(), 4);
    assert_eq!(reqs[0].kind, LiteralKind::Inline);
    let LiteralKind::Append(m1) = &reqs[1].kind else {
        panic!()
    };
    assert_eq!((m1.mailbox.as_str(), m1.index), ("INBOX", 0));
    assert!(m1.date.is_some());
    let LiteralKind::Append(m2) = &reqs[2].kind else {
        panic!()
    };
    assert_eq!(
        (m2.index, m2.binary, m2.flags.clone()),
        (1, true, vec!["\\Draft".to_string()])
    );
    let LiteralKind::Append(m3) = &reqs[3].kind else {
        panic!()
    };
    assert_eq!((m3.index, reqs[3].sync, reqs[3].size), (2, false, 0));
    let data: Vec<&Ev> = ev.iter().filter(|e| matches!(e, Ev::Data(_))).collect();
    assert_eq!(data, vec![&Ev::Data(b"abc".to_vec()), &Ev::Data(b"\0b".to_vec())]);
    assert_eq!(ev.last(), Some(&Ev::AppendEnd("a".into())));
    assert_eq!(ev.iter().filter(|e| **e == Ev::End).count(), 3);
}

#[test]
fn append_rejections() {
    // Synchronising literal refused (e.g. NO [TOOBIG]): nothing to skip.
    let ev = run_with(
        FramerConfig::default(),
        b"a APPEND INBOX {999999}\r\nb NOOP\r\n",
        4,
        &mut |r| r.kind == LiteralKind::Inline,
    );
    assert!(matches!(&ev[0], Ev::Req(r) if r.size == 999999));
    assert_eq!(ev[1], Ev::Cmd("b".into(), CommandBody::Noop));
    // Non-synchronising literal refused: its data and the rest of the
    // command are skipped, including a following non-sync literal.
    let ev = run_with(
        FramerConfig::default(),
        b"a APPEND nosuch {5+}\r\nb NOO (\\Seen) {4+}\r\nc NO\r\nb NOOP\r\n",
        3,
        &mut |_| false,
    );
    assert_eq!(ev.len(), 2, "{ev:?}");
    assert_eq!(ev[1], Ev::Cmd("b".into(), CommandBody::Noop));
    // Garbage after a message: BAD with the APPEND's tag.
    let ev = run(b"a APPEND x {1}\r\nm junk\r\nb NOOP\r\n");
    assert_eq!(
        ev[4],
        Ev::Bad(
            Some("a".into()),
            "Expected flags, date-time or literal in APPEND".into()
        )
    );
    assert_eq!(ev[5], Ev::Cmd("b".into(), CommandBody::Noop));
    // Malformed before the literal.
    let ev = run(b"a APPEND x (\\Seen {1}\r\nb NOOP\r\n");
    assert_eq!(ev[0], Ev::Bad(Some("a".into()), "Expected flag".into()));
    assert_eq!(ev[1], Ev::Cmd("b".into(), CommandBody::Noop));
    // literal8 outside APPEND.
    let ev = run(b"a LOGIN ~{1}\r\nb NOOP\r\n");
    assert_eq!(
        ev[0],
        Ev::Bad(Some("a".into()), "literal8 is only allowed for APPEND data".into())
    );
}

#[test]
fn raw_lines() {
    let mut f = Framer::new(small());
    f.feed(b"dXNlcg==\r\nDONE\r\n");
    assert_eq!(f.raw_line(), Some(Ok(b"dXNlcg==".to_vec())));
    assert_eq!(f.raw_line(), Some(Ok(b"DONE".to_vec())));
    assert_eq!(f.raw_line(), None);
    f.feed(&[b'x'; 100]);
    assert_eq!(f.raw_line(), Some(Err(LineTooLong)));
    f.feed(b"xx\r\na NOOP\r\n");
    assert!(matches!(f.next_event(), Some(Event::Command(_))));
    // An over-long raw line is skipped by raw_line itself (IDLE keeps
    // reading raw lines after one).
    f.feed(&[b'x'; 100]);
    assert_eq!(f.raw_line(), Some(Err(LineTooLong)));
    f.feed(&[b'x'; 100]);
    assert_eq!(f.raw_line(), None);
    f.feed(b"x\r\nDONE\r\n");
    assert_eq!(f.raw_line(), Some(Ok(b"DONE".to_vec())));
}

#[test]
fn utf8_mode_switch() {
    let mut f = Framer::new(FramerConfig::default());
    f.feed("a SELECT \"Entw\u{fc}rfe\"\r\n".as_bytes());
    assert!(matches!(f.next_event(), Some(Event::Bad(_))));
    f.set_utf8(true);
    f.feed("a SELECT \"Entw\u{fc}rfe\"\r\n".as_bytes());
    assert!(matches!(f.next_event(), Some(Event::Command(_))));
}

#[test]
fn random_input_never_panics() {
    let mut state: u64 = 0x1234_5678_9abc_def1;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let pieces: &[&[u8]] = &[
        b"a ",
        b"APPEND ",
        b"x ",
        b"{3}",
        b"{2+}",
        b"~{1}",
        b"\r\n",
        b"\n",
        b"abc",
        b"(\\Seen) ",
        b"\"",
        b"NOOP",
        b"LOGIN ",
        b"}",
        b"{",
        b"FETCH 1 BODY[]",
    ];
    for _ in 0..2000 {
        let mut input = Vec::new();
        for _ in 0..(rnd() % 30) {
            input.extend_from_slice(pieces[(rnd() as usize) % pieces.len()]);
        }
        let chunk = (rnd() % 8 + 1) as usize;
        let _ = run_with(small(), &input, chunk, &mut |_| rnd() % 2 == 0);
        // However the input is split, the same events come out.
        let whole = run_with(small(), &input, usize::MAX, &mut |_| true);
        let split = run_with(small(), &input, chunk, &mut |_| true);
        assert_eq!(whole, split, "{:?} / {chunk}", String::from_utf8_lossy(&input));
    }
}
