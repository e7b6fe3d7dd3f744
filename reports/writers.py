"""The export files, written as rows come: CSV, JSON lines, Parquet, XLSX.

Writers stream: CSV and JSON lines are written as rows come, XLSX with openpyxl's
write-only mode, Parquet with a ``ParquetWriter`` in row groups of ``ROW_GROUP`` rows, so a
million contacts take constant memory. Contact rows may come as values in column order
with instants as integer microseconds (``Sink.write_values``, or a partition's columns:
``Sink.write_columns``, from ``reports.contact_rows``), which each writer renders; the CSV
sink turns each column into its fields at once and joins the rows itself (the bytes the
csv module writes: ``tests/reports/test_contact_rows.py``).

Values below are the ``raw`` profile's (for scripts). The ``excel`` profile
(``reports.export_profiles``, the default for French readers) changes the CSV (``;``, BOM,
headings, labels, ``JJ/MM/AAAA HH:MM``, « oui »/« non », rounded decimal commas) and the
XLSX headings and labels; XLSX values stay numbers and dates under number formats.

Values, the same in every format (documented in each export's metadata):

- instants: shown in Europe/Paris. CSV and JSON: ISO 8601 with the UTC offset
  (``2026-03-02T10:15:00+01:00``); XLSX: real Excel date-times holding the Paris wall-clock
  time (Excel has no time zones); Parquet: ``timestamp[us, tz=Europe/Paris]`` (UTC inside).
- numbers: integers as integers; floats written with Python's shortest round-trip ``repr``
  (CSV, JSON), as doubles (Parquet), as Excel numbers (XLSX: openpyxl writes 16
  significant digits, Excel shows 15). Rates are fractions in [0, 1].
- booleans: ``true``/``false`` (CSV, JSON), Excel booleans, Parquet booleans; missing
  values are empty (CSV), ``null`` (JSON, Parquet) or empty cells (XLSX).

Text cells a spreadsheet would run (``=…``, ``+…``, ``-…``, ``@…``) are neutralised in every
CSV and XLSX, headers and README included (``reports.spreadsheet``: an apostrophe in CSV, a
string cell in XLSX). The writers write to a stream they are given (``reports.outputs``
opens it); the XLSX workbook's properties and zip entry times are set to the generation
time, so two workbooks of the same rows at the same time are byte-identical.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import IO, Any, Final
from zoneinfo import ZoneInfo

from reports.cells import RowValue
from reports.contact_rows import paris_text, paris_texts, utc_datetime
from reports.export_profiles import (
    PROFILES,
    Profile,
    column_format,
    converters,
    float_fields,
    header,
    local_texts,
)
from reports.export_tables import Column
from reports.spreadsheet import csv_value, xlsx_text_cell, xlsx_text_xml, xlsx_value
from reports.version import temoin_version
from scenarios.i18n import Translator

__all__ = ["ROW_GROUP", "Sink", "XlsxBook", "XlsxSheet", "flat_sink"]

PARIS: Final = ZoneInfo("Europe/Paris")
ROW_GROUP: Final = 50_000
_HOUR_US: Final = 3_600_000_000


def _jsonable(value: RowValue | datetime) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(PARIS).isoformat()
    return value


class Sink:
    """A table being written, one row at a time."""

    rows = 0
    _columns: Sequence[Column] = ()

    def write(self, row: dict[str, Any]) -> None:
        raise NotImplementedError

    def write_values(self, values: list[Any]) -> None:
        """One contact row: values in column order, instants as µs since the epoch (UTC)."""
        self.write(_with_datetimes(self._columns, values))

    def write_columns(self, columns: Sequence[Sequence[Any]]) -> None:
        """Contact rows a partition at a time: one sequence per column (``write_values``'
        values, column-wise)."""
        for values in zip(*columns, strict=True):
            self.write_values(list(values))

    def close(self) -> None:
        raise NotImplementedError


def _with_datetimes(columns: Sequence[Column], values: list[Any]) -> dict[str, Any]:
    return {
        c.name: utc_datetime(v) if c.kind == "datetime" and v is not None else v
        for c, v in zip(columns, values, strict=True)
    }


def _bool_text(value: bool | None) -> str:
    return "" if value is None else "true" if value else "false"


def _datetime_text(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(PARIS).isoformat()


# Distinct texts remembered by a CSV sink (``_CsvSink.write_values``), then forgotten.
_SEEN_TEXTS: Final = 100_000


def _us_text(value: int | None) -> str:
    return "" if value is None else paris_text(value)


class _CsvSink(Sink):
    """The csv module writes ``None`` as an empty field and numbers with ``repr``: only
    booleans and instants need converting, and texts neutralising (``csv_value``)."""

    def __init__(
        self,
        stream: IO[bytes],
        columns: Sequence[Column],
        profile: Profile = PROFILES["raw"],
        t: Translator | None = None,
        level: str = "stats",
    ) -> None:
        t = t or Translator("fr")
        self._columns = columns
        self._names = [c.name for c in columns]
        self._texts = [index for index, c in enumerate(columns) if c.kind == "str"]
        self._neutralised: dict[str, str] = {}
        if profile.readable:
            # texts are neutralised first, then codes become labels (from the catalogue)
            shown = converters([(c.name, c.kind) for c in columns], t)
            self._converted = self._converted_us = shown
            names = [header(c.name, t, level) for c in columns]
        else:
            self._converted = [
                (index, _bool_text if c.kind == "bool" else _datetime_text)
                for index, c in enumerate(columns)
                if c.kind in ("bool", "datetime")
            ]
            self._converted_us = [
                (index, _bool_text if c.kind == "bool" else _us_text)
                for index, c in enumerate(columns)
                if c.kind in ("bool", "datetime")
            ]
            names = self._names
        self._fh = io.TextIOWrapper(
            stream, encoding=profile.encoding(), newline="", write_through=False
        )
        # CRLF as RFC 4180 has it: the csv module then quotes a field holding a lone "\r",
        # which a spreadsheet would otherwise read as the end of a row (and the rest of the
        # field as a new row's first cell, past any neutralising).
        self._writer = csv.writer(
            self._fh, delimiter=profile.delimiter(t.locale), lineterminator="\r\n"
        )
        self._writer.writerow([csv_value(name) for name in names])
        self._delimiter = profile.delimiter(t.locale)
        self._texts_of = [self._column_text(c, profile, t) for c in columns]

    def write(self, row: dict[str, Any]) -> None:
        values = [row[name] for name in self._names]
        for index in self._texts:
            values[index] = csv_value(values[index])
        for index, convert in self._converted:
            values[index] = convert(values[index])
        self._writer.writerow(values)
        self.rows += 1

    def write_values(self, values: list[Any]) -> None:
        # Contact rows repeat the same few texts (channels, statuses, scenarios, the names
        # of a few thousand collectivities): each distinct one is neutralised once.
        seen = self._neutralised
        for index in self._texts:
            value = values[index]
            if not isinstance(value, str):
                continue  # csv_value leaves anything but a text as it is
            shown = seen.get(value)
            if shown is None:
                shown = csv_value(value)
                if len(seen) >= _SEEN_TEXTS:
                    seen.clear()
                seen[value] = shown
            values[index] = shown
        for index, convert in self._converted_us:
            values[index] = convert(values[index])
        self._writer.writerow(values)
        self.rows += 1

    def write_columns(self, columns: Sequence[Sequence[Any]]) -> None:
        """``write_values`` of every row, a column at a time: each column becomes its CSV
        fields (the same text the csv module writes for ``write_values``' cells, quoted
        where it must be), then the rows are joined and written at once."""
        if not columns or not columns[0]:
            return
        fields = [text(column) for text, column in zip(self._texts_of, columns, strict=True)]
        self._fh.write("\r\n".join(map(self._delimiter.join, zip(*fields, strict=True))))
        self._fh.write("\r\n")
        self.rows += len(columns[0])

    def _column_text(
        self, column: Column, profile: Profile, t: Translator
    ) -> Callable[[Sequence[Any]], list[str]]:
        """How one column's values become CSV fields (``write_columns``)."""
        shown = column_format(column.name, column.kind, t) if profile.readable else None
        if column.kind == "str":
            # Texts repeat (codes, a few thousand names): each distinct one is neutralised,
            # labelled and quoted once.
            label = shown.text if shown is not None else None
            return _TextFields(self._delimiter, label)
        if column.kind == "datetime":
            return local_texts if profile.readable else paris_texts
        if column.kind == "bool":
            yes, no = (t("report.value.yes"), t("report.value.no")) if shown else ("true", "false")
            return lambda values: ["" if v is None else yes if v else no for v in values]
        if column.kind == "float" and shown is not None:
            return float_fields(column.name, t)
        if shown is not None and shown.text is not None:
            return partial(_mapped, shown.text)
        return _NumberFields() if column.kind == "int" else _plain

    def close(self) -> None:
        self._fh.flush()
        self._fh.detach()  # the stream belongs to open_output, which closes it


