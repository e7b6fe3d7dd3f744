"""A collectivity's barometer as its director reads it: the first page per channel, the
channel sections (findings, remarks, tips, comments), the annex, ``--previous`` (it used to be
ignored without a word), peers of the collectivity's own kind, French typography, English.

Fixtures: test_stats_db's campaign (``statsworld``: 8 communes of département 63), and a
world of six départements and six large communes built here.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

import temoin.cli.app
from reports.personal_findings import anonymise, names_pattern, peer_group
from reports.render import ReportOptions, collectivity_report
from scenarios import events as ev
from scenarios.i18n import Translator
from scenarios.typography import violations
from storage.comments import add_comment
from storage.db import Database
from storage.models import Collectivity, ContactEvent, Observation, Service
from storage.stats import CampaignInfo, campaign_info, collectivity_info
from tests import factories as f
from tests.conftest import DbTarget
from tests.reports.statsworld import CLOSE, NOW, SENT, build_campaign

GENERATED = datetime(2026, 4, 2, 8, 30, tzinfo=UTC)
OPTIONS = ReportOptions(min_cell=5, min_peers=5)


def _text(html: str) -> str:
    """What a reader sees: the body without tags, styles or the inline charts."""
    body = html.split("<body>", 1)[1]
    body = re.sub(r"<(style|svg)\b.*?</\1>", " ", body, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", body))


async def _report(database: Database, code: str, **kw: object) -> str:
    campaign = kw.pop("campaign", None)
    async with database.session() as s:
        target = await collectivity_info(s, code)
        assert target is not None
        if campaign is None:
            campaign = await campaign_info(s, "barometre-2026")
        assert isinstance(campaign, CampaignInfo)
        return await collectivity_report(
            s,
            campaign,
            target,
            generated_at=GENERATED,
            options=OPTIONS,
            **kw,  # type: ignore[arg-type]
        )


async def test_sections_in_order_and_in_french(database: Database) -> None:
    await build_campaign(database)
    async with database.session() as s:
        phone_id = (await s.execute(select(Observation.contact_id).limit(1))).scalar_one()
        s.add(
            Observation(
                contact_id=phone_id,
                question_id="comments",
                value="Mme Durand très aimable, rappel au 04 73 12 34 56 ou à "
                "durand@mairie-63903.fr <script>alert(1)</script> ; je me suis présentée "
                "comme claire mercier, Mercier au nom de famille",
                answered_at=SENT,
            )
        )
    html = await _report(database, "63903")  # an email on time and the phone call
    text = _text(html)
    order = [
        "Synthèse",
        "Points forts",
        "Priorités",
        "Courriel",
        "Ce que nos enquêteurs ont constaté",
        "Téléphone",
        "Remarques des enquêteurs",
        "Pistes de progrès",
        "Méthode",
        "Annexe\u202f: le déroulé de chacun de vos contacts",
        "Appel décroché",
    ]
    at = 0
    for item in order:  # each after the one before
        found_at = text.find(item, at)
        assert found_at >= 0, (item, text[at : at + 400])
        at = found_at + len(item)
    # the timeline is in the annex only: nothing of it before the method
    assert text.find("Appel décroché") > text.find("Méthode")
    # findings as findings: phone call, documents not given (0 of 1), 3 rings (met)
    assert 'Les pièces à fournir indiquées</td><td class="ko">0 sur 1' in html
    assert 'Décroché en 4 sonneries au plus</td><td class="ok">1 sur 1' in html
    assert "Vous a-t-on" not in text and "Nombre de sonneries" not in text
    # one contact per channel: a small sample, with its n and the interval said in words
    assert "Petit échantillon (n\u00a0=\u00a01)\u202f: à lire avec prudence." in text
    # Wilson for 1 of 1: centre (1 + 1.9207) / 4.8415 = 0.6033, half-width 0.3968 -> 20,7 %
    assert "la valeur réelle se situe très probablement entre 20,7\u202f% et 100,0\u202f%" in text
    # the remark: no name, number or address, markup escaped, not the auditor's either
    assert "Durand" not in text and "04 73" not in text and "durand@" not in text
    assert "«\u202fMme [nom] très aimable, rappel au [numéro] ou à [adresse]" in text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # the persona's name (statsworld's « claire », shown as Claire Mercier): never
    assert "Mercier" not in text and "claire mercier" not in text
    assert "présentée comme [nom], [nom] au nom de famille" in text
    assert "ana" not in text.split()
    assert "non atteinte" not in text
    found = [str(v) for v in violations(text)]
    assert not found, found[:10]


async def test_comments_signed_dated_and_escaped(database: Database) -> None:
    await build_campaign(database)
    async with database.session() as s:
        campaign = await campaign_info(s, "barometre-2026")
        target = await collectivity_info(s, "63903")
        assert campaign is not None and target is not None
        for channel, text in (
            (None, "Un accueil qui progresse.\n\nReste le téléphone : à revoir."),
            ("phone", "Former l'accueil <b>au décroché</b> & aux transferts."),
        ):
            await add_comment(
                s, campaign_id=campaign.id, collectivity_id=target.id, channel=channel,
                text=text, author="Anne Martin", now=datetime(2026, 4, 1, 9, 0, tzinfo=UTC),
            )  # fmt: skip
    html = await _report(database, "63903")
    text = _text(html)
    assert "Le regard du consultant" in text and "Commentaire du consultant" in text
    assert "<p>Un accueil qui progresse.</p><p>Reste le téléphone\u202f: à revoir.</p>" in html
    assert "Anne Martin, le 1er avril 2026" in text
    # the phone comment sits in the phone section, typeset, its markup shown as text
    phone = text[text.find("Téléphone", text.find("Courriel", text.find("Synthèse") + 300)) :]
    assert "Former l’accueil <b>au décroché</b> & aux transferts." in phone
    assert "&lt;b&gt;au décroché&lt;/b&gt; &amp; aux" in html and "<b>au" not in html
    # another collectivity's report shows none of it
    other = await _report(database, "63904")
    assert "Anne Martin" not in other and "consultant" not in _text(other)


async def _previous_campaign(database: Database) -> None:
    """barometre-2025: one email to 63903's service, never answered (its score: 0)."""
    async with database.session() as s:
        camp = await f.campaign(
            s, NOW, name="barometre-2025", title="Baromètre 2025",
            closed_at=CLOSE - timedelta(days=365),
        )  # fmt: skip
        svc = (
            await s.execute(
                select(Service)
                .join(Collectivity, Collectivity.id == Service.collectivity_id)
                .where(Collectivity.insee_code == "63903")
            )
        ).scalar_one()
        sent = SENT - timedelta(days=364)
        await f.contact(
            s, NOW, camp, svc, planned_at=sent, status="sent", sent_at=sent,
        )  # fmt: skip


