"""Benchmark: the whole mail-tracking pipeline against a bare imaplib UID FETCH, same mailbox.

    .venv/bin/python bench/ingest.py [--count 10000] [--backends sqlite,postgresql]
                                     [--batch 200] [--profile FILE]

For each backend (SQLite in a temporary file; PostgreSQL in a temporary schema of
``--pg-url``, dropped afterwards), in a process of its own so that its peak memory is its own:

1. not timed: a private Dovecot (sim/dovecot.py) whose INBOX gets ``--count`` messages
   written straight into its maildir (APPEND would take minutes): answers (some HTML, some
   with a PDF attached), automatic acknowledgements, bounces (DSN with the original attached)
   and replies from other agents without thread headers, 2 to 200 KB (log-uniform), replying
   to 2,000 contacts of one persona; one SELECT lets Dovecot index them;
2. timed, the production path: ``Tracker.sync_all()`` — UID SEARCH, FETCH in batches, raw
   bytes and checkpoint stored, parse, classify, match, record (contacts, events, checks);
   parsing in ``--workers`` processes (default: what ``temoin worker`` takes on this machine),
   started before the clock starts, as the worker starts them once;
3. timed, the baseline: a bare ``imaplib`` UID FETCH (BODY.PEEK[]) of the same messages in
   batches of the same size, the bytes thrown away;
4. not timed: parse + classify alone over the same bytes (one core), the parser's ceiling.

Prints both rates, the ratio production / baseline (target: at least 0.5) and the peak
resident memory of the process (``ru_maxrss``; target: under 400 MB) and, in brackets, of
the largest parser process.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import imaplib
import json
import math
import os
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from channels.analysis import analyse
from channels.imap_watcher import WatchConfig
from runners.analysis_pool import default_workers
from runners.tracker import Tracker, TrackingConfig
from scenarios.catalog import load_catalog
from scenarios.clock import FixedClock
from sim.dovecot import DovecotServer
from storage.db import Database
from storage.models import Base, Campaign, Collectivity, Contact, Message, Persona, Service

SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD_VAR = "TEMOIN_BENCH_PASSWORD"
CONTACTS = 2000
COLLECTIVITIES = 100
USER = "claire"
PERSONA = f"{USER}@persona.example"

PHRASES = (
    "Suite à votre demande, nous vous informons que la démarche peut être faite en ligne. ",
    "Le délai de traitement est d'environ cinq jours ouvrés à compter de la réception. ",
    "Merci de nous transmettre une copie de votre pièce d'identité et un justificatif. ",
    "La délivrance de ce document est gratuite ; il vous sera envoyé par courrier. ",
    "Nos services sont ouverts du lundi au vendredi de 8 h 30 à 12 h et de 13 h 30 à 17 h. ",
    "Ce message et ses pièces jointes sont confidentiels et destinés à leur seul destinataire. ",
)


def _text(rng: random.Random, size: int) -> str:
    out: list[str] = []
    length = 0
    while length < size:
        phrase = rng.choice(PHRASES)
        out.append(phrase)
        length += len(phrase.encode())
        if rng.random() < 0.15:
            out.append("\n\n")
    return "".join(out)


def _headers(sender: str, subject: str, n: int, extra: list[str]) -> list[str]:
    return [
        f"From: {sender}",
        f"To: Claire Mercier <{PERSONA}>",
        f"Subject: {subject}",
        f"Date: {format_datetime(SENT + timedelta(hours=2, seconds=n))}",
        f"Message-ID: <bench.{n}@{sender.rsplit('@', 1)[1].strip('>')}>",
        "MIME-Version: 1.0",
        *extra,
    ]


def make_message(rng: random.Random, n: int) -> tuple[str, bytes]:
    """One message of a random kind and size (2 to 200 KB)."""
    size = int(math.exp(rng.uniform(math.log(2_000), math.log(200_000))))
    contact = rng.randrange(CONTACTS)
    coll = contact % COLLECTIVITIES
    service = f"etat-civil@mairie{coll}.example"
    mid = f"<c{contact}@persona.example>"
    roll = rng.random()
    signature = (
        "\n\nCordialement,\n\n-- \nJulien Moreau\nService État civil\nTél. : 04 73 00 00 00\n"
    )
    if roll < 0.1:  # a bounce returning the original
        kind = "bounce"
        original = "\r\n".join(
            [
                f"From: {PERSONA}",
                f"To: {service}",
                f"Message-ID: {mid}",
                "Subject: Demande",
                "",
                _text(rng, size - 1500),
            ]
        )
        lines = _headers(
            "MAILER-DAEMON@mx.persona.example",
            "Undelivered Mail Returned to Sender",
            n,
            [
                'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
                "Auto-Submitted: auto-replied",
            ],
        )
        body = (
            "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
            "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n"
            f"\r\nFinal-Recipient: rfc822; {service}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            f"\r\n--B\r\nContent-Type: message/rfc822\r\n\r\n{original}\r\n--B--\r\n"
        )
    elif roll < 0.4:  # an automatic acknowledgement with a long disclaimer
        kind = "acknowledgement"
        lines = _headers(
            service,
            "Accusé de réception",
            n,
            [
                "Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: 8bit",
                "Auto-Submitted: auto-replied",
                f"In-Reply-To: {mid}",
                f"References: {mid}",
            ],
        )
        body = "Nous avons bien reçu votre demande.\n\n" + _text(rng, size)
    elif roll < 0.5:  # another agent, no thread headers
        kind = "agent"
        lines = _headers(
            f"agent{n}@mairie{coll}.example",
            "RE: Demande de copie intégrale",
            n,
            ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"],
        )
        body = "Bonjour Madame,\n\n" + _text(rng, size) + signature
    else:  # an answer: plain, HTML, or with a PDF attached
        kind = "answer"
        thread = [f"In-Reply-To: {mid}", f"References: {mid}"]
        text_part = "Bonjour Madame,\n\n" + _text(rng, min(size, 6_000)) + signature
        if size < 12_000:
            lines = _headers(
                service,
                "Re: Demande de copie",
                n,
                [
                    "Content-Type: text/plain; charset=utf-8",
                    "Content-Transfer-Encoding: 8bit",
                    *thread,
                ],
            )
            body = "Bonjour Madame,\n\n" + _text(rng, size) + signature
        elif rng.random() < 0.3:
            lines = _headers(
                service,
                "Re: Demande de copie",
                n,
                ['Content-Type: multipart/alternative; boundary="A"', *thread],
            )
            html = "".join(f"<p>{_text(rng, 400)}</p>" for _ in range(size // 900))
            body = (
                f"--A\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text_part}\r\n"
                f"--A\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>{html}"
                "</body></html>\r\n--A--\r\n"
            )
        else:
            lines = _headers(
                service,
                "Re: Demande de copie",
                n,
                ['Content-Type: multipart/mixed; boundary="M"', *thread],
            )
            pdf = base64.encodebytes(rng.randbytes(max(size - 8_000, 1_000) * 3 // 4)).decode()
            body = (
                f"--M\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text_part}\r\n"
                '--M\r\nContent-Type: application/pdf; name="formulaire.pdf"\r\n'
                'Content-Disposition: attachment; filename="formulaire.pdf"\r\n'
                f"Content-Transfer-Encoding: base64\r\n\r\n{pdf}--M--\r\n"
            )
    raw = "\r\n".join(lines) + "\r\n\r\n" + body.replace("\r\n", "\n").replace("\n", "\r\n")
    return kind, raw.encode()


def fill_maildir(dovecot: DovecotServer, count: int, seed: int) -> tuple[Counter[str], int]:
    """Write ``count`` messages into the user's INBOX maildir; INTERNALDATE = file mtime."""
    conn = dovecot.imap(USER)
    conn.select("INBOX")  # creates the maildir
    conn.logout()
    cur = dovecot.root / "mail" / USER / "Maildir" / "cur"
    owner = cur.stat()  # files must belong to the mail user, as Dovecot's own do
    rng = random.Random(seed)
    kinds: Counter[str] = Counter()
    total = 0
    for n in range(count):
        kind, raw = make_message(rng, n)
        kinds[kind] += 1
        total += len(raw)
        path = cur / f"{1772442000 + n}.M{n}P1.bench,S={len(raw)}:2,"
        path.write_bytes(raw)
        os.chown(path, owner.st_uid, owner.st_gid)
        when = (SENT + timedelta(hours=3, seconds=n)).timestamp()
        os.utime(path, (when, when))
    conn = dovecot.imap(USER)
    try:
        conn.select("INBOX", readonly=True)  # Dovecot assigns UIDs and indexes the files
        conn.uid("FETCH", "1:*", "(UID INTERNALDATE RFC822.SIZE)")
    finally:
        conn.logout()
    return kinds, total


