"""The portal's memory of closed campaigns' figures: kept in the database, held in memory.

A collectivity's barometer reads the whole campaign for its national and peer figures
(``reports.barometer``): seconds at 100,000 contacts, the same for every collectivity. They
are kept in the database (``reports.figures_store``: computed when the campaign is closed,
or by the first reader that finds none or finds them of another data version), so that every
web worker and a restarted server read them rather than compute them; and each process holds
the last few in memory, with their data version (``reports.figures_store.data_version``:
a few counts over the campaign's contacts, asked again at most every ``recheck_seconds``, a
minute by default). A correction recorded after the close (a check overridden, an answer
fixed) changes the version: the first page after the next check computes them again and keeps
them. One page at a time per campaign loads or computes them; those asking meanwhile wait for
its result rather than reading the campaign too.

``warm`` (the app's start-up, in the background) makes sure the newest closed campaigns'
figures are kept for the current version, and held: the first visitor after a deployment or a
correction does not wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from reports.barometer import CampaignFigures
from reports.figures_store import compute_and_keep, data_version, figure_options, kept_figures
from scenarios.catalog import Catalog
from storage import barometer_figures
from storage.db import Database
from storage.stats import CampaignInfo

KEEP = 8  # campaigns held (a few closed ones are looked at: this year's, last year's)
RECHECK_SECONDS = 60.0

log = logging.getLogger(__name__)

Key = tuple[str, str]  # options, data version


class BarometerCache:
    def __init__(self, keep: int = KEEP, recheck_seconds: float = RECHECK_SECONDS) -> None:
        self._keep = keep
        self.recheck_seconds = recheck_seconds
        self._found: OrderedDict[int, tuple[Key, CampaignFigures]] = OrderedDict()
        self._checked: dict[int, tuple[str, float]] = {}  # options, when
        self._locks: dict[int, asyncio.Lock] = {}
        self.computed = 0  # figures computed from the contacts (for tests and benches)
        self.loaded = 0  # figures read from those kept in the database

    def _get(self, campaign_id: int, key: Key) -> CampaignFigures | None:
        hit = self._found.get(campaign_id)
        if hit is None or hit[0] != key:
            return None
        self._found.move_to_end(campaign_id)
        return hit[1]

    def _hold(self, campaign_id: int, key: Key, figures: CampaignFigures) -> None:
        self._found[campaign_id] = (key, figures)
        self._checked[campaign_id] = (key[0], time.monotonic())
        self._found.move_to_end(campaign_id)
        while len(self._found) > self._keep:
            gone, _ = self._found.popitem(last=False)
            self._checked.pop(gone, None)

    def held_version(self, campaign_id: int) -> str | None:
        """The data version of the figures held for the campaign (None: none held)."""
        hit = self._found.get(campaign_id)
        return None if hit is None else hit[0][1]

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
        now: Callable[[], datetime],
    ) -> CampaignFigures:
        """The figures of a closed campaign, as of its close, for its current data."""
        if campaign.closed_at is None:
            raise ValueError(f"campaign {campaign.id} is not closed")
        options = figure_options(campaign.closed_at, min_cell, strata)
        hit = self._found.get(campaign.id)
        checked = self._checked.get(campaign.id)
        if (
            hit is not None
            and checked is not None
            and checked[0] == options
            and hit[0][0] == options
            and time.monotonic() - checked[1] < self.recheck_seconds
        ):
            self._found.move_to_end(campaign.id)
            return hit[1]
        version = await data_version(database, campaign.id, catalog)
        found = self._get(campaign.id, (options, version))
        if found is not None:
            self._checked[campaign.id] = (options, time.monotonic())
            return found
        async with self._locks.setdefault(campaign.id, asyncio.Lock()):
            found = self._get(campaign.id, (options, version))
            if found is not None:
                return found
            found = await kept_figures(
                database, campaign, min_cell=min_cell, strata=strata, version=version
            )
            if found is not None:
                self.loaded += 1
                self._hold(campaign.id, (options, version), found)
                return found
            figures, kept = await compute_and_keep(
                database, campaign, min_cell=min_cell, strata=strata, catalog=catalog,
                at=now(),
            )  # fmt: skip
            self.computed += 1
            if kept is not None:  # nothing changed while reading: hold them
                self._hold(campaign.id, (options, kept), figures)
            return figures

    async def warm(
        self,
        database: Database,
        *,
        min_cell: int,
        strata: tuple[int, ...],
        catalog: Catalog | None,
        now: Callable[[], datetime],
    ) -> int:
        """Hold (computing and keeping them where needed) the figures of the newest closed
        campaigns, up to what is held; how many. Meant to run in the background."""
        async with database.session() as db:
            campaigns = (await barometer_figures.closed_campaigns(db))[: self._keep]
        for campaign in reversed(campaigns):  # the newest last: held the longest
            await self.figures(
                database, campaign, min_cell=min_cell, strata=strata, catalog=catalog, now=now
            )
        return len(campaigns)
