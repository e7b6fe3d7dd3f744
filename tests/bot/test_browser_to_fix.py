"""« À corriger » asked in a real browser reaches the auditor in the bot, on SQLite and
PostgreSQL: a consultant, in Debian's chromium (Playwright) against `temoin web` in its own
process, opens a phone contact's observations, asks for a correction of one answer with a
reason; the running bot (PTB over the local Bot API, same database) sends the auditor the
question and the reason, takes the corrected answer, and the page shows it once reloaded.
axe-core runs on the page before and after; the site's CSP raises no console error.
(tests/bot/test_web_to_fix.py does the same over HTTP, with its events checked in detail.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.reminders import send_due
from sim.botapi import LocalBotApi
from storage import bot as repo
from storage.db import Database
from tests.bot.support import NOW, Bot, answers, buttons, enrol, next_with_buttons, seed, text_of
from tests.bot.test_reminders import runtime_of
from tests.conftest import DbTarget
from tests.web.conftest import add_account, chromium, close_contexts  # noqa: F401  (fixture)
from tests.web.test_browser import SHOTS, audit, log_in, serve

REASON = "12 sonneries\u202f? Réécoutez l’appel."


async def test_a_correction_asked_in_the_browser_reaches_the_auditor(
    api: LocalBotApi,
    database: Database,
    running: Bot,
    db_target: DbTarget,
    tmp_path: Path,
    chromium: Any,  # noqa: F811
) -> None:
    world = await seed(database)
    cid = world.contacts["phone"]
    paul = await enrol(api, database, "paul", 6504)
    async with database.session() as s:
        for qid, value in (("picked_up", True), ("rings", 12), ("courtesy", "neutre")):
            await repo.upsert_answer(
                s, contact_id=cid, question_id=qid, value=value,
                auditor_id=world.auditors["paul"], at=NOW,
            )  # fmt: skip
        await repo.set_status(s, cid, "done", NOW)
    await add_account(database, "consult@example.org", "consultant")
    SHOTS.mkdir(parents=True, exist_ok=True)
    backend = db_target.backend
    errors: list[str] = []
    with serve(db_target, tmp_path) as base:
        browser = chromium
        try:
            context = await browser.new_context(
                locale="fr-FR", viewport={"width": 1280, "height": 900}
            )
            page = await context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            await log_in(page, base, "consult@example.org")
            await page.goto(f"{base}/admin/contacts/{cid}")
            await page.get_by_role("link", name="Observations de l’enquêteur").click()
            await page.get_by_role("heading", name=f"Observations – contact {cid}").wait_for()
            observations = page.url
            problems = await audit(browser, context, [observations])
            rings = page.get_by_role("row").filter(
                has=page.get_by_role("rowheader", name="Nombre de sonneries")
            )
            assert await rings.get_by_role("cell").first.inner_text() == "12"
            await rings.get_by_label(re.compile("^Motif pour .+Nombre de sonneries")).fill(REASON)
            await rings.get_by_role("button", name="À corriger").click()
            await rings.get_by_text("Correction demandée, en attente de l’enquêteur.").wait_for()

            # the bot's next round sends paul the request, with the reason
            paul.mark_read()
            running.clock.set(NOW.replace(hour=5))  # 06:00 in Paris: no task reminder yet
            bot = running.app.bot if running.app else None
            assert bot is not None
            assert await send_due(runtime_of(running), bot) == 1
            request = await next_with_buttons(paul)
            assert "Question\u202f: Nombre de sonneries" in text_of(request)
            assert f"Motif\u202f: {REASON}" in text_of(request)
            paul.press(buttons(request)[0])
            asked = text_of(await paul.wait_for_message())
            assert asked.startswith(f"✏️ Correction demandée\u202f: {REASON}")
            paul.send_text("2")
            assert "correction enregistrée" in text_of(await next_with_buttons(paul))
            assert (await answers(database, cid))["rings"] == 2

            # the page, reloaded, shows the corrected answer and the history
            await page.reload()
            await page.get_by_role("heading", name=f"Observations – contact {cid}").wait_for()
            assert await rings.get_by_role("cell").first.inner_text() == "2"
            assert "corrigée" in await rings.inner_text()
            history = page.locator("main table").last
            assert "Réponse corrigée" in await history.inner_text()
            assert "12 → 2" in await history.inner_text()
            assert REASON in await history.inner_text()
            await page.screenshot(
                path=str(SHOTS / f"admin-observations-fixed-{backend}.png"), full_page=True
            )
            problems += await audit(browser, context, [observations])
            assert problems == []
            assert errors == []
        finally:
            await close_contexts(browser)
