"""Rows for tests, written through the ORM (the code under test reads them back as usual)."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Campaign, Collectivity, Contact, Persona, Service

_seq = itertools.count(1)


def _insee(departement: str, n: int) -> str:
    """Five characters, wrapped rather than cut: past 1 000 collectivities in a run,
    "631000"[:5] gave n = 1000…1009 one same code within a single test."""
    width = max(5 - len(departement), 1)
    return f"{departement}{n % 10**width:0{width}d}"


async def collectivity(
    session: AsyncSession, now: datetime, *, departement: str = "63", **kw: Any
) -> Collectivity:
    n = next(_seq)
    row = Collectivity(
        insee_code=kw.pop("insee_code", _insee(departement, n)),
        name=kw.pop("name", f"Commune {n}"),
        kind=kw.pop("kind", "commune"),
        population=kw.pop("population", 4200),
        departement=departement,
        created_at=now,
        updated_at=now,
        **kw,
    )
    session.add(row)
    await session.flush()
    return row


async def service(session: AsyncSession, now: datetime, coll: Collectivity, **kw: Any) -> Service:
    n = next(_seq)
    row = Service(
        collectivity_id=coll.id,
        kind=kw.pop("kind", "etat_civil"),
        name=kw.pop("name", f"État civil {n}"),
        email=kw.pop("email", f"etat-civil{n}@mairie{n}.example"),
        phone=kw.pop("phone", "+33473000000"),
        address=kw.pop("address", "1 place de la Mairie"),
        postal_code=kw.pop("postal_code", "63000"),
        city=kw.pop("city", coll.name),
        opening_hours=kw.pop("opening_hours", "lu-ve 08:30-12:00,13:30-17:30"),
        created_at=now,
        updated_at=now,
        **kw,
    )
    session.add(row)
    await session.flush()
    return row


async def persona(session: AsyncSession, now: datetime, **kw: Any) -> Persona:
    n = next(_seq)
    row = Persona(
        key=kw.pop("key", f"persona-{n}"),
        display_name=kw.pop("display_name", "Claire Mercier"),
        email=kw.pop("email", f"claire.mercier{n}@persona.example"),
        address=kw.pop("address", "4 rue des Tilleuls"),
        postal_code=kw.pop("postal_code", "63100"),
        city=kw.pop("city", "Clermont-Ferrand"),
        created_at=now,
        **kw,
    )
    session.add(row)
    await session.flush()
    return row


async def campaign(session: AsyncSession, now: datetime, **kw: Any) -> Campaign:
    n = next(_seq)
    row = Campaign(
        name=kw.pop("name", f"campagne-{n}"),
        window_start=kw.pop("window_start", date(2026, 3, 2)),
        window_end=kw.pop("window_end", date(2026, 3, 27)),
        seed=kw.pop("seed", 1),
        spec=kw.pop("spec", {}),
        created_at=now,
        planned_at=now,
        **kw,
    )
    session.add(row)
    await session.flush()
    return row


async def contact(
    session: AsyncSession,
    now: datetime,
    camp: Campaign,
    svc: Service,
    *,
    planned_at: datetime,
    persona_id: int | None = None,
    scenario_id: str = "email-acte-naissance",
    channel: str = "email",
    **kw: Any,
) -> Contact:
    row = Contact(
        campaign_id=camp.id,
        service_id=svc.id,
        collectivity_id=svc.collectivity_id,
        scenario_id=scenario_id,
        channel=channel,
        wording=kw.pop("wording", 0),
        persona_id=persona_id,
        planned_at=planned_at,
        status=kw.pop("status", "planned"),
        status_at=now,
        **kw,
    )
    session.add(row)
    await session.flush()
    return row
