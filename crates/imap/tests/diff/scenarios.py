"""Scenarios for imapdiff.py: each is a name and a list of steps.

A step is a whole command with its tag (`\\r\\n` inside a step separates a
synchronising literal from the rest), `@N cmd` to run it on connection N,
`~SECONDS` to collect unsolicited responses, or `DONE` to end IDLE.
"""


def crlf(s):
    return s.replace("\r\n", "\n").replace("\n", "\r\n")


SIMPLE = crlf("""From: Alice Example <alice@example.test>
To: Bob <bob@example.test>, carol@example.test
Cc: Dave <dave@example.test>
Subject: Hello world
Date: Mon, 7 Feb 1994 21:52:25 -0800
Message-ID: <simple-1@example.test>
Content-Type: text/plain; charset=us-ascii

Hello Bob,
this is a simple test message.
Bye.
""")

MULTI = crlf("""From: "Carol, Q." <carol@example.test>
To: undisclosed-recipients:;
Subject: =?UTF-8?B?SGVsbG8gw6lsw6g=?= multipart
Date: Tue, 08 Feb 1994 10:00:00 +0000
Message-ID: <multi-2@example.test>
In-Reply-To: <simple-1@example.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

This is the preamble.
--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Caf=C3=A9 au lait, s'il vous pla=C3=AEt.
--inner
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 8bit

<p>Caf\u00e9 au lait</p>
--inner--
--outer
Content-Type: application/pdf; name="=?UTF-8?Q?r=C3=A9sum=C3=A9.pdf?="
Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf
Content-Transfer-Encoding: base64
Content-ID: <part3@example.test>
Content-Description: My CV
Content-Language: en, fr
Content-Location: http://example.test/cv.pdf

JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K
ZW5kc3RyZWFtCmVuZG9iagp0cmFpbGVyCjw8Pj4KJSVFT0YK
--outer
Content-Type: message/rfc822

From: Eve <eve@example.test>
To: Frank <frank@example.test>
Subject: inner message
Date: Wed, 09 Feb 1994 11:00:00 +0100
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="deep"

--deep
Content-Type: text/plain

deep text
--deep
Content-Type: image/png; name=x.png
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--deep--
--outer--
epilogue
""")

GROUPS = crlf("""From: alice@example.test
Sender: secretary@example.test
Reply-To: list@example.test
To: Friends: bob@example.test, "Carol" <carol@example.test>;, dave@example.test
Bcc: hidden@example.test
Subject: groups and "quotes" \\ backslash
Date: Thu, 10 Feb 1994 12:00:00 -0500
Content-Type: TEXT/Plain; CHARSET="ISO-8859-1"; format=flowed
Content-Transfer-Encoding: 8bit
X-Custom: Some Value

Gr\u00fc\u00dfe aus M\u00fcnchen
""")

NOHEAD = crlf("""Subject: no from no date

just a body without much header
""")

BIG_LINES = "\r\n".join("line %04d of a biggish message body, padded out somewhat" % i for i in range(200))
BIG = crlf("""From: big@example.test
To: alice@example.test
Subject: big one
Date: Fri, 11 Feb 1994 13:00:00 +0000
X-Priority: 1

""") + BIG_LINES + "\r\n"

ENC8 = crlf("""From: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>
To: =?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>
Subject: =?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?= =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=
Date: Sat, 12 Feb 1994 14:00:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable

Andr=E9 says hello =
soft break here.
""")

MSGS = [SIMPLE, MULTI, GROUPS, NOHEAD, BIG, ENC8]
DATES = ["07-Feb-1994 21:52:25 -0800", "08-Feb-1994 10:00:00 +0000", "10-Feb-1994 12:00:00 -0500",
         "01-Jan-2020 00:00:00 +0000", "11-Feb-1994 13:00:00 +0000", "12-Feb-1994 14:00:00 +0000"]


def append(tag, mbox, msg, flags="", date=None):
    b = msg if isinstance(msg, bytes) else msg.encode("utf-8")
    fl = f" ({flags})" if flags is not None else ""
    d = f' "{date}"' if date else ""
    return f"{tag} APPEND {mbox}{fl}{d} {{{len(b)}}}\r\n".encode() + b


def load(mbox="INBOX", which=range(len(MSGS)), flags=None):
    flags = flags or {}
    return [append(f"s{i}", mbox, MSGS[i], flags.get(i, ""), DATES[i]) for i in which]


def sc(name, steps):
    return {"name": name, "steps": steps}


SCENARIOS = []
S = SCENARIOS.append

