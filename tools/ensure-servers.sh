#!/usr/bin/env bash
# Make sure the servers the test suite talks to are there.
# - PostgreSQL: the machine provides one at 127.0.0.1:5432; start it if it is installed but stopped.
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
