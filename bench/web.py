"""Benchmark: the web pages on a 100,000-contact campaign, in-process (httpx over ASGI).

    .venv/bin/python bench/web.py [--contacts 100000] [--backends postgresql,sqlite]
                                  [--requests 40]

For each backend (PostgreSQL in a temporary schema of ``--pg-url``, dropped afterwards;
SQLite in a temporary file):

1. not timed: the campaign of ``bench/stats.py`` (20,000 collectivities, ``--contacts``
   contacts over four channels, their timeline events), 300 replies waiting in triage with
   three suggested contacts each, a coordinator and a collectivity account;
2. timed, the real path: a logged-in coordinator asks ``--requests`` times each page (campaign
   list, a campaign's dashboard, its progress fragment, contact pages of random contacts, a
   page of the contacts behind one of its figures, the triage queue, one message in triage),
   and the collectivity its portal home; then the collectivity's barometer page:

   - once with no national and peer figures kept (the first view reads the whole campaign and
     keeps them: what every first view cost before they were kept at the close);
   - the close's work (``reports.figures_store.ensure_kept``, as ``temoin campaign close``);
   - the first view of 10 restarted servers (new apps: the figures read from the database);
   - ``--requests`` times on one server (the figures held in memory);

   then the dashboard's comparison fragment with an earlier campaign (campaign 2, a copy of
   campaign 1 a year before, closed, figures kept): what each load did before (both
   campaigns' statistics by the database's GROUP BY), its first view on 10 restarted servers
   and ``--requests`` times on one;
3. timed, the baseline: the bare ``GROUP BY channel, status`` of the campaign's contacts, the
   least any progress page must ask the database.

Prints p50 and p95 in milliseconds per page, the ratio of the dashboard's p50 to the bare
query's, and the load average (the machine may be shared). Target: p95 under 200 ms for the
dashboard, the contact list and the triage queue at 100,000 contacts.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncSession

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reports.campaign_stats import compute_stats  # noqa: E402
from reports.figures_store import ensure_kept, figure_options  # noqa: E402
from scenarios.clock import FixedClock  # noqa: E402
from storage import barometer_figures, web_accounts  # noqa: E402
from storage.db import Database, sync_url  # noqa: E402
from storage.stats import CampaignInfo, campaign_info  # noqa: E402
from web.app import create_app  # noqa: E402
from web.auth import Passwords  # noqa: E402
from web.config import WebConfig  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_stats", ROOT / "bench" / "stats.py")
assert _spec and _spec.loader
stats_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stats_bench)

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
PASSWORD = "bench password, long enough"
TRIAGE = 300
RECOMPUTED = 3  # the comparison's former cost: seconds each
FIRSTS = 10  # first views timed, each on a new app (a restarted server)
COPY_OFFSET = 10_000_000  # contact ids of the earlier campaign's copy


def add_triage(url: str, schema: str | None, contacts: int) -> None:
    """300 pending replies (one shared raw blob) with three suggested contacts each."""
    args = {"options": f"-csearch_path={schema}"} if schema else {}
    engine = create_engine(sync_url(url), connect_args=args)
    rnd = random.Random(5)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO blob (sha256, size, data, created_at) VALUES (:s, 4, :d, :t)"),
            {"s": "0" * 64, "d": b"x\r\n\r\n", "t": NOW},
        )
        rows = []
        for i in range(TRIAGE):
            picks = rnd.sample(range(1, contacts + 1), 3)
            evidence = {
                "match": {
                    "reason": "no token, several candidates",
                    "suggestions": [
                        {"contact": c, "method": "sender_domain", "confidence": 0.5} for c in picks
                    ],
                }
            }
            rows.append({
                "raw": "0" * 64, "subject": f"Re: votre demande {i}",
                "sender": f"accueil@mairie-{i}.example", "at": NOW,
                "text": "Bonjour,\nVoici notre réponse.\n" * 20, "evidence": json.dumps(evidence),
            })  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO message (direction, raw_sha256, subject, from_address,"
                " internal_date, text, classification, evidence, triage_state, created_at)"
                " VALUES ('in', :raw, :subject, :sender, :at, :text, 'answer', :evidence,"
                " 'pending', :at)"
            ),
            rows,
        )
    engine.dispose()


async def add_earlier_campaign(database: Database, config: WebConfig) -> CampaignInfo:
    """Campaign 2, a year before campaign 1, with a copy of its contacts and events, closed
    and its figures kept (as `temoin campaign close` does): what campaign 1 is compared with."""
    async with database.session() as s:
        await s.execute(text(
            "INSERT INTO campaign (id, name, window_start, window_end, seed, spec, state,"
            " created_at, planned_at, closed_at) SELECT 2, 'bench-2025', '2025-03-02',"
            " '2025-04-30', 1, '{}', 'closed', created_at, planned_at, closed_at"
            " FROM campaign WHERE id = 1"))  # fmt: skip
        columns = ", ".join(stats_bench.CONTACT_COLUMNS[2:])
        await s.execute(text(
            f"INSERT INTO contact (id, campaign_id, {columns}) SELECT id + {COPY_OFFSET}, 2,"
            f" {columns} FROM contact WHERE campaign_id = 1"))  # fmt: skip
        await s.execute(text(
            "INSERT INTO contact_event (contact_id, kind, at, detail) SELECT contact_id +"
            f" {COPY_OFFSET}, kind, at, detail FROM contact_event WHERE contact_id < {COPY_OFFSET}"
        ))  # fmt: skip
    async with database.session() as s:
        await s.execute(text("ANALYZE"))
        earlier = await campaign_info(s, campaign_id=2)
    assert earlier is not None
    assert await ensure_kept(database, earlier, min_cell=config.min_cell,
                             strata=config.strata, catalog=None, at=NOW)  # fmt: skip
    return earlier


async def login(client: httpx.AsyncClient, login_name: str) -> None:
    page = await client.get("/connexion")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    answer = await client.post(
        "/connexion",
        data={"csrf_token": token.group(1), "login": login_name, "password": PASSWORD},
    )
    assert answer.status_code == 303, answer.status_code


async def add_accounts(s: AsyncSession, passwords: Passwords) -> None:
    """The bench's accounts, password ``PASSWORD``: ``coord@bench.example`` (coordinator)
    and ``mairie@bench.example``, the town hall of the collectivity with the most contacts
    (also web_downloads.py's)."""
    coll = await s.scalar(
        text("SELECT collectivity_id FROM contact GROUP BY collectivity_id"
             " ORDER BY count(*) DESC LIMIT 1")
    )  # fmt: skip
    code = await s.scalar(text("SELECT insee_code FROM collectivity WHERE id = :i"),
                          {"i": coll})  # fmt: skip
    for login_name, role, insee in (
        ("coord@bench.example", "coordinator", None),
        ("mairie@bench.example", "collectivity", code),
    ):
        account = await web_accounts.add_account(
            s, login=login_name, name=login_name, role=role, collectivity_code=insee, now=NOW
        )
        await web_accounts.set_password_hash(
            s, account.id, passwords.hash(PASSWORD), end_sessions=False
        )


async def timed_pages(url: str, schema: str | None, contacts: int, n: int) -> dict[str, Any]:
    database = Database(url, schema=schema)
    passwords = Passwords(1, 8192, 1)
    try:
        async with database.session() as s:
            await add_accounts(s, passwords)
            first_message = await s.scalar(text("SELECT min(id) FROM message"))
        config = WebConfig(
            secret_key=secrets.token_urlsafe(40), secure_cookies=False,
            argon2_time_cost=1, argon2_memory_kib=8192, argon2_parallelism=1,
        )  # fmt: skip
        app = create_app(database, config, FixedClock(NOW))
        transport = httpx.ASGITransport(app=app)
        rnd = random.Random(9)
        figures: dict[str, Any] = {}

        async def measure(client: httpx.AsyncClient, name: str, paths: list[str]) -> None:
            times = []
            for path in paths:
                start = time.perf_counter()
                answer = await client.get(path)
                times.append((time.perf_counter() - start) * 1000)
                assert answer.status_code == 200, (path, answer.status_code)
            times.sort()
            p95 = times[max(0, round(0.95 * len(times)) - 1)]
            figures[name] = (statistics.median(times), p95, len(times))

        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await login(client, "coord@bench.example")
            await client.get("/admin")  # warm-up: templates compiled, catalogue loaded
            await measure(client, "campaign list", ["/admin"] * n)
            await measure(client, "dashboard", ["/admin/campagnes/1"] * n)
            await measure(client, "progress fragment", ["/admin/campagnes/1/avancement"] * n)
            some = [f"/admin/contacts/{rnd.randint(1, contacts)}" for _ in range(n)]
            await measure(client, "contact page", some)
            drill = "/admin/campagnes/1/contacts?canal=email&etape=answered"
            await measure(client, "contact list (100)", [drill] * n)
            await measure(client, f"triage queue (50 of {TRIAGE})", ["/admin/tri"] * n)
            await measure(client, "message in triage", [f"/admin/tri/{first_message}"] * n)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await login(client, "mairie@bench.example")
            await measure(client, "portal home", ["/portail"] * n)
            # with no figures kept (a campaign closed before they were), the first view reads
            # the whole campaign for the national and peer figures, and keeps them: the cost
            # every first view had before they were kept at the close. One request.
            await measure(client, "portal barometer, 1st, none kept", ["/portail/campagnes/1"])

        # what `temoin campaign close` does after closing: compute the figures and keep them
        async with database.session() as s:
            await barometer_figures.forget(s, 1)
            info = await campaign_info(s, campaign_id=1)
        assert info is not None
        start = time.perf_counter()
        assert await ensure_kept(database, info, min_cell=config.min_cell,
                                 strata=config.strata, catalog=None, at=NOW)  # fmt: skip
        figures["close: figures kept"] = ((time.perf_counter() - start) * 1000,) * 2 + (1,)
        async with database.session() as s:
            options = figure_options(stats_bench.CLOSE, config.min_cell, config.strata)
            kept = await barometer_figures.kept(s, 1, options)
        assert kept is not None
        figures["kept bytes"] = len(kept[1])
        firsts = min(n, FIRSTS)

        async def first_views(name: str, login_name: str, path: str) -> None:
            """The first view of ``firsts`` restarted servers (new apps: nothing in memory)."""
            times = []
            for _ in range(firsts):
                fresh = httpx.ASGITransport(app=create_app(database, config, FixedClock(NOW)))
                async with httpx.AsyncClient(transport=fresh, base_url="http://bench") as client:
                    await login(client, login_name)
                    start = time.perf_counter()
                    answer = await client.get(path)
                    times.append((time.perf_counter() - start) * 1000)
                    assert answer.status_code == 200, (path, answer.status_code)
            times.sort()
            p95 = times[max(0, round(0.95 * len(times)) - 1)]
            figures[name] = (statistics.median(times), p95, len(times))

        await first_views("portal barometer, 1st", "mairie@bench.example", "/portail/campagnes/1")
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await login(client, "mairie@bench.example")
            await measure(client, "portal barometer, next", ["/portail/campagnes/1"] * n)

        # the comparison with an earlier campaign: a copy of this one, closed (figures kept)
        earlier = await add_earlier_campaign(database, config)
        before = []
        for _ in range(RECOMPUTED):  # what the fragment did on every load: both campaigns' stats
            start = time.perf_counter()
            for campaign in (earlier, info):
                async with database.session() as s:
                    await compute_stats(
                        s, campaign, ((), ("channel",)), as_of=campaign.closed_at or NOW,
                        min_cell=config.min_cell, strata=config.strata,
                    )  # fmt: skip
            before.append((time.perf_counter() - start) * 1000)
        before.sort()
        figures["comparison, recomputed"] = (
            statistics.median(before),
            before[max(0, round(0.95 * len(before)) - 1)],
            len(before),
        )
        compare = "/admin/campagnes/1/comparaison?fragment=1"
        await first_views("comparison fragment, 1st", "coord@bench.example", compare)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await login(client, "coord@bench.example")
            await measure(client, "comparison fragment, next", [compare] * n)

        bare = []
        for _ in range(n):
            start = time.perf_counter()
            async with database.session() as s:
                (await s.execute(text(
                    "SELECT channel, status, count(*) FROM contact WHERE campaign_id = 1"
                    " GROUP BY channel, status"))).all()  # fmt: skip
            bare.append((time.perf_counter() - start) * 1000)
        figures["bare"] = statistics.median(bare)
        return figures
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            loaded = stats_bench.loaded_campaign(backend, args.pg_url, args.contacts, Path(tmp))
            with loaded as (url, schema):
                add_triage(url, schema, args.contacts)
                print(f"{backend}: loaded {args.contacts:,} contacts and {TRIAGE} triage "
                      f"replies in {time.perf_counter() - start:.1f} s (not timed)")  # fmt: skip
                figures = asyncio.run(timed_pages(url, schema, args.contacts, args.requests))
            load = os.getloadavg()[0]
            bare = figures.pop("bare")
            kept_bytes = figures.pop("kept bytes")
            for name, (p50, p95, count) in figures.items():
                print(f"{backend}: {name:<34} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
                      f"({count} requests)")  # fmt: skip
            print(f"{backend}: the kept national and peer figures take {kept_bytes / 1e6:.1f} MB")
            dashboard = figures["dashboard"][0]
            print(f"{backend}: bare GROUP BY channel, status p50 {bare:.1f} ms; dashboard / bare "
                  f"{dashboard / bare:.1f}x; load {load:.1f} on {os.cpu_count()} CPUs "
                  "(target: dashboard, contact page, triage queue p95 < 200 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
