//! The IMAP mix: clients on their own and on shared INBOXes (client i
//! uses user i mod users, so with more clients than users several sessions
//! share a mailbox and see each other's changes) run a weighted mix of
//! what mail clients do, for a fixed time. Every answer is checked against
//! the corpus; a wrong or missing answer is a failure, however fast.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::json;
use std::sync::Mutex;

use tokio::sync::Barrier;

use crate::common::{Common, CpuMeter, emit, metric};
use crate::corpus::{generate, header_section, message_id_token};
use crate::imap_client::{Imap, Reply, quote};
use crate::imap_value::{Fetch, Value, parse_fetch, parse_search};
use crate::rng::Rng;
use crate::stats::{Recorder, print_table};

/// The mix, in percent. Reading dominates, as it does for real clients.
pub const MIX: &[(Op, u64)] = &[
    (Op::Select, 5),
    (Op::FetchFlags, 10),
    (Op::FetchEnvelope, 15),
    (Op::FetchHeader, 15),
    (Op::FetchBody, 15),
    (Op::Store, 12),
    (Op::Search, 8),
    (Op::Append, 10),
    (Op::Expunge, 10),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Select,
    FetchFlags,
    FetchEnvelope,
    FetchHeader,
    FetchBody,
    Store,
    Search,
    Append,
    Expunge,
}

/// IDLE wake-ups are measured by separate watcher sessions (one per
/// mailbox, in IDLE all along) so that a server's notification delay shows
/// as latency without throttling the mix clients.
pub const IDLE_OP: &str = "IDLE wake-up";

/// Commands a server refused with NO [EXPUNGEISSUED] (then retried): not
/// wrong answers, but extra round trips, so reported.
pub const EXPUNGE_ISSUED: &str = "NO [EXPUNGEISSUED] retried";

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Select => "SELECT",
            Op::FetchFlags => "FETCH FLAGS",
            Op::FetchEnvelope => "FETCH ENVELOPE",
            Op::FetchHeader => "FETCH HEADER",
            Op::FetchBody => "FETCH BODY[]",
            Op::Store => "STORE",
            Op::Search => "SEARCH",
            Op::Append => "APPEND",
            Op::Expunge => "EXPUNGE",
        }
    }
}

/// Picks an operation by weight from a draw in 0..sum(weights).
pub fn pick(mix: &[(Op, u64)], draw: u64) -> Op {
    let mut acc = 0;
    for (op, w) in mix {
        acc += w;
        if draw < acc {
            return *op;
        }
    }
    mix[mix.len() - 1].0
}

pub struct ImapOpts {
    pub port: u16,
    pub clients: u64,
    pub duration: Duration,
}

/// When each message appended by the mix was sent, by token.
type Appends = Arc<Mutex<HashMap<String, Instant>>>;

struct Client {
    imap: Imap,
    appends: Appends,
    user: String,
    /// (uid, corpus index) of this user's corpus messages.
    known: Vec<(u64, u64)>,
    /// The corpus messages this session may change flags on: sessions
    /// sharing a mailbox take turns so they never race on one message.
    mine: Vec<(u64, u64)>,
    /// Messages this session appended and has not expunged: (uid, token).
    pending: Vec<(Option<u64>, String)>,
    appended: u64,
    prefix: String,
    rng: Rng,
}

