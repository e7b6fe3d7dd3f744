"""Benchmark: how long a short outage of the persona's provider delays the held emails.

    .venv/bin/python bench/outage.py [--count 90] [--outage 20] [--interval 30]

The real dispatcher, the simulated provider (aiosmtpd, restarted on its port) and a private
Dovecot, on a SQLite file, in simulated time (a ``FixedClock`` moved by the script, so the
figures are exact to the second and the run takes seconds, not the 20 minutes measured):

1. ``--count`` email contacts are due; the provider is stopped;
2. a dispatch run every ``--interval`` seconds (the worker's default is 30 s) while the
   provider is down for ``--outage`` seconds, then back on the same port;
3. runs go on until every contact is sent; printed: the delay between the provider coming
   back and the last contact sent.

Two schedules, each in the same run on a fresh database: the current one (the provider's
circuit breaker, probe after 5 s doubling to 5 minutes), and the baseline, the schedule
before it: every failure of our side retried after 4 × ``retry_base_seconds`` (1 200 s,
emulated as a breaker of base = cap = 1 200 s). Run with an older checkout's interpreter
(whose ``DispatchConfig`` has no ``outage_base_seconds``) it measures that code as is.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runners.dispatcher import DispatchConfig, Dispatcher
from scenarios.catalog import load_catalog
from scenarios.clock import FixedClock
from sim.dovecot import DovecotServer
from sim.smtp_provider import SmtpProvider
from storage.db import Database
from storage.models import Base, Campaign, Collectivity, Contact, Persona, Service

PRETEND = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday 10:00 in Paris
PASSWORD_VAR = "TEMOIN_BENCH_OUTAGE_PASSWORD"
ALL_WEEK = {"rules": {"dispatch_hours": "lu-di 00:00-24:00"}}


async def seed(
    database: Database, count: int, provider: SmtpProvider, dovecot: DovecotServer, user: str
) -> None:
    async with database.session() as s:
        persona = Persona(
            key="claire",
            display_name="Claire Mercier",
            email=f"{user}@persona.example",
            smtp_host="127.0.0.1",
            smtp_port=provider.port,
            smtp_security="none",
            imap_host="127.0.0.1",
            imap_port=dovecot.imap_port,
            imap_security="none",
            username=user,
            password_ref=f"env:{PASSWORD_VAR}",
            created_at=PRETEND,
        )
        campaign = Campaign(
            name="outage",
            window_start=PRETEND.date(),
            window_end=PRETEND.date() + timedelta(days=30),
            seed=1,
            spec=ALL_WEEK,
            created_at=PRETEND,
            planned_at=PRETEND,
        )
        s.add_all([persona, campaign])
        await s.flush()
        for n in range(count):
            coll = Collectivity(
                insee_code=f"63{n:03d}",
                name=f"Commune {n}",
                kind="commune",
                population=3000,
                departement="63",
                created_at=PRETEND,
                updated_at=PRETEND,
            )
            svc = Service(
                collectivity=coll,
                kind="etat_civil",
                name="État civil",
                email=f"etat-civil@mairie{n}.example",
                created_at=PRETEND,
                updated_at=PRETEND,
            )
            s.add_all([coll, svc])
            await s.flush()
            s.add(
                Contact(
                    campaign_id=campaign.id,
                    service_id=svc.id,
                    collectivity_id=coll.id,
                    scenario_id="email-acte-naissance",
                    channel="email",
                    wording=0,
                    persona_id=persona.id,
                    planned_at=PRETEND - timedelta(minutes=1),
                    status="planned",
                    status_at=PRETEND,
                )
            )


async def measure(
    args: argparse.Namespace, dovecot: DovecotServer, overrides: dict[str, Any]
) -> tuple[float, int]:
    """Seconds from the provider's return to the last contact sent, and the runs it took."""
    user = f"bench{os.urandom(3).hex()}"
    password = dovecot.add_user(user)
    os.environ[PASSWORD_VAR] = password
    provider = SmtpProvider.start(credentials={user: password})
    provider.add_local_mailbox(f"{user}@persona.example", user, dovecot.lmtp_port)
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(f"sqlite:///{tmp}/outage.db")
        async with database.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        await seed(database, args.count, provider, dovecot, user)
        clock = FixedClock(PRETEND)
        config = DispatchConfig(batch_size=max(args.count, 50), **overrides)
        dispatcher = Dispatcher(database, load_catalog(), clock, config, owner="bench")
        port = provider.port
        provider.stop()
        back_at = PRETEND + timedelta(seconds=args.outage)
        restarted: SmtpProvider | None = None
        runs = 0
        try:
            while True:
                if restarted is None and clock.now() >= back_at:
                    restarted = SmtpProvider.start(credentials=provider.credentials, port=port)
                    restarted.local_mailboxes.update(provider.local_mailboxes)
                await dispatcher.run_once()
                runs += 1
                async with database.session() as s:
                    from sqlalchemy import func, select

                    sent, last = (
                        await s.execute(
                            select(func.count(Contact.sent_at), func.max(Contact.sent_at))
                        )
                    ).one()
                if sent == args.count:
                    return (last - back_at).total_seconds(), runs
                if clock.now() - PRETEND > timedelta(hours=3):
                    raise RuntimeError(f"only {sent} of {args.count} sent after 3 hours")
                clock.advance(timedelta(seconds=args.interval))
        finally:
            if restarted is not None:
                restarted.stop()
            await database.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=90)
    parser.add_argument("--outage", type=float, default=20.0, help="seconds the provider is down")
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between runs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    fields = {f.name for f in dataclasses.fields(DispatchConfig)}
    schedules: list[tuple[str, dict[str, Any]]] = []
    if "outage_base_seconds" in fields:
        schedules.append(("current: breaker probes 5 s doubling to 300 s", {}))
        before = 4 * DispatchConfig().retry_base_seconds
        schedules.append(
            (
                f"baseline: every failure of ours retried after {before} s",
                {"outage_base_seconds": before, "outage_cap_seconds": before},
            )
        )
    else:
        schedules.append(("this checkout's code (no breaker)", {}))
    dovecot = DovecotServer.start()
    try:
        print(
            f"provider down {args.outage:g} s, {args.count} contacts due, a dispatch run "
            f"every {args.interval:g} s (simulated time)"
        )
        results = []
        for name, overrides in schedules:
            delay, runs = await measure(args, dovecot, overrides)
            results.append(delay)
            print(
                f"  {name:<52} last sent {delay:>7.0f} s after the provider came back ({runs} runs)"
            )
        if len(results) == 2:
            ratio = results[1] / results[0] if results[0] else float("inf")
            print(f"  baseline / current: {ratio:.0f}x")
    finally:
        dovecot.stop()


if __name__ == "__main__":
    asyncio.run(main())
