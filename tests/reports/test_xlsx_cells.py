"""The XLSX rows written as XML give the values openpyxl itself would write.

``reports.writers`` renders contact rows straight to SpreadsheetML; here its numbers and
instants are checked against openpyxl's own conversions (``safe_string``, ``to_excel`` of
the Paris wall clock), over daylight-saving changes and microseconds, and a sheet read
back through openpyxl."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from openpyxl.compat import safe_string
from openpyxl.utils.datetime import to_excel

from reports.export_profiles import PROFILES
from reports.export_tables import Column
from reports.writers import XlsxBook, _excel_serial, _number
from scenarios.i18n import Translator

PARIS = ZoneInfo("Europe/Paris")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _us(at: datetime) -> int:
    return (at - EPOCH) // timedelta(microseconds=1)


def test_instants_are_openpyxl_serials_of_the_paris_wall_clock() -> None:
    rng = random.Random(3)
    changes = [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)]
    instants = [c + timedelta(seconds=s) for c in changes for s in range(-7200, 7200, 599)]
    instants += [
        datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
    ]
    instants += [EPOCH + timedelta(microseconds=rng.randrange(0, 2**52)) for _ in range(2000)]
    for at in instants:
        expected = safe_string(to_excel(at.astimezone(PARIS).replace(tzinfo=None)))
        assert _excel_serial(_us(at)) == expected, at


def test_numbers_are_written_as_openpyxl_writes_them() -> None:
    rng = random.Random(5)
    values: list[float] = [0, -1, 7, 10**15, 2**53, 2**53 + 1, 10**16 - 1, -(10**17) - 3]
    values += [0.1 + 0.2, 1e-300, -2.5, 1e16, float("nan"), float("inf"), -float("inf")]
    values += [rng.uniform(-1e9, 1e9) for _ in range(500)]
    values += [rng.randrange(-(10**18), 10**18) for _ in range(500)]
    for value in values:
        assert _number(value) == safe_string(value), value


def test_a_sheet_reads_back_through_openpyxl() -> None:
    columns = [Column("contact_id", "int"), Column("sent_at", "datetime")]
    columns += [Column("answered", "bool"), Column("channel", "str")]
    columns += [Column("criteria_missed", "str"), Column("answer_seconds", "float")]
    sent = datetime(2026, 3, 29, 0, 59, 30, 250_000, tzinfo=UTC)
    rows = [
        [1, _us(sent), True, "email", '  =HYPERLINK("x") & <b>\r\n\x07', 3600.5],
        [2, None, False, "letter", None, None],
    ]
    stream = io.BytesIO()
    t = Translator("fr")
    book = XlsxBook(stream, [["Témoin"]], sent, PROFILES["excel"], t)
    sheet = book.sheet("Contacts", columns, "contacts")
    for values in rows:
        sheet.write_values(list(values))
    book.close()
    read = load_workbook(io.BytesIO(stream.getvalue()))["Contacts"]
    got = [[c.value for c in row] for row in read.iter_rows(min_row=2)]
    assert got == [
        [1, datetime(2026, 3, 29, 1, 59, 30, 250_000), True, t("channel.email"),
         "  =HYPERLINK(\"x\") & <b>\n\ufffd", 3600.5],
        [2, None, False, t("channel.letter"), None, None],
    ]  # fmt: skip
    assert read["E2"].data_type == "s"
    assert [read.cell(2, i).number_format for i in (1, 2, 6)] == [
        "0",
        "dd/mm/yyyy hh:mm",
        "#,##0",
    ]
    assert read.freeze_panes == "A2"
    assert read.auto_filter.ref == "A1:F3"