S(sc("caps", ["a CAPABILITY", "b NOOP", "c ID NIL", "d ID (\"name\" \"x\")"]))
S(sc("list-basic", [
    'a LIST "" ""', 'b LIST "" *', 'c LIST "" %', 'd CREATE foo/bar/baz', 'e LIST "" %',
    'f LIST "" foo/%', 'g LIST foo *', 'h LIST "" "foo*"', 'i LIST "" "*/baz"', 'j LIST "" "Inbox"',
    'k LIST "" "inbox"', 'l LIST "foo/" %', 'm LIST "" foo', 'n LIST "~" *', 'o LIST "" "%/%"',
    'p LSUB "" *', 'q SUBSCRIBE foo/bar', 'r LSUB "" *', 's LSUB "" %', 't LSUB "" foo/%',
    'u LIST "" "f%"', 'v LIST "" "*bar*"', 'w DELETE foo', 'x LIST "" *', 'y LSUB "" *',
]))
S(sc("list-extended", [
    'a CREATE foo/bar', 'a2 SUBSCRIBE foo/bar', 'a3 SUBSCRIBE gone', 'b LIST (SUBSCRIBED) "" *',
    'c LIST (SUBSCRIBED RECURSIVEMATCH) "" %', 'd LIST "" * RETURN (SUBSCRIBED)',
    'e LIST "" % RETURN (CHILDREN)', 'f LIST (SPECIAL-USE) "" *', 'g LIST "" * RETURN (SPECIAL-USE)',
    'h LIST "" (INBOX foo) ', 'i LIST "" (INBOX "foo/*")', 'j LIST (REMOTE) "" %',
    'k LIST "" % RETURN (STATUS (MESSAGES UIDNEXT UNSEEN))', 'l LIST (SUBSCRIBED) "" % RETURN (STATUS (MESSAGES))',
    'm LIST (BOGUS) "" %', 'n LIST "" % RETURN (BOGUS)', 'o LIST () "" % RETURN ()',
    'p CREATE Stuff (USE (\\Flagged))', 'q CREATE Stuff2 (USE (\\Bogus))', 'r LIST "" Stuff*',
]))
S(sc("create-delete-rename", [
    'a CREATE INBOX', 'b CREATE inbox', 'c CREATE foo/', 'd LIST "" *', 'e CREATE foo', 'f CREATE a/b/c',
    'g DELETE a', 'h LIST "" a*', 'i DELETE a', 'j DELETE nonexist', 'k RENAME a/b x/y', 'l LIST "" *',
    'm RENAME nonexist z', 'n RENAME x/y foo', 'o RENAME x x', 'p DELETE INBOX', 'q RENAME foo INBOX',
    'r RENAME INBOX old-inbox', 's LIST "" *', 't SELECT old-inbox', 'u CREATE ""', 'v DELETE ""',
    'w CREATE "with space"', 'x RENAME "with space" "more space/child"', 'y LIST "" *',
    'z CREATE "a%b"', 'z2 CREATE "a*b"',
]))
S(sc("rename-inbox-msgs", load(which=[0, 1]) + [
    'a RENAME INBOX saved', 'b STATUS saved (MESSAGES UIDNEXT)', 'c STATUS INBOX (MESSAGES UIDNEXT)',
    'd SELECT INBOX', 'e SELECT saved', 'f FETCH 1:* (UID FLAGS)',
]))
S(sc("mutf7", [
    'a CREATE "&AOk-t&AOk-"', 'b LIST "" *', 'c CREATE "Bad&Name"', 'd CREATE "&Jjo-!"',
    'e CREATE "&U,BTFw-/&ZeVnLIqe-"', 'f LIST "" *', 'g STATUS "&AOk-t&AOk-" (MESSAGES)',
    'h ENABLE IMAP4rev2', 'i LIST "" *', 'j CREATE "Entwürfe"', 'k LIST "" *',
    'l SELECT "&AOk-t&AOk-"', 'm SELECT "été"',
]))
S(sc("select-status", load(which=[0, 1, 2], flags={0: "\\Seen", 1: "\\Deleted $Forwarded"}) + [
    'a STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN SIZE)', 'b SELECT INBOX',
    'c STATUS INBOX (MESSAGES RECENT UNSEEN)', 'd STATUS INBOX (DELETED)', 'e STATUS nonexist (MESSAGES)',
    'f STATUS INBOX ()', 'g STATUS INBOX (BOGUS)', 'h EXAMINE INBOX', 'i STORE 1 +FLAGS (\\Flagged)',
    'j CLOSE', 'k SELECT nonexist', 'l FETCH 1 FLAGS', 'm EXAMINE INBOX', 'n UNSELECT', 'o UNSELECT',
    'p CLOSE', 'q SELECT Sent', 'r SELECT INBOX', 's STATUS INBOX (MESSAGES)',
]))
S(sc("recent", load(which=[0, 1]) + [
    'a SELECT INBOX', 'b FETCH 1:* FLAGS', 'c SEARCH RECENT', 'd SEARCH NEW', 'e SEARCH OLD',
    '@1 f SELECT INBOX', '@1 g FETCH 1:* FLAGS', 'h STORE 1 FLAGS (\\Recent)', 'i STORE 1 +FLAGS (\\Seen)',
    'j UNSELECT', 'k SELECT INBOX', 'l FETCH 1:* FLAGS',
]))
S(sc("fetch-empty", [
    'a SELECT INBOX', 'b FETCH 1:* FLAGS', 'c UID FETCH 1:* FLAGS', 'd FETCH 1 FLAGS', 'e FETCH * FLAGS',
    'f SEARCH ALL', 'g UID SEARCH ALL', 'h STORE 1:* +FLAGS (\\Seen)', 'i UID STORE 1:* +FLAGS (\\Seen)',
    'j COPY 1:* Sent', 'k UID COPY 1:* Sent', 'l EXPUNGE', 'm UID EXPUNGE 1:*', 'n SEARCH RETURN (MIN MAX COUNT) ALL',
    'o MOVE 1:* Sent', 'p UID MOVE 1:* Sent',
]))
S(sc("fetch-basic", load() + [
    'a SELECT INBOX', 'b FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE)', 'c FETCH 1:* ENVELOPE',
    'd FETCH 1:* BODY', 'e FETCH 1:* BODYSTRUCTURE', 'f FETCH 1 ALL', 'g FETCH 2 FAST', 'h FETCH 3 FULL',
    'i FETCH * UID', 'j FETCH 7 UID', 'k UID FETCH 7 FLAGS', 'l UID FETCH 5:100 UID', 'm UID FETCH *:4 UID',
    'n FETCH 3:1 UID', 'o UID FETCH 100:* UID', 'p FETCH 0 UID', 'q FETCH 1,1,2 UID', 'r UID FETCH 2 (FLAGS)',
]))
S(sc("fetch-sections", load() + [
    'a EXAMINE INBOX',
    'b FETCH 1 BODY[]', 'c FETCH 1 BODY[HEADER]', 'd FETCH 1 BODY[TEXT]', 'e FETCH 1 BODY[1]', 'f FETCH 1 BODY[1.MIME]',
    'g FETCH 1 BODY[2]', 'h FETCH 1 BODY[HEADER.FIELDS (subject FROM x-nothere)]', 'i FETCH 1 BODY[HEADER.FIELDS.NOT (Subject from)]',
    'j FETCH 2 BODY[1]', 'k FETCH 2 BODY[1.1]', 'l FETCH 2 BODY[1.2.MIME]', 'm FETCH 2 BODY[2]', 'n FETCH 2 BODY[2.MIME]',
    'o FETCH 2 BODY[3]', 'p FETCH 2 BODY[3.HEADER]', 'q FETCH 2 BODY[3.TEXT]', 'r FETCH 2 BODY[3.1]', 's FETCH 2 BODY[3.2]',
    't FETCH 2 BODY[3.1.2]', 'u FETCH 2 BODY[3.MIME]', 'v FETCH 2 BODY[4]', 'w FETCH 2 BODY[1.MIME]', 'x FETCH 2 BODY[HEADER.FIELDS (CONTENT-TYPE)]',
    'y FETCH 2 BODY[3.HEADER.FIELDS (SUBJECT)]', 'z FETCH 2 BODY[1.1.MIME]', 'z1 FETCH 2 BODY[9.9]', 'z2 FETCH 2 BODY[0]',
    'z3 FETCH 2 BODY[TEXT]', 'z4 FETCH 2 BODY[1.TEXT]', 'z5 FETCH 2 BODY[3.1.MIME]', 'z6 FETCH 4 BODY[1]', 'z7 FETCH 4 BODY[1.MIME]',
    'z8 FETCH 4 BODY[HEADER.FIELDS ("Subject")]', 'z9 FETCH 1 BODY[header.fields (subject)]', 'y1 FETCH 1 BODY[MIME]',
    'y2 FETCH 3 BODY[HEADER.FIELDS (To)]', 'y3 FETCH 1 (BODY[HEADER.FIELDS (Subject)] BODY[HEADER.FIELDS (From)])',
]))
S(sc("fetch-partial", load() + [
    'a EXAMINE INBOX', 'b FETCH 1 BODY[]<0.20>', 'c FETCH 1 BODY[]<10.5>', 'd FETCH 1 BODY[]<100000.10>',
    'e FETCH 1 BODY[]<300.1000>', 'f FETCH 1 BODY[TEXT]<5.10>', 'g FETCH 1 BODY[1]<0.0>', 'h FETCH 1 BODY[HEADER]<0.30>',
    'i FETCH 5 BODY.PEEK[]<0.2048>', 'j FETCH 1 BINARY[]<0.10>', 'k FETCH 1 BODY[]<4294967295.1>', 'l FETCH 1 BODY[]<0.4294967295>',
    'm FETCH 1 BODY[]<1.>', 'n FETCH 1 BODY[]<-1.2>', 'o FETCH 1 RFC822.HEADER', 'p FETCH 1 RFC822.TEXT', 'q FETCH 1 (FLAGS RFC822.SIZE)',
    'r FETCH 1 BODY[]<5000000000.1>',
]))
S(sc("fetch-seen", load() + [
    'a SELECT INBOX', 'b FETCH 1 BODY.PEEK[]', 'c FETCH 1 FLAGS', 'd FETCH 1 BODY[HEADER]', 'e FETCH 1 FLAGS',
    'f FETCH 2 RFC822.HEADER', 'g FETCH 2 FLAGS', 'h FETCH 3 RFC822', 'i FETCH 4 BINARY[1]', 'j FETCH 5 BINARY.PEEK[1]',
    'k FETCH 5 BINARY.SIZE[1]', 'l FETCH 6 RFC822.TEXT', 'm FETCH 1:* FLAGS', 'n EXAMINE INBOX', 'o FETCH 1:* FLAGS',
    'p STORE 1:* -FLAGS (\\Seen)', 'q FETCH 1 BODY[TEXT]', 'r FETCH 1 FLAGS', 's UID FETCH 2 BODY[1]',
]))
S(sc("binary", load() + [
    'a EXAMINE INBOX', 'b FETCH 2 BINARY[1.1]', 'c FETCH 2 BINARY.SIZE[1.1]', 'd FETCH 2 BINARY[2]', 'e FETCH 2 BINARY.SIZE[2]',
    'f FETCH 2 BINARY[2]<0.5>', 'g FETCH 6 BINARY[1]', 'h FETCH 6 BINARY.SIZE[1]', 'i FETCH 6 BINARY[]', 'j FETCH 2 BINARY[1]',
    'k FETCH 2 BINARY[3]', 'l FETCH 2 BINARY.SIZE[3]', 'm FETCH 2 BINARY[HEADER]', 'n FETCH 1 BINARY.SIZE[]', 'o FETCH 2 BINARY[1.2]',
]))
S(sc("store", load(which=[0, 1, 2]) + [
    'a SELECT INBOX', 'b STORE 1 FLAGS (\\Seen \\Flagged)', 'c STORE 1 +FLAGS (foo $Bar)', 'd STORE 1 -FLAGS (\\Seen FOO)',
    'e STORE 1:* +FLAGS.SILENT (\\Answered)', 'f FETCH 1:* FLAGS', 'g UID STORE 2 -FLAGS.SILENT (\\Answered)',
    'h STORE 2 FLAGS ()', 'i STORE 1 +FLAGS (\\Bogus)', 'j STORE 1 FLAGS (\\Recent)', 'k STORE 4 +FLAGS (\\Seen)',
    'l UID STORE 4:10 +FLAGS (\\Seen)', 'm STORE 1 +FLAGS \\Deleted', 'n STORE 1 +FLAGS.SILENT (\\Deleted)',
    'o STORE 1 BOGUS (\\Seen)', 'p FETCH 1:* FLAGS', 'q SELECT INBOX', 'r STORE 1 FLAGS (a b c d e)', 's STORE 1 FLAGS (\\seen)',
    't FETCH 1 FLAGS', 'u STORE 1 +FLAGS (\\*)', 'v STORE 1 +FLAGS ("quoted")', 'w STORE 1 +FLAGS (a]b)',
]))
S(sc("store-readonly", load(which=[0]) + [
    'a EXAMINE INBOX', 'b STORE 1 +FLAGS (\\Seen)', 'c EXPUNGE', 'd UID EXPUNGE 1', 'e COPY 1 Sent', 'f MOVE 1 Sent', 'g FETCH 1 FLAGS',
]))
S(sc("expunge", load(which=[0, 1, 2, 3, 4]) + [
    'a SELECT INBOX', 'b STORE 2,4 +FLAGS (\\Deleted)', 'c EXPUNGE', 'd FETCH 1:* UID', 'e STORE 1:* +FLAGS (\\Deleted)',
    'f UID EXPUNGE 3', 'g UID EXPUNGE 1:2', 'h FETCH 1:* UID', 'i CLOSE', 'j SELECT INBOX', 'k FETCH 1:* UID',
]))
S(sc("close-vs-unselect", load(which=[0, 1]) + [
    'a SELECT INBOX', 'b STORE 1 +FLAGS (\\Deleted)', 'c UNSELECT', 'd SELECT INBOX', 'e CLOSE', 'f STATUS INBOX (MESSAGES)',
    'g EXAMINE INBOX', 'h CLOSE', 'i CHECK', 'j SELECT INBOX', 'k CHECK',
]))
S(sc("copy-move", load(which=[0, 1, 2]) + [
    'a SELECT INBOX', 'b COPY 1:2 Sent', 'c UID COPY 3 Sent', 'd COPY 1 nonexist', 'e MOVE 2 Trash', 'f FETCH 1:* UID',
    'g UID MOVE 1:* Archive', 'h STATUS Sent (MESSAGES UIDNEXT)', 'i SELECT Sent', 'j FETCH 1:* (UID FLAGS)',
    'k COPY 1:* Sent', 'l FETCH 1:* UID', 'm MOVE 1 Sent', 'n UID COPY 100 Trash', 'o COPY 99 Trash', 'p UID MOVE 1,3 Trash',
]))
S(sc("copy-flags", load(which=[0, 1], flags={0: "\\Seen \\Flagged kw1", 1: "\\Draft"}) + [
    'a SELECT INBOX', 'b COPY 1:2 Drafts', 'c SELECT Drafts', 'd FETCH 1:* (FLAGS)', 'e MOVE 1 INBOX', 'f SELECT INBOX',
    'g FETCH 1:* (UID FLAGS)',
]))
S(sc("search", load(flags={0: "\\Seen", 1: "\\Flagged kw1", 2: "\\Deleted \\Answered", 3: "\\Draft"}) + [
    'a SELECT INBOX', 'b SEARCH ALL', 'c SEARCH SEEN', 'd SEARCH UNSEEN', 'e SEARCH FLAGGED UNFLAGGED', 'f SEARCH OR SEEN FLAGGED',
    'g SEARCH NOT SEEN', 'h SEARCH (OR SEEN (FLAGGED)) NOT DELETED', 'i SEARCH KEYWORD kw1', 'j SEARCH UNKEYWORD kw1', 'k SEARCH KEYWORD nope',
    'l SEARCH ANSWERED DELETED', 'm SEARCH DRAFT', 'n SEARCH UNDRAFT', 'o SEARCH UNANSWERED', 'p SEARCH UNDELETED',
    'q SEARCH FROM alice', 'r SEARCH FROM "Alice Example"', 's SEARCH TO bob', 't SEARCH CC dave', 'u SEARCH BCC hidden',
    'v SEARCH SUBJECT hello', 'w SEARCH SUBJECT "HELLO WORLD"', 'x SEARCH BODY "simple test"', 'y SEARCH TEXT "simple test"',
    'z SEARCH TEXT alice', 'z1 SEARCH HEADER X-Custom "some"', 'z2 SEARCH HEADER X-Custom ""', 'z3 SEARCH HEADER X-Nothere ""',
    'z4 SEARCH LARGER 1000', 'z5 SEARCH SMALLER 500', 'z6 SEARCH 2:4', 'z7 SEARCH UID 2:4', 'z8 SEARCH 2:4 UID 3:*',
    'z9 SEARCH *', 'y1 SEARCH 1,3,5:*', 'y2 UID SEARCH ALL', 'y3 UID SEARCH 1:2', 'y4 SEARCH NOT NOT SEEN',
    'y5 SEARCH OR OR SEEN FLAGGED DRAFT', 'y6 SEARCH (SEEN) (UNSEEN)', 'y7 SEARCH ((((SEEN))))', 'y8 SEARCH BOGUS',
    'y9 SEARCH', 'x1 SEARCH OR SEEN', 'x2 SEARCH (SEEN', 'x3 SEARCH SEEN)', 'x4 SEARCH HEADER Subject hello',
    'x5 SEARCH SUBJECT caf', 'x6 SEARCH BODY café', 'x7 SEARCH CHARSET UTF-8 BODY café', 'x8 SEARCH CHARSET UTF-8 SUBJECT "Hello él"',
    'x9 SEARCH CHARSET BOGUS ALL', 'w1 SEARCH CHARSET US-ASCII ALL', 'w2 SEARCH SUBJECT "Hello \u00e9l\u00e8"',
    'w3 SEARCH FROM andré', 'w4 SEARCH CHARSET UTF-8 FROM "Andr\u00e9"', 'w5 SEARCH BODY "soft break"', 'w6 SEARCH BODY "lait"',
    'w7 SEARCH BODY "line 0150"', 'w8 SEARCH TEXT "X-Priority"', 'w9 SEARCH HEADER "subject" "WORLD"', 'v1 SEARCH NOT ALL',
    'v2 SEARCH FROM Alice SEEN', 'v3 SEARCH SUBJECT ""', 'v4 SEARCH NEW', 'v5 SEARCH BODY "deep text"',
    'v6 SEARCH HEADER Message-ID "<simple-1@example.test>"', 'v7 SEARCH TO "Friends"', 'v8 SEARCH TO "undisclosed"',
]))
S(sc("search-dates", load() + [
    'a SELECT INBOX', 'b SEARCH BEFORE 9-Feb-1994', 'c SEARCH ON 8-Feb-1994', 'd SEARCH SINCE 8-Feb-1994', 'e SEARCH SENTBEFORE 9-Feb-1994',
    'f SEARCH SENTON 7-Feb-1994', 'g SEARCH SENTSINCE 12-Feb-1994', 'h SEARCH SINCE 1-Jan-2020', 'i SEARCH ON "08-Feb-1994"',
    'j SEARCH BEFORE 32-Feb-1994', 'k SEARCH BEFORE 1-Foo-1994', 'l SEARCH SENTON 10-feb-1994', 'm SEARCH OLDER 1', 'n SEARCH YOUNGER 1',
    'o SEARCH YOUNGER 999999999', 'p SEARCH OLDER 0', 'q SEARCH SENTBEFORE 1-Jan-1900', 'r SEARCH ON 7-Feb-1994', 's SEARCH ON 8-FEB-1994',
]))
S(sc("esearch", load(flags={0: "\\Seen", 2: "\\Seen"}) + [
    'a SELECT INBOX', 'b SEARCH RETURN () UNSEEN', 'c SEARCH RETURN (MIN MAX) ALL', 'd SEARCH RETURN (COUNT) SEEN',
    'e SEARCH RETURN (ALL) UNSEEN', 'f UID SEARCH RETURN (MIN MAX COUNT ALL) ALL', 'g SEARCH RETURN (MIN) KEYWORD nope',
    'h SEARCH RETURN (COUNT) KEYWORD nope', 'i SEARCH RETURN (ALL) KEYWORD nope', 'j SEARCH RETURN (SAVE) UNSEEN', 'k FETCH $ UID',
    'l SEARCH $', 'm UID SEARCH UID $', 'n SEARCH RETURN (SAVE MIN) SEEN', 'o FETCH $ UID', 'p SEARCH RETURN (BOGUS) ALL',
    'q STORE $ +FLAGS (\\Flagged)', 'r SEARCH FLAGGED', 's UID SEARCH RETURN (SAVE) 1:2', 't UID FETCH $ UID', 'u SEARCH RETURN (SAVE) KEYWORD nope',
    'v FETCH $ UID', 'w SEARCH RETURN (COUNT) CHARSET UTF-8 ALL', 'x SEARCH RETURN (MIN MAX) 2,4', 'y UID COPY $ Sent',
]))
S(sc("rev2", load(which=[0, 1], flags={0: "\\Seen"}) + [
    'a ENABLE IMAP4rev2', 'b SELECT INBOX', 'c SEARCH ALL', 'd UID SEARCH UNSEEN', 'e FETCH 1 FLAGS', 'f LIST "" *', 'g LSUB "" *',
    'h STATUS INBOX (MESSAGES RECENT)', 'i SEARCH RECENT', 'j SEARCH KEYWORD nope', 'k ENABLE IMAP4rev2', 'l ENABLE BOGUS',
    'm STATUS INBOX (DELETED SIZE)', 'n FETCH 1 BINARY.SIZE[]', 'o EXPUNGE', 'p STORE 1 +FLAGS (\\Deleted)', 'q EXPUNGE',
]))
S(sc("enable-auth", ['a ENABLE IMAP4rev2 CONDSTORE UTF8=ACCEPT', 'b ENABLE', 'c SELECT INBOX', 'd ENABLE IMAP4rev2']))
S(sc("append", [
    append("a", "INBOX", SIMPLE), append("b", "INBOX", SIMPLE, "\\Seen kw", DATES[0]), append("c", "nonexist", SIMPLE),
    append("d", "INBOX", SIMPLE, "\\Recent"), append("e", "INBOX", SIMPLE, "\\Bogus"), append("f", "INBOX", SIMPLE, None, "bad date"),
    'g APPEND INBOX {0}\r\n', b'h APPEND INBOX (\\Seen) {5+}\r\nhello', 'i APPEND INBOX {3}\r\nabc',
    'j SELECT INBOX', 'k FETCH 1:* (UID FLAGS RFC822.SIZE)', append("l", "INBOX", SIMPLE), 'm NOOP',
    append("n", "Sent", SIMPLE, "\\Seen") + b" (\\Draft) " + ("{%d}\r\n" % len(MULTI.encode())).encode() + MULTI.encode(),
    'o STATUS Sent (MESSAGES UIDNEXT)', 'p APPEND INBOX {5}\r\nab\x00cd',
    append("q", "INBOX", "From: x\r\n\r\nbody" + "\u00e9"),
]))
S(sc("idle", load(which=[0, 1]) + [
    'a SELECT INBOX', 'b IDLE', '@1 c SELECT INBOX', '@1 d STORE 1 +FLAGS (\\Flagged)', '~1.0',
    append("@1 e", "INBOX", SIMPLE).decode(), '~1.0', '@1 f STORE 2 +FLAGS (\\Deleted)', '@1 g EXPUNGE', '~1.0', 'DONE', 'h NOOP',
    'i FETCH 1:* (UID FLAGS)',
]))
S(sc("concurrent-noidle", load(which=[0, 1, 2]) + [
    'a SELECT INBOX', '@1 b SELECT INBOX', '@1 c STORE 2 +FLAGS (\\Deleted)', '@1 d EXPUNGE',
    'e FETCH 1:* UID', 'f STORE 1 +FLAGS (\\Seen)', 'g SEARCH ALL', 'h UID SEARCH ALL', 'i NOOP', 'j FETCH 1:* UID',
    '@1 k STORE 1 +FLAGS (\\Answered)', 'l UID FETCH 1:* FLAGS', '@1 m UID EXPUNGE 3', 'n UID STORE 1 +FLAGS (\\Draft)',
    'o CHECK',
]))
S(sc("namespace-misc", [
    'a NAMESPACE', 'b CHECK', 'c LOGIN a b', 'd AUTHENTICATE PLAIN', 'e STARTTLS', 'f SELECT', 'g SELECT INBOX extra',
    'h FOOBAR', 'i fetch', 'j NOOP extra', 'k UID', 'l UID FOOBAR 1', 'm EXPUNGE', 'n CLOSE',
]))
S(sc("syntax-errors", [
    'a SELECT INBOX', 'b FETCH', 'c FETCH 1', 'd FETCH x FLAGS', 'e FETCH 1 (FLAGS', 'f FETCH 1 BOGUS', 'g FETCH 1 BODY[BOGUS]',
    'h STORE 1 FLAGS', 'i SEARCH', 'j COPY 1', 'k LIST', 'l LIST ""', 'm STATUS INBOX', 'n CREATE', 'o RENAME a',
    'p  NOOP', 'q NOOP ', 'r\tNOOP', '* NOOP', '+ NOOP', 'a)b NOOP', 's LOGOUT extra', 'u FETCH 1:2:3 FLAGS', 'v FETCH 1, FLAGS',
    'w LIST "" "unterminated', 'x SELECT "bad\\q"', 'y SELECT "\\"quoted\\""', 'z NOOP',
]))
S(sc("literal-in-command", load(which=[0]) + [
    'a SELECT {5}\r\nINBOX', 'b CREATE {3}\r\nfoo', 'c LIST "" {1}\r\n*', b'd STATUS {5+}\r\nINBOX (MESSAGES)',
    'e SEARCH SUBJECT {5}\r\nHello', b'f SEARCH CHARSET UTF-8 BODY {4}\r\ncaf\xc3',
    b'g SEARCH CHARSET UTF-8 SUBJECT {5}\r\nHELLO',
]))
S(sc("uid-edge", load(which=[0, 1, 2]) + [
    'a SELECT INBOX', 'b STORE 2 +FLAGS (\\Deleted)', 'c EXPUNGE', 'd UID FETCH 2 UID', 'e UID FETCH 1:3 UID', 'f UID FETCH 2:2 UID',
    'g UID FETCH * UID', 'h UID FETCH 3:* UID', 'i UID FETCH 4:* UID', 'j UID SEARCH UID 2', 'k UID SEARCH UID 4:*', 'l SEARCH UID 4:*',
    'm UID STORE 2 +FLAGS (\\Seen)', 'n UID COPY 2 Sent', 'o UID MOVE 2 Sent', 'p UID FETCH 4294967295 UID', 'q UID FETCH 4294967296 UID',
    'r FETCH 4294967296 UID', 's UID SEARCH 1:*', 't SEARCH 3', 'u UID EXPUNGE 2',
]))
S(sc("status-selected", load(which=[0, 1]) + [
    'a SELECT INBOX', 'b STATUS INBOX (MESSAGES UNSEEN RECENT UIDNEXT)', append("c", "INBOX", SIMPLE).decode(),
    'd STATUS INBOX (MESSAGES UNSEEN RECENT UIDNEXT)', 'e NOOP',
]))
S(sc("delete-selected", load(which=[0]) + [
    'a CREATE box', 'b SELECT box', 'c DELETE box', 'd NOOP', 'e FETCH 1 FLAGS', 'f LIST "" *',
]))
S(sc("subscribe", [
    'a SUBSCRIBE INBOX', 'b SUBSCRIBE nonexist', 'c LSUB "" *', 'd UNSUBSCRIBE nonexist', 'e UNSUBSCRIBE never', 'f LSUB "" *',
    'g CREATE x/y', 'h SUBSCRIBE x/y', 'i LSUB "" %', 'j LIST (SUBSCRIBED) "" *', 'k DELETE x/y', 'l LSUB "" *', 'm LIST (SUBSCRIBED) "" *',
]))


