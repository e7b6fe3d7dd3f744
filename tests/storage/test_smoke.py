from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.models import Campaign


async def test_times_come_back_aware_utc(database: Database) -> None:
    paris_summer = timezone(timedelta(hours=2))
    async with database.session() as s:
        s.add(
            Campaign(
                name="c",
                window_start=date(2026, 3, 2),
                window_end=date(2026, 3, 27),
                seed=1,
                spec={},
                created_at=datetime(2026, 6, 1, 12, 0, tzinfo=paris_summer),
                planned_at=datetime(2026, 6, 1, 10, 0, tzinfo=UTC),
            )
        )
    async with database.session() as s:
        c = (await s.execute(select(Campaign))).scalar_one()
    assert c.created_at == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    assert c.created_at.tzinfo is UTC


async def test_naive_datetime_refused(database: Database) -> None:
    with pytest.raises(Exception, match="naive datetime refused"):
        async with database.session() as s:
            s.add(
                Campaign(
                    name="c",
                    window_start=date(2026, 3, 2),
                    window_end=date(2026, 3, 27),
                    seed=1,
                    spec={},
                    created_at=datetime(2026, 6, 1),
                    planned_at=datetime(2026, 6, 1),
                )
            )
