#!/usr/bin/env bash
# pg-test.sh -- a throwaway PostgreSQL server on loopback for the tests.
#
#   scripts/pg-test.sh start DIR   initdb into DIR/data, start on a free port,
#                                  write DIR/env (KEFU_TEST_PG_URL=...)
#   scripts/pg-test.sh stop DIR    stop it and remove DIR
#
# The server runs as the unprivileged `postgres` user (initdb refuses root),
# listens on 127.0.0.1 only, trusts local connections, and lives only for
# the test run.  Tests create their own database in it.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?directory}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "pg-test: PostgreSQL server not installed" >&2; exit 1; }

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case $cmd in
start)
	if [ -f "$dir/env" ] && as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		exit 0
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
		|| { cat "$dir/initdb.log" >&2; exit 1; }
	as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null \
		|| { cat "$dir/server.log" >&2; exit 1; }
	echo "KEFU_TEST_PG_URL=postgres://postgres@127.0.0.1:$port/postgres" >"$dir/env"
	echo "pg-test: PostgreSQL on 127.0.0.1:$port"
	;;
stop)
	if [ -d "$dir/data" ]; then
		as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
	;;
*)
	echo "usage: $0 start|stop DIR" >&2
	exit 2
	;;
esac
