"""What the persona mailboxes hold, compared with the server's counts: the census.

The watchers record each folder's message count on the server beside the checkpoint
(``record_census``); ``mailbox_report`` and ``campaign_mail_summary`` show per persona and folder
what the server holds, what is stored and the gap, for ``temoin campaign show``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.mail import PENDING, QUARANTINED
from storage.models import Contact, MailboxCheckpoint, Message, Persona


async def record_census(
    session: AsyncSession,
    persona_id: int,
    mailbox: str,
    uidvalidity: int,
    server_count: int,
    now: datetime,
) -> int:
    """Keep the server's count beside the checkpoint; return how many rows are stored."""
    await session.execute(
        update(MailboxCheckpoint)
        .where(
            MailboxCheckpoint.persona_id == persona_id,
            MailboxCheckpoint.mailbox == mailbox,
            MailboxCheckpoint.uidvalidity == uidvalidity,
        )
        .values(server_count=server_count, checked_at=now)
    )
    stored = await session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.persona_id == persona_id,
            Message.mailbox == mailbox,
            Message.uidvalidity == uidvalidity,
        )
    )
    return int(stored or 0)


async def stored_uids(
    session: AsyncSession, persona_id: int, mailbox: str, uidvalidity: int
) -> set[int]:
    rows = await session.scalars(
        select(Message.uid).where(
            Message.persona_id == persona_id,
            Message.mailbox == mailbox,
            Message.uidvalidity == uidvalidity,
        )
    )
    return {uid for uid in rows if uid is not None}


async def mailbox_report(session: AsyncSession, persona_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Per persona and folder (current UIDVALIDITY): server count, stored, gap, last census."""
    if not persona_ids:
        return []
    latest = (
        select(func.max(MailboxCheckpoint.id))
        .where(MailboxCheckpoint.persona_id.in_(list(persona_ids)))
        .group_by(MailboxCheckpoint.persona_id, MailboxCheckpoint.mailbox)
    )
    rows = await session.execute(
        select(MailboxCheckpoint, Persona.key)
        .join(Persona, Persona.id == MailboxCheckpoint.persona_id)
        .where(MailboxCheckpoint.id.in_(latest))
        .order_by(Persona.key, MailboxCheckpoint.mailbox)
    )
    report: list[dict[str, Any]] = []
    for checkpoint, key in rows.all():
        stored = await session.scalar(
            select(func.count())
            .select_from(Message)
            .where(
                Message.persona_id == checkpoint.persona_id,
                Message.mailbox == checkpoint.mailbox,
                Message.uidvalidity == checkpoint.uidvalidity,
            )
        )
        server = checkpoint.server_count
        report.append(
            {
                "persona": key,
                "folder": checkpoint.mailbox,
                "uidvalidity": checkpoint.uidvalidity,
                "last_uid": checkpoint.last_uid,
                "server_count": server,
                "stored": int(stored or 0),
                "gap": None if server is None else max(server - int(stored or 0), 0),
                "checked_at": checkpoint.checked_at.isoformat() if checkpoint.checked_at else None,
            }
        )
    return report


async def campaign_mail_summary(session: AsyncSession, campaign_id: int) -> dict[str, Any]:
    """The ``mail`` section of ``campaign show``: mailboxes of the campaign's personas."""
    persona_ids = list(
        await session.scalars(
            select(Contact.persona_id)
            .where(Contact.campaign_id == campaign_id, Contact.persona_id.is_not(None))
            .distinct()
        )
    )
    ids = [p for p in persona_ids if p is not None]
    mailboxes = await mailbox_report(session, ids)
    by_class: dict[str, int] = {}
    rows = await session.execute(
        select(Message.classification, func.count())
        .join(Contact, Contact.id == Message.contact_id)
        .where(Contact.campaign_id == campaign_id)
        .group_by(Message.classification)
    )
    for classification, count in rows.all():
        by_class[classification or "unprocessed"] = count
    counts: dict[str, int] = {}
    if ids:
        for name, condition in (
            ("triage_pending", Message.triage_state == PENDING),
            ("quarantined", Message.classification == QUARANTINED),
            ("unprocessed", Message.classification.is_(None)),
        ):
            value = await session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.persona_id.in_(ids), condition)
            )
            counts[name] = int(value or 0)
    return {
        "mailboxes": mailboxes,
        "gaps": sum(m["gap"] or 0 for m in mailboxes),
        "matched_by_classification": dict(sorted(by_class.items())),
        "triage_pending": counts.get("triage_pending", 0),
        "quarantined": counts.get("quarantined", 0),
        "unprocessed": counts.get("unprocessed", 0),
    }
