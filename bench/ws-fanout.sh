#!/usr/bin/env bash
# ws-fanout.sh -- what idle WebSockets cost `kefu serve` and how fast one
# event reaches thousands of them (bench/README.md).
#
# On loopback, with a fresh data directory under /tmp:
#   staff     CONNS staff WebSockets (one admin session): server RSS idle
#             and with them open (bytes per idle WebSocket); RUNS times a
#             ticket POSTed -> "ticket.created" at every one of them
#             (per-connection p50/p99/max and the time until the last);
#             HOLD seconds idle (the server pings after 25 s of silence);
#             RSS after they all closed, then a second cycle to tell memory
#             the allocator kept from memory that leaked.
#   customers a fresh server, CONNS widget WebSockets (one chat session
#             each): RSS per idle WebSocket; an agent's reply on ONE of
#             their conversations must reach that one only (3 times).
# Each server is stopped with SIGTERM and must exit 0 within 30 s.
#
# Environment: CONNS (5000), RUNS (5), HOLD (30), KEFU_BUILD (build),
# WS_FANOUT_JSON (/tmp/ws-fanout.json: the report as JSON).
# Exit status: 0 when every figure was measured and every check passed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/listening.sh
. "$ROOT/bench/listening.sh"
BUILD=${KEFU_BUILD:-$ROOT/build}
KEFU=$BUILD/kefu
CONNS=${CONNS:-5000}
RUNS=${RUNS:-5}
HOLD=${HOLD:-30}
OUT=${WS_FANOUT_JSON:-/tmp/ws-fanout.json}
WORK=$(mktemp -d /tmp/ws-fanout.XXXXXX)
DATA=$WORK/data
LOG=$WORK/server.log
WSLOAD=$WORK/wsload
SERVER_PID=""
ADDR=""
FAILS=()
EXITS="[]"
UPTIMES="{}"

note() { printf 'ws-fanout: %s\n' "$*" >&2; }
fail() { FAILS+=("$*"); note "FAIL: $*"; }
die() { note "$*"; exit 2; }

cleanup() {
	if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -KILL "$SERVER_PID" 2>/dev/null || true
	fi
}
trap cleanup EXIT

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
load() { UPTIMES=$(jq -c --arg k "$1" --arg v "$(uptime)" '. + {($k): $v}' <<<"$UPTIMES"); }

# ---- set-up: open files, binaries, demo data ----

ulimit -Hn 65536 2>/dev/null || true
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
(($(ulimit -n) >= 20000)) || die "open files limited to $(ulimit -n); need 20000 (run as root)"
for tool in curl jq cc awk; do command -v $tool >/dev/null || die "$tool is missing"; done

if [[ ! -x $KEFU ]]; then
	note "building $KEFU (release)"
	timeout 1800 cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEFU_TESTS=OFF >/dev/null
	timeout 1800 cmake --build "$BUILD" -j2 >/dev/null
fi
cc -O2 -Wall -Wextra -Werror -std=c17 -D_GNU_SOURCE -o "$WSLOAD" "$ROOT/bench/wsload.c"

mkdir -p "$DATA"
DEMO=$(timeout 120 "$KEFU" demo --data "$DATA" --tickets 0 --customers 0 2>>"$LOG")
read -r _ EMAIL PASSWORD _ < <(grep -m1 -E '^login: .* admin$' <<<"$DEMO")
WIDGET_KEY=$(sed -n 's/^chat widget key: //p' <<<"$DEMO")
[[ -n $EMAIL && -n $WIDGET_KEY ]] || die "kefu demo printed no admin login or widget key"
SERVE_OPTS=(--listen 127.0.0.1:0 --data "$DATA" --access-log "$WORK/access.log")
# Creating CONNS chat sessions from one address needs the per-address limit lifted.
if "$KEFU" serve --help 2>&1 | grep -q -- --widget-session-rate; then
	SERVE_OPTS+=(--widget-session-rate 1000000)
fi

# ---- the server ----

