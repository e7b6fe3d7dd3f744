"""A closed campaign's national and peer figures, computed once and kept in the database.

Every collectivity's barometer of a closed campaign needs the same campaign-wide figures
(``reports.barometer``): reading the whole campaign for them takes seconds at 100,000
contacts. They are computed when the campaign is closed (``temoin campaign close``), or by
the first reader that finds none, or in the background when the web server starts, and kept
(``storage.barometer_figures``) as JSON (``reports.figures_json``) under:

- their *options*: the instant they are as of (the close), ``min_cell`` and the strata
  bounds: a server configured otherwise computes and keeps its own;
- their *version*: the figures' format, Témoin's version, a fingerprint of the scenario
  catalogue, and ``storage.backoffice.campaign_stamp`` (counts and latest ids and times of
  the campaign's contacts, events and grid answers). A correction recorded after the close
  changes it; a reader whose version differs from the kept one computes the figures again
  (``kept_figures`` returns None) and never shows stale ones.

Figures are kept only when the version read after computing them is the one read before
(nothing changed meanwhile), so a kept row always matches its version.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from reports.barometer import CampaignFigures, campaign_figures
from reports.campaign_stats import shipped_catalog
from reports.figures_json import FORMAT, decode, encode
from reports.version import temoin_version
from scenarios.catalog import Catalog
from storage import backoffice, barometer_figures
from storage.db import Database
from storage.stats import CampaignInfo

__all__ = [
    "compute_and_keep",
    "data_version",
    "ensure_kept",
    "figure_options",
    "kept_figures",
]

_FINGERPRINTS: dict[int, tuple[Catalog, str]] = {}


def figure_options(as_of: datetime, min_cell: int, strata: Sequence[int]) -> str:
    """The kept row's options: what the figures were asked with."""
    return json.dumps(
        {"as_of": as_of.isoformat(), "min_cell": min_cell, "strata": list(strata)},
        sort_keys=True,
    )


def catalog_fingerprint(catalog: Catalog) -> str:
    """A digest of the scenarios (their targets and grids weigh in the figures), once per
    catalogue object."""
    found = _FINGERPRINTS.get(id(catalog))
    if found is not None and found[0] is catalog:
        return found[1]
    digest = hashlib.sha256(repr(sorted(catalog.scenarios.items())).encode()).hexdigest()[:16]
    _FINGERPRINTS[id(catalog)] = (catalog, digest)
    return digest


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else str(value)


async def data_version(database: Database, campaign_id: int, catalog: Catalog | None) -> str:
    """The version of the campaign's data and of the code that computes its figures."""
    fingerprint = catalog_fingerprint(catalog or shipped_catalog())
    async with database.session() as db:
        stamp = await backoffice.campaign_stamp(db, campaign_id)
    return json.dumps([FORMAT, temoin_version(), fingerprint, list(stamp)], default=_plain)


def _closed(campaign: CampaignInfo) -> datetime:
    if campaign.closed_at is None:
        raise ValueError(f"campaign {campaign.id} is not closed")
    return campaign.closed_at


async def kept_figures(
    database: Database,
    campaign: CampaignInfo,
    *,
    min_cell: int,
    strata: Sequence[int],
    version: str,
) -> CampaignFigures | None:
    """The kept figures if they were computed on ``version``; None otherwise (none kept,
    another version, or a row that does not decode: computing them again mends it)."""
    options = figure_options(_closed(campaign), min_cell, strata)
    async with database.session() as db:
        found = await barometer_figures.kept(db, campaign.id, options)
    if found is None or found[0] != version:
        return None
    try:
        return await asyncio.to_thread(decode, found[1])
    except (ValueError, KeyError, TypeError, zlib.error):
        return None


async def compute_and_keep(
    database: Database,
    campaign: CampaignInfo,
    *,
    min_cell: int,
    strata: Sequence[int],
    catalog: Catalog | None,
    at: datetime,
) -> tuple[CampaignFigures, str | None]:
    """Compute the figures from the contacts and keep them; with the version they were kept
    under (None when the campaign changed while they were computed: not kept)."""
    as_of = _closed(campaign)
    before = await data_version(database, campaign.id, catalog)
    async with database.session() as db:
        figures = await campaign_figures(
            db, campaign, as_of=as_of, min_cell=min_cell, strata=strata, catalog=catalog
        )
    after = await data_version(database, campaign.id, catalog)
    if after != before:
        return figures, None
    data = await asyncio.to_thread(encode, figures)
    async with database.session() as db:
        await barometer_figures.keep(
            db, campaign.id, figure_options(as_of, min_cell, strata), after, data, at
        )
    return figures, after


async def ensure_kept(
    database: Database,
    campaign: CampaignInfo,
    *,
    min_cell: int,
    strata: Sequence[int],
    catalog: Catalog | None,
    at: datetime,
) -> bool:
    """Make sure the figures kept are those of the campaign's current data, computing them
    only when they are not; False when the campaign changed while they were computed (none
    kept: its first reader computes them)."""
    version = await data_version(database, campaign.id, catalog)
    options = figure_options(_closed(campaign), min_cell, strata)
    async with database.session() as db:
        if await barometer_figures.kept_version(db, campaign.id, options) == version:
            return True
    _figures, kept = await compute_and_keep(
        database, campaign, min_cell=min_cell, strata=strata, catalog=catalog, at=at
    )
    return kept is not None
