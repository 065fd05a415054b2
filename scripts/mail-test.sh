#!/usr/bin/env bash
# mail-test.sh -- a throwaway IMAP server (Dovecot) and SMTP server (Postfix)
# on loopback for the tests.
#
#   scripts/mail-test.sh start DIR   write configs under DIR, start both on
#                                    free 127.0.0.1 ports, wait until they
#                                    answer, write DIR/env (KEFU_TEST_IMAP_PORT=...)
#   scripts/mail-test.sh stop DIR    stop both; DIR itself stays (mail, logs,
#                                    configs) for the caller to inspect or delete
#
# Debian packages needed (installs nothing itself; scripts/deps.sh test does):
#   dovecot-imapd dovecot-lmtpd postfix openssl (and python3, procps)
# (dovecot-core comes with dovecot-imapd.)  Install them without letting the
# packages start their own system-wide daemons (policy-rc.d exit 101) and
# with postfix/main_mailer_type "No configuration".
#
# What runs (all on 127.0.0.1, ports chosen free at start, none standard):
#   Dovecot   IMAP (plain text auth allowed, STARTTLS offered), IMAPS,
#             LMTP (delivery from Postfix), auth (SASL for Postfix).
#             Users from DIR/dovecot/users (passwd-file, {PLAIN} passwords),
#             mail in Maildir under DIR/mail/DOMAIN/USER/Maildir, owned by
#             the system user `mail`.
#   Postfix   SMTP (STARTTLS and AUTH PLAIN/LOGIN offered, auth optional),
#             SMTPS (implicit TLS).  Its own config_directory, queue_directory
#             and data_directory (DIR/postfix, DIR/postfix-queue,
#             DIR/postfix-data).  Mail for the test users goes to Dovecot over
#             LMTP; anyone may send to them (as to an MX), with or without
#             AUTH.  Nothing is relayed: any other recipient is refused at
#             RCPT (554/550 5.7.1, unknown test-domain users 550 5.1.1), even
#             after AUTH.  Headers are left as the client sent them (no
#             Message-ID or Date added).  Nothing listens on port 25 and
#             nothing leaves the machine.
#   TLS       a self-signed certificate for localhost/127.0.0.1 made with
#             openssl: DIR/tls/cert.pem (KEFU_TEST_MAIL_CA).
#
# Postfix must be started by root (its master refuses otherwise); as
# another user the script re-runs itself through `sudo -n` when it can.
# Runtime sockets and pid files live in a short directory under /tmp (unix
# socket paths are limited to 107 bytes), named after DIR, removed by stop.
#
# start always begins from a clean slate: whatever an earlier run with the
# same DIR left running (a crash, stale pid files) is stopped first, and
# DIR's contents are replaced.  Every wait is bounded.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?directory}

# Test users: address and password (no ':' or ',' in either).
USERS=(
	"support@kefu.test:support-pass-2026"
	"sales@kefu.test:sales-pass-2026"
	"customer@kefu.test:customer-pass-2026"
	"customer2@kefu.test:customer2-pass-2026"
)
# tests/api/mailbox.test.js runs once per database engine, both runs at the
# same time against the same servers: each run has mailboxes of its own
# (support-sqlite@, customer-sqlite@, ... support-pg@, ...).
for engine in sqlite pg; do
	for role in support customer bulk auth; do
		USERS+=("$role-$engine@kefu.test:$role-$engine-pass-2026")
	done
done
DOMAINS=(kefu.test)
MAIL_USER=mail          # system user owning the Maildirs (Dovecot refuses uid 0)
START_TIMEOUT=${KEFU_MAIL_START_TIMEOUT:-30}   # seconds, per server
STOP_TIMEOUT=10

log() { echo "mail-test: $*" >&2; }
die() { log "$*"; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		exec sudo -n "$0" "$@"
	fi
	die "must run as root (Postfix's master refuses to start otherwise)"
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)
# Short runtime directory (sockets, pid files), one per DIR.
run=/tmp/kefu-mail-$(printf '%s' "$dir" | md5sum | cut -c1-12)

# pid_of NAME: the pid from a pid file if that process is still the server
# we started (same executable and, for Postfix, the same config), else empty.
dovecot_pid() {
	local f=$run/dovecot/master.pid pid
	[ -f "$f" ] || return 0
	pid=$(tr -dc 0-9 <"$f")
	[ -n "$pid" ] && [ -d "/proc/$pid" ] || return 0
	[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = /usr/sbin/dovecot ] || return 0
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$dir/dovecot/dovecot.conf" || return 0
	echo "$pid"
}
postfix_pid() {
	local f=$dir/postfix-queue/pid/master.pid pid
	[ -f "$f" ] || return 0
	pid=$(tr -dc 0-9 <"$f")
	[ -n "$pid" ] && [ -d "/proc/$pid" ] || return 0
	[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = /usr/lib/postfix/sbin/master ] || return 0
	tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "MAIL_CONFIG=$dir/postfix" || return 0
	echo "$pid"
}

