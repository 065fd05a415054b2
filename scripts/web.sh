#!/usr/bin/env bash
# web.sh -- build the web apps (npm workspaces in web/) into web/dist/, which
# `kefu serve` serves at / (the chat widget: web/dist/widget.js).
#
# Installs the npm packages (npm ci, from web/package-lock.json) only when
# web/node_modules is missing or older than the lock file.  Quiet on success.
set -euo pipefail
cd "$(dirname "$0")/../web"

for tool in node npm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "web.sh: $tool is missing: run scripts/deps.sh build (or apt-get install nodejs npm)" >&2
		exit 1
	fi
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() {
	if ! "$@" >"$log" 2>&1; then
		echo "web.sh: '$*' failed in web/:" >&2
		cat "$log" >&2
		exit 1
	fi
}

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
	run npm ci --no-audit --no-fund
	touch node_modules
fi
run npm run build
