#!/usr/bin/env bash
# Mailroom against Postfix→Dovecot (LMTP), on this machine, in one run.
#
#   bench/compare.sh                 # full run, writes docs/BENCHMARKS.md
#   QUICK=1 bench/compare.sh         # smaller and shorter, for trying it out
#
# Installs Debian's dovecot-imapd, dovecot-pop3d, dovecot-lmtpd and postfix
# if missing (as root; system services are neither configured nor started),
# then runs PRIVATE instances of everything on loopback high ports under a
# temporary directory, with the same users, the same corpus and equal
# durability (Dovecot mail_fsync = always, Postfix's queue, Mailroom's
# synchronous commit). Every workload runs against each side in turn.
# Everything started here is stopped by PID on exit.
#
# Knobs (environment): USERS MESSAGES IMAP_CLIENTS IMAP_DURATION POP3_DURATION
# SMTP_COUNT SMTP_SESSIONS CONNS CONNS_MAILROOM ROUNDS DOVECOT_MODES
# ("hp default"), WORK (temp dir, kept when set), OUT (report path),
# MAILROOM_BIN / BENCH_BIN (skip the cargo build), PORT_BASE.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
COMMAND_LINE="$0 $*"
MAILROOM_REV=$(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo unknown)
if [[ -n "${QUICK:-}" ]]; then
  : "${USERS:=10}" "${MESSAGES:=500}" "${IMAP_CLIENTS:=15}" "${IMAP_DURATION:=8}" "${POP3_DURATION:=6}"
  : "${SMTP_COUNT:=300}" "${CONNS:=300}" "${CONNS_MAILROOM:=1000}"
fi
USERS=${USERS:-20}
MESSAGES=${MESSAGES:-2000}
IMAP_CLIENTS=${IMAP_CLIENTS:-30}
IMAP_DURATION=${IMAP_DURATION:-20}
POP3_DURATION=${POP3_DURATION:-15}
SMTP_COUNT=${SMTP_COUNT:-1000}
SMTP_SESSIONS=${SMTP_SESSIONS:-8}
CONNS=${CONNS:-2000}
CONNS_MAILROOM=${CONNS_MAILROOM:-10000}
ROUNDS=${ROUNDS:-1}
DOVECOT_MODES=${DOVECOT_MODES:-"hp default"}
WITH_MAILROOM=${WITH_MAILROOM:-1}   # 0: only the Postfix/Dovecot side (to debug it)
PASSWORD=benchpw
DOMAIN=bench.test
SEED=${SEED:-1}
OUT=${OUT:-$ROOT/docs/BENCHMARKS.md}
PORT_BASE=${PORT_BASE:-40000}
M_IMAP=$((PORT_BASE + 143)) M_POP3=$((PORT_BASE + 110)) M_SMTP=$((PORT_BASE + 25))
D_IMAP=$((PORT_BASE + 1143)) D_POP3=$((PORT_BASE + 1110)) D_LMTP=$((PORT_BASE + 1024))
P_SMTP=$((PORT_BASE + 1025))