def noauth(name, steps):
    return {"name": name, "steps": steps, "noauth": True}


PLAIN_IR = "AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ="  # \0alice@example.test\0secret
PLAIN_BAD = "AGFsaWNlQGV4YW1wbGUudGVzdAB3cm9uZw=="  # wrong password
S(noauth("preauth-misc", [
    'a CAPABILITY', 'b NOOP', 'c SELECT INBOX', 'd ENABLE IMAP4rev2', 'e LIST "" *', 'f ID NIL', 'g LOGIN', 'h LOGIN a',
    'i LOGIN {user} wrong', 'j LOGIN "{user}" {6}\r\nsecret', 'k SELECT INBOX', 'l LOGOUT',
]))
S(noauth("auth-plain-ir", [f'a AUTHENTICATE PLAIN {PLAIN_BAD}', 'b AUTHENTICATE PLAIN {plain}', 'c NOOP']))
S(noauth("auth-plain-cont", ['a AUTHENTICATE PLAIN', '=a {plain}', 'b NOOP']))
S(noauth("auth-cancel", ['a AUTHENTICATE PLAIN', '=a *', 'b AUTHENTICATE PLAIN', '=b !!!notbase64', 'c AUTHENTICATE BOGUS',
                         'd AUTHENTICATE PLAIN =', 'e AUTHENTICATE LOGIN', '=e {user64}', '=e c2VjcmV0', 'f NOOP']))