def test_previous_is_not_ignored_for_a_collectivity(cli_env: DbTarget, tmp_path: Path) -> None:
    async def build() -> None:
        db = cli_env.database()
        try:
            await build_campaign(db)
            await _previous_campaign(db)
        finally:
            await db.dispose()

    asyncio.run(build())
    runner = CliRunner()
    pages = {}
    for name, extra in (("alone", []), ("compared", ["--previous", "barometre-2025"])):
        out = tmp_path / f"{name}.html"
        result = runner.invoke(
            temoin.cli.app.app,
            ["report", "barometre-2026", "--collectivity", "63903", "--out", str(out), *extra],
        )
        assert result.exit_code == 0, result.output
        pages[name] = out.read_text(encoding="utf-8")
    assert pages["alone"] != pages["compared"]
    text = _text(pages["compared"])
    assert "Évolution depuis la campagne Baromètre 2025." in text
    assert "Évolution" not in _text(pages["alone"])
    # email: answered on time now (100), unanswered a year ago (0); phone: a first measure
    rows = text[text.find("Synthèse") :]
    assert re.search(r"Courriel\s+1\s+Petit[^\n]*\s+100,0\s+\+100,0\u202fpts", rows), rows[:800]
    assert re.search(r"Téléphone\s+1\s.*?première mesure", rows, flags=re.S)


