# listening.sh -- sourced by the bench scripts: wait for a `kefu serve`
# started in the background to say where it listens.
#
#   addr=$(wait_listening LOG FROM PID)
#
# LOG is the server's log, FROM the first line of it this start wrote, PID
# the server.  Prints 127.0.0.1:PORT once the "listening on" line is there;
# calls the script's own die() when the server exits first or has not
# listened within 10 s.  Looks every 5 ms, so that the bench can also time
# the start-up with it.
wait_listening() {
	local log=$1 from=$2 pid=$3 addr=""
	for _ in $(seq 2000); do # 10 s
		addr=$(tail -n +"$from" "$log" | sed -n 's|.*listening on http://\(127\.0\.0\.1:[0-9]*\).*|\1|p' | head -1)
		[[ -n $addr ]] && break
		kill -0 "$pid" 2>/dev/null || die "server exited at start; see $log"
		sleep 0.005
	done
	[[ -n $addr ]] || die "server did not listen within 10 s; see $log"
	echo "$addr"
}