start_server() {
	local from
	from=$(($(wc -l <"$LOG") + 1))
	"$KEFU" serve "${SERVE_OPTS[@]}" >>"$LOG" 2>&1 &
	SERVER_PID=$!
	ADDR=$(wait_listening "$LOG" "$from" "$SERVER_PID")
	note "kefu serve (pid $SERVER_PID) on $ADDR"
}

# SIGTERM; it must exit 0 within 30 s.
stop_server() {
	local phase=$1 rc=0 t0=$EPOCHREALTIME t
	kill -TERM "$SERVER_PID"
	for _ in $(seq 300); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -KILL "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		rc=timeout
		fail "$phase: kefu serve still running 30 s after SIGTERM (killed)"
	else
		wait "$SERVER_PID" || rc=$?
		[[ $rc == 0 ]] || fail "$phase: kefu serve exited $rc after SIGTERM"
	fi
	t=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}')
	EXITS=$(jq -c --arg p "$phase" --arg rc "$rc" --argjson s "$t" \
		'. + [{phase: $p, exit: $rc, seconds: $s}]' <<<"$EXITS")
	note "kefu serve stopped: exit $rc after $t s"
	SERVER_PID=""
}

login() {
	local r
	r=$(curl -sS --max-time 10 -c "$WORK/jar" -H 'content-type: application/json' \
		-d "$(jq -cn --arg e "$EMAIL" --arg p "$PASSWORD" '{email: $e, password: $p}')" \
		"http://$ADDR/api/v1/auth/login")
	CSRF=$(jq -r .csrf_token <<<"$r")
	SESSION=$(awk '$6 == "kefu_session" {print $7}' "$WORK/jar")
	[[ $CSRF != null && -n $SESSION ]] || die "login failed: $r"
}

# wsload with the options every phase shares; its JSON goes to $1.
wsload() {
	local json=$1
	shift
	timeout 900 "$WSLOAD" -t "$ADDR" --ready-send '{"type":"ping"}' --ready-type pong \
		--settle 3 --server-pid "$SERVER_PID" -j "$json" "$@"
}

# ---- staff: idle memory and fan-out ----

load before
start_server
login
note "staff: $CONNS WebSockets, $RUNS tickets, ${HOLD}s idle"
set +e
wsload "$WORK/staff.json" -n "$CONNS" -b "kefu_session=$SESSION" \
	--post-header "X-CSRF-Token: $CSRF" -e ticket.created --post /api/v1/tickets \
	--body '{"subject":"fan-out {run}","customer":{"name":"压测 Bench"},"message":"fan-out test {run}"}' \
	-r "$RUNS" --gap 1 --hold "$HOLD" | tee "$WORK/staff.txt"
rc_staff=${PIPESTATUS[0]}
load after_staff
note "staff: the same again, to see whether memory kept after closing is reused"
wsload "$WORK/staff2.json" -n "$CONNS" -b "kefu_session=$SESSION" -r 0 | tee "$WORK/staff2.txt"
rc_staff2=${PIPESTATUS[0]}
set -e
((rc_staff == 0)) || fail "staff: wsload exited $rc_staff (a connection failed or a round timed out)"
((rc_staff2 == 0)) || fail "staff (second cycle): wsload exited $rc_staff2"
stop_server staff

# ---- customers: one chat session each ----

start_server
note "customers: creating $CONNS chat sessions"
for _ in $(seq "$CONNS"); do
	printf 'url = "http://%s/widget/v1/sessions"\nheader = "content-type: application/json"\ndata = "{\\"key\\":\\"%s\\"}"\nnext\n' "$ADDR" "$WIDGET_KEY"
