"""The statistics computed by the database equal the Python rules', to the last bit.

``reports.campaign_stats.compute_stats_reference`` (facts and delays per contact in Python, then
``reports.aggregate``) is the oracle; ``reports.db_stats.compute_stats_db`` must give equal
cells (every count, rate, bound, quantile, KM limit and score compared with ``==`` on
floats) on random campaigns (``tests/reports/random_campaigns.py``), on SQLite and
PostgreSQL. Also: the hand-over to the Python rules where they raise.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from reports.campaign_stats import compute_stats, compute_stats_reference, shipped_catalog
from reports.db_stats import (
    business_day_rows,
    compute_stats_db,
    epoch_us,
    load_calendar,
    targets_of,
)
from storage.business_days import DayArrays
from storage.cell_stats import cell_aggregates
from storage.db import Database
from storage.models import Contact
from storage.stats import campaign_info
from tests.reports.random_campaigns import random_campaign

GROUPINGS = (
    (),
    ("channel",),
    ("scenario",),
    ("service_kind",),
    ("collectivity",),
    ("collectivity_kind",),
    ("stratum",),
    ("departement",),
    ("region",),
    ("channel", "stratum"),
    ("departement", "channel", "region"),
)
AS_OF = datetime(2026, 4, 14, 12, 0, tzinfo=UTC)


async def _both(database: Database, name: str, as_of: datetime = AS_OF) -> tuple[object, object]:
    catalog = shipped_catalog()
    async with database.session() as s:
        info = await campaign_info(s, name)
        assert info is not None
        fast = await compute_stats_db(s, info, GROUPINGS, as_of=as_of, catalog=catalog)
        slow = await compute_stats_reference(s, info, GROUPINGS, as_of=as_of, catalog=catalog)
    return fast, slow


@pytest.mark.parametrize("seed", range(8))
async def test_database_cells_equal_the_python_rules(database: Database, seed: int) -> None:
    async with database.session() as s:
        await random_campaign(s, shipped_catalog(), seed, contacts=90)
    fast, slow = await _both(database, f"random-{seed}")
    assert fast is not None, "the database path handed over without a reason"
    assert isinstance(slow, list) and isinstance(fast, list)
    assert [by for by, _ in fast] == [by for by, _ in slow]
    for (by, cells), (_, expected) in zip(fast, slow, strict=True):
        assert [c.keys for c in cells] == [c.keys for c in expected], by
        for cell, want in zip(cells, expected, strict=True):
            assert cell.to_row() == want.to_row(), (by, cell.keys)
            assert cell.criterion_rows() == want.criterion_rows(), (by, cell.keys)
            assert cell == want
            for mine, theirs in (
                (cell.answer_hours, want.answer_hours),
                (cell.ack_bdays, want.ack_bdays),
            ):
                assert sorted(mine.event_times) == sorted(theirs.event_times)
                assert sorted(mine.censored_times) == sorted(theirs.censored_times)
                assert mine.kaplan_meier() == theirs.kaplan_meier()


async def test_parallel_workers_give_the_same_cells(database: Database) -> None:
    """PostgreSQL: the facts query run by parallel workers (made free here, so the
    planner uses them even on a small campaign; rows then reach the aggregates in any
    order) gives the Python rules' cells. (SQLite: the same comparison, serial.)"""
    async with database.session() as s:
        await random_campaign(s, shipped_catalog(), 102, contacts=400)
    catalog = shipped_catalog()
    async with database.session() as s:
        info = await campaign_info(s, "random-102")
        assert info is not None
        settings = (
            "parallel_setup_cost = 0",
            "parallel_tuple_cost = 0",
            "min_parallel_table_scan_size = 0",
            "max_parallel_workers_per_gather = 2",
        )
        for setting in settings if s.get_bind().dialect.name == "postgresql" else ():
            await s.execute(text(f"SET LOCAL {setting}"))
        fast = await compute_stats_db(s, info, GROUPINGS, as_of=AS_OF, catalog=catalog)
        slow = await compute_stats_reference(s, info, GROUPINGS, as_of=AS_OF, catalog=catalog)
    assert fast is not None
    assert fast == slow