log() { printf '%s compare: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
[[ $(id -u) == 0 ]] || die "run as root (it installs packages and runs Dovecot/Postfix as their users)"

if [[ -n "${WORK:-}" ]]; then KEEP=1; mkdir -p "$WORK"; else KEEP=; WORK=$(mktemp -d /tmp/mrbench.XXXXXX); fi
chmod 755 "$WORK"
RESULTS=$WORK/results.jsonl
: > "$RESULTS"
D=$WORK/dovecot P=$WORK/postfix M=$WORK/mailroom

# --- packages ---------------------------------------------------------------
apt_retry() {
  local i
  for i in $(seq 1 30); do
    if DEBIAN_FRONTEND=noninteractive apt-get "$@"; then return 0; fi
    log "apt-get $1 failed (dpkg lock held by someone else?); retrying in 10 s"
    sleep 10
  done
  return 1
}
if ! command -v dovecot >/dev/null || ! command -v postfix >/dev/null || ! [[ -x /usr/lib/dovecot/lmtp ]] || ! [[ -x /usr/lib/dovecot/pop3 ]]; then
  log "installing dovecot and postfix from Debian"
  # "No configuration": the package must not set up or start a system MTA.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt_retry update -qq
  apt_retry install -y -qq dovecot-imapd dovecot-pop3d dovecot-lmtpd postfix >/dev/null
fi

# --- binaries ---------------------------------------------------------------
if [[ -z "${MAILROOM_BIN:-}" || -z "${BENCH_BIN:-}" ]]; then
  log "building release binaries"
  (cd "$ROOT" && cargo build --release -q -p mailroom -p mailroom-bench)
fi
MAILROOM_BIN=${MAILROOM_BIN:-$ROOT/target/release/mailroom}
BENCH_BIN=${BENCH_BIN:-$ROOT/target/release/mailroom-bench}

# 10,000 idle connections need 10,000 descriptors on each side, plus slack.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# --- process bookkeeping ----------------------------------------------------
PIDS=()
pidfile_pid() { [[ -s $1 ]] && tr -dc '0-9' < "$1"; }
stop_pid() { # pid name
  local pid=$1 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  log "$2 ($pid) did not stop on TERM; killing"
  kill -KILL "$pid" 2>/dev/null || true
}
dovecot_pid() { pidfile_pid "$D/run/master.pid"; }
postfix_pid() { pidfile_pid "$P/queue/pid/master.pid"; }
cleanup() {
  local rc=$?
  set +e
  for pid in "${PIDS[@]}"; do stop_pid "$pid" mailroom; done
  stop_pid "$(dovecot_pid)" dovecot
  stop_pid "$(postfix_pid)" postfix
  if [[ -z $KEEP && $rc == 0 ]]; then rm -rf "$WORK"; else log "work directory kept: $WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() { # port name
  local i
  for i in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  die "$2 is not listening on port $1"
}

# A listener can be bound by a build that does not serve the protocol yet.
greets() { # port
  local banner
  banner=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1; head -c 3 <&3" 2>/dev/null) || true
  [[ $banner == 220 ]]
}

# --- Dovecot ----------------------------------------------------------------
# Mail is stored as an unprivileged user of our own.
id mrbench >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin mrbench
MRB_UID=$(id -u mrbench)

setup_dovecot() { # mode: hp | default
  mkdir -p "$D/run" "$D/state" "$D/mail"
  chown mrbench:mrbench "$D/mail"
  local login_perf="" imap_perf=""
  if [[ $1 == hp ]]; then
    # High-performance mode: long-lived login processes each serving many
    # clients, imap processes reused across connections.
    login_perf="service_count = 0
  process_min_avail = $(nproc)
  client_limit = 20000
  vsz_limit = 1G"
    imap_perf="service_count = 0
  process_min_avail = $(nproc)"
  fi
  cat > "$D/dovecot.conf" <<EOF
# Private benchmark instance (bench/compare.sh), mode: $1
instance_name = mrbench
base_dir = $D/run
state_dir = $D/state
log_path = $D/dovecot.log
listen = 127.0.0.1
protocols = imap pop3 lmtp
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_cache_size = 10M
auth_cache_ttl = 1 hour
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = $MRB_UID
last_valid_uid = $MRB_UID
mail_location = maildir:$D/mail/%u
mail_fsync = always
mail_max_userip_connections = 100000
default_process_limit = 25000
default_client_limit = 50000
passdb {
  driver = passwd-file
  args = scheme=CRYPT username_format=%u $D/users
}
userdb {
  driver = static
  args = uid=mrbench gid=mrbench home=$D/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $D_IMAP
  }
  inet_listener imaps {
    port = 0
  }
  $login_perf
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $D_POP3
  }
  inet_listener pop3s {
    port = 0
  }
  $login_perf
}
service imap {
  process_limit = 25000
  $imap_perf
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $D_LMTP
  }
  unix_listener lmtp {
    mode = 0666
  }
}
service anvil {
  client_limit = 60000
}
service auth {
  client_limit = 60000
}
protocol lmtp {
  postmaster_address = postmaster@$DOMAIN
}
EOF
  if [[ ! -s $D/users ]]; then
    local i
    for i in $(seq 0 $((USERS - 1))); do
      # Dovecot's default scheme for `doveadm pw -s CRYPT` (bcrypt here).
      echo "u$i@$DOMAIN:$(doveadm pw -s CRYPT -p "$PASSWORD")"
    done > "$D/users"
    chmod 640 "$D/users"; chgrp dovecot "$D/users"
  fi
}
start_dovecot() {
  dovecot -c "$D/dovecot.conf" 2>> "$D/start.log" || { tail -5 "$D/start.log" "$D/dovecot.log" >&2; die "dovecot did not start"; }
  wait_port "$D_IMAP" dovecot-imap; wait_port "$D_POP3" dovecot-pop3; wait_port "$D_LMTP" dovecot-lmtp
  log "dovecot $(dovecot --version) running, pid $(dovecot_pid)"
}
stop_dovecot() {
  local pid; pid=$(dovecot_pid)
  stop_pid "$pid" dovecot
}

