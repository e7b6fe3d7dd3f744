"""Postal letters: the letter contacts due for printing, and their move to ``printed``.

Letter life: planned -> printed (``temoin letters print``) -> posted (the auditor, in the
bot) -> acknowledged / answered. ``due_letters`` reads everything a letter needs in one short
session; ``mark_printed`` records the printing of a whole run in one transaction, after the
files are written: a run that fails half-way marks nothing, and is simply run again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scenarios.clock import require_utc
from scenarios.domain import Channel, ContactStatus
from storage.models import Campaign, Collectivity, Contact, ContactEvent, Persona, Service


@dataclass(frozen=True, slots=True)
class LetterSender:
    key: str
    display_name: str
    email: str
    address: str | None
    postal_code: str | None
    city: str | None


@dataclass(frozen=True, slots=True)
class DueLetter:
    contact_id: int
    campaign_name: str
    status: str
    planned_at: datetime
    scenario_id: str
    wording: int
    service_name: str
    service_kind: str
    service_address: str | None
    service_postal_code: str | None
    service_city: str | None
    collectivity_name: str
    collectivity_kind: str
    insee_code: str
    departement: str
    persona: LetterSender | None


async def campaign_id(session: AsyncSession, name: str) -> int | None:
    found: int | None = await session.scalar(select(Campaign.id).where(Campaign.name == name))
    return found


async def due_letters(
    session: AsyncSession, campaign: int, *, until: datetime, reprint: bool = False
) -> list[DueLetter]:
    """Letter contacts of ``campaign`` planned at or before ``until`` still to print (with
    ``reprint``, those already printed but not yet posted as well), by time then id."""
    statuses = [ContactStatus.PLANNED.value]
    if reprint:
        statuses.append(ContactStatus.PRINTED.value)
    query = (
        select(Contact, Campaign.name, Service, Collectivity, Persona)
        .join(Campaign, Campaign.id == Contact.campaign_id)
        .join(Service, Service.id == Contact.service_id)
        .join(Collectivity, Collectivity.id == Contact.collectivity_id)
        .outerjoin(Persona, Persona.id == Contact.persona_id)
        .where(
            Contact.campaign_id == campaign,
            Contact.channel == Channel.LETTER.value,
            Contact.status.in_(statuses),
            Contact.planned_at <= require_utc(until),
        )
        .order_by(Contact.planned_at, Contact.id)
    )
    out: list[DueLetter] = []
    for contact, name, service, coll, persona in (await session.execute(query)).all():
        sender = None
        if persona is not None:
            sender = LetterSender(persona.key, persona.display_name, persona.email,
                                  persona.address, persona.postal_code, persona.city)  # fmt: skip
        out.append(
            DueLetter(
                contact_id=contact.id,
                campaign_name=name,
                status=contact.status,
                planned_at=contact.planned_at,
                scenario_id=contact.scenario_id,
                wording=contact.wording,
                service_name=service.name,
                service_kind=service.kind,
                service_address=service.address,
                service_postal_code=service.postal_code,
                service_city=service.city,
                collectivity_name=coll.name,
                collectivity_kind=coll.kind,
                insee_code=coll.insee_code,
                departement=coll.departement,
                persona=sender,
            )
        )
    return out


async def count_printed(session: AsyncSession, campaign: int, *, until: datetime) -> int:
    """Letters already printed (not yet posted) among those due by ``until``."""
    rows = await session.scalars(
        select(Contact.id).where(
            Contact.campaign_id == campaign,
            Contact.channel == Channel.LETTER.value,
            Contact.status == ContactStatus.PRINTED.value,
            Contact.planned_at <= require_utc(until),
        )
    )
    return len(rows.all())


async def mark_printed(
    session: AsyncSession,
    printed: Sequence[tuple[int, str]],
    *,
    now: datetime,
    actor: str,
) -> int:
    """Record the printing of ``(contact id, file name)`` pairs; returns how many moved from
    planned to printed. A reprint keeps the status and its time and adds a ``reprinted``
    event; a contact that moved on meanwhile (posted, cancelled) only gets no event."""
    now = require_utc(now)
    ids = [contact_id for contact_id, _ in printed]
    if not ids:
        return 0
    before = dict(
        (await session.execute(select(Contact.id, Contact.status).where(Contact.id.in_(ids)))).all()
    )
    result = await session.execute(
        update(Contact)
        .where(Contact.id.in_(ids), Contact.status == ContactStatus.PLANNED.value)
        .values(status=ContactStatus.PRINTED.value, status_at=now)
    )
    for contact_id, file_name in printed:
        status = before.get(contact_id)
        if status == ContactStatus.PLANNED.value:
            kind = "printed"
        elif status == ContactStatus.PRINTED.value:
            kind = "reprinted"
        else:
            continue
        session.add(ContactEvent(contact_id=contact_id, kind=kind, at=now, actor=actor,
                                 detail={"file": file_name}))  # fmt: skip
    moved: int = result.rowcount  # type: ignore[attr-defined]
    return moved
