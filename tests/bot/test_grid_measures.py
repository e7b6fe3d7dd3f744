"""What the buttons measured is not asked again; the question count holds; task buttons are
told apart; a question's own « ? » is not followed by « : ». Over PTB and the local Bot API."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

from sqlalchemy import select

from scenarios.catalog import load_catalog
from sim.botapi import LocalBotApi, SimulatedUser
from storage.db import Database
from storage.models import Campaign, Service
from tests import factories
from tests.bot.support import (
    NOW,
    Bot,
    answers,
    buttons,
    enrol,
    next_with_buttons,
    seed,
    text_of,
)

_COUNTER = re.compile(r"^Question (\d+)/(\d+)\u202f: ")


async def _visit_until_the_grid(user: SimulatedUser, running: Bot, contact_id: int) -> None:
    user.press_data(f"o:{contact_id}", 1)
    await next_with_buttons(user)
    user.press("📍 Arrivé")
    await next_with_buttons(user)
    running.clock.advance(timedelta(minutes=7))
    user.press("🙋 Pris en charge")
    await next_with_buttons(user)
    running.clock.advance(timedelta(minutes=4, seconds=30))
    user.press("🚪 Reparti")


async def _answer_every_question(user: SimulatedUser) -> tuple[list[tuple[int, int]], str]:
    """Answer what is asked (« Oui », the first choice, 4, « Passer »…) until the summary;
    the (number, total) of each question, and the summary's text."""
    counts: list[tuple[int, int]] = []
    labels: list[str] = []
    while True:
        message = await next_with_buttons(user)
        text = text_of(message)
        if text.startswith("Récapitulatif"):
            assert not any("Temps d’attente avant" in label for label in labels)
            assert not any("Durée de l’échange" in label for label in labels)
            return counts, text
        found = _COUNTER.match(text)
        assert found is not None, text
        counts.append((int(found[1]), int(found[2])))
        labels.append(text.splitlines()[0])
        shown = buttons(message)
        if "Oui" in shown:
            user.press("Oui")
        elif "Écrivez un nombre entier." in text:
            user.send_text("4")
        elif "Passer" in shown:
            user.press("Passer")
        else:
            user.press(shown[0])  # a choice


async def test_measured_durations_are_shown_not_asked_and_can_be_corrected(
    api: LocalBotApi, database: Database, running: Bot
) -> None:
    world = await seed(database)
    cid = world.contacts["visit"]
    paul = await enrol(api, database, "paul", 6301)
    await _visit_until_the_grid(paul, running, cid)
    counts, summary = await _answer_every_question(paul)

    # « Question N/T »: one more each time, the same total all along (the visit is open, so
    # what depended on it stays in), ending where it said.
    total = counts[0][1]
    assert counts == [(n, total) for n in range(1, total + 1)]
    grid = load_catalog().get("visit-acte-naissance-guichet").grid
    assert total == len(grid) - 2  # every question but the two measured durations

    # The measured durations: in the summary once, as answers marked measured.
    assert "• Temps d’attente avant qu’un agent s’occupe de vous\u202f: 7\u00a0min (mesurée" in (
        summary
    )
    assert "• Durée de l’échange au guichet\u202f: 4\u00a0min\u00a030\u00a0s (mesurée" in summary
    assert "attente avant prise en charge" not in summary and "durée de l’échange" not in summary
    # A question keeps its own « ? », with no « : » after it.
    assert "(plain-pied, rampe ou ascenseur)\u202f? Oui" in summary
    assert not re.search("[?!]\u202f?:", summary), summary

    # Correct the wait: that question alone (no « Retour »), then the summary again.
    correct = "✏️ Corriger\u202f: Temps d’attente avant qu’un agent s’occupe de vous"
    paul.press(correct)
    asked = await paul.wait_for_message()
    assert text_of(asked).startswith(
        "✏️ Durée mesurée à corriger\u202f: Temps d’attente avant qu’un agent s’occupe de vous"
    )
    assert "Réponse actuelle\u202f: 7\u00a0min" in text_of(asked)
    assert "↩️ Retour" not in buttons(asked)
    paul.send_text("9 min")
    again = text_of(await next_with_buttons(paul))
    assert again.startswith("Récapitulatif")
    assert "• Temps d’attente avant qu’un agent s’occupe de vous\u202f: 9\u00a0min\n" in again
    assert "Durée de l’échange au guichet\u202f: 4\u00a0min\u00a030\u00a0s (mesurée" in again
    paul.press("✅ Valider")
    assert "Observation enregistrée" in text_of(await paul.wait_for_message())
    stored = await answers(database, cid)
    assert stored["wait"] == 540 and stored["visit_duration"] == 270


async def test_the_count_never_grows_when_an_answer_rules_questions_out(
    api: LocalBotApi, database: Database, running: Bot
) -> None:
    world = await seed(database)
    paul = await enrol(api, database, "paul", 6302)
    await _visit_until_the_grid(paul, running, world.contacts["visit"])
    counts: list[tuple[int, int]] = []
    for answer in ("Oui", "Oui", "Non"):  # the service was closed: the rest falls away
        message = await next_with_buttons(paul)
        found = _COUNTER.match(text_of(message))
        assert found is not None
        counts.append((int(found[1]), int(found[2])))
        paul.press(answer)
    step_free = await next_with_buttons(paul)
    found = _COUNTER.match(text_of(step_free))
    assert found is not None
    counts.append((int(found[1]), int(found[2])))
    assert [n for n, _ in counts] == [1, 2, 3, 4]
    totals = [total for _, total in counts]
    grid = load_catalog().get("visit-acte-naissance-guichet").grid
    full = len(grid) - 2
    assert totals[:3] == [full, full, full] and totals[3] < full  # down, never up
    assert all(later <= earlier for earlier, later in itertools.pairwise(totals))


async def test_task_buttons_say_day_time_and_scenario(
    api: LocalBotApi, database: Database, running: Bot
) -> None:
    world = await seed(database)
    async with database.session() as s:
        campaign = await s.get(Campaign, world.campaign_id)
        service = await s.scalar(select(Service).where(Service.id == world.service_id))
        assert campaign is not None and service is not None
        await factories.contact(
            s, NOW, campaign, service, planned_at=NOW + timedelta(days=1, hours=4, minutes=30),
            scenario_id="phone-apa-renseignements", channel="phone", status="assigned",
            auditor_id=world.auditors["paul"],
        )  # fmt: skip
    paul = await enrol(api, database, "paul", 6303)
    paul.send_command("/taches")
    listing = await next_with_buttons(paul)
    calls = [b for b in buttons(listing) if b.startswith("☎️")]
    assert calls == [
        "☎️ mardi 3 mars, 10\u202fh\u202f00 — Accueil de la mairie, Riom — Appel pour s’inscrire "
        "sur les listes électorales",
        "☎️ mercredi 4 mars, 14\u202fh\u202f30 — Accueil de la mairie, Riom — Appel pour se "
        "renseigner sur l’aide à l’autonomie d’un parent âgé",
    ]
    [letter] = [b for b in buttons(listing) if b.startswith("✉️")]
    assert letter.startswith("✉️ mardi 3 mars — Accueil de la mairie")  # a letter: its day only
    assert len(set(buttons(listing))) == len(buttons(listing))
    assert all(f"• {b}" in text_of(listing) for b in calls)
