"""Every GET page and download of the app, walked from its route table (so a page added later
is covered without editing this test), on SQLite and PostgreSQL: a visitor is sent to the
log-in page, a collectivity account is refused the back office and never sees another
collectivity's name, whatever ids and query strings it forges."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from starlette.routing import Route

from tests.reports.statsworld import COLLECTIVITIES
from tests.web.conftest import A_CODE, B_CODE, WebWorld, earlier_campaign, login

NAMES = {code: name for name, code, _population in COLLECTIVITIES}
PUBLIC = {"/", "/sante", "/favicon.ico", "/connexion", "/invitation/{token:str}",
          "/connexion/sso", "/connexion/sso/retour"}  # fmt: skip
QUERIES = ("", f"?insee={B_CODE}&collectivite={B_CODE}&niveau=stats&canal=email&etape=done")


def _paths(web_world: WebWorld, ids: list[int]) -> list[str]:
    found = []
    for route in web_world.app.routes:
        if not isinstance(route, Route) or "GET" not in (route.methods or ()):
            continue
        if route.path in PUBLIC:
            continue
        params = re.findall(r"\{(\w+):int\}", route.path)
        for value in ids if params else [0]:
            path = re.sub(r"\{\w+:int\}", str(value), route.path)
            # a PDF is rendered in full each time: once, with no query, is enough there
            found += [path] if path.endswith(".pdf") else [path + q for q in QUERIES]
    return found


async def test_every_page_refuses_visitors_and_other_collectivities(web_world: WebWorld) -> None:
    earlier = await earlier_campaign(web_world)
    ids = [web_world.fx.campaign.id, web_world.open_campaign_id, earlier, 1, 999999]
    paths = _paths(web_world, ids)
    assert any(p.startswith("/admin/comptes") for p in paths)
    assert any("/export.csv" in p for p in paths) and any("/evolution" in p for p in paths)
    async with web_world.client() as visitor:
        for path in paths:
            answer = await visitor.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/connexion?suite="), path
    async with web_world.client() as client:
        await login(client, "a@mairie.example")
        for path in paths:
            answer = await client.get(path)
            if path.startswith("/admin"):
                assert answer.status_code == 403, path
            else:
                assert path.startswith("/portail") and answer.status_code in (200, 404), path
            body = answer.text
            if answer.headers.get("content-type") == "application/pdf":
                pages = PdfReader(io.BytesIO(answer.content)).pages
                body = re.sub(r"\s+", " ", "\n".join(page.extract_text() for page in pages))
            assert NAMES[B_CODE] not in body and "Durtol" not in body, path
            assert NAMES[A_CODE] in body or answer.status_code != 200, path