pub async fn run(c: &Common, o: ImapOpts) -> Result<()> {
    let msgs = c.corpus_messages();
    let clients = o.clients.max(1);
    let watchers = c.users.max(1).min(clients);
    let barrier = Arc::new(Barrier::new((clients + watchers) as usize + 1));
    let appends: Appends = Arc::new(Mutex::new(HashMap::new()));
    let run_tag = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        & 0xfff;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..clients {
        let (c, msgs, barrier, appends) = (c.clone(), msgs.clone(), barrier.clone(), appends.clone());
        let (port, duration) = (o.port, o.duration);
        tasks.spawn(async move {
            let mut rec = Recorder::default();
            let first = setup(&c, port, i, clients, run_tag, appends.clone()).await;
            barrier.wait().await;
            let mut client = match first {
                Ok(cl) => cl,
                Err(e) => {
                    eprintln!("imap client {i}: setup: {e:#}");
                    rec.fail("setup");
                    return rec;
                }
            };
            let deadline = Instant::now() + duration;
            while Instant::now() < deadline {
                let op = pick(MIX, client.rng.range(0, MIX.iter().map(|(_, w)| w).sum()));
                if let Err(e) = one(&c, &mut client, op, &msgs, &mut rec).await {
                    eprintln!("imap client {i} {}: {e:#}", op.name());
                    rec.fail(op.name());
                    // The connection may be out of step: start over.
                    match setup(&c, port, i, clients, run_tag, appends.clone()).await {
                        Ok(mut fresh) => {
                            rec.note(EXPUNGE_ISSUED, client.imap.expunge_issued);
                            fresh.pending.append(&mut client.pending);
                            fresh.appended = client.appended;
                            fresh.rng = client.rng.clone();
                            client = fresh;
                        }
                        Err(e) => {
                            eprintln!("imap client {i}: reconnect: {e:#}");
                            return rec;
                        }
                    }
                }
            }
            cleanup(&mut client).await;
            rec.note(EXPUNGE_ISSUED, client.imap.expunge_issued);
            rec
        });
    }
    for n in 0..watchers {
        let (c, barrier, appends) = (c.clone(), barrier.clone(), appends.clone());
        let (port, duration) = (o.port, o.duration);
        tasks.spawn(async move {
            let mut rec = Recorder::default();
            if let Err(e) = watch(&c, port, n, duration, barrier, appends, &mut rec).await {
                eprintln!("imap IDLE watcher {n}: {e:#}");
                rec.fail(IDLE_OP);
            }
            rec
        });
    }
    barrier.wait().await;
    let meter = CpuMeter::start(&c.server_pids);
    let mut rec = Recorder::default();
    while let Some(r) = tasks.join_next().await {
        rec.merge(r?);
    }
    let (elapsed, server_cpu, client_cpu) = meter.stop();
    // Rates are over the mix's fixed duration: every counted operation
    // started inside it; the cleanup afterwards is not an operation.
    let _ = elapsed;
    let elapsed = o.duration;
    let summary = rec.summary(elapsed);
    print_table(&format!("imap {}", c.label), &summary);
    for (what, n) in &rec.notes {
        eprintln!("{}: {what}: {n}", c.label);
    }
    // Wake-ups are observations, not operations a client asked for.
    let wakeups = rec.ops.get(IDLE_OP).map(|s| s.micros.len()).unwrap_or(0);
    let total = (rec.total_ok() as usize - wakeups) as f64;
    let mut metrics = vec![
        metric("IMAP mix", total / elapsed.as_secs_f64(), "ops/s", true),
        metric(
            "IMAP mix server CPU",
            server_cpu * 1000.0 / total.max(1.0),
            "ms/op",
            false,
        ),
    ];
    for name in MIX.iter().map(|(op, _)| op.name()).chain([IDLE_OP]) {
        if let Some(s) = summary.get(name) {
            metrics.push(metric(
                &format!("IMAP {name} p50"),
                s["p50_ms"].as_f64().unwrap_or(0.0),
                "ms",
                false,
            ));
        }
    }
    emit(
        c,
        "imap",
        json!({"elapsed_s": elapsed.as_secs_f64(), "server_cpu_s": server_cpu, "client_cpu_s": client_cpu,
               "clients": clients, "ops": summary, "metrics": metrics, "failures": rec.total_failures(),
               "notes": rec.notes}),
    )
}

async fn login_select(c: &Common, port: u16, user: &str) -> Result<(Imap, u64)> {
    let mut imap = Imap::connect(&c.addr(port), c.timeout()).await?;
    imap.login(user, &c.password).await?;
    let exists = imap.select("INBOX").await?;
    Ok((imap, exists))
}

async fn setup(c: &Common, port: u16, i: u64, clients: u64, run_tag: u64, appends: Appends) -> Result<Client> {
    let corpus = c.corpus();
    let users = corpus.users.max(1);
    let user_n = i % users;
    let user = corpus.user(user_n);
    let (mut imap, _) = login_select(c, port, &user).await?;
    let r = imap
        .command_retry("UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (X-MRB-ID)])")
        .await?
        .check("FETCH ids")?;
    let mut by_token = HashMap::new();
    for idx in corpus.owned_by(user_n) {
        by_token.insert(message_id_token("c", idx), idx);
    }
    let mut known = Vec::new();
    for u in &r.untagged {
        if let Some(f) = parse_fetch(u)
            && let (Some(uid), Some(h)) = (
                f.uid(),
                f.get("BODY[HEADER.FIELDS (X-MRB-ID)]").and_then(Value::as_bytes),
            )
        {
            let h = String::from_utf8_lossy(h);
            let tok = h.trim().rsplit(':').next().unwrap_or("").trim();
            if let Some(idx) = by_token.get(tok) {
                known.push((uid, *idx));
            }
        }
    }
    if known.len() != by_token.len() {
        bail!(
            "{user}: INBOX holds {} of the {} corpus messages (run `load` first)",
            known.len(),
            by_token.len()
        );
    }
    known.sort_unstable();
    let sharers = clients / users + u64::from(user_n < clients % users);
    let slot = i / users;
    let mine = known
        .iter()
        .enumerate()
        .filter(|(k, _)| *k as u64 % sharers.max(1) == slot)
        .map(|(_, v)| *v)
        .collect();
    Ok(Client {
        imap,
        appends,
        user,
        known,
        mine,
        pending: Vec::new(),
        appended: 0,
        prefix: format!("a{run_tag:03x}{i:04}x"),
        rng: Rng::for_item(c.seed ^ 0x1a9, i),
    })
}

