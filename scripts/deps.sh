#!/usr/bin/env bash
# deps.sh -- install the Debian packages Kefu needs, only those missing.
#
#   scripts/deps.sh build   what `make run` needs (compiler, libraries,
#                           Node.js and npm for the web apps)
#   scripts/deps.sh test    plus what `make test` needs (clang fuzzers,
#                           PostgreSQL server, Chromium for browser tests)
#
# Quiet when everything is present; non-interactive apt-get otherwise.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config
	libuv1-dev libhttp-parser-dev libsqlite3-dev libpq-dev libjansson-dev
	libsodium-dev libinih-dev libcurl4-openssl-dev
	libicu-dev libopencc-dev libopencc-data libfriso-dev friso-dict libstemmer-dev
	libgumbo-dev libmagic-dev libwslay-dev libgmime-3.0-dev libuchardet-dev)
test_pkgs=(clang libclang-rt-14-dev libcmocka-dev postgresql sqlite3 curl chromium
	fonts-wqy-microhei fonts-noto-color-emoji) # fonts: readable screenshots

want=("${build_pkgs[@]}")
# Node.js and npm build the web apps (scripts/web.sh); any install will do.
command -v node >/dev/null 2>&1 || want+=(nodejs)
command -v npm >/dev/null 2>&1 || want+=(npm)
if [ "${1:-build}" = test ]; then
	want+=("${test_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# The postgresql package would start a cluster of its own on port 5432;
# tests run their own throwaway server, so keep the package's from starting.
if printf '%s\n' "${missing[@]}" | grep -qx postgresql && [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod +x /usr/sbin/policy-rc.d
	trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