done | sed '$d' >"$WORK/sessions.curl"
timeout 300 curl -sS --max-time 290 -K "$WORK/sessions.curl" | jq -r '.token // empty' >"$WORK/tokens.txt" || true
ntokens=$(sort -u "$WORK/tokens.txt" | wc -l)
((ntokens == CONNS)) || die "created $ntokens chat sessions of $CONNS (see $WORK/access.log)"
# The first customer writes, so an agent has a conversation to answer.
said=$(curl -sS --max-time 10 -H "authorization: Bearer $(head -1 "$WORK/tokens.txt")" \
	-H 'content-type: application/json' -d '{"text":"你好，我的订单还没到","client_id":"bench-1"}' \
	"http://$ADDR/widget/v1/messages")
TICKET=$(jq -r .conversation.ticket_id <<<"$said")
[[ $TICKET =~ ^[0-9]+$ ]] || die "the customer's message made no ticket: $said"
# A fresh process, so its RSS is comparable with the staff one's.
stop_server sessions
start_server
note "customers: $CONNS WebSockets; agent replies 3 times on ticket $TICKET"
set +e
wsload "$WORK/customers.json" -T "$WORK/tokens.txt" -n "$CONNS" -p /widget/v1/ws \
	--post-header "Cookie: kefu_session=$SESSION" --post-header "X-CSRF-Token: $CSRF" \
	-e message.created --post "/api/v1/tickets/$TICKET/messages" \
	--body '{"text":"您好，我们正在查 {run}"}' --expect 1 --grace 1 -r 3 | tee "$WORK/customers.txt"
rc_cust=${PIPESTATUS[0]}
set -e
((rc_cust == 0)) || fail "customers: wsload exited $rc_cust"
sleep 2
rss_cust_final=$(rss_kb "$SERVER_PID")
load end
stop_server customers

# ---- checks and report ----

jq -e '.runs | all(.received == .expected)' "$WORK/staff.json" >/dev/null ||
	fail "staff: a round did not reach every connection"
jq -e '.runs | length > 0 and all(.received == 1 and .first_conn == 0)' "$WORK/customers.json" >/dev/null ||
	fail "customers: an agent's reply reached other customers than the one (or none)"
jq -e --argjson n "$CONNS" '.pings >= $n' "$WORK/staff.json" >/dev/null || ((HOLD < 30)) ||
	fail "staff: the server did not ping every idle connection during the hold"
LOG_ISSUES=$(grep -E ' (warn|error|fatal) ' "$LOG" | grep -v 'web_root' || true)
[[ -z $LOG_ISSUES ]] || fail "the server logged warnings or errors (see below)"
STATUSES=$(jq -s -c 'group_by(.status) | map({key: (.[0].status | tostring), value: length}) | from_entries' \
	"$WORK/access.log" 2>/dev/null || echo '{}')

