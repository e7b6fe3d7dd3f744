"""Benchmark: the back office's downloads and the portal's evolution on a large campaign.

    .venv/bin/python bench/web_downloads.py [--contacts 100000] [--backends sqlite,postgresql]
                                            [--pdf-only] [--repeat 3]

For each backend, the campaign of ``bench/stats.py`` (as ``bench/web.py`` loads it, not
timed), then, timed once each through the app (httpx over ASGI, a logged-in coordinator):
the contacts export as CSV and as XLSX (the excel profile, streamed from a temporary file),
the statistics export as XLSX, and a collectivity's evolution page (its account). Baseline,
in the same run: ``reports.exports.export`` of the same CSV straight to a file (what
``temoin export`` does), so the ratio is what the web adds (request, temporary folder,
streaming). Then a collectivity's PDF through the portal (its account, the campaign's figures
already held): the first download (rendered: the app's held PDFs emptied before each of
``--repeat`` runs) and the next ones (held, ``web.pdf_cache``), p50 of each, and their ratio.
``--pdf-only`` skips the exports. Prints seconds, bytes, the ratios and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reports.campaign_stats import shipped_catalog  # noqa: E402
from reports.exports import export  # noqa: E402
from scenarios.clock import FixedClock  # noqa: E402
from storage import backoffice  # noqa: E402
from storage.db import Database  # noqa: E402
from web.app import create_app  # noqa: E402
from web.auth import Passwords  # noqa: E402
from web.config import WebConfig  # noqa: E402
from web.pdf_cache import PdfCache  # noqa: E402


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


web_bench = _load("web")
stats_bench = web_bench.stats_bench
NOW = web_bench.NOW
PASSWORD = web_bench.PASSWORD


async def timed(
    url: str, schema: str | None, pdf_only: bool = False, repeat: int = 3
) -> dict[str, tuple[float, int]]:
    database = Database(url, schema=schema)
    passwords = Passwords(1, 8192, 1)
    figures: dict[str, tuple[float, int]] = {}
    try:
        async with database.session() as s:
            await web_bench.add_accounts(s, passwords)
            campaign = await backoffice.campaign_by_id(s, 1)
            assert campaign is not None
        catalog = shipped_catalog()  # loaded once, before any timing
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            async with database.session() as s:
                await export(
                    s, campaign, fmt="csv", level="contacts", out=Path(tmp) / "c.csv",
                    generated_at=NOW, as_of=campaign.closed_at or NOW, profile="excel",
                    catalog=catalog,
                )  # fmt: skip
            size = (Path(tmp) / "c.csv").stat().st_size
            figures["baseline: export() to a file"] = (time.perf_counter() - start, size)
        config = WebConfig(
            secret_key=secrets.token_urlsafe(40), secure_cookies=False,
            argon2_time_cost=1, argon2_memory_kib=8192, argon2_parallelism=1,
        )  # fmt: skip
        app = create_app(database, config, FixedClock(NOW))
        transport = httpx.ASGITransport(app=app)
        timeout = httpx.Timeout(600)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", timeout=timeout
        ) as client:
            await web_bench.login(client, "coord@bench.example")
            await client.get("/admin")  # warm-up
            for name, path in (
                ()
                if pdf_only
                else (
                    ("contacts CSV", "/admin/campagnes/1/export.csv?niveau=contacts"),
                    ("contacts XLSX", "/admin/campagnes/1/export.xlsx?niveau=contacts"),
                    ("stats XLSX", "/admin/campagnes/1/export.xlsx?niveau=stats"),
                )
            ):
                start = time.perf_counter()
                size = 0
                async with client.stream("GET", path) as answer:
                    assert answer.status_code == 200, (path, answer.status_code)
                    async for chunk in answer.aiter_bytes():
                        size += len(chunk)
                figures[name] = (time.perf_counter() - start, size)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", timeout=timeout
        ) as client:
            await web_bench.login(client, "mairie@bench.example")
            for name in ("evolution, 1st", "evolution, next"):
                start = time.perf_counter()
                answer = await client.get("/portail/evolution")
                assert answer.status_code == 200, answer.status_code
                figures[name] = (time.perf_counter() - start, len(answer.content))
            await client.get("/portail/campagnes/1")  # the campaign's figures held, not timed
            web = app.state.web
            for name, fresh in (("PDF, 1st download p50", True), ("PDF, next download p50", False)):
                seconds, size = [], 0
                for _ in range(repeat):
                    if fresh:
                        web.pdfs = PdfCache()
                    start = time.perf_counter()
                    answer = await client.get("/portail/campagnes/1/rapport.pdf")
                    seconds.append(time.perf_counter() - start)
                    assert answer.status_code == 200, answer.status_code
                    size = len(answer.content)
                figures[name] = (statistics.median(seconds), size)
        return figures
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pdf-only", action="store_true", help="skip the exports")
    parser.add_argument("--repeat", type=int, default=3, help="downloads per PDF figure")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            loaded = stats_bench.loaded_campaign(backend, args.pg_url, args.contacts, Path(tmp))
            with loaded as (url, schema):
                print(f"{backend}: loaded {args.contacts:,} contacts in "
                      f"{time.perf_counter() - start:.1f} s (not timed)")  # fmt: skip
                figures = asyncio.run(timed(url, schema, args.pdf_only, args.repeat))
            for name, (seconds, size) in figures.items():
                print(f"{backend}: {name:<30} {seconds:7.2f} s  {size:>12,} bytes")
            load = f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
            if "contacts CSV" in figures:
                base = figures["baseline: export() to a file"][0]
                print(f"{backend}: contacts CSV through the web / export() to a file "
                      f"{figures['contacts CSV'][0] / base:.2f}x; {load}")  # fmt: skip
            first = figures["PDF, 1st download p50"][0]
            print(f"{backend}: PDF next download / 1st download (rendered) "
                  f"{figures['PDF, next download p50'][0] / first:.4f}x; {load}")  # fmt: skip


if __name__ == "__main__":
    main()
