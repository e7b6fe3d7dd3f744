"""The collectivities' portal: each account sees its own results only, whatever it forges."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO

from pypdf import PdfReader
from sqlalchemy import select

from reports.render import ReportOptions, collectivity_context
from storage.bot import add_event
from storage.models import Contact
from storage.stats import collectivity_info
from tests import factories as f
from tests.reports.statsworld import CLOSE, COLLECTIVITIES
from tests.web.conftest import A_CODE, B_CODE, NOW, WebWorld, _collectivity, login

NAMES = {code: name for name, code, _population in COLLECTIVITIES}


def _others(text: str, own: str) -> list[str]:
    return [name for code, name in NAMES.items() if code != own and name in text]


async def _b_only_campaign(web_world: WebWorld) -> int:
    async with web_world.database.session() as s:
        camp = await f.campaign(s, NOW, name="b-seule", title="Enquête de Durtol",
                                closed_at=CLOSE, state="closed")  # fmt: skip
        svc = await f.service(s, NOW, await _collectivity(s, B_CODE), name="Piscine")
        await f.contact(s, NOW, camp, svc, planned_at=NOW, status="closed")
        return camp.id


async def test_a_collectivity_sees_its_own_results_only(web_world: WebWorld) -> None:
    b_only = await _b_only_campaign(web_world)
    campaign_id = web_world.fx.campaign.id
    async with web_world.client() as client:
        await login(client, "a@mairie.example")
        home = await client.get("/portail")
        assert home.status_code == 200
        assert NAMES[A_CODE] in home.text and "Baromètre 2026" in home.text
        assert "Campagne en cours" not in home.text  # still open: never shown
        assert "Enquête de Durtol" not in home.text
        assert _others(home.text, A_CODE) == []

        page = await client.get(f"/portail/campagnes/{campaign_id}")
        assert page.status_code == 200
        assert NAMES[A_CODE] in page.text
        assert _others(page.text, A_CODE) == []
        assert "persona" not in page.text.lower() and "claire" not in page.text.lower()

        # the same figures as the report's own context, withheld cells included
        async with web_world.database.session() as s:
            own = await collectivity_info(s, A_CODE)
            assert own is not None
            context = await collectivity_context(
                s, web_world.fx.campaign, own, generated_at=NOW,
                as_of=web_world.fx.campaign.closed_at, options=ReportOptions(),
            )  # fmt: skip
        shown = page.text.replace("&#39;", "'")
        for block in context["comparison"]:
            for row in block["rows"]:
                for column in ("yours", "national", "peers"):
                    if column == "yours" or context[f"show_{column}"]:
                        assert f">{row[column]}<" in shown, (block["label"], row)
        for sentence in context["withheld"]:
            assert sentence.replace("'", "&#39;") in page.text or sentence in shown

        # forged ids, paths and query strings: the same 404 for all, nothing of B
        for path in (
            f"/portail/campagnes/{web_world.open_campaign_id}",  # took part, still open
            f"/portail/campagnes/{b_only}",  # B's alone
            f"/portail/campagnes/{b_only}/rapport.pdf",
            "/portail/campagnes/999999",
            f"/portail/campagnes/{campaign_id}x",
        ):
            answer = await client.get(path)
            assert answer.status_code == 404, path
            assert _others(answer.text, A_CODE) == [] and "Durtol" not in answer.text
        for query in ({"collectivite": B_CODE}, {"collectivity_id": "2"}, {"insee": B_CODE}):
            forged = await client.get(f"/portail/campagnes/{campaign_id}", params=query)
            assert forged.status_code == 200
            assert NAMES[A_CODE] in forged.text and _others(forged.text, A_CODE) == []

        pdf = await client.get(f"/portail/campagnes/{campaign_id}/rapport.pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert "attachment" in pdf.headers["content-disposition"]
        text = "\n".join(p.extract_text() for p in PdfReader(BytesIO(pdf.content)).pages)
        squashed = re.sub(r"\s+", "", text)
        assert "Chanonat-la-Haute" in squashed
        assert not [
            n for c, n in NAMES.items() if c != A_CODE and re.sub(r"\s+", "", n) in squashed
        ]

    async with web_world.client() as client:
        await login(client, "b@mairie.example")
        home = await client.get("/portail")
        assert NAMES[B_CODE] in home.text and "Enquête de Durtol" in home.text
        assert (await client.get(f"/portail/campagnes/{b_only}")).status_code == 200
        page = await client.get(f"/portail/campagnes/{campaign_id}")
        assert NAMES[B_CODE] in page.text and _others(page.text, B_CODE) == []


async def test_the_portal_is_for_collectivity_accounts(web_world: WebWorld) -> None:
    campaign_id = web_world.fx.campaign.id
    async with web_world.client() as anonymous:
        for path in ("/portail", f"/portail/campagnes/{campaign_id}",
                     f"/portail/campagnes/{campaign_id}/rapport.pdf"):  # fmt: skip
            answer = await anonymous.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith(
                "/connexion?suite=/portail"
            )
    async with web_world.client() as client:
        await login(client, "coord@example.org")
        assert (await client.get("/portail")).status_code == 403
        assert (await client.get(f"/portail/campagnes/{campaign_id}")).status_code == 403


async def _shown_figures(web_world: WebWorld, code: str) -> list[str]:
    """The barometer's figures computed afresh for ``code`` (no kept campaign figures)."""
    async with web_world.database.session() as s:
        own = await collectivity_info(s, code)
        assert own is not None
        context = await collectivity_context(
            s, web_world.fx.campaign, own, generated_at=NOW,
            as_of=web_world.fx.campaign.closed_at, options=ReportOptions(),
        )  # fmt: skip
    return [
        row[column]
        for block in context["comparison"]
        for row in block["rows"]
        for column in ("yours", "national", "peers")
        if column == "yours" or context[f"show_{column}"]
    ]


