"""Benchmark: the contact CSV export alone, on a campaign loaded once and kept.

    .venv/bin/python bench/contact_export.py --contacts 1000000 --load bench_export_1m
    .venv/bin/python bench/contact_export.py --schema bench_export_1m [--code ../other]
    .venv/bin/python bench/contact_export.py --schema bench_export_1m --drop

``--load NAME`` creates PostgreSQL schema NAME (or, with ``--backend sqlite``, the SQLite file
NAME) with ``bench/stats.py``'s synthetic campaign (not timed) and keeps it, so that the
export of two versions of the code can be timed on the same data in the same minutes:
``--code DIR`` imports Témoin from another worktree (the baseline), this one by default.

Timed: ``reports.exports.export`` of the contacts level as CSV, ``raw`` then ``excel``
profile; printed with the CPU time of this process, the peak resident memory (VmHWM, reset
before each run), the load average, and with ``--cprofile`` the top functions. The ratio to
a baseline is the ratio of two runs of this script (``--code``), side by side. Target at
1 M contacts: under 30 s and 500 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import os
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLOSE = datetime(2026, 4, 30, 18, 0, tzinfo=UTC)  # bench/stats.py's campaign close


def peak_mb() -> float:
    """Peak resident memory since the last ``reset_peak`` (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def _cpu_of(pid: int | None) -> float:
    """CPU seconds (user + system) of process ``pid`` (the PostgreSQL backend), 0 if none."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--load", metavar="NAME", help="load a campaign into NAME and keep it")
    parser.add_argument("--schema", metavar="NAME", help="export the campaign kept in NAME")
    parser.add_argument("--drop", action="store_true", help="drop NAME (--schema) and stop")
    parser.add_argument("--code", type=Path, default=HERE.parent, help="Témoin's worktree")
    parser.add_argument("--profiles", default="raw,excel")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--keep-output", type=Path, help="copy each file into this directory")
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))

    from sqlalchemy import create_engine, text

    from storage.db import sync_url

    name = args.load or args.schema
    if name is None:
        parser.error("--load NAME or --schema NAME")
    if args.drop:
        if args.backend == "sqlite":
            Path(name).unlink(missing_ok=True)
        else:
            admin = create_engine(sync_url(args.pg_url))
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            admin.dispose()
        return
    if args.load:
        sys.path.insert(1, str(HERE))
        import stats as loader  # bench/stats.py: the same synthetic campaign

        start = time.perf_counter()
        if args.backend == "sqlite":
            loader.load_sqlite(Path(name), args.contacts)
        else:
            admin = create_engine(sync_url(args.pg_url))
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{name}"'))
            admin.dispose()
            loader.load_postgresql(args.pg_url, name, args.contacts)
        print(f"loaded {args.contacts:,} contacts into {name} in "
              f"{time.perf_counter() - start:.1f} s (not timed)")  # fmt: skip
        return
    if args.backend == "sqlite":
        name = str(Path(name).resolve())
    asyncio.run(run(args, name))


_GC = {"s": 0.0, "n": 0, "start": 0.0}


def _gc_timer(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _GC["start"] = time.process_time()
    else:
        _GC["s"] += time.process_time() - _GC["start"]
        _GC["n"] += 1
        if info["generation"] == 2:
            _GC["full"] = _GC.get("full", 0) + 1
            _GC["full_s"] = _GC.get("full_s", 0.0) + time.process_time() - _GC["start"]


async def run(args: argparse.Namespace, name: str) -> None:
    import gc

    gc.callbacks.append(_gc_timer)
    from sqlalchemy import text

    from reports.exports import export
    from storage.db import Database
    from storage.stats import campaign_info

    if args.backend == "sqlite":
        database = Database(f"sqlite:///{name}")
    else:
        database = Database(args.pg_url, schema=name)
    try:
        async with database.session() as s:
            info = await campaign_info(s, "bench")
        assert info is not None
        with tempfile.TemporaryDirectory() as tmp:
            for profile in args.profiles.split(","):
                out = Path(tmp) / f"contacts-{profile}.csv"
                profiler = cProfile.Profile(time.process_time) if args.cprofile else None
                reset_peak()
                _GC.update(s=0.0, n=0, full=0, full_s=0.0)
                start, cpu = time.perf_counter(), time.process_time()
                if profiler is not None:
                    profiler.enable()
                async with database.session() as s:
                    backend = None
                    if args.backend == "postgresql":
                        backend = (await s.execute(text("SELECT pg_backend_pid()"))).scalar()
                    db_cpu = -_cpu_of(backend)
                    rows = await export(
                        s, info, fmt="csv", level="contacts", out=out, generated_at=CLOSE,
                        profile=profile,
                    )  # fmt: skip
                    db_cpu += _cpu_of(backend)
                if profiler is not None:
                    profiler.disable()
                wall, used = time.perf_counter() - start, time.process_time() - cpu
                # the peak before the digest, which reads the file by blocks (read whole,
                # a 300 MB file at 1 M contacts was most of the peak once reported)
                peak = peak_mb()
                with out.open("rb") as written:
                    digest = hashlib.file_digest(written, "sha256").hexdigest()[:16]
                where = sys.modules["reports.exports"].__file__
                print(
                    f"{args.backend} {profile}: {rows:,} rows in {wall:.1f} s (CPU {used:.1f} s, "
                    f"database server CPU {db_cpu:.1f} s, garbage collector {_GC['s']:.1f} s in "
                    f"{_GC['n']} runs, {_GC.get('full', 0)} full ones "
                    f"{_GC.get('full_s', 0):.1f} s),"
                    f" peak {peak:.0f} MB, load {os.getloadavg()[0]:.1f} on "
                    f"{os.cpu_count()} CPUs, {out.stat().st_size / 1e6:.0f} MB sha256 {digest}"
                    f"  [{where}]"
                )
                if args.keep_output is not None:
                    args.keep_output.mkdir(parents=True, exist_ok=True)
                    out.replace(args.keep_output / out.name)
                if profiler is not None:
                    profiler.dump_stats(f"/tmp/exp/{profile}.prof")
                    stats = pstats.Stats(profiler)
                    stats.sort_stats("tottime").print_stats(18)
    finally:
        await database.dispose()


if __name__ == "__main__":
    main()
