"""All of France in the database (SQLite and PostgreSQL), on the official list of communes.

The overseas communes, Corsica and the municipal arrondissements of Paris, Lyon and
Marseille are imported through the directory parser and ``upsert_directory``, then a
campaign is planned over them on the real plan path (``temoin.planning.plan_campaign``):
every contact lands on a business day of its own territory, in its local hours.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from sqlalchemy import select

from scenarios.calendar import BusinessCalendar
from scenarios.campaign_file import parse_campaign
from scenarios.directory import parse_directory
from storage.db import Database
from storage.directory import upsert_directory
from storage.models import Collectivity, Contact, Service
from temoin.planning import catalog_scenarios, plan_campaign
from tests.geodata.communes import Commune, directory_csv, load_communes

NOW = datetime(2027, 2, 15, 9, 0, tzinfo=UTC)
OVERSEAS_COLLECTIVITIES = ("975", "977", "978", "984", "986", "987", "988", "989")


def _rows() -> list[Commune]:
    return [
        c for c in load_communes()
        if len(c.departement) == 3 or c.departement in ("2A", "2B")
        or c.type == "arrondissement-municipal"
    ]  # fmt: skip


async def test_overseas_communes_import_and_plan_on_their_own_days(database: Database) -> None:
    rows = _rows()
    parsed = parse_directory(directory_csv(rows))
    assert parsed.errors == ()
    async with database.session() as session:
        counts = await upsert_directory(session, parsed, NOW)
    assert counts.collectivities_created == len(rows)
    async with database.session() as session:
        stored = {c.insee_code: c for c in await session.scalars(select(Collectivity))}
    by_dep = Counter(c.departement for c in stored.values())
    for code in OVERSEAS_COLLECTIVITIES:
        assert by_dep[code] == sum(1 for r in rows if r.departement == code) > 0
    assert stored["98735"].region == "987" and stored["97411"].region == "04"
    assert stored["75112"].departement == "75" and stored["2A004"].region == "94"

    spec = parse_campaign(
        {
            "name": "outre-mer",
            "seed": 7,
            # March 2027: French Polynesia rests on Friday 5 March (arrival of the Gospel)
            "window": {"start": date(2027, 3, 1), "end": date(2027, 3, 31)},
            "selection": {"departements": ["987", "988", "975", "986"]},
            "mix": {"email": {"per_service": 1}, "phone": {"per_service": 1}},
            "personas": [
                {
                    "key": "p1",
                    "display_name": "Persona Un",
                    "email": "p1@personas.example",
                    "address": "1 rue du Port",
                    "postal_code": "98714",
                    "city": "Papeete",
                    "channels": ["email", "letter"],
                }
            ],
            "auditors": [{"key": "a1", "name": "Auditrice Pacifique"}],
        },
        "outre-mer.yaml",
    )
    outcome = await plan_campaign(database, spec, catalog_scenarios(), NOW)
    assert not outcome.plan.skipped
    async with database.session() as session:
        contacts = (
            await session.execute(
                select(Contact.planned_at, Contact.channel, Collectivity.insee_code)
                .join(Service, Service.id == Contact.service_id)
                .join(Collectivity, Collectivity.id == Service.collectivity_id)
            )
        ).all()
    selected = [r for r in rows if r.departement in ("987", "988", "975", "986")]
    assert len(contacts) == 2 * 2 * len(selected)  # two services, an email and a call each
    seen_days: Counter[str] = Counter()
    for planned_at, channel, code in contacts:
        dep = code[:3]
        cal = BusinessCalendar.for_commune(dep, code)
        at = planned_at if planned_at.tzinfo else planned_at.replace(tzinfo=UTC)
        local = at.astimezone(cal.tz)
        assert cal.is_business_day(local.date()), (code, local)
        assert 8 <= local.hour < 18, (code, channel, local)
        seen_days[local.date().isoformat()] += dep == "987"
    assert seen_days["2027-03-05"] == 0  # Polynesia's holiday
    assert seen_days["2027-03-04"] + seen_days["2027-03-08"] > 0
