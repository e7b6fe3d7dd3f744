"""What the tracker reads to match a batch of messages: the persona's contacts (the columns
matching needs, read for every batch), the subjects of our own copies, and the messages seen
before (duplicates by bytes or by Message-ID)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scenarios.domain import Channel
from storage.mail import OWN_COPY, PROCESSING, QUARANTINED, among, chunks, not_among
from storage.models import Collectivity, Contact, Message, Service


@dataclass(frozen=True, slots=True)
class MatchRow:
    """What matching reads of a contact (and what renders its subject): no JSON, one date."""

    id: int
    status: str
    sent_at: datetime | None
    message_id: str | None
    followup_message_id: str | None
    reply_token: str | None
    scenario_id: str
    wording: int
    service_id: int
    service_email: str | None
    service_name: str
    service_kind: str
    service_city: str | None
    collectivity_id: int
    collectivity_name: str


_MATCH_COLUMNS = (
    Contact.id, Contact.status, Contact.sent_at, Contact.message_id,
    Contact.followup_message_id, Contact.reply_token, Contact.scenario_id, Contact.wording,
    Service.id, Service.email, Service.name, Service.kind, Service.city, Collectivity.id,
    Collectivity.name,
)  # fmt: skip


async def persona_contacts(session: AsyncSession, persona_id: int) -> list[MatchRow]:
    """The persona's email contacts that have gone out (they have a Message-ID). Read for
    every batch, so only the columns matching needs."""
    query: Any = select(*_MATCH_COLUMNS)
    rows = await session.execute(
        query.join(Service, Service.id == Contact.service_id)
        .join(Collectivity, Collectivity.id == Contact.collectivity_id)
        .where(
            Contact.persona_id == persona_id,
            Contact.channel == Channel.EMAIL.value,
            Contact.message_id.is_not(None),
        )
    )
    return [MatchRow(*row) for row in rows.all()]


async def own_copy_subjects(session: AsyncSession, persona_id: int) -> dict[int, list[str]]:
    """Subjects of our own sent emails seen in the mailbox, per contact."""
    rows = await session.execute(
        select(Message.contact_id, Message.subject).where(
            Message.persona_id == persona_id,
            Message.classification == OWN_COPY,
            Message.contact_id.is_not(None),
        )
    )
    found: dict[int, list[str]] = {}
    for contact_id, subject in rows.all():
        if contact_id is not None and subject:
            found.setdefault(contact_id, []).append(subject)
    return found


@dataclass(frozen=True, slots=True)
class SeenMessage:
    id: int
    contact_id: int | None
    classification: str
    from_address: str | None
    message_id: str | None
    raw_sha256: str


async def seen_before(
    session: AsyncSession,
    persona_id: int,
    hashes: Sequence[str],
    message_ids: Sequence[str],
    exclude: Sequence[int],
) -> list[SeenMessage]:
    """Processed rows of the persona with one of these hashes or Message-IDs (duplicates)."""
    found: dict[int, SeenMessage] = {}
    base = (
        Message.persona_id == persona_id,
        Message.classification.is_not(None),
        Message.classification.not_in([PROCESSING, QUARANTINED]),
        not_among(session, Message.id, list(exclude)) if exclude else Message.id.is_not(None),
    )
    columns = (
        Message.id,
        Message.contact_id,
        Message.classification,
        Message.from_address,
        Message.message_id,
        Message.raw_sha256,
    )
    for column, values in ((Message.raw_sha256, hashes), (Message.message_id, message_ids)):
        for part in chunks(list(values)):
            rows = await session.execute(
                select(*columns).where(*base, among(session, column, part))
            )
            for id_, contact_id, kind, sender, mid, sha in rows.all():
                found[id_] = SeenMessage(id_, contact_id, kind or "", sender, mid, sha)
    return sorted(found.values(), key=lambda seen: seen.id)
