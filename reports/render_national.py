"""The national barometer (``temoin report CAMPAIGN``), in the reader's language.

    reports.campaign_stats.compute_stats (one call, every grouping below) --> cells
        previous campaign, when given: the same groupings --> cells before
    --> national_context (figures as text, sentences) --Jinja2 national.html.j2--> HTML

What it shows, in order:

1. **Key messages**: sentences computed from the figures: the overall score, the best- and
   the lowest-scored channel (small cells never named), the written requests answered and
   within target, the median delay or that half were not answered, the phone and the
   counter in one line each, and the change since the previous campaign.
2. **Per channel**: the headline table, the answer curve and the delay histogram.
3. **Per service kind** and **per collectivity kind**: communes by size (population
   strata), then EPCI, départements and régions as their own kinds (a département is not a
   town of 50 000 inhabitants and more).
4. **Criteria met**, per channel, least met first: timing, form and content checks of the
   written answers (the expected elements pooled), the audit-grid criteria of calls and
   visits pooled by their wording.
5. **Phone** (calls, pick-up, rings, delay before pick-up, transfers, hold) and **visit**
   (waiting median and the wait one visitor in ten exceeds, length of the exchange).
6. **Evolution** since ``previous``: score of every channel, collectivity kind and service
   kind, and the rates and delays of each channel.
7. **Method**, on its own page, in plain words (what an unanswered request does to the
   figures, what a range is); no statistician's jargon in the body.

Numbers, percentages and durations come from ``scenarios.formatting.Formats``; every word
from the catalogue (keys ``national.*`` and ``report.*``), French by default, English with
``locale="en"``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from reports.aggregate import WRITTEN
from reports.campaign_stats import compute_stats, shipped_catalog
from reports.cells import CHANNELS, Cell
from reports.charts import histogram_svg, km_svg
from reports.national_tables import (
    KINDS,
    Cells,
    Words,
    code_label,
    criteria_rows,
    evolution_blocks,
    kind_rows,
    km_median,
    phone_rows,
    row,
    visit_rows,
)
from reports.render_common import _ENV, ReportOptions
from reports.version import temoin_version
from scenarios.catalog import Catalog
from scenarios.formatting import Formats
from scenarios.i18n import Translator
from storage.stats import CampaignInfo

__all__ = ["GROUPINGS", "national_context", "national_report"]

GROUPINGS: Final[dict[str, tuple[str, ...]]] = {
    "overall": (),
    "channel": ("channel",),
    "service_kind": ("service_kind",),
    "kind": ("collectivity_kind",),
    "kind_stratum": ("collectivity_kind", "stratum"),
}


async def _cells(
    session: AsyncSession,
    campaign: CampaignInfo,
    *,
    as_of: datetime,
    options: ReportOptions,
    catalog: Catalog,
) -> Cells:
    tables = await compute_stats(
        session,
        campaign,
        list(GROUPINGS.values()),
        as_of=as_of,
        min_cell=options.min_cell,
        strata=options.strata,
        catalog=catalog,
    )
    by_keys = dict(tables)
    return {name: by_keys[keys] for name, keys in GROUPINGS.items()}


# --------------------------------------------------------------------------- key messages


def _ranked(cells: list[Cell], key: str) -> list[Cell]:
    """The cells that may be named best or lowest (not small, scored), best first."""
    fit = (c for c in cells if not c.small and c.score is not None)
    return sorted(fit, key=lambda c: (-(c.score or 0.0), c.key(key) or ""))


def _name(cell: Cell, key: str, w: Words) -> str:
    if key == "channel":
        return w.t(f"national.the.{cell.key('channel')}")
    if key == "kind":
        return code_label(w, "national.kind", cell.key("collectivity_kind"))
    return code_label(w, f"national.{key}", cell.key(key))


def _best_and_worst(message: str, ranked: list[Cell], key: str, w: Words) -> str:
    best, worst = ranked[0], ranked[-1]
    return w.t(message, best=_name(best, key, w), best_score=w.score(best.score),
               worst=_name(worst, key, w), worst_score=w.score(worst.score))  # fmt: skip


def _key_messages(
    now: Cells, before: Cells | None, previous_name: str, options: ReportOptions, w: Words
) -> list[str]:
    t, f = w.t, w.f
    out: list[str] = []
    overall = now["overall"][0] if now["overall"] else None
    if overall is None:
        return out
    out.append(
        t(
            "national.key_overall",
            contacts=f.number(overall.delivered),
            score=w.score(overall.score),
        )
    )
    channels = _ranked(now["channel"], "channel")
    if len(channels) >= 2:
        out.append(_best_and_worst("national.key_best_worst", channels, "channel", w))
    elif len(channels) == 1:
        only = channels[0]
        out.append(t("national.key_one_channel", channel=_name(only, "channel", w),
                     score=w.score(only.score)))  # fmt: skip
    kinds = _ranked(now["service_kind"], "service_kind")
    if len(kinds) >= 2:
        out.append(_best_and_worst("national.key_service_kinds", kinds, "service_kind", w))
    kinds_scored = [c for c in now["kind"] if not c.small and c.score is not None]
    if len(kinds_scored) >= 2:
        order = {kind: i for i, kind in enumerate(KINDS)}
        kinds_scored.sort(key=lambda c: order.get(c.key("collectivity_kind") or "", len(KINDS)))
        parts = [
            t("national.key_kind_part", kind=_name(c, "kind", w), score=w.score(c.score))
            for c in kinds_scored
        ]
        out.append(t("national.key_kinds", parts=t("national.list_separator").join(parts)))
    if overall.written_delivered:
        out.append(
            t(
                "national.key_written",
                response=w.pct(overall.response),
                within=w.pct(overall.answered_within_target),
            )
        )
        median = km_median(overall)
        out.append(
            t("national.key_delay", days=w.days(median))
            if median is not None
            else t("national.key_delay_not_reached")
        )
        if overall.answer_bdays.censored:
            out.append(t("national.key_unanswered", n=f.number(overall.answer_bdays.censored)))
    phone = next((c for c in now["channel"] if c.key("channel") == "phone"), None)
    if phone is not None and phone.phone.calls:
        rings = phone.phone.rings_median
        out.append(
            t(
                "national.key_phone",
                pickup=w.pct(phone.phone.picked_up),
                rings=t("national.key_rings", rings=w.days(rings)) if rings is not None else "",
            )
        )
    visit = next((c for c in now["channel"] if c.key("channel") == "visit"), None)
    if visit is not None and visit.visit.waiting_seconds_median is not None:
        out.append(t("national.key_visit", waiting=f.duration(visit.visit.waiting_seconds_median)))
    old = before["overall"][0] if before and before["overall"] else None
    if old is not None and old.score is not None and overall.score is not None:
        change = overall.score - old.score
        key = (
            "national.key_same"
            if abs(change) < 0.05
            else "national.key_up"
            if change > 0
            else "national.key_down"
        )
        shown = f.points(abs(change) / 100.0).lstrip("+")
        out.append(t(key, name=previous_name, change=shown, before=w.score(old.score),
                     now=w.score(overall.score)))  # fmt: skip
    if old is not None and old.written_delivered and overall.written_delivered:
        moved = _diff(overall.response.rate, old.response.rate)
        out.append(t("national.key_response_change", before=w.pct(old.response),
                     now=w.pct(overall.response), change=f.points(moved)))  # fmt: skip
    if any(c.small for c in now["channel"]):
        out.append(t("national.key_small", n=f.number(options.min_cell)))
    return out


def _diff(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else now - before


# --------------------------------------------------------------------------- the report


def _header(
    campaign: CampaignInfo, generated_at: datetime, as_of: datetime, w: Words
) -> dict[str, str]:
    t, f = w.t, w.f

    def at(instant: datetime) -> str:
        return t("report.date_time", date=f.date(instant), time=f.time(instant))

    closed = campaign.closed_at
    return {
        "campaign": t("report.campaign", title=campaign.title or campaign.name),
        "window": t("report.window", start=f.date(campaign.window_start),
                    end=f.date(campaign.window_end)),
        "generated": t("report.generated", date=at(generated_at)),
        "as_of": t("report.as_of_closed", date=at(closed)) if closed is not None
        else t("report.as_of_open", date=at(as_of)),
        "version": temoin_version(),
    }  # fmt: skip


def _charts(channels: list[Cell], w: Words) -> dict[str, Markup]:
    t = w.t
    written = [c for c in channels if c.key("channel") in WRITTEN and c.written_delivered]
    charts: dict[str, Markup] = {}
    if not written:
        return charts
    curves = [(t(f"channel.{c.key('channel')}"), c.answer_bdays.kaplan_meier()) for c in written]
    # our own matplotlib output, not user input
    charts["km"] = Markup(
        km_svg(curves, xlabel=t("report.km_axis_x"), ylabel=t("report.km_axis_y"))
    )
    series = [
        (t(f"channel.{c.key('channel')}"), list(c.answer_bdays.event_times))
        for c in written
        if c.answer_bdays.observed
    ]
    if series:
        charts["histogram"] = Markup(
            histogram_svg(series, xlabel=t("report.km_axis_x"), ylabel=t("report.hist_axis_y"))
        )
    return charts


async def national_context(
    session: AsyncSession,
    campaign: CampaignInfo,
    *,
    generated_at: datetime,
    as_of: datetime | None = None,
    previous: CampaignInfo | None = None,
    options: ReportOptions = ReportOptions(),
    catalog: Catalog | None = None,
    locale: str = "fr",
) -> dict[str, Any]:
    """What the national barometer shows, as its template's context (module docstring)."""
    w = Words(Translator(locale), Formats(locale))
    t = w.t
    catalog = catalog or shipped_catalog()
    as_of = as_of or generated_at
    now = await _cells(session, campaign, as_of=as_of, options=options, catalog=catalog)
    before: Cells | None = None
    previous_name = ""
    if previous is not None:
        previous_name = previous.title or previous.name
        before = await _cells(
            session, previous, as_of=previous.closed_at or as_of, options=options, catalog=catalog
        )
    channels = now["channel"]
    headline = [row(c, t(f"channel.{c.key('channel')}"), w) for c in channels]
    headline += [row(c, t("report.overall"), w) for c in now["overall"]]
    by_channel = {c.key("channel"): c for c in channels}
    criteria = [
        {
            "title": t(f"channel.{channel}"),
            "rows": criteria_rows(by_channel[channel], catalog, w, options.min_cell),
        }
        for channel in CHANNELS
        if channel in by_channel and by_channel[channel].criteria
    ]
    censored = sum(c.answer_bdays.censored for c in channels if c.key("channel") in WRITTEN)
    phone = by_channel.get("phone")
    visit = by_channel.get("visit")
    return dict(
        t=t,
        lang=t.locale,
        title=t("report.title_national"),
        header=_header(campaign, generated_at, as_of, w),
        key_messages=_key_messages(now, before, previous_name, options, w),
        headline=headline,
        charts=_charts(channels, w),
        km_caption=t("national.km_caption", censored=w.f.number(censored)),
        service_kinds=[
            row(c, code_label(w, "national.service_kind", c.key("service_kind")), w)
            for c in now["service_kind"]
        ],
        kinds=kind_rows(now, options.strata, w),
        criteria=criteria,
        phone=phone_rows(phone, w) if phone is not None and phone.phone.calls else [],
        visit=visit_rows(visit, w) if visit is not None and visit.visit.visits else [],
        previous_title=t("national.evolution_title", name=previous_name) if previous else "",
        evolution=evolution_blocks(now, before, w) if before is not None else [],
        small_note=t("report.small_cell", n=options.min_cell),
        min_cell=options.min_cell,
    )


async def national_report(
    session: AsyncSession,
    campaign: CampaignInfo,
    *,
    generated_at: datetime,
    as_of: datetime | None = None,
    previous: CampaignInfo | None = None,
    options: ReportOptions = ReportOptions(),
    catalog: Catalog | None = None,
    locale: str = "fr",
) -> str:
    """The national barometer of ``campaign`` as a self-contained HTML page."""
    context = await national_context(
        session,
        campaign,
        generated_at=generated_at,
        as_of=as_of,
        previous=previous,
        options=options,
        catalog=catalog,
        locale=locale,
    )
    return _ENV.get_template("national.html.j2").render(**context)
