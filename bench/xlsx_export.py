"""Benchmark: the contacts XLSX writer against the CSV writer, on the same rows.

    .venv/bin/python bench/xlsx_export.py [--contacts 20000] [--profile excel] [--cprofile]

Builds ``--contacts`` contact rows shaped as ``reports.contact_rows`` yields them (values in
``CONTACT_COLUMNS`` order, instants as µs since the epoch, a few repeated texts, some empty
cells, some formula-like names), not timed; then writes them, timed once each, as the
excel-profile CSV (baseline, ``reports.writers.flat_sink``) and as XLSX
(``reports.writers.XlsxBook``) to temporary files. Prints seconds, rows/s, bytes, the
XLSX/CSV ratio and the load average. ``--cprofile`` prints the XLSX run's top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reports.export_profiles import PROFILES  # noqa: E402
from reports.export_tables import CONTACT_COLUMNS  # noqa: E402
from reports.writers import XlsxBook, flat_sink  # noqa: E402
from scenarios.i18n import Translator  # noqa: E402

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_T0 = 1_767_225_600_000_000  # 2026-01-01T00:00Z in µs


def rows(n: int, seed: int = 7) -> list[list[Any]]:
    rng = random.Random(seed)
    names = [f"Mairie de Commune {i}" for i in range(500)] + ['=HYPERLINK("x")', "-3 rue"]
    out = []
    for i in range(n):
        values: list[Any] = []
        for column in CONTACT_COLUMNS:
            if column.name == "contact_id":
                values.append(i + 1)
            elif rng.random() < 0.15 and column.name not in ("channel", "status"):
                values.append(None)
            elif column.name == "channel":
                values.append(rng.choice(("email", "letter", "phone", "visit")))
            elif column.name == "status":
                values.append(rng.choice(("sent", "answered", "acknowledged", "undeliverable")))
            elif column.name == "service_kind":
                values.append(rng.choice(("mairie", "caf", "cpam")))
            elif column.kind == "str":
                values.append(rng.choice(names))
            elif column.kind == "int":
                values.append(rng.randrange(0, 100_000))
            elif column.kind == "float":
                values.append(rng.random() * 500_000)
            elif column.kind == "bool":
                values.append(rng.random() < 0.5)
            else:
                values.append(_T0 + rng.randrange(0, 90 * 86_400_000_000))
        out.append(values)
    return out


def write_csv(data: list[list[Any]], path: Path, profile: str) -> None:
    t = Translator("fr")
    with path.open("wb") as stream:
        sink = flat_sink(
            stream, "csv", CONTACT_COLUMNS, {"level": "contacts"}, PROFILES[profile], t
        )
        for values in data:
            sink.write_values(list(values))
        sink.close()


def write_xlsx(data: list[list[Any]], path: Path, profile: str) -> None:
    t = Translator("fr")
    readme = [["Témoin", "export"], ["=SUM(A1)", 3, None]]
    with path.open("wb") as stream:
        book = XlsxBook(stream, readme, NOW, PROFILES[profile], t)
        sink = book.sheet("Contacts", CONTACT_COLUMNS, "contacts")
        for values in data:
            sink.write_values(list(values))
        book.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--profile", default="excel", choices=sorted(PROFILES))
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args()
    data = rows(args.contacts)
    with tempfile.TemporaryDirectory() as tmp:
        figures = {}
        for name, write in (("csv", write_csv), ("xlsx", write_xlsx)):
            path = Path(tmp) / f"contacts.{name}"
            profiler = cProfile.Profile() if args.cprofile and name == "xlsx" else None
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            write(data, path, args.profile)
            if profiler:
                profiler.disable()
            figures[name] = (time.perf_counter() - start, path.stat().st_size)
            if profiler:
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    for name, (seconds, size) in figures.items():
        print(
            f"{name:5} {args.contacts} rows  {seconds:7.2f} s  "
            f"{args.contacts / seconds:9.0f} rows/s  {size:>11,} bytes"
        )
    print(f"xlsx/csv ratio: {figures['xlsx'][0] / figures['csv'][0]:.2f}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
