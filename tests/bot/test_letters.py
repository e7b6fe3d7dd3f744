"""Letters: « Courrier posté » with its date, « Réponse reçue » with its date and photo."""

from __future__ import annotations

from datetime import UTC, datetime

from scenarios import events as ev
from sim.botapi import LocalBotApi
from storage.db import Database
from tests.bot.support import (
    NOW,
    Bot,
    buttons,
    contact,
    enrol,
    events,
    next_with_buttons,
    photo_with_gps,
    seed,
    text_of,
)


async def test_letter_posted_then_reply_received(
    api: LocalBotApi, database: Database, running: Bot
) -> None:
    world = await seed(database)
    cid = world.contacts["letter"]
    paul = await enrol(api, database, "paul", 6301)
    paul.send_command("/taches")
    listing = await next_with_buttons(paul)
    paul.press(next(b for b in buttons(listing) if b.startswith("✉️")))
    card = await next_with_buttons(paul)
    assert buttons(card) == ["📮 Courrier posté"] and "Horaires" not in text_of(card)
    paul.press("📮 Courrier posté")
    assert "Quand avez-vous posté" in text_of(await next_with_buttons(paul))
    paul.send_text("32/13/2026", date=NOW)
    assert "Je n’ai pas compris cette date" in text_of(await paul.wait_for_message())
    paul.send_text("10/03/2026", date=NOW)
    assert "dans le futur" in text_of(await paul.wait_for_message())
    paul.press("Hier")
    assert "posté le lundi 2 mars 2026" in text_of(await next_with_buttons(paul))
    posted = await contact(database, cid)
    assert posted.status == "posted"

    paul.press("📋 Mes tâches")
    listing = await next_with_buttons(paul)
    paul.press(next(b for b in buttons(listing) if b.startswith("✉️")))
    assert buttons(await next_with_buttons(paul)) == ["📬 Réponse reçue"]
    paul.press("📬 Réponse reçue")
    await next_with_buttons(paul)
    paul.send_text("01/03/2026", date=NOW)
    assert "antérieure à l’envoi" in text_of(await paul.wait_for_message())
    paul.press("Aujourd’hui")
    assert "photo de la réponse" in text_of(await next_with_buttons(paul))
    paul.send_photo(photo_with_gps())
    assert "reçue le mardi 3 mars 2026" in text_of(await next_with_buttons(paul))

    answered = await contact(database, cid)
    assert answered.status == "answered" and answered.first_answer_at == NOW
    timeline = await events(database, cid)
    assert [(kind, at) for kind, at, _ in timeline] == [
        (ev.LETTER_POSTED, datetime(2026, 3, 2, 11, 0, tzinfo=UTC)),  # noon in Paris
        (ev.LETTER_REPLY_RECEIVED, NOW),
    ]
    assert timeline[0][2] == {"date": "2026-03-02"}
    assert timeline[1][2]["date"] == "2026-03-03" and len(timeline[1][2]["photo"]) == 64
    # Done with it: no more letter in the list.
    paul.send_command("/taches")
    listing = await next_with_buttons(paul)
    assert not any(b.startswith("✉️") for b in buttons(listing))