# alive PID: running, and not a zombie waiting to be reaped.
alive() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# kill_group PID: SIGTERM the daemon (what `postfix stop` and `doveadm stop`
# do), wait, then SIGKILL its whole process group (both masters call setsid,
# so their children share the group).
kill_group() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	kill -KILL "$pid" 2>/dev/null || true
}

# sweep PIDFILE EXEPREFIX: after a crash of a master, SIGKILL what is left of
# its process group -- only processes whose executable is under EXEPREFIX
# (a dead master's group id could in theory be someone else's by now).
sweep() {
	local pgid p exe
	[ -f "$1" ] || return 0
	pgid=$(tr -dc 0-9 <"$1")
	[ -n "$pgid" ] || return 0
	for p in $(ps -eo pid=,pgid= | awk -v g="$pgid" '$2 == g { print $1 }'); do
		exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
		case $exe in "$2"*) kill -KILL "$p" 2>/dev/null || true ;; esac
	done
}

stop_all() {
	local pid
	pid=$(postfix_pid)
	[ -z "$pid" ] || kill_group "$pid"
	sweep "$dir/postfix-queue/pid/master.pid" /usr/lib/postfix/
	pid=$(dovecot_pid)
	[ -z "$pid" ] || kill_group "$pid"
	sweep "$run/dovecot/master.pid" /usr/lib/dovecot/
	rm -rf "$run"
}

# wait_banners PORT:tls|plain:PREFIX:NAME...: until a connection to each port
# (over implicit TLS or not) greets with its PREFIX; START_TIMEOUT seconds in all.
wait_banners() {
	python3 - "$START_TIMEOUT" "$@" <<'EOF' || die "a server did not answer within ${START_TIMEOUT}s"
import socket, ssl, sys, time
deadline = time.monotonic() + float(sys.argv[1])
def greets(port, mode, prefix):
    try:
        s = socket.create_connection(("127.0.0.1", int(port)), timeout=3)
        if mode == "tls":
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s)
        got = b""
        while len(got) < len(prefix):
            chunk = s.recv(256)
            if not chunk:
                break
            got += chunk
        s.close()
        return got.startswith(prefix.encode())
    except OSError:
        return False
for spec in sys.argv[2:]:
    port, mode, prefix, name = spec.split(":", 3)
    while not greets(port, mode, prefix):
        if time.monotonic() > deadline:
            print(f"mail-test: {name} on 127.0.0.1:{port} does not answer", file=sys.stderr)
            sys.exit(1)
        time.sleep(0.1)
EOF
}

