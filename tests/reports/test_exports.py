"""Exports read back equal the statistics; re-exports are byte-identical; metadata is there.

Runs on SQLite and PostgreSQL with the fixture campaign of test_stats_db (closed campaign).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import temoin.cli.app
from reports.campaign_stats import compute_stats, contact_records
from reports.export_tables import CONTACT_COLUMNS, Column, contact_row, stats_columns, stats_rows
from reports.exports import HOLIDAYS_VERSION, export
from storage.db import Database
from temoin import __version__
from tests.conftest import DbTarget
from tests.reports.statsworld import CLOSE, Fixture, build_campaign

PARIS = ZoneInfo("Europe/Paris")
GENERATED = datetime(2026, 4, 2, 8, 30, 15, tzinfo=UTC)
LATER = datetime(2026, 4, 9, 14, 45, 59, tzinfo=UTC)
GROUPINGS = ((), ("channel",), ("channel", "stratum"))


def _parse(kind: str, text: str) -> Any:
    if text == "":
        return None
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "bool":
        return {"true": True, "false": False}[text]
    if kind == "datetime":
        return datetime.fromisoformat(text)
    return text


def _same(
    expected: dict[str, Any], got: dict[str, Any], columns: tuple[Column, ...], excel: bool = False
) -> None:
    for column in columns:
        want, have = expected[column.name], got[column.name]
        if excel and isinstance(want, float) and isinstance(have, int | float):
            # Excel numbers have no int/float distinction, and openpyxl writes 16
            # significant digits (Excel keeps 15), not repr's 17
            assert have == pytest.approx(want, rel=1e-15, abs=0.0), column.name
        elif isinstance(want, datetime):
            assert isinstance(have, datetime), column.name
            if have.tzinfo is None:  # Excel: Paris wall clock
                have = have.replace(tzinfo=PARIS)
            assert have == want, column.name
        else:
            assert have == want, (column.name, want, have)
            assert type(have) is type(want), (column.name, want, have)


async def _expected(database: Database, fx: Fixture) -> tuple[list[dict[str, Any]], ...]:
    async with database.session() as s:
        tables = await compute_stats(s, fx.campaign, GROUPINGS, as_of=GENERATED)
        contacts = [
            contact_row(row, facts)
            async for row, facts in contact_records(s, fx.campaign, as_of=GENERATED)
        ]
    return list(stats_rows(tables)), contacts


async def _export(
    database: Database, fx: Fixture, fmt: str, level: str, out: Path, at: datetime
) -> int:
    async with database.session() as s:
        return await export(
            s, fx.campaign, fmt=fmt, level=level, out=out, generated_at=at, groupings=GROUPINGS
        )


def _read(
    fmt: str, path: Path, columns: tuple[Column, ...], sheet: str | None
) -> list[dict[str, Any]]:
    kinds = {c.name: c.kind for c in columns}
    if fmt == "csv":
        with path.open(encoding="utf-8", newline="") as fh:
            return [{k: _parse(kinds[k], v) for k, v in row.items()} for row in csv.DictReader(fh)]
    if fmt == "json":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for row in rows:
            for name, kind in kinds.items():
                if kind == "datetime" and row[name] is not None:
                    row[name] = datetime.fromisoformat(row[name])
        return rows
    if fmt == "parquet":
        return list(pq.read_table(path).to_pylist())
    book = openpyxl.load_workbook(path, read_only=True)
    assert sheet is not None
    values = list(book[sheet].iter_rows(values_only=True))
    book.close()
    header = values[0]
    # read-only sheets drop trailing empty cells: pad them back
    padded = [(*row, *(None,) * (len(header) - len(row))) for row in values[1:]]
    return [dict(zip(header, row, strict=True)) for row in padded]


async def test_exports_read_back_equal_the_statistics(database: Database, tmp_path: Path) -> None:
    fx = await build_campaign(database)
    stats, contacts = await _expected(database, fx)
    # the stats rows hold what the aggregation says, e.g. the email response rate 5/8
    email = next(r for r in stats if r["grouping"] == "channel" and r["channel"] == "email")
    assert (email["answered"], email["written_delivered"], email["response_rate"]) == (5, 8, 0.625)
    assert len(contacts) == 12
    for fmt in ("csv", "json", "parquet", "xlsx"):
        for level, expected, columns in (
            ("stats", stats, stats_columns()),
            ("contacts", contacts, CONTACT_COLUMNS),
        ):
            out = tmp_path / f"{level}.{fmt}"
            count = await _export(database, fx, fmt, level, out, GENERATED)
            if fmt == "xlsx" and level == "stats":
                got: list[dict[str, Any]] = []
                for by in GROUPINGS:
                    got += _read(fmt, out, columns, "+".join(by) or "overall")
            else:
                got = _read(fmt, out, columns, "contacts" if fmt == "xlsx" else None)
            assert len(got) == len(expected), (fmt, level)
            for want, have in zip(expected, got, strict=True):
                _same(want, have, columns, excel=fmt == "xlsx")
            if fmt != "xlsx" or level == "contacts":
                assert count == len(expected)


async def test_metadata_travels_with_every_export(database: Database, tmp_path: Path) -> None:
    fx = await build_campaign(database)
    out = tmp_path / "contacts.parquet"
    await _export(database, fx, "parquet", "contacts", out, GENERATED)
    sidecar = json.loads((tmp_path / "contacts.parquet.meta.json").read_text(encoding="utf-8"))
    assert sidecar["campaign"] == fx.campaign.name
    assert sidecar["generated_at"] == "2026-04-02T10:30:15+02:00"
    assert sidecar["temoin_version"] == __version__
    assert sidecar["holidays_version"] == HOLIDAYS_VERSION
    assert sidecar["rows"] == 12
    described = {c["name"]: c["description"] for c in sidecar["columns"]}
    assert list(described) == [c.name for c in CONTACT_COLUMNS]
    assert described["answered"].startswith("Demande écrite ayant reçu une réponse")
    assert all(text for text in described.values())
    schema = pq.read_schema(out)
    embedded = json.loads(schema.metadata[b"temoin"])
    assert embedded["campaign"] == fx.campaign.name
    assert schema.field("sent_at").metadata[b"description"].decode().startswith("Envoi")
    assert str(schema.field("sent_at").type) == "timestamp[us, tz=Europe/Paris]"

    book_path = tmp_path / "stats.xlsx"
    await _export(database, fx, "xlsx", "stats", book_path, GENERATED)
    book = openpyxl.load_workbook(book_path)
    assert book.sheetnames == ["README", "overall", "channel", "channel+stratum", "criteria"]
    readme = [row for row in book["README"].iter_rows(values_only=True)]
    assert (readme[1][0], readme[1][1]) == ("Campagne", fx.campaign.name)
    assert any(row[0] == "response_rate" for row in readme)
    assert book["channel"].freeze_panes == "A2"
    assert book.properties.created == GENERATED.replace(tzinfo=None)
    contacts_path = tmp_path / "contacts.xlsx"
    await _export(database, fx, "xlsx", "contacts", contacts_path, GENERATED)
    sheet = openpyxl.load_workbook(contacts_path)["contacts"]
    header = [c.value for c in sheet[1]]
    sent = sheet.cell(row=2, column=header.index("sent_at") + 1)
    # Monday 2 March 2026, 09:00 UTC = 10:00 in Paris, as a real Excel date-time
    assert sent.is_date and sent.value == datetime(2026, 3, 2, 10, 0)
    assert sheet.cell(row=2, column=header.index("answer_seconds") + 1).value == 90000.0


def _entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _stamps(at: datetime) -> list[bytes]:
    """How a generation time is written in the exports (metadata, README, workbook)."""
    local = at.astimezone(PARIS).isoformat().encode()
    return [local, at.replace(tzinfo=None).isoformat().encode() + b"Z"]


async def test_reexport_is_byte_identical(database: Database, tmp_path: Path) -> None:
    fx = await build_campaign(database)
    for fmt in ("csv", "json", "parquet", "xlsx"):
        for level in ("contacts", "stats"):
            paths = []
            for run, at in enumerate((GENERATED, GENERATED, LATER)):
                out = tmp_path / f"{run}-{level}.{fmt}"
                await _export(database, fx, fmt, level, out, at)
                paths.append(out)
            first, again, later = (p.read_bytes() for p in paths)
            assert first == again, (fmt, level)
            if fmt != "xlsx":
                meta = [p.with_name(p.name + ".meta.json").read_bytes() for p in paths]
                assert meta[0] == meta[1]
                normalised = meta[2]
                for new, old in zip(_stamps(LATER), _stamps(GENERATED), strict=True):
                    normalised = normalised.replace(new, old)
                assert normalised == meta[0]
            if fmt in ("csv", "json"):
                assert later == first  # the data carry no generation time
            elif fmt == "parquet":
                # the generation time is in the key-value metadata, twice (ours, and base64
                # inside Arrow's serialised schema): compare data and metadata apart
                old_table, new_table = pq.read_table(paths[0]), pq.read_table(paths[2])
                assert new_table.equals(old_table)
                old_meta = pq.read_metadata(paths[0]).metadata[b"temoin"]
                new_meta = pq.read_metadata(paths[2]).metadata[b"temoin"]
                for new, old in zip(_stamps(LATER), _stamps(GENERATED), strict=True):
                    new_meta = new_meta.replace(new, old)
                assert new_meta == old_meta
            else:
                a, b = _entries(paths[0]), _entries(paths[2])
                assert list(a) == list(b)
                for name in a:
                    content = b[name]
                    for new, old in zip(_stamps(LATER), _stamps(GENERATED), strict=True):
                        content = content.replace(new, old)
                    assert content == a[name], name


def test_cli_export_and_stats(
    cli_env: DbTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def build() -> Fixture:
        db = cli_env.database()
        try:
            return await build_campaign(db)
        finally:
            await db.dispose()

    fx = asyncio.run(build())
    runner = CliRunner()
    out = tmp_path / "contacts.csv"
    result = runner.invoke(
        temoin.cli.app.app,
        ["export", fx.campaign.name, "--format", "csv", "--level", "contacts", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "12 lignes écrites dans" in result.output
    # locale fr: the excel profile by default (";", BOM, French headings and labels)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert [r["Canal"] for r in rows].count("Courriel") == 9
    assert (tmp_path / "contacts.csv.meta.json").exists()
    for option in (["--profile", "raw"], []):
        args = ["export", fx.campaign.name, "--format", "csv", "--out", str(out), *option]
        result = runner.invoke(temoin.cli.app.app, args)
        assert result.exit_code == 0, result.output
    # ... unless the settings say English, which the raw profile serves
    monkeypatch.setenv("TEMOIN_LOCALE", "en")
    result = runner.invoke(temoin.cli.app.app, args)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["channel"] for r in rows].count("email") == 9
    monkeypatch.delenv("TEMOIN_LOCALE")
    result = runner.invoke(temoin.cli.app.app, [*args, "--profile", "comma"])
    assert result.exit_code == 2
    assert "--profile\u202f: l’un de excel, raw" in result.output, result.output
    monkeypatch.setenv("TEMOIN_LOCALE", "en")
    result = runner.invoke(temoin.cli.app.app, [*args, "--format", "odt"])
    assert result.exit_code == 2 and "--format: one of csv" in result.output, result.output
    monkeypatch.delenv("TEMOIN_LOCALE")

    result = runner.invoke(
        temoin.cli.app.app, ["stats", fx.campaign.name, "--by", "channel", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["closed_at"] == CLOSE.isoformat()
    (table,) = payload["tables"]
    assert table["by"] == ["channel"]
    email = next(r for r in table["rows"] if r["channel"] == "email")
    assert email["response_rate"] == 0.625
    assert email["small"] is False and email["rank"] is not None
    letter = next(r for r in table["rows"] if r["channel"] == "letter")
    assert letter["small"] is True and letter["rank"] is None  # flagged, never ranked

    result = runner.invoke(
        temoin.cli.app.app, ["stats", fx.campaign.name, "--by", "stratum,channel"]
    )
    assert result.exit_code == 0, result.output
    assert "signalé, non classé" in result.output
    # settings [reports]: min_cell 9 makes the 8 delivered emails a small cell; strata
    monkeypatch.setenv("TEMOIN_REPORTS__MIN_CELL", "9")
    monkeypatch.setenv("TEMOIN_REPORTS__STRATA", "[5000]")
    result = runner.invoke(
        temoin.cli.app.app, ["stats", fx.campaign.name, "--by", "stratum", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["min_cell"] == 9 and payload["strata"] == [5000]
    by_stratum = {r["stratum"]: r["planned"] for r in payload["tables"][0]["rows"]}
    # below 5 000: 1 500, 800 (one email each), 4 200 (email, phone), 2 500 (email,
    # letter), 3 300 (email, bounced email) = 8; 5 000 and more: 5 100 (email, visit),
    # 9 100 and 7 700 (one email each) = 4
    assert by_stratum == {"moins de 5 000 hab.": 8, "5 000 hab. et plus": 4}
    result = runner.invoke(
        temoin.cli.app.app, ["stats", fx.campaign.name, "--by", "channel", "--json"]
    )
    email = next(
        r for r in json.loads(result.output)["tables"][0]["rows"] if r["channel"] == "email"
    )
    assert email["small"] is True and email["rank"] is None
    result = runner.invoke(temoin.cli.app.app, ["stats", "nope"])
    assert result.exit_code == 1
    assert "aucune campagne nommée «\u202fnope\u202f»" in result.output
    result = runner.invoke(temoin.cli.app.app, ["stats", fx.campaign.name, "--by", "colour"])
    assert result.exit_code == 1
