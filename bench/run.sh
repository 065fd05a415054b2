#!/usr/bin/env bash
# run.sh -- `make bench`: Kefu's performance, measured end to end on this
# machine and written down (bench/README.md).
#
#   1. installs what is missing (scripts/deps.sh bench), builds the release
#      build/kefu, the ceiling server (bench/ceiling.c against kefu_lib) and
#      wsload (bench/wsload.c);
#   2. a fresh data directory with a generated data set (`kefu gen` when the
#      binary has it, else `kefu demo --tickets N --customers M`), on SQLite
#      or, with DB=postgres, in a throwaway PostgreSQL (scripts/pg-test.sh);
#   3. HTTP scenarios with wrk and bench/wrk/*.lua, each for DURATION s after
#      a WARMUP: the ceiling at 1/16/64/512 connections, then ticket read and
#      inbox at 64/512, search at 64, the dashboard figures at 1 and ticket
#      creation at 1/16 -- requests/s, p50/p99/p99.9, server CPU time per
#      request, RSS, and the share of the ceiling at the same connections;
#   4. chat for each of CHAT_SIZES customers' WebSockets plus AGENTS agents'
#      (wsload): RSS per connection, customer -> agent and agent -> customer
#      delivery latency while wrk sends CHAT_RATE messages/s, then a
#      reconnect storm (everyone drops, STORM events happen, everyone comes
#      back with ?after=) that must lose no event;
#   5. e-mail intake (bench/mail-intake.js; as root only);
#   6. bench/results/<date>-<host>[-postgres].json and its table in
#      docs/benchmarks.md (bench/report.js), targets not met listed with
#      the gap.
#
# Load only on loopback.  Every wait has a time limit, every wrk a -d and a
# timeout; servers are stopped on exit, whatever happens.
#
# Environment: DB (sqlite | postgres), BENCH_DURATION (10), BENCH_WARMUP
# (2), BENCH_TICKETS / BENCH_CUSTOMERS (20000 / 2000 with kefu demo; 200000
# / 20000 with kefu gen), BENCH_GEN (auto | demo | gen), BENCH_CHAT_SIZES
# ("1000 5000 10000"), BENCH_AGENTS (200), BENCH_CHAT_RATE (2000),
# BENCH_STORM (300), BENCH_MAIL_COUNT (200), BENCH_BUDGET (780: seconds
# after which optional steps -- the larger chat sizes, e-mail -- are
# skipped, with a note), BENCH_NO_REPORT=1 (a trial: the JSON only, in the
# work directory),
# BENCH_KEEP=1 (keep the data directory, which is otherwise removed).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/listening.sh
. "$ROOT/bench/listening.sh"
DB=${DB:-sqlite}
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
CHAT_SIZES=${BENCH_CHAT_SIZES:-"1000 5000 10000"}
AGENTS=${BENCH_AGENTS:-200}
CHAT_RATE=${BENCH_CHAT_RATE:-2000}
STORM=${BENCH_STORM:-300} # x2 messages: enough events for a replay past the hub's 512 in memory
MAIL_COUNT=${BENCH_MAIL_COUNT:-200}
BUDGET=${BENCH_BUDGET:-780}
NPROC=$(nproc)
TOOLS=$ROOT/build/bench
WRK_DIR=$ROOT/bench/wrk
WORK=$(mktemp -d /tmp/kefu-bench.XXXXXX)
KEFU=$WORK/kefu # build/kefu, copied once built
RES=$WORK/results # one JSON file per measurement, merged at the end
DATA=$WORK/data
LOG=$WORK/server.log
T0=$EPOCHREALTIME
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg) # other work on the machine skews every figure

SERVER_PID="" ADDR="" DB_URL="" PG_DIR="" TOKEN="" WIDGET_KEY=""
BG_PIDS=() # wsload and other helpers running in the background
# No access log (its writes are not what is measured); the per-address
# limits lifted, as every visitor of the bench comes from 127.0.0.1.
SERVE_OPTS=(--access-log off --widget-session-rate 1000000 --widget-message-rate 1000000
	--max-connections 30000 --login-rate 1000)
HTTP_SEQ=0 # the HTTP results keep the order they ran in
NOTES=()

note() { printf 'bench: %s\n' "$*" >&2; }
die() {
	note "$*"
	exit 1
}
remark() { # a note that goes into the report too
	NOTES+=("$*")
	note "$*"
}
elapsed() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%d", b - a}'; }

