"""Never twice, never lost: real `temoin worker` processes killed, doubled, and an outage.

The workers are subprocesses (``python -m temoin worker``) on the test database, sending to
aiosmtpd (the persona's provider, which files the blind copy in the persona's Dovecot INBOX
before it answers 250). The workers run ``--as-of`` Monday 2 March 2026, 10:00 in Paris,
whatever the day the suite runs on: the dispatcher sends on business days only. Kill
points come from a seeded RNG: some are taken inside the provider, right after it accepted a
message and before the worker reads the 250 (the worst moment), the others at random times.
After the kills, the persona's Sent folder holds every message sent exactly once, with the
bytes sent (runners/sent_copies.py).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import IO

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from runners.dispatcher import DispatchConfig, Dispatcher, dispatch_hours
from scenarios.campaign_file import parse_campaign
from scenarios.catalog import load_catalog
from scenarios.clock import FixedClock
from sim.smtp_provider import ReceivedMessage, SmtpProvider, _Handler
from storage.db import Database
from storage.models import Campaign, Contact, ContactEvent
from tests.conftest import require_postgres
from tests.runners.crashworld import (
    ALL_WEEK,
    PARIS,
    PASSWORD_VAR,
    PRETEND,
    Mailworld,
    seed,
    statuses,
)


class Worker:
    """One ``python -m temoin worker`` process, its stderr in a file."""

    def __init__(self, crash_world: Mailworld, name: str, *args: str) -> None:
        self.log_path = crash_world.tmp / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "temoin", "worker", "--as-of", PRETEND.isoformat(),
             "--log-level", "info", *args],
            env=crash_world.env(), cwd=crash_world.tmp, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        """SIGTERM, as systemd or Docker would; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode

    def close(self) -> None:
        self.kill()
        self._log.close()

    def tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    try:
        yield started
    finally:
        for worker in started:
            worker.close()


def wait_for(condition: Callable[[], bool], seconds: float, what: str, logs: str = "") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"not {what} within {seconds:g} s\n{logs}")


def assert_each_sent_once(crash_world: Mailworld, count: int) -> Counter[str]:
    counts, by_mid, sent_events = statuses(crash_world)
    assert counts["sent"] == count, counts
    copies = Counter(crash_world.service_copies())
    assert set(copies) == set(by_mid), "a message at the sink matches no contact, or one is missing"
    doubles = {mid: n for mid, n in copies.items() if n != 1}
    assert doubles == {}, f"sent more than once: {doubles}"
    assert len(sent_events) == count and set(sent_events.values()) == {1}
    return counts


# -- crash: SIGKILL at random points -------------------------------------------------------


@pytest.mark.slow
def test_worker_killed_again_and_again_sends_each_email_exactly_once(
    crash_world: Mailworld, workers: list[Worker]
) -> None:
    count = 200
    seed(crash_world, count, spec=ALL_WEEK, planned_at=PRETEND - timedelta(hours=1))
    rng = random.Random(20260302)
    args = ("--lease-seconds", "3", "--interval", "0.2", "--batch-size", "10")
    victim: dict[str, int] = {}
    armed = threading.Event()

    def kill_on_acceptance(message: ReceivedMessage) -> None:
        # Runs inside the provider, after it filed the message and before it answers 250.
        if armed.is_set() and len(crash_world.provider.received) >= victim["at"]:
            armed.clear()
            os.kill(victim["pid"], signal.SIGKILL)

    crash_world.provider.on_message = kill_on_acceptance
    kills = 0
    plan = ["accepted", "timer", "accepted", "timer", "accepted", "timer", "accepted"]
    for round_, how in enumerate(plan):
        worker = Worker(crash_world, f"worker-{round_}", *args)
        workers.append(worker)
        if how == "accepted":
            victim["pid"] = worker.pid
            victim["at"] = len(crash_world.provider.received) + rng.randint(1, 25)
            armed.set()

            def killed(w: Worker = worker) -> bool:
                return w.process.poll() is not None or not armed.is_set()

            wait_for(killed, 60, "killed inside the provider", worker.tail())
            worker.kill()
        else:
            time.sleep(rng.uniform(0.3, 2.5))
            worker.kill()
        kills += 1
        if statuses(crash_world)[0]["sent"] == count:
            break
    assert kills >= 5
    armed.clear()
    final = Worker(crash_world, "worker-final", *args)
    workers.append(final)
    wait_for(lambda: statuses(crash_world)[0]["sent"] == count, 90,
             f"all {count} sent after {kills} kills", final.tail())  # fmt: skip
    # Every copy in Sent, those of the killed workers included (the sweep files them once
    # their lease has run out).
    wait_for(
        lambda: len(crash_world.sent_folder()) == count, 30, "every copy in Sent", final.tail()
    )
    assert final.stop() == 0, final.tail()
    counts = assert_each_sent_once(crash_world, count)
    # The kills inside the provider left accepted, unrecorded messages: found in the
    # mailbox, recorded as sent, never sent again.
    assert counts["_recovered"] >= plan.count("accepted"), counts
    sent_folder = crash_world.sent_folder()
    assert set(sent_folder) == set(crash_world.service_copies()) and set(sent_folder.values()) == {
        1
    }
    print(
        f"\nSent folder after {kills} SIGKILLs: {sum(sent_folder.values())} copies of "
        f"{count} messages sent, {counts['_recovered']} of them recovered from the mailbox"
    )