# --- Postfix ----------------------------------------------------------------
setup_postfix() {
  mkdir -p "$P/queue" "$P/data"
  chown postfix "$P/data"
  cat > "$P/main.cf" <<EOF
# Private benchmark instance (bench/compare.sh)
compatibility_level = 3.6
queue_directory = $P/queue
data_directory = $P/data
maillog_file = $P/maillog
maillog_file_prefixes = $P
myhostname = mx.$DOMAIN
mydomain = $DOMAIN
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_transport = error:no local delivery in this instance
virtual_mailbox_domains = $DOMAIN
virtual_transport = lmtp:inet:127.0.0.1:$D_LMTP
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_banner = \$myhostname ESMTP
biff = no
append_dot_mydomain = no
relayhost =
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
default_process_limit = 200
EOF
  # Debian's stock services without the chroot (the chroot would need a
  # copy of /etc files under the private queue), our smtpd on a high port.
  cat > "$P/master.cf" <<EOF
127.0.0.1:$P_SMTP inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}
start_postfix() {
  # Postfix reports problems to its log, not to a non-terminal stderr.
  postfix -c "$P" check >> "$P/start.log" 2>&1 || true
  postfix -c "$P" start >> "$P/start.log" 2>&1 || { tail -5 "$P/maillog" >&2; die "postfix did not start"; }
  wait_port "$P_SMTP" postfix-smtpd
  log "postfix $(postconf -c "$P" -h mail_version) running, pid $(postfix_pid)"
}

# --- Mailroom ---------------------------------------------------------------
setup_mailroom() {
  mkdir -p "$M"
  cat > "$M/mailroom.toml" <<EOF
# Private benchmark instance (bench/compare.sh)
hostname = "mx.$DOMAIN"
data_dir = "$M/data"
[listen]
smtp = "127.0.0.1:$M_SMTP"
imap = "127.0.0.1:$M_IMAP"
pop3 = "127.0.0.1:$M_POP3"
[auth]
allow_plaintext = true
EOF
  # Connection limits are per protocol; everything here comes from one
  # address, so lift them (the config rejects unknown keys: add a section
  # only where this build knows it).
  local proto
  for proto in pop3 imap smtp; do
    cp "$M/mailroom.toml" "$M/try.toml"
    printf '[%s]\nmax_connections_per_ip = 30000\nmax_connections = 30000\n' "$proto" >> "$M/try.toml"
    if "$MAILROOM_BIN" --config "$M/try.toml" check >/dev/null 2>&1; then
      mv "$M/try.toml" "$M/mailroom.toml"
    else
      log "mailroom config: no [$proto] connection limits in this build (defaults apply)"
    fi
  done
  rm -f "$M/try.toml"
  if [[ ! -e $M/users.done ]]; then
    "$MAILROOM_BIN" --config "$M/mailroom.toml" domain add "$DOMAIN" >/dev/null
    local i
    for i in $(seq 0 $((USERS - 1))); do
      echo "$PASSWORD" | "$MAILROOM_BIN" --config "$M/mailroom.toml" user add "u$i@$DOMAIN" --password-stdin >/dev/null
    done
    touch "$M/users.done"
  fi
}
MAILROOM_PID=
start_mailroom() {
  "$MAILROOM_BIN" --config "$M/mailroom.toml" serve 2>> "$M/mailroom.log" &
  MAILROOM_PID=$!
  PIDS+=("$MAILROOM_PID")
  wait_port "$M_IMAP" mailroom-imap; wait_port "$M_POP3" mailroom-pop3; wait_port "$M_SMTP" mailroom-smtp
  log "mailroom running, pid $MAILROOM_PID"
}

