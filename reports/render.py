"""Rendered reports in French: self-contained HTML, and PDF from the same HTML (WeasyPrint).

    contact_records (one pass) --Aggregator--> cells --format--> context --Jinja2--> HTML
                                                         charts (inline SVG) --^      |
                                                                      WeasyPrint <----+--> PDF

Two reports:

- national (``national_report``): headline figures per channel with Wilson intervals,
  the distribution of answer delays, Kaplan–Meier curves of the share answered over business
  days (unanswered requests censored at close, and counted), population strata compared
  (small cells flagged, never ranked), and the change from a previous campaign when given.
- a collectivity's own barometer (``collectivity_report``): its figures beside the national
  ones and those of the other collectivities of its population stratum, the criteria it
  missed with improvement tracks from the scenarios, and the timeline of each of its
  contacts.

Confidentiality of a collectivity's report: it names no other collectivity (the only names
in it are its own and its own services'), and shows no figure computed over fewer than
``min_peers`` *other* collectivities, counted figure by figure (``reports.peers``: those
with a delivered contact in that channel's sample for that measure). A withheld cell says
« donnée masquée : moins de N collectivités »; a column with no cell left is dropped with a
sentence saying why, and so is the national curve of the chart. Peer figures are computed
over the other collectivities of the stratum (itself excluded); national figures over
every collectivity.

Self-contained: CSS in the page, charts as inline SVG, no external resource. Numbers are
written the French way (decimal comma, narrow no-break space before ``%``), instants in
Europe/Paris.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from reports.aggregate import (
    MAX_RINGS_ON_TIME,
    TIMING_ACK,
    TIMING_ANSWER,
    TIMING_PICKUP,
    Aggregator,
)
from reports.barometer import CampaignFigures, by_channel, campaign_figures, groupings
from reports.campaign_stats import contact_records, shipped_catalog
from reports.cells import Cell
from reports.charts import histogram_svg, km_svg
from reports.facts import ContactFacts
from reports.intervals import Proportion
from reports.outputs import open_output
from reports.strata import DEFAULT_STRATA, population_stratum
from reports.version import temoin_version
from scenarios.catalog import Catalog, Scenario
from scenarios.i18n import Translator
from storage.stats import CampaignInfo, CollectivityInfo, ContactRow

__all__ = [
    "ReportOptions",
    "collectivity_context",
    "collectivity_report",
    "national_report",
    "write_report",
]

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


# --------------------------------------------------------------------------- figures


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


# --------------------------------------------------------------------------- collectivity


def _missed(facts: ContactFacts, scenario: Scenario | None) -> list[tuple[str, bool]]:
    """(criterion id, met) of every assessed criterion of one contact, timing included."""
    out: list[tuple[str, bool]] = []
    if facts.delivered and facts.channel in WRITTEN:
        if facts.answered_within_target is not None:
            out.append((TIMING_ANSWER, facts.answered_within_target))
        if facts.acknowledged_within_target is not None:
            out.append((TIMING_ACK, facts.acknowledged_within_target))
    if facts.delivered and facts.channel == "phone" and facts.picked_up is not None:
        if not facts.picked_up:
            out.append((TIMING_PICKUP, False))
        elif facts.rings is not None:
            out.append((TIMING_PICKUP, facts.rings <= MAX_RINGS_ON_TIME))
    out += [(cid, met) for cid, _w, met in facts.grid if met is not None]
    return out


def _criterion_label(criterion: str, scenario: Scenario | None, t: Translator) -> str:
    if criterion.startswith("timing."):
        return t(f"report.timing.{criterion}")
    if criterion.startswith("form."):
        key = f"report.{criterion}"
        return t(key) if t.has(key) else criterion
    if scenario is not None:
        rest = criterion.removeprefix(f"{scenario.id}.")
        if rest.startswith("content."):
            element = rest.removeprefix("content.")
            for expected in scenario.expected_elements:
                if expected.id == element:
                    return t("report.timing.content", label=expected.label)
            return element
        try:
            return scenario.question(rest).label
        except KeyError:
            return rest
    return criterion


def _timeline(row: ContactRow, facts: ContactFacts, t: Translator) -> list[dict[str, str]]:
    items: list[tuple[datetime, str]] = [(facts.planned_at, t("report.event.planned"))]
    field_kinds = {e.kind for e in row.events}
    if facts.sent_at is not None and row.channel == "email":
        items.append((facts.sent_at, t("report.event.sent")))
    for event in row.events:
        key = f"report.event.{event.kind}"
        if t.has(key):
            items.append((event.at, t(key)))
    if facts.first_ack_at is not None:
        items.append((facts.first_ack_at, t("report.event.ack")))
    if facts.first_answer_at is not None and "letter.reply_received" not in field_kinds:
        items.append((facts.first_answer_at, t("report.event.answer")))
    items.sort(key=lambda item: item[0])
    out = [{"at": instant(at, t), "what": what} for at, what in items]
    unanswered = facts.channel in WRITTEN and facts.delivered and facts.answer_seconds is None
    if unanswered and facts.censor_seconds is not None and facts.closed_at is not None:
        out.append({"at": instant(facts.closed_at, t), "what": t("report.unanswered")})
    return out


async def collectivity_report(
    session: AsyncSession,
    campaign: CampaignInfo,
    collectivity: CollectivityInfo,
    *,
    generated_at: datetime,
    as_of: datetime | None = None,
    options: ReportOptions = ReportOptions(),
    catalog: Catalog | None = None,
    figures: CampaignFigures | None = None,
) -> str:
    """A collectivity's own barometer (module docstring: what it shows and withholds)."""
    context = await collectivity_context(
        session,
        campaign,
        collectivity,
        generated_at=generated_at,
        as_of=as_of,
        options=options,
        catalog=catalog,
        figures=figures,
    )
    return _ENV.get_template("collectivity.html.j2").render(**context)


