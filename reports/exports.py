"""From the database to facts, statistics and export files (CSV, XLSX, Parquet, JSON lines).

    compute_stats: reports.db_stats (GROUP BY in the database, Python over aggregates)
        '-- hands over to compute_stats_reference where the Python rules must decide:
            storage.stats.stream_contact_rows --contact_facts--> Aggregator per grouping
    contacts level: reports.contact_rows (the database's per-contact facts, streamed)
        --> values in CONTACT_COLUMNS order --> writer, one row at a time
    contact_records (the Python rules, every contact): reports.render and the tests

Levels: ``contacts`` (one row per contact: every timing, classification and check; persona
and auditor by key only; no photo, hence no photo location metadata) and ``stats`` (the
aggregate cells of every grouping, with a ``grouping`` column such as ``channel,stratum``;
the XLSX workbook has one sheet per grouping and a ``criteria`` sheet).

Contact rows come from the database's per-contact facts (``reports.contact_rows``: a
server-side cursor; the Python rules only for phone, grid and checks contacts), instants
as integer microseconds that each writer renders. Writers stream: CSV and JSON lines are
written as rows come, XLSX with openpyxl's write-only mode, Parquet with a
``ParquetWriter`` in row groups of ``ROW_GROUP`` rows, so a million contacts take constant
memory.

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
string cell in XLSX). Files are written through ``reports.outputs``: a partial file beside
the target, renamed into place once complete, never through a symbolic link nor over a
device, mode 0600.

Metadata: campaign, generation time, the Témoin version, ``holidays.__version__``, the
as-of instant (censoring of a campaign still open), and the meaning of every column, in
French from the catalogue (``report.col.*``): a README sheet (XLSX), a sidecar
``PATH.meta.json`` (CSV, Parquet, JSON) and Parquet key-value metadata (``temoin``).

Reproducible: rows come in a stable order (contacts by id, cells by their keys), the
floats' text is ``repr``; the XLSX workbook's properties and zip entry times are set to the
generation time. Two exports of the same database at the same generation time are
byte-identical; at different times they differ only where that time is written.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Final, Literal
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy.ext.asyncio import AsyncSession

from reports.aggregate import Aggregator
from reports.cells import COLUMNS, GROUP_KEYS, Cell, RowValue
from reports.contact_rows import contact_values, paris_text, utc_datetime
from reports.db_stats import compute_stats_db
from reports.facts import (
    DEFAULT_STRATA,
    ContactFacts,
    CountingCalendar,
    contact_facts,
    content_checks,
    field_facts,
    stratum_index,
    stratum_labels,
)
from reports.formats import FORMATS, LEVELS
from reports.outputs import check_target, open_output, write_output
from reports.spreadsheet import csv_value, xlsx_text_cell, xlsx_value
from reports.version import temoin_version
from scenarios.catalog import Catalog, load_catalog
from scenarios.i18n import Translator
from storage.stats import CampaignInfo, ContactRow, stream_contact_rows

__all__ = [
    "CONTACT_COLUMNS",
    "CRITERIA_COLUMNS",
    "DEFAULT_GROUPINGS",
    "FORMATS",
    "LEVELS",
    "ROW_GROUP",
    "Column",
    "ExportMeta",
    "compute_stats",
    "compute_stats_reference",
    "contact_records",
    "contact_row",
    "criteria_rows",
    "describe",
    "export",
    "shipped_catalog",
    "stats_columns",
    "stats_rows",
]

PARIS: Final = ZoneInfo("Europe/Paris")
DEFAULT_GROUPINGS: Final[tuple[tuple[str, ...], ...]] = (
    (),
    ("channel",),
    ("stratum",),
    ("channel", "stratum"),
)
ROW_GROUP: Final = 50_000
HOLIDAYS_VERSION: Final[str] = holidays.__version__  # type: ignore[attr-defined]
Kind = Literal["str", "int", "float", "bool", "datetime"]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind


def _cols(kind: Kind, *names: str) -> list[Column]:
    return [Column(name, kind) for name in names]


CONTACT_COLUMNS: Final[tuple[Column, ...]] = (
    *_cols("int", "contact_id"),
    *_cols("str", "channel", "scenario"),
    *_cols("int", "wording"),
    *_cols("str", "status"),
    *_cols("int", "service_id"),
    *_cols("str", "service_kind", "service_name"),
    *_cols("str", "collectivity", "collectivity_name", "collectivity_kind"),
    *_cols("int", "population"),
    *_cols("str", "stratum", "departement", "region", "persona", "auditor"),
    *_cols("datetime", "planned_at", "sent_at", "first_ack_at", "first_answer_at", "closed_at"),
    *_cols("bool", "undeliverable", "acknowledged", "answered"),
    *_cols("float", "ack_seconds"),
    *_cols("int", "ack_business_days"),
    *_cols("float", "answer_seconds"),
    *_cols("int", "answer_business_days"),
    *_cols("float", "censor_seconds"),
    *_cols("int", "censor_business_days", "ack_target_days", "answer_target_days"),
    *_cols("bool", "acknowledged_within_target", "answered_within_target"),
    *_cols("int", "phone_attempts"),
    *_cols("bool", "picked_up"),
    *_cols("int", "rings"),
    *_cols("float", "seconds_to_pickup"),
    *_cols("int", "transfers"),
    *_cols("float", "hold_seconds", "waiting_seconds", "service_seconds"),
    *_cols("int", "criteria_assessed", "criteria_met"),
    *_cols("float", "criteria_score"),
    *_cols("str", "criteria_missed", "content_found", "content_missing"),
    *_cols("int", "photos"),
)

_INT_STATS = frozenset(
    {
        "planned",
        "sent",
        "undeliverable",
        "delivered",
        "written_delivered",
        "pending",
        "answered",
        "acknowledged",
        "answered_within_target",
        "answered_within_target_n",
        "acknowledged_within_target",
        "acknowledged_within_target_n",
        "answer_censored",
        "ack_censored",
        "phone_calls",
        "phone_picked_up",
        "visits",
        "rank",
    }
)
_STR_STATS = frozenset({*GROUP_KEYS, "collectivity_name"})


def _stats_kind(name: str) -> Kind:
    if name in _STR_STATS:
        return "str"
    if name in _INT_STATS:
        return "int"
    if name == "small":
        return "bool"
    return "float"


def stats_columns() -> tuple[Column, ...]:
    """``grouping`` then ``reports.cells.COLUMNS`` with their types."""
    return (Column("grouping", "str"), *(Column(n, _stats_kind(n)) for n in COLUMNS))


CRITERIA_COLUMNS: Final[tuple[Column, ...]] = (
    Column("grouping", "str"),
    *(Column(n, "str") for n in GROUP_KEYS[:4]),
    Column("collectivity_name", "str"),
    *(Column(n, "str") for n in GROUP_KEYS[4:]),
    *_cols("str", "criterion_id"),
    *_cols("int", "assessed", "met"),
    *_cols("float", "rate", "rate_low", "rate_high"),
)


# --------------------------------------------------------------------------- descriptions

_STAT_WORDS = ("median", "p75", "p90", "km_median_low", "km_median_high", "km_median")


def describe(name: str, t: Translator | None = None, level: str = "stats") -> str:
    """The French meaning of a column (``report.col.*``; ``report.contact.*`` first for the
    contact level, where a few names mean a flag rather than a count)."""
    t = t or Translator("fr")
    if level == "contacts" and t.has(f"report.contact.{name}"):
        return t(f"report.contact.{name}")
    key = f"report.col.{name}"
    if t.has(key):
        return t(key)
    for suffix in ("_low", "_high"):
        if name.endswith(f"_rate{suffix}"):
            base = name.removesuffix(suffix)
            return t(f"report.col.bound{suffix}", column=base)
    for metric in ("answer", "ack"):
        for unit in ("hours", "bdays"):
            stem = f"{metric}_{unit}_"
            if name.startswith(stem) and name.removeprefix(stem) in _STAT_WORDS:
                stat = name.removeprefix(stem)
                return t(
                    "report.col.delay",
                    stat=t(f"report.stat.{stat}"),
                    metric=t(f"report.metric.{metric}"),
                    unit=t(f"report.unit.{unit}"),
                )
    if name.startswith("score_"):
        return t("report.col.score_channel", channel=t(f"channel.{name.removeprefix('score_')}"))
    raise KeyError(f"no description for column {name!r}")


# --------------------------------------------------------------------------- facts


@lru_cache(maxsize=1)
def shipped_catalog() -> Catalog:
    """The shipped scenario catalogue, loaded once per process (it checks every wording)."""
    return load_catalog()


async def contact_records(
    session: AsyncSession,
    campaign: CampaignInfo,
    *,
    as_of: datetime,
    catalog: Catalog | None = None,
    collectivity_ids: Sequence[int] | None = None,
) -> AsyncIterator[tuple[ContactRow, ContactFacts]]:
    """Every contact of the campaign with its facts, delays filled, by contact id.

    ``as_of`` censors the contacts of a campaign still open (``reports.facts``).
    """
    scenarios = (catalog or shipped_catalog()).scenarios
    calendars: dict[str, CountingCalendar] = {}
    async for row in stream_contact_rows(session, campaign.id, collectivity_ids=collectivity_ids):
        calendar = calendars.get(row.departement)
        if calendar is None:
            calendar = calendars[row.departement] = CountingCalendar(row.departement)
        facts = contact_facts(
            row,
            scenario=scenarios.get(row.scenario_id),
            calendar=calendar,
            campaign_closed_at=campaign.closed_at,
            as_of=as_of,
        )
        yield row, facts


async def compute_stats(
    session: AsyncSession,
    campaign: CampaignInfo,
    groupings: Sequence[Sequence[str]],
    *,
    as_of: datetime,
    min_cell: int = 5,
    strata: Sequence[int] = DEFAULT_STRATA,
    catalog: Catalog | None = None,
) -> list[tuple[tuple[str, ...], list[Cell]]]:
    """The cells of every grouping: counted by the database (``reports.db_stats``), or by
    ``compute_stats_reference`` where the database path hands over to the Python rules."""
    found = await compute_stats_db(
        session,
        campaign,
        groupings,
        as_of=as_of,
        catalog=catalog or shipped_catalog(),
        min_cell=min_cell,
        strata=strata,
    )
    if found is not None:
        return found
    return await compute_stats_reference(
        session, campaign, groupings, as_of=as_of, min_cell=min_cell, strata=strata,
        catalog=catalog,
    )  # fmt: skip


async def compute_stats_reference(
    session: AsyncSession,
    campaign: CampaignInfo,
    groupings: Sequence[Sequence[str]],
    *,
    as_of: datetime,
    min_cell: int = 5,
    strata: Sequence[int] = DEFAULT_STRATA,
    catalog: Catalog | None = None,
) -> list[tuple[tuple[str, ...], list[Cell]]]:
    """The cells of every grouping from one pass over the facts of every contact
    (``reports.facts``, ``reports.aggregate``): the rules as written, the oracle of
    ``reports.db_stats``."""
    aggregators = [
        Aggregator(tuple(by), min_cell=min_cell, strata=strata, rank_by="score") for by in groupings
    ]
    async for _row, facts in contact_records(session, campaign, as_of=as_of, catalog=catalog):
        for aggregator in aggregators:
            aggregator.add(facts)
    return [(aggregator.by, aggregator.cells()) for aggregator in aggregators]


def contact_row(
    row: ContactRow, facts: ContactFacts, strata: Sequence[int] = DEFAULT_STRATA
) -> dict[str, RowValue | datetime]:
    """The export row of one contact, under ``CONTACT_COLUMNS`` names, in that order."""
    written = facts.channel in ("email", "letter")
    delivered = facts.delivered
    assessed = [(cid, w, met) for cid, w, met in facts.grid if met is not None]
    weight = sum(w for _, w, _ in assessed)
    met_weight = sum(w for _, w, met in assessed if met)
    checks = content_checks(row.checks)
    attempts = field_facts(row.channel, row.events).attempts if row.channel == "phone" else None
    return {
        "contact_id": row.id,
        "channel": row.channel,
        "scenario": row.scenario_id,
        "wording": row.wording,
        "status": row.status,
        "service_id": row.service_id,
        "service_kind": row.service_kind,
        "service_name": row.service_name,
        "collectivity": row.collectivity_code,
        "collectivity_name": row.collectivity_name,
        "collectivity_kind": row.collectivity_kind,
        "population": row.population,
        "stratum": stratum_labels(strata)[stratum_index(row.population, strata)],
        "departement": row.departement,
        "region": row.region,
        "persona": row.persona_key,
        "auditor": row.auditor_key,
        "planned_at": facts.planned_at,
        "sent_at": facts.sent_at,
        "first_ack_at": facts.first_ack_at,
        "first_answer_at": facts.first_answer_at,
        "closed_at": facts.closed_at,
        "undeliverable": facts.undeliverable,
        "acknowledged": facts.ack_seconds is not None if written and delivered else None,
        "answered": facts.answer_seconds is not None if written and delivered else None,
        "ack_seconds": facts.ack_seconds,
        "ack_business_days": facts.ack_business_days,
        "answer_seconds": facts.answer_seconds,
        "answer_business_days": facts.answer_business_days,
        "censor_seconds": facts.censor_seconds,
        "censor_business_days": facts.censor_business_days,
        "ack_target_days": facts.ack_target_days,
        "answer_target_days": facts.answer_target_days,
        "acknowledged_within_target": facts.acknowledged_within_target,
        "answered_within_target": facts.answered_within_target,
        "phone_attempts": attempts,
        "picked_up": facts.picked_up,
        "rings": facts.rings,
        "seconds_to_pickup": facts.seconds_to_pickup,
        "transfers": facts.transfers,
        "hold_seconds": facts.hold_seconds,
        "waiting_seconds": facts.waiting_seconds,
        "service_seconds": facts.service_seconds,
        "criteria_assessed": len(assessed),
        "criteria_met": sum(1 for _, _, met in assessed if met),
        "criteria_score": 100.0 * met_weight / weight if weight > 0 else None,
        "criteria_missed": ";".join(cid for cid, _, met in assessed if not met) or None,
        "content_found": ";".join(k for k, v in checks.items() if v) or None,
        "content_missing": ";".join(k for k, v in checks.items() if not v) or None,
        "photos": row.photos,
    }


def _grouping(by: Sequence[str]) -> str:
    """The ``grouping`` column: the keys joined by commas, ``overall`` for no key."""
    return ",".join(by) or "overall"


def stats_rows(
    tables: Iterable[tuple[tuple[str, ...], list[Cell]]],
) -> Iterator[dict[str, RowValue | datetime]]:
    for by, cells in tables:
        for cell in cells:
            yield {"grouping": _grouping(by), **cell.to_row()}


def criteria_rows(
    tables: Iterable[tuple[tuple[str, ...], list[Cell]]],
) -> Iterator[dict[str, RowValue | datetime]]:
    for by, cells in tables:
        for cell in cells:
            for row in cell.criterion_rows():
                yield {"grouping": _grouping(by), **row}


# --------------------------------------------------------------------------- metadata


@dataclass(frozen=True, slots=True)
class ExportMeta:
    campaign: CampaignInfo
    generated_at: datetime
    as_of: datetime
    level: str
    format: str
    min_cell: int | None = None
    strata: tuple[int, ...] = DEFAULT_STRATA

    def as_dict(
        self, columns: Sequence[Column], rows: int | None = None, t: Translator | None = None
    ) -> dict[str, Any]:
        t = t or Translator("fr")
        data: dict[str, Any] = {
            "campaign": self.campaign.name,
            "campaign_title": self.campaign.title,
            "campaign_window": [
                self.campaign.window_start.isoformat(),
                self.campaign.window_end.isoformat(),
            ],
            "campaign_closed_at": _iso(self.campaign.closed_at),
            "as_of": _iso(self.as_of),
            "generated_at": _iso(self.generated_at),
            "temoin_version": temoin_version(),
            "holidays_version": HOLIDAYS_VERSION,
            "level": self.level,
            "format": self.format,
            "timezone": "Europe/Paris",
            "strata": list(self.strata),
            "min_cell": self.min_cell,
            "conventions": t("report.meta.conventions"),
            "columns": _columns_meta(columns, t, self.level),
        }
        if rows is not None:
            data["rows"] = rows
        return data


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(PARIS).isoformat()


def _meta_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


# --------------------------------------------------------------------------- writers


def _jsonable(value: RowValue | datetime) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(PARIS).isoformat()
    return value


class _Sink:
    """A table being written, one row at a time."""

    rows = 0
    _columns: Sequence[Column] = ()

    def write(self, row: dict[str, Any]) -> None:
        raise NotImplementedError

    def write_values(self, values: list[Any]) -> None:
        """One contact row: values in column order, instants as µs since the epoch (UTC)."""
        self.write(_with_datetimes(self._columns, values))

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


def _us_text(value: int | None) -> str:
    return "" if value is None else paris_text(value)


class _CsvSink(_Sink):
    """The csv module writes ``None`` as an empty field and numbers with ``repr``: only
    booleans and instants need converting, and texts neutralising (``csv_value``)."""

    def __init__(self, stream: IO[bytes], columns: Sequence[Column]) -> None:
        self._columns = columns
        self._names = [c.name for c in columns]
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
        self._texts = [index for index, c in enumerate(columns) if c.kind == "str"]
        self._fh = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=False)
        # CRLF as RFC 4180 has it: the csv module then quotes a field holding a lone "\r",
        # which a spreadsheet would otherwise read as the end of a row (and the rest of the
        # field as a new row's first cell, past any neutralising).
        self._writer = csv.writer(self._fh, lineterminator="\r\n")
        self._writer.writerow([csv_value(name) for name in self._names])

    def write(self, row: dict[str, Any]) -> None:
        values = [row[name] for name in self._names]
        for index in self._texts:
            values[index] = csv_value(values[index])
        for index, convert in self._converted:
            values[index] = convert(values[index])
        self._writer.writerow(values)
        self.rows += 1

    def write_values(self, values: list[Any]) -> None:
        for index in self._texts:
            values[index] = csv_value(values[index])
        for index, convert in self._converted_us:
            values[index] = convert(values[index])
        self._writer.writerow(values)
        self.rows += 1

    def close(self) -> None:
        self._fh.flush()
        self._fh.detach()  # the stream belongs to open_output, which closes it


class _JsonSink(_Sink):
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


class _ParquetSink(_Sink):
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


class _XlsxBook:
    """A write-only workbook: README first, then one sheet per table (frozen header).

    Every text cell is a string cell (``reports.spreadsheet``), never a formula."""

    def __init__(self, stream: IO[bytes], readme: list[list[Any]], generated_at: datetime) -> None:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        self._stream = stream
        self._generated_at = generated_at
        self._book = Workbook(write_only=True)
        stamp = generated_at.astimezone(UTC).replace(tzinfo=None, microsecond=0)
        self._book.properties.created = stamp
        self._book.properties.modified = stamp
        self._book.properties.creator = f"Témoin {temoin_version()}"
        self._bold = Font(bold=True)
        info = self._book.create_sheet("README")
        for line in readme:
            info.append([xlsx_value(info, value) for value in line])
        self.rows = 0

    def sheet(self, title: str, columns: Sequence[Column]) -> _XlsxSheet:
        sheet = self._book.create_sheet(title)
        sheet.freeze_panes = "A2"
        header = []
        for column in columns:
            cell = xlsx_text_cell(sheet, column.name)
            cell.font = self._bold
            header.append(cell)
        sheet.append(header)
        return _XlsxSheet(self, sheet, columns)

    def close(self) -> None:
        # openpyxl writes the whole zip on save: into an anonymous temporary file (no name
        # anyone could plant a link at), then copied with normalised entries into the output.
        with tempfile.TemporaryFile() as raw:
            self._book.save(raw)
            raw.seek(0)
            _normalise_zip(raw, self._stream, self._generated_at)


class _XlsxSheet(_Sink):
    def __init__(self, book: _XlsxBook, sheet: Any, columns: Sequence[Column]) -> None:
        from openpyxl.cell import WriteOnlyCell

        self._book = book
        self._sheet = sheet
        self._columns = columns
        self._cell = WriteOnlyCell
        self._names = [c.name for c in columns]
        self._datetimes = frozenset(c.name for c in columns if c.kind == "datetime")

    def write(self, row: dict[str, Any]) -> None:
        values: list[Any] = []
        for name in self._names:
            value = row[name]
            if value is not None and name in self._datetimes:
                cell = self._cell(self._sheet, value=value.astimezone(PARIS).replace(tzinfo=None))
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
                values.append(cell)
            else:
                values.append(xlsx_value(self._sheet, value))
        self._sheet.append(values)
        self.rows += 1
        self._book.rows += 1

    def close(self) -> None:
        pass


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _normalise_zip(source: IO[bytes], target: IO[bytes], generated_at: datetime) -> None:
    """Copy the zip with every entry dated at the generation time (Paris wall clock), and
    the workbook's "modified" property too (openpyxl sets it to the time of saving)."""
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
            with src.open(item) as fin, dst.open(info, "w") as fout:
                shutil.copyfileobj(fin, fout, 1 << 20)