# --- workloads --------------------------------------------------------------
common_args() { # label pid...
  local label=$1; shift
  local a=(--label "$label" --json "$RESULTS" --users "$USERS" --messages "$MESSAGES" --seed "$SEED"
           --domain "$DOMAIN" --password "$PASSWORD")
  local p; for p in "$@"; do a+=(--server-pid "$p"); done
  printf '%s\n' "${a[@]}"
}
bench() { # subcommand label args... -- pids...
  local sub=$1 label=$2; shift 2
  local args=() pids=()
  while [[ $# -gt 0 && $1 != -- ]]; do args+=("$1"); shift; done
  [[ ${1:-} == -- ]] && shift
  pids=("$@")
  local common; mapfile -t common < <(common_args "$label" "${pids[@]}")
  log "$sub on $label"
  echo "$BENCH_BIN $sub ${common[*]} ${args[*]}" >> "$WORK/commands.txt"
  "$BENCH_BIN" "$sub" "${common[@]}" "${args[@]}" >/dev/null 2>> "$WORK/bench-$label.log" \
    || { log "$sub on $label failed (see $WORK/bench-$label.log)"; tail -5 "$WORK/bench-$label.log" >&2; }
}
m_pids() { echo "$MAILROOM_PID"; }
d_pids() { echo "$(dovecot_pid)"; }
dp_pids() { echo "$(dovecot_pid) $(postfix_pid)"; }

run_side() { # which(m|d) label workload
  local side=$1 label=$2 w=$3 imap pop3 smtp pids
  if [[ $side == m ]]; then
    [[ $WITH_MAILROOM == 1 ]] || return 0
    imap=$M_IMAP pop3=$M_POP3 smtp=$M_SMTP pids=$(m_pids)
  else
    imap=$D_IMAP pop3=$D_POP3 smtp=$P_SMTP pids=$(d_pids)
    # Postfix is part of the server side only where mail is received.
    [[ $w == smtp ]] && pids=$(dp_pids)
  fi
  # shellcheck disable=SC2086
  case $w in
    load) bench load "$label" --imap-port "$imap" -- $pids ;;
    login) bench login "$label" --imap-port "$imap" --pop3-port "$pop3" -- $pids ;;
    pop3) bench pop3 "$label" --pop3-port "$pop3" --clients "$USERS" --duration "$POP3_DURATION" -- $pids ;;
    imap) bench imap "$label" --imap-port "$imap" --clients "$IMAP_CLIENTS" --duration "$IMAP_DURATION" -- $pids ;;
    smtp)
      if ! greets "$smtp"; then log "no SMTP greeting on $label's port $smtp: skipping smtp"; return 0; fi
      bench smtp "$label" --smtp-port "$smtp" --imap-port "$imap" --sessions "$SMTP_SESSIONS" --count "$SMTP_COUNT" -- $pids ;;
    connections) bench connections "$label" --imap-port "$imap" --count "$CONNS" -- $pids ;;
    connections-max) bench connections "$label" --imap-port "$imap" --count "$CONNS_MAILROOM" --parallel 100 -- $pids ;;
  esac
}

log "work directory $WORK"
if [[ $WITH_MAILROOM == 1 ]]; then
  setup_mailroom
  start_mailroom
fi
first_mode=${DOVECOT_MODES%% *}
setup_dovecot "$first_mode"
start_dovecot
setup_postfix
start_postfix

mode_label() { echo "dovecot-$1"; }
MR=mailroom
for mode in $DOVECOT_MODES; do
  DL=$(mode_label "$mode")
  if [[ $mode != "$first_mode" ]]; then
    stop_dovecot
    setup_dovecot "$mode"
    start_dovecot
  fi
  # Logins first, while the auth caches are cold ("first" rows).
  [[ $mode == "$first_mode" ]] && run_side m $MR login
  run_side d "$DL" login
  if [[ $mode == "$first_mode" ]]; then
    run_side m $MR load
    run_side d "$DL" load
  fi
  for w in pop3 imap; do
    for r in $(seq 1 "$ROUNDS"); do
      [[ $mode == "$first_mode" ]] && run_side m $MR $w
      run_side d "$DL" $w
    done
  done
  for r in $(seq 1 "$ROUNDS"); do
    [[ $mode == "$first_mode" ]] && run_side m $MR smtp
    run_side d "$DL" smtp
  done
  [[ $mode == "$first_mode" ]] && run_side m $MR connections
  run_side d "$DL" connections
done
if (( CONNS_MAILROOM > CONNS )); then run_side m $MR connections-max; fi

