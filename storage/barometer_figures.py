"""SQL of the kept barometer figures (``models.BarometerFigures``): read a row's version
(without its data), read a row, write one (an upsert: two web workers may finish the same
computation at once), forget a campaign's; and which campaigns are closed.

The rows are opaque here: ``options``, ``version`` and ``data`` are ``reports.figures_store``'s.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import BarometerFigures, Campaign
from storage.stats import CampaignInfo, campaign_infos

__all__ = ["closed_campaigns", "forget", "keep", "kept", "kept_version"]


async def kept_version(session: AsyncSession, campaign_id: int, options: str) -> str | None:
    """The data version of the kept figures, or None when none are kept."""
    found = await session.scalar(
        select(BarometerFigures.version).where(
            BarometerFigures.campaign_id == campaign_id, BarometerFigures.options == options
        )
    )
    return found


async def kept(session: AsyncSession, campaign_id: int, options: str) -> tuple[str, bytes] | None:
    """(version, data) of the kept figures, or None."""
    found = (
        await session.execute(
            select(BarometerFigures.version, BarometerFigures.data).where(
                BarometerFigures.campaign_id == campaign_id, BarometerFigures.options == options
            )
        )
    ).first()
    return None if found is None else (found[0], bytes(found[1]))


async def keep(
    session: AsyncSession,
    campaign_id: int,
    options: str,
    version: str,
    data: bytes,
    at: datetime,
) -> None:
    """Keep these figures for (campaign, options), replacing any kept before."""
    values = {
        "campaign_id": campaign_id, "options": options, "version": version, "data": data,
        "computed_at": at,
    }  # fmt: skip
    keys = [BarometerFigures.campaign_id, BarometerFigures.options]
    changed = {"version": version, "data": data, "computed_at": at}
    if session.get_bind().dialect.name == "postgresql":
        on_pg = pg_insert(BarometerFigures).values(**values)
        await session.execute(on_pg.on_conflict_do_update(index_elements=keys, set_=changed))
    else:
        on_sqlite = sqlite_insert(BarometerFigures).values(**values)
        await session.execute(on_sqlite.on_conflict_do_update(index_elements=keys, set_=changed))


async def forget(session: AsyncSession, campaign_id: int) -> int:
    """Drop every kept figure of a campaign; how many rows went."""
    result = await session.execute(
        delete(BarometerFigures).where(BarometerFigures.campaign_id == campaign_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def closed_campaigns(session: AsyncSession) -> list[CampaignInfo]:
    """The closed campaigns, the latest window first (whose figures a server keeps ready)."""
    return await campaign_infos(session, Campaign.closed_at.is_not(None))