async def test_a_closed_campaign_is_read_once_until_it_changes(web_world: WebWorld) -> None:
    """The portal keeps a closed campaign's national and peer figures: other pages and
    other collectivities reuse them, and a change recorded after the close (here an answer
    arriving late, as the tracker records it) makes the next page compute them again."""
    cache = web_world.app.state.web.barometers
    campaign_id = web_world.fx.campaign.id
    path = f"/portail/campagnes/{campaign_id}"
    async with web_world.client() as client:
        await login(client, "a@mairie.example")
        first = await client.get(path)
        again = await client.get(path)
        assert first.status_code == again.status_code == 200
        assert cache.computed == 1
        assert (await client.get(f"{path}/rapport.pdf")).status_code == 200
        assert cache.computed == 1
    async with web_world.client() as client:
        await login(client, "b@mairie.example")
        assert (await client.get(path)).status_code == 200
        assert cache.computed == 1

    # a request left unanswered gets its answer recorded after the close: figures move
    async with web_world.database.session() as s:
        row = await s.scalar(
            select(Contact)
            .where(Contact.campaign_id == campaign_id, Contact.status == "sent")
            .order_by(Contact.id)
            .limit(1)
        )
        assert row is not None
        contact_id = row.id
        row.status, row.status_at = "answered", CLOSE
        row.first_answer_at = CLOSE - timedelta(days=1)
        await add_event(s, contact_id, "answer", CLOSE, "tracker")
    async with web_world.client() as client:
        await login(client, "a@mairie.example")
        assert (await client.get(path)).status_code == 200
        assert cache.computed == 1  # the version is asked again at most every minute
        cache.recheck_seconds = 0  # ... the minute has passed
        page = await client.get(path)
        assert cache.computed == 2
        shown = page.text.replace("&#39;", "'")
        for figure in await _shown_figures(web_world, A_CODE):
            assert f">{figure}<" in shown, figure
        await client.get(path)
        assert cache.computed == 2