def _readme(
    meta: dict[str, Any], t: Translator, extra: Sequence[dict[str, Any]] = ()
) -> list[list[Any]]:
    lines: list[list[Any]] = [
        [t("report.meta.title")],
        [t("report.meta.campaign"), meta["campaign"]],
        [t("report.meta.campaign_title"), meta["campaign_title"]],
        [t("report.meta.window"), " – ".join(meta["campaign_window"])],
        [t("report.meta.generated_at"), meta["generated_at"]],
        [t("report.meta.as_of"), meta["as_of"]],
        [t("report.meta.temoin_version"), meta["temoin_version"]],
        [t("report.meta.holidays_version"), meta["holidays_version"]],
        [t("report.meta.level"), meta["level"]],
        [t("report.meta.conventions_label"), meta["conventions"]],
        [],
        [t("report.meta.column"), t("report.meta.type"), t("report.meta.description")],
    ]
    seen: set[str] = set()
    for column in [*meta["columns"], *extra]:
        if column["name"] not in seen:
            seen.add(column["name"])
            lines.append([column["name"], column["type"], column["description"]])
    return lines


def _sheet_title(by: Sequence[str]) -> str:
    return ("+".join(by) or "overall")[:31]


def _flat_sink(
    stream: IO[bytes], fmt: str, columns: Sequence[Column], meta: dict[str, Any]
) -> _Sink:
    if fmt == "csv":
        return _CsvSink(stream, columns)
    if fmt == "json":
        return _JsonSink(stream, columns)
    if fmt == "parquet":
        return _ParquetSink(stream, columns, meta)
    raise ValueError(f"unknown format {fmt!r}")


