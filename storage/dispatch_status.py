"""Why a campaign's emails are waiting: each waiting step with its latest dispatch event.

A step waits when the dispatcher put it back with a time to try again (``next_attempt_at``
set: held for our side, retried after a temporary refusal, deferred to the dispatch hours or
the rate limits) or kept it for a mailbox check (``sending`` with no owner). The latest event
of those kinds says why (its detail: decision, about whom, reason, raw reply, since when).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from scenarios.domain import Channel, ContactStatus
from storage.models import Contact, ContactEvent

WAIT_EVENTS = ("held", "send_failed", "deferred", "send_unverified")


@dataclass(frozen=True, slots=True)
class Waiting:
    contact_id: int
    kind: str  # one of WAIT_EVENTS
    at: datetime  # when the event was recorded
    next_at: datetime | None  # the next attempt (or mailbox check)
    detail: dict[str, Any]


async def waiting_steps(session: AsyncSession, campaign_id: int) -> list[Waiting]:
    latest = (
        select(ContactEvent.contact_id, func.max(ContactEvent.id).label("event_id"))
        .join(Contact, Contact.id == ContactEvent.contact_id)
        .where(Contact.campaign_id == campaign_id, ContactEvent.kind.in_(WAIT_EVENTS))
        .group_by(ContactEvent.contact_id)
        .subquery()
    )
    waiting = or_(
        and_(
            Contact.status.in_(
                (
                    ContactStatus.PLANNED.value,
                    ContactStatus.SENT.value,
                    ContactStatus.ACKNOWLEDGED.value,
                )
            ),
            Contact.next_attempt_at.is_not(None),
        ),
        Contact.status == ContactStatus.SENDING.value,
    )
    query = (
        select(
            Contact.id,
            ContactEvent.kind,
            ContactEvent.at,
            Contact.next_attempt_at,
            Contact.lease_expires_at,
            Contact.status,
            ContactEvent.detail,
        )
        .join(latest, latest.c.contact_id == Contact.id)
        .join(ContactEvent, ContactEvent.id == latest.c.event_id)
        .where(
            Contact.campaign_id == campaign_id,
            Contact.channel == Channel.EMAIL.value,
            Contact.closed_at.is_(None),
            Contact.lease_owner.is_(None),
            waiting,
        )
        .order_by(Contact.id)
    )
    rows = []
    for cid, kind, at, next_at, lease_end, status, detail in (await session.execute(query)).all():
        if status == ContactStatus.SENDING.value:
            next_at = lease_end
        rows.append(Waiting(cid, kind, at, next_at, dict(detail or {})))
    return rows
