"""A collectivity's evolution across its closed campaigns, on its portal (SQLite and
PostgreSQL): its own figures campaign after campaign, national figures only where the report
publishes them, nobody else's name, and no campaign still open."""

from __future__ import annotations

from reports.render import ReportOptions, collectivity_context
from scenarios.formatting import Formats
from scenarios.i18n import Translator
from storage.stats import collectivity_info
from tests.reports.statsworld import COLLECTIVITIES
from tests.web.conftest import A_CODE, B_CODE, NOW, WebWorld, earlier_campaign, login

NAMES = {code: name for name, code, _population in COLLECTIVITIES}


def _row(text: str, title: str) -> str:
    return text.split(f">{title}</a></th>", 1)[1].split("</tr>", 1)[0]


async def test_a_collectivity_follows_its_own_evolution(web_world: WebWorld) -> None:
    earlier = await earlier_campaign(web_world)
    fmt, t = Formats("fr"), Translator("fr")
    campaign = web_world.fx.campaign
    async with web_world.database.session() as s:
        own = await collectivity_info(s, A_CODE)
        assert own is not None
        context = await collectivity_context(
            s, campaign, own, generated_at=NOW, as_of=campaign.closed_at, options=ReportOptions()
        )
    async with web_world.client() as client:
        await login(client, "a@mairie.example")
        home = await client.get("/portail")
        assert 'href="/portail/evolution"' in home.text
        page = await client.get("/portail/evolution")
        assert page.status_code == 200
        text = page.text
        assert text.index("Baromètre 2025") < text.index("Baromètre 2026")  # oldest first
        assert f'href="/portail/campagnes/{earlier}"' in text
        assert "Campagne en cours" not in text
        assert [n for c, n in NAMES.items() if c != A_CODE and n in text] == []
        # 2026: the figures of its barometer, national ones included where published
        overall = next(b for b in context["comparison"] if b["label"] == t("report.overall"))
        row_2026 = _row(
            text.split(f"<caption>{overall['label']}</caption>", 1)[1], "Baromètre 2026"
        )
        for line in overall["rows"]:
            assert line["yours"] in row_2026
        # 2025: only one other collectivity took part, fewer than min_peers: withheld
        row_2025 = _row(text.split("<caption>Courriel</caption>", 1)[1], "Baromètre 2025")
        assert t("report.withheld_cell", n=5) in row_2025
        assert fmt.percent(1.0) in row_2025  # A answered its one email
        chart = text.split("<svg", 1)[1]
        assert 'role="img"' in text and "style=" not in chart
        assert f">{fmt.percent(1.0)}</text>" in chart

    async with web_world.client() as client:
        await login(client, "b@mairie.example")
        page = await client.get("/portail/evolution")
        assert page.status_code == 200 and NAMES[B_CODE] in page.text
        assert NAMES[A_CODE] not in page.text
        assert f">{fmt.percent(0.0)}</text>" in page.text.split("<svg", 1)[1]

    async with web_world.client() as client:
        assert (await client.get("/portail/evolution")).status_code == 303
        await login(client, "coord@example.org")
        assert (await client.get("/portail/evolution")).status_code == 403
        forged = await client.get("/portail/evolution", params={"collectivite": B_CODE})
        assert forged.status_code == 403