def _mapped(text: Callable[[Any], str], values: Sequence[Any]) -> list[str]:
    return list(map(text, values))


def _plain(values: Sequence[Any]) -> list[str]:
    """Numbers as the csv module writes them (``str``, the shortest round-trip for a float;
    nothing for ``None``)."""
    if None in values:
        return ["" if v is None else str(v) for v in values]
    return list(map(str, values))


class _NumberFields(dict[Any, str]):
    """An integer column's CSV fields (``_plain``'s), remembered per distinct value while
    values repeat (codes, counts, business days: a lookup where ``str`` would build each
    text again); once a partition brings more new values than known ones (identifiers),
    ``_plain`` for the rest of the export. Integers only: a float equal to an integer
    would find the integer's text (``1.0`` written ``1``)."""

    def __init__(self) -> None:
        super().__init__({None: ""})
        self._repeating = True

    def __call__(self, values: Sequence[Any]) -> list[str]:
        if not self._repeating:
            return _plain(values)
        known = len(self)
        texts = list(map(self.__getitem__, values))
        if (len(self) - known) * 2 > len(values):
            self._repeating = False
            self.clear()
        elif len(self) >= _SEEN_TEXTS:
            self.clear()
            self[None] = ""
        return texts

    def __missing__(self, value: Any) -> str:
        text = self[value] = str(value)
        return text


