"""Benchmark: the real dispatcher against a bare aiosmtplib loop, same messages, same sink.

    .venv/bin/python bench/dispatch.py [--count 5000] [--backends sqlite,postgresql]
                                       [--batch-size 50] [--profile FILE]

For each backend (SQLite in a temporary file; PostgreSQL in a temporary schema of
``--pg-url``, dropped afterwards), with a private Dovecot (sim/dovecot.py) as the
persona's mailbox and aiosmtpd (sim/smtp_provider.py) as its provider, which files
the blind copy of every message in that mailbox over LMTP before it answers 250. The
provider runs in a process of its own, as a real one would be elsewhere: in the same
process its work would compete with the code measured for the interpreter lock.

1. not timed: ``--count`` email contacts (one persona, 50 services), due in ``--rounds``
   groups ten minutes apart;
2. timed, the production path: ``Dispatcher.run_once()`` with the clock just past a group's
   time, as in production (claim with a lease, render the scenario, send with the blind
   copy, record, copy to Sent over IMAP), rate limits off;
3. timed, the baseline: as many messages, rendered beforehand, sent by a bare ``aiosmtplib``
   loop over one connection with the same envelope (service + blind copy).

Steps 2 and 3 alternate, group after group (the order swapped every round), so that both
see the same load on a shared machine. Prints both rates and the ratio production /
baseline per backend; the target is a ratio of at least 0.5. ``--profile FILE`` writes a
cProfile of the production path.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import multiprocessing
import os
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path
from typing import Any

import aiosmtplib
from sqlalchemy import func, select, text

from channels.outgoing import Sender, build_email, make_message_id
from runners.dispatcher import DispatchConfig, Dispatcher
from scenarios.catalog import load_catalog
from sim.dovecot import DovecotServer
from sim.smtp_provider import SmtpProvider
from storage.db import Database
from storage.models import Base, Campaign, Collectivity, Contact, Persona, Service

PRETEND = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday 10:00 in Paris: a business day
PASSWORD_VAR = "TEMOIN_BENCH_PASSWORD"


@dataclass(frozen=True)
class ShiftedClock:
    offset: timedelta

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass(frozen=True)
class Provider:
    """The address of the provider running in its own process, and how to stop it."""

    port: int
    process: multiprocessing.process.BaseProcess
    control: Any  # the parent's end of a multiprocessing Pipe

    def stop(self) -> int:
        """Stop it; returns how many messages it accepted."""
        self.control.send("stop")
        accepted = int(self.control.recv())
        self.process.join(10)
        return accepted


def _serve(control: Any, user: str, password: str, lmtp_port: int) -> None:
    # aiosmtpd logs a deprecation notice at every AUTH LOGIN; not our code, not news.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    provider = SmtpProvider.start()
    provider.add_account(user, password)
    provider.add_local_mailbox(f"{user}@persona.example", user, lmtp_port)
    control.send(provider.port)
    control.recv()
    provider.stop()
    control.send(len(provider.received))


def start_provider(user: str, password: str, lmtp_port: int) -> Provider:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("fork").Process(
        target=_serve, args=(child, user, password, lmtp_port), daemon=True
    )
    process.start()
    return Provider(int(parent.recv()), process, parent)


def group_time(group: int) -> datetime:
    return PRETEND + timedelta(minutes=10 * group)


async def seed(database: Database, count: int, rounds: int, provider: Provider,
               dovecot: DovecotServer, user: str) -> None:  # fmt: skip
    now = datetime.now(UTC)
    async with database.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with database.session() as s:
        persona = Persona(
            key="claire", display_name="Claire Mercier", email=f"{user}@persona.example",
            address="4 rue des Tilleuls", postal_code="63100", city="Clermont-Ferrand",
            smtp_host="127.0.0.1", smtp_port=provider.port, smtp_security="none",
            imap_host="127.0.0.1", imap_port=dovecot.imap_port, imap_security="none",
            username=user, password_ref=f"env:{PASSWORD_VAR}", subaddress_separator="+",
            created_at=now,
        )  # fmt: skip
        campaign = Campaign(name="bench", window_start=PRETEND.date(),
                            window_end=PRETEND.date() + timedelta(days=30), seed=1,
                            spec={"rules": {"dispatch_hours": "lu-di 00:00-24:00"}},
                            created_at=now, planned_at=now)  # fmt: skip
        s.add_all([persona, campaign])
        services = []
        for n in range(50):
            coll = Collectivity(insee_code=f"63{n:03d}", name=f"Commune {n}", kind="commune",
                                population=3000, departement="63", created_at=now,
                                updated_at=now)  # fmt: skip
            svc = Service(collectivity=coll, kind="etat_civil", name="État civil",
                          email=f"etat-civil@mairie{n}.example", city=f"Commune {n}",
                          created_at=now, updated_at=now)  # fmt: skip
            s.add_all([coll, svc])
            services.append(svc)
        await s.flush()
        s.add_all(
            Contact(
                campaign_id=campaign.id,
                service_id=services[i % 50].id,
                collectivity_id=services[i % 50].collectivity_id,
                scenario_id="email-acte-naissance",
                channel="email",
                wording=i % 2,
                persona_id=persona.id,
                planned_at=group_time(i * rounds // count),
                status="planned",
                status_at=now,
            )
            for i in range(count)
        )


async def production(
    database: Database, group: int, batch_size: int, profiler: cProfile.Profile | None
) -> tuple[float, int]:
    """One group through the real dispatcher; (seconds, emails sent)."""
    config = DispatchConfig(batch_size=batch_size, per_persona_per_hour=0, per_domain_per_hour=0)
    clock = ShiftedClock(group_time(group) + timedelta(minutes=5) - datetime.now(UTC))
    dispatcher = Dispatcher(database, load_catalog(), clock, config, owner="bench")
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    report = await dispatcher.run_once()
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - started
    if report.errors:
        print("  errors:", report.errors[:3], file=sys.stderr)
    return elapsed, report.sent


def prerender(count: int, user: str) -> list[tuple[str, bytes]]:
    address = f"{user}@persona.example"
    sender = Sender("Claire Mercier", address)
    messages = []
    for i in range(count):
        to = f"etat-civil@mairie{i % 50}.example"
        message = build_email(sender=sender, to=to, subject="Demande de copie intégrale",
                              body="Madame, Monsieur,\n\n" + "Bonjour. " * 120,
                              message_id=make_message_id(address), date=PRETEND)  # fmt: skip
        messages.append((to, message.as_bytes(policy=SMTP_POLICY)))
    return messages


async def bare(
    messages: list[tuple[str, bytes]], provider: Provider, user: str, password: str
) -> float:
    """The baseline: pre-rendered messages over one connection; seconds."""
    address = f"{user}@persona.example"
    started = time.perf_counter()
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=provider.port, timeout=30) as smtp:
        await smtp.login(user, password)
        for to, raw in messages:
            await smtp.sendmail(address, [to, address], raw)
    return time.perf_counter() - started


async def run_backend(
    backend: str, args: argparse.Namespace, provider: Provider, dovecot: DovecotServer, user: str
) -> tuple[float, float]:
    schema = None
    if backend == "sqlite":
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='temoin-bench-')) / 'bench.db'}"
    else:
        url = args.pg_url
        schema = f"bench_{secrets.token_hex(4)}"
        admin = Database(url)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
    database = Database(url, schema=schema)
    try:
        await seed(database, args.count, args.rounds, provider, dovecot, user)
        profiler = cProfile.Profile() if args.profile else None
        messages = prerender(args.count, user)
        per_round = -(-args.count // args.rounds)
        prod = base = 0.0
        sent = 0
        for group in range(args.rounds):
            chunk = messages[group * per_round : (group + 1) * per_round]
            password = dovecot.users[user]
            if group % 2:
                base += await bare(chunk, provider, user, password)
            seconds, done = await production(database, group, args.batch_size, profiler)
            prod, sent = prod + seconds, sent + done
            if not group % 2:
                base += await bare(chunk, provider, user, password)
        if profiler:
            profiler.dump_stats(f"{args.profile}.{backend}")
        async with database.session() as s:
            recorded = await s.scalar(select(func.count()).where(Contact.status == "sent"))
        print(f"  dispatcher: {sent} sent ({recorded} recorded) in {prod:.2f} s")
        print(f"  bare loop: {len(messages)} sent in {base:.2f} s")
        return prod, base
    finally:
        await database.dispose()
        if schema:
            admin = Database(url)
            async with admin.engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()


def bench_backend(backend: str, args: argparse.Namespace) -> tuple[float, float]:
    dovecot = DovecotServer.start()
    try:
        user = "claire"
        password = dovecot.add_user(user)
        os.environ[PASSWORD_VAR] = password
        provider = start_provider(user, password, dovecot.lmtp_port)
        try:
            return asyncio.run(run_backend(backend, args, provider, dovecot, user))
        finally:
            accepted = provider.stop()
            print(f"  the provider accepted {accepted} messages")
    finally:
        dovecot.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10, help="alternations of the two")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--profile", default=None, help="cProfile output (one per backend)")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    for backend in args.backends.split(","):
        print(f"{backend}: {args.count} emails")
        prod, base = bench_backend(backend, args)
        results[backend] = (prod, base)
    print()
    print(f"{'backend':<11} {'dispatcher /s':>14} {'bare loop /s':>13} {'ratio':>6}")
    for backend, (prod, base) in results.items():
        p, b = args.count / prod, args.count / base
        print(f"{backend:<11} {p:>14.0f} {b:>13.0f} {p / b:>6.2f}")


if __name__ == "__main__":
    main()
