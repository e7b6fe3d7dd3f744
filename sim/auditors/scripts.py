"""The auditors' scripts: one async generator per kind of task, yielding the next step's instant.

    phone: open the task, « Appel lancé », after the rings « Décroché » (or « Répondeur »,
        « Pas de réponse », « Occupé »: called again 20 to 90 minutes later, three attempts at
        most, then « Remplir la grille »); maybe « Transféré », « En attente » then « Reprise »;
        « Raccroché »; then the grid
    visit: « Arrivé » (or the shared position when the service's coordinates are known),
        « Pris en charge » after the wait, « Reparti » after the exchange; then the grid
    post: « Courrier posté », maybe an impossible date first, then « Aujourd'hui »
    reply: « Réponse reçue », « Aujourd'hui », then a photo of the reply or « Sans photo »

Between two yields the simulator sets the clock to the instant yielded: each press is timed by
the bot at the instant the truth keeps. What happened (rings, waits, durations, transfer,
people waiting) goes into ``run.facts`` for the grid's answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from scenarios import events as ev
from scenarios.catalog import Catalog
from sim.auditors.grid import fill_grid
from sim.auditors.talk import Talk, jpeg
from sim.auditors.tasks import Run


async def phone(talk: Talk, run: Run, catalog: Catalog) -> AsyncIterator[datetime]:
    rng, at = run.rng, talk.clock.now()
    await talk.open(run)
    picked = False
    attempts = 1 if rng.random() < 0.78 else rng.randint(2, 3)
    outcome = "na"
    for attempt in range(1, attempts + 1):
        at += timedelta(seconds=rng.randint(8, 60))
        yield at
        await talk.timed(run, talk.t("bot.button.call_started"), ev.CALL_STARTED, at)
        started = at
        last = attempt == attempts
        picked = last and rng.random() < 0.9
        rings = rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 6, 8)) if picked else rng.randint(4, 12)
        at += timedelta(seconds=rings * 5 + rng.randint(0, 4))
        yield at
        if picked:
            await talk.timed(run, talk.t("bot.button.picked_up"), ev.CALL_PICKED_UP, at)
            voice_server = rng.randint(15, 110) if rng.random() < 0.3 else 0
            run.facts |= {"rings": rings, "wait": int((at - started).total_seconds())
                          + voice_server, "started": started}  # fmt: skip
            break
        outcome = rng.choice(("na", "na", "busy", "vm"))
        kind = {"na": ev.CALL_NO_ANSWER, "busy": ev.CALL_BUSY, "vm": ev.CALL_VOICEMAIL}
        label = {"na": "bot.button.no_answer", "busy": "bot.button.busy",
                 "vm": "bot.button.voicemail"}[outcome]  # fmt: skip
        await talk.timed(run, talk.t(label), kind[outcome], at)
        if not last:
            at += timedelta(minutes=rng.randint(20, 90))
    run.facts["picked"] = picked
    if not picked:
        run.facts["no_answer"] = {"na": "sonnerie", "busy": "occupe"}.get(
            outcome, rng.choice(("repondeur_utile", "repondeur_vide"))
        )
        at += timedelta(seconds=rng.randint(20, 120))
        yield at
        await talk.press(run, talk.t("bot.button.fill_grid"))
    else:
        transferred = rng.random() < 0.3
        if transferred:
            at += timedelta(seconds=rng.randint(15, 90))
            yield at
            await talk.timed(run, talk.t("bot.button.transferred"), ev.CALL_TRANSFERRED, at)
        if rng.random() < 0.25:
            at += timedelta(seconds=rng.randint(10, 120))
            yield at
            await talk.timed(run, talk.t("bot.button.on_hold"), ev.CALL_ON_HOLD, at)
            at += timedelta(seconds=rng.randint(20, 300))
            yield at
            await talk.timed(run, talk.t("bot.button.resumed"), ev.CALL_RESUMED, at)
        at += timedelta(seconds=rng.randint(45, 480))
        yield at
        await talk.timed(run, talk.t("bot.button.hung_up"), ev.CALL_HUNG_UP, at)
        run.facts |= {"transferred": transferred,
                      "duration": int((at - run.facts["started"]).total_seconds())}  # fmt: skip
    async for step in fill_grid(talk, run, catalog, at):
        yield step


async def visit(talk: Talk, run: Run, catalog: Catalog) -> AsyncIterator[datetime]:
    rng, at, task = run.rng, talk.clock.now(), run.task
    await talk.open(run)
    at += timedelta(seconds=rng.randint(5, 90))
    yield at
    if task.latitude is not None and task.longitude is not None and rng.random() < 0.4:
        lat = task.latitude + rng.uniform(-0.0004, 0.0004)
        lon = task.longitude + rng.uniform(-0.0004, 0.0004)
        await talk.send(run, lambda: run.user.send_location(lat, lon))
        run.events.append((ev.VISIT_ARRIVED, at))
    else:
        await talk.timed(run, talk.t("bot.button.arrived"), ev.VISIT_ARRIVED, at)
    arrived = at
    people = rng.choice((0, 0, 1, 1, 2, 3, 4, 6))
    at += timedelta(seconds=rng.randint(20, 90) + people * rng.randint(60, 300))
    yield at
    await talk.timed(run, talk.t("bot.button.served"), ev.VISIT_SERVED, at)
    served = at
    at += timedelta(seconds=rng.randint(120, 1200))
    yield at
    await talk.timed(run, talk.t("bot.button.left"), ev.VISIT_LEFT, at)
    run.facts |= {"people": people, "wait": int((served - arrived).total_seconds()),
                  "duration": int((at - served).total_seconds())}  # fmt: skip
    async for step in fill_grid(talk, run, catalog, at):
        yield step


async def post(talk: Talk, run: Run) -> AsyncIterator[datetime]:
    rng, at = run.rng, talk.clock.now()
    await talk.open(run)
    at += timedelta(seconds=rng.randint(5, 40))
    yield at
    await talk.press(run, talk.t("bot.button.letter_posted"))
    if rng.random() < 0.15:  # a date that does not exist: the bot must ask again
        at += timedelta(seconds=rng.randint(5, 20))
        yield at
        run.wrong += 1
        replies = await talk.send(run, lambda: run.user.send_text("31/02/2026"))
        if any(talk.t("bot.letter.bad_date") in str(m.get("text", "")) for m in replies):
            run.re_asked += 1
    at += timedelta(seconds=rng.randint(3, 25))
    yield at
    await talk.timed(run, talk.t("bot.button.today"), ev.LETTER_POSTED, at)


async def reply(talk: Talk, run: Run) -> AsyncIterator[datetime]:
    rng, at = run.rng, talk.clock.now()
    await talk.open(run)
    at += timedelta(seconds=rng.randint(5, 40))
    yield at
    await talk.press(run, talk.t("bot.button.reply_received"))
    at += timedelta(seconds=rng.randint(3, 25))
    yield at
    await talk.timed(run, talk.t("bot.button.today"), ev.LETTER_REPLY_RECEIVED, at)
    at += timedelta(seconds=rng.randint(10, 60))
    yield at
    if rng.random() < 0.4:
        photo = jpeg(rng)
        await talk.send(run, lambda: run.user.send_photo(photo, width=96, height=72))
    else:
        await talk.press(run, talk.t("bot.button.no_photo"))
