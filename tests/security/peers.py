"""The check of peer figures in collectivity reports, shared by the security and demo tests.

``check_peer_cells(database, campaign, min_peers)`` renders every collectivity's own report
and reads its comparison tables back from the HTML. Each published cell of the national or
the peers' column must be computed over at least ``min_peers`` *other* collectivities;
the oracle here is independent of ``reports.peers``: it counts the other collectivities
(nationally, or of the same peer group: communes of the same stratum, or the same kind)
with at least one delivered contact on the cell's channel (any channel for « Ensemble »): an
upper bound of those a figure can be over, so a cell published with fewer is a leak whatever
the figure. The first page's summary (the peers' score per channel) is read too.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser

from reports.campaign_stats import contact_records
from reports.personal_findings import peer_group
from reports.render import ReportOptions, collectivity_report
from reports.strata import DEFAULT_STRATA
from scenarios.i18n import Translator
from storage.db import Database
from storage.stats import campaign_info, collectivity_info

T = Translator("fr")
CHANNELS = {T(f"channel.{c}"): c for c in ("email", "letter", "phone", "visit")}
CHANNELS[T("report.overall")] = None
WITHHELD = "donnée masquée"


@dataclass(frozen=True)
class ShownCell:
    channel: str | None
    metric: str
    column: str  # "national" or "peers"
    text: str


PEER_HEADINGS = (
    T("report.personal.peers_commune", stratum="").split("(")[0].strip(),
    T("report.personal.peers_epci"),
    T("report.personal.peers_departement"),
    T("report.personal.peers_region"),
)


class _Comparison(HTMLParser):
    """The tables with other collectivities' figures: the first page's summary (a row per
    channel, the peers' score) and each channel section's « Vos chiffres, comparés » (a row
    per metric)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.mode: str | None = None  # "summary", "figures" or None
        self.channel: str | None = None
        self.text = ""
        self.row: list[str] = []
        self.header: list[str] = []
        self.cells: list[ShownCell] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.text = ""
        if tag == "tr":
            self.row = []
        elif tag == "table":
            self.header = []

    def handle_data(self, data: str) -> None:
        self.text += data

    def handle_endtag(self, tag: str) -> None:
        text = re.sub(r"[ \t\r\n]+", " ", self.text).strip()  # U+202F kept
        if tag == "h2":
            self.mode = "summary" if text == T("report.personal.summary_title") else None
            self.channel = CHANNELS.get(text)
        elif tag == "h3":
            figures = self.channel is not None and text == T("report.personal.figures_title")
            self.mode = "figures" if figures else None
        if self.mode is None:
            return
        if tag in ("td", "th"):
            self.row.append(text)
            self.text = ""
        elif tag == "tr" and self.row:
            if not self.header:
                self.header = self.row
                return
            if self.mode == "summary":
                score = T("report.personal.summary_title") + " – " + T("report.score")
                channel, metric = CHANNELS[self.row[0]], score
            else:
                channel, metric = self.channel, self.row[0]
            for index, heading in enumerate(self.header):
                if heading == T("report.national"):
                    column = "national"
                elif heading.startswith(PEER_HEADINGS):
                    column = "peers"
                else:
                    continue
                self.cells.append(ShownCell(channel, metric, column, self.row[index]))


def comparison_cells(html: str) -> list[ShownCell]:
    parser = _Comparison()
    parser.feed(html)
    parser.close()
    return parser.cells


@dataclass
class PeerCheck:
    problems: list[str] = field(default_factory=list)
    published: int = 0
    withheld: int = 0
    reports: dict[str, str] = field(default_factory=dict)  # code -> HTML


async def check_peer_cells(
    database: Database, campaign: str, min_peers: int, generated_at: datetime
) -> PeerCheck:
    """Every collectivity's report of ``campaign``, checked (module docstring)."""
    options = ReportOptions(min_peers=min_peers)
    delivered: dict[str | None, set[str]] = defaultdict(set)
    groups: dict[str, str] = {}
    async with database.session() as session:
        info = await campaign_info(session, campaign)
        assert info is not None, campaign
        async for _row, facts in contact_records(session, info, as_of=generated_at):
            code = facts.collectivity_code
            groups[code] = peer_group(facts.collectivity_kind, facts.population, DEFAULT_STRATA)
            if facts.delivered:
                delivered[facts.channel].add(code)
                delivered[None].add(code)
        found = PeerCheck()
        for code in sorted(groups):
            target = await collectivity_info(session, code)
            assert target is not None
            html = await collectivity_report(
                session, info, target, generated_at=generated_at, options=options
            )
            found.reports[code] = html
            for cell in comparison_cells(html):
                if cell.text.startswith(WITHHELD):
                    found.withheld += 1
                    continue
                found.published += 1
                pool = delivered[cell.channel] - {code}
                if cell.column == "peers":
                    pool = {c for c in pool if groups[c] == groups[code]}
                if len(pool) < min_peers:
                    found.problems.append(
                        f"{code}: {cell.channel or 'overall'} {cell.metric!r} {cell.column}"
                        f" = {cell.text!r} over at most {len(pool)} other collectivities"
                    )
    return found
