#!/usr/bin/env python3
"""Differential IMAP harness: run the same command sequences against Dovecot
and Mailroom, normalise what legitimately differs, and diff the rest.

Not part of `cargo test`: it needs a running Dovecot and a running Mailroom.
Usage:
    imapdiff.py --mailroom HOST:PORT --dovecot HOST:PORT \
        --mr-adduser 'CMD {user}' --dc-adduser 'CMD {user}' [-k FILTER] [-v]

Each scenario runs with a fresh user on both servers (created by the two
--*-adduser shell commands, `{user}` replaced by the local part), password
"secret", domain example.test.  Exit status 0 when nothing differs.
"""
import argparse
import base64
import difflib
import re
import socket
import subprocess
import sys
import time

from scenarios import SCENARIOS

PASSWORD = "secret"


class Conn:
    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.buf = b""
        self.log = []

    def _fill(self, timeout=10):
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def read_response(self, timeout=10):
        """One complete response (line plus any literals), as bytes."""
        out = b""
        while True:
            while b"\r\n" not in self.buf:
                self._fill(timeout)
            line, self.buf = self.buf.split(b"\r\n", 1)
            out += line + b"\r\n"
            m = re.search(rb"\{(\d+)\}$", line)
            if not m:
                return out
            n = int(m.group(1))
            while len(self.buf) < n:
                self._fill(timeout)
            out += self.buf[:n]
            self.buf = self.buf[n:]

    def drain(self, wait):
        """Whatever arrives within `wait` seconds."""
        got = []
        end = time.time() + wait
        while True:
            left = end - time.time()
            if left <= 0:
                break
            try:
                got.append(self.read_response(timeout=left))
            except (socket.timeout, TimeoutError):
                break
            except EOFError:
                got.append(b"<EOF>\r\n")
                break
        return got

    def command(self, data, tag):
        """Send `data` (a whole command, CRLF added), honouring synchronising
        literals; read until the tagged response for `tag` (or a `+` when
        the command is IDLE/AUTHENTICATE-like and ends there)."""
        parts = re.split(rb"(\{\d+\}\r\n)", data)
        got = []
        chunks = []
        cur = b""
        for p in parts:
            cur += p
            if re.fullmatch(rb"\{\d+\}\r\n", p):
                chunks.append(cur)
                cur = b""
        chunks.append(cur + b"\r\n")
        for i, chunk in enumerate(chunks):
            self.sock.sendall(chunk)
            last = i == len(chunks) - 1
            while True:
                try:
                    r = self.read_response()
                except EOFError:
                    got.append(b"<EOF>\r\n")
                    return got
                except (socket.timeout, TimeoutError):
                    got.append(b"<TIMEOUT>\r\n")
                    return got
                got.append(r)
                if r.startswith(b"+"):
                    if not last:
                        break
                    if tag is None or re.match(rb"(?i)^\S+ (IDLE|AUTHENTICATE)", data):
                        return got
                    continue
                if tag is not None and r.split(b" ", 1)[0] == tag:
                    return got
                if r.startswith(b"* BYE") and tag is None:
                    return got
        return got


# ---------------------------------------------------------------- normalise

DOVECOT_ONLY_CAPS = {
    "LOGIN-REFERRALS", "SORT", "SORT=DISPLAY", "THREAD=REFERENCES", "THREAD=REFS",
    "THREAD=ORDEREDSUBJECT", "URL-PARTIAL", "CATENATE", "I18NLEVEL=1", "CONDSTORE",
    "QRESYNC", "ESORT", "CONTEXT=SEARCH", "SNIPPET=FUZZY", "PREVIEW=FUZZY", "PREVIEW",
    "SAVEDATE", "NOTIFY", "STARTTLS", "LOGINDISABLED",
    # Mailroom has these, Dovecot 2.3 does not:
    "IMAP4REV2", "CREATE-SPECIAL-USE",
}


def norm_caps(text):
    caps = [c for c in text.split() if c.upper() not in DOVECOT_ONLY_CAPS
            and not c.upper().startswith("APPENDLIMIT")]
    return " ".join(sorted(caps))


ATOMISH = re.compile(r'"([A-Za-z0-9_.\-/&,+]+)"')


def split_items(b):
    """Top-level items of a parenthesised FETCH list (bytes after the
    opening paren), aware of quoted strings, nested lists and literals."""
    items, cur, depth, i = [], b"", 0, 0
    while i < len(b):
        c = b[i:i + 1]
        if c == b'"':
            j = i + 1
            while j < len(b) and b[j:j + 1] != b'"':
                j += 2 if b[j:j + 1] == b"\\" else 1
            cur += b[i:j + 1]
            i = j + 1
            continue
        m = re.match(rb"~?\{(\d+)\+?\}\r\n", b[i:])
        if m:
            n = int(m.group(1))
            cur += b[i:i + m.end() + n]
            i += m.end() + n
            continue
        if c in (b"(", b"["):
            depth += 1
        elif c in (b")", b"]"):
            if depth == 0:
                break
            depth -= 1
        if c == b" " and depth == 0:
            items.append(cur)
            cur = b""
        else:
            cur += c
        i += 1
    items.append(cur)
    return items


