"""A collectivity's own barometer (``collectivity_report``, ``collectivity_context``).

What a director reads, in this order:

1. Synthèse (the first page): per channel (email, letter, phone, visit) and overall, the
   number of contacts, the score out of 100, its change since the previous campaign (when
   ``previous`` is given), the score of comparable collectivities, three strengths and three
   priorities; the consultant's overall comment.
2. One section per channel: its figures beside the national and peer ones (rates with their
   Wilson interval; a small sample flagged with its n and that interval said in words), the
   findings (« Décroché en 4 sonneries au plus : 0 sur 2 »), the auditors' remarks
   (anonymised), the pistes de progrès, the consultant's comment on that channel.
3. The written answers' curve, the method in plain words, and in an annex the timeline of
   each contact.

Wording, findings and peer groups: ``reports.personal_findings``. Comments:
``storage.comments`` (entered with ``temoin comment``).

Confidentiality: it names no other collectivity (the only names in it are its own and its own
services'), and shows no figure computed over fewer than ``min_peers`` *other* collectivities,
counted figure by figure (``reports.peers``: those with a delivered contact in that channel's
sample for that measure). A withheld cell says « donnée masquée : moins de N collectivités »;
a column with no cell left is dropped with a sentence saying why, and so is the national curve
of the chart. Peer figures are computed over the other collectivities of its peer group
(itself excluded; communes by population stratum, EPCI, départements and régions with their
own kind); national figures over every collectivity.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from reports.aggregate import Aggregator
from reports.barometer import CampaignFigures, campaign_figures, groupings
from reports.campaign_stats import contact_records, shipped_catalog
from reports.cells import Cell
from reports.charts import km_svg
from reports.facts import ContactFacts
from reports.intervals import Proportion
from reports.personal_findings import (
    Finding,
    names_pattern,
    peer_group,
    peer_label,
    remarks_of,
    strengths_and_priorities,
    tally,
    tips_for,
)
from reports.render_common import _ENV, WRITTEN, ReportOptions, _svg
from reports.version import temoin_version
from scenarios.catalog import Catalog
from scenarios.formatting import Formats
from scenarios.i18n import Translator
from scenarios.typography import french
from storage.comments import CommentInfo, list_comments
from storage.stats import CampaignInfo, CollectivityInfo, ContactRow, actor_names

__all__ = ["collectivity_context", "collectivity_report"]

CHANNELS: Final = ("email", "letter", "phone", "visit")
METRICS_FOR: Final[dict[str | None, tuple[str, ...]]] = {
    "email": ("response", "within", "ack", "km", "score"),
    "letter": ("response", "within", "ack", "km", "score"),
    "phone": ("pickup", "score"),
    "visit": ("waiting", "score"),
    None: ("score",),
}
METRIC_NAMES: Final = {
    "response": "report.response_rate",
    "within": "report.within_target",
    "ack": "report.ack_rate",
    "km": "report.km_median",
    "pickup": "report.pickup_rate",
    "waiting": "report.waiting_median",
    "score": "report.score",
}


class _Words:
    """The reader's words and formats, and the report's figures written with them."""

    def __init__(self, locale: str) -> None:
        self.t = Translator(locale)
        self.f = Formats(self.t.locale)
        self.french = self.t.locale == "fr"

    def prose(self, text: str) -> str:
        return french(text) if self.french else text

    def quote(self, text: str) -> str:
        return f"«\u202f{text}\u202f»" if self.french else f"\u201c{text}\u201d"

    def instant(self, value: datetime) -> str:
        return self.t("report.date_time", date=self.f.date(value), time=self.f.time(value))

    def proportion(self, p: Proportion) -> tuple[str, str]:
        """The rate and its interval (« [30,6 % ; 86,3 %] »), dashes when n = 0."""
        if p.rate is None or p.low is None or p.high is None:
            dash = self.t("report.not_available")
            return dash, ""
        return self.f.percent(p.rate), self.t(
            "report.interval", low=self.f.percent(p.low), high=self.f.percent(p.high)
        )

    def score(self, value: float | None) -> str:
        return self.t("report.not_available") if value is None else self.f.number(value, 1)

    def figure(self, cell: Cell | None, metric: str) -> str:
        if cell is None:
            return self.t("report.not_available")
        if metric in ("response", "within", "ack", "pickup"):
            return self.proportion(_proportion(cell, metric))[0]
        if metric == "km":
            if not cell.written_delivered:
                return ""
            median = cell.answer_bdays.km.median
            return self.t("report.not_reached") if median is None else self.f.number(median, 1)
        if metric == "waiting":
            return self.f.duration(cell.visit.waiting_seconds_median)
        if metric == "score":
            return self.score(cell.score)
        raise ValueError(metric)


def _proportion(cell: Cell, metric: str) -> Proportion:
    return {
        "response": cell.response,
        "within": cell.answered_within_target,
        "ack": cell.acknowledgement,
        "pickup": cell.phone.picked_up,
    }[metric]


def _main_rate(cell: Cell, channel: str | None) -> Proportion | None:
    if channel in WRITTEN:
        return cell.response
    if channel == "phone":
        return cell.phone.picked_up
    return None


def _timeline(row: ContactRow, facts: ContactFacts, w: _Words) -> list[dict[str, str]]:
    t = w.t
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
    out = [{"at": w.instant(at), "what": what} for at, what in items]
    unanswered = facts.channel in WRITTEN and facts.delivered and facts.answer_seconds is None
    if unanswered and facts.censor_seconds is not None and facts.closed_at is not None:
        out.append({"at": w.instant(facts.closed_at), "what": t("report.unanswered")})
    return out


def _by_channel(by: dict[str, Aggregator]) -> dict[str | None, Cell]:
    cells: dict[str | None, Cell] = {c.key("channel"): c for c in by["channel"].cells()}
    overall = by["overall"].cells()
    if overall:
        cells[None] = overall[0]
    return cells


def _comments(found: list[CommentInfo], w: _Words) -> dict[str | None, list[dict[str, Any]]]:
    out: dict[str | None, list[dict[str, Any]]] = {}
    for comment in found:
        out.setdefault(comment.channel, []).append(
            {
                "paragraphs": [
                    w.prose(" ".join(p.split())) for p in comment.text.split("\n\n") if p.strip()
                ],
                "signature": w.t(
                    "report.personal.comment_signature",
                    author=comment.author,
                    date=w.f.long_date(comment.created_at),
                ),
            }
        )
    return out


async def collectivity_report(
    session: AsyncSession,
    campaign: CampaignInfo,
    collectivity: CollectivityInfo,
    *,
    generated_at: datetime,
    as_of: datetime | None = None,
    previous: CampaignInfo | None = None,
    options: ReportOptions = ReportOptions(),
    catalog: Catalog | None = None,
    locale: str = "fr",
    figures: CampaignFigures | None = None,
) -> str:
    """A collectivity's own barometer as a self-contained HTML page (module docstring)."""
    context = await collectivity_context(
        session, campaign, collectivity, generated_at=generated_at, as_of=as_of,
        previous=previous, options=options, catalog=catalog, locale=locale, figures=figures,
    )  # fmt: skip
    return _ENV.get_template("collectivity.html.j2").render(**context)


