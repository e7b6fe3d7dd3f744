"""Report and export downloads, and the comparison with an earlier campaign, over HTTP on
SQLite and PostgreSQL: the files are the CLI's, the back office's only; a collectivity and a
visitor are refused whatever id, code or query string they forge."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from scenarios.formatting import Formats
from storage.models import Contact
from tests.reports.statsworld import COLLECTIVITIES
from tests.web.conftest import A_CODE, B_CODE, WebWorld, earlier_campaign, login

NAMES = {code: name for name, code, _population in COLLECTIVITIES}


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _exports_left() -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob("temoin-export-*"))


async def test_exports_and_reports_for_the_back_office(
    web_world: WebWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # this test's exports only
    campaign = web_world.fx.campaign
    earlier = await earlier_campaign(web_world)
    base = f"/admin/campagnes/{campaign.id}"
    left_before = _exports_left()
    async with web_world.client() as client:
        await login(client, "consult@example.org")  # reads everything, downloads too
        page = await client.get(base)
        assert f'href="{base}/export.xlsx?niveau=contacts"' in page.text
        assert f'<option value="{earlier}">Baromètre 2025</option>' in page.text

        answer = await client.get(f"{base}/export.csv", params={"niveau": "contacts"})
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/csv")
        assert 'filename="barometre-2026-contacts.csv"' in answer.headers["content-disposition"]
        assert answer.content.startswith(b"\xef\xbb\xbf")  # Excel's UTF-8 mark
        rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
        async with web_world.database.session() as s:
            count = await s.scalar(
                select(func.count(Contact.id)).where(Contact.campaign_id == campaign.id)
            )
        assert len(rows) - 1 == count
        assert rows[0][0] != "contact_id"  # French headings, not the raw profile's names
        assert {NAMES[A_CODE], NAMES[B_CODE]} <= {cell for row in rows for cell in row}

        book = await client.get(f"{base}/export.xlsx", params={"niveau": "stats"})
        assert book.status_code == 200
        sheets = openpyxl.load_workbook(io.BytesIO(book.content), read_only=True).sheetnames
        assert len(sheets) >= 3 and "README" in [s.upper() for s in sheets]
        for wrong in ("photos", "", "contacts;drop"):
            bad = await client.get(f"{base}/export.csv", params={"niveau": wrong})
            assert bad.status_code == 404, wrong

        national = await client.get(f"{base}/rapport.pdf", params={"precedente": str(earlier)})
        assert national.status_code == 200 and national.content.startswith(b"%PDF")
        text = _pdf_text(national.content)
        assert "Baromètre 2025" in text  # the comparison's section names the earlier campaign
        plain = await client.get(f"{base}/rapport.pdf")
        assert plain.status_code == 200 and "Baromètre 2025" not in _pdf_text(plain.content)
        for forged in (str(web_world.open_campaign_id), str(campaign.id), "999999", "x"):
            bad = await client.get(f"{base}/rapport.pdf", params={"precedente": forged})
            assert bad.status_code == 404, forged

        own = await client.get(f"{base}/rapport-collectivite.pdf", params={"insee": A_CODE})
        assert own.status_code == 200
        assert 'filename="barometre-barometre-2026-63903.pdf"' in own.headers["content-disposition"]
        text = _pdf_text(own.content)
        assert NAMES[A_CODE] in text
        assert [n for c, n in NAMES.items() if c != A_CODE and n in text] == []
        for code in ("00000", "", "6390%", "63903' OR '1'='1"):
            bad = await client.get(f"{base}/rapport-collectivite.pdf", params={"insee": code})
            assert bad.status_code == 404, code
        # B took no part in the campaign in progress: no report of it there
        open_base = f"/admin/campagnes/{web_world.open_campaign_id}"
        bad = await client.get(f"{open_base}/rapport-collectivite.pdf", params={"insee": B_CODE})
        assert bad.status_code == 404
        assert (await client.get("/admin/campagnes/999999/export.csv")).status_code == 404
    assert left_before == [] and _exports_left() == []  # each export's folder is gone


async def test_downloads_refused_to_collectivities_and_visitors(web_world: WebWorld) -> None:
    campaign = web_world.fx.campaign
    paths = [
        f"/admin/campagnes/{cid}/{tail}"
        for cid in (campaign.id, web_world.open_campaign_id, 999999)
        for tail in (
            "export.csv?niveau=contacts", "export.xlsx?niveau=stats", "rapport.pdf",
            f"rapport-collectivite.pdf?insee={A_CODE}", f"rapport-collectivite.pdf?insee={B_CODE}",
            "comparaison", "comparaison?fragment=1",
        )
    ]  # fmt: skip
    async with web_world.client() as client:
        for path in paths:
            answer = await client.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith(
                "/connexion"
            ), path
    async with web_world.client() as client:
        await login(client, "a@mairie.example")
        for path in paths:
            answer = await client.get(path)
            assert answer.status_code == 403, path
            assert b"%PDF" not in answer.content and NAMES[B_CODE] not in answer.text
        # its own barometer is the portal's; another campaign's id gets nothing
        own = await client.get(f"/portail/campagnes/{campaign.id}/rapport.pdf")
        assert own.status_code == 200 and NAMES[A_CODE] in _pdf_text(own.content)
        for forged in (web_world.open_campaign_id, 999999):
            answer = await client.get(f"/portail/campagnes/{forged}/rapport.pdf")
            assert answer.status_code == 404


async def test_comparison_with_an_earlier_campaign(web_world: WebWorld) -> None:
    from reports.campaign_stats import compute_stats

    campaign = web_world.fx.campaign
    earlier = await earlier_campaign(web_world)
    fmt = Formats("fr")
    async with web_world.database.session() as s:
        tables = await compute_stats(s, campaign, [("channel",)], as_of=campaign.closed_at)
    email_now = next(c for c in tables[0][1] if c.key("channel") == "email").response.rate
    base = f"/admin/campagnes/{campaign.id}"
    async with web_world.client() as client:
        await login(client, "coord@example.org")
        dashboard = await client.get(base)
        assert f'hx-get="{base}/comparaison?fragment=1"' in dashboard.text
        assert f'href="{base}/comparaison"' in dashboard.text  # without JavaScript

        page = await client.get(f"{base}/comparaison")
        assert page.status_code == 200
        assert "Baromètre 2025 et Baromètre 2026, par canal" in page.text
        row = page.text.split('<th scope="row">Courriel</th>', 1)[1].split("</tr>", 1)[0]
        assert "Taux de réponse" in row
        assert fmt.percent(0.5) in row  # 2025: one answer out of two emails
        assert fmt.percent(email_now) in row
        assert fmt.points(email_now - 0.5) in row
        assert '<svg role="img" aria-labelledby="comparaison-chart-title"' in page.text
        assert "style=" not in page.text.split("<svg", 1)[1]  # the CSP allows no inline style

        fragment = await client.get(
            f"{base}/comparaison", params={"fragment": "1", "avec": earlier}
        )
        assert fragment.status_code == 200 and "<html" not in fragment.text
        assert "Baromètre 2025" in fragment.text
        for forged in (str(web_world.open_campaign_id), str(campaign.id), "999999", "-1"):
            bad = await client.get(f"{base}/comparaison", params={"avec": forged})
            assert bad.status_code == 404, forged
        first = await client.get(f"/admin/campagnes/{earlier}/comparaison")
        assert first.status_code == 200 and "rien à comparer" in first.text