# --- report -----------------------------------------------------------------
log "writing $OUT"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
table=$("$BENCH_BIN" report "$RESULTS")
mkdir -p "$(dirname "$OUT")"
{
  cat <<EOF
# Benchmarks: Mailroom vs Postfix + Dovecot

Generated by \`bench/compare.sh\` on $(date -u +"%Y-%m-%d %H:%M UTC"). Re-run it to
replace this file; see "How to run" below.

## Results

Each workload ran against each side in turn on the same machine, same
users, same corpus. Columns: the measured value per side; then how many
times better Mailroom is (**>1×: Mailroom better, <1×: Mailroom worse**,
whatever the metric's direction: ↑ higher is better, ↓ lower is better).
"dovecot-hp" is Dovecot in high-performance mode (long-lived login and imap
processes, \`service_count = 0\`), "dovecot-default" its default mode;
SMTP rows for those columns are Postfix delivering over LMTP to that Dovecot.
"—" means not measured (a workload that failed to run, or a protocol the
build under test did not serve yet: see the run's logs).

$table

$(cat "$ROOT/bench/notes.md" 2>/dev/null)

## Machine

- CPU: $cpu, $(nproc) cores online
- RAM: $mem
- OS: $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)
- Load generator and servers share the machine (loopback TCP); the
  "server CPU" rows divide the server processes' CPU time by the work done,
  which is less sensitive to other load on the machine than rates are.

## Versions

- Mailroom: source tree $MAILROOM_REV when the run started ($("$MAILROOM_BIN" --version 2>/dev/null || echo mailroom))
- Dovecot: $(dovecot --version)
- Postfix: $(postconf -c "$P" -h mail_version)

## Setup (equal durability, realistic authentication)

- Corpus: $MESSAGES messages (seed $SEED; plain text, multipart/alternative,
  RFC 2047 non-ASCII headers with quoted-printable UTF-8 bodies,
  multipart/mixed with base64 attachments up to ~270 KB) spread over
  $USERS users, loaded into each side's INBOXes with IMAP APPEND.
- Mailroom: one process, every acknowledged write committed and fsynced
  before the reply; passwords hashed with its own scheme (argon2id), auth
  cache on.
- Dovecot $(dovecot --version | cut -d' ' -f1): maildir, \`mail_fsync = always\`; users in a passwd-file
  with \`doveadm pw -s CRYPT\` hashes (Dovecot's default CRYPT: bcrypt cost 5),
  auth cache on; plaintext auth allowed on loopback (no TLS on either side).
- Postfix: a private instance (own config and queue directories), smtpd on
  loopback, virtual mailbox domain delivered over LMTP to Dovecot; the
  queue is Postfix's normal fsynced queue.
- Workloads: login ($USERS users × 3 rounds, sequential), POP3
  ($USERS clients, ${POP3_DURATION}s, whole mailboxes with STAT/UIDL/RETR,
  every message compared byte for byte), IMAP mix ($IMAP_CLIENTS clients on
  $USERS mailboxes, so some mailboxes are shared, ${IMAP_DURATION}s; SELECT,
  FETCH FLAGS/ENVELOPE/BODY.PEEK[HEADER]/BODY.PEEK[], STORE, SEARCH,
  APPEND, EXPUNGE, IDLE wake-up; every answer verified), SMTP
  ($SMTP_COUNT messages over $SMTP_SESSIONS sessions to port-25-style
  listeners, then every message looked for over IMAP: "end to end" counts
  only messages readable in the recipient's INBOX), idle connections
  ($CONNS logged-in IMAP sessions in IDLE; memory is the server's whole
  process tree, before and after; PSS counts shared pages once).

## How to run

\`\`\`sh
$COMMAND_LINE
# knobs: USERS MESSAGES IMAP_CLIENTS IMAP_DURATION POP3_DURATION SMTP_COUNT
#        SMTP_SESSIONS CONNS CONNS_MAILROOM ROUNDS DOVECOT_MODES QUICK=1
# this run: USERS=$USERS MESSAGES=$MESSAGES IMAP_CLIENTS=$IMAP_CLIENTS IMAP_DURATION=$IMAP_DURATION
#   POP3_DURATION=$POP3_DURATION SMTP_COUNT=$SMTP_COUNT SMTP_SESSIONS=$SMTP_SESSIONS CONNS=$CONNS
#   CONNS_MAILROOM=$CONNS_MAILROOM ROUNDS=$ROUNDS DOVECOT_MODES="$DOVECOT_MODES" SEED=$SEED
\`\`\`

The exact load generator commands of this run:

\`\`\`
$(sed -e "s#$WORK#\$WORK#g" -e "s#$ROOT/##g" "$WORK/commands.txt")
\`\`\`
EOF
} > "$OUT"
log "done: $OUT"
