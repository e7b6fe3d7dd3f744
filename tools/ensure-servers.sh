#!/usr/bin/env bash
# Make sure the servers the test suite talks to are there.
# - PostgreSQL: the machine provides one at 127.0.0.1:5432; start it if it is installed but stopped.
# - Dovecot: the suite starts its own private instance; here we only make sure the binary is
#   installed (Debian packages dovecot-imapd and dovecot-lmtpd), without letting Debian start
#   the system service on ports 143/993.
# - What the program loads at run time (WeasyPrint's Pango and HarfBuzz libraries, the DejaVu
#   fonts): the Debian packages of tools/runtime-packages.txt, the list the Dockerfile's
#   runtime stage installs too, installed when missing. Without HarfBuzz's subsetter
#   WeasyPrint warns at import, an error under the suite's filterwarnings=error.
# - A real browser for the web tests: Debian's chromium, driven by Playwright for Python with
#   executable_path (never `playwright install`, which downloads a browser build).
# With TEMOIN_TEST_REQUIRE_SERVERS=1 (CI) a missing server is an error, not a skip.
set -euo pipefail

require=${TEMOIN_TEST_REQUIRE_SERVERS:-0}

say() { printf 'ensure-servers: %s\n' "$*" >&2; }

pg_up() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    say "PostgreSQL is not answering; starting it"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  fi
fi
if pg_up; then
  say "PostgreSQL ready at 127.0.0.1:5432"
elif [ "$require" = 1 ]; then
  say "PostgreSQL is required (TEMOIN_TEST_REQUIRE_SERVERS=1) but not reachable at 127.0.0.1:5432"
  exit 1
else
  say "PostgreSQL not reachable: its tests will be skipped"
fi

install_dovecot() {
  say "installing dovecot-imapd and dovecot-lmtpd (Debian packages)"
  local created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    # Keep Debian's maintainer scripts from starting the system-wide service.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  local rc=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      dovecot-imapd dovecot-lmtpd; } >/tmp/temoin-apt.log 2>&1 || rc=$?
  [ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  if [ "$rc" != 0 ]; then
    say "apt-get failed (exit $rc); see /tmp/temoin-apt.log"
    tail -n 20 /tmp/temoin-apt.log >&2 || true
  fi
  return "$rc"
}

if [ -x /usr/sbin/dovecot ] || command -v dovecot >/dev/null; then
  say "dovecot $(dovecot --version 2>/dev/null | cut -d' ' -f1) installed"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  install_dovecot || { [ "$require" = 1 ] && exit 1; }
elif [ "$require" = 1 ]; then
  say "dovecot is required (TEMOIN_TEST_REQUIRE_SERVERS=1) but not installed, and we cannot install it (not root or no apt-get)"
  exit 1
else
  say "dovecot not installed: mail tests will be skipped (sudo apt-get install dovecot-imapd dovecot-lmtpd)"
fi

# What the program loads at run time: the image's list (comments and blank lines dropped).
runtime_list="$(dirname "$0")/runtime-packages.txt"
[ -s "$runtime_list" ] || { say "$runtime_list is missing"; exit 1; }
read -r -a runtime_packages <<< "$(sed -e 's/#.*//' "$runtime_list" | xargs)"
missing_pkgs=()
for pkg in "${runtime_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing_pkgs+=("$pkg")
done
if [ "${#missing_pkgs[@]}" = 0 ]; then
  say "runtime packages installed (${runtime_packages[*]})"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  say "installing ${missing_pkgs[*]} (Debian packages, tools/runtime-packages.txt)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "${missing_pkgs[@]}"; } >/tmp/temoin-apt-runtime.log 2>&1 || {
    say "apt-get failed; see /tmp/temoin-apt-runtime.log"
    if [ "$require" = 1 ]; then exit 1; fi
  }
elif [ "$require" = 1 ]; then
  say "${missing_pkgs[*]} required (TEMOIN_TEST_REQUIRE_SERVERS=1) but not installed, and we cannot install them"
  exit 1
else
  say "${missing_pkgs[*]} not installed: PDF tests will fail (sudo apt-get install ${missing_pkgs[*]})"
fi

# A real browser for tests/web (Playwright drives Debian's chromium through executable_path).
if command -v chromium >/dev/null; then
  say "chromium installed ($(chromium --version 2>/dev/null | head -n1))"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  say "installing chromium (Debian package) for the browser tests"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends chromium; } >/tmp/temoin-apt-chromium.log 2>&1 || {
    say "apt-get failed; see /tmp/temoin-apt-chromium.log"
    tail -n 20 /tmp/temoin-apt-chromium.log >&2 || true
    if [ "$require" = 1 ]; then exit 1; fi
  }
  if [ "$require" = 1 ] && ! command -v chromium >/dev/null; then
    say "chromium is required (TEMOIN_TEST_REQUIRE_SERVERS=1) but was not installed"
    exit 1
  fi
elif [ "$require" = 1 ]; then
  say "chromium is required (TEMOIN_TEST_REQUIRE_SERVERS=1) but not installed, and we cannot install it"
  exit 1
else
  say "chromium not installed: browser tests will be skipped (sudo apt-get install chromium)"
fi