async def seed_database(database: Database, dovecot: DovecotServer) -> None:
    now = SENT - timedelta(days=1)
    async with database.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with database.session() as s:
        persona = Persona(
            key="claire",
            display_name="Claire Mercier",
            email=PERSONA,
            created_at=now,
            imap_host=dovecot.host,
            imap_port=dovecot.imap_port,
            imap_security="none",
            username=USER,
            password_ref=f"env:{PASSWORD_VAR}",
            subaddress_separator="+",
        )
        campaign = Campaign(
            name="bench",
            window_start=SENT.date(),
            seed=1,
            spec={},
            window_end=SENT.date() + timedelta(days=30),
            created_at=now,
            planned_at=now,
        )
        s.add_all([persona, campaign])
        services = []
        for n in range(COLLECTIVITIES):
            coll = Collectivity(
                insee_code=f"63{n:03d}",
                name=f"Commune {n}",
                kind="commune",
                population=3000,
                departement="63",
                created_at=now,
                updated_at=now,
            )
            svc = Service(
                collectivity=coll,
                kind="etat_civil",
                name="État civil",
                email=f"etat-civil@mairie{n}.example",
                city=f"Commune {n}",
                created_at=now,
                updated_at=now,
            )
            s.add_all([coll, svc])
            services.append(svc)
        await s.flush()
        s.add_all(
            Contact(
                campaign_id=campaign.id,
                service_id=services[i % COLLECTIVITIES].id,
                collectivity_id=services[i % COLLECTIVITIES].collectivity_id,
                scenario_id="email-acte-naissance",
                channel="email",
                wording=0,
                persona_id=persona.id,
                planned_at=SENT,
                status="sent",
                status_at=SENT,
                sent_at=SENT,
                message_id=f"<c{i}@persona.example>",
                reply_token=f"t{i:06d}",
            )
            for i in range(CONTACTS)
        )


