"""Caps across running campaigns, on SQLite and PostgreSQL, over real communes.

Two campaigns over the 101 communes of the Territoire de Belfort (the official list), in
the same month, planned one after the other on the real plan path: together they never
contact a collectivity twice on a day, keep the lockout between two contacts to a
service, and give no auditor more than a day's capacity or overlapping appointments. A
closed campaign no longer counts.
"""

from __future__ import annotations

import bisect
import itertools
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from scenarios.calendar import BusinessCalendar
from scenarios.campaign_file import CampaignSpec, parse_campaign
from scenarios.directory import parse_directory
from storage import campaigns as repo
from storage.db import Database
from storage.directory import upsert_directory
from storage.models import Campaign, Collectivity, Contact
from temoin.planning import catalog_scenarios, plan_campaign
from tests.geodata.communes import current_communes, directory_csv

NOW = datetime(2027, 2, 15, 9, 0, tzinfo=UTC)
BELFORT = BusinessCalendar.for_departement("90")


def spec(name: str, seed: int) -> CampaignSpec:
    data: dict[str, Any] = {
        "name": name,
        "seed": seed,
        "window": {"start": date(2027, 3, 1), "end": date(2027, 3, 31)},
        "selection": {"departements": ["90"]},
        "mix": {"email": {"per_service": 1}, "visit": {"per_service": 1}},
        "personas": [
            {"key": "p1", "display_name": "Persona Un", "email": "p1@personas.example"},
        ],
        # 2 x 202 visits at 6 a day: 68 auditor-days of the 4 x 22 there are
        "auditors": [
            *(
                {"key": f"belfort{i}", "name": f"Auditeur {i}", "departements": ["90"]}
                for i in range(3)
            ),
            {"key": "volant", "name": "Auditrice volante"},
        ],
        "rules": {"visits_per_auditor_day": 6},
    }
    return parse_campaign(data, f"{name}.yaml")


async def _contacts(database: Database) -> list[Any]:
    async with database.session() as session:
        return list(
            (
                await session.execute(
                    select(
                        Contact.campaign_id,
                        Contact.service_id,
                        Contact.collectivity_id,
                        Contact.channel,
                        Contact.auditor_id,
                        Contact.planned_at,
                    )
                )
            ).all()
        )


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def test_two_running_campaigns_share_the_caps(database: Database) -> None:
    communes = [c for c in current_communes() if c.departement == "90"]
    assert len(communes) == 101
    parsed = parse_directory(directory_csv(communes))
    async with database.session() as session:
        await upsert_directory(session, parsed, NOW)
    scenarios = catalog_scenarios()
    await plan_campaign(database, spec("printemps-a", 1), scenarios, NOW)
    await plan_campaign(database, spec("printemps-b", 2), scenarios, NOW)

    rows = await _contacts(database)
    assert {r.campaign_id for r in rows} == {1, 2}
    per_day = Counter((r.collectivity_id, BELFORT.local_date(_utc(r.planned_at))) for r in rows)
    assert max(per_day.values()) == 1  # the default cap, across both campaigns
    days = BELFORT.business_days(date(2027, 2, 1), date(2027, 4, 30))
    by_service: dict[int, list[int]] = {}
    for r in rows:
        local = BELFORT.local_date(_utc(r.planned_at))
        by_service.setdefault(r.service_id, []).append(bisect.bisect_left(days, local))
    for indices in by_service.values():
        assert len(indices) == 4  # an email and a visit from each campaign
        for a, b in itertools.pairwise(sorted(indices)):
            assert b - a >= 4  # lockout of 3 business days, across campaigns
    visits = [r for r in rows if r.channel == "visit"]
    load = Counter((r.auditor_id, BELFORT.local_date(_utc(r.planned_at))) for r in visits)
    assert max(load.values()) <= 6
    for aid in {r.auditor_id for r in visits}:
        starts = sorted(_utc(r.planned_at) for r in visits if r.auditor_id == aid)
        for a, b in itertools.pairwise(starts):
            assert b - a >= timedelta(minutes=60)  # 30 min visit + 30 min travel


async def test_a_closed_campaign_no_longer_counts(database: Database) -> None:
    communes = [c for c in current_communes() if c.departement == "90"][:10]
    async with database.session() as session:
        await upsert_directory(session, parse_directory(directory_csv(communes)), NOW)
        ids = list(await session.scalars(select(Collectivity.id)))
    scenarios = catalog_scenarios()
    await plan_campaign(database, spec("hiver", 1), scenarios, NOW)
    async with database.session() as session:
        first = await session.scalar(select(Campaign.id).where(Campaign.name == "hiver"))
        assert first is not None
        start, end = NOW - timedelta(days=60), NOW + timedelta(days=90)
        running = await repo.running_contacts(session, first + 1, start, end, ids)
        assert len(running) == 2 * 2 * len(communes)
        assert await repo.running_contacts(session, first, start, end, ids) == []
        await repo.close_campaign(session, first, NOW)
        assert await repo.running_contacts(session, first + 1, start, end, ids) == []
