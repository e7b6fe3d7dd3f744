"""The back office's reviews in a real browser (Playwright driving Debian's chromium against
`temoin web` in its own process), on SQLite and PostgreSQL: a coordinator sends an auditor's
answer back « à corriger » with a reason, overrides a content check with a note, and opens
the auditors' page; axe-core finds no serious or critical violation on those pages, the
site's CSP no console error. Screenshots go to ``var/screenshots/``."""

from __future__ import annotations

import re
from typing import Any

from tests.web.conftest import PASSWORD, WebWorld, close_contexts
from tests.web.test_browser import SHOTS, audit, served  # noqa: F401  (fixture)


async def test_reviews_in_a_browser(
    served: str,  # noqa: F811
    web_world: WebWorld,
    chromium: Any,
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    backend = web_world.database.engine.dialect.name
    phone = web_world.fx.contact_ids["phone"]
    email = web_world.fx.contact_ids["email0"]
    browser = chromium
    try:
        context = await browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(f"{served}/connexion")
        await page.get_by_label("Identifiant").fill("coord@example.org")
        await page.get_by_label("Mot de passe").fill(PASSWORD)
        await page.get_by_role("button", name="Se connecter").click()
        await page.get_by_role("heading", name="Campagnes", level=1).wait_for()

        await page.goto(f"{served}/admin/contacts/{phone}")
        await page.get_by_role("link", name="Observations de l’enquêteur").click()
        await page.get_by_role("heading", name=f"Observations – contact {phone}").wait_for()
        reason = page.get_by_label(re.compile("Nombre de sonneries"))
        await reason.fill("3 sonneries ? Réécoutez l’appel.")
        await reason.press("Enter")  # the keyboard sends the form
        await page.get_by_text("Correction demandée, en attente de l’enquêteur.").wait_for()
        assert "3 sonneries ? Réécoutez l’appel." in await page.locator("main").inner_text()
        await page.screenshot(path=str(SHOTS / f"admin-observations-{backend}.png"),
                              full_page=True)  # fmt: skip
        pages = [page.url]

        await page.goto(f"{served}/admin/contacts/{email}")
        await page.get_by_role("link", name="Contrôles de la réponse").click()
        await page.get_by_role("heading", name="Réviser un contrôle").wait_for()
        await page.get_by_label("Contrôle", exact=True).select_option("expected.delai")
        await page.get_by_label("Oui, satisfait").check()
        await page.get_by_label("Motif de la révision").fill("Délai donné en fin de lettre")
        await page.get_by_role("button", name="Enregistrer la révision").click()
        history = page.locator("#historique + table")
        await history.wait_for()
        assert "Délai donné en fin de lettre" in await history.inner_text()
        said = await history.inner_text()
        assert "\tCoord" in said and "web:" not in said  # the account's name, not its login
        await page.screenshot(path=str(SHOTS / f"admin-checks-{backend}.png"), full_page=True)
        pages.append(page.url.split("#")[0])

        await page.get_by_role("link", name="Enquêteurs").click()
        await page.get_by_role("heading", name="Enquêteurs", level=1).wait_for()
        pages += [
            page.url,
            f"{served}/admin/contacts/{phone}",
            f"{served}/admin/contacts/{email}",
        ]
        assert await audit(browser, context, pages) == []
        assert errors == []
    finally:
        await close_contexts(browser)