async def pipeline(
    database: Database, batch: int, workers: int, profile: str | None
) -> dict[str, Any]:
    config = TrackingConfig(
        watch=WatchConfig(fetch_batch=batch, timeout=120), parse_workers=workers
    )
    tracker = Tracker(database, load_catalog(), FixedClock(SENT + timedelta(days=1)), config)
    await tracker.start()  # `temoin worker` starts its parser processes (and the rest) once
    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    try:
        errors = await tracker.sync_all(census=False)
    finally:
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)  # type: ignore[arg-type]
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        tracker.close()
    if errors:
        raise SystemExit(f"pipeline errors: {errors}")
    async with database.session() as s:
        kinds = dict(
            (
                await s.execute(
                    select(Message.classification, func.count()).group_by(Message.classification)
                )
            ).all()
        )
        matched = await s.scalar(select(func.count()).where(Message.contact_id.is_not(None)))
        answered = await s.scalar(select(func.count()).where(Contact.status == "answered"))
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "kinds": kinds,
        "matched": matched,
        "answered": answered,
    }


def bare(dovecot: DovecotServer, batch: int) -> tuple[float, int, int]:
    conn = imaplib.IMAP4(dovecot.host, dovecot.imap_port, timeout=120)
    try:
        conn.login(USER, dovecot.users[USER])
        started = time.perf_counter()
        conn.select("INBOX")
        _typ, data = conn.uid("SEARCH", "ALL")
        uids = data[0].split()
        fetched = size = 0
        for start in range(0, len(uids), batch):
            chunk = b",".join(uids[start : start + batch]).decode()
            _typ, items = conn.uid("FETCH", chunk, "(UID INTERNALDATE BODY.PEEK[])")
            for item in items:
                if isinstance(item, tuple):
                    fetched += 1
                    size += len(item[1])
        return time.perf_counter() - started, fetched, size
    finally:
        conn.logout()


