"""Where the statistics' time goes: the stages of ``storage.cell_stats`` timed one by one.

    .venv/bin/python bench/stats_profile.py [--contacts 200000] [--backends postgresql,sqlite]
        [--explain]

Loads the synthetic campaign of ``bench/stats.py`` (not timed), loads the business-day
table as the statistics do, then times, best of three, each one query:

- ``bare``: the baseline GROUP BY of ``bench/stats.py``;
- ``contacts``: the facts' base (contact ⋈ service ⋈ collectivity, the stored columns),
  counted;
- ``facts``: the whole per-contact facts SELECT (windows, clamps, business days), counted;
- ``cells``: the cells' GROUP BY as the statistics run it (counts and packed samples).

Each stage is printed with its wall time and CPU time (this process's for SQLite, the
PostgreSQL backend's read from /proc: the server must run on this machine), the best of
three each: on a shared machine the CPU time is the steadier figure.

``--explain`` prints PostgreSQL's EXPLAIN ANALYZE of the full query.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import BARE_PG, BARE_SQLITE, CLOSE, loaded_campaign
from reports.campaign_stats import shipped_catalog
from reports.db_stats import load_calendar, targets_of
from storage import cell_stats
from storage.business_days import day_arrays
from storage.contact_facts import facts_sql
from storage.db import Database
from storage.stats import campaign_info

STRATA = (2000, 10000, 50000)


def _cpu(pid: int | None) -> float:
    """CPU seconds of this process (SQLite runs in it) or of the PostgreSQL backend
    ``pid`` (same machine): unlike wall time, not inflated by a loaded machine."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _us(at: datetime) -> int:
    return (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


async def profile(url: str, schema: str | None, backend: str, explain: bool) -> None:
    database = Database(url, schema=schema)
    try:
        async with database.session() as s:
            info = await campaign_info(s, "bench")
            assert info is not None
            await load_calendar(s, info, CLOSE)
            targets = targets_of(shipped_catalog())
            facts, params = facts_sql(
                backend,
                campaign_id=info.id,
                as_of_us=_us(CLOSE),
                campaign_closed_us=_us(info.closed_at) if info.closed_at else None,
                strata=STRATA,
                targets=targets,
                days=day_arrays(s),
            )
            base = facts.split("\n)\nSELECT", 1)[0].split("base AS (", 1)[1]
            with_cte = facts.split("base AS (", 1)[0]
            cells_sql = None
            original = s.execute

            async def capture(statement, parameters=None, *a, **k):  # type: ignore[no-untyped-def]
                nonlocal cells_sql
                if " AS cls" in str(statement):
                    cells_sql = str(statement)
                return await original(statement, parameters, *a, **k)

            s.execute = capture  # type: ignore[method-assign]
            await cell_stats.cell_aggregates(
                s,
                campaign_id=info.id,
                by=("channel", "stratum"),
                as_of_us=_us(CLOSE),
                campaign_closed_us=_us(info.closed_at) if info.closed_at else None,
                strata=STRATA,
                targets=targets,
                timing_weights=(1.0, 1.0),
            )
            s.execute = original  # type: ignore[method-assign]
            assert cells_sql is not None
            stages = {
                "bare": (BARE_PG if backend == "postgresql" else BARE_SQLITE, {}),
                "contacts": (f"{with_cte}b AS ({base}) SELECT COUNT(*) FROM b", params),
                "facts": (f"SELECT COUNT(*) FROM ({facts}) f", params),
                "cells": (cells_sql, params),
            }
            if backend == "postgresql":  # as cell_aggregates runs it
                await s.execute(text("SET LOCAL enable_sort = off"))
            pid = None
            if backend == "postgresql":
                pid = await s.scalar(text("SELECT pg_backend_pid()"))
                # parallel workers' CPU is not the backend's: one process for every stage
                # (the statistics themselves use workers, as the bare GROUP BY does; this
                # splits the total work, not the wall time)
                await s.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
            for name, (sql, p) in stages.items():
                best, best_cpu = float("inf"), float("inf")
                for _ in range(3):
                    start, cpu = time.perf_counter(), _cpu(pid)
                    (await s.execute(text(sql), p)).all()
                    best = min(best, time.perf_counter() - start)
                    best_cpu = min(best_cpu, _cpu(pid) - cpu)
                print(
                    f"{backend}: {name:9s} {best:6.2f} s, CPU {best_cpu:6.2f} s"
                    f" (load {os.getloadavg()[0]:.1f})"
                )
            if explain and backend == "postgresql":
                plan = await s.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {cells_sql}"), params)
                print("\n".join(r[0] for r in plan.all()))
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            loaded = loaded_campaign(backend, args.pg_url, args.contacts, Path(tmp), "prof")
            with loaded as (url, schema):
                asyncio.run(profile(url, schema, backend, args.explain))


if __name__ == "__main__":
    main()
