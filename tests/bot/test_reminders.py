"""Reminders and digests at the right local hours under a controlled clock, ``/avancement``,
and the review round trip: « à corriger » in the CLI, corrected in the chat."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from typer.testing import CliRunner

import temoin.cli.app
from bot.app import BotConfig, build_application
from bot.reminders import send_due
from bot.runtime import Runtime
from scenarios import events as ev
from sim.botapi import LocalBotApi
from storage import bot as repo
from storage.db import Database
from storage.models import Campaign, Observation, Service
from tests import factories
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
from tests.conftest import DbTarget


def runtime_of(bot: Bot) -> Runtime:
    assert bot.app is not None
    found = bot.app.bot_data["runtime"]
    assert isinstance(found, Runtime)
    return found


async def test_reminders_and_digest_at_their_local_hours(
    api: LocalBotApi, database: Database, running: Bot
) -> None:
    world = await seed(database)  # paul: 3 tasks today, lea: 1 today
    async with database.session() as s:
        camp = await s.get(Campaign, world.campaign_id)
        svc = await s.get(Service, world.service_id)
        assert camp is not None and svc is not None
        for days in (-2, 1):
            await factories.contact(
                s, NOW, camp, svc, planned_at=NOW + timedelta(days=days),
                scenario_id="phone-listes-electorales", channel="phone", status="assigned",
                auditor_id=world.auditors["paul"],
            )  # fmt: skip
    paul = await enrol(api, database, "paul", 6501)
    lea = await enrol(api, database, "lea", 6502)
    cora = await enrol(api, database, "cora", 6503)
    for user in (paul, lea, cora):
        user.mark_read()
    rt, bot = runtime_of(running), running.app.bot if running.app else None
    assert bot is not None
    clock = running.clock

    clock.set(datetime(2026, 3, 3, 6, 59, tzinfo=UTC))  # 07:59 in Paris: too early
    assert await send_due(rt, bot) == 0
    clock.set(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))  # 08:00
    assert await send_due(rt, bot) == 2  # paul and lea; cora has no task
    morning = await paul.wait_for_message()
    assert "À faire aujourd’hui (ou en retard)\u202f: 4 tâche(s)" in text_of(morning)
    assert len(buttons(morning)) == 4  # the late one (2 days ago) and today's three
    assert "1 tâche(s)" in text_of(await lea.wait_for_message())
    assert await send_due(rt, bot) == 0  # claimed: never twice
    await running.restart()  # not even after a restart
    rt, bot = runtime_of(running), running.app.bot if running.app else None
    assert bot is not None
    assert await send_due(rt, bot) == 0

    clock.set(datetime(2026, 3, 3, 17, 0, tzinfo=UTC))  # 18:00: tomorrow's tasks
    assert await send_due(rt, bot) == 1
    evening = await paul.wait_for_message()
    assert "Pour demain\u202f: 1 tâche(s)" in text_of(evening)
    clock.set(datetime(2026, 3, 3, 18, 0, tzinfo=UTC))  # 19:00: the coordinator's digest
    assert await send_due(rt, bot) == 1
    digest = text_of(await cora.wait_for_message())
    assert digest.startswith("Point du jour\n📊 Avancement de vos campagnes")
    assert "• Téléphone\u202f: à faire 4" in digest  # paul's 3 phone tasks and lea's
    clock.set(datetime(2026, 3, 4, 7, 30, tzinfo=UTC))  # the next morning, again
    assert await send_due(rt, bot) == 2
    assert "5 tâche(s)" in text_of(await paul.wait_for_message())  # yesterday's are late now

    cora.send_command("/avancement")
    assert "Courrier\u202f: imprimés 1" in text_of(await cora.wait_for_message())
    paul.send_command("/avancement")
    assert "réservé à la coordination" in text_of(await paul.wait_for_message())


async def test_reminder_job_is_scheduled(database: Database) -> None:
    conf = BotConfig(token="1:" + "x" * 35, reminder_interval=30)
    app = build_application(conf, database)
    assert app.job_queue is not None
    [job] = app.job_queue.jobs()
    assert job.name == "reminders"
    off = build_application(BotConfig(token="1:" + "x" * 35, reminders=False), database)
    assert off.job_queue is not None and off.job_queue.jobs() == ()


async def test_review_to_fix_round_trip(
    api: LocalBotApi, database: Database, running: Bot, cli_env: DbTarget
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

    runner = CliRunner()
    args = ["observations", "to-fix", str(cid), "rings", "--reason", "12 sonneries ? Vérifiez."]
    result = await asyncio.to_thread(runner.invoke, temoin.cli.app.app, args)
    assert result.exit_code == 0, result.output
    assert "à corriger\u202f; l’auditeur sera prévenu." in result.output
    bad = await asyncio.to_thread(
        runner.invoke,
        temoin.cli.app.app,
        ["observations", "to-fix", str(cid), "nope", "--reason", "x"],
    )
    assert bad.exit_code == 1 and "n’est pas dans la grille" in bad.output

    paul.mark_read()
    running.clock.set(NOW.replace(hour=5))  # 06:00 in Paris: no task reminder yet
    rt, bot = runtime_of(running), running.app.bot if running.app else None
    assert bot is not None
    assert await send_due(rt, bot) == 1
    request = await next_with_buttons(paul)
    assert "Question\u202f: Nombre de sonneries" in text_of(request)
    assert "Motif\u202f: 12 sonneries ? Vérifiez." in text_of(request)
    assert await send_due(rt, bot) == 0  # told once
    paul.press(buttons(request)[0])
    asked = text_of(await paul.wait_for_message())
    assert asked.startswith("✏️ Correction demandée\u202f: 12 sonneries")
    assert "Réponse actuelle\u202f: 12" in asked
    paul.send_text("trente et une")
    assert "nombre entier entre 0 et 30" in text_of(await paul.wait_for_message())
    assert "Correction demandée" in text_of(await paul.wait_for_message())
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
    assert await send_due(rt, bot) == 0
