"""Benchmark: all of France, on the official list of communes (``tests/geodata``).

    .venv/bin/python bench/france.py [--backend sqlite|postgresql] [--pg-url URL]
                                     [--departements 57,2A,987]
                                     [--services-per-commune 2 | --contacts 1000000]

(also ``bench/plan.py --france [...]``). ``--contacts N``: as many services per commune as
make about N contacts (three per service), e.g. 10 for a million.

Each phase runs in a child process of its own so that its peak memory (``ru_maxrss``) is
its own; the database is a temporary SQLite file or a temporary PostgreSQL schema.

1. **import**: the directory spreadsheet of every current commune and municipal
   arrondissement (35,014), ``--services-per-commune`` services each (town-hall desks and
   civil-status desks in turn, annexes past the first two),
   parsed by ``scenarios.directory.parse_directory`` and written by
   ``storage.directory.upsert_directory``, the ``temoin import services`` path; baseline:
   the same rows inserted by one bare executemany.
2. **plan**: a campaign over all of them on the real plan path
   (``temoin.planning.plan_campaign``): one email, one phone call and one visit per
   service over three months, with a team sized per département from the work (visits /
   (6 a day x 80 % of the business days)); baseline: the same contacts inserted by one bare
   executemany. Prints contacts, time, peak memory, the largest auditor-day and the
   overlaps found (0).
3. **undersized**: the same campaign with one auditor for all of France, which the
   planner must refuse with the numbers; prints the message.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

# Appended, not prepended: a PYTHONPATH naming another tree (main's, say) comes first.
sys.path.append(str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select, text

from scenarios.calendar import BusinessCalendar
from scenarios.campaign_file import CampaignSpec, parse_campaign
from scenarios.directory import parse_directory
from storage.db import Database
from storage.directory import upsert_directory
from storage.models import Base, Collectivity, Contact, Service
from temoin.errors import UserError
from temoin.planning import catalog_scenarios, plan_campaign
from tests.geodata.communes import Commune, directory_csv, load_communes

NOW = datetime(2027, 2, 15, 9, 0, tzinfo=UTC)
WINDOW = (date(2027, 3, 1), date(2027, 5, 28))
KINDS = ("accueil_mairie", "etat_civil")
VISITS_PER_DAY = 6


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def communes(departements: list[str]) -> list[Commune]:
    rows = list(load_communes())
    return [c for c in rows if c.departement in departements] if departements else rows


def team(rows: list[Commune], per_commune: int) -> list[dict[str, Any]]:
    """Auditors per département, sized from its visits and business days."""
    visits = Counter(c.departement for c in rows)
    auditors: list[dict[str, Any]] = []
    for dep, n in sorted(visits.items()):
        days = len(BusinessCalendar.for_departement(dep).business_days(*WINDOW))
        size = max(1, math.ceil(n * per_commune / (VISITS_PER_DAY * 0.8 * days)))
        auditors += [
            {"key": f"a{dep.lower()}-{i}", "name": f"Auditeur {dep} {i}", "departements": [dep]}
            for i in range(size)
        ]
    return auditors


def campaign(name: str, auditors: list[dict[str, Any]], departements: list[str]) -> CampaignSpec:
    return parse_campaign(
        {
            "name": name,
            "seed": 1,
            "window": {"start": WINDOW[0], "end": WINDOW[1]},
            "selection": {"departements": departements},
            "mix": {ch: {"per_service": 1} for ch in ("email", "phone", "visit")},
            "personas": [
                {"key": f"p{i}", "display_name": f"Persona {i}", "email": f"p{i}@bench.example"}
                for i in range(20)
            ],
            "auditors": auditors,
            "rules": {"visits_per_auditor_day": VISITS_PER_DAY},
        },
        f"{name}.yaml",
    )


async def bare_insert(database: Database, table: Any, rows: list[dict[str, Any]]) -> float:
    async with database.engine.connect() as conn:
        start = time.perf_counter()
        for i in range(0, len(rows), 5000):
            await conn.execute(insert(table), rows[i : i + 5000])
        await conn.commit()
        return time.perf_counter() - start


async def phase_import(database: Database, args: argparse.Namespace) -> dict[str, Any]:
    async with database.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    rows = communes(args.departements)
    data = directory_csv(rows, KINDS, per_commune=args.services_per_commune)
    t0 = time.perf_counter()
    parsed = parse_directory(data)
    t_parse = time.perf_counter() - t0
    assert parsed.ok, parsed.errors[:5]
    t0 = time.perf_counter()
    async with database.session() as session:
        await upsert_directory(session, parsed, NOW)
    t_write = time.perf_counter() - t0
    if args.no_baseline:
        return {"communes": len(parsed.collectivities), "services": len(parsed.services),
                "parse_s": t_parse, "write_s": t_write, "peak_mb": peak_mb()}  # fmt: skip
    # Baseline: the same services, bare, in a scratch copy of the table.
    async with database.session() as session:
        ids = dict((await session.execute(select(Collectivity.insee_code, Collectivity.id))).all())
    bare = [
        {"collectivity_id": ids[s.insee_code], "kind": s.kind, "name": s.name, "email": s.email,
         "phone": s.phone, "created_at": NOW, "updated_at": NOW}
        for s in parsed.services
    ]  # fmt: skip
    async with database.engine.begin() as conn:
        await conn.execute(text("DELETE FROM service"))
    t_base = await bare_insert(database, Service.__table__, bare)
    async with database.engine.begin() as conn:
        await conn.execute(text("DELETE FROM service"))
    async with database.session() as session:
        await upsert_directory(session, parsed, NOW)  # back, for the plan phase
    return {
        "communes": len(parsed.collectivities),
        "services": len(parsed.services),
        "parse_s": t_parse,
        "write_s": t_write,
        "baseline_insert_s": t_base,
        "peak_mb": peak_mb(),
    }


async def phase_plan(database: Database, args: argparse.Namespace) -> dict[str, Any]:
    rows = communes(args.departements)
    auditors = team(rows, args.services_per_commune)
    spec = campaign("france", auditors, args.departements)
    t0 = time.perf_counter()
    outcome = await plan_campaign(database, spec, catalog_scenarios(), NOW)
    t_plan = time.perf_counter() - t0
    peak = peak_mb()
    contacts = outcome.plan.contacts
    del outcome
    # The field plan, read back from the database.
    async with database.session() as session:
        field = (
            await session.execute(
                select(
                    Contact.auditor_id,
                    Contact.channel,
                    Contact.planned_at,
                    Collectivity.departement,
                )
                .join(Collectivity, Collectivity.id == Contact.collectivity_id)
                .where(Contact.channel.in_(("phone", "visit")))
            )
        ).all()
    per_day: Counter[tuple[int, date, str]] = Counter()
    spans: dict[int, list[tuple[datetime, datetime]]] = {}
    for aid, channel, at, dep in field:
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        local = BusinessCalendar.for_departement(dep).local_date(at)
        per_day[aid, local, channel] += 1
        length = timedelta(minutes=60 if channel == "visit" else 10)
        spans.setdefault(aid, []).append((at, at + length))
    overlaps = 0
    for intervals in spans.values():
        intervals.sort()
        overlaps += sum(1 for a, b in itertools.pairwise(intervals) if b[0] < a[1])
    visits = [n for (_, _, ch), n in per_day.items() if ch == "visit"]
    calls = [n for (_, _, ch), n in per_day.items() if ch == "phone"]
    bare = [
        {"campaign_id": 1, "service_id": c.service_id, "collectivity_id": c.collectivity_id,
         "scenario_id": c.scenario_id, "channel": c.channel.value, "wording": c.wording,
         "persona_id": c.persona_id, "auditor_id": c.auditor_id, "planned_at": c.planned_at,
         "status": "planned", "status_at": NOW, "attempts": 0}
        for c in contacts
    ] if not args.no_baseline else []  # fmt: skip
    async with database.engine.begin() as conn:
        await conn.execute(text("DELETE FROM contact"))
    t_base = await bare_insert(database, Contact.__table__, bare) if bare else 0.0
    async with database.engine.begin() as conn:  # else they weigh on the next phase's caps
        await conn.execute(text("DELETE FROM contact"))
    return {
        "contacts": len(contacts),
        "auditors": len(auditors),
        "plan_s": t_plan,
        "baseline_insert_s": t_base,
        "peak_mb": peak,
        "largest_auditor_day_visits": max(visits, default=0),
        "largest_auditor_day_calls": max(calls, default=0),
        "auditor_days_with_visits": len(visits),
        "overlaps": overlaps,
    }


async def phase_undersized(database: Database, args: argparse.Namespace) -> dict[str, Any]:
    spec = campaign("un-seul", [{"key": "seul", "name": "Auditeur seul"}], args.departements)
    t0 = time.perf_counter()
    try:
        await plan_campaign(database, spec, catalog_scenarios(), NOW, dry_run=True)
        message = "(planned!)"
    except UserError as exc:
        message = str(exc)
    return {"refused_s": time.perf_counter() - t0, "message": message[:600], "peak_mb": peak_mb()}


PHASES = {"import": phase_import, "plan": phase_plan, "undersized": phase_undersized}


async def child(args: argparse.Namespace) -> None:
    database = Database(args.url, schema=args.schema) if args.schema else Database(args.url)
    try:
        result = await PHASES[args.phase](database, args)
    finally:
        await database.dispose()
    print(json.dumps(result))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--departements", type=lambda v: [d for d in v.split(",") if d],
                        default=[])  # fmt: skip
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--services-per-commune", type=int, default=2)
    size.add_argument("--contacts", type=int, help="about this many contacts (3 per service)")
    parser.add_argument(
        "--phases",
        type=lambda v: [p for p in v.split(",") if p in PHASES],
        default=list(PHASES),
        help="import,plan,undersized (import first)",
    )
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip the bare inserts (minutes at a million contacts)",
    )
    parser.add_argument("--phase", choices=tuple(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.contacts:
        n = len(communes(args.departements))
        args.services_per_commune = max(1, round(args.contacts / (3 * n)))
    if args.phase:
        asyncio.run(child(args))
        return 0
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{args.services_per_commune} services per commune")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        schema = None
        if args.backend == "sqlite":
            url = f"sqlite:///{tmp}/bench.db"
        else:
            url = args.pg_url
            schema = f"bench_{secrets.token_hex(4)}"
            _psql(args.pg_url, f'CREATE SCHEMA "{schema}"')
        try:
            for phase in args.phases:
                command = [sys.executable, __file__, "--phase", phase, "--url", url,
                           "--services-per-commune", str(args.services_per_commune),
                           *(["--no-baseline"] if args.no_baseline else []),
                           "--departements", ",".join(args.departements)]  # fmt: skip
                if schema:
                    command += ["--schema", schema]
                out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                result = json.loads(out.strip().splitlines()[-1])
                print(f"[{args.backend}] {phase}:")
                for key, value in result.items():
                    shown = f"{value:.2f}" if isinstance(value, float) else value
                    print(f"    {key}: {shown}")
                base = result.get("baseline_insert_s")
                spent = result.get("write_s", result.get("plan_s"))
                if base and spent:
                    print(f"    ratio to the bare insert: {spent / base:.1f}")
        finally:
            if schema:
                _psql(args.pg_url, f'DROP SCHEMA "{schema}" CASCADE')
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


def _psql(url: str, sql: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