S(sc("fetch-more", load() + [
    'a SELECT INBOX', 'b FETCH 1 BODY.PEEK[HEADER.FIELDS.NOT (Subject Date Message-ID)]<10.20>',
    'c FETCH 1 (UID BODY.PEEK[TEXT]<0.5> RFC822.SIZE)', 'd UID FETCH *:* UID', 'e FETCH 2 BODY.PEEK[3.HEADER.FIELDS.NOT (From)]',
    'f FETCH 1:2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[HEADER.FIELDS (SUBJECT)])', 'g FETCH 1 FLAGS', 'h FETCH 1 BODY.PEEK[]<0.5> BODY.PEEK[]<5.5>',
    'i FETCH 1 (BODY[HEADER.FIELDS ()])', 'j FETCH 1 BODY[HEADER.FIELDS (Subject]', 'k FETCH 1 (ENVELOPE FLAGS ENVELOPE)',
    'l FETCH 1:* (RFC822.SIZE)', 'm FETCH 3 BODY[HEADER.FIELDS (X-Custom content-type)]', 'n FETCH 2 BODY.PEEK[2]<0.10>',
    'o FETCH 2 (BODY[3.1.1] BODY[3.1.1.MIME] BODY[3.2.MIME])', 'p FETCH 6 BINARY.PEEK[1]<3.7>', 'q FETCH 1 MODSEQ',
    'r FETCH 1 (FLAGS) (UID)', 's FETCH 1 "FLAGS"', 't FETCH 1 body[text]', 'u fetch 1 fast', 'v FETCH 1 (flags uid)',
    'w FETCH 1 RFC822.PEEK', 'x FETCH 1 BODY[1]<0.100>', 'y FETCH 2,4:5,3 UID', 'z FETCH 6:4 UID',
]))
S(sc("search-more", load(flags={0: "\\Seen", 1: "\\Flagged"}) + [
    'a SELECT INBOX', 'b SEARCH OR (SEEN FLAGGED) (NOT SEEN)', 'c SEARCH NOT (SEEN FLAGGED)', 'd SEARCH OR NOT SEEN NOT FLAGGED',
    'e SEARCH UNSEEN NOT 1:3', 'f SEARCH 1:* NOT 2', 'g SEARCH $', 'h SEARCH HEADER "" ""', 'i SEARCH HEADER SUBJECT ""',
    'j SEARCH LARGER 4294967295', 'k SEARCH SMALLER 0', 'l SEARCH LARGER x', 'm SEARCH UID *', 'n UID SEARCH UID 1:* NOT UID 2',
    'o SEARCH TEXT "=C3=A9"', 'p SEARCH TEXT "Gr\u00fc\u00dfe"', 'q SEARCH CHARSET UTF-8 TEXT "Gr\u00fc\u00dfe"', 'r SEARCH BODY "iVBORw0KGgo"',
    's SEARCH BODY "JVBERi0xLjQ"', 't SEARCH TEXT "PDF-1.4"', 'u SEARCH SUBJECT "=?UTF-8?B?"', 'v SEARCH SUBJECT multipart',
    'w SEARCH SUBJECT "If you can read this you understand"', 'x SEARCH FROM "PIRARD@vm1"', 'y SEARCH TO frank', 'z SEARCH BODY "inner message"',
    'y1 SEARCH HEADER Content-Type "multipart/mixed"', 'y2 SEARCH CC Dave', 'y3 SEARCH FROM "Carol, Q."', 'y4 SEARCH SUBJECT "hello world" SUBJECT "HELLO"',
    'y5 SEARCH OR OR OR SEEN FLAGGED DELETED DRAFT', 'y6 SEARCH 1,2 OR 3 4', 'y7 SEARCH ALL ALL ALL', 'y8 SEARCH NOT NOT NOT SEEN',
]))
S(sc("status-more", load(which=[0, 1]) + [
    'a CREATE x', 'b STATUS x (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)', 'c COPY 1 x', 'd SELECT INBOX', 'e COPY 1:2 x',
    'f STATUS x (MESSAGES RECENT UIDNEXT UNSEEN)', 'g STATUS x (messages)', 'h STATUS "x" (MESSAGES)', 'i STATUS {1}\r\nx (MESSAGES)',
    'j STATUS x MESSAGES', 'k STATUS x (MESSAGES MESSAGES)',
]))
S(sc("list-more", [
    'a CREATE Work/Projects/2024', 'b CREATE Work/Notes', 'c LIST Work %', 'd LIST Work/ %', 'e LIST Work/ *', 'f LIST "" Work/%/%',
    'g LIST "" "Work/P*"', 'h LIST "" "%/Notes"', 'i LIST "" "INBOX*"', 'j LIST "" "*X"', 'k LIST "" INBOX/%', 'l LIST "Work/" "/Notes"',
    'm LIST "" "/"', 'n LIST "" "/*"', 'o LIST "Work" "*"', 'p RENAME Work Job', 'q LIST "" *', 'r LIST "" "Work*"', 's SELECT Job/Notes',
    't RENAME Job/Notes Job/Projects/Notes', 'u LIST "" Job*', 'v CREATE Job/Projects', 'w RENAME Job/Projects Job', 'x LIST "" "j*"',
]))
LF_ONLY = "From: lf@example.test\nSubject: lf only\nTo: x@example.test\n\nline one\nline two\n"
NO_BODY = "From: nobody@example.test\r\nSubject: header only"
MIXED_EOL = "From: m@example.test\r\nSubject: mixed\n\r\nbody\nmore\r\nend"
S(sc("odd-messages", [
    append("a", "INBOX", LF_ONLY), append("b", "INBOX", NO_BODY), append("c", "INBOX", MIXED_EOL),
    'd SELECT INBOX', 'e FETCH 1:* (RFC822.SIZE BODY[] BODYSTRUCTURE ENVELOPE)', 'f FETCH 1:* (BODY[HEADER] BODY[TEXT])',
    'g FETCH 1 BODY[]<3.10>', 'h SEARCH BODY "line two"', 'i FETCH 1:* BINARY.SIZE[1]', 'j FETCH 2 BODY[1]',
]))
S(sc("idle-edge", load(which=[0]) + [
    'a SELECT INBOX', 'b IDLE', '=b done', 'c IDLE', '=c garbage', 'd NOOP', 'e IDLE', '=e DONE extra', 'f NOOP',
    'g UNSELECT', 'h IDLE', '=h DONE', 'i NOOP',
]))
S(sc("select-edge", load(which=[0, 1]) + [
    'a SELECT INBOX (CONDSTORE)', 'b SELECT "INBOX"', 'c SELECT inbox', 'd EXAMINE iNbOx', 'e SELECT Sent', 'f FETCH 1 UID',
    'g SELECT INBOX', 'h SELECT nonexist', 'i FETCH 1 UID', 'j SELECT INBOX', 'k SELECT INBOX ()',
]))
S(sc("append-edge", [
    'a APPEND INBOX (\\Seen) " 7-Feb-1994 21:52:25 -0800" {4}\r\nX: y', 'b APPEND INBOX "7-Feb-1994 21:52:25 -0800" {4}\r\nX: y',
    'c APPEND INBOX "07-Feb-1994 21:52:25" {4}\r\nX: y', 'd APPEND INBOX () {4}\r\nX: y', 'e APPEND INBOX {4+}\r\nX: y',
    'f APPEND INBOX ~{4}\r\nX: y', 'g APPEND "Sent" (\\Draft \\Draft) {4}\r\nX: y', 'h SELECT INBOX', 'i FETCH 1:* (FLAGS INTERNALDATE)',
    'j APPEND INBOX (\\Seen) {4}\r\nX: y', 'k FETCH 1:* UID', 'l APPEND INBOX (\\Seen {4}\r\nX: y', 'm APPEND INBOX',
]))
S(sc("ghost-message", load(which=[0, 1, 2]) + [
    'a SELECT INBOX', '@1 b SELECT INBOX', '@1 c STORE 2 +FLAGS (\\Deleted)', '@1 d EXPUNGE',
    'e FETCH 2 (UID BODY.PEEK[HEADER.FIELDS (Subject)])', 'f STORE 2 +FLAGS (\\Seen)', 'g FETCH 2 FLAGS', 'h COPY 2 Sent',
    'i SEARCH SUBJECT multipart', 'j UID FETCH 2 UID', 'k NOOP', 'l FETCH 2 UID', 'm STATUS Sent (MESSAGES)',
    'n SELECT Sent', 'o FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (Subject)])',
]))
S(sc("move-rev2", load(which=[0, 1, 2]) + [
    'a ENABLE IMAP4rev2', 'b SELECT INBOX', 'c MOVE 2 Trash', 'd UID MOVE 3 Trash', 'e COPY 1 Trash', 'f SELECT Trash',
    'g FETCH 1:* (UID FLAGS)', 'h UID EXPUNGE 1', 'i STORE 1 +FLAGS (\\Deleted)', 'j UID EXPUNGE 1', 'k CLOSE',
]))

FOLDED = crlf("""Received: from a by b; Mon, 7 Feb 1994 21:52:25 -0800
Received: from c
 by d; Mon, 7 Feb 1994 21:52:20 -0800
From: Folded
 Name <folded@example.test>
To: "Quoted \\"Name\\"" <q@example.test>, =?UTF-8?Q?Ren=C3=A9?= <r@example.test>
Subject: a very long subject that is
 folded onto a second line
X-Dup: one
x-dup: two
Subject-Not: tricky
Date: Mon, 7 Feb 1994 21:52:25 -0800
Message-ID: <folded@example.test>
Content-Type: text/plain;
 charset="utf-8";
 format=flowed

body
""")
UTF8HDR = crlf("""From: J\u00fcrgen <j@example.test>
To: ren\u00e9@example.test
Subject: Gr\u00fc\u00dfe \u00e9t\u00e9
Date: Mon, 7 Feb 1994 21:52:25 -0800
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

\u00e9t\u00e9
""")
DIGEST = crlf("""From: d@example.test
Subject: digest
MIME-Version: 1.0
Content-Type: multipart/digest; boundary=D

--D

From: one@example.test
Subject: first

first body
--D
Content-Type: message/rfc822

From: two@example.test
Subject: second

second body
--D--
""")
CONT2231 = crlf("""From: c@example.test
Subject: continuations
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="=_b"

--=_b
Content-Type: application/octet-stream;
 name*0="long";
 name*1="name.bin"
Content-Disposition: attachment;
 filename*0*=UTF-8''%C3%A9;
 filename*1=".bin"; size=12
Content-Transfer-Encoding: base64

AAAA
--=_b
Content-Type: TEXT/HTML; CHARSET=ISO-8859-1; Delsp=Yes
Content-Disposition: INLINE
Content-Language: de

<b>x</b>
--=_b
""")
BROKEN = crlf("""From: b@example.test
Subject: broken mime
MIME-Version: 1.0
Content-Type: multipart/mixed

no boundary at all
""")
NOCLOSE = crlf("""From: n@example.test
Subject: no close
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary=X

--X
Content-Type: text/plain

one
--X
Content-Type: text/plain

two, never closed
""")
MIME2 = [FOLDED, UTF8HDR, DIGEST, CONT2231, BROKEN, NOCLOSE]
S(sc("mime-corpus", [append(f"s{i}", "INBOX", m) for i, m in enumerate(MIME2)] + [
    'a EXAMINE INBOX', 'b FETCH 1:* ENVELOPE', 'c FETCH 1:* BODYSTRUCTURE', 'd FETCH 1:* BODY',
    'e FETCH 1 BODY[HEADER.FIELDS (RECEIVED X-DUP SUBJECT)]', 'f FETCH 1 BODY[HEADER.FIELDS.NOT (RECEIVED X-DUP SUBJECT FROM TO)]',
    'g FETCH 3 (BODY[1] BODY[1.HEADER] BODY[1.TEXT] BODY[2.HEADER] BODY[2.1] BODY[1.MIME])',
    'h FETCH 4 (BODY[1.MIME] BODY[2.MIME] BINARY.SIZE[1] BINARY[1])', 'i FETCH 5:6 (BODY[1] BODY[TEXT] BODY[2])',
    'j SEARCH SUBJECT "folded onto"', 'k SEARCH HEADER X-DUP two', 'l SEARCH FROM "Folded Name"', 'm SEARCH TO "Quoted"',
    'n SEARCH TO Ren\u00e9', 'o SEARCH CHARSET UTF-8 TO "Ren\u00e9"', 'p SEARCH CHARSET UTF-8 SUBJECT "\u00e9t\u00e9"',
    'q SEARCH CHARSET UTF-8 FROM "J\u00fcrgen"', 'r SEARCH HEADER Subject-Not tricky', 's SEARCH HEADER Content-Type flowed',
    't FETCH 6 BODY[2]', 'u FETCH 3 BODY[1.1]', 'v FETCH 2 BINARY[1]',
]))

