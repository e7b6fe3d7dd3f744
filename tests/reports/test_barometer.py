"""A campaign's figures computed once (``reports.barometer``) give every collectivity the same
peer and national cells as aggregating afresh, and the same barometer, on random campaigns
(``tests/reports/random_campaigns.py``), on SQLite and PostgreSQL.

The oracle is a fresh aggregation (``reports.aggregate``) over the facts of the other
collectivities of the stratum: ``Aggregator.without`` must give the same numbers to the last
bit.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reports.barometer import Groupings, by_channel, campaign_figures, groupings
from reports.campaign_stats import contact_records, shipped_catalog
from reports.cells import Cell
from reports.facts import ContactFacts
from reports.personal_findings import peer_group
from reports.render import ReportOptions, collectivity_context
from storage.db import Database
from storage.stats import campaign_info, collectivity_info
from tests.reports.random_campaigns import random_campaign

AS_OF = datetime(2026, 4, 14, 12, 0, tzinfo=UTC)
STRATA = ReportOptions().strata


def _same(cell: Cell, want: Cell) -> None:
    assert cell.keys == want.keys
    assert cell.to_row() == want.to_row(), cell.keys
    assert cell.criterion_rows() == want.criterion_rows(), cell.keys
    for mine, theirs in (
        (cell.answer_hours, want.answer_hours),
        (cell.answer_bdays, want.answer_bdays),
        (cell.ack_hours, want.ack_hours),
        (cell.ack_bdays, want.ack_bdays),
    ):
        assert sorted(mine.event_times) == sorted(theirs.event_times)
        assert sorted(mine.censored_times) == sorted(theirs.censored_times)
        assert mine.kaplan_meier() == theirs.kaplan_meier()


@pytest.mark.parametrize("seed", range(4))
async def test_peers_without_one_equal_the_others_aggregated(database: Database, seed: int) -> None:
    catalog = shipped_catalog()
    async with database.session() as s:
        await random_campaign(s, catalog, seed, contacts=120)
    compared = 0
    for strata in (STRATA, (10**9,)):  # the usual strata; one stratum for all
        async with database.session() as s:
            info = await campaign_info(s, f"random-{seed}")
            assert info is not None
            facts = [f async for _r, f in contact_records(s, info, as_of=AS_OF, catalog=catalog)]
            figures = await campaign_figures(
                s, info, as_of=AS_OF, min_cell=5, strata=strata, catalog=catalog
            )
        national = by_channel(_fresh(facts, strata))
        assert national.keys() == figures.national.keys()
        for key, cell in figures.national.items():
            _same(cell, national[key])
        for code in sorted({f.collectivity_code for f in facts}):
            own_facts = [f for f in facts if f.collectivity_code == code]
            stratum = peer_group(own_facts[0].collectivity_kind, own_facts[0].population, strata)
            own = _fresh(own_facts, strata)
            others = [
                f
                for f in facts
                if f.collectivity_code != code
                and peer_group(f.collectivity_kind, f.population, strata) == stratum
            ]
            peers = figures.peers(stratum, own)
            want = by_channel(_fresh(others, strata)) if others else {}
            assert peers.keys() == want.keys(), code
            for key, cell in peers.items():
                _same(cell, want[key])
            codes = {f.collectivity_code for f in others}
            assert figures.stratum_codes[stratum] - {code} == codes
            compared += bool(others)
    assert compared, "no stratum with two collectivities: nothing was subtracted"


def _fresh(facts: list[ContactFacts], strata: tuple[int, ...]) -> Groupings:
    """The two groupings aggregated afresh over ``facts`` (what ``aggregate`` does)."""
    found = groupings(5, strata)
    for fact in facts:
        for aggregator in found.values():
            aggregator.add(fact)
    return found


async def test_one_pass_serves_every_collectivity(database: Database) -> None:
    """The figures kept for the campaign give each collectivity the barometer computed for it
    alone; using them for one never changes what the next one sees."""
    catalog = shipped_catalog()
    async with database.session() as s:
        await random_campaign(s, catalog, 2, contacts=120)
    options = ReportOptions(min_peers=2)
    async with database.session() as s:
        info = await campaign_info(s, "random-2")
        assert info is not None and info.closed_at is not None
        shared = await campaign_figures(
            s, info, as_of=info.closed_at, min_cell=options.min_cell, strata=options.strata,
            catalog=catalog,
        )  # fmt: skip
        codes = sorted({r.collectivity_code async for r, _f in contact_records(
            s, info, as_of=info.closed_at, catalog=catalog)})  # fmt: skip
        for code in [*codes, *codes]:
            target = await collectivity_info(s, code)
            assert target is not None
            kept = await collectivity_context(
                s, info, target, generated_at=AS_OF, as_of=info.closed_at, options=options,
                catalog=catalog, figures=shared,
            )  # fmt: skip
            alone = await collectivity_context(
                s, info, target, generated_at=AS_OF, as_of=info.closed_at, options=options,
                catalog=catalog,
            )  # fmt: skip
            kept.pop("t")
            alone.pop("t")
            assert kept == alone, code
        with pytest.raises(ValueError, match="other options"):
            await collectivity_context(
                s, info, target, generated_at=AS_OF, as_of=info.closed_at,
                options=ReportOptions(min_cell=3), catalog=catalog, figures=shared,
            )  # fmt: skip
