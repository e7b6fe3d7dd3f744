"""Export a campaign at one level in one format, with its metadata (CSV, XLSX, Parquet, JSON).

    level contacts: reports.contact_rows (the database's per-contact facts, streamed)
        --> columns in CONTACT_COLUMNS order, a partition at a time --> writer
        (``Sink.write_columns``: the CSV column-wise, the others row by row)
    level stats: reports.campaign_stats.compute_stats per grouping --> stats and criteria rows
    --> reports.writers (CSV, JSON lines, Parquet; XLSX: one workbook) into reports.outputs

Levels (``reports.export_tables``): ``contacts`` (one row per contact: every timing,
classification and check; persona and auditor by key only; no photo, hence no photo
location metadata) and ``stats`` (the aggregate cells of every grouping, with a
``grouping`` column such as ``channel,stratum``; the XLSX workbook has one sheet per
grouping and a ``criteria`` sheet).

Contact rows come from the database's per-contact facts (``reports.contact_rows``: a
server-side cursor; the Python rules only for phone, grid and checks contacts), instants
as integer microseconds that each writer renders. The values of each format, and the
neutralising of text cells a spreadsheet would run, are ``reports.writers``'. Files are
written through ``reports.outputs``: a partial file beside the target, renamed into place
once complete, never through a symbolic link nor over a device, mode 0600.

Metadata: campaign, generation time, the Témoin version, ``holidays.__version__``, the
as-of instant (censoring of a campaign still open), and the meaning of every column, in
French from the catalogue (``report.col.*``): a README sheet (XLSX), a sidecar
``PATH.meta.json`` (CSV, Parquet, JSON) and Parquet key-value metadata (``temoin``).

Profiles (``reports.export_profiles``): ``raw`` (the library's default, for scripts) and
``excel`` (the CLI's default when the locale is ``fr``: what French Excel opens).

Reproducible: rows come in a stable order (contacts by id, cells by their keys), the
floats' text is ``repr``; the XLSX workbook's properties and zip entry times are set to the
generation time. Two exports of the same database at the same generation time are
byte-identical; at different times they differ only where that time is written.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy.ext.asyncio import AsyncSession

from reports.campaign_stats import compute_stats, shipped_catalog
from reports.contact_rows import contact_columns, cycles_uncollected
from reports.evolution import previous_cells
from reports.export_profiles import PROFILES, header, sheet_title
from reports.export_tables import (
    CONTACT_COLUMNS,
    CRITERIA_COLUMNS,
    Column,
    criteria_rows,
    describe,
    stats_columns,
    stats_rows,
)
from reports.formats import FORMATS, LEVELS
from reports.outputs import check_target, open_output, write_output
from reports.strata import DEFAULT_STRATA
from reports.version import temoin_version
from reports.writers import XlsxBook, flat_sink
from scenarios.catalog import Catalog
from scenarios.i18n import Translator
from storage.stats import CampaignInfo

__all__ = ["DEFAULT_GROUPINGS", "HOLIDAYS_VERSION", "ExportMeta", "export"]

PARIS: Final = ZoneInfo("Europe/Paris")
DEFAULT_GROUPINGS: Final[tuple[tuple[str, ...], ...]] = (
    (),
    ("channel",),
    ("stratum",),
    ("channel", "stratum"),
)
HOLIDAYS_VERSION: Final[str] = holidays.__version__  # type: ignore[attr-defined]


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
    profile: str = "raw"
    previous: CampaignInfo | None = None

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
            "profile": self.profile,
            "timezone": "Europe/Paris",
            "strata": list(self.strata),
            "min_cell": self.min_cell,
            "conventions": t(
                "report.meta.conventions_excel"
                if PROFILES[self.profile].readable
                else "report.meta.conventions"
            ),
            "columns": _columns_meta(columns, t, self.level),
        }
        if self.previous is not None:
            data["previous_campaign"] = self.previous.name
        if rows is not None:
            data["rows"] = rows
        return data


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(PARIS).isoformat()


def _meta_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _readme(
    meta: dict[str, Any],
    t: Translator,
    extra: Sequence[dict[str, Any]] = (),
    level: str = "stats",
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
        *(
            [[t("report.evolution.previous_campaign"), meta["previous_campaign"]]]
            if meta.get("previous_campaign")
            else []
        ),
        [t("report.meta.conventions_label"), meta["conventions"]],
        [],
        [
            t("report.meta.column"),
            t("report.meta.heading"),
            t("report.meta.type"),
            t("report.meta.description"),
        ],
    ]
    seen: set[str] = set()
    for column in [*meta["columns"], *extra]:
        if column["name"] not in seen:
            seen.add(column["name"])
            name = column["name"]
            kind = t(f"report.meta.kind.{column['type']}")
            lines.append([name, column["heading"], kind, column["description"]])
    return lines


def _columns_meta(
    columns: Sequence[Column], t: Translator, level: str = "stats"
) -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "heading": header(c.name, t, level),
            "type": c.kind,
            "description": describe(c.name, t, level),
        }
        for c in columns
    ]


def _contact_columns(
    session: AsyncSession,
    campaign: CampaignInfo,
    as_of: datetime,
    catalog: Catalog | None,
    bounds: tuple[int, ...],
) -> AsyncGenerator[list[Sequence[Any]], None]:
    return contact_columns(
        session,
        campaign,
        as_of=as_of,
        catalog=catalog or shipped_catalog(),
        strata=bounds,
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
    profile: str = "raw",
    locale: str = "fr",
    previous: CampaignInfo | None = None,
) -> int:
    """Export the campaign at ``level`` in ``fmt`` to ``out``; returns the number of rows.

    ``as_of`` (default: ``generated_at``) censors the contacts of a campaign still open.
    ``previous`` (level stats only): evolution columns against that campaign's cells
    (``reports.evolution``; the previous campaign as of its close).
    Files are written beside ``out`` and renamed into place once complete
    (``reports.outputs``: ``OutputError`` when ``out`` cannot be written).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; one of {', '.join(LEVELS)}")
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; one of {', '.join(PROFILES)}")
    if previous is not None and level != "stats":
        raise ValueError("a previous campaign is compared at the stats level only")
    shape = PROFILES[profile]
    as_of = as_of or generated_at
    bounds = tuple(strata)
    t = Translator(locale)
    info = ExportMeta(
        campaign, generated_at, as_of, level, fmt, min_cell, bounds, profile, previous
    )
    columns = CONTACT_COLUMNS if level == "contacts" else stats_columns(previous is not None)
    meta = info.as_dict(columns, t=t)
    before = None
    if previous is not None:
        before = previous_cells(
            await compute_stats(
                session, previous, groupings, as_of=previous.closed_at or as_of,
                min_cell=min_cell, strata=bounds, catalog=catalog,
            )
        )  # fmt: skip
    sidecar = out.with_name(out.name + ".meta.json")
    check_target(out)
    if fmt != "xlsx":
        check_target(sidecar)
    with open_output(out) as stream:
        if fmt == "xlsx":
            extra = _columns_meta(CRITERIA_COLUMNS, t) if level == "stats" else []
            readme = _readme(meta, t, extra, level)
            book = XlsxBook(stream, readme, generated_at, shape, t)
            if level == "contacts":
                title = t("report.header.contacts") if shape.readable else "contacts"
                sink = book.sheet(title, columns, level)
                parts = _contact_columns(session, campaign, as_of, catalog, bounds)
                async with contextlib.aclosing(parts):  # its reading task ends with it
                    with cycles_uncollected():
                        async for part in parts:
                            sink.write_columns(part)
            else:
                tables = await compute_stats(
                    session, campaign, groupings, as_of=as_of, min_cell=min_cell,
                    strata=bounds, catalog=catalog,
                )  # fmt: skip
                for by, cells in tables:
                    sink = book.sheet(sheet_title(by, t, shape.readable), columns)
                    for stats_row in stats_rows([(by, cells)], before):
                        sink.write(stats_row)
                title = t("report.header.criteria") if shape.readable else "criteria"
                sink = book.sheet(title, CRITERIA_COLUMNS)
                for criteria_row in criteria_rows(tables):
                    sink.write(criteria_row)
            book.close()
            count = book.rows
        else:
            flat = flat_sink(stream, fmt, columns, meta, shape, t)
            try:
                if level == "contacts":
                    parts = _contact_columns(session, campaign, as_of, catalog, bounds)
                    async with contextlib.aclosing(parts):  # its reading task ends with it
                        with cycles_uncollected():
                            async for part in parts:
                                flat.write_columns(part)
                else:
                    tables = await compute_stats(
                        session, campaign, groupings, as_of=as_of, min_cell=min_cell,
                        strata=bounds, catalog=catalog,
                    )  # fmt: skip
                    for stats_row in stats_rows(tables, before):
                        flat.write(stats_row)
            finally:
                flat.close()
            count = flat.rows
            write_output(sidecar, _meta_json({**meta, "rows": count}).encode("utf-8"))
    return count
