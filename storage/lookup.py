"""SQL for looking at one contact or one message, and for describing contacts in a line.

What ``temoin contact show``, ``temoin message show`` and ``triage list`` read: plain rows,
no decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Auditor,
    Campaign,
    Collectivity,
    Contact,
    ContactEvent,
    Message,
    Persona,
    Service,
)


@dataclass(frozen=True, slots=True)
class ContactBrief:
    id: int
    campaign: str
    channel: str
    scenario_id: str
    status: str
    service: str
    collectivity: str
    insee_code: str
    planned_at: datetime
    sent_at: datetime | None
    first_ack_at: datetime | None
    first_answer_at: datetime | None
    closed_at: datetime | None
    persona: str | None
    auditor: str | None
    checks: dict[str, Any] | None


def with_contact_names(query: Any) -> Any:
    """``query`` over contacts joined to what names them: campaign, service, collectivity,
    persona and auditor (those two may be absent)."""
    return (
        query.join(Campaign, Contact.campaign_id == Campaign.id)
        .join(Service, Contact.service_id == Service.id)
        .join(Collectivity, Contact.collectivity_id == Collectivity.id)
        .outerjoin(Persona, Contact.persona_id == Persona.id)
        .outerjoin(Auditor, Contact.auditor_id == Auditor.id)
    )


def _brief_query() -> Any:
    return with_contact_names(
        select(
            Contact.id,
            Campaign.name,
            Contact.channel,
            Contact.scenario_id,
            Contact.status,
            Service.name,
            Collectivity.name,
            Collectivity.insee_code,
            Contact.planned_at,
            Contact.sent_at,
            Contact.first_ack_at,
            Contact.first_answer_at,
            Contact.closed_at,
            Persona.key,
            Auditor.key,
            Contact.checks,
        )
    )


async def contact_briefs(session: AsyncSession, ids: Sequence[int]) -> dict[int, ContactBrief]:
    if not ids:
        return {}
    rows = await session.execute(_brief_query().where(Contact.id.in_(sorted(set(ids)))))
    return {row[0]: ContactBrief(*row) for row in rows}


@dataclass(frozen=True, slots=True)
class MessageLine:
    id: int
    direction: str
    at: datetime | None
    from_address: str | None
    subject: str | None
    classification: str | None


async def contact_messages(session: AsyncSession, contact_id: int) -> list[MessageLine]:
    rows = await session.execute(
        select(
            Message.id,
            Message.direction,
            Message.internal_date,
            Message.from_address,
            Message.subject,
            Message.classification,
        )
        .where(Message.contact_id == contact_id)
        .order_by(Message.internal_date, Message.id)
    )
    return [MessageLine(*row) for row in rows]


async def contact_events(
    session: AsyncSession, contact_id: int
) -> list[tuple[datetime, str, str | None]]:
    rows = await session.execute(
        select(ContactEvent.at, ContactEvent.kind, ContactEvent.actor)
        .where(ContactEvent.contact_id == contact_id)
        .order_by(ContactEvent.at, ContactEvent.id)
    )
    return [(at, kind, actor) for at, kind, actor in rows]


@dataclass(frozen=True, slots=True)
class MessageDetail:
    id: int
    direction: str
    persona: str | None
    mailbox: str | None
    internal_date: datetime | None
    from_address: str | None
    to_addresses: str | None
    subject: str | None
    new_text: str | None
    text: str | None
    classification: str | None
    evidence: dict[str, Any] | None
    contact_id: int | None
    match_method: str | None
    match_confidence: float | None
    triage_state: str | None
    quarantine_reason: str | None


async def message_detail(session: AsyncSession, message_id: int) -> MessageDetail | None:
    row = (
        await session.execute(
            select(
                Message.id,
                Message.direction,
                Persona.key,
                Message.mailbox,
                Message.internal_date,
                Message.from_address,
                Message.to_addresses,
                Message.subject,
                Message.new_text,
                Message.text,
                Message.classification,
                Message.evidence,
                Message.contact_id,
                Message.match_method,
                Message.match_confidence,
                Message.triage_state,
                Message.quarantine_reason,
            )
            .outerjoin(Persona, Message.persona_id == Persona.id)
            .where(Message.id == message_id)
        )
    ).first()
    if row is None:
        return None
    values: tuple[Any, ...] = tuple(row)
    return MessageDetail(*values)


async def message_texts(session: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    """The reply's own words (``new_text``, else the whole text) of these messages."""
    if not ids:
        return {}
    rows = await session.execute(
        select(Message.id, Message.new_text, Message.text).where(Message.id.in_(sorted(set(ids))))
    )
    return {mid: (new or whole or "") for mid, new, whole in rows}