LATIN1 = crlf("""From: l@example.test
Subject: =?ISO-8859-1?Q?M=FCnchen?= trip
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: 8bit

Grüße aus München
""").encode("latin-1")
B64BODY = crlf("""From: b@example.test
Subject: base64 body
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

SGVsbG8gZnJvbSBiYXNlNjQgbGFuZCwgY2Fmw6kK
""")
S(sc("search-decoded", [append("s0", "INBOX", LATIN1), append("s1", "INBOX", B64BODY), append("s2", "INBOX", ENC8)] + [
    'a SELECT INBOX', 'b SEARCH CHARSET UTF-8 BODY "München"', 'c SEARCH CHARSET UTF-8 SUBJECT "München"',
    'd SEARCH BODY "base64 land"', 'e SEARCH CHARSET UTF-8 BODY "café"', 'f SEARCH CHARSET UTF-8 TEXT "André says"',
    'g SEARCH BODY "SGVsbG8"', 'h SEARCH CHARSET UTF-8 BODY "MÜNCHEN"', 'i SEARCH SUBJECT "münchen"',
    'j SEARCH CHARSET ISO-8859-1 BODY {7}\r\nMünchen',
]))
S(sc("inbox-children", [
    'a CREATE INBOX/sub', 'b LIST "" INBOX/%', 'c LIST "" %', 'd SELECT inbox/sub', 'e STATUS Inbox/sub (MESSAGES)',
    'f CREATE inbox/sub', 'g CREATE inbox/other', 'h LIST "" *', 'i RENAME INBOX/sub INBOX/sub2', 'j LIST "" INBOX*',
    'k DELETE inbox/sub2', 'l LIST "" inbox*', 'm SUBSCRIBE inbox/other', 'n LSUB "" INBOX*',
]))
ADDR_CASES = [
    "user@domain (Comment Name)",
    "\"foo@bar\" <x@y>",
    "user",
    "<user@domain>",
    "Name <user>",
    "group:;",
    "group: a@b, c@d;, e@f",
    "g1: a@b;, g2: c@d;",
    "\"Last, First\" <lf@example.test>, plain@example.test",
    "Name With  Spaces <s@x>",
    "<@route1,@route2:user@domain>",
    "Name <@route:user@domain>",
    "=?UTF-8?Q?a?= =?UTF-8?Q?b?= <ab@x>",
    "user@[127.0.0.1]",
    "\"quoted local\"@domain",
    "a@b,,c@d",
    "broken <unclosed@x",
    "Name (comment) <n@x> (trailing)",
    "undisclosed-recipients:",
    "\"\" <empty@x>",
]
S(sc("envelope-addresses", [
    append(f"s{i}", "INBOX", f"From: x@example.test\r\nTo: {a}\r\nSubject: addr {i}\r\n\r\nbody\r\n")
    for i, a in enumerate(ADDR_CASES)
] + ['a EXAMINE INBOX', 'b FETCH 1:* ENVELOPE']))
S(sc("odd-names", [
    'a CREATE "a\\"b"', 'b CREATE "c\\\\d"', 'c CREATE "sp ace"', 'd CREATE {5}\r\nlit\r\n', 'e CREATE "&AOk-x"',
    'f LIST "" *', 'g LIST "" "&AOk-*"', 'h LIST "" "a\\"*"', 'i SELECT "a\\"b"', 'j STATUS "c\\\\d" (MESSAGES)',
    'k CREATE "tab\tx"', 'l CREATE "~user"', 'm CREATE "#news"', 'n CREATE ".hidden"', 'o CREATE "x/"', 'p CREATE "/lead"',
    'q CREATE "dbl//slash"', 'r LIST "" *', 's CREATE "&-amp"', 't LIST "" "&-*"',
]))
S(sc("binary-crlf", [append("s0", "INBOX", B64BODY), append("s1", "INBOX", LF_ONLY),
    append("s2", "INBOX", crlf("From: q@x\nSubject: qp\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nline=0Aother=0D=0Athird\n")),
    append("s3", "INBOX", crlf("From: q@x\nSubject: bin\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAAoKAAo=\n")),
] + ['a EXAMINE INBOX', 'b FETCH 1:* (BINARY[1] BINARY.SIZE[1])', 'c FETCH 1 BINARY[1]<0.6>', 'd FETCH 1:* BINARY[]']))
S(sc("copyuid-order", load(which=[0, 1, 2, 3]) + [
    'a SELECT INBOX', 'b COPY 3,1,2 Sent', 'c UID COPY 4,2 Trash', 'd COPY 2:1 Junk', 'e MOVE 4,1 Archive',
    'f UID MOVE 3,2 Drafts', 'g SELECT Sent', 'h FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (Subject)])',
]))
S(sc("same-mailbox", load(which=[0, 1]) + [
    'a SELECT INBOX', 'b COPY 1 INBOX', 'c MOVE 1 INBOX', 'd FETCH 1:* UID', 'e UID MOVE 2 INBOX', 'f FETCH 1:* (UID FLAGS)',
    '@1 g SELECT INBOX', '@1 h RENAME INBOX/none x', 'i CREATE sub', '@1 j SELECT sub', 'k RENAME sub sub2', '@1 l NOOP',
    '@1 m FETCH 1 UID', '@1 n STATUS sub2 (MESSAGES)', '@1 o SELECT sub2',
]))