def norm_fetch(r):
    """`* n FETCH (...)` with its items in a canonical order: the RFC
    leaves item order (and the order of flags) to the server."""
    m = re.match(rb"\* (\d+) FETCH \(", r)
    if not m:
        return r
    toks = split_items(r[m.end():].rstrip(b"\r\n"))
    pairs = []
    k = 0
    while k < len(toks):
        name = toks[k]
        val = toks[k + 1] if k + 1 < len(toks) else b""
        if name.upper() == b"FLAGS":
            val = b"(" + b" ".join(sorted(val[1:-1].split())) + b")"
        if name.upper() in (b"BODY", b"BODYSTRUCTURE"):
            val = val.upper()
        pairs.append(name + b" " + val)
        k += 2
    return b"* " + m.group(1) + b" FETCH (" + b" ".join(sorted(pairs)) + b")\r\n"


def norm_line(line):
    s = line.decode("utf-8", "replace").rstrip("\r\n")
    s = re.sub(r"\[CAPABILITY ([^\]]*)\]", lambda m: "[CAPABILITY " + norm_caps(m.group(1)) + "]", s)
    if re.match(r"(?i)^\* CAPABILITY ", s):
        return "* CAPABILITY " + norm_caps(s[13:])
    if re.match(r"(?i)^\* ID ", s):
        return "* ID <...>"
    s = re.sub(r"UIDVALIDITY \d+", "UIDVALIDITY V", s)
    s = re.sub(r"\[(APPENDUID|COPYUID) \d+", r"[\1 V", s)
    # Human-readable text after a status (and optional code) is free-form.
    m = re.match(r"^(\S+) (OK|NO|BAD|BYE|PREAUTH)( \[[^\]]*\])?( .*)?$", s, re.I)
    if m and (m.group(1) != "*" or m.group(2).upper() in ("OK", "NO", "BAD", "BYE", "PREAUTH")):
        s = f"{m.group(1)} {m.group(2).upper()}{m.group(3) or ''}"
    # Dovecot's hint that STATUS of the selected mailbox is wasteful.
    s = s.replace(" [CLIENTBUG]", "")
    # STATUS attributes may come in any order.
    m = re.match(r"^(\* STATUS .*?)\((.*)\)$", s)
    if m:
        kv = m.group(2).split()
        pairs = sorted(" ".join(kv[i:i + 2]) for i in range(0, len(kv), 2))
        s = m.group(1) + "(" + " ".join(pairs) + ")"
    if s.startswith("+"):
        s = "+"
    s = ATOMISH.sub(r"\1", s)
    return s


def normalise(responses, cmd):
    lines = []
    verb0 = (cmd.split(b" ") + [b"", b""])[1].upper()
    for r in responses:
        r = norm_fetch(r)
        # RECENT after SELECT/EXAMINE is optional in any other response.
        if re.match(rb"\* \d+ RECENT", r) and verb0 not in (b"SELECT", b"EXAMINE"):
            continue
        s = norm_line(r)
        if re.match(r"^\* (LIST|LSUB) ", s):
            # Child attributes are optional unless asked for.
            words = cmd.split(b" ")
            extended = b"RETURN" in cmd.upper() or (len(words) > 2 and words[2].startswith(b"("))
            if extended and b"CHILDREN" not in cmd.upper():
                s = re.sub(r" ?\\Has(No)?Children", "", s).replace("( ", "(")
        lines.append(s)
    verb = (cmd.split(b" ") + [b"", b""])[1].upper()
    if verb == b"UID":
        verb = b"UID " + (cmd.split(b" ") + [b"", b"", b""])[2].upper()
    # Order of untagged data is unspecified for these commands.
    if verb in (b"SELECT", b"EXAMINE", b"LIST", b"LSUB", b"STATUS", b"LOGIN", b"NAMESPACE"):
        body = sorted(l for l in lines if l.startswith("*"))
        lines = body + [l for l in lines if not l.startswith("*")]
    return lines


# ------------------------------------------------------------------- driver