def _columns_meta(
    columns: Sequence[Column], t: Translator, level: str = "stats"
) -> list[dict[str, Any]]:
    return [
        {"name": c.name, "type": c.kind, "description": describe(c.name, t, level)} for c in columns
    ]


def _contact_values(
    session: AsyncSession,
    campaign: CampaignInfo,
    as_of: datetime,
    catalog: Catalog | None,
    bounds: tuple[int, ...],
) -> AsyncIterator[list[Any]]:
    return contact_values(
        session,
        campaign,
        as_of=as_of,
        catalog=catalog or shipped_catalog(),
        strata=bounds,
        row_of=contact_row,
        columns=[c.name for c in CONTACT_COLUMNS],
    )


async def export(
    session: AsyncSession,
    campaign: CampaignInfo,
    *,
    fmt: str,
    level: str,
    out: Path,
    generated_at: datetime,
    as_of: datetime | None = None,
    groupings: Sequence[Sequence[str]] = DEFAULT_GROUPINGS,
    min_cell: int = 5,
    strata: Sequence[int] = DEFAULT_STRATA,
    catalog: Catalog | None = None,
) -> int:
    """Export the campaign at ``level`` in ``fmt`` to ``out``; returns the number of rows.

    ``as_of`` (default: ``generated_at``) censors the contacts of a campaign still open.
    Files are written beside ``out`` and renamed into place once complete
    (``reports.outputs``: ``OutputError`` when ``out`` cannot be written).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; one of {', '.join(LEVELS)}")
    as_of = as_of or generated_at
    bounds = tuple(strata)
    t = Translator("fr")
    info = ExportMeta(campaign, generated_at, as_of, level, fmt, min_cell, bounds)
    columns = CONTACT_COLUMNS if level == "contacts" else stats_columns()
    meta = info.as_dict(columns, t=t)
    sidecar = out.with_name(out.name + ".meta.json")
    check_target(out)
    if fmt != "xlsx":
        check_target(sidecar)
    with open_output(out) as stream:
        if fmt == "xlsx":
            extra = _columns_meta(CRITERIA_COLUMNS, t) if level == "stats" else []
            book = _XlsxBook(stream, _readme(meta, t, extra), generated_at)
            if level == "contacts":
                sink = book.sheet("contacts", columns)
                async for values in _contact_values(session, campaign, as_of, catalog, bounds):
                    sink.write_values(values)
            else:
                tables = await compute_stats(
                    session, campaign, groupings, as_of=as_of, min_cell=min_cell,
                    strata=bounds, catalog=catalog,
                )  # fmt: skip
                for by, cells in tables:
                    sink = book.sheet(_sheet_title(by), columns)
                    for stats_row in stats_rows([(by, cells)]):
                        sink.write(stats_row)
                sink = book.sheet("criteria", CRITERIA_COLUMNS)
                for criteria_row in criteria_rows(tables):
                    sink.write(criteria_row)
            book.close()
            count = book.rows
        else:
            flat = _flat_sink(stream, fmt, columns, meta)
            try:
                if level == "contacts":
                    async for values in _contact_values(session, campaign, as_of, catalog, bounds):
                        flat.write_values(values)
                else:
                    tables = await compute_stats(
                        session, campaign, groupings, as_of=as_of, min_cell=min_cell,
                        strata=bounds, catalog=catalog,
                    )  # fmt: skip
                    for stats_row in stats_rows(tables):
                        flat.write(stats_row)
            finally:
                flat.close()
            count = flat.rows
            write_output(sidecar, _meta_json({**meta, "rows": count}).encode("utf-8"))
    return count
