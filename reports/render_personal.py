"""A collectivity's own barometer (``collectivity_report``, ``collectivity_context``).

Confidentiality: it names no other collectivity (the only names in it are its own and its own
services'), and shows no figure computed over fewer than ``min_peers`` *other* collectivities,
counted figure by figure (``reports.peers``: those with a delivered contact in that channel's
sample for that measure). A withheld cell says « donnée masquée : moins de N collectivités »;
a column with no cell left is dropped with a sentence saying why, and so is the national curve
of the chart. Peer figures are computed over the other collectivities of the stratum (itself
excluded); national figures over every collectivity.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from reports.aggregate import (
    MAX_RINGS_ON_TIME,
    TIMING_ACK,
    TIMING_ANSWER,
    TIMING_PICKUP,
    Aggregator,
)
from reports.campaign_stats import contact_records, shipped_catalog
from reports.cells import Cell
from reports.charts import km_svg
from reports.facts import ContactFacts
from reports.peers import PeerCounter
from reports.render_common import (
    _ENV,
    WRITTEN,
    ReportOptions,
    _header,
    _number,
    _svg,
    days,
    instant,
    minutes,
    percent,
)
from reports.strata import population_stratum
from scenarios.catalog import Catalog, Scenario
from scenarios.i18n import Translator
from storage.stats import CampaignInfo, CollectivityInfo, ContactRow

__all__ = ["collectivity_context", "collectivity_report"]


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
) -> dict[str, Any]:
    """What a collectivity's barometer shows, as the template's context: the rendered report
    and the web portal (``web/``) show the same sections from it."""
    t = Translator("fr")
    catalog = catalog or shipped_catalog()
    as_of = as_of or generated_at
    own_code = collectivity.insee_code
    stratum = population_stratum(collectivity.population, options.strata)

    def make(by: tuple[str, ...]) -> Aggregator:
        return Aggregator(by, min_cell=options.min_cell, strata=options.strata)

    national = {"overall": make(()), "channel": make(("channel",))}
    peers = {"overall": make(()), "channel": make(("channel",))}
    own = {"overall": make(()), "channel": make(("channel",))}
    counter = PeerCounter(options.strata)
    stratum_codes: set[str] = set()
    own_rows: list[tuple[ContactRow, ContactFacts]] = []
    async for row, facts in contact_records(session, campaign, as_of=as_of, catalog=catalog):
        counter.add(facts)
        for aggregator in national.values():
            aggregator.add(facts)
        if facts.collectivity_code == own_code:
            own_rows.append((row, facts))
            for aggregator in own.values():
                aggregator.add(facts)
        elif population_stratum(facts.population, options.strata) == stratum:
            stratum_codes.add(facts.collectivity_code)
            for aggregator in peers.values():
                aggregator.add(facts)
    contributors = counter.contributors()

    def national_count(key: str | None, metric: str) -> int:
        return len(contributors.get((key, metric), frozenset()) - {own_code})

    def peer_count(key: str | None, metric: str) -> int:
        return len(contributors.get((key, metric), frozenset()) & stratum_codes)

    def by_channel(aggs: dict[str, Aggregator]) -> dict[str | None, Cell]:
        cells: dict[str | None, Cell] = {c.key("channel"): c for c in aggs["channel"].cells()}
        overall = aggs["overall"].cells()
        if overall:
            cells[None] = overall[0]
        return cells

    own_cells = by_channel(own)
    national_cells = by_channel(national)
    peer_cells = by_channel(peers)
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
        national_overall = national_cells.get(None)
        if (
            national_overall is not None
            and national_overall.written_delivered
            and national_count(None, "km") >= options.min_peers
        ):
            curves.append(
                (t("report.chart_national"), national_overall.answer_bdays.kaplan_meier())
            )
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