jq -n --argjson conns "$CONNS" --arg nproc "$(nproc)" --argjson uptimes "$UPTIMES" \
	--arg kefu "$KEFU" --arg version "$("$KEFU" version 2>/dev/null || true)" \
	--slurpfile staff "$WORK/staff.json" --slurpfile staff2 "$WORK/staff2.json" \
	--slurpfile cust "$WORK/customers.json" --argjson exits "$EXITS" \
	--argjson statuses "$STATUSES" --arg log_issues "$LOG_ISSUES" \
	--argjson cust_final "${rss_cust_final:-0}" --arg work "$WORK" \
	--argjson fails "$(printf '%s\n' "${FAILS[@]+"${FAILS[@]}"}" | jq -R . | jq -s -c 'map(select(. != ""))')" '
	def ms: . * 100 | round / 100; # two decimals
	($staff[0]) as $s | ($staff2[0]) as $s2 | ($cust[0]) as $c |
	{
	  conns: $conns, kefu: $kefu, version: $version, nproc: ($nproc | tonumber), uptime: $uptimes,
	  staff: {
	    opened: $s.ready, connect_s: $s.connect_s,
	    rss_idle_kb: $s.server.before.rss_kb, rss_open_kb: $s.server.open.rss_kb,
	    bytes_per_idle_ws: $s.rss_bytes_per_conn,
	    rss_after_close_kb: $s.server.closed.rss_kb,
	    second_cycle: {rss_open_kb: $s2.server.open.rss_kb, rss_after_close_kb: $s2.server.closed.rss_kb},
	    fanout: [$s.runs[] | {run, received, expected, post_ms: (.post_ms | ms), p50_ms: (.p50_ms | ms),
	             p99_ms: (.p99_ms | ms), max_ms: (.max_ms | ms)}],
	    server_cpu_s: {connect: ($s.server.open.cpu_s - $s.server.before.cpu_s | ms),
	                   rounds: ($s.server.runs.cpu_s - $s.server.open.cpu_s | ms),
	                   hold: ($s.server.hold.cpu_s - $s.server.runs.cpu_s | ms),
	                   close: ($s.server.closed.cpu_s - $s.server.hold.cpu_s | ms)},
	    pings_answered: $s.pings, server_closes: $s.server_close_codes, client_cpu_s: $s.client_cpu_s
	  },
	  customers: {
	    opened: $c.ready, connect_s: $c.connect_s,
	    rss_idle_kb: $c.server.before.rss_kb, rss_open_kb: $c.server.open.rss_kb,
	    bytes_per_idle_ws: $c.rss_bytes_per_conn,
	    rss_after_close_kb: $c.server.closed.rss_kb, rss_final_kb: $cust_final,
	    reply: [$c.runs[] | {run, received, first_conn, latency_ms: (.max_ms | ms), post_ms: (.post_ms | ms)}]
	  },
	  server_exits: $exits, http_statuses: $statuses,
	  server_log_issues: ($log_issues | split("\n") | map(select(. != ""))),
	  failures: $fails, ok: ($fails | length == 0), work_dir: $work,
	  wsload: {staff: $s, staff_second_cycle: $s2, customers: $c}
	}' >"$OUT"

jq -r '
	"",
	"== ws-fanout: \(.conns) WebSockets, \(.version) on \(.nproc) CPUs ==",
	"staff:     \(.staff.opened) open in \(.staff.connect_s) s; RSS \(.staff.rss_idle_kb) kB idle -> \(.staff.rss_open_kb) kB open = \(.staff.bytes_per_idle_ws) bytes per idle WebSocket",
	(.staff.fanout[] | "  ticket.created #\(.run): \(.received)/\(.expected) in p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, last \(.max_ms) ms (POST answered in \(.post_ms) ms)"),
	"  after closing: RSS \(.staff.rss_after_close_kb) kB; second cycle open \(.staff.second_cycle.rss_open_kb) kB, closed \(.staff.second_cycle.rss_after_close_kb) kB",
	"  server CPU s: connect \(.staff.server_cpu_s.connect), rounds \(.staff.server_cpu_s.rounds), idle hold \(.staff.server_cpu_s.hold), close \(.staff.server_cpu_s.close); pings answered \(.staff.pings_answered)",
	"customers: \(.customers.opened) open in \(.customers.connect_s) s; RSS \(.customers.rss_idle_kb) kB idle -> \(.customers.rss_open_kb) kB open = \(.customers.bytes_per_idle_ws) bytes per idle WebSocket; \(.customers.rss_after_close_kb) kB after closing",
	(.customers.reply[] | "  agent reply #\(.run): reached \(.received) connection(s) (#\(.first_conn)) in \(.latency_ms) ms"),
	"server exits: \(.server_exits | map("\(.phase) \(.exit) in \(.seconds) s") | join(", "))",
	"HTTP statuses: \(.http_statuses | to_entries | map("\(.key) x\(.value)") | join(", "))",
	"load: \(.uptime | to_entries | map("\(.key): \(.value | sub(".*load average: "; ""))") | join("; "))",
	(if (.server_log_issues | length) > 0 then "server log:", (.server_log_issues[:10][] | "  \(.)") else "server log: no warnings or errors" end),
	(if .ok then "result: ok" else "result: FAILED", (.failures[] | "  \(.)") end),
	"JSON: '"$OUT"'; logs: \(.work_dir)"' "$OUT"

((${#FAILS[@]} == 0))