def run(addr, scenario, user, raw_out=None):
    conns = {}

    def conn(i):
        if i not in conns:
            c = Conn(addr)
            c.read_response()  # greeting
            if scenario.get("noauth"):
                conns[i] = c
                return c
            r = c.command(f"L LOGIN {user}@example.test {PASSWORD}".encode(), b"L")
            if not r[-1].startswith(b"L OK"):
                raise RuntimeError(f"login failed on {addr}: {r}")
            conns[i] = c
        return conns[i]

    transcript = []
    for step in scenario["steps"]:
        if isinstance(step, str):
            step = step.encode("utf-8")
        ci = 0
        if step.startswith(b"@"):
            head, step = step.split(b" ", 1)
            ci = int(head[1:])
        c = conn(ci)
        if step.startswith(b"~"):  # ~SECONDS: collect unsolicited responses
            got = c.drain(float(step[1:]))
            transcript.append(f"[{ci}] ~ (wait)")
            transcript += [f"[{ci}] " + l for l in normalise(got, b"~ WAIT")]
            continue
        raw = step.replace(b"{user}", f"{user}@example.test".encode())
        raw = raw.replace(b"{plain}", base64.b64encode(f"\0{user}@example.test\0{PASSWORD}".encode()))
        raw = raw.replace(b"{user64}", base64.b64encode(f"{user}@example.test".encode()))
        if raw.startswith(b"="):  # =TAG line: a continuation line
            rtag, line = raw[1:].split(b" ", 1) if b" " in raw else (raw[1:], b"")
            c.sock.sendall(line + b"\r\n")
            got = []
            while True:
                try:
                    r = c.read_response()
                except (socket.timeout, TimeoutError, EOFError):
                    got.append(b"<TIMEOUT>\r\n")
                    break
                got.append(r)
                if r.startswith(b"+") or r.split(b" ", 1)[0] == rtag:
                    break
            tag = None
        elif raw == b"DONE":
            c.sock.sendall(b"DONE\r\n")
            got = []
            while True:
                try:
                    r = c.read_response()
                except (socket.timeout, TimeoutError, EOFError):
                    got.append(b"<TIMEOUT>\r\n")
                    break
                got.append(r)
                if not r.startswith(b"*"):
                    break
            tag = None
        else:
            tag = raw.split(b" ", 1)[0]
            try:
                got = c.command(raw, tag)
            except OSError as e:
                got = [f"<{type(e).__name__}>".encode()]
        shown = raw if len(raw) < 300 else raw[:300] + b"..."
        transcript.append(f"[{ci}] C: " + shown.decode("utf-8", "replace").replace("\r\n", "\\r\\n"))
        if raw_out is not None:
            for r in got:
                if not r.startswith(b"<"):
                    raw_out.write(b"%d\n" % len(r) + r)
        transcript += [f"[{ci}] " + l for l in normalise(got, raw)]
    for c in conns.values():
        try:
            c.sock.close()
        except OSError:
            pass
    return transcript


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mailroom", required=True)
    ap.add_argument("--dovecot", required=True)
    ap.add_argument("--mr-adduser", required=True)
    ap.add_argument("--dc-adduser", required=True)
    ap.add_argument("-k", default="")
    ap.add_argument("-v", action="store_true")
    ap.add_argument("--dump", help="directory to write both transcripts to")
    ap.add_argument("--raw-dump", help="file to append Mailroom's raw responses to "
                    "(for the imap-codec check in tests/codec_oracle.rs)")
    ap.add_argument("--prefix", default="u%d" % int(time.time()))
    a = ap.parse_args()
    ndiff = 0
    for i, sc in enumerate(SCENARIOS):
        if a.k and a.k not in sc["name"]:
            continue
        user = f"{a.prefix}x{i}"
        for cmd in (a.mr_adduser, a.dc_adduser):
            subprocess.run(cmd.format(user=user), shell=True, check=True,
                           stdout=subprocess.DEVNULL)
        try:
            dc = run(a.dovecot, sc, user)
            raw_out = open(a.raw_dump, "ab") if a.raw_dump else None
            try:
                mr = run(a.mailroom, sc, user, raw_out)
            finally:
                if raw_out is not None:
                    raw_out.close()
        except Exception as e:  # noqa: BLE001 - report and go on
            print(f"### {sc['name']}: ERROR {e!r}")
            ndiff += 1
            continue
        if a.dump:
            for tag, t in (("dc", dc), ("mr", mr)):
                with open(f"{a.dump}/{sc['name']}.{tag}", "w") as f:
                    f.write("\n".join(t) + "\n")
        if dc != mr:
            ndiff += 1
            print(f"### {sc['name']}")
            for l in difflib.unified_diff(dc, mr, "dovecot", "mailroom", lineterm="", n=2):
                print(l)
        elif a.v:
            print(f"### {sc['name']}: same")
            print("\n".join(mr))
    print(f"{ndiff} scenario(s) differ")
    return 1 if ndiff else 0


if __name__ == "__main__":
    sys.exit(main())
