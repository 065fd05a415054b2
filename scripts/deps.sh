#!/usr/bin/env bash
# deps.sh -- install the Debian packages Kefu needs, only those missing.
#
#   scripts/deps.sh build   what `make run` needs (compiler, libraries,
#                           Node.js and npm for the web apps)
#   scripts/deps.sh test    plus what `make test` needs (clang fuzzers,
#                           PostgreSQL server, Chromium for browser tests,
#                           Dovecot and Postfix for the e-mail tests)
#   scripts/deps.sh bench [postgres]
#                           plus what `make bench` needs (wrk, jq, the
#                           sqlite3 shell, Dovecot and Postfix for the
#                           e-mail intake; the PostgreSQL server with
#                           `postgres`)
#
# Quiet when everything is present; non-interactive apt-get otherwise.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config
	libuv1-dev libhttp-parser-dev libsqlite3-dev libpq-dev libjansson-dev
	libsodium-dev libinih-dev libcurl4-openssl-dev
	libicu-dev libopencc-dev libopencc-data libfriso-dev friso-dict libstemmer-dev
	libgumbo-dev libmagic-dev libwslay-dev libgmime-3.0-dev libuchardet-dev)
test_pkgs=(clang libclang-rt-14-dev libcmocka-dev postgresql sqlite3 curl chromium
	fonts-wqy-microhei fonts-noto-color-emoji # fonts: readable screenshots
	# scripts/mail-test.sh: throwaway IMAP/LMTP and SMTP servers, their
	# certificate; python3 and ps for its port picking and clean-up.
	dovecot-imapd dovecot-lmtpd postfix openssl python3 procps)
bench_pkgs=(wrk jq curl sqlite3 python3 procps
	dovecot-imapd dovecot-lmtpd postfix openssl)
# Packages that would start system-wide daemons of their own on install
# (PostgreSQL on 5432, Dovecot on 143/993, Postfix on 25): the tests run
# throwaway servers of their own, so these must not start.
daemon_pkgs=(postgresql dovecot-imapd dovecot-lmtpd postfix)

want=("${build_pkgs[@]}")
# Node.js and npm build the web apps (scripts/web.sh); any install will do.
command -v node >/dev/null 2>&1 || want+=(nodejs)
command -v npm >/dev/null 2>&1 || want+=(npm)
if [ "${1:-build}" = test ]; then
	want+=("${test_pkgs[@]}")
fi
if [ "${1:-build}" = bench ]; then
	want+=("${bench_pkgs[@]}")
	if [ "${2:-}" = postgres ]; then want+=(postgresql); fi
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
# Keep the daemon packages' own servers from starting (policy-rc.d exit
# 101: invoke-rc.d and deb-systemd-invoke start nothing); an existing
# policy-rc.d is left as it is.
daemons=no
for p in "${missing[@]}"; do
	for d in "${daemon_pkgs[@]}"; do
		if [ "$p" = "$d" ]; then daemons=yes; fi
	done
done
if [ "$daemons" = yes ] && [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod +x /usr/sbin/policy-rc.d
	trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
# Postfix asks how to configure the system's mail; the tests write their
# own configuration (scripts/mail-test.sh), so: none.
if printf '%s\n' "${missing[@]}" | grep -qx postfix; then
	echo 'postfix postfix/main_mailer_type select No configuration' | $SUDO debconf-set-selections
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
