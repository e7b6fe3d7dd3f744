"""A closed campaign's national and peer figures kept in the database (reports.figures_store),
on SQLite and PostgreSQL: equal to a fresh computation to the last bit, read by every new app
(a restarted server, another worker) instead of computed, computed again after a correction,
and never a way to see another collectivity's figures or a peer figure under ``min_peers``."""

from __future__ import annotations

from array import array
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from reports.aggregate import Aggregator
from reports.barometer import CampaignFigures, campaign_figures, groupings
from reports.campaign_stats import shipped_catalog
from reports.cells import Cell
from reports.figures_json import decode, encode
from reports.figures_store import (
    compute_and_keep,
    data_version,
    ensure_kept,
    figure_options,
    kept_figures,
)
from reports.render import ReportOptions, collectivity_context
from storage import barometer_figures
from storage.bot import add_event
from storage.models import Contact
from storage.stats import CampaignInfo, collectivity_info
from tests.reports.statsworld import CLOSE, COLLECTIVITIES
from tests.web.conftest import A_CODE, B_CODE, NOW, WebWorld, earlier_campaign, login, make_config
from web.app import create_app

NAMES = {code: name for name, code, _population in COLLECTIVITIES}
STRATA = (2000, 10000, 50000)


def _cell_bits(cell: Cell) -> list[Any]:
    """Every number of a cell, written so that two differing bits differ (repr tells -0.0,
    nan and every float apart), and its delay samples' bytes."""
    delays = (cell.answer_hours, cell.answer_bdays, cell.ack_hours, cell.ack_bdays)
    samples = [d.event_times.tobytes() + b"|" + d.censored_times.tobytes() for d in delays]
    return [repr(cell), repr(cell.to_row()), repr(cell.criterion_rows()), samples]


def _agg_bits(agg: Aggregator) -> list[Any]:
    out: list[Any] = []
    for key, acc in agg._cells.items():
        for name in type(acc).__slots__:
            value = getattr(acc, name)
            out.append((key, name, value.tobytes() if isinstance(value, array) else repr(value)))
    return out + [_cell_bits(cell) for cell in agg.cells()]


def _bits(figures: CampaignFigures) -> list[Any]:
    return [
        repr((figures.as_of, figures.min_cell, figures.strata)),
        [(key, _cell_bits(cell)) for key, cell in figures.national.items()],
        sorted((repr(key), sorted(codes)) for key, codes in figures.contributors.items()),
        sorted((key, sorted(codes)) for key, codes in figures.stratum_codes.items()),
        [
            (stratum, name, _agg_bits(agg))
            for stratum, aggs in figures._strata_aggs.items()
            for name, agg in aggs.items()
        ],
    ]


async def _fresh(web_world: WebWorld) -> CampaignFigures:
    campaign = web_world.fx.campaign
    assert campaign.closed_at is not None
    async with web_world.database.session() as s:
        return await campaign_figures(s, campaign, as_of=campaign.closed_at, min_cell=5,
                                      strata=STRATA)  # fmt: skip


async def _context(
    web_world: WebWorld, code: str, figures: CampaignFigures | None, min_peers: int = 5
) -> dict[str, Any]:
    async with web_world.database.session() as s:
        own = await collectivity_info(s, code)
        assert own is not None
        context = await collectivity_context(
            s, web_world.fx.campaign, own, generated_at=NOW,
            as_of=web_world.fx.campaign.closed_at, options=ReportOptions(min_peers=min_peers),
            figures=figures,
        )  # fmt: skip
    context.pop("t", None)
    return context


def _shown(context: dict[str, Any]) -> list[str]:
    return [
        row[column]
        for block in context["comparison"]
        for row in block["rows"]
        for column in ("yours", "national", "peers")
        if column == "yours" or context[f"show_{column}"]
    ]


async def _keep(web_world: WebWorld) -> None:
    """What ``temoin campaign close`` does after closing."""
    assert await ensure_kept(
        web_world.database, web_world.fx.campaign, min_cell=5, strata=STRATA,
        catalog=None, at=NOW,
    )  # fmt: skip


async def _late_answer(web_world: WebWorld) -> None:
    """A request left unanswered gets its answer recorded after the close (as the tracker
    records it): the figures move."""
    async with web_world.database.session() as s:
        row = await s.scalar(
            select(Contact)
            .where(Contact.campaign_id == web_world.fx.campaign.id, Contact.status == "sent")
            .order_by(Contact.id)
            .limit(1)
        )
        assert row is not None
        row.status, row.status_at = "answered", CLOSE
        row.first_answer_at = CLOSE - timedelta(days=1)
        await add_event(s, row.id, "answer", CLOSE, "tracker")


