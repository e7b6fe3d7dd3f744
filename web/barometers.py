"""The portal's memory of closed campaigns' figures: computed once, kept while unchanged.

A collectivity's barometer reads the whole campaign for its national and peer figures
(``reports.barometer``): tens of seconds at 100,000 contacts, the same for every
collectivity. This process keeps them per campaign, with the campaign's data version
(``storage.backoffice.campaign_stamp``: a few counts over the campaign's contacts, asked
again at most every ``recheck_seconds``, a minute by default) and the report options: a
correction recorded after the close (a check overridden, an answer fixed) changes the
version, and the first page after the next check computes them again. One page computes
at a time per campaign; those asking meanwhile wait for its result rather than reading the
campaign too. Several web workers each keep their own copy.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from typing import Any

from reports.barometer import CampaignFigures, campaign_figures
from scenarios.catalog import Catalog
from storage import backoffice
from storage.db import Database
from storage.stats import CampaignInfo

KEEP = 8  # campaigns kept (a few closed ones are looked at: this year's, last year's)
RECHECK_SECONDS = 60.0


class BarometerCache:
    def __init__(self, keep: int = KEEP, recheck_seconds: float = RECHECK_SECONDS) -> None:
        self._keep = keep
        self.recheck_seconds = recheck_seconds
        self._found: OrderedDict[int, tuple[tuple[Any, ...], CampaignFigures]] = OrderedDict()
        self._checked: dict[int, tuple[tuple[Any, ...], float]] = {}  # options, when
        self._locks: dict[int, asyncio.Lock] = {}
        self.computed = 0  # how many times figures were computed (for tests and benches)

    def _get(self, campaign_id: int, key: tuple[Any, ...]) -> CampaignFigures | None:
        hit = self._found.get(campaign_id)
        if hit is None or hit[0] != key:
            return None
        self._found.move_to_end(campaign_id)
        return hit[1]

    def forget(self, campaign_id: int) -> None:
        self._found.pop(campaign_id, None)
        self._checked.pop(campaign_id, None)

    async def figures(
        self,
        database: Database,
        campaign: CampaignInfo,
        *,
        min_cell: int,
        strata: tuple[int, ...],
        catalog: Catalog | None,
    ) -> CampaignFigures:
        """The figures of a closed campaign, as of its close."""
        if campaign.closed_at is None:
            raise ValueError(f"campaign {campaign.id} is not closed")
        options = (campaign.closed_at, min_cell, strata)
        hit = self._found.get(campaign.id)
        checked = self._checked.get(campaign.id)
        if (
            hit is not None
            and checked is not None
            and checked[0] == options
            and time.monotonic() - checked[1] < self.recheck_seconds
        ):
            return hit[1]
        async with database.session() as db:
            key = (*options, *await backoffice.campaign_stamp(db, campaign.id))
        found = self._get(campaign.id, key)
        if found is not None:
            self._checked[campaign.id] = (options, time.monotonic())
            return found
        async with self._locks.setdefault(campaign.id, asyncio.Lock()):
            found = self._get(campaign.id, key)
            if found is not None:
                return found
            async with database.session() as db:
                figures = await campaign_figures(
                    db, campaign, as_of=campaign.closed_at, min_cell=min_cell, strata=strata,
                    catalog=catalog,
                )  # fmt: skip
                after = (*options, *await backoffice.campaign_stamp(db, campaign.id))
            self.computed += 1
            if after == key:  # nothing changed while reading: keep them
                self._found[campaign.id] = (key, figures)
                self._checked[campaign.id] = (options, time.monotonic())
                self._found.move_to_end(campaign.id)
                while len(self._found) > self._keep:
                    gone, _ = self._found.popitem(last=False)
                    self._checked.pop(gone, None)
            return figures
