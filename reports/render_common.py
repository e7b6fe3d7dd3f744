"""What both rendered reports share: options, the Jinja2 environment, French number and date
formatting, the page header, the previous campaign's cells, and writing HTML or PDF.

``reports.render_national`` (the national barometer) and ``reports.render_personal`` (a
collectivity's own) build on it; ``reports.render`` names both for the callers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from reports.aggregate import Aggregator
from reports.campaign_stats import contact_records
from reports.cells import Cell
from reports.intervals import Proportion
from reports.outputs import open_output
from reports.strata import DEFAULT_STRATA
from reports.version import temoin_version
from scenarios.catalog import Catalog
from scenarios.i18n import Translator
from storage.stats import CampaignInfo

PARIS: Final = ZoneInfo("Europe/Paris")
WRITTEN: Final = ("email", "letter")
NNBSP: Final = "\u202f"


@dataclass(frozen=True, slots=True)
class ReportOptions:
    min_cell: int = 5
    min_peers: int = 5
    strata: tuple[int, ...] = DEFAULT_STRATA


_ENV = Environment(
    loader=PackageLoader("reports", "templates"),
    autoescape=select_autoescape(("html", "j2")),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


# --------------------------------------------------------------------------- formatting


def _number(value: float, digits: int = 1) -> str:
    text = f"{value:,.{digits}f}".replace(",", NNBSP).replace(".", ",")
    return text.replace("-", "−")


def percent(value: float | None, t: Translator) -> str:
    """``0.625`` -> ``62,5 %`` (narrow no-break space); ``None`` -> a dash."""
    if value is None:
        return t("report.not_available")
    return t("report.percent", value=_number(100.0 * value))


def interval(p: Proportion, t: Translator) -> str:
    if p.low is None or p.high is None:
        return t("report.not_available")
    return t("report.interval", low=percent(p.low, t), high=percent(p.high, t))


def days(value: float | None, t: Translator) -> str:
    return t("report.not_reached") if value is None else _number(value)


def minutes(seconds: float | None, t: Translator) -> str:
    if seconds is None:
        return t("report.not_available")
    return f"{_number(seconds / 60.0)}{NNBSP}min"


def instant(value: datetime, t: Translator) -> str:
    local = value.astimezone(PARIS)
    return t(
        "report.date_time",
        date=local.strftime("%d/%m/%Y"),
        time=f"{local.hour}{NNBSP}h{NNBSP}{local.minute:02d}",
    )


def points(change: float | None, t: Translator) -> str:
    if change is None:
        return t("report.not_available")
    sign = "+" if change > 0 else ""
    return t("report.points", value=sign + _number(100.0 * change))


def _svg(text: str) -> Markup:
    return Markup(text)  # our own matplotlib output, not user input


def _header(
    campaign: CampaignInfo, generated_at: datetime, as_of: datetime, t: Translator
) -> dict[str, Any]:
    closed = campaign.closed_at
    return {
        "campaign": t("report.campaign", title=campaign.title or campaign.name),
        "window": t(
            "report.window",
            start=campaign.window_start.strftime("%d/%m/%Y"),
            end=campaign.window_end.strftime("%d/%m/%Y"),
        ),
        "generated": t("report.generated", date=instant(generated_at, t)),
        "as_of": (
            t("report.as_of_closed", date=instant(closed, t))
            if closed is not None
            else t("report.as_of_open", date=instant(as_of, t))
        ),
        "version": temoin_version(),
    }


async def _previous_cells(
    session: AsyncSession,
    previous: CampaignInfo,
    *,
    as_of: datetime,
    options: ReportOptions,
    catalog: Catalog,
) -> dict[str | None, Cell]:
    by_channel = Aggregator(("channel",), min_cell=options.min_cell, strata=options.strata)
    overall = Aggregator((), min_cell=options.min_cell, strata=options.strata)
    async for _row, facts in contact_records(session, previous, as_of=as_of, catalog=catalog):
        by_channel.add(facts)
        overall.add(facts)
    cells: dict[str | None, Cell] = {c.key("channel"): c for c in by_channel.cells()}
    for cell in overall.cells():
        cells[None] = cell
    return cells


def _change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else now - before


# --------------------------------------------------------------------------- output


def write_report(html: str, out: Path) -> None:
    """Write the page as HTML, or as PDF (WeasyPrint) when ``out`` ends in ``.pdf``, through
    ``reports.outputs`` (atomically, never through a link; ``OutputError`` says why not)."""
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".html", ".htm"):
        raise ValueError(f"a report is written as .html or .pdf, not {out.name!r}")
    with open_output(out) as stream:
        if suffix == ".pdf":
            stream.write(pdf_bytes(html))
        else:
            stream.write(html.encode("utf-8"))


def pdf_bytes(html: str) -> bytes:
    """The page as a PDF (WeasyPrint; no external resource is fetched: the page has none)."""
    from weasyprint import HTML

    data = HTML(string=html, base_url=None).write_pdf()
    assert isinstance(data, bytes)
    return data
