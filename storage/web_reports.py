"""SQL of the web's downloads and comparisons: which collectivities took part in a campaign,
and which campaigns a campaign can be compared with.

Kept apart from ``storage.backoffice`` (the pages' lists and progress).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Campaign, Contact
from storage.stats import CampaignInfo, campaign_infos


async def took_part(session: AsyncSession, campaign_id: int, collectivity_id: int) -> bool:
    """Whether the collectivity had at least one contact in the campaign."""
    found = await session.scalar(
        select(Contact.id)
        .where(Contact.campaign_id == campaign_id, Contact.collectivity_id == collectivity_id)
        .limit(1)
    )
    return found is not None


async def earlier_campaigns(session: AsyncSession, campaign_id: int) -> list[CampaignInfo]:
    """The closed campaigns that began before this one, newest first (to compare with)."""
    start = select(Campaign.window_start).where(Campaign.id == campaign_id).scalar_subquery()
    return await campaign_infos(
        session,
        Campaign.id != campaign_id,
        Campaign.closed_at.is_not(None),
        Campaign.window_start < start,
    )
