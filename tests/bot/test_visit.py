"""A whole counter visit: shared location checked against the service, timings from the
presses, the grid with a photo (stored without its EXIF), validation."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from scenarios import events as ev
from sim.botapi import LocalBotApi
from storage.db import Database
from storage.models import Blob, Observation
from tests.bot.support import (
    NOW,
    Bot,
    answers,
    buttons,
    contact,
    enrol,
    events,
    next_with_buttons,
    photo_with_gps,
    seed,
    text_of,
)


async def test_visit_from_arrival_to_validated_observation(
    api: LocalBotApi, database: Database, running: Bot
) -> None:
    world = await seed(database)
    cid = world.contacts["visit"]
    paul = await enrol(api, database, "paul", 6101)
    clock = running.clock

    paul.send_text("📋 Mes tâches")  # the persistent menu's button
    listing = await next_with_buttons(paul)
    paul.press(next(b for b in buttons(listing) if b.startswith("🏛")))
    card = await next_with_buttons(paul)
    assert "Adresse\u202f: 1 place de la Mairie, 63000 Riom" in text_of(card)
    assert buttons(card) == ["📍 Arrivé"]

    # Arrival by sharing a location about 1 km away: flagged, never blocked.
    paul.send_location(45.9026, 3.1126, date=NOW)
    arrived = await next_with_buttons(paul)
    assert "Arrivée notée à 10\u202fh\u202f00" in text_of(arrived)
    assert "à 1001 m du service" in text_of(arrived)
    clock.advance(timedelta(minutes=7))
    paul.press("🙋 Pris en charge")
    await next_with_buttons(paul)
    clock.advance(timedelta(minutes=4, seconds=30))
    paul.press("🚪 Reparti")
    assert "Départ noté à 10\u202fh\u202f11" in text_of(await paul.wait_for_message())

    for label in ("Oui", "Oui", "Oui", "Non"):
        await next_with_buttons(paul)
        paul.press(label)
    await paul.wait_for_message(lambda m: "Combien de personnes" in text_of(m))
    paul.send_text("4")  # the wait was measured by « Arrivé » … « Pris en charge »: not asked
    for label in ("Oui", "Oui", "Très aimable", "Oui", "Oui", "Non", "Oui", "Non"):
        await next_with_buttons(paul)
        paul.press(label)
    await next_with_buttons(paul)
    paul.press("Oui, une réponse complète")
    photo_q = await next_with_buttons(paul)  # nor the exchange, measured by « Reparti »
    assert "Photo de l’entrée" in text_of(photo_q)

    # Not a photo, not an image, too heavy: each refused with its reason.
    paul.send_text("la voici")
    assert "Veuillez envoyer une photo" in text_of(await paul.wait_for_message())
    await paul.wait_for_message()
    paul.send_photo(b"not an image at all")
    assert "n’arrive pas à lire cette image" in text_of(await paul.wait_for_message())
    paul.send_photo(bytes(300_000))
    assert "trop lourde" in text_of(await paul.wait_for_message())
    original = photo_with_gps()
    assert b"TestPhone" in original
    paul.send_photo(original, date=NOW + timedelta(minutes=12))
    assert "Remarques" in text_of(await next_with_buttons(paul))
    paul.send_text("RAS")
    summary = text_of(await next_with_buttons(paul))
    assert (
        "Temps d’attente avant qu’un agent s’occupe de vous\u202f: 7\u00a0min (mesurée" in summary
    )
    assert "Durée de l’échange au guichet\u202f: 4\u00a0min\u00a030\u00a0s (mesurée" in summary
    assert "attente avant prise en charge" not in summary  # said once, not twice
    assert "photo reçue" in summary
    paul.press("✅ Valider")
    assert "Observation enregistrée" in text_of(await paul.wait_for_message())

    assert (await contact(database, cid)).status == "done"
    stored = await answers(database, cid)
    assert stored["wait"] == 420 and stored["visit_duration"] == 270
    assert stored["wait_information"] is True and stored["courtesy"] == "tres_aimable"
    async with database.session() as s:
        observation = await s.scalar(
            select(Observation).where(
                Observation.contact_id == cid, Observation.question_id == "entrance_photo"
            )
        )
        assert observation is not None and observation.photo_sha256 == observation.value
        blob = await s.get(Blob, observation.photo_sha256)
        assert blob is not None and blob.size == len(blob.data)
        assert hashlib.sha256(blob.data).hexdigest() == blob.sha256
    assert b"TestPhone" not in blob.data
    with Image.open(io.BytesIO(blob.data)) as kept:
        assert kept.size == (64, 48) and len(kept.getexif()) == 0
    timeline = await events(database, cid)
    assert [(kind, at) for kind, at, _ in timeline] == [
        (ev.VISIT_ARRIVED, NOW),
        (ev.VISIT_SERVED, NOW + timedelta(minutes=7)),
        (ev.VISIT_LEFT, NOW + timedelta(minutes=11, seconds=30)),
    ]
    assert timeline[0][2] == {"location_shared": True, "distance_m": 1001, "location_flag": True}


async def test_location_after_the_arrival_button_completes_the_arrival(
    api: LocalBotApi, database: Database, running: Bot
) -> None:
    world = await seed(database)
    cid = world.contacts["visit"]
    paul = await enrol(api, database, "paul", 6102)
    paul.press_data(f"o:{cid}", 1)
    await next_with_buttons(paul)
    paul.press("📍 Arrivé")
    await next_with_buttons(paul)
    paul.send_location(45.8937, 3.1127)
    assert text_of(await next_with_buttons(paul)).startswith("Position reçue, merci.")
    paul.send_location(45.8937, 3.1127)  # a second one changes nothing
    assert "aucune visite n’attend" in text_of(await paul.wait_for_message())
    [(kind, at, detail)] = await events(database, cid)
    assert kind == ev.VISIT_ARRIVED and at == NOW
    assert detail == {"location_shared": True, "distance_m": 14, "location_flag": False}