cleanup() {
	local p
	for p in "${BG_PIDS[@]+"${BG_PIDS[@]}"}" $SERVER_PID ${CEILING_PID:-}; do
		kill -TERM "$p" 2>/dev/null || true
	done
	sleep 0.2
	for p in "${BG_PIDS[@]+"${BG_PIDS[@]}"}" $SERVER_PID ${CEILING_PID:-}; do
		kill -KILL "$p" 2>/dev/null || true
	done
	if [[ -n $PG_DIR ]]; then "$ROOT/scripts/pg-test.sh" stop "$PG_DIR" || true; fi
	# The data set is hundreds of MB; the logs stay.
	if [[ ${BENCH_KEEP:-0} != 1 ]]; then rm -rf "$DATA" "$KEFU"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- set-up ----

install_and_build() {
	"$ROOT/scripts/deps.sh" bench "$DB"
	note "building build/kefu (release) and the bench tools"
	timeout 1800 cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEFU_TESTS=OFF >/dev/null
	timeout 1800 cmake --build "$ROOT/build" -j "$NPROC" >/dev/null
	mkdir -p "$TOOLS"
	# The run uses a copy: a rebuild of build/kefu while it runs (another
	# checkout user, an editor's build) must not change the binary under it.
	cp "$ROOT/build/kefu" "$KEFU"
	cc -O2 -Wall -Wextra -Werror -std=c17 -D_GNU_SOURCE -o "$TOOLS/wsload" "$ROOT/bench/wsload.c"
	# The ceiling links the same libkefu_lib.a (same objects, same flags)
	# as kefu; only the http/ and util/ objects it needs are pulled in.
	local libs
	read -ra libs < <(pkg-config --libs libuv jansson libsodium sqlite3 libpq inih icu-uc opencc \
		friso libcurl gumbo libmagic gmime-3.0 uchardet)
	cc -O2 -g -Wall -Wextra -Werror -std=c17 -D_GNU_SOURCE -I"$ROOT/src" -o "$TOOLS/ceiling" \
		"$ROOT/bench/ceiling.c" "$ROOT/build/libkefu_lib.a" \
		"${libs[@]}" -lhttp_parser -lstemmer -lwslay -lpthread -lm
}

# Thousands of WebSockets need as many descriptors, in the server and in wsload.
raise_limits() {
	ulimit -Hn 65536 2>/dev/null || true
	ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
	note "open files: $(ulimit -n) (a chat size needs its WebSockets + $((AGENTS + 1000)))"
}

start_database() {
	case $DB in
	sqlite) DB_URL="sqlite://$DATA/kefu.db" ;;
	postgres)
		PG_DIR=$WORK-pg # outside WORK: the postgres user cannot enter a 0700 directory of root
		"$ROOT/scripts/pg-test.sh" start "$PG_DIR" >&2
		local admin
		admin=$(sed -n 's/^KEFU_TEST_PG_URL=//p' "$PG_DIR/env")
		# pg-test.sh runs with fsync=off for the tests' speed; a benchmark of
		# durable commits needs it on (a reload is enough for fsync).
		psql -qAtX "$admin" -c "ALTER SYSTEM SET fsync = on" -c "SELECT pg_reload_conf()" >/dev/null
		psql -qAtX "$admin" -c "CREATE DATABASE kefu_bench" >/dev/null
		DB_URL=${admin%/*}/kefu_bench
		;;
	*) die "DB must be sqlite or postgres, not $DB" ;;
	esac
}

sql() {
	if [[ $DB == sqlite ]]; then
		sqlite3 -batch -noheader "$DATA/kefu.db" "$1"
	else
		psql -qAtX "$DB_URL" -c "$1"
	fi
}

# The demo account (logins, the chat widget's channel), then the data set:
# `kefu gen` when this build has it, else `kefu demo` itself.
generate_data() {
	local gen=${BENCH_GEN:-auto} t0=$EPOCHREALTIME out cmd
	mkdir -p "$DATA"
	if [[ $gen == auto ]]; then
		gen=demo
		if timeout 10 "$KEFU" gen --help >/dev/null 2>&1; then gen=gen; fi
	fi
	local tickets customers
	if [[ $gen == gen ]]; then
		tickets=${BENCH_TICKETS:-200000} customers=${BENCH_CUSTOMERS:-20000}
		out=$(timeout 300 "$KEFU" demo --data "$DATA" --database "$DB_URL" --tickets 0 --customers 0 2>>"$LOG")
		cmd="kefu gen --tickets $tickets --customers $customers ${BENCH_GEN_ARGS:-}"
		local extra
		read -ra extra <<<"${BENCH_GEN_ARGS:-}"
		timeout 600 "$KEFU" gen --data "$DATA" --database "$DB_URL" --tickets "$tickets" \
			--customers "$customers" "${extra[@]}" >>"$WORK/gen.log" 2>&1 ||
			die "kefu gen failed; see $WORK/gen.log"
		# kefu gen may make its own logins; they win when it prints them.
		if grep -q '^login: ' "$WORK/gen.log"; then out=$(cat "$WORK/gen.log"); fi
	else
		tickets=${BENCH_TICKETS:-20000} customers=${BENCH_CUSTOMERS:-2000}
		cmd="kefu demo --tickets $tickets --customers $customers"
		out=$(timeout 600 "$KEFU" demo --data "$DATA" --database "$DB_URL" --tickets "$tickets" \
			--customers "$customers" 2>>"$LOG") || die "kefu demo failed; see $LOG"
	fi
	read -r _ EMAIL PASSWORD _ < <(grep -m1 -E '^login: .* admin$' <<<"$out")
	WIDGET_KEY=$(sed -n 's/^chat widget key: //p' <<<"$out" | head -1)
	[[ -n ${EMAIL:-} && -n $WIDGET_KEY ]] || die "no admin login or widget key from $cmd"
	local secs
	secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}')
	jq -n --arg gen "$gen" --arg cmd "$cmd" --argjson s "$secs" \
		--argjson t "$(sql "SELECT count(*) FROM tickets")" \
		--argjson c "$(sql "SELECT count(*) FROM customers")" \
		'{generator: $gen, command: $cmd, seconds: $s, tickets: $t, customers: $c}' >"$RES/data.json"
	note "data: $(jq -c . "$RES/data.json")"
}

# ---- servers ----

# kefu serve on a free port; how long until it listened goes to startup.json.
start_server() {
	local from t0=$EPOCHREALTIME
	touch "$LOG"
	from=$(($(wc -l <"$LOG") + 1))
	"$KEFU" serve --listen 127.0.0.1:0 --data "$DATA" --database "$DB_URL" "${SERVE_OPTS[@]}" >>"$LOG" 2>&1 &
	SERVER_PID=$!
	ADDR=$(wait_listening "$LOG" "$from" "$SERVER_PID")
	local ms
	ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", (b - a) * 1000}')
	echo "$ms" >>"$WORK/startup_ms"
	note "kefu serve (pid $SERVER_PID) on $ADDR, listening after $ms ms"
}

stop_server() {
	[[ -n $SERVER_PID ]] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	for _ in $(seq 300); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=""
}

# RSS of a fresh, idle server (the design's target is for this figure).
idle_rss() {
	sleep 2
	jq -n --argjson kb "$(rss_kb "$SERVER_PID")" '{idle_rss_kb: $kb}' >"$RES/idle.json"
}

login_token() {
	local r csrf
	r=$(curl -sS --max-time 10 -c "$WORK/jar" -H 'content-type: application/json' \
		-d "$(jq -cn --arg e "$EMAIL" --arg p "$PASSWORD" '{email: $e, password: $p}')" \
		"http://$ADDR/api/v1/auth/login")
	csrf=$(jq -r .csrf_token <<<"$r")
	[[ $csrf != null ]] || die "login failed: $r"
	r=$(curl -sS --max-time 10 -b "$WORK/jar" -H "x-csrf-token: $csrf" -H 'content-type: application/json' \
		-d '{"name":"make bench"}' "http://$ADDR/api/v1/me/tokens")
	TOKEN=$(jq -r .token <<<"$r")
	[[ $TOKEN == kefu_* ]] || die "no API token: $r"
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
# utime + stime of every thread, in clock ticks (fields 14 and 15).
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'; }
# The same for our PostgreSQL server and its backends, which work for
# kefu's requests; not other clusters on the machine (0 on SQLite, which
# runs inside kefu).
db_cpu_ticks() {
	local t=0 p pm
	if [[ $DB == postgres ]]; then
		pm=$(head -1 "$PG_DIR/data/postmaster.pid")
		for p in "$pm" $(pgrep -P "$pm" || true); do
			t=$((t + $(cpu_ticks "$p" || echo 0)))
		done
	fi
	echo "$t"
}

# ---- HTTP scenarios ----

# wrk_run NAME GROUP PID CONNS SCRIPT [VAR=value ...]: a warm-up, then
# DURATION s measured; wrk's figures plus the server's CPU per request and
# memory into $RES/http-NAME.json.
wrk_run() {
	local name=$1 group=$2 pid=$3 conns=$4 script=$5
	shift 5
	local threads=$((conns < NPROC ? conns : NPROC)) out=$WORK/wrk-$name.txt
	local args=(-t"$threads" -c"$conns" --timeout 10s -s "$WRK_DIR/$script" "http://$ADDR")
	if ((WARMUP > 0)); then
		env "$@" timeout $((WARMUP + 30)) wrk -d"${WARMUP}s" "${args[@]}" >/dev/null
	fi
	local cpu0 cpu1 db0 db1 tck
	tck=$(getconf CLK_TCK)
	cpu0=$(cpu_ticks "$pid")
	db0=$(db_cpu_ticks)
	env BENCH_LABEL="$name" "$@" timeout $((DURATION + 30)) wrk -d"${DURATION}s" --latency "${args[@]}" >"$out"
	cpu1=$(cpu_ticks "$pid")
	db1=$(db_cpu_ticks)
	local line file
	HTTP_SEQ=$((HTTP_SEQ + 1))
	file=$RES/http-$(printf %02d "$HTTP_SEQ")-$name.json
	line=$(sed -n 's/^WRK_JSON //p' "$out")
	[[ -n $line ]] || die "wrk printed no result for $name; see $out"
	jq -c --arg name "$name" --arg group "$group" --argjson conns "$conns" \
		--argjson cpu "$(((cpu1 - cpu0) * 1000000 / tck))" --argjson db "$(((db1 - db0) * 1000000 / tck))" \
		--argjson rss "$(rss_kb "$pid")" --argjson hwm "$(hwm_kb "$pid")" \
		--arg cmd "wrk -t$threads -c$conns -d${DURATION}s --timeout 10s --latency -s bench/wrk/$script" \
		'{name: $name, group: $group, conns: $conns, command: $cmd, rps, requests, latency_us,
		  errors, server_cpu_us_per_req: (if .requests > 0 then ($cpu / .requests * 10 | round / 10) else null end),
		  db_cpu_us_per_req: (if .requests > 0 and $group != "ceiling" then ($db / .requests * 10 | round / 10) else null end),
		  rss_kb: $rss, hwm_kb: $hwm}' <<<"$line" >"$file"
	note "$name: $(jq -r '"\(.rps) req/s, p99 \(.latency_us.p99) µs, \(.server_cpu_us_per_req) µs CPU/req, errors \(.errors)"' "$file")"
}

run_ceiling() {
	"$TOOLS/ceiling" --listen 127.0.0.1:0 >"$WORK/ceiling.log" 2>&1 &
	CEILING_PID=$!
	ADDR=$(wait_listening "$WORK/ceiling.log" 1 "$CEILING_PID")
	local c
	for c in 1 16 64 512; do
		wrk_run "ceiling-$c" ceiling "$CEILING_PID" "$c" ping.lua
	done
	kill -TERM "$CEILING_PID"
	wait "$CEILING_PID" 2>/dev/null || true
	CEILING_PID=""
}

run_http() {
	local ids cust
	ids=$(sql "SELECT min(id) || ' ' || max(id) FROM tickets")
	cust=$(sql "SELECT min(id) || ' ' || max(id) FROM customers")
	local auth=(BENCH_TOKEN="$TOKEN")
	local c
	for c in 64 512; do
		wrk_run "read-$c" read "$SERVER_PID" "$c" ticket-read.lua "${auth[@]}" \
			BENCH_ID_MIN="${ids% *}" BENCH_ID_MAX="${ids#* }"
	done
	for c in 64 512; do
		wrk_run "inbox-$c" inbox "$SERVER_PID" "$c" inbox.lua "${auth[@]}"
	done
	wrk_run search-64 search "$SERVER_PID" 64 search.lua "${auth[@]}"
	wrk_run overview-1 overview "$SERVER_PID" 1 overview.lua "${auth[@]}"
	# Last, as it adds tickets the reads above should not see.
	for c in 1 16; do
		wrk_run "create-$c" create "$SERVER_PID" "$c" ticket-create.lua "${auth[@]}" \
			BENCH_CUSTOMER_MIN="${cust% *}" BENCH_CUSTOMER_MAX="${cust#* }"
	done
}

# ---- chat ----

# N widget sessions (visitor tokens, one a line) into $WORK/tokens; the
# first 1000 visitors also write, so they have a conversation an agent can
# answer ($WORK/chat-tickets: line i is visitor i's ticket).
chat_setup() {
	local n=$1 k=$(($1 < 1000 ? $1 : 1000))
	note "chat: creating $n visitor sessions"
	for _ in $(seq "$n"); do
		printf 'url = "http://%s/widget/v1/sessions"\nheader = "content-type: application/json"\ndata = "{\\"key\\":\\"%s\\"}"\nnext\n' "$ADDR" "$WIDGET_KEY"
	done | sed '$d' >"$WORK/sessions.curl"
	timeout 300 curl -sS --max-time 290 -K "$WORK/sessions.curl" | jq -r '.token // empty' >"$WORK/tokens"
	(($(sort -u "$WORK/tokens" | wc -l) == n)) || die "created $(wc -l <"$WORK/tokens") chat sessions of $n"
	head -n "$k" "$WORK/tokens" | while read -r tok; do
		printf 'url = "http://%s/widget/v1/messages"\nheader = "content-type: application/json"\nheader = "authorization: Bearer %s"\ndata = "{\\"text\\":\\"你好，我的订单还没到 hello\\"}"\nnext\n' "$ADDR" "$tok"
	done | sed '$d' >"$WORK/first.curl"
	timeout 300 curl -sS --max-time 290 -K "$WORK/first.curl" | jq -r '.conversation.ticket_id' >"$WORK/chat-tickets"
	(($(grep -c '^[0-9]' "$WORK/chat-tickets") == k)) || die "first chat messages: $(grep -c '^[0-9]' "$WORK/chat-tickets") tickets of $k"
}

# The account's position in its event sequence (every event id is below it).
event_position() { sql "SELECT coalesce(max(seq), 0) FROM events WHERE seq IS NOT NULL"; }

# A wsload in the background taking commands on a FIFO: start_ws NAME args...
# Its stdout goes to $WORK/NAME.out, its JSON to $WORK/NAME.json.
declare -A WS_FD WS_PID
start_ws() {
	local name=$1
	shift
	rm -f "$WORK/$name.fifo" "$WORK/$name.json"
	mkfifo "$WORK/$name.fifo"
	timeout 900 "$TOOLS/wsload" -t "$ADDR" --ready-send '{"type":"ping"}' --ready-type pong \
		--server-pid "$SERVER_PID" --stdin -r 0 --connect-timeout 120 --go-timeout 300 \
		-j "$WORK/$name.json" "$@" <"$WORK/$name.fifo" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	WS_PID[$name]=$!
	BG_PIDS+=($!)
	local fd
	exec {fd}>"$WORK/$name.fifo"
	WS_FD[$name]=$fd
}

# Wait (at most $3 s) for a line matching $2 in NAME's output.
ws_wait() {
	local name=$1 pat=$2 secs=$3
	for _ in $(seq $((secs * 10))); do
		grep -qE "$pat" "$WORK/$name.out" && return 0
		kill -0 "${WS_PID[$name]}" 2>/dev/null || die "wsload $name exited; see $WORK/$name.err"
		sleep 0.1
	done
	die "wsload $name: no \"$pat\" within $secs s; see $WORK/$name.out"
}

ws_say() { echo "$2" >&"${WS_FD[$1]}"; }

ws_finish() {
	local name=$1 rc=0
	local fd=${WS_FD[$name]}
	ws_say "$name" quit
	exec {fd}>&-
	wait "${WS_PID[$name]}" || rc=$?
	((rc == 0)) || remark "wsload $name exited $rc (a connection failed or dropped; see $WORK/$name.err)"
	[[ -s $WORK/$name.json ]] || die "wsload $name wrote no JSON"
}

# wrk sending chat messages at about CHAT_RATE a second for DURATION s.
chat_wrk() {
	local name=$1 script=$2
	shift 2
	local conns=32
	env BENCH_LABEL="$name" BENCH_RATE="$CHAT_RATE" BENCH_THREADS="$NPROC" "$@" timeout $((DURATION + 30)) \
		wrk -t"$NPROC" -c"$conns" -d"${DURATION}s" --timeout 10s -s "$WRK_DIR/$script" \
		"http://$ADDR" >"$WORK/wrk-$name.txt"
	sed -n 's/^WRK_JSON //p' "$WORK/wrk-$name.txt" >"$WORK/$name.wrk.json"
	[[ -s $WORK/$name.wrk.json ]] || die "wrk printed no result for $name"
}

# The reconnect storm of wsloads $1 (agents) and $2 (visitors): all drop;
# STORM agent replies (to visitors
# 0..STORM-1) and STORM visitor messages (from visitors STORM..2*STORM-1)
# happen while they are away; all come back with ?after=.  Each agent must
# then have all 2*STORM, each of those visitors its one.
chat_storm() {
	local a=$1 c=$2 base
	sleep 2 # what was sent before the drop has been delivered
	base=$(event_position)
	ws_say "$a" "drop $base"
	ws_say "$c" "drop $base"
	ws_wait "$a" '^dropped' 30
	ws_wait "$c" '^dropped' 30
	head -n "$STORM" "$WORK/chat-tickets" | while read -r t; do
		printf 'url = "http://%s/api/v1/tickets/%s/messages"\nheader = "content-type: application/json"\nheader = "authorization: Bearer %s"\ndata = "{\\"text\\":\\"storm@a%s 您好\\"}"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nnext\n' "$ADDR" "$t" "$TOKEN" "$t"
	done | sed '$d' >"$WORK/storm-a.curl"
	sed -n "$((STORM + 1)),$((2 * STORM))p" "$WORK/tokens" | while read -r tok; do
		printf 'url = "http://%s/widget/v1/messages"\nheader = "content-type: application/json"\nheader = "authorization: Bearer %s"\ndata = "{\\"text\\":\\"storm@c%s 在吗\\"}"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nnext\n' "$ADDR" "$tok" "${tok:0:8}"
	done | sed '$d' >"$WORK/storm-c.curl"
	# each request of a -K file needs its own output and write-out
	timeout 120 curl -sS --max-time 110 -K "$WORK/storm-a.curl" >"$WORK/storm.codes"
	timeout 120 curl -sS --max-time 110 -K "$WORK/storm-c.curl" >>"$WORK/storm.codes"
	local sent
	sent=$(grep -c '^20[01]$' "$WORK/storm.codes" || true)
	((sent == 2 * STORM)) || remark "storm: $sent of $((2 * STORM)) messages accepted (see $WORK/storm.codes)"
	echo "$sent" >"$WORK/storm.sent"
	# Events of the account while everyone was away: past 512 the hub's
	# memory cannot replay them all and the events table must.
	echo $(($(event_position) - base)) >"$WORK/storm.gap"
	ws_say "$a" reconnect
	ws_say "$c" reconnect
	ws_wait "$a" '^reconnected' 150
	ws_wait "$c" '^reconnected' 150
	# Replays may still be streaming in: a loss is what has not come after
	# 3 s without any (at most 90 s).
	ws_say "$a" "settle 3 90"
	ws_say "$c" "settle 3 90"
	ws_wait "$a" '^settled' 100
	ws_wait "$c" '^settled' 100
}

chat_run() {
	local n=$1
	note "chat: $n visitors + $AGENTS agents"
	stop_server
	start_server
	local base
	base=$(event_position)
	head -n "$n" "$WORK/tokens" >"$WORK/tokens-$n"
	local a=agents-$n c=customers-$n
	start_ws "$a" -n "$AGENTS" -H "Authorization: Bearer $TOKEN" --stamp c2a@ --count-match storm@
	ws_wait "$a" '^(partly-)?ready' 150
	ws_wait "$a" '^server RSS' 30 # its RSS sample, before the visitors connect
	start_ws "$c" -T "$WORK/tokens-$n" -n "$n" -p /widget/v1/ws --after "$base" -C 500 \
		--stamp a2c@ --count-match storm@
	ws_wait "$c" '^(partly-)?ready' 150
	ws_wait "$c" '^server RSS' 30
	chat_wrk "c2a-$n" widget-message.lua BENCH_TOKENS_FILE="$WORK/tokens-$n"
	chat_wrk "a2c-$n" agent-reply.lua BENCH_TOKEN="$TOKEN" BENCH_TICKETS_FILE="$WORK/chat-tickets"
	chat_storm "$a" "$c"
	local hwm
	hwm=$(hwm_kb "$SERVER_PID")
	ws_finish "$a"
	ws_finish "$c"
	jq -n --argjson n "$n" --argjson agents "$AGENTS" --argjson storm "$STORM" \
		--argjson sent "$(cat "$WORK/storm.sent")" --argjson gap "$(cat "$WORK/storm.gap")" --argjson hwm "$hwm" --argjson rate "$CHAT_RATE" \
		--slurpfile a "$WORK/$a.json" --slurpfile c "$WORK/$c.json" \
		--slurpfile c2a "$WORK/c2a-$n.wrk.json" --slurpfile a2c "$WORK/a2c-$n.wrk.json" '
		def lat(s): s | {count, p50_ms, p90_ms, p99_ms, p999_ms, max_ms};
		# per connection: what it should have had (f of its index) against what it had
		def lost(counts; f): [counts | to_entries[] | ((.key | f) - .value) | select(. > 0)] | add // 0;
		def extra(counts; f): [counts | to_entries[] | (.value - (.key | f)) | select(. > 0)] | add // 0;
		($a[0]) as $a | ($c[0]) as $c |
		{customers: $n, agents: $agents, target_rate: $rate,
		 customers_ready: $c.ready, agents_ready: $a.ready, connect_s: $c.connect_s,
		 rss_before_kb: $c.server.before.rss_kb, rss_open_kb: $c.server.open.rss_kb,
		 bytes_per_customer_ws: $c.rss_bytes_per_conn, bytes_per_agent_ws: $a.rss_bytes_per_conn,
		 hwm_kb: $hwm,
		 c2a: {rate: $c2a[0].rps, sent: $c2a[0].requests, post_latency_us: $c2a[0].latency_us,
		       errors: $c2a[0].errors, delivered: lat($a.stamps[0])},
		 a2c: {rate: $a2c[0].rps, sent: $a2c[0].requests, post_latency_us: $a2c[0].latency_us,
		       errors: $a2c[0].errors, delivered: lat($c.stamps[0])},
		 storm: {events: $sent, gap_events: $gap, dropped: ($a.storms[0].dropped + $c.storms[0].dropped),
		         reconnected: ($a.storms[0].reconnected + $c.storms[0].reconnected),
		         reconnect_s: ([$a.storms[0].reconnect_s, $c.storms[0].reconnect_s] | max),
		         catchup_s: ([$a.storms[0].catchup_s, $c.storms[0].catchup_s] | max),
		         expected: ($agents * 2 * $storm + ([$n, 2 * $storm] | min)),
		         received: (($a.counted | add) + ($c.counted | add)),
		         lost: (lost($a.counted; 2 * $storm) + lost($c.counted; if . < 2 * $storm then 1 else 0 end)),
		         lost_at_agents: lost($a.counted; 2 * $storm),
		         lost_at_visitors: lost($c.counted; if . < 2 * $storm then 1 else 0 end),
		         extra: (extra($a.counted; 2 * $storm) + extra($c.counted; if . < 2 * $storm then 1 else 0 end)),
		         order_errors: ($a.order_errors + $c.order_errors), resyncs: ($a.resyncs + $c.resyncs)},
		 server_closes: {agents: $a.server_close_codes, customers: $c.server_close_codes},
		 failed: ($a.failed + $c.failed), dropped_by_server: ($a.dropped + $c.dropped)}' \
		>"$RES/chat-$n.json"
	note "chat $n: $(jq -c '{bytes_per_customer_ws, c2a: .c2a.delivered.p99_ms, a2c: .a2c.delivered.p99_ms, storm: .storm}' "$RES/chat-$n.json")"
}

run_chat() {
	local fds max
	fds=$(ulimit -n)
	# Each WebSocket is a descriptor in the server and one in wsload.
	CHAT_SIZES=$(for n in $CHAT_SIZES; do
		if ((n + AGENTS + 1000 <= fds)); then echo "$n"; else
			echo "chat: $n WebSockets do not fit in $fds open files; left out" >>"$WORK/notes"
		fi
	done | sort -n | xargs)
	max=${CHAT_SIZES##* }
	[[ -n $max ]] || return 0
	chat_setup "$max"
	for n in $CHAT_SIZES; do
		# A size takes about 2 x DURATION + 20 s plus 5 s per 1000 sockets.
		if (($(elapsed) + 2 * DURATION + 20 + n / 200 > BUDGET)); then
			remark "chat: $n visitors skipped to stay within the ${BUDGET}s budget (at $(elapsed) s)"
			continue
		fi
		chat_run "$n"
	done
}

# ---- e-mail ----

run_mail() {
	if (($(id -u) != 0)); then
		remark "e-mail intake skipped: bench/mail-intake.js needs root (the test mail servers)"
		return 0
	fi
	if (($(elapsed) + 60 > BUDGET)); then
		remark "e-mail intake skipped to stay within the ${BUDGET}s budget"
		return 0
	fi
	note "e-mail intake: $MAIL_COUNT messages"
	local engine=()
	if [[ $DB == postgres ]]; then engine=(KEFU_TEST_ENGINE=pg KEFU_TEST_PG_ENV="$PG_DIR/env"); fi
	if timeout 600 env "${engine[@]+"${engine[@]}"}" node "$ROOT/bench/mail-intake.js" --count "$MAIL_COUNT" --bin "$KEFU" \
		--json "$RES/mail.json" >"$WORK/mail.log" 2>&1; then
		jq -c . "$RES/mail.json" >/dev/null
	else
		remark "e-mail intake failed (see $WORK/mail.log); not in the report"
		rm -f "$RES/mail.json"
	fi
}

# ---- report ----

machine_json() {
	local pg=null
	if [[ $DB == postgres ]]; then
		pg=$(psql -qAtX "$DB_URL" -c 'SHOW server_version' | jq -R .)
	fi
	jq -n --arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
		--argjson cores "$NPROC" --argjson ram "$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)" \
		--arg kernel "$(uname -r)" --arg debian "$(cat /etc/debian_version 2>/dev/null || echo '?')" \
		--arg kefu "$("$KEFU" version 2>/dev/null | head -1)" \
		--arg commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo '+changes')" \
		--arg sqlite "$(pkg-config --modversion sqlite3)" --argjson pg "$pg" \
		--arg wrk "$(wrk -v 2>&1 | head -1 | awk '{print $2}')" --arg libuv "$(pkg-config --modversion libuv)" \
		--arg cc "$(cc --version | head -1)" --arg node "$(node --version 2>/dev/null || echo none)" \
		--arg load0 "$LOAD_START" --arg load1 "$(cut -d' ' -f1-3 /proc/loadavg)" \
		'{machine: {cpu: $cpu, cores: $cores, ram_mb: $ram, kernel: $kernel, debian: $debian,
		            loadavg_start: $load0, loadavg_end: $load1},
		  versions: {kefu: $kefu, commit: $commit, sqlite: $sqlite, postgresql: $pg, wrk: $wrk,
		             libuv: $libuv, cc: $cc, node: $node}}'
}

write_results() {
	local day host out
	day=$(date -u +%Y-%m-%d)
	host=$(hostname -s)
	mkdir -p "$ROOT/bench/results"
	out=$ROOT/bench/results/$day-$host.json
	if [[ $DB == postgres ]]; then out=${out%.json}-postgres.json; fi
	if [[ ${BENCH_NO_REPORT:-0} == 1 ]]; then out=$WORK/result.json; fi # a trial
	local startup
	startup=$(jq -Rs 'split("\n") | map(select(. != "") | tonumber)' "$WORK/startup_ms")
	machine_json >"$WORK/machine.json"
	jq -n --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg host "$host" --arg db "$DB" \
		--argjson wall "$(elapsed)" --slurpfile m "$WORK/machine.json" \
		--slurpfile data "$RES/data.json" --slurpfile idle "$RES/idle.json" --argjson startup "$startup" \
		--argjson http "$(cat "$RES"/http-*.json | jq -s .)" \
		--argjson chat "$(cat "$RES"/chat-*.json 2>/dev/null | jq -s 'sort_by(.customers)')" \
		--argjson mail "$(cat "$RES/mail.json" 2>/dev/null || echo null)" \
		--argjson notes "$({ printf '%s\n' "${NOTES[@]+"${NOTES[@]}"}"; cat "$WORK/notes" 2>/dev/null || true; } |
			jq -R . | jq -s 'map(select(. != ""))')" \
		--argjson settings "$(jq -n --argjson d "$DURATION" --argjson w "$WARMUP" --arg sizes "$CHAT_SIZES" \
			--argjson agents "$AGENTS" --argjson rate "$CHAT_RATE" --argjson storm "$STORM" \
			--argjson mail "$MAIL_COUNT" --argjson nproc "$NPROC" --arg serve "kefu serve ${SERVE_OPTS[*]}" \
			'{duration_s: $d, warmup_s: $w, wrk_threads: $nproc, chat_sizes: ($sizes | split(" ") | map(select(. != "") | tonumber)),
			  agents: $agents, chat_rate: $rate, storm: $storm, mail_count: $mail, serve: $serve}')" \
		'{schema: 1, date: $date, host: $host, db: $db, wall_s: $wall} + $m[0] +
		 {settings: $settings, data: $data[0],
		  server: {startup_ms: $startup, idle_rss_kb: $idle[0].idle_rss_kb},
		  http: $http, chat: $chat, mail: $mail, notes: $notes}' >"$out"
	if [[ ${BENCH_NO_REPORT:-0} != 1 ]]; then
		node "$ROOT/bench/report.js" "$out" "$ROOT/docs/benchmarks.md"
	fi
	note "results: $out ($(elapsed) s in all)"
}

main() {
	mkdir -p "$RES"
	install_and_build
	raise_limits
	start_database
	generate_data
	note "work directory: $WORK"
	run_ceiling
	start_server
	idle_rss
	login_token
	run_http
	run_chat
	stop_server
	run_mail
	write_results
}

main "$@"
