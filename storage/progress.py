"""SQL for where campaigns stand: the contacts' states, the campaigns listed, what needs a person.

The counting is ``scenarios.progress`` (pure); this module only reads rows for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scenarios.progress import ContactState
from storage import contact_status
from storage.models import Campaign, Contact, Observation


async def contact_states(session: AsyncSession, campaign_id: int) -> list[ContactState]:
    rows = await session.execute(
        select(Contact.channel, Contact.status, Contact.planned_at, Contact.closed_at).where(
            Contact.campaign_id == campaign_id
        )
    )
    return [
        ContactState(channel, status, planned_at, closed_at is not None)
        for channel, status, planned_at, closed_at in rows
    ]


@dataclass(frozen=True, slots=True)
class CampaignLine:
    id: int
    name: str
    title: str | None
    window_start: date
    window_end: date
    closed_at: datetime | None
    contacts: int
    started: int
    answered: int


async def campaign_lines(session: AsyncSession) -> list[CampaignLine]:
    """Every campaign with its contact counts, the latest window first."""
    started = func.sum(case((contact_status.started(), 1), else_=0))
    answered = func.sum(case((Contact.status == "answered", 1), else_=0))
    counts = (
        select(
            Contact.campaign_id.label("cid"),
            func.count().label("n"),
            started.label("started"),
            answered.label("answered"),
        )
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
            Campaign.closed_at,
            func.coalesce(counts.c.n, 0),
            func.coalesce(counts.c.started, 0),
            func.coalesce(counts.c.answered, 0),
        )
        .outerjoin(counts, counts.c.cid == Campaign.id)
        .order_by(Campaign.window_start.desc(), Campaign.name)
    )
    return [
        CampaignLine(cid, name, title, start, end, closed, int(n), int(s), int(a))
        for cid, name, title, start, end, closed, n, s, a in rows
    ]


async def corrections_asked(session: AsyncSession, campaign_id: int) -> int:
    """Answers a coordinator sent back to their auditor, not corrected yet."""
    found = await session.scalar(
        select(func.count())
        .select_from(Observation)
        .join(Contact, Observation.contact_id == Contact.id)
        .where(Contact.campaign_id == campaign_id, Observation.review_state == "to_fix")
    )
    return int(found or 0)


async def answers_to_review(session: AsyncSession, campaign_id: int) -> int:
    """Answers checked automatically that no coordinator has reviewed yet (no override)."""
    rows = await session.execute(
        select(Contact.checks).where(
            Contact.campaign_id == campaign_id,
            Contact.status == "answered",
            Contact.checks.is_not(None),
        )
    )
    pending = 0
    for (checks,) in rows:
        if not checks or checks.get("message") is None:
            continue
        items = [*(checks.get("expected") or {}).values(), *(checks.get("form") or {}).values()]
        if not any(isinstance(item, dict) and item.get("override") for item in items):
            pending += 1
    return pending