async def collectivity_context(
    session: AsyncSession,
    campaign: CampaignInfo,
    collectivity: CollectivityInfo,
    *,
    generated_at: datetime,
    as_of: datetime | None = None,
    previous: CampaignInfo | None = None,
    options: ReportOptions = ReportOptions(),
    catalog: Catalog | None = None,
    locale: str = "fr",
    figures: CampaignFigures | None = None,
) -> dict[str, Any]:
    """What a collectivity's barometer shows, as the template's context: the rendered report
    and the web portal (``web/``) show the same sections from it.

    ``figures``: the campaign-wide part (``reports.barometer``), computed for the same
    ``as_of`` and options, when the caller keeps it (the portal); else computed here."""
    w = _Words(locale)
    t, f = w.t, w.f
    catalog = catalog or shipped_catalog()
    as_of = as_of or generated_at
    own_code = collectivity.insee_code
    group = peer_group(collectivity.kind, collectivity.population, options.strata)

    if figures is None:
        figures = await campaign_figures(
            session, campaign, as_of=as_of, min_cell=options.min_cell,
            strata=options.strata, catalog=catalog,
        )  # fmt: skip
    elif (figures.as_of, figures.min_cell, figures.strata) != (
        as_of, options.min_cell, tuple(options.strata)
    ):  # fmt: skip
        raise ValueError("the campaign figures were computed with other options")

    def make() -> dict[str, Aggregator]:
        return groupings(options.min_cell, options.strata)

    own = make()
    own_rows: list[tuple[ContactRow, ContactFacts]] = []
    async for row, facts in contact_records(
        session, campaign, as_of=as_of, catalog=catalog, collectivity_ids=[collectivity.id]
    ):
        own_rows.append((row, facts))
        for aggregator in own.values():
            aggregator.add(facts)
    contributors = figures.contributors
    group_codes = figures.stratum_codes.get(group, frozenset()) - {own_code}
    before: dict[str | None, Cell] = {}
    if previous is not None:
        old = make()
        async for _row, facts in contact_records(
            session, previous, as_of=previous.closed_at or as_of, catalog=catalog,
            collectivity_ids=[collectivity.id],
        ):  # fmt: skip
            for aggregator in old.values():
                aggregator.add(facts)
        before = _by_channel(old)
    comments = _comments(
        await list_comments(session, campaign_id=campaign.id, collectivity_id=collectivity.id), w
    )

    def national_count(key: str | None, metric: str) -> int:
        return len(contributors.get((key, metric), frozenset()) - {own_code})

    def peer_count(key: str | None, metric: str) -> int:
        return len(contributors.get((key, metric), frozenset()) & group_codes)

    own_cells = _by_channel(own)
    national_cells = figures.national
    peer_cells = figures.peers(group, own, own_code=own_code)
    withheld_cell = t("report.withheld_cell", n=options.min_peers)
    peers_heading = peer_label(
        collectivity.kind, collectivity.population, options.strata, t, f, column=True
    )
    present = [c for c in CHANNELS if c in own_cells]
    column_counts: dict[str, list[int]] = {"national": [], "peers": []}

    def published(column: str, key: str | None, metric: str) -> bool:
        count = (national_count if column == "national" else peer_count)(key, metric)
        column_counts[column].append(count)
        return count >= options.min_peers

    def rows_for(key: str | None) -> list[dict[str, str]]:
        rows = []
        for metric in METRICS_FOR[key]:
            cell = own_cells[key]
            line = {"metric": t(METRIC_NAMES[metric]), "yours": w.figure(cell, metric), "ci": ""}
            if metric in ("response", "within", "ack", "pickup"):
                line["ci"] = w.proportion(_proportion(cell, metric))[1]
            line["previous"] = w.figure(before.get(key), metric) if previous else ""
            for column, cells in (("national", national_cells), ("peers", peer_cells)):
                ok = published(column, key, metric)
                line[column] = w.figure(cells.get(key), metric) if ok else withheld_cell
            rows.append(line)
        return rows

    def small_note(key: str | None) -> str:
        cell = own_cells[key]
        if cell.delivered >= options.min_cell:
            return ""
        note = t("report.personal.small_sample", n=f.number(cell.delivered))
        rate = _main_rate(cell, key)
        if rate is not None and rate.low is not None and rate.high is not None:
            note += " " + t(
                "report.personal.interval_simple",
                low=f.percent(rate.low),
                high=f.percent(rate.high),
            )
        return note

    def change(key: str | None) -> str:
        if previous is None:
            return ""
        now, old = own_cells[key].score, before[key].score if key in before else None
        if now is None or old is None:
            return t("report.personal.change_none")
        return f.points((now - old) / 100.0)

    findings = tally((facts for _row, facts in own_rows), catalog, t, f)
    names = names_pattern(await actor_names(session))
    remarks = remarks_of(((facts, row.answers) for row, facts in own_rows), catalog, t, names)

    def result(item: Finding) -> str:
        met, assessed = f.number(item.met), f.number(item.assessed)
        return t("report.personal.finding_result", met=met, assessed=assessed)

    comparison: list[dict[str, Any]] = []
    summary: list[dict[str, Any]] = []
    sections: list[dict[str, Any]] = []
    for key in (*present, None):
        if key not in own_cells:
            continue
        cell = own_cells[key]
        label = t(f"channel.{key}") if key else t("report.overall")
        rows = rows_for(key)
        comparison.append({"label": label, "contacts": cell.delivered, "rows": rows})
        items = [] if key is None else findings.get(key, [])
        strengths, priorities = strengths_and_priorities(items)
        peer_score = rows[-1]["peers"]  # score is every channel's last metric
        summary.append(
            {
                "label": label,
                "overall": key is None,
                "contacts": f.number(cell.delivered),
                "small": key is not None and cell.delivered < options.min_cell,
                "score": w.score(cell.score),
                "change": change(key),
                "peers": peer_score,
                "strengths": [x.label for x in strengths],
                "priorities": [x.label for x in priorities],
            }
        )
        if key is None:
            continue
        sections.append(
            {
                "id": key,
                "label": label,
                "contacts": w.prose(
                    t("report.contacts") + (" : " if w.french else ": ") + f.number(cell.delivered)
                ),
                "small": small_note(key),
                "rows": rows,
                "findings": [
                    {"label": x.label, "result": result(x), "ok": x.met == x.assessed}
                    for x in sorted(items, key=lambda x: (x.rate, x.label))
                ],
                "remarks": [w.quote(r) for r in remarks.get(key, [])],
                "tips": tips_for(items, catalog, collectivity.kind),
                "comments": comments.get(key, []),
            }
        )
    show_national = max(column_counts["national"], default=0) >= options.min_peers
    show_peers = max(column_counts["peers"], default=0) >= options.min_peers
    peer_figures_shown = show_peers
    for line in summary:
        if not peer_figures_shown:
            line["peers"] = ""

    # the earlier sections, kept for the web portal: criteria missed per scenario
    missed: list[dict[str, Any]] = []
    for section in sections:
        criteria = [
            {"label": x["label"], "count": x["result"]} for x in section["findings"] if not x["ok"]
        ]
        if criteria:
            tips = section["tips"]
            missed.append({"title": section["label"], "criteria": criteria, "tips": tips})

    timelines = []
    for row, facts in sorted(own_rows, key=lambda rf: (rf[1].planned_at, rf[0].id)):
        scenario = catalog.scenarios.get(row.scenario_id)
        timelines.append(
            {
                "title": w.prose(
                    t(
                        "report.timeline_contact",
                        channel=t(f"channel.{row.channel}"),
                        scenario=scenario.title if scenario else row.scenario_id,
                        service=row.service_name,
                    )
                ),
                "events": _timeline(row, facts, w),
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

    closed = campaign.closed_at
    header = {
        "campaign": w.prose(t("report.campaign", title=campaign.title or campaign.name)),
        "window": t(
            "report.window", start=f.date(campaign.window_start), end=f.date(campaign.window_end)
        ),
        "generated": t("report.generated", date=w.instant(generated_at)),
        "as_of": (
            t("report.as_of_closed", date=w.instant(closed))
            if closed is not None
            else t("report.as_of_open", date=w.instant(as_of))
        ),
        "version": temoin_version(),
    }
    group_name = peer_label(
        collectivity.kind, collectivity.population, options.strata, t, f, column=False
    )
    text: Callable[[str], str] = w.prose
    return dict(
        t=t,
        lang=t.locale,
        title=text(t("report.title_collectivity", name=collectivity.name)),
        header=header,
        compared_with=t("report.personal.compared_with", group=group_name),
        previous_note=(
            t("report.personal.previous_campaign", name=previous.title or previous.name)
            if previous
            else ""
        ),
        has_previous=previous is not None,
        summary=summary,
        overall_comments=comments.get(None, []),
        sections=sections,
        comparison=comparison,
        show_national=show_national,
        show_peers=show_peers,
        peers_label=peers_heading,
        withheld=[
            t(
                "report.withheld_national"
                if column == "national"
                else "report.personal.withheld_peers",
                n=options.min_peers,
                count=max(counts, default=0),
                group=group_name,
            )
            for column, counts in column_counts.items()
            if max(counts, default=0) < options.min_peers
        ],
        missed=missed,
        timelines=timelines,
        charts=charts,
        method=t("report.personal.method", n=options.min_peers),
    )
