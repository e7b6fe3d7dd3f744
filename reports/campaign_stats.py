"""A campaign's facts and statistics, read from the database.

compute_stats: reports.db_stats (GROUP BY in the database, Python over aggregates)
    '-- hands over to compute_stats_reference where the Python rules must decide:
        storage.stats.stream_contact_rows --contact_facts--> Aggregator per grouping
contact_records (the Python rules, every contact): reports.render, the exports' oracle
    and the tests
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession

from reports.aggregate import Aggregator
from reports.cells import Cell
from reports.db_stats import compute_stats_db
from reports.facts import ContactFacts, CountingCalendar
from reports.stored_facts import contact_facts
from reports.strata import DEFAULT_STRATA
from scenarios.catalog import Catalog, load_catalog
from storage.stats import CampaignInfo, ContactRow, stream_contact_rows

__all__ = ["compute_stats", "compute_stats_reference", "contact_records", "shipped_catalog"]


@lru_cache(maxsize=1)
def shipped_catalog() -> Catalog:
    """The shipped scenario catalogue, loaded once per process (it checks every wording)."""
    return load_catalog()


async def contact_records(
    session: AsyncSession,
    campaign: CampaignInfo,
    *,
    as_of: datetime,
    catalog: Catalog | None = None,
    collectivity_ids: Sequence[int] | None = None,
) -> AsyncIterator[tuple[ContactRow, ContactFacts]]:
    """Every contact of the campaign with its facts, delays filled, by contact id.

    ``as_of`` censors the contacts of a campaign still open (``reports.stored_facts``).
    """
    scenarios = (catalog or shipped_catalog()).scenarios
    calendars: dict[str, CountingCalendar] = {}
    async for row in stream_contact_rows(session, campaign.id, collectivity_ids=collectivity_ids):
        calendar = calendars.get(row.departement)
        if calendar is None:
            calendar = calendars[row.departement] = CountingCalendar(row.departement)
        facts = contact_facts(
            row,
            scenario=scenarios.get(row.scenario_id),
            calendar=calendar,
            campaign_closed_at=campaign.closed_at,
            as_of=as_of,
        )
        yield row, facts


async def compute_stats(
    session: AsyncSession,
    campaign: CampaignInfo,
    groupings: Sequence[Sequence[str]],
    *,
    as_of: datetime,
    min_cell: int = 5,
    strata: Sequence[int] = DEFAULT_STRATA,
    catalog: Catalog | None = None,
) -> list[tuple[tuple[str, ...], list[Cell]]]:
    """The cells of every grouping: counted by the database (``reports.db_stats``), or by
    ``compute_stats_reference`` where the database path hands over to the Python rules."""
    found = await compute_stats_db(
        session,
        campaign,
        groupings,
        as_of=as_of,
        catalog=catalog or shipped_catalog(),
        min_cell=min_cell,
        strata=strata,
    )
    if found is not None:
        return found
    return await compute_stats_reference(
        session, campaign, groupings, as_of=as_of, min_cell=min_cell, strata=strata,
        catalog=catalog,
    )  # fmt: skip


async def compute_stats_reference(
    session: AsyncSession,
    campaign: CampaignInfo,
    groupings: Sequence[Sequence[str]],
    *,
    as_of: datetime,
    min_cell: int = 5,
    strata: Sequence[int] = DEFAULT_STRATA,
    catalog: Catalog | None = None,
) -> list[tuple[tuple[str, ...], list[Cell]]]:
    """The cells of every grouping from one pass over the facts of every contact
    (``reports.stored_facts``, ``reports.aggregate``): the rules as written, the oracle of
    ``reports.db_stats``."""
    aggregators = [
        Aggregator(tuple(by), min_cell=min_cell, strata=strata, rank_by="score") for by in groupings
    ]
    async for _row, facts in contact_records(session, campaign, as_of=as_of, catalog=catalog):
        for aggregator in aggregators:
            aggregator.add(facts)
    return [(aggregator.by, aggregator.cells()) for aggregator in aggregators]