/// The FETCH response carrying `item` for `uid` among a reply's untagged
/// responses: other sessions' flag changes arrive interleaved as FETCH
/// responses of their own, possibly for the same UID.
fn fetch_for(r: &Reply, uid: u64, item: &str) -> Option<Fetch> {
    r.untagged
        .iter()
        .filter_map(|u| parse_fetch(u))
        .find(|f| f.uid() == Some(uid) && f.get(item).is_some())
}

fn has_flag(f: &Fetch, flag: &str) -> Option<bool> {
    let l = f.get("FLAGS")?.as_list()?;
    Some(
        l.iter()
            .any(|v| v.as_bytes().is_some_and(|b| b.eq_ignore_ascii_case(flag.as_bytes()))),
    )
}

async fn one(c: &Common, cl: &mut Client, op: Op, msgs: &[Vec<u8>], rec: &mut Recorder) -> Result<()> {
    let name = op.name();
    let (uid, idx) = cl.known[cl.rng.index(cl.known.len())];
    let want = &msgs[idx as usize];
    match op {
        Op::Select => {
            let t = Instant::now();
            let exists = cl.imap.select("INBOX").await?;
            let d = t.elapsed();
            if exists < cl.known.len() as u64 {
                bail!("SELECT: {exists} messages, at least {} expected", cl.known.len());
            }
            rec.ok(name, d);
        }
        Op::FetchFlags => {
            // What a client does to resynchronise a mailbox it has cached.
            let t = Instant::now();
            let r = cl.imap.command_retry("UID FETCH 1:* (UID FLAGS)").await?.check(name)?;
            let d = t.elapsed();
            let mut flags: HashMap<u64, bool> = HashMap::new();
            for f in r.untagged.iter().filter_map(|u| parse_fetch(u)) {
                if let (Some(uid), Some(_)) = (f.uid(), f.get("FLAGS").and_then(Value::as_list)) {
                    flags.insert(uid, true);
                }
            }
            if let Some((missing, _)) = cl.known.iter().find(|(u, _)| !flags.contains_key(u)) {
                bail!("FETCH FLAGS: UID {missing} missing");
            }
            rec.ok(name, d);
        }
        Op::FetchEnvelope => {
            // A page of a message list.
            let start = cl.rng.index(cl.known.len());
            let page: Vec<(u64, u64)> = cl.known.iter().skip(start).take(20).copied().collect();
            let (lo, hi) = (page[0].0, page[page.len() - 1].0);
            let t = Instant::now();
            let r = cl
                .imap
                .command_retry(&format!("UID FETCH {lo}:{hi} (UID ENVELOPE)"))
                .await?
                .check(name)?;
            let d = t.elapsed();
            for (uid, idx) in &page {
                let f = fetch_for(&r, *uid, "ENVELOPE").with_context(|| format!("no ENVELOPE for UID {uid}"))?;
                let env = f.get("ENVELOPE").and_then(Value::as_list).context("no ENVELOPE")?;
                let token = message_id_token("c", *idx);
                let msgid = env.get(9).and_then(Value::as_bytes).unwrap_or_default();
                let subject = env.get(1).and_then(Value::as_bytes).unwrap_or_default();
                if msgid != format!("<{token}.{}@mrb.bench.test>", c.seed).as_bytes()
                    || !String::from_utf8_lossy(subject).contains(&token)
                {
                    bail!("ENVELOPE of UID {uid} does not match message {token}");
                }
            }
            rec.ok(name, d);
        }
        Op::FetchHeader => {
            let t = Instant::now();
            let r = cl
                .imap
                .command_retry(&format!("UID FETCH {uid} (UID BODY.PEEK[HEADER])"))
                .await?
                .check(name)?;
            let d = t.elapsed();
            let f = fetch_for(&r, uid, "BODY[HEADER]").context("no BODY[HEADER]")?;
            let got = f.get("BODY[HEADER]").and_then(Value::as_bytes).unwrap_or_default();
            if got != header_section(want) {
                bail!("BODY[HEADER] of UID {uid} differs from the original");
            }
            rec.ok(name, d);
            rec.series(name).bytes += got.len() as u64;
        }
        Op::FetchBody => {
            let t = Instant::now();
            let r = cl
                .imap
                .command_retry(&format!("UID FETCH {uid} (UID BODY.PEEK[])"))
                .await?
                .check(name)?;
            let d = t.elapsed();
            let f = fetch_for(&r, uid, "BODY[]").context("no BODY[]")?;
            let got = f.get("BODY[]").and_then(Value::as_bytes).unwrap_or_default();
            if got != want.as_slice() {
                bail!(
                    "BODY[] of UID {uid} differs from the original ({} vs {} bytes)",
                    got.len(),
                    want.len()
                );
            }
            rec.ok(name, d);
            rec.series(name).bytes += got.len() as u64;
        }
        Op::Store => {
            if cl.mine.is_empty() {
                return Ok(());
            }
            let (uid, _) = cl.mine[cl.rng.index(cl.mine.len())];
            let add = cl.rng.chance(50);
            let t = Instant::now();
            let r = cl
                .imap
                .command_retry(&format!(
                    "UID STORE {uid} {}FLAGS (\\Flagged)",
                    if add { "+" } else { "-" }
                ))
                .await?
                .check(name)?;
            let d = t.elapsed();
            // Without .SILENT the new flags come back (RFC 9051 §6.4.6),
            // though servers may skip it when nothing changed: then ask.
            let f = match fetch_for(&r, uid, "FLAGS") {
                Some(f) => f,
                None => {
                    let r = cl
                        .imap
                        .command_retry(&format!("UID FETCH {uid} (UID FLAGS)"))
                        .await?
                        .check("FETCH FLAGS")?;
                    fetch_for(&r, uid, "FLAGS").context("no FLAGS after STORE")?
                }
            };
            if has_flag(&f, "\\Flagged") != Some(add) {
                bail!(
                    "STORE {}\\Flagged on UID {uid}: flags now {:?}",
                    if add { "+" } else { "-" },
                    f.get("FLAGS")
                );
            }
            rec.ok(name, d);
        }
        Op::Search => {
            let token = message_id_token("c", idx);
            let t = Instant::now();
            let r = cl
                .imap
                .command_retry(&format!("UID SEARCH SUBJECT {}", quote(&token)))
                .await?
                .check(name)?;
            let d = t.elapsed();
            let found: Vec<u64> = r.untagged.iter().filter_map(|u| parse_search(u)).flatten().collect();
            if found != [uid] {
                bail!("SEARCH SUBJECT {token}: {found:?}, expected [{uid}]");
            }
            rec.ok(name, d);
        }
        Op::Append => {
            let t = Instant::now();
            append(cl).await?;
            rec.ok(name, t.elapsed());
        }
        Op::Expunge => {
            if cl.pending.is_empty() {
                append(cl).await?;
            }
            let (uid, token) = cl.pending.remove(0);
            let uid = match uid {
                Some(u) => u,
                None => search_token(&mut cl.imap, &token)
                    .await?
                    .context("appended message not found")?,
            };
            cl.imap
                .command_retry(&format!("UID STORE {uid} +FLAGS.SILENT (\\Deleted)"))
                .await?
                .check("STORE \\Deleted")?;
            let t = Instant::now();
            cl.imap.command_retry("EXPUNGE").await?.check(name)?;
            let d = t.elapsed();
            if search_token(&mut cl.imap, &token).await?.is_some() {
                bail!("message {token} still there after EXPUNGE");
            }
            rec.ok(name, d);
        }
    }
    Ok(())
}

