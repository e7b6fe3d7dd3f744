"""The back office's accounts, bulk triage, downloads and comparison, and the portal's
evolution, in a real browser (Playwright driving Debian's chromium against `temoin web` in its
own process), on SQLite and PostgreSQL, with axe-core on each page.

A coordinator invites a collectivity's account and re-roles the consultant, ignores two held
messages at once, watches the comparison load on the dashboard, downloads an export and
matches the third to its contact, comments on a collectivity's barometer; the
invited person chooses a password from the link and follows its evolution on the portal.
Kept to one test per database: the browser costs seconds on two shared cores.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from storage.models import Blob, Contact, Message
from tests import factories as f
from tests.reports.statsworld import COLLECTIVITIES
from tests.web.conftest import A_CODE, B_CODE, PASSWORD, WebWorld, close_contexts, earlier_campaign
from tests.web.test_browser import SHOTS, audit, served  # noqa: F401  (fixture)

NAMES = {code: name for name, code, _population in COLLECTIVITIES}
NEW_PASSWORD = "un mot de passe pour la mairie"


async def _held(web_world: WebWorld) -> list[int]:
    """Three messages held for triage; the second a real reply to the open campaign's contact
    (its persona's mailbox, after the contact was sent), which a coordinator can match."""
    at = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    reply = EmailMessage()
    reply["From"] = "Accueil de la mairie <accueil@mairie.example>"
    reply["To"] = "claire.mercier@persona.example"
    reply["Subject"] = "Lettre d’information 1"
    reply["Message-ID"] = "<reponse-1@mairie.example>"
    reply.set_content("Bonjour,\nVotre demande est bien reçue, nous y répondons sous huit jours.\n")
    raw = reply.as_bytes()
    async with web_world.database.session() as s:
        persona = await f.persona(s, at, email="claire.mercier@persona.example")
        contact = await s.get(Contact, web_world.open_contact_id)
        assert contact is not None and contact.sent_at is not None
        contact.persona_id = persona.id
        s.add(Blob(sha256="1" * 64, size=1, data=b"x", created_at=at))
        s.add(Blob(sha256=hashlib.sha256(raw).hexdigest(), size=len(raw), data=raw, created_at=at))
        await s.flush()
        rows = [
            Message(direction="in", raw_sha256="1" * 64, subject=f"Lettre d’information {i}",
                    internal_date=at + timedelta(minutes=i), triage_state="pending",
                    classification="other", created_at=at)
            for i in range(3)
        ]  # fmt: skip
        rows[1].raw_sha256 = hashlib.sha256(raw).hexdigest()
        rows[1].persona_id = persona.id
        rows[1].internal_date = contact.sent_at + timedelta(hours=3)
        s.add_all(rows)
        await s.flush()
        return [m.id for m in rows]


async def test_back_office_and_evolution_in_a_browser(
    served: str,  # noqa: F811
    web_world: WebWorld,
    chromium: Any,
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await earlier_campaign(web_world)
    held = await _held(web_world)
    backend = web_world.database.engine.dialect.name
    errors: list[str] = []
    browser = chromium
    try:
        context = await browser.new_context(
            locale="fr-FR", viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        page = await context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(f"{served}/connexion")
        await page.get_by_label("Identifiant").fill("coord@example.org")
        await page.get_by_label("Mot de passe").fill(PASSWORD)
        await page.get_by_role("button", name="Se connecter").click()
        await page.get_by_role("heading", name="Campagnes", level=1).wait_for()

        # accounts: invite a collectivity's account, re-role the consultant
        await page.get_by_role("link", name="Comptes").click()
        await page.get_by_role("heading", name="Comptes", level=1).wait_for()
        await page.get_by_label("Identifiant (une adresse").fill("accueil@durtol.example")
        await page.get_by_label("Nom affiché").fill("Accueil de Durtol")
        await page.get_by_label("Rôle", exact=True).select_option("collectivity")
        await page.get_by_label("Code INSEE de la collectivité").fill(B_CODE)
        await page.get_by_role("button", name="Créer le compte").click()
        link = await page.get_by_role("textbox", name="Lien d’invitation").input_value()
        assert "/invitation/" in link
        await page.screenshot(path=str(SHOTS / f"admin-accounts-{backend}.png"), full_page=True)
        await page.get_by_label("Rôle de consult@example.org").select_option("coordinator")
        await page.get_by_role("button", name="Changer le rôle – consult@example.org").click()
        await page.get_by_text("a désormais le rôle «\u202fcoordination\u202f»").wait_for()
        pages = [f"{served}/admin/comptes"]

        # bulk triage: two of the three held messages ignored at once
        await page.get_by_role("link", name="Tri des réponses").first.click()
        await page.get_by_label(f"Choisir le message {held[0]}").check()
        await page.get_by_label(f"Choisir le message {held[2]}").check()
        await page.get_by_label("Décision").select_option("ignore")
        await page.get_by_role("button", name="Appliquer aux messages cochés").click()
        await page.get_by_text("Messages ignorés\u202f: 2.").wait_for()
        async with web_world.database.session() as s:
            found = await s.execute(select(Message.id, Message.triage_state))
            states = {i: state for i, state in found.all()}
        assert [states[i] for i in held] == ["ignored", "pending", "ignored"]
        pages.append(f"{served}/admin/tri")
        # the one left is a reply: matched to its contact, its class set, from its page
        await page.get_by_role("link", name="Lettre d’information 1").click()
        await page.get_by_role("heading", name="Décider").wait_for()
        pages.append(page.url)
        await page.get_by_label("Numéro du contact").fill(str(web_world.open_contact_id))
        await page.get_by_label("Classe du message").select_option("answer")
        await page.get_by_role("button", name="Associer au contact").click()
        await page.wait_for_url(f"{served}/admin/contacts/{web_world.open_contact_id}")
        async with web_world.database.session() as s:
            matched = await s.get(Message, held[1])
            assert matched is not None
            assert (matched.triage_state, matched.contact_id, matched.classification) == (
                "matched",
                web_world.open_contact_id,
                "answer",
            )
        assert "Lettre d’information 1" in await page.locator("main").inner_text()
        pages.append(page.url)

        # the dashboard: the comparison loads after the page, a download
        await page.get_by_role("link", name="Campagnes").first.click()
        await page.get_by_role("link", name="Baromètre 2026").click()
        caption = page.get_by_text("Baromètre 2025 et Baromètre 2026, par canal")
        await caption.wait_for()
        await page.screenshot(path=str(SHOTS / f"admin-dashboard-{backend}.png"), full_page=True)
        async with page.expect_download() as info:
            await page.get_by_role("link", name="XLSX").first.click()
        download = await info.value
        assert download.suggested_filename == "barometre-2026-contacts.xlsx"
        assert (await download.path()).read_bytes()[:2] == b"PK"  # a zip: the workbook
        dashboard = page.url
        # the consultant's comments on A's barometer, reached from the dashboard
        await page.get_by_label("Code INSEE d’une collectivité").fill(A_CODE)
        await page.get_by_role("button", name="Ses commentaires").click()
        await page.get_by_label("Commentaire", exact=True).fill("Accueil aimable.")
        await page.get_by_role("button", name="Enregistrer le commentaire").click()
        await page.get_by_role("cell", name="Accueil aimable.").wait_for()
        pages += [dashboard, f"{dashboard}/comparaison", page.url]
        problems = await audit(browser, context, pages)
        await page.get_by_role("button", name="Se déconnecter").click()

        # the invited person chooses a password, then follows its evolution
        await page.goto(link)
        problems += await audit(browser, context, [link])
        await page.get_by_label("Mot de passe (au moins").fill(NEW_PASSWORD)
        await page.get_by_label("Confirmez le mot de passe").fill(NEW_PASSWORD)
        await page.get_by_role("button", name="Enregistrer le mot de passe").click()
        await page.get_by_label("Identifiant").fill("accueil@durtol.example")
        await page.get_by_label("Mot de passe").fill(NEW_PASSWORD)
        await page.get_by_role("button", name="Se connecter").click()
        await page.get_by_role("link", name="Votre évolution").click()
        await page.get_by_role("heading", name=f"Évolution\u202f: {NAMES[B_CODE]}").wait_for()
        text = await page.locator("main").inner_text()
        assert "Baromètre 2025" in text and "Baromètre 2026" in text
        assert [n for c, n in NAMES.items() if c != B_CODE and n in text] == []
        await page.screenshot(path=str(SHOTS / f"portal-evolution-{backend}.png"), full_page=True)
        problems += await audit(browser, context, [page.url])
        assert problems == []
        assert errors == []
    finally:
        await close_contexts(browser)