def _restarted(web_world: WebWorld, **config: Any) -> Any:
    """Another app on the same database: a restarted server, or another worker."""
    return create_app(web_world.database, make_config(**config), web_world.clock)


async def _page(app: Any, web_world: WebWorld, login_name: str) -> str:
    import httpx

    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await login(client, login_name)
        page = await client.get(f"/portail/campagnes/{web_world.fx.campaign.id}")
        assert page.status_code == 200
        return page.text.replace("&#39;", "'")


async def test_kept_figures_equal_a_fresh_computation_to_the_last_bit(
    web_world: WebWorld,
) -> None:
    fresh = await _fresh(web_world)
    assert decode(encode(fresh)) is not fresh
    assert _bits(decode(encode(fresh))) == _bits(fresh)

    campaign = web_world.fx.campaign
    computed, version = await compute_and_keep(
        web_world.database, campaign, min_cell=5, strata=STRATA, catalog=None, at=NOW
    )
    assert version == await data_version(web_world.database, campaign.id, None)
    kept = await kept_figures(web_world.database, campaign, min_cell=5, strata=STRATA,
                              version=version)  # fmt: skip
    assert kept is not None
    assert _bits(kept) == _bits(computed) == _bits(fresh)
    # ... and so is every collectivity's barometer built on them, peers left out one by one
    for _name, code, _population in COLLECTIVITIES:
        assert await _context(web_world, code, kept) == await _context(web_world, code, fresh)
        assert await _context(web_world, code, kept) == await _context(web_world, code, None)
    # the leave-one-out peers of the kept aggregates are the fresh ones
    for stratum in fresh._strata_aggs:
        empty = groupings(5, STRATA)
        assert _bits_of_cells(kept.peers(stratum, empty)) == _bits_of_cells(
            fresh.peers(stratum, empty)
        )

    # a row that does not decode (cut short, or samples pointing outside) is not used
    options = figure_options(CLOSE, 5, STRATA)
    data = encode(fresh)
    import zlib

    whole = zlib.decompress(data)
    for broken in (data[: len(data) // 2], zlib.compress(whole[:-4]), b"not figures"):
        async with web_world.database.session() as s:
            await barometer_figures.keep(s, campaign.id, options, version, broken, NOW)
        assert await kept_figures(web_world.database, campaign, min_cell=5, strata=STRATA,
                                  version=version) is None  # fmt: skip

    # other options or another version: nothing kept for them
    assert await kept_figures(web_world.database, campaign, min_cell=6, strata=STRATA,
                              version=version) is None  # fmt: skip
    assert await kept_figures(web_world.database, campaign, min_cell=5, strata=STRATA,
                              version=version + " ") is None  # fmt: skip


def _bits_of_cells(cells: dict[str | None, Cell]) -> list[Any]:
    return [(key, _cell_bits(cell)) for key, cell in cells.items()]


async def test_a_restarted_server_reads_the_kept_figures_and_a_correction_computes_them(
    web_world: WebWorld,
) -> None:
    await _keep(web_world)
    first = _restarted(web_world)
    page = await _page(first, web_world, "a@mairie.example")
    cache = first.state.web.barometers
    assert (cache.computed, cache.loaded) == (0, 1)  # read, not computed
    for figure in _shown(await _context(web_world, A_CODE, None)):
        assert f">{figure}<" in page, figure
    await _page(first, web_world, "b@mairie.example")
    assert (cache.computed, cache.loaded) == (0, 1)  # held in memory

    before = _shown(await _context(web_world, A_CODE, None))
    await _late_answer(web_world)
    after = _shown(await _context(web_world, A_CODE, None))
    assert after != before  # the correction moves A's own or national figures

    # a new worker never shows the kept, now stale, figures: it computes and keeps them
    second = _restarted(web_world)
    page = await _page(second, web_world, "a@mairie.example")
    assert (second.state.web.barometers.computed, second.state.web.barometers.loaded) == (1, 0)
    for figure in after:
        assert f">{figure}<" in page, figure
    # the first app, once it asks the version again, reads what the second kept
    cache.recheck_seconds = 0
    page = await _page(first, web_world, "a@mairie.example")
    assert (cache.computed, cache.loaded) == (0, 2)
    for figure in after:
        assert f">{figure}<" in page, figure
    # and a restart after that reads them too
    third = _restarted(web_world)
    await _page(third, web_world, "a@mairie.example")
    assert (third.state.web.barometers.computed, third.state.web.barometers.loaded) == (0, 1)
    async with web_world.database.session() as s:
        options = figure_options(CLOSE, 5, STRATA)
        kept_version = await barometer_figures.kept_version(s, web_world.fx.campaign.id, options)
    assert kept_version == await data_version(web_world.database, web_world.fx.campaign.id, None)


async def test_kept_figures_show_a_collectivity_only_its_own(web_world: WebWorld) -> None:
    await _keep(web_world)
    app = _restarted(web_world)
    for login_name, code in (("a@mairie.example", A_CODE), ("b@mairie.example", B_CODE)):
        page = await _page(app, web_world, login_name)
        assert NAMES[code] in page
        assert [name for other, name in NAMES.items() if other != code and name in page] == []
        for figure in _shown(await _context(web_world, code, None)):
            assert f">{figure}<" in page, figure
    assert app.state.web.barometers.computed == 0


async def test_kept_figures_withhold_peers_under_min_peers_as_before(web_world: WebWorld) -> None:
    await _keep(web_world)
    fresh = await _fresh(web_world)
    shown_by: dict[int, bool] = {}
    for min_peers in (1, 50):
        app = _restarted(web_world, min_peers=min_peers)
        page = await _page(app, web_world, "a@mairie.example")
        assert app.state.web.barometers.computed == 0
        context = await _context(web_world, A_CODE, None, min_peers=min_peers)
        assert context == await _context(web_world, A_CODE, fresh, min_peers=min_peers)
        shown_by[min_peers] = context["show_peers"]
        for figure in _shown(context):
            assert f">{figure}<" in page, figure
    assert shown_by == {1: True, 50: False}  # the rule bites either way on this campaign


async def test_the_comparison_reads_closed_campaigns_from_the_kept_figures(
    web_world: WebWorld,
) -> None:
    earlier_id = await earlier_campaign(web_world)
    await _keep(web_world)
    async with web_world.database.session() as s:
        from storage.stats import campaign_info

        earlier = await campaign_info(s, campaign_id=earlier_id)
    assert isinstance(earlier, CampaignInfo)
    assert await ensure_kept(web_world.database, earlier, min_cell=5, strata=STRATA,
                             catalog=shipped_catalog(), at=NOW)  # fmt: skip
    app = _restarted(web_world)
    import httpx

    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await login(client, "coord@example.org")
        path = f"/admin/campagnes/{web_world.fx.campaign.id}/comparaison?fragment=1"
        first = await client.get(path)
        again = await client.get(path)
    assert first.status_code == again.status_code == 200
    assert first.text == again.text and "Baromètre 2025" in first.text
    cache = app.state.web.barometers
    assert (cache.computed, cache.loaded) == (0, 2)  # both campaigns read once, then held


async def test_the_server_start_keeps_and_holds_the_closed_campaigns_figures(
    web_world: WebWorld,
) -> None:
    """The app's lifespan (which uvicorn runs) computes and keeps, in the background, the
    figures of the closed campaigns; a later start reads them; pages then wait for nothing."""
    import asyncio

    async def started(app: Any) -> Any:
        cache = app.state.web.barometers
        async with app.router.lifespan_context(app):
            for _ in range(1200):  # a bounded wait for the background task, not a timing
                if cache.computed + cache.loaded:
                    break
                await asyncio.sleep(0.05)
        return cache

    first = _restarted(web_world)
    cache = await started(first)
    assert (cache.computed, cache.loaded) == (1, 0)  # one closed campaign in this world
    async with web_world.database.session() as s:
        kept = await barometer_figures.kept_version(
            s, web_world.fx.campaign.id, figure_options(CLOSE, 5, STRATA)
        )
    assert kept == await data_version(web_world.database, web_world.fx.campaign.id, None)
    await _page(first, web_world, "a@mairie.example")
    assert (cache.computed, cache.loaded) == (1, 0)  # held since the start

    second = _restarted(web_world)
    cache = await started(second)
    assert (cache.computed, cache.loaded) == (0, 1)
    no_warm = create_app(web_world.database, make_config(), web_world.clock, warm_up=False)
    async with no_warm.router.lifespan_context(no_warm):
        pass
    assert (no_warm.state.web.barometers.computed, no_warm.state.web.barometers.loaded) == (0, 0)
