"""`temoin worker` as a process: one pass with --once, logs on stderr, no secret in them."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.runners.crashworld import ALL_WEEK, PRETEND, Mailworld, seed, statuses


def run_worker(
    crash_world: Mailworld, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    offset = (PRETEND - datetime.now(UTC)).total_seconds()
    return subprocess.run(
        [sys.executable, "-m", "temoin", "worker", "--clock-offset", f"{offset:.3f}", *args],
        env={**crash_world.env(), **(env or {})}, cwd=crash_world.tmp, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip


# One backend is enough here: tests/runners/test_dispatch_crash.py runs workers on both.
@pytest.mark.parametrize("empty_db", ["sqlite"], indirect=True)
def test_once_sends_what_is_due_and_prints_its_report(crash_world: Mailworld) -> None:
    seed(crash_world, 3, spec=ALL_WEEK, planned_at=PRETEND - timedelta(minutes=5))
    done = run_worker(crash_world, "--once", "--log-level", "debug")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[0] == (
        "3 réservés, 3 envoyés, 0 repris, 0 reportés, 0 réessayés, 0 retenus, "
        "0 non distribuables, 0 réservations perdues, 3 copiés dans les envoyés"
    )
    assert statuses(crash_world)[0]["sent"] == 3 and len(crash_world.service_copies()) == 3
    # Logs: stderr, one UTC timestamp per line, and never the persona's password, even at
    # DEBUG (the IMAP LOGIN and SMTP AUTH lines of the protocol libraries are held back).
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING) ")
    assert any("dispatch: 3 claimed, 3 sent" in line for line in lines)
    assert all(stamp.match(line) for line in lines if not line.startswith((" ", "\t")))
    password = crash_world.dovecot.users[crash_world.user]
    assert password not in done.stderr + done.stdout
    again = run_worker(crash_world, "--once", env={"TEMOIN_LOCALE": "en"})
    assert again.returncode == 0 and again.stdout.startswith("0 claimed, 0 sent")


def test_a_bad_log_level_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "temoin", "worker", "--once", "--log-level", "loud"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={"PATH": "/usr/bin", "TEMOIN_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}"},
    )  # fmt: skip
    assert done.returncode == 2 and "niveau inconnu «\u202floud\u202f»" in done.stderr


def test_as_of_must_be_a_date_time(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "temoin", "worker", "--once", "--as-of", "lundi"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={"PATH": "/usr/bin", "TEMOIN_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}"},
    )  # fmt: skip
    assert done.returncode == 2
    assert "--as-of «\u202flundi\u202f» n\u2019est pas une date et heure ISO 8601" in done.stderr