_QUOTED: Final = frozenset('"\r\n')


class _TextFields(dict[Any, str]):
    """A text column's CSV fields, remembered per distinct value (``_SEEN_TEXTS`` at most):
    neutralised (``csv_value``), then labelled (excel profile), then quoted as the csv module
    quotes (a delimiter, a quote, CR or LF inside; quotes doubled)."""

    def __init__(self, delimiter: str, label: Callable[[Any], Any] | None) -> None:
        super().__init__()
        self._special = _QUOTED | {delimiter}
        self._label = label

    def __call__(self, values: Sequence[Any]) -> list[str]:
        if len(self) >= _SEEN_TEXTS:
            self.clear()
        return list(map(self.__getitem__, values))

    def __missing__(self, value: Any) -> str:
        shown = csv_value(value)
        if self._label is not None:
            shown = self._label(shown)
        text = "" if shown is None else str(shown)
        if not self._special.isdisjoint(text):
            text = '"' + text.replace('"', '""') + '"'
        self[value] = text
        return text


class _JsonSink(Sink):
    def __init__(self, stream: IO[bytes], columns: Sequence[Column]) -> None:
        self._columns = columns
        self._names = [c.name for c in columns]
        self._datetimes = [i for i, c in enumerate(columns) if c.kind == "datetime"]
        self._fh = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")

    def write(self, row: dict[str, Any]) -> None:
        record = {name: _jsonable(row[name]) for name in self._names}
        self._fh.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.rows += 1

    def write_values(self, values: list[Any]) -> None:
        for index in self._datetimes:
            if values[index] is not None:
                values[index] = paris_text(values[index])
        record = dict(zip(self._names, values, strict=True))
        self._fh.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.rows += 1

    def close(self) -> None:
        self._fh.flush()
        self._fh.detach()