def imaptest_scenarios(directory):
    """Scenarios from imaptest-style script files (dovecot/imaptest
    src/tests): `ok|no|bad COMMAND` lines become commands (expected untagged
    lines are ignored: the other server is the oracle), the `NAME.mbox`
    next to a script is appended to INBOX first and INBOX selected."""
    import os
    import re
    out = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if name.endswith(".mbox") or not os.path.isfile(path):
            continue
        mbox = path + ".mbox"
        msgs = []
        if os.path.exists(mbox):
            text = open(mbox, "rb").read().decode("utf-8", "replace")
            for chunk in ("\n" + text).split("\nFrom ")[1:]:
                body = chunk.split("\n", 1)[1] if "\n" in chunk else ""
                if body.endswith("\n\n"):
                    body = body[:-1]
                msgs.append(crlf(body))
        steps = [append(f"s{i}", "INBOX", m, "", DATES[i % len(DATES)]) for i, m in enumerate(msgs)]
        steps.append("sel SELECT INBOX")
        if "state: created" in open(path).read():
            steps.append("mk CREATE imaptestbox")
        n = 0
        for line in open(path, encoding="utf-8", errors="replace"):
            line = line.rstrip("\n")
            conn = ""
            if line[:1].isdigit() and " " in line:
                num, line = line.split(" ", 1)
                conn = f"@{int(num) - 1} "
            words = line.split(" ", 1)
            if len(words) == 2 and words[0].lower() in ("ok", "no", "bad", '""'):
                n += 1
                cmd = words[1].replace("${mailbox}", "imaptestbox").replace("$mailbox", "imaptestbox")
                cmd = cmd.replace("${sep}", "/").replace("$sep", "/")
                if re.fullmatch(r"(?i)append( imaptestbox)?", cmd.strip()):
                    box = "imaptestbox" if "imaptestbox" in cmd else "INBOX"
                    steps.append(conn.encode() + append(f"t{n}", box, SIMPLE))
                    continue
                steps.append(f"{conn}t{n} {cmd}")
            elif words[0].lower() == "append":
                n += 1
                steps.append(conn.encode() + append(f"t{n}", "INBOX", SIMPLE))
        # Every other connection the script uses selects INBOX too.
        conns = sorted({st.split(b" ", 1)[0] if isinstance(st, bytes) else st.split(" ", 1)[0].encode()
                        for st in steps if (st[:1] == b"@" if isinstance(st, bytes) else st.startswith("@"))})
        at = steps.index("sel SELECT INBOX") + 1
        for c in conns:
            steps.insert(at, f"{c.decode()} sel SELECT INBOX")
        out.append(sc("imaptest-" + name, steps))
    return out


if __import__("os").environ.get("IMAPTEST_DIR"):
    SCENARIOS.extend(imaptest_scenarios(__import__("os").environ["IMAPTEST_DIR"]))
