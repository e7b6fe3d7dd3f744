"""What every collectivity's barometer of one campaign shares, computed in one pass.

A collectivity's barometer sets its own figures beside the national ones and those of the
*other* collectivities of its peer group (``reports.render``). All but its own
figures come from the whole campaign: at 100,000 contacts, reading and aggregating them is
the whole cost of a page (tens of seconds), and it is the same for every collectivity. So
it is done once per campaign, here:

    contact_records (every contact, one pass)
        --> national cells (overall, per channel)              same for everyone
        --> PeerCounter contributors (who is behind which figure)
        --> per peer group (``reports.personal_findings.peer_group``: communes by population
            stratum, other collectivities by kind): an Aggregator (overall, per channel) and
            its collectivities' codes

and one collectivity's page then reads only its own contacts: its peers are its stratum's
aggregators ``without`` its own (``Aggregator.without``, the same numbers as aggregating
the others afresh). ``CampaignFigures`` is read-only once built: the web portal keeps one
per closed campaign and data version (``storage.backoffice.campaign_stamp``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from reports.aggregate import Aggregator
from reports.campaign_stats import contact_records
from reports.cells import Cell
from reports.peers import PeerCounter
from reports.personal_findings import peer_group
from reports.survival import KaplanMeier
from scenarios.catalog import Catalog
from storage.stats import CampaignInfo

__all__ = ["CampaignFigures", "Groupings", "by_channel", "campaign_figures"]

# "overall" (by nothing) and "channel": the two groupings a barometer compares
Groupings = dict[str, Aggregator]


def groupings(min_cell: int, strata: Sequence[int]) -> Groupings:
    return {
        "overall": Aggregator((), min_cell=min_cell, strata=strata),
        "channel": Aggregator(("channel",), min_cell=min_cell, strata=strata),
    }


def by_channel(aggs: Groupings) -> dict[str | None, Cell]:
    """The cells per channel, and the overall one under ``None``."""
    cells: dict[str | None, Cell] = {c.key("channel"): c for c in aggs["channel"].cells()}
    overall = aggs["overall"].cells()
    if overall:
        cells[None] = overall[0]
    return cells


@dataclass
class CampaignFigures:
    """The campaign-wide part of every collectivity's barometer (module docstring)."""

    as_of: datetime
    min_cell: int
    strata: tuple[int, ...]
    national: dict[str | None, Cell]
    contributors: dict[tuple[str | None, str], frozenset[str]]
    stratum_codes: dict[str, frozenset[str]]
    _strata_aggs: dict[str, Groupings]
    _national_km: KaplanMeier | None = field(default=None, repr=False)
    _peers: dict[tuple[str, str], dict[str | None, Cell]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def peers(
        self, stratum: str, own: Groupings, *, own_code: str | None = None
    ) -> dict[str | None, Cell]:
        """The cells of peer group ``stratum`` without the contacts aggregated in ``own``
        (which must all belong to that group). With ``own_code``, the collectivity whose
        contacts ``own`` holds, they are worked out once per collectivity and kept with these
        figures (whose data version covers its contacts too)."""
        found = self._strata_aggs.get(stratum)
        if found is None:
            return {}
        if own_code is not None:
            kept = self._peers.get((stratum, own_code))
            if kept is not None:
                return kept
        cells = by_channel({name: agg.without(own[name]) for name, agg in found.items()})
        if own_code is not None:
            self._peers[(stratum, own_code)] = cells
        return cells

    def national_km(self) -> KaplanMeier | None:
        """The national Kaplan–Meier curve of answers (business days), computed once."""
        overall = self.national.get(None)
        if overall is None or not overall.written_delivered:
            return None
        if self._national_km is None:
            self._national_km = overall.answer_bdays.kaplan_meier()
        return self._national_km


async def campaign_figures(
    session: AsyncSession,
    campaign: CampaignInfo,
    *,
    as_of: datetime,
    min_cell: int,
    strata: Sequence[int],
    catalog: Catalog | None = None,
) -> CampaignFigures:
    """One pass over every contact of the campaign (module docstring)."""
    national = groupings(min_cell, strata)
    counter = PeerCounter(strata)
    per_stratum: dict[str, Groupings] = {}
    codes: dict[str, set[str]] = {}
    async for _row, facts in contact_records(session, campaign, as_of=as_of, catalog=catalog):
        counter.add(facts)
        for aggregator in national.values():
            aggregator.add(facts)
        stratum = peer_group(facts.collectivity_kind, facts.population, strata)
        aggs = per_stratum.get(stratum)
        if aggs is None:
            aggs = per_stratum[stratum] = groupings(min_cell, strata)
            codes[stratum] = set()
        codes[stratum].add(facts.collectivity_code)
        for aggregator in aggs.values():
            aggregator.add(facts)
    return CampaignFigures(
        as_of=as_of,
        min_cell=min_cell,
        strata=tuple(strata),
        national=by_channel(national),
        contributors=counter.contributors(),
        stratum_codes={stratum: frozenset(found) for stratum, found in codes.items()},
        _strata_aggs=per_stratum,
    )
