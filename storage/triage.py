"""The triage queue: messages the tracker could not match with confidence, and what a person
decides about them (matched by hand, ignored), each move conditional on the current state so
two coordinators never apply the same decision twice. Also the content checks a reviewer sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.mail import PENDING, clean_json
from storage.models import Campaign, Contact, Message, Persona


@dataclass(frozen=True, slots=True)
class TriageRow:
    id: int
    persona_key: str | None
    persona_id: int | None
    mailbox: str | None
    internal_date: datetime | None
    from_address: str | None
    subject: str | None
    classification: str | None
    triage_state: str | None
    contact_id: int | None
    evidence: dict[str, Any] | None


def triage_query() -> Any:
    """The columns of ``TriageRow``, oldest message first."""
    return (
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
        .order_by(Message.internal_date, Message.id)
    )


async def triage_rows(
    session: AsyncSession, *, state: str | None = PENDING, message_id: int | None = None
) -> list[TriageRow]:
    query = triage_query()
    if message_id is not None:
        query = query.where(Message.id == message_id)
    elif state is not None:
        query = query.where(Message.triage_state == state)
    return [TriageRow(*row) for row in (await session.execute(query)).all()]


async def set_triage(
    session: AsyncSession,
    message_id: int,
    *,
    state: str,
    expect: str = PENDING,
    contact_id: int | None = None,
    method: str | None = None,
    confidence: float | None = None,
    evidence: dict[str, Any] | None = None,
    classification: str | None = None,
) -> bool:
    """Move a message out of triage, conditionally on its current state (``classification``:
    the class a person set, replacing the classifier's)."""
    values: dict[str, Any] = {"triage_state": state}
    if classification is not None:
        values["classification"] = classification
    if contact_id is not None:
        values |= {"contact_id": contact_id, "match_method": method,
                   "match_confidence": confidence}  # fmt: skip
    if evidence is not None:
        values["evidence"] = clean_json(evidence)
    result = await session.execute(
        update(Message)
        .where(Message.id == message_id, Message.triage_state == expect)
        .values(**values)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def ignore_message(session: AsyncSession, message_id: int, actor: str, at: datetime) -> bool:
    """Take one pending message out of triage as ignored (it answers no contact), with who and
    when in its evidence; False if it was not pending (decided meanwhile, or no such message)."""
    rows = await triage_rows(session, message_id=message_id)
    if not rows or rows[0].triage_state != PENDING:
        return False
    evidence = dict(rows[0].evidence or {})
    evidence["triage"] = {"by": actor, "at": at.isoformat(), "ignored": True}
    return await set_triage(session, message_id, state="ignored", evidence=evidence)


async def classify_message(
    session: AsyncSession, message_id: int, kind: str, actor: str, at: datetime
) -> bool:
    """Set a pending message's class by hand, replacing the classifier's (kept in its evidence
    with who and when); the message stays pending. False if it was not pending."""
    rows = await triage_rows(session, message_id=message_id)
    if not rows or rows[0].triage_state != PENDING:
        return False
    evidence = dict(rows[0].evidence or {})
    evidence["classified"] = {"by": actor, "at": at.isoformat(), "was": rows[0].classification}
    return await set_triage(
        session, message_id, state=PENDING, evidence=evidence, classification=kind
    )


async def contact_campaign(session: AsyncSession, contact_id: int) -> str | None:
    return cast(
        str | None,
        await session.scalar(
            select(Campaign.name)
            .join(Contact, Contact.campaign_id == Campaign.id)
            .where(Contact.id == contact_id)
        ),
    )


async def set_checks(session: AsyncSession, contact_id: int, checks: dict[str, Any]) -> None:
    await session.execute(
        update(Contact).where(Contact.id == contact_id).values(checks=clean_json(checks))
    )