/// Appends a new message (the mix's own, never a corpus one) and notes it
/// for a later EXPUNGE.
async fn append(cl: &mut Client) -> Result<()> {
    let n = cl.appended;
    cl.appended += 1;
    let token = message_id_token(&cl.prefix, n);
    // Sizes follow the corpus mix: same seed index space, own token.
    let variant = cl.rng.next_u64();
    let msg = generate(variant, n, &cl.prefix, &cl.user, "");
    // Wake-up latency runs from the moment the APPEND is sent: a server
    // may notify IDLE sessions before the appending client has its OK.
    if let Ok(mut a) = cl.appends.lock() {
        a.insert(token.clone(), Instant::now());
    }
    let r = cl.imap.append("INBOX", "\\Seen", &msg).await?.check("APPEND")?;
    // RFC 4315 APPENDUID saves a SEARCH later, when the server has it.
    let uid = r
        .text
        .split_once("[APPENDUID ")
        .and_then(|(_, rest)| rest.split([' ', ']']).nth(1))
        .and_then(|u| u.parse().ok());
    cl.pending.push((uid, token));
    Ok(())
}

async fn search_token(imap: &mut Imap, token: &str) -> Result<Option<u64>> {
    let r = imap
        .command(&format!("UID SEARCH SUBJECT {}", quote(token)))
        .await?
        .check("SEARCH")?;
    Ok(r.untagged.iter().filter_map(|u| parse_search(u)).flatten().next())
}