async def _departements(database: Database) -> CampaignInfo:
    """Six départements (one phone call each to their social services, nothing of it
    answered well) and six communes of 60 000 inhabitants (one email each, none answered)."""
    async with database.session() as s:
        camp = await f.campaign(s, NOW, name="barometre-2026", closed_at=CLOSE)
        persona = await f.persona(s, NOW)
        for n in range(6):
            dep = await f.collectivity(
                s, NOW, name=f"Département {n}", insee_code=f"D0{n}", kind="departement",
                population=600_000 + n,
            )  # fmt: skip
            svc = await f.service(
                s, NOW, dep, kind="action_sociale_departement", name="Solidarités"
            )
            call = await f.contact(
                s, NOW, camp, svc, planned_at=SENT, scenario_id="phone-ccas-aide-alimentaire",
                channel="phone", status="done",
            )  # fmt: skip
            for kind, seconds in (
                (ev.CALL_STARTED, 0),
                (ev.CALL_PICKED_UP, 12),
                (ev.CALL_HUNG_UP, 300),
            ):
                s.add(
                    ContactEvent(
                        contact_id=call.id,
                        kind=kind,
                        at=SENT + timedelta(seconds=seconds),
                        detail={"attempt": 1},
                    )
                )
            answers = {
                "picked_up": True, "rings": 2, "wait_before_human": 30, "service_named": True,
                "transferred": False, "courtesy": "aimable", "listened": True,
                "aid_described": False, "conditions_explained": n % 2 == 0,
                "appointment_offered": False, "outcome": "aucune", "callback_offered": False,
            }  # fmt: skip
            for question, value in answers.items():
                s.add(Observation(contact_id=call.id, question_id=question, value=value,
                                  answered_at=SENT))  # fmt: skip
            town = await f.collectivity(
                s, NOW, name=f"Grande-Ville {n}", insee_code=f"6310{n}", population=60_000
            )
            mail = await f.service(s, NOW, town)
            await f.contact(
                s, NOW, camp, mail, planned_at=SENT, persona_id=persona.id, status="sent",
                sent_at=SENT,
            )  # fmt: skip
    async with database.session() as s:
        info = await campaign_info(s, "barometre-2026")
    assert info is not None
    return info


async def test_a_departement_is_compared_with_departements(database: Database) -> None:
    await _departements(database)
    html = await _report(database, "D00")
    text = _text(html)
    assert "Autres départements" in text and "aux départements" in text
    assert "hab." not in text and "Communes" not in text
    # 5 other départements contribute to the phone figures: published, over them alone
    assert "donnée masquée" not in text
    assert re.search(r"Taux de décroché\s+100,0\u202f%.*?100,0\u202f%\s+100,0\u202f%", text, re.S)
    assert "Décroché avant la cinquième sonnerie" not in text  # the grid's rings say it
    # thresholds from the grid's met_when: 4 rings, 120 s said as « 2 min »
    assert "Décroché en 4 sonneries au plus" in text
    assert "Un interlocuteur au bout du fil en 2\u202fmin au plus" in text
    # the département's own tips, not the town's CCAS one
    assert "maison des solidarités" in text
    assert "CCAS" not in text
    # a commune of 60 000 is compared with the communes of its stratum, not the départements
    town = _text(await _report(database, "63100"))
    assert "Communes de votre strate (50\u202f000 hab. et plus)" in town
    assert "départements" not in town


async def test_english(database: Database) -> None:
    await build_campaign(database)
    html = await _report(database, "63903", locale="en")
    text = _text(html)
    assert '<html lang="en">' in html
    for words in ("Summary", "What our auditors found", "Appendix", "Strengths", "Priorities"):
        assert words in text
    assert "Synthèse" not in text and "Constat" not in text
    assert "The documents to provide listed" in text
    assert re.search(r"\d+\.\d%", text) and "\u202f%" not in text


def test_anonymise_and_peer_groups() -> None:
    t = Translator("fr")
    said = anonymise("M. Jean Dupont, tél. +33 4 73 00 11 22, j.dupont@ville.fr : ok", t)
    assert said == "M. [nom], tél. [numéro], [adresse]\u202f: ok"
    names = names_pattern(["Claire Mercier", "Ana"])
    said = anonymise("CLAIRE MERCIER puis Mercier ; une réponse claire, Anatole", t, names)
    assert said == "[nom] puis [nom]\u202f; une réponse claire, Anatole"
    assert peer_group("commune", 1500, (2000, 10000)) == "commune:0"
    assert peer_group("commune", 60000, (2000, 10000)) == "commune:2"
    assert peer_group("departement", 60000, (2000, 10000)) == "departement"


async def test_every_report_of_the_campaign_keeps_french_typography(database: Database) -> None:
    fx = await build_campaign(database)
    for code, name in zip(fx.codes, fx.names, strict=True):
        text = _text(await _report(database, code))
        assert name.replace("'", "\u2019") in text  # Fontanas-d’Auvergne, typeset
        found = [str(v) for v in violations(text)]
        assert not found, (code, found[:10])
