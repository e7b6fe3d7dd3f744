"""The streamed contact export gives the rows the Python rules give, and the same files.

Oracle: ``reports.campaign_stats.contact_records`` + ``contact_row`` (facts per contact in
Python). Compared on random campaigns (``tests/reports/random_campaigns.py``) on SQLite and
PostgreSQL: every value with its type, then the CSV and JSON files byte for byte.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reports import exports
from reports.campaign_stats import contact_records, shipped_catalog
from reports.contact_rows import PARIS, contact_values, paris_text
from reports.db_stats import epoch_us
from reports.export_tables import CONTACT_COLUMNS, contact_row
from reports.strata import DEFAULT_STRATA
from reports.writers import flat_sink
from storage.db import Database
from storage.stats import CampaignInfo, campaign_info
from tests.reports.random_campaigns import random_campaign

AS_OF = datetime(2026, 4, 14, 12, 0, tzinfo=UTC)
NAMES = [c.name for c in CONTACT_COLUMNS]


def test_paris_text_is_isoformat_in_paris() -> None:
    rnd = random.Random(3)
    base = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)  # spring forward at 01:00 UTC
    instants = [
        base + timedelta(microseconds=rnd.randrange(3 * 86_400 * 10**6)) for _ in range(3000)
    ]
    instants += [
        datetime(2026, 10, 25, 0, 59, 59, tzinfo=UTC),
        datetime(2026, 10, 25, 1, tzinfo=UTC),
    ]
    instants += [datetime(2026, 7, 1, h, tzinfo=UTC) for h in range(24)]
    for at in instants:
        assert paris_text(epoch_us(at)) == at.astimezone(PARIS).isoformat()


async def _reference(database: Database, info: CampaignInfo) -> list[list[Any]]:
    out = []
    async with database.session() as s:
        async for row, facts in contact_records(s, info, as_of=AS_OF, catalog=shipped_catalog()):
            values = contact_row(row, facts)
            out.append(
                [
                    epoch_us(v) if isinstance(v, datetime) else v
                    for v in (values[name] for name in NAMES)
                ]
            )
    return out


@pytest.mark.parametrize("seed", range(4))
async def test_streamed_rows_equal_the_python_rules(
    database: Database, tmp_path: Path, seed: int
) -> None:
    # Seed 3's window is far from its contacts: every one of them is then outside the
    # business-day table and must come out of the Python rules, the same.
    window = (date(2027, 1, 4), date(2027, 1, 29)) if seed == 3 else None
    async with database.session() as s:
        if window:
            await random_campaign(s, shipped_catalog(), seed, contacts=120, window=window)
        else:
            await random_campaign(s, shipped_catalog(), seed, contacts=120)
    async with database.session() as s:
        info = await campaign_info(s, f"random-{seed}")
        assert info is not None
        fast = [
            values
            async for values in contact_values(
                s,
                info,
                as_of=AS_OF,
                catalog=shipped_catalog(),
                strata=DEFAULT_STRATA,
                columns=NAMES,
            )
        ]
    slow = await _reference(database, info)
    assert len(fast) == len(slow) == 120
    for mine, theirs in zip(fast, slow, strict=True):
        assert mine == theirs
        assert [type(v) for v in mine] == [type(v) for v in theirs], mine[0]

    for fmt in ("csv", "json"):
        out = tmp_path / f"contacts.{fmt}"
        async with database.session() as s:
            await exports.export(s, info, fmt=fmt, level="contacts", out=out, generated_at=AS_OF)
        reference = tmp_path / f"reference.{fmt}"
        meta = exports.ExportMeta(info, AS_OF, AS_OF, "contacts", fmt).as_dict(CONTACT_COLUMNS)
        with reference.open("wb") as stream:  # the sinks write to a stream (reports.outputs)
            sink = flat_sink(stream, fmt, CONTACT_COLUMNS, meta)
            async with database.session() as s:
                async for row, facts in contact_records(
                    s, info, as_of=AS_OF, catalog=shipped_catalog()
                ):
                    sink.write(contact_row(row, facts))
            sink.close()
        assert out.read_bytes() == reference.read_bytes()