async def collectivity_context(
    session: AsyncSession,
    campaign: CampaignInfo,
    collectivity: CollectivityInfo,
    *,
    generated_at: datetime,
    as_of: datetime | None = None,
    options: ReportOptions = ReportOptions(),
    catalog: Catalog | None = None,
    figures: CampaignFigures | None = None,
) -> dict[str, Any]:
    """What a collectivity's barometer shows, as the template's context: the rendered report
    and the web portal (``web/``) show the same sections from it.

    ``figures``: the campaign-wide part (``reports.barometer``), computed for the same
    ``as_of`` and options, when the caller keeps it (the portal); else computed here."""
    t = Translator("fr")
    catalog = catalog or shipped_catalog()
    as_of = as_of or generated_at
    own_code = collectivity.insee_code
    stratum = population_stratum(collectivity.population, options.strata)
    if figures is None:
        figures = await campaign_figures(
            session, campaign, as_of=as_of, min_cell=options.min_cell,
            strata=options.strata, catalog=catalog,
        )  # fmt: skip
    elif (figures.as_of, figures.min_cell, figures.strata) != (
        as_of, options.min_cell, tuple(options.strata)
    ):  # fmt: skip
        raise ValueError("the campaign figures were computed with other options")

    own = groupings(options.min_cell, options.strata)
    own_rows: list[tuple[ContactRow, ContactFacts]] = []
    async for row, facts in contact_records(
        session, campaign, as_of=as_of, catalog=catalog, collectivity_ids=[collectivity.id]
    ):
        own_rows.append((row, facts))
        for aggregator in own.values():
            aggregator.add(facts)
    contributors = figures.contributors
    stratum_codes = figures.stratum_codes.get(stratum, frozenset()) - {own_code}

    def national_count(key: str | None, metric: str) -> int:
        return len(contributors.get((key, metric), frozenset()) - {own_code})

    def peer_count(key: str | None, metric: str) -> int:
        return len(contributors.get((key, metric), frozenset()) & stratum_codes)

    own_cells = by_channel(own)
    national_cells = figures.national
    peer_cells = figures.peers(stratum, own)
    withheld_cell = t("report.withheld_cell", n=options.min_peers)

    def figure(cell: Cell | None, metric: str) -> str:
        if cell is None:
            return t("report.not_available")
        if metric == "response":
            return percent(cell.response.rate, t)
        if metric == "within":
            return percent(cell.answered_within_target.rate, t)
        if metric == "ack":
            return percent(cell.acknowledgement.rate, t)
        if metric == "km":
            return days(cell.answer_bdays.km.median, t) if cell.written_delivered else ""
        if metric == "pickup":
            return percent(cell.phone.picked_up.rate, t)
        if metric == "waiting":
            return minutes(cell.visit.waiting_seconds_median, t)
        if metric == "score":
            return _number(cell.score) if cell.score is not None else t("report.not_available")
        raise ValueError(metric)

    metrics_for = {
        "email": ("response", "within", "ack", "km", "score"),
        "letter": ("response", "within", "ack", "km", "score"),
        "phone": ("pickup", "score"),
        "visit": ("waiting", "score"),
        None: ("score",),
    }
    names = {
        "response": t("report.response_rate"),
        "within": t("report.within_target"),
        "ack": t("report.ack_rate"),
        "km": t("report.km_median"),
        "pickup": t("report.pickup_rate"),
        "waiting": t("report.waiting_median"),
        "score": t("report.score"),
    }
    comparison: list[dict[str, Any]] = []
    column_counts: dict[str, list[int]] = {"national": [], "peers": []}
    for key in (*(c for c in ("email", "letter", "phone", "visit") if c in own_cells), None):
        if key not in own_cells:
            continue
        label = t(f"channel.{key}") if key else t("report.overall")
        rows = []
        for metric in metrics_for[key]:
            line = {"metric": names[metric], "yours": figure(own_cells[key], metric)}
            for column, cells, count in (
                ("national", national_cells, national_count(key, metric)),
                ("peers", peer_cells, peer_count(key, metric)),
            ):
                column_counts[column].append(count)
                published = count >= options.min_peers
                line[column] = figure(cells.get(key), metric) if published else withheld_cell
            rows.append(line)
        comparison.append({"label": label, "contacts": own_cells[key].delivered, "rows": rows})
    # A column is dropped when not one of its cells can be published.
    show_national = max(column_counts["national"], default=0) >= options.min_peers
    show_peers = max(column_counts["peers"], default=0) >= options.min_peers

    # criteria missed, per scenario, with the scenario's improvement tracks
    tallies: dict[str, dict[str, list[int]]] = defaultdict(dict)
    for _row, facts in own_rows:
        scenario = catalog.scenarios.get(facts.scenario_id)
        for criterion, met in _missed(facts, scenario):
            counts = tallies[facts.scenario_id].setdefault(criterion, [0, 0])
            counts[0] += 1
            counts[1] += 0 if met else 1
    missed: list[dict[str, Any]] = []
    for scenario_id in sorted(tallies):
        scenario = catalog.scenarios.get(scenario_id)
        items = [
            {
                "label": _criterion_label(criterion, scenario, t),
                "count": t("report.missed_count", missed=counts[1], assessed=counts[0]),
            }
            for criterion, counts in sorted(tallies[scenario_id].items())
            if counts[1]
        ]
        if items:
            missed.append(
                {
                    "title": scenario.title if scenario else scenario_id,
                    "criteria": items,
                    "tips": list(scenario.improvement_tips) if scenario else [],
                }
            )

    timelines = []
    for row, facts in sorted(own_rows, key=lambda rf: (rf[1].planned_at, rf[0].id)):
        scenario = catalog.scenarios.get(row.scenario_id)
        timelines.append(
            {
                "title": t(
                    "report.timeline_contact",
                    channel=t(f"channel.{row.channel}"),
                    scenario=scenario.title if scenario else row.scenario_id,
                    service=row.service_name,
                ),
                "events": _timeline(row, facts, t),
            }
        )

    charts: dict[str, Markup] = {}
    own_overall = own_cells.get(None)
    if own_overall is not None and own_overall.written_delivered:
        curves = [(t("report.chart_yours"), own_overall.answer_bdays.kaplan_meier())]
        national_km = figures.national_km()
        if national_km is not None and national_count(None, "km") >= options.min_peers:
            curves.append((t("report.chart_national"), national_km))
        charts["km"] = _svg(
            km_svg(curves, xlabel=t("report.km_axis_x"), ylabel=t("report.km_axis_y"))
        )

    return dict(
        t=t,
        title=t("report.title_collectivity", name=collectivity.name),
        header=_header(campaign, generated_at, as_of, t),
        comparison=comparison,
        show_national=show_national,
        show_peers=show_peers,
        peers_label=t("report.peers", stratum=stratum),
        withheld=[
            t(f"report.withheld_{column}", n=options.min_peers, count=max(counts, default=0))
            for column, counts in column_counts.items()
            if max(counts, default=0) < options.min_peers
        ],
        missed=missed,
        timelines=timelines,
        charts=charts,
    )


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
