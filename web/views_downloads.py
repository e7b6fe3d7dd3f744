"""Report and export downloads in the back office (coordinators and consultants).

    GET /admin/campagnes/{id}/export.csv?niveau=contacts|stats     the excel profile in French
    GET /admin/campagnes/{id}/export.xlsx?niveau=contacts|stats    (``reports.export_profiles``)
    GET /admin/campagnes/{id}/rapport.pdf[?precedente=ID]          the national barometer
    GET /admin/campagnes/{id}/rapport-collectivite.pdf?insee=CODE  one collectivity's barometer

The files are the CLI's (``temoin export``, ``temoin report``), made by the same functions.
An export is written to a private temporary directory (``reports.outputs``: mode 0600, no
link followed) by a thread with its own loop and connection (so the app keeps serving other
requests meanwhile), then streamed from there in chunks and deleted: a 100,000-contact export
never sits in memory. A campaign still open is exported as of now, a closed one as of its
close. A collectivity's PDF is the portal's (``views_portal.collectivity_pdf``): a closed
campaign's is held once rendered, for its data version (``web.pdf_cache``), and shared with
the portal. Collectivity accounts never reach these routes (403): their own barometer is the
portal's, which no id can turn into another's.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from reports.export_profiles import default_profile
from reports.exports import export
from reports.render import national_report, pdf_bytes
from storage import backoffice, web_reports
from storage.db import Database
from storage.stats import CampaignInfo, collectivity_info
from web import views_portal
from web.pages import int_param, not_found, now, require_back_office, state
from web.views_portal import report_options

LEVELS = ("contacts", "stats")
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def routes() -> list[BaseRoute]:
    return [
        Route("/admin/campagnes/{campaign_id:int}/export.csv", export_csv),
        Route("/admin/campagnes/{campaign_id:int}/export.xlsx", export_xlsx),
        Route("/admin/campagnes/{campaign_id:int}/rapport.pdf", national_pdf),
        Route("/admin/campagnes/{campaign_id:int}/rapport-collectivite.pdf", collectivity_pdf),
    ]


def file_name(*parts: str) -> str:
    """A download's name from campaign names and codes: ASCII letters, digits, ``._-`` only."""
    return "-".join(_UNSAFE.sub("_", p).strip("_") or "x" for p in parts)


def _attachment(name: str) -> dict[str, str]:
    return {"content-disposition": f'attachment; filename="{name}"'}


async def _campaign(request: Request) -> CampaignInfo:
    await require_back_office(request)
    async with state(request).database.session() as db:
        found = await backoffice.campaign_by_id(db, int_param(request, "campaign_id"))
    if found is None:
        not_found()
    return found


async def _export(request: Request, fmt: str) -> Response:
    campaign = await _campaign(request)
    level = request.query_params.get("niveau", "contacts")
    if level not in LEVELS:
        not_found()
    st = state(request)
    at = now(request)
    name = file_name(campaign.name, level) + f".{fmt}"
    folder = Path(tempfile.mkdtemp(prefix="temoin-export-"))
    options: dict[str, Any] = dict(
        fmt=fmt, level=level, out=folder / name, generated_at=at,
        as_of=campaign.closed_at or at, min_cell=st.config.min_cell, strata=st.config.strata,
        catalog=st.scenario_catalog(), profile=default_profile(st.config.locale),
        locale=st.config.locale,
    )  # fmt: skip
    try:
        await asyncio.to_thread(_export_apart, st.database.url, st.database.schema, campaign,
                                options)  # fmt: skip
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        folder / name,
        media_type=MEDIA[fmt],
        headers=_attachment(name),
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


def _export_apart(
    url: str, schema: str | None, campaign: CampaignInfo, options: dict[str, Any]
) -> None:
    """``reports.exports.export`` in this thread, on a loop and a connection of its own.

    Writing 100,000 rows is seconds of CPU: on the app's loop it would hold every other
    request of this process until the file is done; here the app's loop goes on serving."""

    async def work() -> None:
        database = Database(url, schema=schema)
        try:
            async with database.session() as db:
                await export(db, campaign, **options)
        finally:
            await database.dispose()

    asyncio.run(work())


async def export_csv(request: Request) -> Response:
    return await _export(request, "csv")


async def export_xlsx(request: Request) -> Response:
    return await _export(request, "xlsx")


def _pdf(data: bytes, name: str) -> Response:
    return Response(data, media_type="application/pdf", headers=_attachment(name))


async def national_pdf(request: Request) -> Response:
    campaign = await _campaign(request)
    st = state(request)
    at = now(request)
    previous = None
    raw = request.query_params.get("precedente", "")
    async with st.database.session() as db:
        if raw:
            earlier = await web_reports.earlier_campaigns(db, campaign.id)
            previous = next((c for c in earlier if str(c.id) == raw), None)
            if previous is None:
                not_found()
        html = await national_report(
            db, campaign, generated_at=at, as_of=campaign.closed_at or at, previous=previous,
            options=report_options(request), catalog=st.scenario_catalog(),
        )  # fmt: skip
    data = await asyncio.to_thread(pdf_bytes, html)
    return _pdf(data, file_name("barometre", campaign.name) + ".pdf")


async def collectivity_pdf(request: Request) -> Response:
    campaign = await _campaign(request)
    st = state(request)
    code = request.query_params.get("insee", "").strip()[:10]
    async with st.database.session() as db:
        collectivity = await collectivity_info(db, code) if code else None
        if collectivity is None or not await web_reports.took_part(
            db, campaign.id, collectivity.id
        ):
            not_found()
    data = await views_portal.collectivity_pdf(request, campaign, collectivity)
    return _pdf(data, file_name("barometre", campaign.name, collectivity.insee_code) + ".pdf")
