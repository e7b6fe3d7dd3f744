"""SQL of the web pages: campaign lists and progress, a contact's page, the descriptions of
triage suggestions, and which closed campaigns a collectivity took part in (its portal).

Progress per channel counts each contact once, by where it stands at ``now``:

- upcoming: not done yet, planned later than now;
- due: not done yet, planned time passed less than a day ago;
- late: not done yet, planned time passed more than a day ago;
- done: sent, posted or carried out (whatever came after);
- answered: an answer recorded (written channels) or the visit or call done;
- failed: undeliverable, failed or cancelled;
- closed: closed at the campaign's end before anything was done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.mail import PENDING
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
from storage.stats import CampaignInfo, CollectivityInfo
from storage.triage import TriageRow

NOT_DONE = ("planned", "assigned", "printed", "sending", "in_progress")
FAILED = ("undeliverable", "failed", "cancelled")
ANSWERED = ("answered", "done")
LATE_AFTER = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class CampaignLine:
    id: int
    name: str
    title: str | None
    window_start: date
    window_end: date
    state: str
    contacts: int


@dataclass(frozen=True, slots=True)
class ChannelProgress:
    channel: str
    total: int
    upcoming: int
    due: int
    late: int
    done: int
    answered: int
    failed: int
    closed: int


@dataclass(frozen=True, slots=True)
class ContactSummary:
    id: int
    campaign_id: int
    campaign_name: str
    collectivity_id: int
    collectivity_name: str
    insee_code: str
    service_name: str
    service_kind: str
    scenario_id: str
    channel: str
    status: str
    planned_at: datetime
    sent_at: datetime | None
    first_ack_at: datetime | None
    first_answer_at: datetime | None
    closed_at: datetime | None
    persona_key: str | None
    auditor_key: str | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class EventLine:
    kind: str
    at: datetime
    actor: str | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class MessageLine:
    id: int
    direction: str
    internal_date: datetime | None
    from_address: str | None
    to_addresses: str | None
    subject: str | None
    classification: str | None
    text: str | None
    attachments: dict[str, Any] | None
    evidence: dict[str, Any] | None
    contact_id: int | None
    triage_state: str | None
    quarantine_reason: str | None
    persona_key: str | None


async def campaigns(session: AsyncSession) -> list[CampaignLine]:
    counts = (
        select(Contact.campaign_id, func.count().label("n"))
        .group_by(Contact.campaign_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            Campaign.id,
            Campaign.name,
            Campaign.title,
            Campaign.window_start,
            Campaign.window_end,
            Campaign.state,
            func.coalesce(counts.c.n, 0),
        )
        .outerjoin(counts, counts.c.campaign_id == Campaign.id)
        .order_by(Campaign.window_start.desc(), Campaign.id.desc())
    )
    return [CampaignLine(*row) for row in rows.all()]


async def campaign_by_id(session: AsyncSession, campaign_id: int) -> CampaignInfo | None:
    found = (
        await session.execute(
            select(
                Campaign.id,
                Campaign.name,
                Campaign.title,
                Campaign.window_start,
                Campaign.window_end,
                Campaign.state,
                Campaign.closed_at,
            ).where(Campaign.id == campaign_id)
        )
    ).first()
    return None if found is None else CampaignInfo(*found)


STEPS = ("total", "upcoming", "due", "late", "done", "answered", "failed", "closed")


def step_condition(step: str, now: datetime) -> Any:
    """The SQL condition for one column of the progress table (module docstring)."""
    not_done = Contact.status.in_(NOT_DONE)
    late_before = now - LATE_AFTER
    conditions: dict[str, Any] = {
        "total": Contact.id.is_not(None),
        "upcoming": and_(not_done, Contact.planned_at > now),
        "due": and_(not_done, Contact.planned_at <= now, Contact.planned_at > late_before),
        "late": and_(not_done, Contact.planned_at <= late_before),
        "done": Contact.status.in_(("sent", "acknowledged", "posted", *ANSWERED)),
        "answered": Contact.status.in_(ANSWERED),
        "failed": Contact.status.in_(FAILED),
        "closed": Contact.status == "closed",
    }
    return conditions[step]


async def channel_progress(
    session: AsyncSession, campaign_id: int, now: datetime
) -> list[ChannelProgress]:
    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    rows = await session.execute(
        select(Contact.channel, *(count(step_condition(step, now)) for step in STEPS))
        .where(Contact.campaign_id == campaign_id)
        .group_by(Contact.channel)
        .order_by(Contact.channel)
    )
    return [ChannelProgress(str(r[0]), *(int(v) for v in r[1:])) for r in rows.all()]


async def contact_list(
    session: AsyncSession,
    campaign_id: int,
    *,
    channel: str,
    step: str,
    now: datetime,
    offset: int,
    limit: int,
) -> tuple[int, list[ContactSummary]]:
    """The contacts behind one figure of the progress table: (how many, one page by id)."""
    where = (
        Contact.campaign_id == campaign_id,
        Contact.channel == channel,
        step_condition(step, now),
    )
    total = await session.scalar(select(func.count()).select_from(Contact).where(*where))
    rows = await session.execute(
        _contact_query().where(*where).order_by(Contact.id).offset(offset).limit(limit)
    )
    return int(total or 0), [ContactSummary(*row) for row in rows.all()]


def _contact_query() -> Select[*tuple[Any, ...]]:
    return (
        select(
            Contact.id,
            Contact.campaign_id,
            Campaign.name,
            Contact.collectivity_id,
            Collectivity.name,
            Collectivity.insee_code,
            Service.name,
            Service.kind,
            Contact.scenario_id,
            Contact.channel,
            Contact.status,
            Contact.planned_at,
            Contact.sent_at,
            Contact.first_ack_at,
            Contact.first_answer_at,
            Contact.closed_at,
            Persona.key,
            Auditor.key,
            Contact.last_error,
        )
        .join(Campaign, Campaign.id == Contact.campaign_id)
        .join(Collectivity, Collectivity.id == Contact.collectivity_id)
        .join(Service, Service.id == Contact.service_id)
        .outerjoin(Persona, Persona.id == Contact.persona_id)
        .outerjoin(Auditor, Auditor.id == Contact.auditor_id)
    )


async def contact_summaries(
    session: AsyncSession, contact_ids: Sequence[int]
) -> dict[int, ContactSummary]:
    if not contact_ids:
        return {}
    rows = await session.execute(_contact_query().where(Contact.id.in_(list(contact_ids))))
    return {row[0]: ContactSummary(*row) for row in rows.all()}


async def contact_events(session: AsyncSession, contact_id: int) -> list[EventLine]:
    rows = await session.execute(
        select(ContactEvent.kind, ContactEvent.at, ContactEvent.actor, ContactEvent.detail)
        .where(ContactEvent.contact_id == contact_id)
        .order_by(ContactEvent.at, ContactEvent.id)
    )
    return [EventLine(kind, at, actor, dict(detail or {})) for kind, at, actor, detail in rows]


def _message_query() -> Select[*tuple[Any, ...]]:
    return select(
        Message.id,
        Message.direction,
        Message.internal_date,
        Message.from_address,
        Message.to_addresses,
        Message.subject,
        Message.classification,
        func.coalesce(Message.new_text, Message.text),
        Message.attachments,
        Message.evidence,
        Message.contact_id,
        Message.triage_state,
        Message.quarantine_reason,
        Persona.key,
    ).outerjoin(Persona, Persona.id == Message.persona_id)


async def contact_messages(session: AsyncSession, contact_id: int) -> list[MessageLine]:
    rows = await session.execute(
        _message_query()
        .where(Message.contact_id == contact_id)
        .order_by(Message.internal_date, Message.id)
    )
    return [MessageLine(*row) for row in rows.all()]


async def message(session: AsyncSession, message_id: int) -> MessageLine | None:
    row = (await session.execute(_message_query().where(Message.id == message_id))).first()
    return MessageLine(*row) if row else None


async def triage_page(
    session: AsyncSession, *, offset: int, limit: int
) -> tuple[int, list[TriageRow]]:
    """(how many wait in triage, one page of them, oldest first)."""
    waiting = Message.triage_state == PENDING
    total = await session.scalar(select(func.count()).select_from(Message).where(waiting))
    rows = await session.execute(
        select(
            Message.id,
            Persona.key,
            Message.persona_id,
            Message.mailbox,
            Message.internal_date,
            Message.from_address,
            Message.subject,
            Message.classification,
            Message.triage_state,
            Message.contact_id,
            Message.evidence,
        )
        .outerjoin(Persona, Persona.id == Message.persona_id)
        .where(waiting)
        .order_by(Message.internal_date, Message.id)
        .offset(offset)
        .limit(limit)
    )
    return int(total or 0), [TriageRow(*row) for row in rows.all()]


# -- the collectivities' portal ------------------------------------------------------------


async def collectivity_by_id(
    session: AsyncSession, collectivity_id: int
) -> CollectivityInfo | None:
    found = (
        await session.execute(
            select(
                Collectivity.id,
                Collectivity.insee_code,
                Collectivity.name,
                Collectivity.kind,
                Collectivity.population,
                Collectivity.departement,
                Collectivity.region,
            ).where(Collectivity.id == collectivity_id)
        )
    ).first()
    return None if found is None else CollectivityInfo(*found)


async def portal_campaigns(session: AsyncSession, collectivity_id: int) -> list[CampaignInfo]:
    """The closed campaigns in which the collectivity had at least one contact, newest first.

    A campaign in progress is never listed: nothing a collectivity sees may reveal one."""
    took_part = select(Contact.campaign_id).where(Contact.collectivity_id == collectivity_id)
    rows = await session.execute(
        select(
            Campaign.id,
            Campaign.name,
            Campaign.title,
            Campaign.window_start,
            Campaign.window_end,
            Campaign.state,
            Campaign.closed_at,
        )
        .where(Campaign.closed_at.is_not(None), Campaign.id.in_(took_part))
        .order_by(Campaign.window_start.desc(), Campaign.id.desc())
    )
    return [CampaignInfo(*row) for row in rows.all()]
