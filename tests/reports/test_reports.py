"""Rendered reports: self-contained HTML, PDF text, headline figures, confidentiality.

Fixture: test_stats_db's campaign, 8 collectivities (2 in the stratum "moins de 2 000
hab.", 6 in "2 000 à 10 000 hab."), min_peers 5: the 6 of the second stratum see their
stratum's figure (5 others), the 2 of the first do not (1 other); everyone sees the
national figure (7 others).
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

from pypdf import PdfReader
from typer.testing import CliRunner

import temoin.cli.app
from reports.render import ReportOptions, collectivity_report, national_report, write_report
from storage.db import Database
from storage.stats import collectivity_info
from tests.conftest import DbTarget
from tests.reports.statsworld import Fixture, build_campaign

GENERATED = datetime(2026, 4, 2, 8, 30, tzinfo=UTC)
OPTIONS = ReportOptions(min_cell=5, min_peers=5)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "action", "data") and value:
                self.urls.append(value)


def _check_self_contained(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    parser.close()
    assert "html" in parser.tags and "body" in parser.tags
    external = [u for u in parser.urls if not u.startswith("#")]
    assert external == []  # no src/href at all except in-page anchors
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", html)  # nor in CSS
    assert "<script" not in html and "<link" not in html
    return parser


def _pdf_text(html: str, tmp_path: Path, name: str) -> str:
    out = tmp_path / name
    write_report(html, out)
    reader = PdfReader(BytesIO(out.read_bytes()))
    return "\n".join(page.extract_text() for page in reader.pages)


def _squash(text: str) -> str:
    """Whitespace of any kind (U+202F, U+00A0, line breaks) removed, for searching."""
    return re.sub(r"\s+", "", text.replace("\u202f", " ").replace("\u00a0", " "))


async def test_national_report(database: Database, tmp_path: Path) -> None:
    fx = await build_campaign(database)
    async with database.session() as s:
        html = await national_report(
            s, fx.campaign, generated_at=GENERATED, previous=fx.campaign, options=OPTIONS
        )
        again = await national_report(
            s, fx.campaign, generated_at=GENERATED, previous=fx.campaign, options=OPTIONS
        )
    assert html == again  # deterministic, charts included
    parser = _check_self_contained(html)
    assert parser.tags.count("svg") == 2  # Kaplan–Meier curves and the delay histogram
    # 5 of 8 delivered emails answered: 62,5 % with a narrow no-break space; Wilson interval
    # for 5/8: centre (0.625 + 0.2401) / 1.4802 = 0.5845, half-width 0.2785 -> [30,6 ; 86,3]
    assert "62,5\u202f%" in html
    assert "[30,6\u202f% ;" in html.replace("\u202f;", " ;")
    # the 3 unanswered emails stay in the curves, said in plain words
    assert "Les 3 demandes restées sans réponse à la clôture sont gardées" in html
    text = _pdf_text(html, tmp_path, "national.pdf")
    squashed = _squash(text)
    assert "62,5%" in squashed
    assert "Baromètredel’accueil" in squashed
    assert "Courriel" in text
    assert "Évolutiondepuislacampagneprécédente" in squashed
    assert "0,0pt" in squashed


async def test_collectivity_reports_name_no_other_collectivity(
    database: Database, tmp_path: Path
) -> None:
    fx = await build_campaign(database)
    assert len(fx.codes) >= 6
    for index, code in enumerate(fx.codes):
        async with database.session() as s:
            target = await collectivity_info(s, code)
            assert target is not None
            html = await collectivity_report(
                s, fx.campaign, target, generated_at=GENERATED, options=OPTIONS
            )
        _check_self_contained(html)
        text = _pdf_text(html, tmp_path, f"{code}.pdf")
        # apostrophes as typed, so that « Fontanas-d’Auvergne » typeset is still found
        haystacks = tuple(_squash(h).replace("\u2019", "'") for h in (unescape(html), text))
        assert _squash(fx.names[index]) in haystacks[0]
        assert _squash(fx.names[index]) in haystacks[1]
        for other in range(len(fx.codes)):
            if other == index:
                continue
            for needle in (fx.names[other], fx.codes[other], fx.addresses[other], fx.emails[other]):
                for haystack in haystacks:
                    assert _squash(needle) not in haystack, (code, needle)
        small_stratum = index < 2
        withheld = "Lechiffredescommunesdetaillecomparable" in haystacks[1]
        assert withheld == small_stratum, code
        assert "Communesdevotrestrate" in haystacks[1] or small_stratum
        assert "Ensembledescollectivités" in haystacks[1]  # 7 others >= 5


async def test_collectivity_report_content(database: Database, tmp_path: Path) -> None:
    fx = await build_campaign(database)
    async with database.session() as s:
        target = await collectivity_info(s, "63903")  # email on time, and the phone call
        assert target is not None
        html = await collectivity_report(
            s, fx.campaign, target, generated_at=GENERATED, options=OPTIONS
        )
        strict = await collectivity_report(
            s, fx.campaign, target, generated_at=GENERATED, options=ReportOptions(min_peers=8)
        )
    # missed on the phone: documents not given, answer only partial, no callback offered;
    # written as findings, not as the auditor's questions
    assert 'Les pièces à fournir indiquées</td><td class="ko">0 sur 1' in html
    assert "Une réponse complète obtenue" in html
    assert "Vous a-t-on" not in html and "Manqué" not in html
    assert "Former les agents d’accueil" in html  # the scenario's improvement track
    # timeline in Paris time: picked up at 09:00:12 UTC = 10 h 00 in Paris
    assert "Appel décroché" in html and "03/03/2026 à 10\u202fh\u202f00" in html
    # peers: email answered by 1 of the 5 others of the stratum (Durtol: 6 bd, Enval: 2 bd
    # -> 2 of 5) = 40,0 %
    assert "40,0\u202f%" in html
    # with min_peers 8 (7 others nationally, 5 in the stratum) both figures are withheld
    assert "Le chiffre d’ensemble n’est pas publié" in strict
    peers = "communes de taille comparable (2\u202f000 à 10\u202f000 hab.)"
    assert f"Le chiffre des {peers} n’est pas publié" in strict
    assert "62,5\u202f%" not in strict


def test_cli_report(cli_env: DbTarget, tmp_path: Path) -> None:
    async def build() -> Fixture:
        db = cli_env.database()
        try:
            return await build_campaign(db)
        finally:
            await db.dispose()

    fx = asyncio.run(build())
    runner = CliRunner()
    out = tmp_path / "barometre.html"
    result = runner.invoke(temoin.cli.app.app, ["report", fx.campaign.name, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "62,5\u202f%" in out.read_text(encoding="utf-8")
    out = tmp_path / "commune.html"
    result = runner.invoke(
        temoin.cli.app.app,
        ["report", fx.campaign.name, "--collectivity", "63901", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "Aubière-les-Monts" in out.read_text(encoding="utf-8")
    result = runner.invoke(
        temoin.cli.app.app,
        ["report", fx.campaign.name, "--collectivity", "99999", "--out", str(out)],
    )
    assert result.exit_code == 1
    assert "aucune collectivité de code INSEE «\u202f99999\u202f»" in result.output
    result = runner.invoke(temoin.cli.app.app, ["report", fx.campaign.name, "--out", "x.txt"])
    assert result.exit_code == 2
    assert "--out\u202f: le nom du fichier doit finir par .html ou .pdf" in result.output