# Free loopback ports, all distinct (sockets held open until all are chosen).
free_ports() {
	python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

write_configs() {
	local uid gid u addr pass local_part domain home
	uid=$(id -u "$MAIL_USER")
	gid=$(id -g "$MAIL_USER")

	mkdir -p "$dir/tls" "$dir/dovecot" "$dir/postfix" "$dir/mail" "$run/dovecot"
	chmod 0755 "$dir" "$dir/mail" "$run"

	# -- TLS: a self-signed certificate for localhost and 127.0.0.1.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-days 30 -subj "/CN=localhost" \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$dir/tls/key.pem" -out "$dir/tls/cert.pem" >"$dir/tls/openssl.log" 2>&1 \
		|| { cat "$dir/tls/openssl.log" >&2; die "openssl failed"; }
	chmod 0600 "$dir/tls/key.pem"
	chmod 0644 "$dir/tls/cert.pem"

	# -- Users: one passwd-file line each, and a Maildir home owned by `mail`.
	: >"$dir/dovecot/users"
	: >"$dir/postfix/vmailbox"
	for u in "${USERS[@]}"; do
		addr=${u%%:*}
		pass=${u#*:}
		local_part=${addr%@*}
		domain=${addr#*@}
		home=$dir/mail/$domain/$local_part
		mkdir -p "$home"
		chown "$uid:$gid" "$dir/mail/$domain" "$home"
		chmod 0700 "$home"
		echo "$addr:{PLAIN}$pass:$uid:$gid::$home::" >>"$dir/dovecot/users"
		echo "$addr OK" >>"$dir/postfix/vmailbox"
	done
	chmod 0640 "$dir/dovecot/users"
	chgrp dovecot "$dir/dovecot/users"

	# -- Dovecot.
	cat >"$dir/dovecot/dovecot.conf" <<EOF
# Generated by scripts/mail-test.sh: a throwaway Dovecot for the tests.
instance_name = kefu-mail-test-$(basename "$run" | cut -d- -f3)
base_dir = $run/dovecot
state_dir = $dir/dovecot/state
log_path = $dir/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
hostname = mail.${DOMAINS[0]}
shutdown_clients = yes

default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = $uid
first_valid_gid = $gid

# Loopback test server: plain-text LOGIN without TLS is fine.
disable_plaintext_auth = no
# Fail a wrong password at once (tests provoke it on purpose).
auth_failure_delay = 0
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu $dir/dovecot/users
}
userdb {
  driver = passwd-file
  args = username_format=%Lu $dir/dovecot/users
}
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
}

ssl = yes
ssl_cert = <$dir/tls/cert.pem
ssl_key = <$dir/tls/key.pem

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
# SASL for Postfix (smtpd_sasl_type = dovecot).
service auth {
  inet_listener {
    address = 127.0.0.1
    port = $AUTH_PORT
  }
}
protocol lmtp {
  postmaster_address = postmaster@${DOMAINS[0]}
}
EOF

	# -- Postfix.
	local pf=$dir/postfix
	# Queue and data directories beside the config directory, not in it
	# (postfix-script expects everything under config_directory root-owned);
	# `postfix start` creates what is missing under them.
	mkdir -p "$dir/postfix-queue"
	cat >"$pf/main.cf" <<EOF
# Generated by scripts/mail-test.sh: a throwaway Postfix for the tests.
compatibility_level = 3.6
config_directory = $pf
queue_directory = $dir/postfix-queue
data_directory = $dir/postfix-data
meta_directory = /etc/postfix
daemon_directory = /usr/lib/postfix/sbin
command_directory = /usr/sbin
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = $dir/postfix.log
maillog_file_prefixes = $dir
syslog_name = kefu-mail-test

myhostname = mail.${DOMAINS[0]}
mydomain = ${DOMAINS[0]}
myorigin = \$mydomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
smtp_dns_support_level = disabled
alias_maps =
alias_database =
biff = no
smtputf8_enable = no
message_size_limit = 52428800
# Headers as the client sent them: no Message-ID/Date/From added.
local_header_rewrite_clients =
always_add_missing_headers = no

# The test domains go to Dovecot over LMTP; every other domain bounces.
virtual_mailbox_domains = ${DOMAINS[*]}
virtual_mailbox_maps = texthash:$pf/vmailbox
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
local_transport = error:5.1.1 no local delivery in the Kefu test server
default_transport = error:5.7.1 the Kefu test server delivers to its test domains only
relay_transport = \$default_transport
relay_domains =

smtpd_banner = \$myhostname ESMTP kefu-mail-test
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$AUTH_PORT
smtpd_tls_auth_only = no
smtpd_tls_security_level = may
smtpd_tls_cert_file = $dir/tls/cert.pem
smtpd_tls_key_file = $dir/tls/key.pem
# Quick retries: a test waits seconds, not minutes.
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 30s
EOF
	# No chroot (the paths above are outside any jail); no port 25.
	cat >"$pf/master.cf" <<EOF
# Generated by scripts/mail-test.sh.
127.0.0.1:$SMTP_PORT  inet  n  -  n  -  -  smtpd
127.0.0.1:$SMTPS_PORT inet  n  -  n  -  -  smtpd
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
pickup    unix  n  -  n  60     1  pickup
cleanup   unix  n  -  n  -      0  cleanup
qmgr      unix  n  -  n  300    1  qmgr
tlsmgr    unix  -  -  n  1000?  1  tlsmgr
rewrite   unix  -  -  n  -      -  trivial-rewrite
bounce    unix  -  -  n  -      0  bounce
defer     unix  -  -  n  -      0  bounce
trace     unix  -  -  n  -      0  bounce
verify    unix  -  -  n  -      1  verify
flush     unix  n  -  n  1000?  0  flush
proxymap  unix  -  -  n  -      -  proxymap
proxywrite unix -  -  n  -      1  proxymap
smtp      unix  -  -  n  -      -  smtp
relay     unix  -  -  n  -      -  smtp
showq     unix  n  -  n  -      -  showq
error     unix  -  -  n  -      -  error
retry     unix  -  -  n  -      -  error
discard   unix  -  -  n  -      -  discard
lmtp      unix  -  -  n  -      -  lmtp
anvil     unix  -  -  n  -      1  anvil
scache    unix  -  -  n  -      1  scache
postlog   unix-dgram n - n -    1  postlogd
EOF
}

start_servers() {
	# Dovecot.  It daemonizes once its listeners are bound.
	if ! timeout "$START_TIMEOUT" dovecot -c "$dir/dovecot/dovecot.conf" >"$dir/dovecot.start.log" 2>&1; then
		cat "$dir/dovecot.start.log" "$dir/dovecot.log" >&2 2>/dev/null || true
		return 1
	fi
	# Postfix: `start` creates the queue directories (post-install
	# create-missing) and returns once master is ready or has failed.
	if ! timeout "$START_TIMEOUT" postfix -c "$dir/postfix" start >"$dir/postfix.start.log" 2>&1; then
		cat "$dir/postfix.start.log" "$dir/postfix.log" >&2 2>/dev/null || true
		return 1
	fi
}

case $cmd in
start)
	begin=$SECONDS
	# A start that fails leaves nothing running.
	trap 'rc=$?; [ $rc -eq 0 ] || stop_all; exit $rc' EXIT
	command -v dovecot >/dev/null && command -v postfix >/dev/null && command -v openssl >/dev/null \
		|| die "dovecot, postfix and openssl must be installed (dovecot-imapd dovecot-lmtpd postfix openssl)"
	[ -x /usr/lib/dovecot/lmtp ] || die "Dovecot's LMTP server is not installed (dovecot-lmtpd)"
	stop_all
	# Fresh contents every time: whatever was in DIR belongs to a dead run.
	# Only a DIR that is empty or was ours is emptied.
	if [ -n "$(ls -A "$dir")" ] && [ ! -e "$dir/.kefu-mail-test" ]; then
		die "$dir is not empty and not a mail-test directory; refusing to clear it"
	fi
	find "$dir" -mindepth 1 -delete
	touch "$dir/.kefu-mail-test"
	# A port chosen free can be taken by someone else before the servers
	# bind it: then try again with new ports, a bounded number of times.
	# Any other failure ends the start at once, its logs left in DIR.
	for attempt in 1 2 3; do
		if [ "$attempt" -gt 1 ]; then
			grep -qs "Address already in use" "$dir/dovecot.start.log" "$dir/dovecot.log" \
				"$dir/postfix.start.log" "$dir/postfix.log" \
				|| die "could not start the mail servers (logs in $dir)"
			log "a port was taken; retrying with other ports"
			stop_all
			find "$dir" -mindepth 1 ! -name .kefu-mail-test -delete
		fi
		read -r IMAP_PORT IMAPS_PORT LMTP_PORT AUTH_PORT SMTP_PORT SMTPS_PORT <<<"$(free_ports 6)"
		write_configs
		# The mail user must reach its Maildirs through DIR's parents.
		runuser -u "$MAIL_USER" -- test -x "$dir/mail/." \
			|| die "user '$MAIL_USER' cannot reach $dir/mail (parent directories need o+x)"
		start_servers && break
		[ "$attempt" -lt 3 ] || die "could not start the mail servers (logs in $dir)"
	done
	wait_banners "$IMAP_PORT:plain:* OK:Dovecot IMAP" "$IMAPS_PORT:tls:* OK:Dovecot IMAPS" \
		"$LMTP_PORT:plain:220:Dovecot LMTP" "$SMTP_PORT:plain:220:Postfix SMTP" \
		"$SMTPS_PORT:tls:220:Postfix SMTPS"
	users=$(IFS=,; echo "${USERS[*]}")
	cat >"$dir/env.tmp" <<EOF
