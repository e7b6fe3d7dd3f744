"""Each auditor sees and touches only their own tasks, whatever callback data they forge."""

from __future__ import annotations

from sim.botapi import LocalBotApi
from storage.db import Database
from tests.bot.support import (
    Bot,
    answers,
    buttons,
    contact,
    enrol,
    events,
    next_with_buttons,
    seed,
    text_of,
)


async def test_forged_callbacks_reach_nothing_of_another_auditor(
    api: LocalBotApi, database: Database, running: Bot
) -> None:
    world = await seed(database)
    theirs = world.contacts["lea_phone"]
    paul = await enrol(api, database, "paul", 6401)
    lea = await enrol(api, database, "lea", 6402)

    # Léa starts her call; Paul cannot see it in his list...
    lea.press_data(f"o:{theirs}", 1)
    await next_with_buttons(lea)
    lea.press("📞 Appel lancé")
    await next_with_buttons(lea)
    paul.send_command("/taches")
    listing = await next_with_buttons(paul)
    assert len(buttons(listing)) == 3  # his phone, visit and letter only
    assert all(f"o:{theirs}" != b["callback_data"]
               for row in listing["reply_markup"]["inline_keyboard"] for b in row)  # fmt: skip

    # ... nor open, press, answer, go back, validate or fix it, however the data is forged.
    forged = [
        f"o:{theirs}", f"p:{theirs}:up", f"p:{theirs}:hang", f"v:{theirs}:arr",
        f"l:{theirs}:post", f"q:{theirs}:0:y", f"b:{theirs}", f"k:{theirs}", f"f:{theirs}:0",
        "o:999999",
    ]  # fmt: skip
    for data in forged:
        paul.press_data(data, listing["message_id"])
        answer = await paul.wait_for_callback_answer()
        assert answer["text"] == "Tâche introuvable.", data
    for data in ("zzz", "p:abc", "q", "", "o:99999999999999999999", "o:²"):
        paul.press_data(data or "-", listing["message_id"])
        assert (await paul.wait_for_callback_answer())["text"] == "Ce bouton n’est plus valable."
    await running.idle()
    assert len(paul.messages) == 2  # the welcome and the list: nothing about Léa's task

    assert [kind for kind, _, _ in await events(database, theirs)] == ["call.started"]
    assert await answers(database, theirs) == {}
    assert (await contact(database, theirs)).status == "in_progress"
    # Léa goes on undisturbed.
    lea.press("✅ Décroché")
    assert "Décroché" in text_of(await next_with_buttons(lea))


async def test_an_answer_button_of_another_question_is_stale(
    api: LocalBotApi, database: Database, running: Bot
) -> None:
    world = await seed(database)
    mine = world.contacts["phone"]
    paul = await enrol(api, database, "paul", 6403)
    paul.press_data(f"o:{mine}", 1)
    await next_with_buttons(paul)
    paul.press("📞 Appel lancé")
    await next_with_buttons(paul)
    paul.press("🔕 Pas de réponse")
    await next_with_buttons(paul)
    paul.press("📝 Remplir la grille")
    first = await next_with_buttons(paul)
    paul.press("Non")
    await next_with_buttons(paul)
    paul.press_data(f"q:{mine}:²:0", first["message_id"])  # forged: not an index
    assert (await paul.wait_for_callback_answer(lambda a: bool(a["text"])))["text"] == (
        "Ce bouton n’est plus valable."
    )
    paul.press("Oui", message_id=first["message_id"])  # the old question's button
    assert (await paul.wait_for_callback_answer(lambda a: bool(a["text"])))["text"] == (
        "Ce bouton n’est plus valable."
    )
    assert await answers(database, mine) == {"picked_up": False}
