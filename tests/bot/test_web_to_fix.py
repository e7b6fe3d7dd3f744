"""« À corriger » from the back office reaches the auditor in the bot, as ``temoin
observations to-fix`` does: the web page and the command share ``runners.reviews``; here the
coordinator clicks through the web app (HTTP, real app, same database) and the running bot,
over the local Bot API, tells the auditor why and takes the corrected answer."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from bot.reminders import send_due
from scenarios import events as ev
from scenarios.clock import FixedClock
from sim.botapi import LocalBotApi
from storage import bot as repo
from storage.db import Database
from storage.models import Observation
from tests.bot.support import (
    NOW,
    Bot,
    answers,
    buttons,
    enrol,
    events,
    next_with_buttons,
    seed,
    text_of,
)
from tests.bot.test_reminders import runtime_of
from tests.web.conftest import add_account, csrf_of, login, make_config
from web.app import create_app


async def test_a_correction_asked_on_the_web_reaches_the_auditor(
    api: LocalBotApi, database: Database, running: Bot
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

    await add_account(database, "coord@example.org", "coordinator")
    app = create_app(database, make_config(), FixedClock(NOW))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await login(client, "coord@example.org")
        page = await client.get(f"/admin/contacts/{cid}/observations")
        assert page.status_code == 200 and "Nombre de sonneries" in page.text
        assert re.search(r'name="question" value="rings"', page.text)
        sent = await client.post(
            f"/admin/contacts/{cid}/observations/a-corriger",
            data={"csrf_token": csrf_of(page.text), "question": "rings",
                  "reason": "12 sonneries ? Vérifiez."},
        )  # fmt: skip
        assert sent.status_code == 303

    paul.mark_read()
    running.clock.set(NOW.replace(hour=5))  # 06:00 in Paris: no task reminder yet
    rt, bot = runtime_of(running), running.app.bot if running.app else None
    assert bot is not None
    assert await send_due(rt, bot) == 1
    request = await next_with_buttons(paul)
    assert "Question\u202f: Nombre de sonneries" in text_of(request)
    assert "Motif\u202f: 12 sonneries ? Vérifiez." in text_of(request)
    paul.press(buttons(request)[0])
    asked = text_of(await paul.wait_for_message())
    assert asked.startswith("✏️ Correction demandée\u202f: 12 sonneries")
    paul.send_text("2")
    assert "correction enregistrée" in text_of(await next_with_buttons(paul))

    assert (await answers(database, cid))["rings"] == 2
    async with database.session() as s:
        row = await s.scalar(
            select(Observation).where(
                Observation.contact_id == cid, Observation.question_id == "rings"
            )
        )
        assert row is not None and row.review_state == "fixed"
    kinds = [(kind, detail) for kind, _, detail in await events(database, cid)]
    assert kinds == [
        (ev.REVIEW_TO_FIX, {"question": "rings", "reason": "12 sonneries ? Vérifiez."}),
        (ev.REVIEW_FIXED, {"question": "rings", "previous": 12, "value": 2}),
    ]

    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await login(client, "coord@example.org")
        page = await client.get(f"/admin/contacts/{cid}/observations")
        assert "Réponse corrigée" in page.text and "12 → 2" in page.text
        assert ">corrigée" in page.text