def parse_ceiling(dovecot: DovecotServer) -> float:
    files = sorted((dovecot.root / "mail" / USER / "Maildir" / "cur").iterdir())
    started = time.perf_counter()
    for path in files:
        analyse(path.read_bytes())
    return len(files) / (time.perf_counter() - started)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def one_backend(args: argparse.Namespace, dovecot: DovecotServer) -> dict[str, Any]:
    schema = None
    if args.one == "sqlite":
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='temoin-bench-')) / 'bench.db'}"
    else:
        url, schema = args.pg_url, f"bench_{secrets.token_hex(4)}"
        admin = Database(url)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
    database = Database(url, schema=schema)
    try:
        await seed_database(database, dovecot)
        setup_peak = peak_mb()
        profile = f"{args.profile}.{args.one}" if args.profile else None
        result = await pipeline(database, args.batch, args.workers, profile)
        result["peak_mb"] = peak_mb()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the parser processes, joined
        result["worker_peak_mb"] = children.ru_maxrss / 1024 if args.workers else 0.0
        result["worker_cpu_seconds"] = children.ru_utime + children.ru_stime
        result["setup_peak_mb"] = setup_peak
        return result
    finally:
        await database.dispose()
        if schema:
            admin = Database(url)
            async with admin.engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()


def run_one(args: argparse.Namespace) -> None:
    """In a process of its own: set up, measure, print one JSON line."""
    dovecot = DovecotServer.start()
    try:
        os.environ[PASSWORD_VAR] = dovecot.add_user(USER)
        kinds, total = fill_maildir(dovecot, args.count, args.seed)
        result = asyncio.run(one_backend(args, dovecot))
        bare_seconds, fetched, size = bare(dovecot, args.batch)
        if fetched != args.count or size != total:
            raise SystemExit(f"bare fetch got {fetched} messages, {size} bytes")
        result |= {
            "bare_seconds": bare_seconds,
            "bytes": total,
            "generated": dict(kinds),
            "parse_ceiling": parse_ceiling(dovecot),
        }
        print(json.dumps(result))
    finally:
        dovecot.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--batch", type=int, default=200, help="messages per FETCH")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--profile", default=None, help="cProfile output (one per backend)")
    parser.add_argument(
        "--workers", type=int, default=default_workers(),
        help="parser processes (default: as `temoin worker` on this machine)",
    )  # fmt: skip
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        run_one(args)
        return
    rows = []
    for backend in args.backends.split(","):
        command = [
            sys.executable,
            __file__,
            "--one",
            backend,
            "--count",
            str(args.count),
            "--batch",
            str(args.batch),
            "--seed",
            str(args.seed),
            "--pg-url",
            args.pg_url,
            "--workers",
            str(args.workers),
        ]
        if args.profile:
            command += ["--profile", args.profile]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{backend}: {done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append((backend, result))
        print(
            f"{backend}: {args.count} messages, {result['bytes'] / 1e6:.0f} MB "
            f"{result['generated']}; stored {result['kinds']}, {result['matched']} matched, "
            f"{result['answered']} contacts answered"
        )
    print()
    print(
        f"{args.workers} parser process(es); peak MB: this process (largest worker); "
        "CPU ms/msg: the pipeline's own process (IMAP, storage, matching, recording) + its "
        "parser processes (their start included)"
    )
    print(
        f"{'backend':<11} {'pipeline /s':>12} {'bare /s':>9} {'ratio':>6} {'peak MB':>12} "
        f"{'parse alone /s':>15} {'CPU ms/msg':>16}"
    )
    for backend, r in rows:
        ours, base = args.count / r["seconds"], args.count / r["bare_seconds"]
        peak = f"{r['peak_mb']:.0f} ({r['worker_peak_mb']:.0f})"
        main_cpu, worker_cpu = (
            1000 * r[k] / args.count for k in ("cpu_seconds", "worker_cpu_seconds")
        )
        cpu = f"{main_cpu:.2f} + {worker_cpu:.2f}"
        print(
            f"{backend:<11} {ours:>12.0f} {base:>9.0f} {ours / base:>6.2f} "
            f"{peak:>12} {r['parse_ceiling']:>15.0f} {cpu:>16}"
        )


if __name__ == "__main__":
    main()
