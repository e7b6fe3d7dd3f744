"""The national barometer (``national_report``): headline figures per channel with Wilson
intervals, the distribution of answer delays, Kaplan–Meier curves of the share answered over
business days (unanswered requests censored at close, and counted), population strata compared
(small cells flagged, never ranked), and the change from a previous campaign when given.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from reports.aggregate import Aggregator
from reports.campaign_stats import contact_records, shipped_catalog
from reports.cells import Cell
from reports.charts import histogram_svg, km_svg
from reports.render_common import (
    _ENV,
    WRITTEN,
    ReportOptions,
    _change,
    _header,
    _number,
    _previous_cells,
    _svg,
    days,
    interval,
    minutes,
    percent,
    points,
)
from scenarios.catalog import Catalog
from scenarios.i18n import Translator
from storage.stats import CampaignInfo

__all__ = ["national_report"]


def _headline(cell: Cell, t: Translator, label: str, min_cell: int) -> dict[str, Any]:
    channel = cell.key("channel")
    written = channel in WRITTEN or channel is None
    return {
        "label": label,
        "contacts": cell.delivered,
        "response": percent(cell.response.rate, t) if written else "",
        "response_ci": interval(cell.response, t) if written else "",
        "within": percent(cell.answered_within_target.rate, t) if written else "",
        "ack": percent(cell.acknowledgement.rate, t) if written else "",
        "km": days(cell.answer_bdays.km.median, t) if written and cell.written_delivered else "",
        "pickup": percent(cell.phone.picked_up.rate, t) if channel in ("phone", None) else "",
        "waiting": minutes(cell.visit.waiting_seconds_median, t)
        if channel in ("visit", None)
        else "",
        "score": _number(cell.score) if cell.score is not None else t("report.not_available"),
        "small": t("report.small_cell", n=min_cell) if cell.small else "",
    }


def _written_curves(cells: Sequence[Cell], t: Translator) -> list[tuple[str, Any]]:
    out = []
    for cell in cells:
        channel = cell.key("channel")
        if channel in WRITTEN and cell.written_delivered:
            out.append((t(f"channel.{channel}"), cell.answer_bdays.kaplan_meier()))
    return out


async def national_report(
    session: AsyncSession,
    campaign: CampaignInfo,
    *,
    generated_at: datetime,
    as_of: datetime | None = None,
    previous: CampaignInfo | None = None,
    options: ReportOptions = ReportOptions(),
    catalog: Catalog | None = None,
) -> str:
    """The national barometer of ``campaign`` as a self-contained HTML page."""
    t = Translator("fr")
    catalog = catalog or shipped_catalog()
    as_of = as_of or generated_at
    agg = {
        name: Aggregator(by, min_cell=options.min_cell, strata=options.strata)
        for name, by in (("overall", ()), ("channel", ("channel",)), ("stratum", ("stratum",)))
    }
    async for _row, facts in contact_records(session, campaign, as_of=as_of, catalog=catalog):
        for aggregator in agg.values():
            aggregator.add(facts)
    overall = agg["overall"].cells()
    channels = agg["channel"].cells()
    strata = agg["stratum"].cells()
    headline = [
        _headline(c, t, t(f"channel.{c.key('channel')}"), options.min_cell) for c in channels
    ]
    headline += [_headline(c, t, t("report.overall"), options.min_cell) for c in overall]
    curves = _written_curves(channels, t)
    censored = sum(c.answer_bdays.censored for c in channels if c.key("channel") in WRITTEN)
    charts: dict[str, Markup] = {}
    if curves:
        charts["km"] = _svg(
            km_svg(curves, xlabel=t("report.km_axis_x"), ylabel=t("report.km_axis_y"))
        )
        series = [
            (t(f"channel.{c.key('channel')}"), list(c.answer_bdays.event_times))
            for c in channels
            if c.key("channel") in WRITTEN and c.answer_bdays.observed
        ]
        if series:
            charts["histogram"] = _svg(
                histogram_svg(series, xlabel=t("report.km_axis_x"), ylabel=t("report.hist_axis_y"))
            )
    strata_rows = [
        _headline(c, t, c.key("stratum") or t("report.not_available"), options.min_cell)
        for c in strata
    ]
    changes: list[dict[str, str]] = []
    previous_name = ""
    if previous is not None:
        previous_name = previous.title or previous.name
        before = await _previous_cells(
            session, previous, as_of=previous.closed_at or as_of, options=options, catalog=catalog
        )
        now_cells: dict[str | None, Cell] = {c.key("channel"): c for c in channels}
        if overall:
            now_cells[None] = overall[0]
        for key, cell in now_cells.items():
            old = before.get(key)
            label = t(f"channel.{key}") if key else t("report.overall")
            if key in (*WRITTEN, None):
                changes.append(
                    {
                        "label": f"{label} – {t('report.response_rate')}",
                        "before": percent(old.response.rate if old else None, t),
                        "now": percent(cell.response.rate, t),
                        "change": points(
                            _change(cell.response.rate, old.response.rate if old else None), t
                        ),
                    }
                )
            if key == "phone":
                rate = cell.phone.picked_up.rate
                old_rate = old.phone.picked_up.rate if old else None
                changes.append(
                    {
                        "label": f"{label} – {t('report.pickup_rate')}",
                        "before": percent(old_rate, t),
                        "now": percent(rate, t),
                        "change": points(_change(rate, old_rate), t),
                    }
                )
    html = _ENV.get_template("national.html.j2").render(
        t=t,
        title=t("report.title_national"),
        header=_header(campaign, generated_at, as_of, t),
        headline=headline,
        charts=charts,
        km_caption=t("report.km_caption", censored=censored),
        strata=strata_rows,
        previous_title=t("report.previous", name=previous_name) if previous else "",
        changes=changes,
    )
    return html
