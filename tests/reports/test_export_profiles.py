"""The excel profile, read back as French Excel would: CSV with ``;`` and a BOM, French
headings, dates ``JJ/MM/AAAA HH:MM``, « oui »/« non », decimal commas; XLSX with French
headings, number formats, widths, a filter and a frozen header. Both backends.
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from reports.export_profiles import column_format, float_fields, header
from reports.export_tables import CONTACT_COLUMNS, stats_columns
from reports.exports import export
from scenarios.i18n import Translator
from storage.db import Database
from tests.reports.statsworld import Fixture, build_campaign
from tests.reports.test_exports import GENERATED, GROUPINGS, PARIS, _expected

FR = Translator("fr")


async def _export(
    database: Database, fx: Fixture, fmt: str, level: str, out: Path, locale: str = "fr"
) -> int:
    async with database.session() as s:
        return await export(
            s, fx.campaign, fmt=fmt, level=level, out=out, generated_at=GENERATED,
            groupings=GROUPINGS, profile="excel", locale=locale,
        )  # fmt: skip


def _read_csv(path: Path, delimiter: str = ";") -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(
        csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=delimiter)
    )


def _number(text: str) -> float:
    assert "." not in text, text  # a decimal comma, never a point
    return float(text.replace(",", "."))


async def test_excel_csv_reads_back_in_french(database: Database, tmp_path: Path) -> None:
    fx = await build_campaign(database)
    _, contacts = await _expected(database, fx)
    out = tmp_path / "contacts.csv"
    assert await _export(database, fx, "csv", "contacts", out) == len(contacts)
    rows = _read_csv(out)
    assert list(rows[0]) == [header(c.name, FR, "contacts") for c in CONTACT_COLUMNS]
    assert "Envoyé le" in rows[0] and "Réponse reçue" in rows[0]
    sidecar = json.loads((tmp_path / "contacts.csv.meta.json").read_text(encoding="utf-8"))
    assert sidecar["profile"] == "excel" and "JJ/MM/AAAA" in sidecar["conventions"]
    assert [c["heading"] for c in sidecar["columns"]] == list(rows[0])
    labels = {"email": "Courriel", "letter": "Courrier", "phone": "Téléphone"}
    labels["visit"] = "Accueil physique"
    for want, got in zip(contacts, rows, strict=True):
        for column in CONTACT_COLUMNS:
            value, text = want[column.name], got[header(column.name, FR, "contacts")]
            if value is None:
                assert text == "", column.name
            elif column.name == "channel":
                assert text == labels[value]
            elif column.name == "status":
                assert text == FR(f"cli.status.{value}")  # « répondu », not "answered"
            elif column.kind == "bool":
                assert text == ("oui" if value else "non"), column.name
            elif column.kind == "datetime":
                shown = datetime.strptime(text, "%d/%m/%Y %H:%M").replace(tzinfo=PARIS)
                assert shown <= value and (value - shown).total_seconds() < 60, column.name
            elif column.kind == "float":
                digits = 0 if "seconds" in column.name else 1
                assert text == f"{value:.{digits}f}".replace(".", ","), column.name
                assert _number(text) == pytest.approx(value, abs=0.5 if digits == 0 else 0.05)
            elif column.kind == "int":
                assert int(text) == value, column.name
    # Monday 2 March 2026, 09:00 UTC = 10:00 in Paris, as Excel reads a date
    first = rows[0]
    assert first["Envoyé le"] == "02/03/2026 10:00"
    assert first["Type de service"] == "État civil" and first["État"] == "répondu"

    out = tmp_path / "stats.csv"
    await _export(database, fx, "csv", "stats", out)
    rows = _read_csv(out)
    email = next(r for r in rows if r["Regroupement"] == "Canal" and r["Canal"] == "Courriel")
    # 5 answers out of 8 delivered emails: 62,5 %, in percentage points with a comma
    assert (email["Réponses"], email["Écrits parvenus"]) == ("5", "8")
    assert email["Taux de réponse (%)"] == "62,5"
    low = _number(email["Taux de réponse (%), borne basse"])
    assert 0 < low < 62.5
    assert email["Faible effectif"] == "non"
    assert {r["Regroupement"] for r in rows} == {"Ensemble", "Canal", "Canal + Strate"}
    for row in rows:
        for name, text in row.items():
            if name.startswith("Note") and text:
                assert len(text.split(",")[-1]) == 1, (name, text)  # a tenth, not 16 digits


async def test_english_excel_csv_keeps_commas_and_points(
    database: Database, tmp_path: Path
) -> None:
    fx = await build_campaign(database)
    out = tmp_path / "stats.csv"
    await _export(database, fx, "csv", "stats", out, locale="en")
    rows = _read_csv(out, delimiter=",")
    email = next(r for r in rows if r["Grouping"] == "Channel" and r["Channel"] == "Email")
    assert email["Response rate (%)"] == "62.5" and email["Small sample"] == "no"


def _cell(sheet: Any, heading: str, row: int = 2) -> Any:
    headings = [c.value for c in sheet[1]]
    return sheet.cell(row=row, column=headings.index(heading) + 1)


async def test_excel_workbook_has_formats_widths_and_filters(
    database: Database, tmp_path: Path
) -> None:
    fx = await build_campaign(database)
    path = tmp_path / "stats.xlsx"
    await _export(database, fx, "xlsx", "stats", path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["README", "Ensemble", "Canal", "Canal + Strate", "Critères"]
    sheet = book["Canal"]
    columns = stats_columns()
    assert [c.value for c in sheet[1]] == [header(c.name, FR) for c in columns]
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(columns))}5"
    assert sheet.column_dimensions["A"].width >= 10
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    names = [c.name for c in columns]
    # channels and groupings in words, as in the CSV
    assert {r[names.index("grouping")] for r in rows} == {"Canal"}
    email_row = next(i for i, r in enumerate(rows, 2) if r[names.index("channel")] == "Courriel")
    rate = _cell(sheet, "Taux de réponse (%)", email_row)
    # a real number (the fraction) shown as a percentage, not the text "62,5 %"
    assert rate.value == 0.625 and rate.number_format == "0.0%" and rate.data_type == "n"
    waits = [
        _cell(sheet, "Attente au guichet (s, médiane)", row) for row in range(2, len(rows) + 2)
    ]
    assert {w.number_format for w in waits if w.value is not None} == {"#,##0"}
    readme = list(book["README"].iter_rows(values_only=True))
    assert ("Colonne", "Intitulé dans le fichier", "Type", "Signification") in readme
    described = {r[0]: r for r in readme if r and r[0] == "response_rate"}
    assert described["response_rate"][1:3] == ("Taux de réponse (%)", "nombre")
    assert book["README"].column_dimensions["D"].width == 90

    path = tmp_path / "contacts.xlsx"
    await _export(database, fx, "xlsx", "contacts", path)
    sheet = openpyxl.load_workbook(path)["Contacts"]
    sent = _cell(sheet, "Envoyé le")
    assert sent.is_date and sent.value == datetime(2026, 3, 2, 10, 0)
    assert sent.number_format == "dd/mm/yyyy hh:mm"
    answer = _cell(sheet, "Délai de réponse (s)")
    assert answer.value == 90000.0 and answer.number_format == "#,##0"
    assert _cell(sheet, "Réponse reçue").value is True  # an Excel boolean (VRAI)
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(CONTACT_COLUMNS))}13"


def test_float_columns_at_once_are_the_converter_of_each_value() -> None:
    rnd = random.Random(5)
    values: list[Any] = [
        rnd.choice(
            [
                None,
                rnd.uniform(-1e6, 1e6),
                rnd.random(),
                rnd.randrange(-(10**6), 10**6),
                rnd.uniform(-1, 1) * 10 ** rnd.randrange(-30, 30),
            ]
        )
        for _ in range(3000)
    ]
    values += [0.0, -0.0, 0.5, 1.5, 2.5, -0.05, float("nan"), float("inf"), -float("inf"), 10**20]
    for locale in ("fr", "en"):
        t = Translator(locale)
        for name in (
            "ack_seconds",
            "criteria_score",
            "response_rate",
            "ack_rate_low",
            "answer_hours_median",
        ):
            text = column_format(name, "float", t).text
            assert text is not None
            fields = float_fields(name, t)
            assert fields(values) == [text(v) for v in values]
            assert fields([]) == []
            assert fields([None]) == [""]
