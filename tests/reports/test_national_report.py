"""The national barometer: its sections in order, key messages computed from the figures,
collectivity kinds apart from commune sizes, the evolution since a previous campaign, a
method page in plain words, French typography, and English when asked.

Fixture: ``nationalworld`` (statsworld's campaign + an EPCI and the Moselle, and a previous
campaign over four of the same services); its figures are worked out in its docstring.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from io import BytesIO
from pathlib import Path

from pypdf import PdfReader

from reports.campaign_stats import compute_stats
from reports.render import ReportOptions, national_report, write_report
from scenarios.i18n import Translator
from scenarios.typography import violations
from storage.db import Database
from tests.reports.nationalworld import build_national

GENERATED = datetime(2026, 4, 2, 8, 30, tzinfo=UTC)
SECTIONS = ("key", "channels", "service-kinds", "kinds", "criteria", "phone", "visit",
            "evolution", "method")  # fmt: skip
JARGON = ("Kaplan", "censur", "Wilson", "intervalle de confiance")


def _visible(html: str) -> str:
    """What a reader sees: no style sheet, no chart, no tag; entities decoded."""
    text = re.sub(r"<style.*?</style>|<svg.*?</svg>", " ", html, flags=re.S)
    text = re.sub(r"<(?:/(?:p|li|h[1-3]|td|th|tr)|br ?/?)>", "\n", text)
    return unescape(re.sub(r"<[^>]+>", "", text))


def _section(html: str, name: str) -> str:
    start = html.index(f'id="{name}"')
    following = [html.find(f'id="{other}"', start + 1) for other in SECTIONS]
    ends = [i for i in following if i > start]
    return html[start : min(ends) if ends else len(html)]


def _cells(tr: str) -> list[str]:
    found = re.findall(r"<td[^>]*>(.*?)</td>", tr)
    return [unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in found]


def _rows(html: str) -> list[list[str]]:
    return [_cells(tr) for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S) if "<td" in tr]


async def test_national_report_sections_and_figures(database: Database, tmp_path: Path) -> None:
    fx, previous = await build_national(database)
    options = ReportOptions(min_cell=1, min_peers=5)
    async with database.session() as s:
        html = await national_report(
            s, fx.campaign, generated_at=GENERATED, previous=previous, options=options
        )
        groupings = [("channel",), ("service_kind",), ("collectivity_kind",)]
        tables = dict(await compute_stats(s, fx.campaign, groupings, as_of=GENERATED))
    # every section, in the order the issue asks: key messages first, the method last
    positions = [html.index(f'id="{name}"') for name in SECTIONS]
    assert positions == sorted(positions)

    # key messages: the best- and the lowest-scored channel, named from the figures
    t = Translator("fr")
    scored = sorted((c for c in tables[("channel",)] if c.score is not None),
                    key=lambda c: c.score or 0.0)  # fmt: skip
    top, bottom = (t(f"national.the.{c.key('channel')}") for c in (scored[-1], scored[0]))
    key = _visible(_section(html, "key"))
    assert f"Le canal le mieux noté est {top}" in key
    assert f"le moins bien noté, {bottom}" in key
    served = sorted((c for c in tables[("service_kind",)] if c.score is not None),
                    key=lambda c: c.score or 0.0)  # fmt: skip
    best, worst = (
        t(f"national.service_kind.{c.key('service_kind')}") for c in (served[-1], served[0])
    )
    assert f"Par type de service, le mieux noté est «\u202f{best}\u202f»" in key
    assert f"le moins bien noté, «\u202f{worst}\u202f»" in key
    score = {c.key("collectivity_kind"): c.score for c in tables[("collectivity_kind",)]}
    parts = [f"{t('national.kind.' + k)}, {str(round(score[k] or 0, 1)).replace('.', ',')}"
             for k in ("commune", "epci", "departement")]  # fmt: skip
    assert "Par type de collectivité, note sur 100\u202f: " + "\u202f; ".join(parts) in key
    assert "progresse de" in key  # 25,0 -> higher this year
    assert "passe de 25,0\u202f% à" in key

    # collectivity kinds: the Moselle is a département, not a town of 50 000 and more
    kinds = _rows(_section(html, "kinds"))
    labels = [row[0] for row in kinds]
    assert labels == [
        "Communes",
        "Communes de moins de 2\u202f000 habitants",
        "Communes de 2\u202f000 à 10\u202f000 habitants",
        "Intercommunalités (EPCI)",
        "Départements",
    ]
    by_label = {row[0]: row for row in kinds}
    assert by_label["Départements"][1] == "1" and by_label["Départements"][2] == "0,0\u202f%"
    assert by_label["Intercommunalités (EPCI)"][2] == "100,0\u202f%"
    assert "50\u202f000" not in _section(html, "kinds")

    # service kinds have their labels, not their codes
    services = [row[0] for row in _rows(_section(html, "service-kinds"))]
    assert "Accueil du conseil départemental" in services and "Collecte des déchets" in services
    assert "accueil_departement" not in html

    # criteria: timing, form and pooled content checks for email; grid criteria for the phone
    criteria = _visible(_section(html, "criteria"))
    assert "Réponse écrite dans le délai cible" in criteria
    assert "Réponse écrite\u202f: éléments de réponse attendus présents" in criteria
    assert "Décroché avant la cinquième sonnerie" in criteria

    # phone and visit details (statsworld: 3 rings, picked up after 12 s, hold 1 min 30 s,
    # one transfer; the visit waited 7 min 30 s)
    phone = dict((row[0], row[1]) for row in _rows(_section(html, "phone")))
    assert phone["Nombre médian de sonneries"] == "3,0"
    assert phone["Délai médian avant le décroché"] == "12\u202fs"
    assert phone["Attente médiane en ligne (mise en attente)"] == "1\u202fmin\u202f30\u202fs"
    assert phone["Nombre moyen de transferts par appel"] == "1,0"
    visit = dict((row[0], row[1]) for row in _rows(_section(html, "visit")))
    assert visit["Attente médiane au guichet"] == "7\u202fmin\u202f30\u202fs"

    # evolution: far more than the four rows it had; email 25,0 % -> 60,0 % = +35,0 pts
    evolution = _rows(_section(html, "evolution"))
    assert len(evolution) > 12
    email = next(row for row in evolution if row[0] == "Courriel – Taux de réponse")
    assert email[1:] == ["25,0\u202f%", "60,0\u202f%", "+35,0\u202fpts"]
    assert any(row[0] == "Départements – Note sur 100" for row in evolution)

    # plain words in the body; "censored" said simply on the method page, at the end
    body, method = html.split('<section class="method"', 1)
    for word in JARGON:
        assert word not in _visible(body), word
    assert "censurées" in method and "tant qu’on a pu l’observer" in _visible(method)

    # French typography everywhere a reader looks
    found = violations(_visible(html))
    assert not found, found[:5]

    # the PDF: the method on a page of its own, after everything else
    out = tmp_path / "national.pdf"
    write_report(html, out)
    pages = [p.extract_text() for p in PdfReader(BytesIO(out.read_bytes())).pages]
    method_page = next(i for i, p in enumerate(pages) if "Comment lire ce baromètre" in p)
    assert method_page > 0
    assert "Évolution depuis la campagne précédente" not in pages[method_page]
    assert "L’essentiel" in pages[0]


async def test_national_report_without_previous_and_in_english(database: Database) -> None:
    fx, _previous = await build_national(database)
    options = ReportOptions(min_cell=5, min_peers=5)
    async with database.session() as s:
        french = await national_report(s, fx.campaign, generated_at=GENERATED, options=options)
        english = await national_report(
            s, fx.campaign, generated_at=GENERATED, options=options, locale="en"
        )
    # no previous campaign: no evolution section, no evolution sentence
    assert 'id="evolution"' not in french and "Depuis la campagne précédente" not in french
    # with min_cell 5, only email has enough contacts: it alone is named, the others flagged
    key = _visible(_section(french, "key"))
    assert "Un seul canal a assez de contacts pour être noté\u202f: le courriel" in key
    assert "le mieux noté" not in key
    assert "Les résultats portant sur moins de 5 contacts sont signalés" in key
    assert "* effectif faible" in _visible(_section(french, "channels"))
    # English: the language attribute, the words and the numbers
    assert '<html lang="en">' in english
    assert "Key messages" in english and "L’essentiel" not in english
    assert "Inter-municipal bodies (EPCI)" in english and "60.0%" in english
    assert "How to read this barometer" in english
