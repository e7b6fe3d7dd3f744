"""Rendered collectivity PDFs held by the app (``web.pdf_cache``), on both databases: a
second download is not rendered again, the portal and the back office share them, a
collectivity never gets another's whatever id it forges, a correction after the close renders
anew, a campaign still open is never held; and the bound in bytes."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO

from pypdf import PdfReader
from sqlalchemy import select

from reports.render import ReportOptions
from storage.bot import add_event
from storage.models import Contact
from tests.reports.statsworld import CLOSE, COLLECTIVITIES
from tests.web.conftest import A_CODE, B_CODE, WebWorld, login
from web.pdf_cache import PdfCache, PdfKey

NAMES = {code: re.sub(r"\s+", "", name) for name, code, _population in COLLECTIVITIES}


def _names_in(data: bytes) -> set[str]:
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages)
    squashed = re.sub(r"\s+", "", text)
    return {code for code, name in NAMES.items() if name in squashed}


async def test_pdfs_are_held_per_collectivity_and_version(web_world: WebWorld) -> None:
    pdfs = web_world.app.state.web.pdfs
    campaign_id = web_world.fx.campaign.id
    portal = f"/portail/campagnes/{campaign_id}/rapport.pdf"
    office = f"/admin/campagnes/{campaign_id}/rapport-collectivite.pdf"
    async with web_world.client() as client:
        await login(client, "a@mairie.example")
        first = await client.get(portal)
        second = await client.get(portal)
        assert first.status_code == second.status_code == 200
        assert (pdfs.rendered, pdfs.served) == (1, 1)
        assert second.content == first.content and _names_in(first.content) == {A_CODE}
        for query in ({"insee": B_CODE}, {"collectivite": B_CODE}, {"collectivity_id": "2"}):
            forged = await client.get(portal, params=query)
            assert forged.status_code == 200 and forged.content == first.content, query
        assert pdfs.rendered == 1
    async with web_world.client() as client:
        await login(client, "coord@example.org")
        own_a = await client.get(office, params={"insee": A_CODE})
        assert own_a.content == first.content and pdfs.rendered == 1  # shared with the portal
        own_b = await client.get(office, params={"insee": B_CODE})
        assert own_b.status_code == 200 and pdfs.rendered == 2
        assert _names_in(own_b.content) == {B_CODE}
        for forged in ("999999", "", f"{A_CODE}x", f"{A_CODE} OR 1=1"):
            answer = await client.get(office, params={"insee": forged})
            assert answer.status_code == 404, forged
        assert pdfs.rendered == 2
    async with web_world.client() as client:
        await login(client, "b@mairie.example")
        mine = await client.get(portal, params={"insee": A_CODE})
        assert mine.content == own_b.content and pdfs.rendered == 2

    # an answer recorded after the close: a new data version, rendered anew, then held
    async with web_world.database.session() as s:
        row = await s.scalar(
            select(Contact)
            .where(Contact.campaign_id == campaign_id, Contact.status == "sent")
            .order_by(Contact.id)
            .limit(1)
        )
        assert row is not None
        row.status, row.status_at = "answered", CLOSE
        row.first_answer_at = CLOSE - timedelta(days=1)
        await add_event(s, row.id, "answer", CLOSE, "tracker")
    async with web_world.client() as client:
        await login(client, "a@mairie.example")
        fresh = await client.get(portal)
        assert fresh.status_code == 200 and pdfs.rendered == 3
        assert _names_in(fresh.content) == {A_CODE}
        assert (await client.get(portal)).content == fresh.content and pdfs.rendered == 3

    # a campaign still open (the back office only): rendered at every download
    async with web_world.client() as client:
        await login(client, "coord@example.org")
        running = f"/admin/campagnes/{web_world.open_campaign_id}/rapport-collectivite.pdf"
        held, served = len(pdfs), pdfs.served
        for _ in range(2):
            answer = await client.get(running, params={"insee": A_CODE})
            assert answer.status_code == 200 and _names_in(answer.content) == {A_CODE}
            assert (len(pdfs), pdfs.served) == (held, served)


def test_the_held_pdfs_are_bounded_in_bytes() -> None:
    cache = PdfCache(max_bytes=10)
    keys = [PdfKey(1, n, "v1", "fr", ReportOptions()) for n in range(4)]
    for key in keys[:3]:
        cache.put(key, b"x" * 4)
    assert cache.get(keys[0]) is None and cache.size == 8 and len(cache) == 2
    assert cache.get(keys[1]) is not None  # now the most recently used
    cache.put(keys[3], b"y" * 4)
    assert cache.get(keys[2]) is None and cache.get(keys[1]) == b"xxxx"
    cache.put(keys[0], b"z" * 11)  # larger than the bound: not held, nothing dropped
    assert cache.get(keys[0]) is None and cache.size == 8
    assert PdfKey(1, 1, "v2", "fr", ReportOptions()) not in dict.fromkeys(keys)
