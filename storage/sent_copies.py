"""SQL of the Sent-folder copies: which sent messages have theirs, claiming those that do not.

Each step accepted by the provider gets one copy in the persona's Sent folder, recorded as a
``ContactEvent`` (``sent_copy`` for the first message, ``followup_sent_copy`` for the
follow-up; detail: Message-ID, how it was filed). The dispatcher files the copy right after
sending while it still holds the contact's lease (``Accepted.keep_lease``); a worker that dies
before leaves the lease to expire, and ``claim_missing`` then hands the contact to the next
sweep (runners/sent_copies.py). The lease fences the two: a contact is copied by one worker
at a time, and the follow-up claim (storage/dispatch.py) waits for it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scenarios.domain import Channel
from storage.dispatch import FIRST, FOLLOWUP
from storage.models import Contact, ContactEvent, Persona
from storage.personas import PersonaInfo, persona_info

COPY_EVENT = {FIRST: "sent_copy", FOLLOWUP: "followup_sent_copy"}
_CONTACT = cast(Table, Contact.__table__)


@dataclass(frozen=True, slots=True)
class CopyDue:
    """One sent step of a contact whose Sent copy is not recorded."""

    contact_id: int
    step: str
    message_id: str
    accepted_at: datetime
    persona: PersonaInfo


@dataclass(frozen=True, slots=True)
class CopyDone:
    contact_id: int
    step: str
    message_id: str
    how: str  # "appended" | "from_inbox" | "already"
    at: datetime


def _no_copy(step: str) -> Any:
    return ~exists().where(
        ContactEvent.contact_id == Contact.id, ContactEvent.kind == COPY_EVENT[step]
    )


async def claim_missing(
    session: AsyncSession,
    *,
    now: datetime,
    since: datetime,
    owner: str,
    lease_until: datetime,
    limit: int,
    skip_locked: bool,
) -> list[CopyDue]:
    """Claim up to ``limit`` contacts sent since ``since`` with a copy not recorded, whose
    lease is free or expired; their lease becomes ours until ``lease_until``."""
    first = and_(Contact.sent_at >= since, Contact.message_id.is_not(None), _no_copy(FIRST))
    follow = and_(
        Contact.followup_sent_at >= since,
        Contact.followup_message_id.is_not(None),
        _no_copy(FOLLOWUP),
    )
    candidates = (
        select(Contact.id, Contact.lease_owner, Contact.lease_expires_at)
        .join(Persona, Persona.id == Contact.persona_id)
        .where(
            Contact.channel == Channel.EMAIL.value,
            Persona.imap_host.is_not(None),
            or_(Contact.lease_expires_at.is_(None), Contact.lease_expires_at < now),
            or_(first, follow),
        )
        .order_by(Contact.id)
        .limit(limit)
    )
    if skip_locked:
        candidates = candidates.with_for_update(skip_locked=True, of=Contact)
    rows = (await session.execute(candidates)).all()
    if not rows:
        return []
    t = _CONTACT
    guard = and_(
        t.c.id == bindparam("b_id"),
        t.c.lease_owner.is_not_distinct_from(bindparam("b_owner")),
        t.c.lease_expires_at.is_not_distinct_from(bindparam("b_expires")),
    )
    params = [{"b_id": cid, "b_owner": own, "b_expires": exp} for cid, own, exp in rows]
    await session.execute(
        update(t).where(guard).values(lease_owner=owner, lease_expires_at=lease_until), params
    )
    query = (
        select(Contact, Persona, _no_copy(FIRST), _no_copy(FOLLOWUP))
        .join(Persona, Persona.id == Contact.persona_id)
        .where(
            Contact.id.in_([cid for cid, _, _ in rows]),
            Contact.lease_owner == owner,
            Contact.lease_expires_at == lease_until,
        )
        .order_by(Contact.persona_id, Contact.id)
    )
    due: list[CopyDue] = []
    for contact, persona, first_missing, follow_missing in (await session.execute(query)).all():
        info = persona_info(persona)
        if first_missing and contact.sent_at is not None and contact.sent_at >= since:
            assert contact.message_id is not None
            due.append(CopyDue(contact.id, FIRST, contact.message_id, contact.sent_at, info))
        sent = contact.followup_sent_at
        if follow_missing and sent is not None and sent >= since and contact.followup_message_id:
            due.append(CopyDue(contact.id, FOLLOWUP, contact.followup_message_id, sent, info))
    return due


async def record_copies(
    session: AsyncSession,
    *,
    owner: str,
    done: Sequence[CopyDone],
    failed: Sequence[int],
    retry_at: datetime,
) -> None:
    """Record the copies filed and release our leases; the contacts in ``failed`` keep a
    lease with no owner until ``retry_at`` (the next sweep tries again after that).

    A copy filed is recorded even if our lease was taken over meanwhile: it is in the folder,
    and the record keeps anyone from filing it again."""
    if done:
        session.add_all(
            ContactEvent(
                contact_id=d.contact_id,
                kind=COPY_EVENT[d.step],
                at=d.at,
                actor=owner,
                detail={"message_id": d.message_id, "how": d.how},
            )
            for d in done
        )
    finished = sorted({d.contact_id for d in done} - set(failed))
    if finished:
        await session.execute(
            update(Contact)
            .where(Contact.id.in_(finished), Contact.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=None)
        )
    if failed:
        await session.execute(
            update(Contact)
            .where(Contact.id.in_(sorted(set(failed))), Contact.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=retry_at)
        )


async def release(session: AsyncSession, *, owner: str, contact_ids: Sequence[int]) -> None:
    """Give back leases kept for copies that were not attempted."""
    if contact_ids:
        await session.execute(
            update(Contact)
            .where(Contact.id.in_(sorted(set(contact_ids))), Contact.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=None)
        )
