"""No formula runs in our exports: every text cell a spreadsheet would evaluate is neutralised.

Names from a services CSV and a campaign title from a campaign file are written in every
CSV and XLSX export (contact and stats levels, headers, the README sheet). Read back, no CSV
cell starts like a formula unless behind an apostrophe, and the XLSX holds no formula or
error cell: each hostile text is a plain string cell, with its exact value.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

import temoin.cli.app
from reports.spreadsheet import csv_value, formula_like, xlsx_value
from tests.conftest import DbTarget
from tests.security.hostile import (
    FORMULAS,
    TITLE,
    HostileCampaign,
    build_hostile_campaign,
    spreadsheet_would_evaluate,
)

LEVELS = (("contacts", []), ("stats", ["--by", "collectivity", "--by", "service_kind"]))


def _build(target: DbTarget) -> HostileCampaign:
    async def build() -> HostileCampaign:
        db = target.database()
        try:
            return await build_hostile_campaign(db)
        finally:
            await db.dispose()

    return asyncio.run(build())


def _export(fmt: str, level: str, extra: list[str], out: Path) -> None:
    args = ["export", "hostile", "--format", fmt, "--level", level, "--out", str(out), *extra]
    result = CliRunner().invoke(temoin.cli.app.app, args)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("profile", "delimiter"), [("excel", ";"), ("raw", ",")])
def test_csv_exports_neutralise_every_formula(
    cli_env: DbTarget, tmp_path: Path, profile: str, delimiter: str
) -> None:
    fx = _build(cli_env)
    for level, extra in LEVELS:
        out = tmp_path / f"{level}.csv"
        _export("csv", level, [*extra, "--profile", profile], out)
        text = out.read_bytes().decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        cells = [cell for row in rows for cell in row]
        dangerous = [c for c in cells if spreadsheet_would_evaluate(c)]
        assert dangerous == [], level
        # a coordinator still reads each name, a formula behind one apostrophe
        for name in {*fx.names} if level == "contacts" else FORMULAS:
            shown = "'" + name if spreadsheet_would_evaluate(name) else name
            assert shown in cells, (level, name)


def test_xlsx_exports_hold_no_formula_and_the_exact_texts(
    cli_env: DbTarget, tmp_path: Path
) -> None:
    fx = _build(cli_env)
    for level, extra in LEVELS:
        out = tmp_path / f"{level}.xlsx"
        _export("xlsx", level, extra, out)
        with zipfile.ZipFile(out) as book:
            for name in book.namelist():
                if name.startswith("xl/worksheets/"):
                    xml = book.read(name).decode("utf-8")
                    assert not re.search(r"<f[ >]", xml), (level, name)
                    assert 't="e"' not in xml, (level, name)
        workbook = openpyxl.load_workbook(out, read_only=True)
        texts = {
            cell.value
            for sheet in workbook.worksheets
            for row in sheet.iter_rows()
            for cell in row
            if isinstance(cell.value, str)
        }
        workbook.close()
        # the README sheet's campaign title, and every name, exactly as given
        expected = {*fx.names} if level == "contacts" else {*FORMULAS}
        # (XML reads a carriage return back as a line feed)
        missing = {n for n in expected | {TITLE} if n.replace("\r", "\n") not in texts}
        assert missing == set(), level


@pytest.mark.parametrize("text", FORMULAS[:-1])
def test_formula_like_texts_are_recognised(text: str) -> None:
    assert formula_like(text)
    assert csv_value(text) == "'" + text


@pytest.mark.parametrize("value", ["Mairie", "État civil", "2026-03-02", "a=b", "", "'=déjà"])
def test_plain_texts_are_left_alone(value: str) -> None:
    assert not formula_like(value)
    assert csv_value(value) == value


@pytest.mark.parametrize("number", [-3.5, -1, 0, 2.25])
def test_numbers_stay_numbers(number: float) -> None:
    assert csv_value(number) == number
    sheet = Workbook(write_only=True).create_sheet("x")
    assert xlsx_value(sheet, number) == number


def test_xlsx_text_cells_are_strings_even_with_control_characters() -> None:
    sheet = Workbook(write_only=True).create_sheet("x")
    cell = xlsx_value(sheet, "=1+1\x07")
    assert cell.data_type == "s" and cell.value == "=1+1\ufffd"