/// Leaves the mailbox as the corpus load made it (flags aside).
async fn cleanup(cl: &mut Client) {
    let pending = std::mem::take(&mut cl.pending);
    for (uid, token) in pending {
        let uid = match uid {
            Some(u) => Some(u),
            None => search_token(&mut cl.imap, &token).await.ok().flatten(),
        };
        if let Some(uid) = uid {
            let _ = cl
                .imap
                .command(&format!("UID STORE {uid} +FLAGS.SILENT (\\Deleted)"))
                .await;
        }
    }
    let _ = cl.imap.command("EXPUNGE").await;
}

/// An IDLE watcher on user `n`'s INBOX: waits for EXISTS, leaves IDLE,
/// fetches the new messages' ids like a client would, and records for
/// each one the mix appended the time from sending its APPEND to the wake-up.
async fn watch(
    c: &Common,
    port: u16,
    n: u64,
    duration: Duration,
    barrier: Arc<Barrier>,
    appends: Appends,
    rec: &mut Recorder,
) -> Result<()> {
    let setup = async {
        let (mut imap, _) = login_select(c, port, &c.corpus().user(n)).await?;
        let r = imap.command("UID SEARCH ALL").await?.check("SEARCH ALL")?;
        let last = r
            .untagged
            .iter()
            .filter_map(|u| parse_search(u))
            .flatten()
            .max()
            .unwrap_or(0);
        Ok::<_, anyhow::Error>((imap, last))
    }
    .await;
    barrier.wait().await;
    let (mut imap, mut last_uid) = setup?;
    let deadline = Instant::now() + duration;
    while Instant::now() < deadline {
        let tag = imap.idle_start().await?;
        let wake = imap
            .idle_wait_any_exists(deadline.saturating_duration_since(Instant::now()))
            .await?;
        imap.idle_done(&tag).await?.check("IDLE")?;
        let Some(woke_at) = wake else { break };
        let r = imap
            .command_retry(&format!(
                "UID FETCH {}:* (UID BODY.PEEK[HEADER.FIELDS (X-MRB-ID)])",
                last_uid + 1
            ))
            .await?;
        let r = r.check("FETCH new")?;
        for f in r.untagged.iter().filter_map(|u| parse_fetch(u)) {
            let Some(uid) = f.uid() else { continue };
            if uid <= last_uid {
                continue;
            }
            last_uid = uid;
            let h = f
                .get("BODY[HEADER.FIELDS (X-MRB-ID)]")
                .and_then(Value::as_bytes)
                .unwrap_or_default();
            let h = String::from_utf8_lossy(h);
            let tok = h.trim().rsplit(':').next().unwrap_or("").trim().to_string();
            let appended_at = appends.lock().ok().and_then(|mut a| a.remove(&tok));
            if let Some(at) = appended_at {
                rec.ok(IDLE_OP, woke_at.saturating_duration_since(at));
            }
        }
    }
    rec.note(EXPUNGE_ISSUED, imap.expunge_issued);
    imap.logout().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_is_percent_and_pick_covers_every_op() {
        assert_eq!(MIX.iter().map(|(_, w)| w).sum::<u64>(), 100);
        let mut seen = std::collections::HashSet::new();
        for d in 0..100 {
            seen.insert(pick(MIX, d).name());
        }
        assert_eq!(seen.len(), MIX.len());
        assert_eq!(pick(MIX, 0), Op::Select);
        assert_eq!(pick(MIX, 99), Op::Expunge);
        assert_eq!(pick(MIX, 1000), Op::Expunge);
    }
}
