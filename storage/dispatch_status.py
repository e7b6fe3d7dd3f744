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

from sqlalchemy import and_, func, select
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


def _waiting(campaign_id: int, *columns: Any) -> list[Any]:
    """``columns`` of the campaign's waiting email steps joined to their latest wait event,
    as two queries: steps put back with a time to try again, steps kept for a mailbox check.

    Each is driven by a contact index (campaign and next attempt; campaign and status), so
    only the waiting contacts are read, and each one's latest event is looked up through
    the events' contact index: no scan of the campaign or of its timeline. (One query with
    an OR of the two left SQLite scanning every email of the campaign.)"""
    latest = (
        select(func.max(ContactEvent.id))
        .where(ContactEvent.contact_id == Contact.id, ContactEvent.kind.in_(WAIT_EVENTS))
        .correlate(Contact)
        .scalar_subquery()
    )
    retried = (ContactStatus.PLANNED.value, ContactStatus.SENT.value,
               ContactStatus.ACKNOWLEDGED.value)  # fmt: skip
    branches = (
        # status and channel read through coalesce(): no index on them for this branch, so
        # SQLite (no statistics) takes the retry index rather than every sent email's
        and_(
            Contact.next_attempt_at.is_not(None),
            func.coalesce(Contact.status, "").in_(retried),
        ),
        Contact.status == ContactStatus.SENDING.value,
    )
    return [
        select(*columns)
        .select_from(Contact)
        .join(ContactEvent, ContactEvent.id == latest)
        .where(
            Contact.campaign_id == campaign_id,
            branch,
            func.coalesce(Contact.channel, "") == Channel.EMAIL.value,
            Contact.closed_at.is_(None),
            Contact.lease_owner.is_(None),
        )
        for branch in branches
    ]


async def waiting_steps(
    session: AsyncSession, campaign_id: int, *, limit: int | None = None
) -> list[Waiting]:
    """The waiting steps by contact id (the first ``limit`` of them, or all)."""
    found: list[Any] = []
    for query in _waiting(
        campaign_id,
        Contact.id,
        ContactEvent.kind,
        ContactEvent.at,
        Contact.next_attempt_at,
        Contact.lease_expires_at,
        Contact.status,
        ContactEvent.detail,
    ):
        query = query.order_by(Contact.id)
        if limit is not None:
            query = query.limit(limit)
        found += (await session.execute(query)).all()
    found.sort(key=lambda row: row[0])  # the two kinds of waiting never share a contact
    rows = []
    for cid, kind, at, next_at, lease_end, status, detail in found[:limit]:
        if status == ContactStatus.SENDING.value:
            next_at = lease_end
        rows.append(Waiting(cid, kind, at, next_at, dict(detail or {})))
    return rows


async def waiting_counts(session: AsyncSession, campaign_id: int) -> dict[str, int]:
    """How many steps wait, by the kind of their latest wait event (counted by the database)."""
    counts: dict[str, int] = {}
    for query in _waiting(campaign_id, ContactEvent.kind, func.count()):
        for kind, n in (await session.execute(query.group_by(ContactEvent.kind))).all():
            counts[str(kind)] = counts.get(str(kind), 0) + int(n)
    return counts
