"""``--previous`` for ``temoin stats`` and ``temoin export``: evolution columns, each cell
against the previous campaign's cell with the same keys, read back as a spreadsheet would;
and for ``temoin report`` (national), in the configured language.

Fixture: ``nationalworld`` (worked by hand there): emails answered 25,0 % of the time in
the previous campaign, 60,0 % now: +35,0 points; the letter, the phone call and the visit
did not exist then (no change). By collectivity: Aubière answered both times (no change),
Beaulieu answered now only (+100 points).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import temoin.cli.app
from reports.exports import export
from storage.db import Database
from tests.conftest import DbTarget
from tests.reports.nationalworld import build_national

GENERATED = datetime(2026, 4, 2, 8, 30, tzinfo=UTC)
GROUPINGS = (("channel",), ("collectivity",))
runner = CliRunner()


def _read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))


async def test_export_stats_with_previous(database: Database, tmp_path: Path) -> None:
    fx, previous = await build_national(database)
    csv_out, xlsx_out, json_out, parquet_out = (
        tmp_path / f"stats.{ext}" for ext in ("csv", "xlsx", "json", "parquet")
    )
    async with database.session() as s:
        outputs = (("csv", csv_out, "excel"), ("xlsx", xlsx_out, "excel"),
                   ("json", json_out, "raw"), ("parquet", parquet_out, "raw"))  # fmt: skip
        for fmt, out, profile in outputs:
            await export(
                s, fx.campaign, fmt=fmt, level="stats", out=out, generated_at=GENERATED,
                groupings=GROUPINGS, profile=profile, previous=previous,
            )  # fmt: skip
        with pytest.raises(ValueError, match="stats level only"):
            await export(
                s, fx.campaign, fmt="csv", level="contacts", out=tmp_path / "c.csv",
                generated_at=GENERATED, previous=previous,
            )  # fmt: skip

    # the excel CSV, as French Excel reads it
    rows = _read_csv(csv_out)
    email = next(r for r in rows if r["Canal"] == "Courriel")
    assert email["Taux de réponse, campagne précédente (%)"] == "25,0"
    assert email["Taux de réponse (%)"] == "60,0"
    assert email["Évolution du taux de réponse (points)"] == "35,0"
    letter = next(r for r in rows if r["Canal"] == "Courrier")
    assert letter["Évolution du taux de réponse (points)"] == ""  # no letter then
    # cells matched by their keys, not by their position
    by_code = {r["collectivity"]: r for r in map(json.loads, json_out.read_text().splitlines())
               if r["grouping"] == "collectivity"}  # fmt: skip
    assert by_code["63901"]["change_response_rate"] == 0.0
    assert by_code["63902"]["change_response_rate"] == 1.0
    assert by_code["63905"]["previous_response_rate"] is None  # not asked a year ago
    assert by_code["57"]["previous_score"] is None
    table = pq.read_table(parquet_out).to_pylist()
    email = next(r for r in table if r["channel"] == "email")
    assert email["change_response_rate"] == pytest.approx(0.35)
    meta = json.loads((tmp_path / "stats.json.meta.json").read_text(encoding="utf-8"))
    assert meta["previous_campaign"] == "barometre-2025"
    names = [c["name"] for c in meta["columns"]]
    assert names[-2:] == ["previous_score", "change_score"]
    # XLSX: the change is an Excel number shown as signed percentage points
    book = openpyxl.load_workbook(xlsx_out)
    sheet = book["Canal"]
    headings = [c.value for c in sheet[1]]
    column = headings.index("Évolution du taux de réponse (points)") + 1
    channel = headings.index("Canal") + 1
    cell = next(
        sheet.cell(row=r, column=column)
        for r in range(2, sheet.max_row + 1)
        if sheet.cell(row=r, column=channel).value == "Courriel"
    )
    assert cell.value == pytest.approx(0.35) and cell.number_format == "+0.0%;-0.0%;0.0%"
    readme = [[c.value for c in row] for row in book.worksheets[0].iter_rows()]
    assert ["Campagne précédente", "barometre-2025"] in [row[:2] for row in readme]


def test_cli_stats_and_export_with_previous(
    cli_env: DbTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def build() -> None:
        db = cli_env.database()
        try:
            await build_national(db)
        finally:
            await db.dispose()

    asyncio.run(build())
    monkeypatch.setenv("COLUMNS", "120")
    args = ["stats", "barometre-2026", "--by", "channel", "--previous", "barometre-2025"]
    result = runner.invoke(temoin.cli.app.app, args)
    assert result.exit_code == 0, result.output
    assert "Évolution par rapport à la campagne barometre-2025" in result.output
    email = next(line for line in result.output.splitlines() if line.startswith("│ Courriel"))
    cells = [c.strip() for c in email.split("│")[1:-1]]
    assert cells[-2:] == ["+35,0\u202fpts", "+30,9\u202fpts"], cells
    letter = next(line for line in result.output.splitlines() if line.startswith("│ Courrier"))
    assert [c.strip() for c in letter.split("│")[1:-1]][-2:] == ["–", "–"]

    result = runner.invoke(temoin.cli.app.app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["previous"] == "barometre-2025"
    rows = {r["channel"]: r for r in payload["tables"][0]["rows"]}
    assert rows["email"]["change_response_rate"] == pytest.approx(0.35)
    assert rows["phone"]["previous_phone_pickup_rate"] is None

    out = tmp_path / "stats.csv"
    export_args = ["export", "barometre-2026", "--format", "csv", "--level", "stats", "--by",
                   "channel", "--out", str(out), "--previous", "barometre-2025"]  # fmt: skip
    result = runner.invoke(temoin.cli.app.app, export_args)
    assert result.exit_code == 0, result.output
    email_row = next(r for r in _read_csv(out) if r["Canal"] == "Courriel")
    assert email_row["Évolution du taux de réponse (points)"] == "35,0"
    result = runner.invoke(temoin.cli.app.app, [*export_args[:5], "contacts", *export_args[6:]])
    assert result.exit_code == 2 and "--previous" in result.output
    result = runner.invoke(temoin.cli.app.app, [*args[:-1], "nope"])
    assert result.exit_code == 1 and "nope" in result.output

    monkeypatch.setenv("TEMOIN_LOCALE", "en")
    result = runner.invoke(temoin.cli.app.app, args)
    assert result.exit_code == 0, result.output
    assert "Change from campaign barometre-2025" in result.output
    assert "+35.0\u202fpts" in result.output

    # the national report follows the same locale, and --previous gives its evolution section
    page = tmp_path / "national.html"
    report_args = ["report", "barometre-2026", "--previous", "barometre-2025", "--out", str(page)]
    result = runner.invoke(temoin.cli.app.app, report_args)
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert '<html lang="en">' in html
    assert "Change since the previous campaign (Baromètre 2025)" in html
    assert "+35.0\u202fpts" in html  # the email response rate, as in stats