# -- two workers at once -------------------------------------------------------------------


@pytest.mark.slow
def test_two_workers_at_once_send_each_email_exactly_once(
    crash_world: Mailworld, workers: list[Worker]
) -> None:
    if crash_world.target.backend == "postgresql":
        require_postgres()
    count = 500
    seed(crash_world, count, spec=ALL_WEEK, planned_at=PRETEND - timedelta(hours=1))
    args = ("--lease-seconds", "20", "--interval", "0.2", "--batch-size", "10")
    pair = [Worker(crash_world, "worker-a", *args), Worker(crash_world, "worker-b", *args)]
    workers.extend(pair)
    wait_for(lambda: statuses(crash_world)[0]["sent"] == count, 100, f"all {count} sent",
             pair[0].tail() + pair[1].tail())  # fmt: skip
    for worker in pair:
        assert worker.stop() == 0, worker.tail()
    assert_each_sent_once(crash_world, count)
    # Both took part: the work is shared through row claims, not left to one process.
    engine = crash_world.engine()
    try:
        with engine.connect() as conn:
            owners = conn.execute(
                select(ContactEvent.actor, func.count())
                .where(ContactEvent.kind == "sent")
                .group_by(ContactEvent.actor)
            ).all()
    finally:
        engine.dispose()
    assert len(owners) == 2, owners


# -- an outage over a whole send window ----------------------------------------------------


def restart(provider: SmtpProvider) -> None:
    """Start the provider again on its port, with its accounts, mailboxes and sink."""
    controller = Controller(
        _Handler(provider),
        hostname=provider.host,
        port=provider.port,
        auth_require_tls=False,
        authenticator=provider._authenticate,
    )
    controller.start()
    provider._controller = controller


async def test_provider_down_all_day_then_late_emails_go_out_next_morning_within_limits(
    crash_world: Mailworld, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The provider is down all Monday: nothing goes out, and nothing is blamed on the
    services. It is back overnight: the late emails go out from Tuesday's opening, inside the
    dispatch hours (lunch break included), spread by the hourly limits."""
    monkeypatch.setenv(PASSWORD_VAR, crash_world.dovecot.users[crash_world.user])
    limit = 4
    count = 10
    seed(crash_world, count, spec={}, planned_at=PRETEND - timedelta(hours=1))  # default hours
    crash_world.provider.stop()
    clock = FixedClock(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))  # Monday 08:00 in Paris
    dispatcher = Dispatcher(database, load_catalog(), clock, DispatchConfig(
        per_persona_per_hour=limit, per_domain_per_hour=limit, retry_base_seconds=300,
        max_attempts=3,
    ), owner="outage-test")  # fmt: skip
    monday_close = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
    while clock.now() < monday_close:
        await dispatcher.run_once()
        clock.advance(timedelta(minutes=10))
    async with database.session() as s:
        rows = (await s.execute(select(Contact))).scalars().all()
    assert {r.status for r in rows} == {"planned"}
    # Far more failed sessions than max_attempts, yet no attempt is counted against a service.
    assert {r.attempts for r in rows} == {0}
    # Those tried are held for the provider (those the hourly limit kept back never were).
    errors = [r.last_error for r in rows]
    assert all(e is None or "held (provider unreachable" in e for e in errors), errors
    assert any(e is not None and "cannot connect" in e for e in errors), errors
    assert crash_world.provider.received == []

    restart(crash_world.provider)
    await asyncio.sleep(0)
    tuesday_close = datetime(2026, 3, 3, 19, 0, tzinfo=UTC)
    while clock.now() < tuesday_close:
        await dispatcher.run_once()
        clock.advance(timedelta(minutes=5))
    async with database.session() as s:
        rows = (await s.execute(select(Contact))).scalars().all()
        campaign_spec = (await s.execute(select(Campaign.spec))).scalar_one()
    assert {r.status for r in rows} == {"sent"}
    assert len(crash_world.service_copies()) == count
    sent = sorted(r.sent_at for r in rows if r.sent_at is not None)
    # Not before Tuesday's opening (08:30 in Paris), never during the lunch break.
    hours = dispatch_hours(campaign_spec)
    assert sent[0] >= datetime(2026, 3, 3, 7, 30, tzinfo=UTC)
    for at in sent:
        local = at.astimezone(PARIS)
        assert any(i.start <= local.time() < i.end for i in hours.on(local.weekday())), local
    # Never more than the hourly limit in any hour.
    for i, at in enumerate(sent):
        assert sum(1 for other in sent[i:] if other < at + timedelta(hours=1)) <= limit
    assert sent[-1] - sent[0] >= timedelta(hours=(count - 1) // limit)


def test_dispatch_hours_are_read_where_the_campaign_file_keeps_them() -> None:
    spec = parse_campaign(
        {
            "name": "samedi",
            "seed": 1,
            "window": {"start": "2026-03-02", "end": "2026-03-27"},
            "mix": {"email": {"per_service": 1}},
            "personas": [{"key": "c", "display_name": "C D", "email": "c@persona.example"}],
            "rules": {"dispatch_hours": "sa 09:00-12:00"},
        }
    )
    hours = dispatch_hours(spec.model_dump(mode="json"))  # as storage keeps Campaign.spec
    assert [str(i.start) for i in hours.on(5)] == ["09:00:00"] and hours.on(0) == ()
    assert hours.on(0) != dispatch_hours({}).on(0)  # not the default