KEFU_TEST_MAIL_DIR=$dir
KEFU_TEST_MAIL_DOMAINS=${DOMAINS[*]}
KEFU_TEST_MAIL_USERS=$users
KEFU_TEST_MAIL_CA=$dir/tls/cert.pem
KEFU_TEST_MAIL_MAILDIR=$dir/mail
KEFU_TEST_IMAP_HOST=127.0.0.1
KEFU_TEST_IMAP_PORT=$IMAP_PORT
KEFU_TEST_IMAPS_PORT=$IMAPS_PORT
KEFU_TEST_SMTP_HOST=127.0.0.1
KEFU_TEST_SMTP_PORT=$SMTP_PORT
KEFU_TEST_SMTPS_PORT=$SMTPS_PORT
KEFU_TEST_LMTP_PORT=$LMTP_PORT
KEFU_TEST_DOVECOT_CONF=$dir/dovecot/dovecot.conf
KEFU_TEST_POSTFIX_CONFIG=$dir/postfix
EOF
	mv "$dir/env.tmp" "$dir/env"
	echo "mail-test: Dovecot IMAP 127.0.0.1:$IMAP_PORT (IMAPS $IMAPS_PORT, LMTP $LMTP_PORT)," \
		"Postfix SMTP 127.0.0.1:$SMTP_PORT (SMTPS $SMTPS_PORT), up in $((SECONDS - begin))s"
	;;
stop)
	stop_all
	rm -f "$dir/env"
	;;
*)
	echo "usage: $0 start|stop DIR" >&2
	exit 2
	;;
esac
