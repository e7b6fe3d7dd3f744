"""A collectivity's portal: its own barometer for each closed campaign it took part in.

The collectivity is the account's, never a parameter: no path, query string or form field can
name another one. A campaign id in the path is looked up among the account's own closed
campaigns; any other id (another collectivity's campaign, a campaign in progress, an id that
does not exist) gets the same 404, so the answer reveals nothing. The page shows the same
sections as the PDF report, from the same context (``reports.render.collectivity_context``),
with peer figures withheld under ``min_peers`` other collectivities, cell by cell.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from reports.barometer import CampaignFigures
from reports.figures_store import data_version
from reports.render import ReportOptions, collectivity_context, collectivity_report, pdf_bytes
from storage import backoffice
from storage.stats import CampaignInfo, CollectivityInfo
from web.pages import int_param, not_found, now, render, require_portal, state
from web.pdf_cache import PdfKey


def routes() -> list[BaseRoute]:
    return [
        Route("/portail", portal),
        Route("/portail/campagnes/{campaign_id:int}", campaign_report),
        Route("/portail/campagnes/{campaign_id:int}/rapport.pdf", campaign_pdf),
    ]


async def own_results(request: Request) -> tuple[CollectivityInfo, list[CampaignInfo]]:
    _account, collectivity_id = await require_portal(request)
    async with state(request).database.session() as db:
        collectivity = await backoffice.collectivity_by_id(db, collectivity_id)
        campaigns = await backoffice.portal_campaigns(db, collectivity_id)
    if collectivity is None:
        not_found()
    return collectivity, campaigns


def report_options(request: Request) -> ReportOptions:
    config = state(request).config
    return ReportOptions(min_cell=config.min_cell, min_peers=config.min_peers,
                         strata=config.strata)  # fmt: skip


async def portal(request: Request) -> Response:
    collectivity, campaigns = await own_results(request)
    return render(request, "portal/home.html.j2", collectivity=collectivity, campaigns=campaigns)


async def _campaign(request: Request) -> tuple[CollectivityInfo, CampaignInfo]:
    collectivity, campaigns = await own_results(request)
    campaign_id = int_param(request, "campaign_id")
    found = next((c for c in campaigns if c.id == campaign_id), None)
    if found is None:
        not_found()
    return collectivity, found


async def kept_figures(request: Request, campaign: CampaignInfo) -> CampaignFigures | None:
    """A closed campaign's national and peer figures, kept by the app (``web.barometers``);
    None for a campaign still open (its figures move with every step)."""
    st = state(request)
    if campaign.closed_at is None:
        return None
    return await st.barometers.figures(
        st.database, campaign, min_cell=st.config.min_cell, strata=st.config.strata,
        catalog=st.scenario_catalog(), now=st.clock.now,
    )  # fmt: skip


async def campaign_report(request: Request) -> Response:
    collectivity, campaign = await _campaign(request)
    st = state(request)
    figures = await kept_figures(request, campaign)
    async with st.database.session() as db:
        context: dict[str, Any] = await collectivity_context(
            db, campaign, collectivity, generated_at=now(request), as_of=campaign.closed_at,
            options=report_options(request), catalog=st.scenario_catalog(), figures=figures,
        )  # fmt: skip
    context.pop("t", None)
    return render(
        request, "portal/report.html.j2", collectivity=collectivity, campaign=campaign,
        report=context,
    )  # fmt: skip


async def collectivity_pdf(
    request: Request, campaign: CampaignInfo, collectivity: CollectivityInfo
) -> bytes:
    """A collectivity's barometer as a PDF, for the portal and the back office: a closed
    campaign's is held once rendered, for its data version (``web.pdf_cache``)."""
    st = state(request)
    options = report_options(request)
    locale = st.config.locale

    async def render() -> bytes:
        figures = await kept_figures(request, campaign)
        at = now(request)
        async with st.database.session() as db:
            html = await collectivity_report(
                db, campaign, collectivity, generated_at=at, as_of=campaign.closed_at or at,
                options=options, catalog=st.scenario_catalog(), locale=locale,
                figures=figures,
            )  # fmt: skip
        return await asyncio.to_thread(pdf_bytes, html)

    if campaign.closed_at is None:  # figures move with every step: never held
        return await render()
    catalog = st.scenario_catalog()
    version = await data_version(st.database, campaign.id, catalog)

    async def render_and_check() -> tuple[bytes, bool]:
        held = st.barometers.held_version(campaign.id)
        if held is not None and held != version:  # changed since: read the figures anew
            st.barometers.forget(campaign.id)
        data = await render()
        same = (
            st.barometers.held_version(campaign.id) == version
            and await data_version(st.database, campaign.id, catalog) == version
        )
        return data, same

    key = PdfKey(campaign.id, collectivity.id, version, locale, options)
    return await st.pdfs.pdf(key, render_and_check)


async def campaign_pdf(request: Request) -> Response:
    collectivity, campaign = await _campaign(request)
    data = await collectivity_pdf(request, campaign, collectivity)
    name = f"barometre-{campaign.id}-{collectivity.insee_code}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )
