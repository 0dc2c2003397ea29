#!/bin/sh
# Differential test of Mailroom's IMAP server against Dovecot.
#
# Starts a private Dovecot (maildir, static passdb/userdb, loopback port)
# and a private Mailroom (built binary, temp data dir), runs imapdiff.py
# over every scenario (or those matching $1), prints the differences,
# stops both servers. Skips, saying so, when dovecot or python3 is absent.
#
#   crates/imap/tests/diff/run.sh [FILTER]     (after `cargo build -p mailroom`)
#
# Exit status: 0 when nothing differs or skipped, 1 when something differs.
# Differences are not all bugs: see README.md next to this file for the
# ones that are RFC-permitted or where Dovecot is the one that is wrong.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
bin=${MAILROOM_BIN:-$root/target/debug/mailroom}
DOVECOT=${DOVECOT:-$(command -v dovecot || true)}
[ -x /usr/sbin/dovecot ] && [ -z "$DOVECOT" ] && DOVECOT=/usr/sbin/dovecot
if [ -z "$DOVECOT" ] || ! command -v python3 >/dev/null; then
    echo "imapdiff: SKIPPED (dovecot or python3 not installed; apt-get install dovecot-imapd)"
    exit 0
fi
if [ ! -x "$bin" ]; then
    echo "imapdiff: SKIPPED ($bin missing; cargo build -p mailroom)"
    exit 0
fi
work=$(mktemp -d /tmp/imapdiff.XXXXXX)
chmod 755 "$work"
dc_pid=""
mr_pid=""
cleanup() {
    [ -n "$mr_pid" ] && kill "$mr_pid" 2>/dev/null || true
    [ -f "$work/dc/base/master.pid" ] && kill "$(cat "$work/dc/base/master.pid")" 2>/dev/null || true
    sleep 0.5
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
dc_port=$(port)
mr_port=$(port)
smtp_port=$(port)

# Dovecot refuses mail access as root: run mail processes as nobody then.
if [ "$(id -u)" = 0 ]; then
    mail_uid=$(id -u nobody); mail_gid=$(id -g nobody)
    extra="first_valid_uid = 1"
else
    mail_uid=$(id -u); mail_gid=$(id -g)
    extra="default_internal_user = $(id -un)
default_login_user = $(id -un)
default_internal_group = $(id -gn)"
fi
mkdir -p "$work/dc/base" "$work/dc/state" "$work/dc/mail"
chown "$mail_uid:$mail_gid" "$work/dc/mail"
specials=""
for m in Drafts Sent Trash Junk Archive; do
    specials="$specials
  mailbox $m {
    auto = subscribe
    special_use = \\$m
  }"
done
cat > "$work/dc/dovecot.conf" <<EOF
base_dir = $work/dc/base
state_dir = $work/dc/state
log_path = $work/dc/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
$extra
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $dc_port
  }
  inet_listener imaps {
    port = 0
  }
}
passdb {
  driver = static
  args = password=secret
}
userdb {
  driver = static
  args = uid=$mail_uid gid=$mail_gid home=$work/dc/mail/%u
}
namespace inbox {
  inbox = yes
  separator = /$specials
}
EOF
"$DOVECOT" -c "$work/dc/dovecot.conf"

mkdir -p "$work/mr"
cat > "$work/mr/mailroom.toml" <<EOF
hostname = "localhost"
data_dir = "data"
[listen]
imap = "127.0.0.1:$mr_port"
smtp = "127.0.0.1:$smtp_port"
[auth]
failure_delay_ms = 50
EOF
"$bin" --config "$work/mr/mailroom.toml" domain add example.test >/dev/null
"$bin" --config "$work/mr/mailroom.toml" serve >"$work/mr/log" 2>&1 &
mr_pid=$!
python3 - "$dc_port" "$mr_port" <<'EOF'
import socket, sys, time
for p in sys.argv[1:]:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", int(p)), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
EOF
filter=${1:-}
[ $# -gt 0 ] && shift
set +e
python3 "$here/imapdiff.py" --mailroom "127.0.0.1:$mr_port" --dovecot "127.0.0.1:$dc_port" \
    --mr-adduser "echo secret | '$bin' --config '$work/mr/mailroom.toml' user add {user}@example.test --password-stdin" \
    --dc-adduser true ${filter:+"-k=$filter"} "$@"
rc=$?
exit $rc