async def test_many_contacts_in_few_cells(database: Database) -> None:
    """Large cells: KM over hundreds of distinct times, quantiles between two values."""
    async with database.session() as s:
        await random_campaign(s, shipped_catalog(), 101, contacts=700)
    fast, slow = await _both(database, "random-101", as_of=AS_OF + timedelta(days=30))
    assert fast is not None
    assert fast == slow


async def test_instants_outside_the_window_load_the_exact_calendar(database: Database) -> None:
    """Contacts months away from the campaign's window: the usual business-day span misses
    them, the query says so, and the exact span is loaded instead (same cells)."""
    async with database.session() as s:
        await random_campaign(
            s, shipped_catalog(), 2, contacts=60, window=(date(2027, 1, 4), date(2027, 1, 29))
        )
    async with database.session() as s:
        info = await campaign_info(s, "random-2")
        assert info is not None
        await load_calendar(s, info, AS_OF)
        cells = await cell_aggregates(
            s,
            campaign_id=info.id,
            by=(),
            as_of_us=epoch_us(AS_OF),
            campaign_closed_us=epoch_us(info.closed_at) if info.closed_at else None,
            strata=(2000, 10000, 50000),
            targets=targets_of(shipped_catalog()),
            timing_weights=(2.0, 1.0),
        )
        assert cells[0].counts["unmapped"] > 0  # the usual span misses them
    fast, slow = await _both(database, "random-2")
    assert fast is not None
    assert fast == slow


async def test_clock_skew_beyond_tolerance_is_refused_as_before(database: Database) -> None:
    async with database.session() as s:
        camp = await random_campaign(s, shipped_catalog(), 7, contacts=30)
        contact = (
            await s.scalars(
                Contact.__table__.select()
                .with_only_columns(Contact.id, Contact.sent_at)
                .where(Contact.campaign_id == camp.id, Contact.channel == "email")
                .where(Contact.sent_at.is_not(None), Contact.status != "undeliverable")
                .limit(1)
            )
        ).first()
        assert contact is not None
        row = await s.get(Contact, contact)
        assert row is not None and row.sent_at is not None
        row.first_answer_at = row.sent_at - timedelta(minutes=5)
        row.closed_at = None
    async with database.session() as s:
        info = await campaign_info(s, "random-7")
        assert info is not None
        catalog = shipped_catalog()
        assert await compute_stats_db(s, info, [()], as_of=AS_OF, catalog=catalog) is None
        with pytest.raises(ValueError, match=r"first_answer_at .* is before sent_at"):
            await compute_stats(s, info, [()], as_of=AS_OF, catalog=catalog)


async def test_no_contacts_no_cells(database: Database) -> None:
    async with database.session() as s:
        await random_campaign(s, shipped_catalog(), 5, contacts=0)
    fast, slow = await _both(database, "random-5")
    assert fast == slow == [(by, []) for by in GROUPINGS]


def test_day_arrays_hold_the_rows_by_departement_and_day() -> None:
    """PostgreSQL's business days: element (département position × days + day offset) is
    that row, for every row; rows that do not cover the same days everywhere are refused
    (a day missing for one département would be read from its neighbour's)."""
    rows = business_day_rows(
        ["75", "57", "971"], datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 10, tzinfo=UTC)
    )
    days = DayArrays.of(rows)
    assert days.departements == ("57", "75", "971")
    assert len(days.split_us) == len(rows) == 3 * days.days
    for row in rows:
        i = days.departements.index(row.departement) * days.days + row.utc_day - days.first_day
        assert (days.split_us[i], days.ord_before[i], days.ord_after[i]) == (
            row.split_us,
            row.ord_before,
            row.ord_after,
        )
    with pytest.raises(ValueError):
        DayArrays.of(rows[1:])