class _ParquetSink(Sink):
    def __init__(self, stream: IO[bytes], columns: Sequence[Column], meta: dict[str, Any]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa = pa
        types = {
            "str": pa.string(),
            "int": pa.int64(),
            "float": pa.float64(),
            "bool": pa.bool_(),
            "datetime": pa.timestamp("us", tz="Europe/Paris"),
        }
        described = {c["name"]: c["description"] for c in meta["columns"]}
        self._schema = pa.schema(
            [
                pa.field(c.name, types[c.kind], metadata={"description": described[c.name]})
                for c in columns
            ],
            metadata={"temoin": json.dumps(meta, ensure_ascii=False, sort_keys=True)},
        )
        self._columns = columns
        self._names = [c.name for c in columns]
        self._batch: dict[str, list[Any]] = {name: [] for name in self._names}
        self._pending = 0
        self._writer = pq.ParquetWriter(stream, self._schema)

    def _flush(self) -> None:
        table = self._pa.table(self._batch, schema=self._schema)
        self._writer.write_table(table, row_group_size=ROW_GROUP)
        for values in self._batch.values():
            values.clear()
        self._pending = 0

    def write(self, row: dict[str, Any]) -> None:
        for name in self._names:
            self._batch[name].append(row[name])
        self._pending += 1
        self.rows += 1
        if self._pending == ROW_GROUP:
            self._flush()

    def close(self) -> None:
        if self._pending or self.rows == 0:
            self._flush()
        self._writer.close()


class XlsxBook:
    """A write-only workbook: README first, then one sheet per table (bold frozen header,
    an autofilter over the rows written, column widths; numbers and dates through number
    formats: rates as percentages, seconds as whole numbers, instants as dates).

    Every text cell is a string cell (``reports.spreadsheet``), never a formula."""

    def __init__(
        self,
        stream: IO[bytes],
        readme: list[list[Any]],
        generated_at: datetime,
        profile: Profile = PROFILES["raw"],
        t: Translator | None = None,
    ) -> None:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        self._stream = stream
        self._generated_at = generated_at
        self._profile = profile
        self._t = t or Translator("fr")
        self._book = Workbook(write_only=True)
        stamp = generated_at.astimezone(UTC).replace(tzinfo=None, microsecond=0)
        self._book.properties.created = stamp
        self._book.properties.modified = stamp
        self._book.properties.creator = f"Témoin {temoin_version()}"
        self._bold = Font(bold=True)
        self._sheets: list[XlsxSheet] = []
        info = self._book.create_sheet("README")
        for width, letter in zip((34, 34, 12, 90), "ABCD", strict=True):
            info.column_dimensions[letter].width = width
        for line in readme:
            info.append([xlsx_value(info, value) for value in line])
        self.rows = 0

    def sheet(self, title: str, columns: Sequence[Column], level: str = "stats") -> XlsxSheet:
        from openpyxl.utils import get_column_letter

        sheet = self._book.create_sheet(title)
        sheet.freeze_panes = "A2"
        header_row = []
        formats: list[str | None] = []
        labels: dict[str, Callable[[Any], str]] = {}
        for index, column in enumerate(columns, start=1):
            shown = column_format(column.name, column.kind, self._t)
            name = column.name
            if self._profile.readable:
                name = header(column.name, self._t, level)
                formats.append(shown.number_format)
                if column.kind == "str" and shown.text is not None:
                    labels[column.name] = shown.text  # codes as words: « Courriel »
            else:
                raw_date = column.kind == "datetime"
                formats.append("yyyy-mm-dd hh:mm:ss" if raw_date else shown.number_format)
            sheet.column_dimensions[get_column_letter(index)].width = shown.width
            cell = xlsx_text_cell(sheet, name)
            cell.font = self._bold
            header_row.append(cell)
        sheet.append(header_row)
        out = XlsxSheet(self, sheet, columns, formats, labels)
        self._sheets.append(out)
        return out

    def close(self) -> None:
        from openpyxl.utils import get_column_letter

        for sheet in self._sheets:
            last = get_column_letter(max(1, len(sheet._columns)))
            sheet._sheet.auto_filter.ref = f"A1:{last}{sheet.rows + 1}"
        # openpyxl writes the whole zip on save: into an anonymous temporary file (no name
        # anyone could plant a link at), then copied with normalised entries into the output.
        with tempfile.TemporaryFile() as raw:
            self._book.save(raw)
            raw.seek(0)
            rows: dict[str, Callable[[bytes], bytes]] = {
                s._sheet.path.lstrip("/"): s._spliced for s in self._sheets
            }
            _normalise_zip(raw, self._stream, self._generated_at, rows)


class XlsxSheet(Sink):
    """One sheet's data rows, rendered straight to SpreadsheetML (``<row>`` elements) into a
    temporary file, spliced after the header row when the book is saved: openpyxl spends
    ~30 µs a cell building and serialising a cell object, this ~1 µs. The XML is what
    openpyxl writes for the same values (``reports.spreadsheet.xlsx_text_xml``: texts as
    inline strings, never formulas; numbers ``%.16g``; instants as Excel serials at the
    Paris wall clock), each column's number format a style registered once."""

    def __init__(
        self,
        book: XlsxBook,
        sheet: Any,
        columns: Sequence[Column],
        formats: Sequence[str | None] = (),
        labels: dict[str, Callable[[Any], str]] | None = None,
    ) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.utils import get_column_letter

        self._book = book
        self._sheet = sheet
        self._columns = columns
        self._names = [c.name for c in columns]
        self._kinds = [c.kind for c in columns]
        self._labels = [(labels or {}).get(name) for name in self._names]
        self._letters = [get_column_letter(index) for index in range(1, len(columns) + 1)]
        self._styles: list[str] = []
        padded = [*formats, *[None] * (len(columns) - len(formats))]
        for kind, number_format in zip(self._kinds, padded, strict=True):
            if kind == "datetime":
                number_format = number_format or "yyyy-mm-dd hh:mm:ss"
            if number_format is None or kind in ("bool", "str"):
                self._styles.append("")
                continue
            template = WriteOnlyCell(sheet)  # registers the format and cell style once
            template.number_format = number_format
            self._styles.append(f' s="{template.style_id}"')
        self._texts: dict[str, str] = {}
        # closed once spliced (``_spliced``), else when collected
        self._rows: IO[bytes] = tempfile.TemporaryFile(buffering=1 << 20)  # noqa: SIM115
        self.rows = 0

    def write(self, row: dict[str, Any]) -> None:
        self._write([row[name] for name in self._names], us=False)

    def write_values(self, values: list[Any]) -> None:
        self._write(values, us=True)

    def _write(self, values: list[Any], us: bool) -> None:
        index = self.rows + 2  # row 1 is the header
        parts = [f'<row r="{index}">']
        add = parts.append
        texts = self._texts
        for value, kind, letter, style, label in zip(
            values, self._kinds, self._letters, self._styles, self._labels, strict=True
        ):
            if value is None:
                continue
            if isinstance(value, str):
                if label is not None:
                    value = label(value)
                shown = texts.get(value)
                if shown is None:
                    shown = xlsx_text_xml(value)
                    if len(texts) >= _SEEN_TEXTS:
                        texts.clear()
                    texts[value] = shown
                add(f'<c r="{letter}{index}"{style} t="inlineStr">{shown}</c>')
            elif kind == "datetime":
                serial = _excel_serial(value) if us else _excel_serial_of(value)
                add(f'<c r="{letter}{index}"{style} t="n"><v>{serial}</v></c>')
            elif isinstance(value, bool):
                add(f'<c r="{letter}{index}" t="b"><v>{int(value)}</v></c>')
            else:
                add(f'<c r="{letter}{index}"{style} t="n"><v>{_number(value)}</v></c>')
        add("</row>")
        self._rows.write("".join(parts).encode())
        self.rows += 1
        self._book.rows += 1

    def _spliced(self, xml: bytes) -> bytes:
        """The sheet's XML (header only, as openpyxl wrote it) with the data rows."""
        self._rows.seek(0)
        end = xml.rindex(b"</sheetData>")
        rows = self._rows.read()
        self._rows.close()
        return xml[:end] + rows + xml[end:]

    def close(self) -> None:
        pass


def _number(value: float) -> str:
    """openpyxl's ``safe_string`` of a number: 16 significant digits, NaN and ∞ empty."""
    if type(value) is int and -_EXACT < value < _EXACT:
        return str(value)  # what %.16g gives an integer a double holds exactly
    if value != value or value in (math.inf, -math.inf):
        return ""
    return f"{value:.16g}"


_EXACT: Final = 2**53  # exact as a double, and at most 16 digits
_DAY_US: Final = 86_400_000_000
_EXCEL_1970: Final = 25_569  # days from Excel's epoch (1899-12-30) to 1970-01-01
_OFFSETS: dict[int, int] = {}


def _excel_serial(us: int) -> str:
    """The instant ``us`` (µs since the epoch, UTC) as an Excel serial of the Paris wall
    clock, computed as openpyxl's ``to_excel`` does from the naive local datetime (whole
    days, plus seconds and microseconds over 86,400); the offset is cached per UTC hour."""
    hour = us // _HOUR_US
    offset = _OFFSETS.get(hour)
    if offset is None:
        local = utc_datetime(hour * _HOUR_US).astimezone(PARIS).utcoffset()
        offset = _OFFSETS[hour] = (local // timedelta(microseconds=1)) if local else 0
        if len(_OFFSETS) > 200_000:
            _OFFSETS.clear()
    days, rest = divmod(us + offset, _DAY_US)
    seconds, micro = divmod(rest, 1_000_000)
    return _number(days + _EXCEL_1970 + (seconds + micro / 10**6) / 86_400)


def _excel_serial_of(value: datetime) -> str:
    from openpyxl.utils.datetime import to_excel

    if value.tzinfo is not None:
        value = value.astimezone(PARIS).replace(tzinfo=None)
    return _number(to_excel(value))


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _normalise_zip(
    source: IO[bytes],
    target: IO[bytes],
    generated_at: datetime,
    rows: dict[str, Callable[[bytes], bytes]],
) -> None:
    """Copy the zip with every entry dated at the generation time (Paris wall clock), and
    the workbook's "modified" property too (openpyxl sets it to the time of saving); each
    data sheet's rows (``rows``, by entry name) go in after its header row."""
    local = generated_at.astimezone(PARIS)
    stamp = (local.year, local.month, local.day, local.hour, local.minute, local.second)
    utc = generated_at.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            if item.filename == "docProps/core.xml":
                core = _MODIFIED.sub(rb"\g<1>" + utc.encode() + rb"Z\g<2>", src.read(item))
                dst.writestr(info, core)
                continue
            splice = rows.get(item.filename)
            if splice is not None:  # a sheet's header, then its rows
                dst.writestr(info, splice(src.read(item)))
                continue
            with src.open(item) as fin, dst.open(info, "w") as fout:
                shutil.copyfileobj(fin, fout, 1 << 20)


def flat_sink(
    stream: IO[bytes],
    fmt: str,
    columns: Sequence[Column],
    meta: dict[str, Any],
    profile: Profile = PROFILES["raw"],
    t: Translator | None = None,
) -> Sink:
    """The sink of a CSV, JSON lines or Parquet file; ``profile`` shapes the CSV only."""
    if fmt == "csv":
        return _CsvSink(stream, columns, profile, t, meta.get("level", "stats"))
    if fmt == "json":
        return _JsonSink(stream, columns)
    if fmt == "parquet":
        return _ParquetSink(stream, columns, meta)
    raise ValueError(f"unknown format {fmt!r}")
