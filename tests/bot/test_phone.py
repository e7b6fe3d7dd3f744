"""A whole phone task: attempts, live-call buttons, the grid (bad inputs, « Retour »), a
restart in the middle, validation; timings from the clock of the presses."""

from __future__ import annotations

from datetime import timedelta

from scenarios import events as ev
from sim.botapi import LocalBotApi, SimulatedUser
from storage.db import Database
from tests.bot.support import (
    NOW,
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


async def ask(user: SimulatedUser, text: str) -> str:
    """Type ``text``; return the text of the next bot message (an explanation or a question)."""
    user.send_text(text)
    return text_of(await user.wait_for_message())


async def test_phone_task_from_start_to_validated_observation(
    api: LocalBotApi, database: Database, running: Bot
) -> None:
    world = await seed(database)
    cid = world.contacts["phone"]
    paul = await enrol(api, database, "paul", 6001)
    clock = running.clock

    paul.send_command("/taches")
    listing = await next_with_buttons(paul)
    assert "📅 Aujourd’hui (3)\u202f:" in text_of(listing)
    paul.press(next(b for b in buttons(listing) if b.startswith("☎️")))
    card = await next_with_buttons(paul)
    text = text_of(card)
    assert "Accueil de la mairie (Riom)" in text and "Téléphone\u202f: +33473000000" in text
    assert "lundi–vendredi 08:30–12:00, 13:30–17:30" in text
    assert "Votre script\u202f:\n" in text and "mardi 3 mars 2026 vers 10\u202fh\u202f00" in text
    assert buttons(card) == ["📞 Appel lancé"]

    # Attempt 1: nobody answers; the task stays open.
    paul.press("📞 Appel lancé")
    assert "Appel n° 1 lancé à 10\u202fh\u202f00" in text_of(await next_with_buttons(paul))
    clock.advance(timedelta(seconds=40))
    paul.press("🔕 Pas de réponse")
    unanswered = await next_with_buttons(paul)
    assert "Tentative n° 1\u202f: pas de réponse" in text_of(unanswered)
    assert buttons(unanswered) == ["📞 Appel lancé", "📝 Remplir la grille", "📋 Mes tâches"]
    assert (await contact(database, cid)).status == "in_progress"

    # Attempt 2: picked up after 25 s, on hold 90 s, transferred, hung up.
    clock.advance(timedelta(minutes=10))
    paul.press("📞 Appel lancé")
    await next_with_buttons(paul)
    clock.advance(timedelta(seconds=25))
    paul.press("✅ Décroché")
    live = await next_with_buttons(paul)
    assert buttons(live) == ["🔀 Transféré", "⏸ En attente", "📴 Raccroché"]
    clock.advance(timedelta(seconds=30))
    paul.press("⏸ En attente")
    assert buttons(await next_with_buttons(paul)) == ["▶️ Reprise", "📴 Raccroché"]
    clock.advance(timedelta(seconds=90))
    paul.press("▶️ Reprise")
    await next_with_buttons(paul)
    clock.advance(timedelta(seconds=10))
    paul.press("🔀 Transféré")
    await next_with_buttons(paul)
    clock.advance(timedelta(minutes=2))
    paul.press("📴 Raccroché")
    assert "Appel terminé à 10\u202fh\u202f15" in text_of(await paul.wait_for_message())
    first = await next_with_buttons(paul)
    assert "Une personne a-t-elle décroché" in text_of(first)
    assert buttons(first) == ["Oui", "Non"]  # no « Retour » on the first question

    # The grid, with every kind of bad input re-asked with its explanation.
    assert "Réponse actuelle" not in text_of(first)
    assert "Veuillez répondre par «\u00a0oui\u00a0» ou «\u00a0non\u00a0»" in await ask(paul, "bof")
    assert "Une personne a-t-elle décroché" in text_of(await paul.wait_for_message())
    paul.press("Oui")
    assert "Nombre de sonneries" in text_of(await next_with_buttons(paul))
    assert "nombre entier entre 0 et 30" in await ask(paul, "beaucoup")
    await paul.wait_for_message()
    assert "nombre entier entre 0 et 30" in await ask(paul, "45")
    await paul.wait_for_message()
    assert "Attente avant de parler" in await ask(paul, "3")
    assert "Veuillez entrer une durée" in await ask(paul, "un certain temps")
    await paul.wait_for_message()
    assert "nom du service" in await ask(paul, "1 min 30")
    paul.press("Oui")
    assert "transféré" in text_of(await next_with_buttons(paul))
    paul.press("Oui")
    outcome_q = await next_with_buttons(paul)
    assert "Comment s’est passé le transfert" in text_of(outcome_q).replace("'", "’")
    paul.press("Quelqu’un a répondu rapidement")
    courtesy = await next_with_buttons(paul)
    assert "Amabilité" in text_of(courtesy)

    # « Retour »: the previous question again, with its current answer; change it.
    paul.press("↩️ Retour")
    again = await next_with_buttons(paul)
    assert "transfert" in text_of(again)
    assert "Réponse actuelle\u202f: Quelqu’un a répondu rapidement" in text_of(again)
    paul.press("La communication a été coupée")
    assert "Amabilité" in text_of(await next_with_buttons(paul))

    # Restart in the middle: a new Application resumes at the same question.
    await running.restart()
    assert "choisir l’une des réponses" in await ask(paul, "7")
    await paul.wait_for_message()
    assert "comment s’inscrire" in await ask(paul, "2")  # « Aimable », typed as its number
    paul.press("Oui")
    await next_with_buttons(paul)
    paul.press("Non")
    await next_with_buttons(paul)
    paul.press("Oui")
    await next_with_buttons(paul)
    paul.press("En partie")
    assert "rappeler" in text_of(await next_with_buttons(paul))
    paul.press("Non")
    # The call's length was measured by « Appel lancé » … « Raccroché »: not asked again.
    comments_q = text_of(await next_with_buttons(paul))
    assert "Remarques" in comments_q and "Durée totale" not in comments_q
    assert "trop longue" in await ask(paul, "x" * 1001)
    await paul.wait_for_message()
    summary_text = await ask(paul, "Accueil correct mais transfert coupé.")
    assert summary_text.startswith("Récapitulatif\u202f:")
    assert "• Nombre de sonneries avant que l’on décroche\u202f: 3" in summary_text.replace(
        "'", "’"
    )
    assert "Attente avant de parler à quelqu’un (serveur vocal et musique compris)\u202f: " in (
        summary_text
    )
    assert "décroché au bout de 25\u00a0s" in summary_text
    assert "attente en ligne\u202f: 1\u00a0min\u00a030\u00a0s" in summary_text
    assert "transferts\u202f: 1" in summary_text and "tentatives d’appel\u202f: 2" in summary_text
    # The measured length shown once, as the grid's answer, marked as measured
    assert (
        "• Durée totale de l’appel\u202f: 4\u00a0min\u00a035\u00a0s (mesurée avec vos boutons)"
        in (summary_text)
    )
    assert "durée de l’appel" not in summary_text
    paul.press("✅ Valider")
    assert "Observation enregistrée" in text_of(await paul.wait_for_message())

    done = await contact(database, cid)
    assert done.status == "done" and done.closed_at is not None
    stored = await answers(database, cid)
    assert stored == {
        "picked_up": True,
        "rings": 3,
        "wait_before_human": 90,
        "service_named": True,
        "transferred": True,
        "transfer_outcome": "coupe",
        "courtesy": "aimable",
        "procedure_given": True,
        "documents_given": False,
        "deadline_given": True,
        "outcome": "partielle",
        "callback_offered": False,
        "call_duration": 275,
        "comments": "Accueil correct mais transfert coupé.",
    }
    timeline = await events(database, cid)
    start2 = NOW + timedelta(seconds=40, minutes=10)
    assert [(kind, at, detail.get("attempt")) for kind, at, detail in timeline] == [
        (ev.CALL_STARTED, NOW, 1),
        (ev.CALL_NO_ANSWER, NOW + timedelta(seconds=40), 1),
        (ev.CALL_STARTED, start2, 2),
        (ev.CALL_PICKED_UP, start2 + timedelta(seconds=25), 2),
        (ev.CALL_ON_HOLD, start2 + timedelta(seconds=55), 2),
        (ev.CALL_RESUMED, start2 + timedelta(seconds=145), 2),
        (ev.CALL_TRANSFERRED, start2 + timedelta(seconds=155), 2),
        (ev.CALL_HUNG_UP, start2 + timedelta(seconds=275), 2),
    ]
    # The finished task is gone from the list; pressing its old buttons does nothing.
    paul.press("📋 Mes tâches")
    listing = await next_with_buttons(paul)
    assert not any(b.startswith("☎️") for b in buttons(listing))
    paul.press_data(f"p:{cid}:start", card["message_id"])
    assert (await paul.wait_for_callback_answer(lambda a: bool(a["text"])))["text"] == (
        "Ce bouton n’est plus valable."
    )


async def test_nothing_typed_is_lost_when_a_reply_fails_and_edits_are_ignored(
    api: LocalBotApi, database: Database, running: Bot
) -> None:
    world = await seed(database)
    cid = world.contacts["phone"]
    paul = await enrol(api, database, "paul", 6002)
    paul.press_data(f"o:{cid}", 1)
    await next_with_buttons(paul)
    paul.press("📞 Appel lancé")
    await next_with_buttons(paul)
    paul.press("✅ Décroché")
    await next_with_buttons(paul)
    paul.press("📴 Raccroché")
    await next_with_buttons(paul)

    api.fail_next("sendMessage", 400)  # the reply to the next answer is lost on the way
    paul.press("Oui")
    sorry = await paul.wait_for_message()
    assert "Rien de ce que vous avez saisi n’est perdu" in text_of(sorry)
    assert await answers(database, cid) == {"picked_up": True}
    paul.send_command("/taches")
    listing = await next_with_buttons(paul)
    paul.press(next(b for b in buttons(listing) if b.startswith("☎️")))
    assert "Nombre de sonneries" in text_of(await paul.wait_for_message())  # resumed

    sent = paul.send_text("3")
    await paul.wait_for_message(lambda m: "Attente avant" in text_of(m))
    paul.edit_text(sent["message_id"], "30")
    await running.idle()
    assert (await answers(database, cid))["rings"] == 3
    assert "Attente avant" in text_of(paul.messages[-1])  # no reply to the edit
