"""SQL of the web pages: campaign lists and progress, a contact's page, the descriptions of
triage suggestions, and which closed campaigns a collectivity took part in (its portal).

Progress per channel counts each contact once, by where it stands at ``now``: the columns
are ``storage.contact_status``'s steps. The counts are the database's (one ``GROUP BY`` over
an index that covers it); only the fold of (status, time bucket) groups into columns is
Python's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from scenarios.domain import ContactStatus
from storage.contact_status import (
    ANSWERED,
    FAILED,
    LATE_AFTER,
    NOT_DONE,
    REACHED,
    STEPS,
    step_condition,
)
from storage.lookup import with_contact_names
from storage.mail import PENDING
from storage.models import (
    Auditor,
    Campaign,
    Collectivity,
    Contact,
    ContactEvent,
    Message,
    Observation,
    Persona,
    Service,
    WebAccount,
)
from storage.stats import (
    CampaignInfo,
    CollectivityInfo,
    campaign_info,
    campaign_infos,
    collectivity_info,
)
from storage.triage import TriageRow, triage_query


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
    actor: str | None  # as recorded: ``auditor:ID``, ``web:LOGIN``, a program's name
    detail: dict[str, Any]
    actor_name: str | None = None  # the auditor's or web account's name, when still known


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


async def campaign_by_id(session: AsyncSession, campaign_id: int) -> CampaignInfo | None:
    return await campaign_info(session, campaign_id=campaign_id)


# The time bucket of a contact's planned instant, for the not-done columns.
_LATER, _DUE, _LATE = 0, 1, 2


async def channel_progress(
    session: AsyncSession, campaign_id: int, now: datetime
) -> list[ChannelProgress]:
    """The progress table: counts per channel and step (``storage.contact_status``)."""
    bucket = case(
        (Contact.planned_at > now, _LATER),
        (Contact.planned_at > now - LATE_AFTER, _DUE),
        else_=_LATE,
    )
    by_status = await session.execute(
        select(Contact.channel, Contact.status, func.count())
        .where(Contact.campaign_id == campaign_id)
        .group_by(Contact.channel, Contact.status)
    )
    # Only the contacts not done yet are dated against now (index ranges of their statuses);
    # grouped by the bucket's name: written out again, its parameters would make PostgreSQL
    # see another expression in GROUP BY than in the select list.
    by_time = await session.execute(
        select(Contact.channel, bucket.label("bucket"), func.count())
        .where(Contact.campaign_id == campaign_id, Contact.status.in_(NOT_DONE))
        .group_by(Contact.channel, literal_column("bucket"))
    )
    counts: dict[str, dict[str, int]] = {}
    for channel, when, n in by_time.all():
        line = counts.setdefault(str(channel), dict.fromkeys(STEPS, 0))
        line[("upcoming", "due", "late")[when]] += n
    for channel, status, n in by_status.all():
        line = counts.setdefault(str(channel), dict.fromkeys(STEPS, 0))
        line["total"] += n
        if status in REACHED:
            line["done"] += n
        if status in ANSWERED:
            line["answered"] += n
        if status in FAILED:
            line["failed"] += n
        if status == ContactStatus.CLOSED.value:
            line["closed"] += n
    return [ChannelProgress(channel, **counts[channel]) for channel in sorted(counts)]


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
    # the page's ids first, from the covering index; then only those rows with their names
    page = select(Contact.id).where(*where).order_by(Contact.id).offset(offset).limit(limit)
    rows = await session.execute(
        _contact_query().where(Contact.id.in_(page.scalar_subquery())).order_by(Contact.id)
    )
    return int(total or 0), [ContactSummary(*row) for row in rows.all()]


def _contact_query() -> Any:
    return with_contact_names(
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
    lines = [(kind, at, actor, dict(detail or {})) for kind, at, actor, detail in rows]
    names = await actor_names(session, {line[2] for line in lines if line[2]})
    return [EventLine(*line, actor_name=names.get(line[2] or "")) for line in lines]


async def actor_names(session: AsyncSession, actors: set[str]) -> dict[str, str]:
    """The people behind recorded actors: ``auditor:ID`` -> the auditor's name, ``web:LOGIN``
    -> the coordinator's or consultant's account name. Others (a program, someone since
    removed) are left out: the caller shows the actor as recorded."""
    auditor_ids = {
        int(a.removeprefix("auditor:"))
        for a in actors
        if a.startswith("auditor:") and a.removeprefix("auditor:").isdigit()
        and len(a) < 30
    }  # fmt: skip
    logins = {a.removeprefix("web:") for a in actors if a.startswith("web:")}
    found: dict[str, str] = {}
    if auditor_ids:
        rows = await session.execute(
            select(Auditor.id, Auditor.name).where(Auditor.id.in_(sorted(auditor_ids)))
        )
        found.update({f"auditor:{i}": name for i, name in rows})
    if logins:
        rows = await session.execute(
            select(WebAccount.login, WebAccount.name).where(WebAccount.login.in_(sorted(logins)))
        )
        found.update({f"web:{login}": name for login, name in rows})
    return found


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
    rows = await session.execute(triage_query().where(waiting).offset(offset).limit(limit))
    return int(total or 0), [TriageRow(*row) for row in rows.all()]


# -- the collectivities' portal ------------------------------------------------------------


async def collectivity_by_id(
    session: AsyncSession, collectivity_id: int
) -> CollectivityInfo | None:
    return await collectivity_info(session, collectivity_id=collectivity_id)


async def portal_campaigns(session: AsyncSession, collectivity_id: int) -> list[CampaignInfo]:
    """The closed campaigns in which the collectivity had at least one contact, newest first.

    A campaign in progress is never listed: nothing a collectivity sees may reveal one."""
    took_part = select(Contact.campaign_id).where(Contact.collectivity_id == collectivity_id)
    return await campaign_infos(
        session, Campaign.closed_at.is_not(None), Campaign.id.in_(took_part)
    )


async def campaign_stamp(session: AsyncSession, campaign_id: int) -> tuple[Any, ...]:
    """A version of everything a campaign's barometer reads: it changes when a contact is
    added or changes status, or an event or a grid answer is recorded or corrected (a check
    overridden, an answer sent back or fixed: each leaves an event). Counted by the
    database over the contact indexes; the portal keeps a closed campaign's figures until
    it changes."""
    of_campaign = select(Contact.id).where(Contact.campaign_id == campaign_id)
    contacts = (
        await session.execute(
            select(func.count(), func.max(Contact.id), func.max(Contact.status_at)).where(
                Contact.campaign_id == campaign_id
            )
        )
    ).one()
    events = (
        await session.execute(
            select(func.count(), func.max(ContactEvent.id)).where(
                ContactEvent.contact_id.in_(of_campaign)
            )
        )
    ).one()
    answers = (
        await session.execute(
            select(func.count(), func.max(Observation.id), func.max(Observation.answered_at))
            .where(Observation.contact_id.in_(of_campaign))
        )
    ).one()  # fmt: skip
    return (*contacts, *events, *answers)
